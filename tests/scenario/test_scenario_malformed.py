"""A corpus of broken scenario files, one problem each: every one gives exactly that problem,
located at ``line:col``, in plain words, without a traceback."""

from __future__ import annotations

import pytest
from scenario_support import FACTS, JARGON, MALFORMED, run

from acd.scenario.check import check_file

# file -> (line, column, a piece of the message)
EXPECTED: dict[str, tuple[int, int, str]] = {
    "alias_loop.yaml": (1, 1, "refers to a section that contains it"),
    "bad_category.yaml": (22, 15, "'F' is not a category; categories are A, B, C, D and E"),
    "bad_time_zone.yaml": (3, 12, "did you mean 'Europe/Moscow'?"),
    "callback_entered_no_prompt.yaml": (21, 13, "'number: entered' needs an 'enter_prompt'"),
    "control_character.yaml": (1, 8, "control character U+0000"),
    "default_language_not_offered.yaml": (3, 19, "'en' is not one of the languages offered"),
    "dtmf_no_target.yaml": (13, 7, "options.3: no target node given"),
    "duplicate_dtmf.yaml": (13, 7, "key 1 is listed twice (first on line 11)"),
    "duplicate_yaml_key.yaml": (14, 5, "duplicate key 'after_retries' (first set on line 13)"),
    "empty.yaml": (1, 1, "the file is empty"),
    "end_before_start.yaml": (22, 16, "'18:00-09:00' ends before it starts"),
    "endless_loop.yaml": (19, 3, "loop_a -> loop_b -> loop_a form a loop the caller can never"),
    "holiday_hours_without_calendar.yaml": (23, 5, "'holiday_hours' has no effect without"),
    "hour_25.yaml": (22, 16, "'25:00' is not a time of day"),
    "huge_number.yaml": (14, 14, "retries: must be at most 10"),
    "impossible_date.yaml": (24, 7, "'2026-02-30' looks like a date but is not one"),
    "language_kz.yaml": (2, 17, "Kazakh is 'kk'"),
    "language_option_not_offered.yaml": (24, 10, "key 2 chooses 'en', which the scenario does not"),
    "max_wait_without_overflow.yaml": (17, 5, "has 'max_wait' but no 'overflow'"),
    "missing_language_prompt.yaml": (9, 13, "prompt: no prompt for kk (Kazakh)"),
    "missing_node_type.yaml": (17, 3, "node 'bye' has no 'type:'"),
    "missing_time_zone.yaml": (1, 1, "'time_zone' is required"),
    "misspelt_key.yaml": (14, 5, "unknown key 'timout' (did you mean 'timeout'?)"),
    "misspelt_top_key.yaml": (2, 1, "unknown key 'descripton' (did you mean 'description'?)"),
    "misspelt_weekday.yaml": (23, 7, "'sut' is not a weekday (did you mean 'sun'?)"),
    "node_id_number.yaml": (19, 13, "node IDs are names, not numbers"),
    "not_utf8.yaml": (1, 8, "not valid UTF-8"),
    "overlapping_hours.yaml": (22, 16, "the ranges 09:00-13:00 and 12:00-18:00 overlap"),
    "prompt_extension.yaml": (9, 18, "leave the extension out of the prompt name: 'm/menu'"),
    "prompt_not_per_language.yaml": (9, 13, "must give a prompt file per language"),
    "queue_without_skills.yaml": (14, 3, "can be reached with no skill requirement"),
    "schedule_no_closed_branch.yaml": (19, 3, "closed on Monday before 09:00 but has no 'closed'"),
    "set_nothing.yaml": (19, 3, "sets nothing"),
    "tab_indent.yaml": (13, 1, "tab character"),
    "too_many_digits.yaml": (14, 14, "has too many digits (5000)"),
    "top_level_list.yaml": (1, 1, "a scenario file must be a mapping"),
    "transfer_both.yaml": (17, 3, "needs exactly one of 'number'"),
    "transfer_missing_scenario.yaml": (19, 15, "no scenario file 'no_such_line'"),
    "undefined_alias.yaml": (13, 20, "'*bye' refers to an anchor '&bye' that is not defined"),
    "unknown_calendar.yaml": (21, 15, "'russia' is not a country the holidays calendar knows"),
    "unknown_node_type.yaml": (18, 11, "unknown node type 'hangpu' (did you mean 'hangup'?)"),
    "unknown_skill.yaml": (16, 14, "unknown skill 'opertor' (did you mean 'operator'?)"),
    "unknown_target.yaml": (13, 10, "key 2 goes to 'by', which is not a node (did you mean"),
    "unquoted_number.yaml": (6, 3, 'put the number in quotes: "74951234567"'),
    "unreachable_node.yaml": (19, 3, "node 'orphan' is never reached"),
    "utf16.yaml": (1, 1, "UTF-16"),
    "wrong_type.yaml": (14, 14, "timeout: must be a number, got 'five'"),
    "yaml_unclosed_quote.yaml": (9, 18, "quoted string is never closed"),
}


def test_corpus_is_large_and_fully_listed() -> None:
    files = {path.name for path in MALFORMED.glob("*.yaml")}
    assert files == set(EXPECTED)
    assert len(files) >= 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_one_located_plain_problem(name: str) -> None:
    line, column, words = EXPECTED[name]
    loaded = check_file(MALFORMED / name, FACTS)
    assert len(loaded.problems) == 1, "\n".join(map(str, loaded.problems))
    problem = loaded.problems[0]
    assert (problem.line, problem.column) == (line, column), str(problem)
    assert words in problem.message
    text = str(problem)
    assert text.startswith(f"{MALFORMED / name}:{line}:{column}: ")
    for jargon in JARGON:
        assert jargon not in text
    assert loaded.scenario is None


def test_the_command_lists_every_file_and_exits_1() -> None:
    files = [str(MALFORMED / name) for name in sorted(EXPECTED)]
    code, out, err = run("check", "--skills", "operator", *files)
    assert code == 1
    for name, (line, column, _) in EXPECTED.items():
        assert f"{MALFORMED / name}:{line}:{column}: " in out
    assert f"{len(EXPECTED)} problems in {len(EXPECTED)} files" in err
    assert "Traceback" not in out + err
    assert "OK" not in out
