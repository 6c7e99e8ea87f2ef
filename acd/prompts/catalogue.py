"""The prompt catalogue (``catalogue.yaml``): every prompt name with its text per language.

:func:`load_catalogue` reads the file shipped with the package (or another one) and checks
it; :class:`Catalogue` answers which prompts exist in which language, what they say, and
renders a list of prompts as the text a caller hears.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from acd.core.announce import Prompt

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Entry",
    "Text",
    "default_catalogue",
    "load_catalogue",
]

CATALOGUE_FILE = "catalogue.yaml"
LANGUAGES = ("ru", "kk", "en")
# A name relative to Asterisk's sounds directory, without an extension: "acd/greeting",
# "acd/digits/gen-1f", "hotline/welcome". No "..", no leading "/", no dots at all.
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(?:/[a-z0-9][a-z0-9_-]*)*$")
_VOICE = re.compile(r"^[A-Za-z0-9_+-]+$")


class CatalogueError(ValueError):
    """The catalogue file is unusable; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Text:
    """What one prompt says in one language's directory."""

    text: str
    voice: str  # the language it is spoken in (usually the directory's own)
    tts: str = ""  # what the synthesiser reads instead of ``text``, if it needs help

    @property
    def spoken(self) -> str:
        """The text given to the speech synthesiser."""
        return self.tts or self.text


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    texts: dict[str, Text]  # language -> text, in catalogue order

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)


@dataclass(frozen=True)
class Catalogue:
    languages: tuple[str, ...]
    voices: dict[str, str]  # language -> espeak-ng voice
    entries: dict[str, Entry]
    source: str = field(default="", compare=False)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def has(self, name: str, language: str) -> bool:
        """Whether prompt ``name`` (e.g. ``acd/greeting``) exists in ``language``."""
        entry = self.entries.get(name)
        return entry is not None and language in entry.texts

    def text(self, name: str, language: str) -> Text:
        """The text of ``name`` in ``language``; ``KeyError`` if the catalogue has none."""
        entry = self.entries.get(name)
        if entry is None or language not in entry.texts:
            raise KeyError(f"no prompt {name!r} in {language!r}")
        return entry.texts[language]

    def names(self, language: str | None = None) -> list[str]:
        """Every prompt name, or those that exist in ``language``."""
        return [e.name for e in self if language is None or language in e.texts]

    def render(self, prompts: Iterable[Prompt | str], language: str) -> str:
        """The words a caller hears: each prompt's text, numbers (``SAY NUMBER``) as digits;
        a trailing full stop is dropped from all but the last prompt. ``KeyError`` for a prompt
        the catalogue does not have in ``language``."""
        parts: list[str] = []
        for prompt in prompts:
            if isinstance(prompt, Prompt) and prompt.kind == "number":
                parts.append(prompt.value)
                continue
            name = prompt.value if isinstance(prompt, Prompt) else prompt
            parts.append(self.text(name, language).text)
        joined = [p.rstrip(".") if i < len(parts) - 1 else p for i, p in enumerate(parts)]
        return " ".join(joined)


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Read and check a catalogue file (default: the one shipped with the package)."""
    if path is None:
        resource = resources.files("acd.prompts").joinpath(CATALOGUE_FILE)
        source, text = f"acd/prompts/{CATALOGUE_FILE}", resource.read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogueError(f"{source}: cannot read: {exc}") from exc
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise CatalogueError(f"{source}: not valid YAML: {exc}") from exc
    return _parse(data, source)


@functools.cache
def default_catalogue() -> Catalogue:
    """The shipped catalogue, read once."""
    return load_catalogue()


def _parse(data: Any, source: str) -> Catalogue:
    def fail(where: str, message: str) -> CatalogueError:
        return CatalogueError(f"{source}: {where}: {message}")

    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: expected a mapping with 'languages' and 'prompts'")
    unknown = set(data) - {"version", "languages", "voices", "prompts"}
    if unknown:
        raise fail("top level", f"unknown keys {sorted(map(str, unknown))}")
    if data.get("version") != 1:
        raise fail("version", f"expected 1, got {data.get('version')!r}")

    languages = data.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or any(lang not in LANGUAGES for lang in languages)
        or len(set(languages)) != len(languages)
    ):
        raise fail("languages", f"expected a list of distinct languages of {', '.join(LANGUAGES)}")

    voices = data.get("voices") or {}
    if not isinstance(voices, dict):
        raise fail("voices", "expected a mapping language -> espeak-ng voice")
    for lang, voice in voices.items():
        if lang not in languages:
            raise fail(f"voices.{lang}", "not one of the catalogue's languages")
        if not isinstance(voice, str) or not _VOICE.match(voice):
            raise fail(f"voices.{lang}", f"not a voice name: {voice!r}")
    voices = {lang: voices.get(lang, lang) for lang in languages}

    prompts = data.get("prompts")
    if not isinstance(prompts, dict) or not prompts:
        raise fail("prompts", "expected a mapping of prompt names")
    entries: dict[str, Entry] = {}
    for name, per_language in prompts.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise fail(
                f"prompts.{name}",
                "a prompt name is lower-case letters, digits, '-', '_' and '/' "
                "(e.g. acd/greeting), without an extension",
            )
        if not isinstance(per_language, dict) or not per_language:
            raise fail(f"prompts.{name}", "expected a mapping language -> text")
        texts: dict[str, Text] = {}
        for lang, value in per_language.items():
            where = f"prompts.{name}.{lang}"
            if lang not in languages:
                raise fail(where, f"not one of the catalogue's languages {languages}")
            texts[lang] = _text(value, lang, languages, lambda m, w=where: fail(w, m))
        entries[name] = Entry(name, texts)
    return Catalogue(tuple(languages), voices, entries, source)


def _text(value: Any, language: str, languages: list[str], fail: Any) -> Text:
    if isinstance(value, str):
        value = {"text": value}
    if not isinstance(value, dict):
        raise fail("expected the text, or a mapping with 'text' (and 'tts', 'voice')")
    unknown = set(value) - {"text", "tts", "voice"}
    if unknown:
        raise fail(f"unknown keys {sorted(map(str, unknown))}")
    text, tts, voice = value.get("text"), value.get("tts", ""), value.get("voice", language)
    if not isinstance(text, str) or not text.strip():
        raise fail("the text is missing or empty")
    if not isinstance(tts, str):
        raise fail("'tts' must be text")
    if voice not in languages:
        raise fail(f"'voice' must be one of {languages}")
    return Text(" ".join(text.split()), voice, " ".join(tts.split()))
