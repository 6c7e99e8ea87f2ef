"""Hints for the agent's screen, by call topic: a small knowledge base in YAML.

The file (``acd/http/hints.yaml`` unless :attr:`HttpDeps.hints_file` names another) maps a
topic to a title and a few lines the agent may need while talking::

    default: [lines shown for a call without a known topic]
    topics:
      registration:
        title: Registration of an organisation
        aliases: [регистрация]
        hints: [first line, second line]

Topics match case-insensitively, by name or alias. A file that cannot be read leaves the
hints empty (logged), it never stops the API.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

__all__ = ["DEFAULT_HINTS_FILE", "Hints", "TopicHints"]

log = logging.getLogger(__name__)

DEFAULT_HINTS_FILE = Path(__file__).with_name("hints.yaml")


@dataclass(frozen=True, slots=True)
class TopicHints:
    topic: str | None
    title: str
    hints: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "title": self.title, "hints": list(self.hints)}


def _lines(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(item) for item in value if isinstance(item, str | int | float))
    return ()


@dataclass
class Hints:
    by_topic: dict[str, TopicHints] = field(default_factory=dict)
    default: TopicHints = field(default_factory=lambda: TopicHints(None, "", ()))

    @classmethod
    def load(cls, path: Path | None = None) -> Hints:
        path = path or DEFAULT_HINTS_FILE
        try:
            data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        except (OSError, YAMLError, UnicodeDecodeError) as exc:
            log.error("cannot read the topic hints %s: %s", path, exc)
            return cls()
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Any) -> Hints:
        hints = cls()
        if not isinstance(data, dict):
            return hints
        hints.default = TopicHints(None, "", _lines(data.get("default")))
        topics = data.get("topics")
        if not isinstance(topics, dict):
            return hints
        for name, entry in topics.items():
            if not isinstance(entry, dict):
                continue
            item = TopicHints(
                str(name), str(entry.get("title") or name), _lines(entry.get("hints"))
            )
            for key in [name, *_lines(entry.get("aliases"))]:
                hints.by_topic[str(key).strip().casefold()] = item
        return hints

    def for_topic(self, topic: str | None) -> TopicHints:
        if topic:
            found = self.by_topic.get(topic.strip().casefold())
            if found is not None:
                return found
        return self.default
