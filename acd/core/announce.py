"""What a waiting caller is told: position and estimated wait, as a list of prompts.

Pure: turns a :class:`~acd.core.ewt.WaitEstimate` into prompt file names (and, in English,
numbers) for the caller's language. The FastAGI adapter plays them (``STREAM FILE`` /
``SAY NUMBER``).

Numbers in Russian and Kazakh are spoken from our own number files (``acd/digits/...``, see
``docs/prompts.md``), not with ``SAY NUMBER``: Asterisk has no Kazakh, and Russian needs
forms ``SAY NUMBER`` cannot say.

* Russian: the noun agrees with the number ("1 минута", "2 минуты", "5 минут",
  "21 минута", "11 минут"); "минута" and "тысяча" are feminine ("одна", "две"); after
  "от"/"до" the number and the noun are in the genitive ("от четырёх до шести минут",
  "до двадцати одной минуты").
* Kazakh: nouns do not change after a numeral ("бір минут", "бес минут"); a range is said
  "4-тен 6 минутқа дейін" ("төрттен алты минутқа дейін"): the first number in the ablative
  (its last word: "жиырма бірден"), then "минутқа дейін".
* English: ``SAY NUMBER`` (Asterisk's core sounds), "1 minute", "2 minutes".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from acd.core.ewt import WaitEstimate

PROMPT_DIR = "acd"
SUPPORTED_LANGUAGES = ("ru", "kk", "en")
NUMBER_FILE_LANGUAGES = ("ru", "kk")
"""Languages whose numbers are said from ``acd/digits/...`` files rather than SAY NUMBER."""
DIGITS_DIR = "digits"
MAX_SPOKEN_NUMBER = 999_999

Gender = Literal["m", "f"]
Case = Literal["nom", "gen", "abl"]  # abl: Kazakh ablative, "төрттен"


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


# ---------------------------------------------------------------------------- numbers


def number_words(
    value: int, language: str, *, gender: Gender = "m", case: Case = "nom"
) -> list[str]:
    """The number files that say ``value`` (0 ≤ value ≤ 999 999), names under ``acd/``.

    Russian: ``digits/0``–``digits/19``, ``digits/20``…``digits/90``, ``digits/100``…
    ``digits/900``, the feminine ``digits/1f`` ("одна"), ``digits/2f`` ("две") and the nouns
    ``digits/thousand-one|few|many`` ("тысяча", "тысячи", "тысяч"); the genitive ones
    (``case="gen"``) are the same names with ``gen-``: ``digits/gen-4`` ("четырёх"),
    ``digits/gen-1f`` ("одной"), ``digits/gen-thousand-one|many`` ("тысячи", "тысяч").

    Kazakh: ``digits/0``–``digits/9``, ``digits/10``…``digits/90``, ``digits/100`` ("жүз"),
    ``digits/1000`` ("мың"); 11 is "он бір", 200 "екі жүз"; no gender. The ablative
    (``case="abl"``, "from") changes only the last word: ``digits/abl-4`` ("төрттен"),
    "жиырма бірден".
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a whole number is needed, not {value!r}")
    if not 0 <= value <= MAX_SPOKEN_NUMBER:
        raise ValueError(f"{value} is out of range 0..{MAX_SPOKEN_NUMBER}")
    if language == "ru":
        if case not in ("nom", "gen"):
            raise ValueError(f"no {case!r} case in Russian number files")
        words = _russian(value, gender, case)
    elif language == "kk":
        if case not in ("nom", "abl"):
            raise ValueError(f"no {case!r} case in Kazakh number files")
        words = _kazakh(value)
        if case == "abl":
            words[-1] = f"abl-{words[-1]}"
    else:
        raise ValueError(f"no number files for language {language!r}")
    return [f"{DIGITS_DIR}/{word}" for word in words]


def _russian(value: int, gender: Gender, case: Case) -> list[str]:
    prefix = "gen-" if case == "gen" else ""
    if value == 0:
        return [f"{prefix}0"]
    thousands, rest = divmod(value, 1000)
    words: list[str] = []
    if thousands:
        if thousands > 1:  # 1000 is "тысяча", not "одна тысяча"
            words += _russian_below_1000(thousands, "f", prefix)  # "тысяча" is feminine
        form = plural_form(thousands, "ru")
        if case == "gen":
            form = "one" if form == "one" else "many"  # тысячи / тысяч
        words.append(f"{prefix}thousand-{form}")
    return words + _russian_below_1000(rest, gender, prefix)


