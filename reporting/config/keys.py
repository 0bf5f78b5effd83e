"""The keys each model accepts, derived from the models so the two never drift apart: an
unknown key is reported with its line and a "did you mean" before pydantic sees it."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel

from reporting.config.schema import Config
from reporting.config.values import Loc, key_path, suggest
from reporting.errors import ConfigError


# What `accepted_keys` maps a key to: a nested schema (dict), _Items for a list, or None
# for a leaf value.
@dataclass(frozen=True)
class _Items:
    item: Any


_INTERNAL = frozenset({"source", "config_hash", "output_mode"})
# Fields whose YAML form is a small mapping or a string rather than a model.
_OVERRIDES: dict[tuple[str, str], Any] = {
    ("Config", "period"): {"from": None, "to": None},
    ("Config", "output_dir"): {"dir": None, "mode": None},
    ("Rules", "min_attendance"): None,
}
_schema_cache: dict[str, Any] = {}


def accepted_keys() -> dict[str, Any]:
    if "root" not in _schema_cache:
        _schema_cache["root"] = _model_schema(Config)
    schema: dict[str, Any] = _schema_cache["root"]
    return schema


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in _INTERNAL:
            continue
        key = info.alias or name
        override = (model.__name__, name)
        out[key] = _OVERRIDES[override] if override in _OVERRIDES else _type_schema(info.annotation)
    return out


def _type_schema(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _type_schema(arg)
            if found is not None:
                return found
        return None
    if origin is tuple:
        args = typing.get_args(annotation)
        return _Items(_type_schema(args[0])) if args else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_schema(annotation)
    return None


def check_keys(
    node: yaml.Node, schema: Any, path: Loc, lines: dict[Loc, int], display: str
) -> None:
    if isinstance(schema, dict) and isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            here = (*path, key)
            if key not in schema:
                guess = suggest(key, schema)
                hint = (
                    f"did you mean {guess!r}?"
                    if guess
                    else "allowed here: " + ", ".join(sorted(schema))
                )
                raise ConfigError(
                    f"{display}:{key_node.start_mark.line + 1}: {key_path(here)}: unknown key",
                    hint=hint,
                )
            check_keys(value_node, schema[key], here, lines, display)
    elif isinstance(schema, _Items) and isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            check_keys(item, schema.item, (*path, index), lines, display)
