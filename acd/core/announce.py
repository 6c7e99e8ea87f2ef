"""What a waiting caller is told: position and estimated wait, as a list of prompts.

Pure: turns a :class:`~acd.core.ewt.WaitEstimate` into prompt file names and numbers for
the caller's language. The FastAGI adapter plays them (``STREAM FILE`` / ``SAY NUMBER``).
Russian needs the plural form that agrees with the number ("1 минута", "2 минуты",
"5 минут"), so each number is followed by the prompt of the matching form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from acd.core.ewt import WaitEstimate

PROMPT_DIR = "acd"
SUPPORTED_LANGUAGES = ("ru", "kk", "en")


@dataclass(frozen=True, slots=True)
class Prompt:
    kind: Literal["file", "number"]
    value: str  # a prompt name (without extension) or the decimal digits of a number
    gender: str = ""  # for numbers: "f" makes Asterisk say "одна", "две" in Russian

    @staticmethod
    def file(name: str) -> Prompt:
        return Prompt("file", f"{PROMPT_DIR}/{name}")

    @staticmethod
    def number(value: int, gender: str = "") -> Prompt:
        return Prompt("number", str(value), gender)


def plural_form(number: int, language: str) -> Literal["one", "few", "many"]:
    """CLDR plural category for a whole number: Russian has one / few / many; Kazakh nouns
    do not change after a numeral; English has one / other (reported as "many")."""
    n = abs(number)
    if language == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    if language == "en":
        return "one" if n == 1 else "many"
    return "many"


def minutes_phrase(minutes: int, language: str, *, genitive: bool = False) -> list[Prompt]:
    """A number of minutes with the noun in the form the number needs.

    Nominative after "примерно": 1 минута, 2 минуты, 5 минут. Genitive after "до" in a
    range ("от 4 до 6 минут"): 1 минуты, 2/5 минут. "Минута" is feminine: "одна", "две".
    """
    form = plural_form(minutes, language)
    if genitive:
        noun = "minutes-gen-one" if form == "one" else "minutes-gen-many"
    else:
        noun = f"minutes-{form}"
    gender = "f" if language == "ru" else ""
    return [Prompt.number(minutes, gender), Prompt.file(noun)]


def wait_announcement(
    estimate: WaitEstimate,
    language: str = "ru",
    *,
    announce_position: bool = True,
    announce_wait: bool = True,
    max_relative_width: float = 1.0,
) -> list[Prompt]:
    """Prompts for one announcement, in the order they are played.

    The range is said in whole minutes ("about 4 to 6 minutes"); when it is too wide to be
    useful, or unknown, only the position is said; when the wait is under a minute the caller
    hears "less than a minute"."""
    prompts: list[Prompt] = []
    if announce_position:
        if estimate.position == 1:
            prompts.append(Prompt.file("you-are-next"))
        else:
            prompts += [Prompt.file("your-position"), Prompt.number(estimate.position)]
    if not announce_wait or not estimate.range_is_useful(max_relative_width):
        return prompts
    low = max(0, math.floor(estimate.low_seconds / 60.0))
    high = max(1, math.ceil(estimate.high_seconds / 60.0))
    if high <= 1:
        prompts.append(Prompt.file("wait-less-than-a-minute"))
    elif low == 0 or low == high:
        prompts += [Prompt.file("wait-about"), *minutes_phrase(high, language)]
    else:
        prompts += [
            Prompt.file("wait-from"),
            Prompt.number(low, "f" if language == "ru" else ""),
            Prompt.file("wait-to"),
            *minutes_phrase(high, language, genitive=True),
        ]
    return prompts
