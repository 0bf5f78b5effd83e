"""The typed structs of the decode boundary follow the vendored OpenAPI schema exactly,
and the decode step reads clean pages as they are and bad fields as missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args, get_type_hints

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.webex import schema
from reporting.webex.schema import (
    MAX_DEPTH,
    BadPage,
    BreakoutSessionAttended,
    Device,
    OutOfRange,
    Participant,
    decode_participant_page,
    participant_page_problem,
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


# The fetch judges participant pages with `participant_page_problem`, without building the
# records; the engine later decodes the same bodies fully. The two must never disagree.

_CLEAN = json.dumps(
    {
        "items": [
            {
                "id": f"p{n}",
                "email": f"ä{n}@example.com",
                "displayName": "Zoë [guest] {n}",
                "devices": [{"joinedTime": "2026-01-01T08:00:00.000Z", "durationSecond": 3300}],
                "extra": {"nested": [1, 2.5, None, True]},
            }
            for n in range(3)
        ],
        "note": "x",
    },
    ensure_ascii=False,
).encode()

# Fragments a hostile server could put anywhere: bad UTF-8, surrogates (raw and escaped),
# numbers no float holds, deep nesting, control bytes, a BOM, broken syntax.
_FRAGMENTS = [
    b"\xff",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xef\xbf\xbf",
    b'"\\ud800"',
    b'"\\udc00x"',
    b"1e999",
    b"-1e999",
    b"1" * 320 + b".5",
    b"9" * 40,
    b"7" * 4301,
    b"[" * 995 + b"]" * 995,
    b"[" * 400 + b"]" * 400,
    b"\x00",
    b"\n",
    b"\xef\xbb\xbf",
    b"NaN",
    b",",
    b"}",
    b'{"a":',
]


def _full_verdict(body: bytes) -> str | None:
    try:
        decode_participant_page(body)
    except BadPage as exc:
        return exc.problem
    return None


@settings(max_examples=400, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(_CLEAN)),
            st.integers(min_value=0, max_value=3),
            st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=4)),
        ),
        max_size=3,
    )
)
def test_judging_a_page_gives_the_full_decodes_verdict(
    edits: list[tuple[int, int, bytes]],
) -> None:
    body = _CLEAN
    for at, cut, fragment in edits:
        body = body[:at] + fragment + body[at + cut :]
    assert participant_page_problem(body) == _full_verdict(body)


@pytest.mark.parametrize(
    "value",
    [b'"\xff"', b'"\\ud800"', b"1e999", b"[" * 995 + b"]" * 995, b'"ok \xc3\xa4"'],
)
def test_judging_a_page_with_a_hostile_value_in_a_record(value: bytes) -> None:
    body = b'{"items": [{"email": "a@x.io", "extra": ' + value + b"}]}"
    assert participant_page_problem(body) == _full_verdict(body)


def test_a_number_no_float_holds_flags_its_field_and_keeps_the_record() -> None:
    body = b'{"items": [{"email": "a@x.io", "devices": [{"durationSecond": 1e999}], "x": 2e999}]}'
    page = decode_participant_page(body)
    assert participant_page_problem(body) is None
    assert page.items[0]["email"] == "a@x.io"
    assert page.items[0]["devices"] == [{}]
    assert page.items[0]["x"] == OutOfRange("2e999")  # a field the schema leaves untyped keeps it
    (bad,) = page.bad
    assert bad.fields == ("devices[0].durationSecond",)
    assert bad.detail == "devices[0].durationSecond: a number out of range"


def _nested(depth: int, text: bytes = b"") -> bytes:
    """A page whose record nests ``depth`` levels in all (the page's own three included)."""
    inner = depth - 3
    return b'{"items": [{"note": "' + text + b'", "extra": ' + b"[" * inner + b"]" * inner + b"}]}"


def test_a_page_nested_deeper_than_the_limit_is_refused_whatever_the_stack() -> None:
    # msgspec's own limit is the recursion limit less the caller's stack (the skipping
    # and the full decode stop a level apart): the page's limit is a fixed depth instead.
    for depth in [MAX_DEPTH - 1, MAX_DEPTH, *range(MAX_DEPTH + 1, 1000, 7)]:
        body = _nested(depth)
        want = None if depth <= MAX_DEPTH else "body is not valid JSON (nested too deeply to read)"
        assert _full_verdict(body) == want, depth
        assert participant_page_problem(body) == want, depth


@pytest.mark.parametrize(
    "text",
    [b"[[[[" * 200, b'\\" ' + b"{" * 600, b"a\\\\", b'\\\\\\" [[[[[[' * 100],
)
def test_brackets_in_strings_do_not_count_as_nesting(text: bytes) -> None:
    body = _nested(MAX_DEPTH, text)
    assert _full_verdict(body) is None
    assert participant_page_problem(body) is None
    assert participant_page_problem(_nested(MAX_DEPTH + 1, text)) is not None


@pytest.mark.parametrize(
    "record",
    [
        b'{"email": 1e999}',
        b'{"email": "a@x.io", "displayName": -1e999}',
        b'{"email": "a@x.io", "joinedTime": 1e999}',
        b'{"displayName": "A", "devices": [{"callType": "callIn", "phoneNumber": 1e999}]}',
    ],
)
def test_a_number_no_float_holds_in_a_text_field_is_a_bad_record(record: bytes) -> None:
    # Read as its text it would pass for one (an email, a name, a phone number "1e999").
    page = decode_participant_page(b'{"items": [' + record + b"]}")
    (bad,) = page.bad
    assert bad.detail.endswith(": a number out of range")
    assert all(not isinstance(v, str) or "999" not in v for v in page.items[0].values())


@pytest.mark.parametrize("digits", [4299, 4300, 4301, 6000])
@pytest.mark.parametrize("where", [b'"extra": %s', b'"devices": [{"durationSecond": %s}]'])
@pytest.mark.parametrize("sign", [b"", b"-"])
def test_judging_a_page_with_an_integer_of_thousands_of_digits(
    digits: int, where: bytes, sign: bytes
) -> None:
    # msgspec refuses an integer of more than 4300 characters, in a field it skips or not.
    body = b'{"items": [{"email": "a@x.io", ' + where % (sign + b"7" * digits) + b"}]}"
    assert participant_page_problem(body) == _full_verdict(body)


def test_a_page_opening_more_lists_than_the_limit_is_judged_without_the_full_decode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 100 records with two devices and a breakout each open some 600 lists and objects,
    # 5 deep: the skipping decode judges them (the full decode costs several times more).
    device = {"joinedTime": "2026-01-01T08:00:00Z", "durationSecond": 60}
    record = {"email": "a@x.io", "devices": [device, device], "breakoutSessionsAttended": [{}]}
    body = json.dumps({"items": [record] * 100}).encode()

    def full(*_: object) -> None:
        raise AssertionError("decoded fully")

    monkeypatch.setattr(schema, "_items", full)
    assert participant_page_problem(body) is None
    escaped = body.replace(b'"a@x.io"', b'"a\\\\ \\" [[[["')  # a\ " [[[[
    assert participant_page_problem(escaped) is None
