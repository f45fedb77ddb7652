"""YAML that remembers where each key was written, so problems can name the line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml



class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML that leaves dates as text: dates.parse_date reads them and names the bad ones."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()}


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML document and the 1-based line of every mapping key, by key path."""

    data: Any
    lines: dict[tuple, int]
    source: str = ""

    def line(self, *keys: Any, default: int = 0) -> int:
        """Return the line where the key path was written (or of its closest parent)."""
        while keys:
            if keys in self.lines:
                return self.lines[keys]
            keys = keys[:-1]
        return default


class YamlSyntaxError(Exception):
    """Raised with the 1-based line and a short message of a YAML syntax error."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def parse_yaml(text: str, first_line: int = 1) -> YamlDoc:
    """Return the document in `text`, whose first line is line `first_line` of its file."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        last = first_line + max(text.count("\n") - (1 if text.endswith("\n") else 0), 0)
        line = min((mark.line if mark else 0) + first_line, last)  # not past the closing fence
        message = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        raise YamlSyntaxError(line, message) from None
    except (yaml.YAMLError, ValueError) as exc:  # a constructor error without a mark
        raise YamlSyntaxError(first_line, str(exc)) from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}
    if node is not None:
        _collect_lines(node, (), first_line, lines)
    return YamlDoc(data, lines, text)


def _collect_lines(node: yaml.Node, prefix: tuple, first_line: int, out: dict) -> None:
    """Record the line of every mapping key and sequence item below `node`."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            path = prefix + (key,)
            out[path] = key_node.start_mark.line + first_line
            _collect_lines(value_node, path, first_line, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = prefix + (index,)
            out[path] = item.start_mark.line + first_line
            _collect_lines(item, path, first_line, out)
