"""A YAML reader that keeps line numbers and never guesses types.

PyYAML's safe loader follows YAML 1.1, where ``yes``, ``no``, ``on`` and ``off`` become
booleans and ``010`` an octal number. For flows that is a trap: a menu key written ``1`` and
one written ``01`` would silently collide. So every scalar is kept as the text the admin wrote
(nulls become ``None``); the typed models convert what they need, and the tag YAML 1.1 would
have given a plain key is remembered so the validator can warn about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ivr.flows.problems import Problem

_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"


class LocatedMap(dict[str, Any]):
    """A mapping from a YAML file that remembers where it and each of its keys stand."""

    line: int
    key_lines: dict[str, int]
    # The type YAML 1.1 would give each *plain* (unquoted) key, e.g. "bool" for ``yes``.
    key_implicit_types: dict[str, str]


class LocatedList(list[Any]):
    """A sequence from a YAML file with the line of the sequence and of each item."""

    line: int
    item_lines: list[int]


@dataclass
class YamlDocument:
    """A parsed file: its data (or None when unreadable) and the problems met on the way."""

    path: str
    data: Any
    problems: list[Problem] = field(default_factory=list)


def _implicit_type(node: yaml.ScalarNode) -> str | None:
    if node.style is not None or node.tag in (_STR_TAG, _NULL_TAG):
        return None
    return node.tag.rsplit(":", 1)[-1]


def _convert(node: yaml.Node, path: str, problems: list[Problem]) -> Any:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _NULL_TAG and node.style is None:
            return None
        return str(node.value)
    if isinstance(node, yaml.SequenceNode):
        seq = LocatedList(_convert(item, path, problems) for item in node.value)
        seq.line = node.start_mark.line + 1
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    if isinstance(node, yaml.MappingNode):
        mapping = LocatedMap()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        mapping.key_implicit_types = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(path, line, "a key must be plain text, not a list or map"))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(path, line, "YAML merge keys (<<) are not supported"))
                continue
            key = str(key_node.value)
            if key in mapping:
                problems.append(
                    Problem(
                        path,
                        line,
                        f"duplicate key '{key}' (first defined on line {mapping.key_lines[key]})",
                    )
                )
                continue
            mapping[key] = _convert(value_node, path, problems)
            mapping.key_lines[key] = line
            implicit = _implicit_type(key_node)
            if implicit is not None:
                mapping.key_implicit_types[key] = implicit
        return mapping
    raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover - PyYAML has 3 kinds


def parse_yaml(text: str, path: str) -> YamlDocument:
    """Parse one YAML document; syntax errors become problems with their line."""
    problems: list[Problem] = []
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or "the file is not valid YAML"
        context = exc.context_mark
        if exc.context and context is not None and context.line + 1 != line:
            # The mistake is often where the context began (an unclosed bracket or quote),
            # lines before the place YAML noticed it: name both lines.
            if exc.context.startswith("while "):
                reason = f"{reason} ({exc.context} started on line {context.line + 1})"
            else:
                reason = f"{exc.context} (line {context.line + 1}), {reason}"
        return YamlDocument(path, None, [Problem(path, line, f"YAML syntax error: {reason}")])
    except yaml.YAMLError as exc:
        return YamlDocument(path, None, [Problem(path, 1, f"YAML syntax error: {exc}")])
    if root is None:
        return YamlDocument(path, None, [Problem(path, 1, "the file is empty")])
    data = _convert(root, path, problems)
    return YamlDocument(path, data, problems)


def line_of(tree: Any, loc: tuple[str | int, ...]) -> int:
    """The line of the deepest element of ``tree`` reachable along ``loc`` (a pydantic loc)."""
    line = getattr(tree, "line", 1)
    node = tree
    for part in loc:
        if isinstance(node, LocatedMap) and isinstance(part, str) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LocatedList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
