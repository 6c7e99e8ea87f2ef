"""The pure layer: extensions.conf parsing, pattern matching, expressions, substitution,
application arguments and AGI argument parsing."""

from __future__ import annotations

import pytest

from acd.sim.pbx.agi_client import parse_agi_args, parse_agi_url
from acd.sim.pbx.appargs import GotoTarget, parse_goto, parse_options, separate_args
from acd.sim.pbx.dialplan import Dialplan, DialplanError, pattern_matches
from acd.sim.pbx.expressions import evaluate, is_true
from acd.sim.pbx.pbx import DEFAULT_DIALPLAN
from acd.sim.pbx.substitution import DictSource, substitute, substring

PLAN = """
[general]
static=yes

[globals]
GREETING=hello ; a comment
QUEUE => hotline

[inner]
exten => 100,1,NoOp(inner 100)
exten => _X.,1,NoOp(inner pattern)

[outer]
include => inner
exten => _NXX,1,NoOp(three digits)
 same => n(again),Set(X=${EXTEN})
 same => n,Goto(again)
exten => _X.,1,NoOp(anything digits)
exten => 200,1,Answer()
exten => 200,2,Playback(a&b,noanswer)
exten => 200,3,Hangup
exten => s,1,NoOp(escaped \\; semicolon) ;-- block
comment --;
exten => _agent.,1,NoOp(agent ${EXTEN:5})
exten => _[1-3]5!,1,NoOp(set and bang)
exten => _555-12XX,1,NoOp(dash ignored)
exten => 1001,hint,PJSIP/1001&PJSIP/1001b
"""


@pytest.fixture
def plan() -> Dialplan:
    return Dialplan.parse(PLAN, "test.conf")


def test_contexts_globals_and_comments(plan: Dialplan) -> None:
    assert plan.globals == {"GREETING": "hello", "QUEUE": "hotline"}
    assert set(plan.contexts) == {"inner", "outer"}
    s = plan.find_priority("outer", "s", 1)
    assert s is not None and s.data == "escaped ; semicolon"
    assert s.source == "test.conf:22"


def test_same_n_and_labels(plan: Dialplan) -> None:
    ext = plan.find_extension("outer", "234")
    assert ext is not None and ext.name == "_NXX"
    assert sorted(ext.priorities) == [1, 2, 3]
    assert ext.labels == {"again": 2}
    assert plan.find_label("outer", "234", "again") == 2
    goto = ext.priorities[3]
    assert (goto.app, goto.data) == ("Goto", "again")


def test_app_parsing(plan: Dialplan) -> None:
    assert plan.find_priority("outer", "200", 2) is not None
    play = plan.find_priority("outer", "200", 2)
    hang = plan.find_priority("outer", "200", 3)
    assert play is not None and (play.app, play.data) == ("Playback", "a&b,noanswer")
    assert hang is not None and (hang.app, hang.data) == ("Hangup", "")
    nested = Dialplan.parse("[c]\nexten => s,1,Set(A=$[${B} + (1)])\n")
    p = nested.find_priority("c", "s", 1)
    assert p is not None and p.data == "A=$[${B} + (1)]"


@pytest.mark.parametrize(
    ("pattern", "exten", "matches"),
    [
        ("_X.", "1", False),
        ("_X.", "12", True),
        ("_X!", "1", True),
        ("_x.", "12", True),
        ("_NXX", "234", True),
        ("_NXX", "134", False),
        ("_nxx", "234", True),
        ("_ZX", "05", False),
        ("_[1-3]5!", "25", True),
        ("_[1-3]5!", "45", False),
        ("_555-12XX", "5551234", True),
        ("_*72X.", "*721", False),
        ("_*72X.", "*7212", True),
        ("_*72X!", "*72", False),
        ("_*72X!", "*721", True),
        ("_*72X!", "*7212", True),
        ("_*72X!", "*72a", False),
        ("_agent.", "agent7", False),
        ("_agent.", "age7t1", True),
        ("_age[n]t.", "agent1", True),
    ],
)
def test_patterns(pattern: str, exten: str, matches: bool) -> None:
    assert pattern_matches(pattern, exten) is matches


def test_match_order_exact_then_most_specific_then_includes(plan: Dialplan) -> None:
    assert plan.find_extension("outer", "200").name == "200"  # type: ignore[union-attr]
    assert plan.find_extension("outer", "234").name == "_NXX"  # type: ignore[union-attr]
    assert plan.find_extension("outer", "1234").name == "_X."  # type: ignore[union-attr]
    # the context's own match wins over an exact match in an included context
    assert plan.find_extension("outer", "100").name == "_X."  # type: ignore[union-attr]
    assert plan.find_extension("outer", "hello") is None
    assert plan.find_extension("inner", "100").name == "100"  # type: ignore[union-attr]


def test_hints(plan: Dialplan) -> None:
    [hint] = plan.hints()
    assert (hint.context, hint.exten, hint.devices) == (
        "outer",
        "1001",
        ("PJSIP/1001", "PJSIP/1001b"),
    )
    assert plan.find_extension("outer", "1001").name == "_X."  # type: ignore[union-attr]


def test_includes_are_searched_when_the_context_has_no_match() -> None:
    plan = Dialplan.parse("[a]\ninclude => b\n[b]\ninclude => c\n[c]\nexten => 7,1,NoOp\n")
    assert plan.exists("a", "7")
    loop = Dialplan.parse("[a]\ninclude => b\n[b]\ninclude => a\n")
    assert loop.find_extension("a", "7") is None


