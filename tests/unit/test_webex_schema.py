"""The typed structs of the decode boundary follow the vendored OpenAPI schema exactly,
and the decode step reads clean pages as they are and bad fields as missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args, get_type_hints

import msgspec
import pytest

from reporting.webex.schema import (
    BadPage,
    BreakoutSessionAttended,
    Device,
    Participant,
    decode_participant_page,
)

SPEC = Path(__file__).parents[1] / "webex_api" / "meetings-openapi-subset.json"
OPENAPI_TYPES = {"string": str, "boolean": bool, "number": float, "integer": int, "array": list}


def _schema(name: str) -> dict[str, Any]:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    return dict(spec["components"]["schemas"][name]["properties"])


def _wire_types(struct: type[msgspec.Struct]) -> dict[str, type]:
    """{wire name: the non-null type} of a struct's fields."""
    info = msgspec.structs.fields(struct)
    hints = get_type_hints(struct)
    out: dict[str, type] = {}
    for field in info:
        (kind,) = [t for t in get_args(hints[field.name]) if t is not type(None)]
        origin = getattr(kind, "__origin__", kind)
        out[field.encode_name] = origin
    return out


@pytest.mark.parametrize(
    ("struct", "schema"),
    [
        (Participant, "Participant"),
        (Device, "Device"),
        (BreakoutSessionAttended, "BreakoutSessionAttended"),
    ],
)
def test_struct_fields_and_types_are_the_schemas(struct: type[msgspec.Struct], schema: str) -> None:
    properties = _schema(schema)
    wire = _wire_types(struct)
    assert set(wire) == set(properties)
    for name, prop in properties.items():
        assert wire[name] is OPENAPI_TYPES[prop["type"]], name


def test_a_clean_page_is_read_as_it_is() -> None:
    items = [{"email": "a@x.io", "devices": [{"joinedTime": "2026-01-01T00:00:00Z"}], "x": 1}]
    page = decode_participant_page(json.dumps({"items": items}).encode())
    assert page.items == items
    assert page.bad == ()


def test_wrong_types_are_read_as_missing_and_named() -> None:
    items = [
        {"email": "ok@x.io"},
        {
            "email": 42,
            "joinedTime": 1789027200000,
            "devices": [{"durationSecond": "60", "leftTime": "2026-01-01T00:01:00Z"}, "laptop"],
            "host": "yes",
        },
        {"devices": {"c1": {}}, "displayName": "Dana"},
    ]
    page = decode_participant_page(json.dumps({"items": items}).encode())
    assert page.items[0] == {"email": "ok@x.io"}
    assert page.items[1] == {"devices": [{"leftTime": "2026-01-01T00:01:00Z"}, {}]}
    assert page.items[2] == {"displayName": "Dana"}
    assert [(b.index, b.fields) for b in page.bad] == [
        (1, ("email", "joinedTime", "devices[0].durationSecond", "devices[1]", "host")),
        (2, ("devices",)),
    ]
    assert page.bad[1].detail == "devices: expected a list, got an object"


def test_null_fields_are_missing_not_bad() -> None:
    page = decode_participant_page(b'{"items": [{"email": null, "joinedTime": null}]}')
    assert page.bad == ()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "body is not valid JSON (Input data was truncated)"),
        (b"[]", "body is not a JSON object"),
        (b'{"items": 1}', "'items' is a number, not a list"),
        (b'{"items": [true]}', "'items' holds true or false where a record belongs"),
        (b'{"items": [{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}]}", "nested too deeply"),
    ],
)
def test_unusable_bodies_say_why(body: bytes, problem: str) -> None:
    with pytest.raises(BadPage) as caught:
        decode_participant_page(body)
    assert problem in caught.value.problem
