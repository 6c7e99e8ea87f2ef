"""Numbers, minutes and whole announcements as the caller hears them: the number files
``acd/core/announce.py`` picks, read through the texts of the catalogue.

Russian: the noun agrees with the number (1 минута, 2 минуты, 5 минут, 11 минут, 21 минута),
"минута" and "тысяча" are feminine (одна, две), a range is in the genitive ("от четырёх до
шести минут"). Kazakh: no agreement after a numeral (бір минут, бес минут); a range is
"төрттен алты минутқа дейін". The sweeps compare every number 0..1000 (and the thousands)
with a speller written here from its own word lists.
"""

from __future__ import annotations

import pytest

from acd.core.announce import (
    MAX_SPOKEN_NUMBER,
    Prompt,
    minutes_phrase,
    number_prompts,
    number_words,
    position_phrase,
    wait_announcement,
    wait_phrase,
)
from acd.core.ewt import WaitEstimate
from acd.prompts import Catalogue, default_catalogue

CATALOGUE: Catalogue = default_catalogue()


def say(prompts: list[Prompt], language: str) -> str:
    return CATALOGUE.render(prompts, language)


def number(n: int, language: str, **form: str) -> str:
    return say(number_prompts(n, language, **form), language)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- an independent speller


def w(text: str) -> list[str]:
    return text.split()


RU_UNITS = w("ноль один два три четыре пять шесть семь восемь девять")
RU_TEENS = w(
    "десять одиннадцать двенадцать тринадцать четырнадцать пятнадцать шестнадцать "
    "семнадцать восемнадцать девятнадцать"
)
RU_TENS = w("- - двадцать тридцать сорок пятьдесят шестьдесят семьдесят восемьдесят девяносто")
RU_HUNDREDS = w("- сто двести триста четыреста пятьсот шестьсот семьсот восемьсот девятьсот")
RU_GEN_UNITS = w("нуля одного двух трёх четырёх пяти шести семи восьми девяти")
RU_GEN_TEENS = w(
    "десяти одиннадцати двенадцати тринадцати четырнадцати пятнадцати шестнадцати "
    "семнадцати восемнадцати девятнадцати"
)
RU_GEN_TENS = w(
    "- - двадцати тридцати сорока пятидесяти шестидесяти семидесяти восьмидесяти девяноста"
)
RU_GEN_HUNDREDS = w("- ста двухсот трёхсот четырёхсот пятисот шестисот семисот восьмисот девятисот")

KK_UNITS = w("нөл бір екі үш төрт бес алты жеті сегіз тоғыз")
KK_TENS = w("- он жиырма отыз қырық елу алпыс жетпіс сексен тоқсан")
KK_ABLATIVE = dict(
    zip(
        [*KK_UNITS, *KK_TENS[1:], "жүз", "мың"],
        w(
            "нөлден бірден екіден үштен төрттен бестен алтыдан жетіден сегізден тоғыздан "
            "оннан жиырмадан отыздан қырықтан елуден алпыстан жетпістен сексеннен тоқсаннан "
            "жүзден мыңнан"
        ),
        strict=True,
    )
)


def ru_words(n: int, feminine: bool = False, genitive: bool = False) -> list[str]:
    units = RU_GEN_UNITS if genitive else RU_UNITS
    teens = RU_GEN_TEENS if genitive else RU_TEENS
    tens = RU_GEN_TENS if genitive else RU_TENS
    hundreds = RU_GEN_HUNDREDS if genitive else RU_HUNDREDS
    if n == 0:
        return [units[0]]
    words: list[str] = []
    if n >= 1000:
        t = n // 1000
        if t > 1:
            words += ru_words(t, feminine=True, genitive=genitive)
        last_two = t % 100
        if t % 10 == 1 and last_two != 11:
            words.append("тысячи" if genitive else "тысяча")
        elif 2 <= t % 10 <= 4 and not 12 <= last_two <= 14 and not genitive:
            words.append("тысячи")
        else:
            words.append("тысяч")
        n %= 1000
        if n == 0:
            return words
    digits = f"{n:03d}"
    h, t, u = (int(d) for d in digits)
    if h:
        words.append(hundreds[h])
    if t == 1:
        return [*words, teens[u]]
    if t:
        words.append(tens[t])
    if u:
        if feminine and u == 1:
            words.append("одной" if genitive else "одна")
        elif feminine and u == 2 and not genitive:
            words.append("две")
        else:
            words.append(units[u])
    return words