def test_errors_and_warnings() -> None:
    with pytest.raises(DialplanError, match="same"):
        Dialplan.parse("[a]\nsame => n,NoOp\n")
    with pytest.raises(DialplanError, match="priority"):
        Dialplan.parse("[a]\nexten => s,x,NoOp\n")
    plan = Dialplan.parse("[a]\nexten => s,1,NoOp(1)\nexten => s,1,NoOp(2)\n#include foo.conf\n")
    assert plan.find_priority("a", "s", 1).data == "1"  # type: ignore[union-attr]
    assert len(plan.warnings) == 2


def test_the_shipped_dialplan_loads() -> None:
    plan = Dialplan.from_file(DEFAULT_DIALPLAN)
    assert not plan.warnings
    assert plan.globals["ACD_AGI"] == "agi://127.0.0.1:4573"
    assert plan.find_label("acd-agent", "s", "bridge") == 6
    for exten in ("*721", "*7212"):
        assert plan.find_extension("acd-phones", exten).name == "_*72X!"  # type: ignore[union-attr]
    assert plan.find_extension("acd-phones", "*72") is None
    assert {h.exten for h in plan.hints()} == {"1001", "1002", "1003"}


# --------------------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ('"FAILURE" = "FAILURE"', "1"),
        ('"" = "queue"', "0"),
        ("queue != hangup", "1"),
        ("10 > 9", "1"),
        ("abc < abd", "1"),
        ("01 = 1", "1"),
        ("1 = 1 & 2 = 2", "1"),
        ("1 = 1 & 2 = 3", "0"),
        ('"" | fallback', "fallback"),
        ("0 | 0", "0"),
        ("x & y", "x"),
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("7 / 2", "3"),
        ("7 % 4", "3"),
        ("-3 + 1", "-2"),
        ("!0", "1"),
        ("!abc", "0"),
        ("1 ? yes :: no", "yes"),
        ("0 ? yes :: no", "no"),
        ('abc123 : "[a-z]*"', "3"),
        ('abc123 : "[a-z]*([0-9]+)"', "123"),
        ('foo =~ "o+"', "2"),
        ("1 +", ""),
        ("a + 1", ""),
    ],
)
def test_expressions(expr: str, value: str) -> None:
    assert evaluate(expr) == value


def test_truth() -> None:
    assert [is_true(x) for x in ("", "0", "00", "1", "abc", " ")] == [
        False,
        False,
        False,
        True,
        True,
        False,
    ]


# --------------------------------------------------------------------------- substitution


def test_substitution() -> None:
    src = DictSource({"EXTEN": "*7212", "X": "abcdef", "NAME": "X", "A": "2", "EMPTY": ""})
    assert substitute("${EXTEN:3}", src) == "12"
    assert substitute("${X:-3} ${X:1:2} ${X:0:-2} ${X:10}", src) == "def bc abcd "
    assert substitute("${${NAME}}", src) == "abcdef"
    assert substitute("$[${A} * 3]", src) == "6"
    assert substitute('$["${EMPTY}" = ""]', src) == "1"
    assert substitute("${NOPE}|${X}", src) == "|abcdef"
    assert substitute("no vars", src) == "no vars"
    assert substitute("unterminated ${X", src) == "unterminated ${X"
    assert substring("hello", -10, None) == "hello"


# --------------------------------------------------------------------------- arguments


def test_separate_args() -> None:
    assert separate_args("") == [""]
    assert separate_args("a,b,,c") == ["a", "b", "", "c"]
    assert separate_args('"a,b",c') == ["a,b", "c"]
    assert separate_args("f(x,y),z") == ["f(x,y)", "z"]
    assert separate_args(r"a\,b,c") == ["a,b", "c"]
    assert separate_args("agi://h:1/s?x=1&y=2,${EXTEN},second arg") == [
        "agi://h:1/s?x=1&y=2",
        "${EXTEN}",
        "second arg",
    ]


def test_goto_targets_and_options() -> None:
    assert parse_goto("acd-fallback,s,1") == GotoTarget("acd-fallback", "s", "1")
    assert parse_goto("s,2") == GotoTarget(None, "s", "2")
    assert parse_goto("bridge") == GotoTarget(None, None, "bridge")
    assert parse_goto("ctx|s|1") == GotoTarget("ctx", "s", "1")
    assert parse_goto("") is None
    assert parse_options("bF(ctx^s^1)x") == {"b": None, "F": "ctx^s^1", "x": None}


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ("ANSWER", ["ANSWER"]),
        ('STREAM FILE hello-world ""', ["STREAM", "FILE", "hello-world", ""]),
        ('SET VARIABLE ACD_RESULT "hello world"', ["SET", "VARIABLE", "ACD_RESULT", "hello world"]),
        (r'VERBOSE "say \"hi\"" 1', ["VERBOSE", 'say "hi"', "1"]),
        (r"SET VARIABLE X a\ b", ["SET", "VARIABLE", "X", "a b"]),
        (
            'EXEC Dial "Local/agent1@test-agent/n,20,g"',
            ["EXEC", "Dial", "Local/agent1@test-agent/n,20,g"],
        ),
        ('GET  FULL   VARIABLE "${A} ${B}"', ["GET", "FULL", "VARIABLE", "${A} ${B}"]),
        ('a"b c"d', ["ab cd"]),
    ],
)
def test_agi_argument_parsing(line: str, argv: list[str]) -> None:
    assert parse_agi_args(line) == argv


def test_agi_urls() -> None:
    assert parse_agi_url("agi://127.0.0.1:4573/hotline?line=2&lang=ru") == (
        "127.0.0.1",
        4573,
        "hotline?line=2&lang=ru",
    )
    assert parse_agi_url("agi://example.org/x") == ("example.org", 4573, "x")
    assert parse_agi_url("agi://example.org") == ("example.org", 4573, "")
