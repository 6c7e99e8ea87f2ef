"""The catalogue file: its texts are in the right script for the voice that reads them, the
daemon's prompts are in every language, and a broken catalogue file is refused with where
and why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from acd.core.announce import SUPPORTED_LANGUAGES
from acd.prompts import Catalogue, CatalogueError, default_catalogue, load_catalogue

KAZAKH_ONLY_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return default_catalogue()


def test_the_shipped_catalogue_loads(catalogue: Catalogue) -> None:
    assert catalogue.languages == ("ru", "kk", "en")
    assert catalogue.voices == {"ru": "ru", "kk": "kk", "en": "en"}
    assert len(catalogue) > 100
    assert catalogue.text("acd/greeting", "kk").text.startswith("Сәлеметсіз бе!")
    assert catalogue.has("acd/digits/abl-4", "kk") and not catalogue.has("acd/digits/abl-4", "ru")
    with pytest.raises(KeyError):
        catalogue.text("acd/digits/abl-4", "ru")


def test_the_daemons_own_prompts_are_in_every_language(catalogue: Catalogue) -> None:
    """acd/... except the number words (ru, kk) and the forms one language needs."""
    one_language_forms = {
        "acd/minutes-one",
        "acd/minutes-few",
        "acd/minutes-gen-one",
        "acd/minutes-gen-many",
        "acd/minutes-until",
        "acd/wait-from",
        "acd/wait-to",
    }
    partial = [
        entry.name
        for entry in catalogue
        if entry.name.startswith("acd/")
        and not entry.name.startswith("acd/digits/")
        and entry.name not in one_language_forms
        and entry.languages != SUPPORTED_LANGUAGES
    ]
    assert partial == []


def test_each_text_is_in_the_script_of_its_voice(catalogue: Catalogue) -> None:
    """What the synthesiser reads: Russian without Kazakh letters, Kazakh and Russian without
    Latin ones (addresses are spelt out in ``tts``), English in Latin letters only."""
    wrong = []
    for entry in catalogue:
        for language, text in entry.texts.items():
            spoken = text.spoken
            letters = set(spoken)
            if text.voice == "ru":
                bad = letters & KAZAKH_ONLY_LETTERS or LATIN.search(spoken)
            elif text.voice == "kk":
                bad = LATIN.search(spoken)
            else:
                bad = CYRILLIC.search(spoken)
            if bad or (not CYRILLIC.search(spoken) and text.voice != "en"):
                wrong.append(f"{entry.name} ({language}, voice {text.voice}): {spoken}")
    assert wrong == []


def test_the_language_menu_is_in_both_directories_in_its_own_language(
    catalogue: Catalogue,
) -> None:
    for name, voice in (("kz/choose-language-ru", "ru"), ("kz/choose-language-kk", "kk")):
        texts = catalogue.entries[name].texts
        assert {lang: t.voice for lang, t in texts.items()} == {"ru": voice, "kk": voice}
        assert texts["ru"].text == texts["kk"].text


def test_render_joins_the_texts(catalogue: Catalogue) -> None:
    heard = catalogue.render(["acd/your-position", "acd/digits/5"], "ru")
    assert heard == "Ваш номер в очереди пять"


GOOD = """\
version: 1
languages: [ru, kk]
prompts:
  acd/greeting:
    ru: Здравствуйте!
    kk: {text: Сәлеметсіз бе!, tts: Сәлеметсіз бе}
"""


def test_a_catalogue_of_ones_own(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD, encoding="utf-8")
    mine = load_catalogue(path)
    assert mine.languages == ("ru", "kk") and mine.voices == {"ru": "ru", "kk": "kk"}
    text = mine.text("acd/greeting", "kk")
    assert (text.text, text.spoken, text.voice) == ("Сәлеметсіз бе!", "Сәлеметсіз бе", "kk")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("version: 1", "version: 2"), "version: expected 1"),
        (("languages: [ru, kk]", "languages: [ru, de]"), "languages: expected a list"),
        (("acd/greeting:", "acd/../etc/passwd:"), "prompts.acd/../etc/passwd: a prompt name"),
        (("acd/greeting:", "acd/greeting.wav:"), "without an extension"),
        (("    ru: Здравствуйте!", "    en: Hello"), "prompts.acd/greeting.en: not one of"),
        (("    ru: Здравствуйте!", "    ru: ''"), "the text is missing or empty"),
        (("tts: Сәлеметсіз бе}", "voice: de}"), "'voice' must be one of"),
        (("tts: Сәлеметсіз бе}", "speed: 3}"), "unknown keys ['speed']"),
        (("prompts:", "voices: {ru: 'r u'}\nprompts:"), "voices.ru: not a voice name"),
        (("prompts:", "sounds: x\nprompts:"), "top level: unknown keys ['sounds']"),
        (("acd/greeting:\n", "acd/greeting:\n  acd/x: [\n"), "not valid YAML"),
    ],
)
def test_a_broken_catalogue_says_where_and_why(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "broken.yaml"
    assert change[0] in GOOD
    path.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_an_unreadable_catalogue(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- a\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="expected a mapping"):
        load_catalogue(tmp_path / "list.yaml")


def test_the_table_in_the_docs_is_the_catalogue(catalogue: Catalogue) -> None:
    """docs/prompts.md shows the daemon's prompts with their texts: it must not drift."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "prompts.md"
    rows = re.findall(
        r"^\| `(acd/[a-z0-9/-]+)` \| (.*) \| (.*) \| (.*) \|$", docs.read_text("utf-8"), re.M
    )
    shown = {name: dict(zip(("ru", "kk", "en"), texts, strict=True)) for name, *texts in rows}
    expected = {
        entry.name: {
            lang: entry.texts[lang].text if lang in entry.texts else "—"
            for lang in ("ru", "kk", "en")
        }
        for entry in catalogue
        if entry.name.startswith("acd/") and not entry.name.startswith("acd/digits/")
    }
    assert shown == expected