def kk_words(n: int, ablative: bool = False) -> list[str]:
    if n == 0:
        words = ["нөл"]
    else:
        words = []
        t, rest = divmod(n, 1000)
        if t:
            words += (kk_words(t) if t > 1 else []) + ["мың"]
        h, r = divmod(rest, 100)
        if h:
            words += ([KK_UNITS[h]] if h > 1 else []) + ["жүз"]
        if r >= 10:
            words.append(KK_TENS[r // 10])
        if r % 10:
            words.append(KK_UNITS[r % 10])
    if ablative:
        words[-1] = KK_ABLATIVE[words[-1]]
    return words


SWEEP = [*range(0, 1001), *range(1000, 1_000_000, 997), 20_000, 21_000, 100_000, 999_999]


@pytest.mark.parametrize(
    ("feminine", "genitive"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_every_russian_number_0_to_1000_and_on(feminine: bool, genitive: bool) -> None:
    form = {"gender": "f" if feminine else "m", "case": "gen" if genitive else "nom"}
    wrong = [
        (n, got, want)
        for n in SWEEP
        if (got := number(n, "ru", **form)) != (want := " ".join(ru_words(n, feminine, genitive)))
    ]
    assert wrong == []


@pytest.mark.parametrize("ablative", [False, True])
def test_every_kazakh_number_0_to_1000_and_on(ablative: bool) -> None:
    form = {"case": "abl" if ablative else "nom"}
    wrong = [
        (n, got, want)
        for n in SWEEP
        if (got := number(n, "kk", **form)) != (want := " ".join(kk_words(n, ablative)))
    ]
    assert wrong == []


# --------------------------------------------------------------------------- by hand


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "ноль"),
        (1, "один"),
        (2, "два"),
        (10, "десять"),
        (11, "одиннадцать"),
        (12, "двенадцать"),
        (13, "тринадцать"),
        (14, "четырнадцать"),
        (19, "девятнадцать"),
        (21, "двадцать один"),
        (40, "сорок"),
        (90, "девяносто"),
        (101, "сто один"),
        (111, "сто одиннадцать"),
        (114, "сто четырнадцать"),
        (342, "триста сорок два"),
        (999, "девятьсот девяносто девять"),
        (1000, "тысяча"),
        (1001, "тысяча один"),
        (2000, "две тысячи"),
        (5000, "пять тысяч"),
        (11000, "одиннадцать тысяч"),
        (21000, "двадцать одна тысяча"),
        (104000, "сто четыре тысячи"),
        (999_999, "девятьсот девяносто девять тысяч девятьсот девяносто девять"),
    ],
)
def test_russian_numbers(n: int, words: str) -> None:
    assert number(n, "ru") == words


@pytest.mark.parametrize(
    ("n", "phrase"),
    [
        (1, "одна минута"),
        (2, "две минуты"),
        (3, "три минуты"),
        (4, "четыре минуты"),
        (5, "пять минут"),
        (11, "одиннадцать минут"),
        (12, "двенадцать минут"),
        (13, "тринадцать минут"),
        (14, "четырнадцать минут"),
        (20, "двадцать минут"),
        (21, "двадцать одна минута"),
        (22, "двадцать две минуты"),
        (25, "двадцать пять минут"),
        (101, "сто одна минута"),
        (111, "сто одиннадцать минут"),
        (112, "сто двенадцать минут"),
        (1000, "тысяча минут"),
        (1001, "тысяча одна минута"),
        (2002, "две тысячи две минуты"),
    ],
)
def test_russian_minutes_agree_with_the_number(n: int, phrase: str) -> None:
    assert say(minutes_phrase(n, "ru"), "ru") == phrase


@pytest.mark.parametrize(
    ("low", "high", "phrase"),
    [
        (4, 6, "от четырёх до шести минут"),
        (1, 2, "от одной до двух минут"),
        (1, 3, "от одной до трёх минут"),
        (10, 12, "от десяти до двенадцати минут"),
        (11, 14, "от одиннадцати до четырнадцати минут"),
        (20, 21, "от двадцати до двадцати одной минуты"),
        (40, 101, "от сорока до ста одной минуты"),
        (100, 111, "от ста до ста одиннадцати минут"),
        (2, 1000, "от двух до тысячи минут"),
    ],
)
def test_russian_ranges_are_in_the_genitive(low: int, high: int, phrase: str) -> None:
    assert say(wait_phrase(low, high, "ru"), "ru") == f"Примерное время ожидания {phrase}"


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "нөл"),
        (1, "бір"),
        (10, "он"),
        (11, "он бір"),
        (12, "он екі"),
        (14, "он төрт"),
        (19, "он тоғыз"),
        (21, "жиырма бір"),
        (99, "тоқсан тоғыз"),
        (100, "жүз"),
        (101, "жүз бір"),
        (111, "жүз он бір"),
        (200, "екі жүз"),
        (342, "үш жүз қырық екі"),
        (1000, "мың"),
        (1001, "мың бір"),
        (2000, "екі мың"),
        (21000, "жиырма бір мың"),
        (100_000, "жүз мың"),
    ],
)
def test_kazakh_numbers(n: int, words: str) -> None:
    assert number(n, "kk") == words


