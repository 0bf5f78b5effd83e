"""The YAML layer of loading: PyYAML composes the node tree within bounds (size, depth,
aliases), and records the line of every key and item under its key path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from reporting.config.values import Loc, key_path
from reporting.errors import ConfigError


@dataclass(frozen=True)
class ParsedYaml:
    value: dict[str, Any]
    node: yaml.Node


# Keys whose values are text even when YAML reads them as numbers or booleans: a meeting
# id `0123` must not become 83, nor a title `yes` become True.
_TEXT_KEYS: dict[str, frozenset[str]] = {
    "meetings": frozenset({"id", "title", "course"}),
    "reports": frozenset({"name", "audience"}),
}


# Bounds on what a config may make the YAML reader do (a config is a page of settings):
# its size, how deeply it nests, and how many values it stands for once every alias is
# expanded (a "billion laughs" file is a few hundred bytes and hangs any reader that
# walks it).
MAX_CONFIG_BYTES = 1 << 20
MAX_CONFIG_DEPTH = 40
MAX_CONFIG_VALUES = 100_000
# Characters YAML does not allow in a file (C0 but tab and line ends, DEL, C1 but NEL).
_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x84\x86-\x9f\ufffe\uffff]")


def check_characters(text: str, display: str) -> None:
    found = _RAW_CONTROL.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise ConfigError(
            f"{display}:{line}: a control character (U+{ord(found.group()):04X}) is in the file",
            hint="remove it; YAML allows only printable text, tabs and line breaks",
        )


def _check_expansion(root: yaml.Node, display: str) -> None:
    """Refuse recursive aliases and configs that expand to too many values (iteratively:
    a walk by recursion is what a recursive alias turned into a traceback)."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            entered.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > MAX_CONFIG_VALUES:
                raise ConfigError(
                    f"{display}:{node.start_mark.line + 1}: the config stands for more than "
                    f"{MAX_CONFIG_VALUES} values once its aliases are expanded",
                    hint="write the settings out; a config needs no alias chains",
                )
            continue
        if key in sizes:
            continue
        entered.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in entered:
                raise ConfigError(
                    f"{display}:{child.start_mark.line + 1}: a recursive alias (a value that "
                    "contains itself)",
                    hint="an alias (*name) may only repeat a value defined before it, not one "
                    "it is part of",
                )
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class _Loader(yaml.SafeLoader):
    """SafeLoader whose value errors (e.g. the date 2026-13-01) carry the node's line, and
    which refuses nesting deeper than `MAX_CONFIG_DEPTH` while it reads."""

    def __init__(self, stream: str, display: str = "config") -> None:
        super().__init__(stream)
        self._depth = 0
        self._display = display

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_CONFIG_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ConfigError(
                    f"{self._display}:{mark.line + 1}: values nested more than "
                    f"{MAX_CONFIG_DEPTH} deep",
                    hint="a config is a few levels of keys and lists",
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r}: {exc}", node.start_mark
            ) from exc


def parse_yaml(text: str, display: str) -> tuple[ParsedYaml, dict[Loc, int]]:
    loader = _Loader(text, display)
    lines: dict[Loc, int] = {(): 1}
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node, display)
            # Lines first: a value error while constructing can then name its key.
            _node_lines(node, (), lines, display)
        value = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        last_line = len(text.splitlines()) or 1
        if exc.context_mark is not None and (mark is None or mark.line + 1 > last_line):
            # "got <stream end>" points past the file; where the construct began helps more.
            mark = exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if exc.context and exc.problem:
            problem = f"{exc.context.strip()}: {problem}"
        if isinstance(exc, yaml.constructor.ConstructorError):
            at = [loc for loc, where in lines.items() if where == line and loc]
            key = f" {key_path(max(at, key=len))}:" if at else ""
            raise ConfigError(
                f"{display}:{line}:{key} {problem}",
                hint="dates are YYYY-MM-DD; quote text that YAML misreads",
            ) from None
        raise ConfigError(
            f"{display}:{line}: YAML syntax error: {problem}",
            hint="check indentation, colons and quotes on this line or the one before",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{display}:1: YAML error: {exc}") from None
    finally:
        loader.dispose()
    if node is None or value is None:
        raise ConfigError(
            f"{display}:1: the config is empty", hint="start from configs/example-monthly.yaml"
        )
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError(
            f"{display}:{node.start_mark.line + 1}: the config must be a mapping of keys "
            "(timezone:, meetings:, ...)",
            hint="start from configs/example-monthly.yaml",
        )
    _repair_text(node, (), value)
    return ParsedYaml(value, node), lines


def _node_lines(node: yaml.Node, path: Loc, lines: dict[Loc, int], display: str) -> None:
    """Record the line of every mapping key and sequence item below ``node``."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    f"{display}:{key_node.start_mark.line + 1}: {key_path(path)}: "
                    "a key must be a plain word"
                )
            here = (*path, key_node.value)
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                raise ConfigError(
                    f"{display}:{line}: {key_path(here)}: duplicate key",
                    hint="YAML keeps only the last one; remove one of them",
                )
            seen.add(key_node.value)
            lines[here] = line
            _node_lines(value_node, here, lines, display)
    elif isinstance(node, yaml.SequenceNode):
        for index, item_node in enumerate(node.value):
            lines[(*path, index)] = item_node.start_mark.line + 1
            _node_lines(item_node, (*path, index), lines, display)


def _repair_text(node: yaml.Node, path: Loc, value: Any) -> None:
    """Put back the written text of keys that are text even when YAML read a number."""
    if isinstance(node, yaml.MappingNode) and isinstance(value, dict):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            constructed = _lookup(value, key)
            if (
                isinstance(value_node, yaml.ScalarNode)
                and len(path) == 2
                and isinstance(path[0], str)
                and key in _TEXT_KEYS.get(path[0], ())
                and isinstance(constructed, (int, float, bool))
                and value_node.style is None
            ):
                value[_constructed_key(value, key)] = value_node.value
            else:
                _repair_text(value_node, (*path, key), constructed)
    elif isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        for index, (item_node, item) in enumerate(zip(node.value, value, strict=False)):
            _repair_text(item_node, (*path, index), item)


def _constructed_key(mapping: dict[Any, Any], text: str) -> Any:
    # YAML 1.1 reads keys such as `on` / `yes` as booleans and `1` as an int; map the
    # key's text back to the key the constructor produced.
    if text in mapping:
        return text
    for key in mapping:
        if isinstance(key, bool):
            if text.lower() in _BOOL_WORDS and key == (text.lower() in _TRUE_WORDS):
                return key
        elif str(key) == text:
            return key
    return text


_TRUE_WORDS = frozenset({"yes", "on", "true"})
_BOOL_WORDS = _TRUE_WORDS | {"no", "off", "false"}


def _lookup(mapping: dict[Any, Any], text: str) -> Any:
    return mapping.get(_constructed_key(mapping, text))
