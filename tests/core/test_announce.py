"""Position and wait announcements, with Russian grammar for numbers of minutes.

The words the number files say, for every number, are checked against the catalogue in
``tests/prompts/test_spoken_numbers.py``."""

from __future__ import annotations

import math

import pytest

from acd.core.announce import Prompt, minutes_phrase, plural_form, wait_announcement
from acd.core.ewt import WaitEstimate


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (1, "one"),
        (2, "few"),
        (4, "few"),
        (5, "many"),
        (11, "many"),
        (12, "many"),
        (14, "many"),
        (21, "one"),
        (22, "few"),
        (25, "many"),
        (101, "one"),
        (111, "many"),
    ],
)
def test_russian_plural_forms(n: int, form: str) -> None:
    assert plural_form(n, "ru") == form


def test_other_languages() -> None:
    assert plural_form(1, "en") == "one" and plural_form(2, "en") == "many"
    assert plural_form(1, "kk") == plural_form(5, "kk") == "many"


def digits(*names: str) -> list[Prompt]:
    return [Prompt.file(f"digits/{name}") for name in names]


def test_minutes_in_russian_are_feminine_and_agree_with_the_number() -> None:
    assert minutes_phrase(1, "ru") == [*digits("1f"), Prompt.file("minutes-one")]
    assert minutes_phrase(2, "ru") == [*digits("2f"), Prompt.file("minutes-few")]
    assert minutes_phrase(5, "ru")[-1] == Prompt.file("minutes-many")
    assert minutes_phrase(21, "ru", genitive=True) == [
        *digits("gen-20", "gen-1f"),
        Prompt.file("minutes-gen-one"),
    ]
    assert minutes_phrase(6, "ru", genitive=True)[-1] == Prompt.file("minutes-gen-many")


def test_minutes_in_kazakh_do_not_agree_and_english_says_numbers() -> None:
    assert minutes_phrase(1, "kk") == [*digits("1"), Prompt.file("minutes-many")]
    assert minutes_phrase(3, "kk", genitive=True) == [*digits("3"), Prompt.file("minutes-many")]
    assert minutes_phrase(1, "en") == [Prompt.number(1), Prompt.file("minutes-one")]
    assert minutes_phrase(3, "en") == [Prompt.number(3), Prompt.file("minutes-many")]


def est(position: int, mean: float, low: float, high: float) -> WaitEstimate:
    return WaitEstimate(position, 3, mean, low, high, 0.8)


def test_position_and_range() -> None:
    prompts = wait_announcement(est(4, 300, 250, 350), "ru")
    assert prompts == [
        Prompt.file("your-position"),
        *digits("4"),
        Prompt.file("wait-from"),
        *digits("gen-4"),
        Prompt.file("wait-to"),
        *digits("gen-6"),
        Prompt.file("minutes-gen-many"),
    ]


def test_position_and_range_in_kazakh_and_english() -> None:
    assert wait_announcement(est(4, 300, 250, 350), "kk") == [
        Prompt.file("your-position"),
        *digits("4"),
        Prompt.file("wait-about"),
        *digits("abl-4", "6"),
        Prompt.file("minutes-until"),
    ]
    assert wait_announcement(est(4, 300, 250, 350), "en") == [
        Prompt.file("your-position"),
        Prompt.number(4),
        Prompt.file("wait-from"),
        Prompt.number(4),
        Prompt.file("wait-to"),
        Prompt.number(6),
        Prompt.file("minutes-gen-many"),
    ]


def test_next_in_line_and_short_wait() -> None:
    assert wait_announcement(est(1, 20, 5, 40), "ru") == [
        Prompt.file("you-are-next"),
        Prompt.file("wait-less-than-a-minute"),
    ]


def test_about_when_the_range_starts_under_a_minute() -> None:
    prompts = wait_announcement(est(2, 90, 30, 110), "ru")
    assert prompts[2:] == [Prompt.file("wait-about"), *minutes_phrase(2, "ru")]


def test_too_wide_or_unknown_falls_back_to_the_position() -> None:
    assert wait_announcement(est(3, 600, 60, 1800), "ru") == [
        Prompt.file("your-position"),
        *digits("3"),
    ]
    unknown = WaitEstimate(3, 0, math.inf, math.inf, math.inf, 0.8)
    assert wait_announcement(unknown, "ru") == [Prompt.file("your-position"), *digits("3")]
