"""Values YAML parses but cannot construct (``2026-02-30``, ``!!int x``, a 5,000-digit
number): found in the file and explained in plain words, for every YAML file we read."""

from __future__ import annotations

from collections.abc import Iterator

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


def walk_nodes(root: Node | None) -> Iterator[Node]:
    stack: list[Node] = [root] if root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                stack.extend((value_node, key_node))
        elif isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))


_TAG_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "timestamp": "a date",
}


def construction_problem(text: str | None, exc: Exception) -> tuple[str, int | None, int | None]:
    """Where the value YAML could not construct is (1-based line and column), and why."""
    if text is not None:
        yaml = YAML(typ="rt")
        try:
            root = yaml.compose(text)
        except Exception:
            root = None
        for node in walk_nodes(root):
            if not isinstance(node, ScalarNode):
                continue
            try:
                yaml.constructor.construct_object(node, deep=True)
            except Exception as error:
                return (
                    _construction_message(node, error),
                    int(node.start_mark.line) + 1,
                    int(node.start_mark.column) + 1,
                )
    return f"the YAML cannot be read: {first_line(exc)}", None, None


def _construction_message(node: ScalarNode, error: Exception) -> str:
    value = str(node.value)
    shown = value if len(value) <= 40 else value[:37] + "..."
    kind = str(node.tag).rsplit(":", 1)[-1]
    detail = first_line(error)
    if kind == "int" and "digits" in detail:
        return f"the number '{shown}' has too many digits ({len(value)})"
    if kind == "timestamp":
        return (
            f"'{shown}' looks like a date but is not one ({detail}); "
            "put it in quotes if it is meant as text"
        )
    what = _TAG_WORDS.get(kind, f"a '{kind}' value")
    return f"'{shown}' cannot be read as {what} ({detail})"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__