def _russian_below_1000(value: int, gender: Gender, prefix: str) -> list[str]:
    hundreds, rest = divmod(value, 100)
    words = [f"{prefix}{hundreds * 100}"] if hundreds else []
    if 10 <= rest <= 19:
        return [*words, f"{prefix}{rest}"]
    tens, units = divmod(rest, 10)
    if tens:
        words.append(f"{prefix}{tens * 10}")
    if units:
        feminine = gender == "f" and (units == 1 or (units == 2 and not prefix))
        words.append(f"{prefix}{units}{'f' if feminine else ''}")  # gen-2 "двух": any gender
    return words


def _kazakh(value: int) -> list[str]:
    if value == 0:
        return ["0"]
    thousands, rest = divmod(value, 1000)
    words: list[str] = []
    if thousands:
        words += (_kazakh_below_1000(thousands) if thousands > 1 else []) + ["1000"]
    return words + _kazakh_below_1000(rest)


def _kazakh_below_1000(value: int) -> list[str]:
    hundreds, rest = divmod(value, 100)
    words: list[str] = []
    if hundreds:
        words += ([str(hundreds)] if hundreds > 1 else []) + ["100"]  # жүз, екі жүз
    tens, units = divmod(rest, 10)
    if tens:
        words.append(str(tens * 10))
    if units:
        words.append(str(units))
    return words


def number_prompts(
    value: int, language: str, *, gender: Gender = "m", case: Case = "nom"
) -> list[Prompt]:
    """A number as prompts: number files in Russian and Kazakh, ``SAY NUMBER`` otherwise
    (with Asterisk's feminine ``f`` in Russian only)."""
    if language in NUMBER_FILE_LANGUAGES:
        return [
            Prompt.file(name) for name in number_words(value, language, gender=gender, case=case)
        ]
    return [Prompt.number(value, "f" if gender == "f" and language == "ru" else "")]


def minutes_phrase(minutes: int, language: str, *, genitive: bool = False) -> list[Prompt]:
    """A number of minutes with the noun in the form the number needs.

    Russian, nominative after "примерно": 1 минута, 2 минуты, 5 минут, 21 минута, 11 минут;
    genitive after "до" in a range ("от 4 до 6 минут"): 1/21 минуты, 2/5/11 минут, with the
    number in the genitive too ("двух", "двадцати одной"). "Минута" is feminine: "одна",
    "две". Kazakh: always "минут" ("бір минут", "бес минут"). English: minute / minutes.
    """
    if language == "kk":
        return [*number_prompts(minutes, language), Prompt.file("minutes-many")]
    form = plural_form(minutes, language)
    if genitive:
        noun = "minutes-gen-one" if form == "one" else "minutes-gen-many"
    else:
        noun = f"minutes-{form}"
    case: Case = "gen" if genitive else "nom"
    return [*number_prompts(minutes, language, gender="f", case=case), Prompt.file(noun)]


def position_phrase(position: int, language: str) -> list[Prompt]:
    """ "Ваш номер в очереди: пять" / "Кезектегі нөміріңіз: бес"; the first in line hears
    "you are next" instead."""
    if position == 1:
        return [Prompt.file("you-are-next")]
    return [Prompt.file("your-position"), *number_prompts(position, language)]


def wait_phrase(low_minutes: int, high_minutes: int, language: str) -> list[Prompt]:
    """The wait in whole minutes: "less than a minute", "about N minutes", or a range —
    "от 4 до 6 минут" (Russian, genitive), "4-тен 6 минутқа дейін" (Kazakh, ablative),
    "between 4 and 6 minutes"."""
    low, high = max(0, low_minutes), max(1, high_minutes)
    if high <= 1:
        return [Prompt.file("wait-less-than-a-minute")]
    if low == 0 or low >= high:
        return [Prompt.file("wait-about"), *minutes_phrase(high, language)]
    if language == "kk":
        return [
            Prompt.file("wait-about"),
            *number_prompts(low, language, case="abl"),
            *number_prompts(high, language),
            Prompt.file("minutes-until"),
        ]
    return [
        Prompt.file("wait-from"),
        *number_prompts(low, language, gender="f", case="gen"),
        Prompt.file("wait-to"),
        *minutes_phrase(high, language, genitive=True),
    ]


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
        prompts += position_phrase(estimate.position, language)
    if not announce_wait or not estimate.range_is_useful(max_relative_width):
        return prompts
    low = max(0, math.floor(estimate.low_seconds / 60.0))
    high = max(1, math.ceil(estimate.high_seconds / 60.0))
    return prompts + wait_phrase(low, high, language)