@pytest.mark.parametrize(
    ("n", "phrase"),
    [
        (1, "бір минут"),
        (2, "екі минут"),
        (5, "бес минут"),
        (11, "он бір минут"),
        (21, "жиырма бір минут"),
    ],
)
def test_kazakh_minutes_do_not_agree(n: int, phrase: str) -> None:
    assert say(minutes_phrase(n, "kk"), "kk") == phrase


@pytest.mark.parametrize(
    ("low", "high", "phrase"),
    [
        (4, 6, "төрттен алты"),
        (1, 3, "бірден үш"),
        (10, 12, "оннан он екі"),
        (15, 20, "он бестен жиырма"),
        (20, 22, "жиырмадан жиырма екі"),
        (21, 25, "жиырма бірден жиырма бес"),
        (40, 50, "қырықтан елу"),
        (100, 110, "жүзден жүз он"),
    ],
)
def test_kazakh_ranges(low: int, high: int, phrase: str) -> None:
    said = say(wait_phrase(low, high, "kk"), "kk")
    assert said == f"Күту уақыты шамамен {phrase} минутқа дейін"


@pytest.mark.parametrize(
    ("bad", "language", "form"),
    [
        (-1, "ru", {}),
        (MAX_SPOKEN_NUMBER + 1, "kk", {}),
        (5, "en", {}),
        (5, "ru", {"case": "abl"}),
        (5, "kk", {"case": "gen"}),
    ],
)
def test_numbers_out_of_reach_are_refused(bad: int, language: str, form: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        number_words(bad, language, **form)  # type: ignore[arg-type]


def test_a_number_that_is_not_a_whole_number_is_refused() -> None:
    with pytest.raises(TypeError):
        number_words(True, "ru")
    with pytest.raises(TypeError):
        number_words(2.0, "kk")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- whole announcements


def est(position: int, low: float, high: float, mean: float | None = None) -> WaitEstimate:
    return WaitEstimate(position, 3, mean or (low + high) / 2, low, high, 0.8)


RU_POSITION = "Ваш номер в очереди"
RU_WAIT = "Примерное время ожидания"
KK_POSITION = "Кезектегі нөміріңіз"
KK_WAIT = "Күту уақыты шамамен"


@pytest.mark.parametrize(
    ("language", "estimate", "heard"),
    [
        ("ru", est(5, 250, 350), f"{RU_POSITION} пять {RU_WAIT} от четырёх до шести минут"),
        (
            "ru",
            est(21, 1200, 1300),
            f"{RU_POSITION} двадцать один {RU_WAIT} от двадцати до двадцати двух минут",
        ),
        ("ru", est(2, 30, 110, mean=90), f"{RU_POSITION} два {RU_WAIT} две минуты"),
        ("ru", est(3, 30, 1230), f"{RU_POSITION} три"),
        ("ru", est(1, 5, 40), "Ваш звонок будет принят следующим Время ожидания меньше минуты."),
        ("kk", est(5, 250, 350), f"{KK_POSITION} бес {KK_WAIT} төрттен алты минутқа дейін"),
        ("kk", est(2, 30, 110, mean=90), f"{KK_POSITION} екі {KK_WAIT} екі минут"),
        (
            "kk",
            est(1, 5, 40),
            "Сіздің қоңырауыңыз кезекте бірінші тұр Күту уақыты бір минуттан аз.",
        ),
        (
            "en",
            est(5, 250, 350),
            "Your position in the queue is 5 The estimated wait is between 4 and 6 minutes",
        ),
        (
            "en",
            est(2, 30, 110, mean=90),
            "Your position in the queue is 2 The estimated wait is about 2 minutes",
        ),
    ],
)
def test_announcements_as_heard(language: str, estimate: WaitEstimate, heard: str) -> None:
    assert say(wait_announcement(estimate, language), language) == heard


def test_english_numbers_are_said_by_asterisk() -> None:
    assert position_phrase(7, "en") == [Prompt.file("your-position"), Prompt.number(7)]
    assert number_prompts(1, "ru", gender="f") == [Prompt.file("digits/1f")]
