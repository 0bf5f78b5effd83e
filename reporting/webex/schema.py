"""The wire contract of a participant page, as typed structs, and the one decode step.

The structs mirror the types of the OpenAPI subset's ``Participant``, ``Device`` and
``BreakoutSessionAttended`` schemas (tests/webex_openapi compares them field by field).
Every field may be absent or null: the API leaves out what it does not know, and the
rules read a missing or null time as unknown. Enumerations (``state``, ``audioType``,
``callType``, ``video``) are checked as text only, so a value Webex adds later is not a
bad record.

`decode_participant_page` is the boundary: a page body either decodes to a list of
records, each record whose fields have the documented types as received, or it is an
unusable page with the reason (`BadPage`). A record holding a field of the wrong type
(``joinedTime`` as a number, ``devices`` as an object, ``email`` as a number) is kept,
with that field read as missing, and listed in ``bad`` with the field's path, so the
engine flags its row ``BAD_RECORD`` and the reports name the field.

A number too large for a float (``1e400``) in a participant record is read as an
`OutOfRange` holding the text it was sent as: in a field the schema types (text fields
included), the record is flagged with that field read as missing ("a number out of
range"), like any other wrong type; elsewhere it is kept so. One such number used to
make the whole page unusable (its 100 records not counted), and a full decode was then
needed only to say so.

Speed: the fetch judges a participant page without building its records
(`participant_page_problem`: a decode that skips the records' fields, plus the UTF-8
and nesting checks that decode leaves out), since the engine decodes the kept body
straight into its columns; its verdict is the full decode's by construction. The full
decode to plain objects is for the pages the engine reads as dicts; the check converts
those objects to the structs (they hold no cycles, so the collector does not track them,
``gc=False``), which reads no JSON again; only a page that fails it is looked at record
by record.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import msgspec

# Records are looked at one field at a time only on a page that failed the check; a record
# with more wrong fields than this is read with the first ones removed and the rest kept.
MAX_FIELDS_PER_RECORD = 64


class Device(msgspec.Struct, rename="camel", gc=False):
    correlation_id: str | None = None
    device_type: str | None = None
    audio_type: str | None = None
    joined_time: str | None = None
    left_time: str | None = None
    duration_second: float | None = None
    call_type: str | None = None
    phone_number: str | None = None


class BreakoutSessionAttended(msgspec.Struct, rename="camel", gc=False):
    id: str | None = None
    name: str | None = None
    joined_time: str | None = None
    left_time: str | None = None


class Participant(msgspec.Struct, rename="camel", gc=False):
    id: str | None = None
    org_id: str | None = None
    host: bool | None = None
    co_host: bool | None = None
    space_moderator: bool | None = None
    email: str | None = None
    display_name: str | None = None
    invitee: bool | None = None
    muted: bool | None = None
    meeting_start_time: str | None = None
    video: str | None = None
    state: str | None = None
    breakout_session_id: str | None = None
    joined_time: str | None = None
    left_time: str | None = None
    site_url: str | None = None
    meeting_id: str | None = None
    host_email: str | None = None
    devices: list[Device] | None = None
    breakout_sessions_attended: list[BreakoutSessionAttended] | None = None
    source_id: str | None = None


class MeetingObject(msgspec.Struct, rename="camel", gc=False):
    """The fields of a Get Meeting / List Meetings object that planning reads (the OpenAPI
    schema's ``MeetingSeriesObject`` / ``MeetingObjectForListMeeting``); the rest of the
    object is kept in the store as received."""

    id: str
    meeting_series_id: str | None = None
    scheduled_meeting_id: str | None = None
    meeting_type: str | None = None
    state: str | None = None
    title: str | None = None
    start: str | None = None
    end: str | None = None
    host_email: str | None = None
    scheduled_type: str | None = None


class _Objects(msgspec.Struct):
    items: list[dict[str, Any]]


class OutOfRange:
    """A JSON number of a participant record too large for a float, kept as its text.

    Not a `str`: a text field (``email``, ``displayName``, a device's ``phoneNumber``)
    holding one is a wrong type like any other number, not the text "1e999"."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutOfRange) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"OutOfRange({self.text!r})"


def _number(text: str) -> float | OutOfRange:
    value = float(text)
    return value if math.isfinite(value) else OutOfRange(text)


class _Skipped(msgspec.Struct, gc=False):
    """A record whose fields are skipped: only its being an object is checked."""


class _Shape(msgspec.Struct, gc=False):
    items: list[_Skipped]


_OBJECTS = msgspec.json.Decoder(_Objects)
_PARTICIPANT_OBJECTS = msgspec.json.Decoder(_Objects, float_hook=_number)
_SHAPE = msgspec.json.Decoder(_Shape)
_ANY = msgspec.json.Decoder()
# How deep a list page may nest. msgspec's own limit is Python's recursion limit less the
# caller's stack, so near it the same body could be read by the fetch and refused by the
# engine; a fixed limit below it (and far above any real page, about 5 deep) gives one
# verdict. A body with no more brackets than this cannot be deeper: only a larger one (a
# page of 100 records holds a few hundred) is measured.
MAX_DEPTH = 512
# msgspec refuses an integer of more characters than 4300 (its sign included), even in a
# field the skipping decode skips: a body with a run of half as many digits (a longer
# run holds such a stretch where the body is cut in stretches of this length) is decoded
# fully.
_DIGIT_RUN = 2150
_TOO_DEEP = "body is not valid JSON (nested too deeply to read)"
_NOT_OPENING = bytes(b for b in range(256) if b not in b"[{")
_NOT_QUOTES_OR_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')
_AS_PARENTHESES = bytes.maketrans(b"[]{}", b"()()")


class BadPage(Exception):
    """A body that is not a page of records; ``problem`` says why, in plain words."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class BadRecord:
    """A record with fields of the wrong type, which were read as missing."""

    index: int  # position of the record in its page
    fields: tuple[str, ...]  # paths such as "joinedTime" or "devices[0].durationSecond"
    detail: str  # "joinedTime: expected text, got a number; ..."


@dataclass(frozen=True)
class DecodedPage:
    items: list[dict[str, Any]]
    bad: tuple[BadRecord, ...] = ()


BOM = b"\xef\xbb\xbf"


def without_bom(body: bytes) -> bytes:
    # RFC 8259 lets a reader ignore a UTF-8 byte-order mark; nothing is lost by doing so.
    return body[3:] if body.startswith(BOM) else body


def decode_json(body: bytes) -> Any:
    """Any JSON body, or `BadPage` (malformed, not UTF-8, nested too deeply)."""
    body = without_bom(body)
    try:
        return _ANY.decode(body)
    except msgspec.DecodeError as exc:
        raise BadPage(f"body is not valid JSON ({_plain(str(exc))})") from None
    except RecursionError:
        raise BadPage("body is not valid JSON (nested too deeply to read)") from None


def decode_items(body: bytes) -> list[dict[str, Any]]:
    """The ``items`` of a list page, each an object, or `BadPage` naming what is wrong."""
    return _items(body, _OBJECTS)


def _items(body: bytes, decoder: msgspec.json.Decoder[_Objects]) -> list[dict[str, Any]]:
    body = without_bom(body)
    try:
        items = decoder.decode(body).items
    except msgspec.ValidationError as exc:
        raise BadPage(_shape_problem(str(exc))) from None
    except msgspec.DecodeError as exc:
        raise BadPage(f"body is not valid JSON ({_plain(str(exc))})") from None
    except RecursionError:
        raise BadPage(_TOO_DEEP) from None
    # Read, so valid JSON: measured only when it could be deeper than the limit.
    if _brackets(body) > MAX_DEPTH and _valid_depth(body) > MAX_DEPTH:
        raise BadPage(_TOO_DEEP)
    return items


def decode_participant_page(body: bytes) -> DecodedPage:
    """A participant page: its records, and those whose fields have the wrong types."""
    items = _items(body, _PARTICIPANT_OBJECTS)
    return DecodedPage(items, check_participants(items))


def participant_page_problem(body: bytes) -> str | None:
    """Why `decode_participant_page` would refuse ``body`` (its `BadPage` problem), or
    None, without building the records.

    The skipping decode checks the JSON's syntax and the page's shape (an ``items`` list
    of objects) but neither the UTF-8 of the text it skips nor, near the recursion limit,
    the depth as the full decode does, nor the length of the integers it skips; a body
    that passes it, is valid UTF-8, has no more brackets than `MAX_DEPTH` and no long run
    of digits decodes fully. Any other body is decoded fully, so the verdict and its
    words are always the full decode's."""
    text = without_bom(body)
    try:
        _SHAPE.decode(text)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        pass  # refused: the full decode says why, in its words
    else:
        if (
            (text.isascii() or _utf8(text))
            and not _long_digit_run(text)
            # A page of 100 records with two devices each opens more than MAX_DEPTH.
            and (_brackets(text) <= MAX_DEPTH or _valid_depth(text) <= MAX_DEPTH)
        ):
            return None
    try:
        _items(body, _PARTICIPANT_OBJECTS)
    except BadPage as exc:
        return exc.problem
    return None


def _brackets(body: bytes) -> int:
    """How many lists and objects the body opens (strings included): one pass over it."""
    return len(body.translate(None, _NOT_OPENING))


def _unescaped(body: bytes) -> bytes:
    """The body without its escaped backslashes, then its escaped quotes (left to right,
    as a JSON reader pairs them): the quotes left delimit the strings."""
    if b"\\" not in body:  # most pages hold no escape
        return body
    return body.replace(b"\\\\", b"").replace(b'\\"', b"")


def _valid_depth(body: bytes) -> int:
    """How deep a body that is valid JSON nests (brackets inside strings not counted), or
    `MAX_DEPTH` + 1 when deeper.

    What matters of the text is its quotes and brackets: with the escapes taken out, the
    strings holding no bracket go (``""`` is an empty string, or two strings with no
    bracket between them); each pass then takes out the innermost lists and objects."""
    kept = _unescaped(body).translate(None, _NOT_QUOTES_OR_BRACKETS).replace(b'""', b"")
    layers = b"".join(kept.split(b'"')[::2]).translate(_AS_PARENTHESES)
    depth = 0
    while layers and depth <= MAX_DEPTH:
        layers = layers.replace(b"()", b"")
        depth += 1
    return depth


def _long_digit_run(body: bytes) -> bool:
    """Whether one of the body's stretches of `_DIGIT_RUN` bytes (from its start) is all
    digits: true of any body with a run of twice as many."""
    for start in range(0, len(body) - _DIGIT_RUN + 1, _DIGIT_RUN):
        if 48 <= body[start] <= 57 and body[start : start + _DIGIT_RUN].isdigit():
            return True
    return False


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def meeting_problem(meeting: dict[str, Any]) -> str | None:
    """What is wrong with a meeting object's types ("start: expected text, got a
    number"), or None. Planning cannot read around a wrong field the way the engine reads
    a record (the window, the series, the kind of meeting all come from here)."""
    try:
        msgspec.convert(meeting, MeetingObject)
    except msgspec.ValidationError as exc:
        if "missing required field `id`" in str(exc):
            return "no id"
        return _field_problem(str(exc))[1]
    return None


def check_participants(items: list[dict[str, Any]]) -> tuple[BadRecord, ...]:
    """The records of ``items`` (a decoded page's) that break the schema's types.

    Each bad record is replaced in ``items`` by a copy without its bad fields (a bad
    entry of a list becomes an empty object, so the list keeps its length)."""
    try:
        # The objects as decoded hold exactly the JSON's types, so converting them checks
        # what a typed decode of the body would (strict: no text read as a number).
        msgspec.convert(items, list[Participant])
        return ()
    except (msgspec.ValidationError, RecursionError):
        pass  # a type or value problem of a record: found record by record below
    bad: list[BadRecord] = []
    for index, item in enumerate(items):
        fixed, fields, details = _repair(item)
        if fields:
            items[index] = fixed
            bad.append(BadRecord(index, tuple(fields), "; ".join(details)))
    return tuple(bad)


def _repair(item: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    fields: list[str] = []
    details: list[str] = []
    current = item
    for _ in range(MAX_FIELDS_PER_RECORD):
        try:
            msgspec.convert(current, Participant)
            break
        except msgspec.ValidationError as exc:
            path, detail = _field_problem(str(exc))
            if not path or _path_text(path) in fields:
                break
            if isinstance(_value_at(current, path), OutOfRange):
                detail = f"{_path_text(path)}: a number out of range"
            fields.append(_path_text(path))
            details.append(detail)
            current = _without(current, path)
        except RecursionError:
            fields.append("(record)")
            details.append("nested too deeply to read")
            return {}, fields, details
    return current, fields, details


_EXPECTED = re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)` - at `\$(?P<path>[^`]*)`")
_AT = re.compile(r"^(?P<why>.*?) - at `\$(?P<path>[^`]*)`$")
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_WORDS = {
    "str": "text",
    "int": "a number",
    "float": "a number",
    "bool": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def _words(types: str) -> str:
    names = [t.strip() for t in types.split("|") if t.strip() != "null"]
    return " or ".join(dict.fromkeys(_WORDS.get(name, name) for name in names)) or "null"


def _field_problem(message: str) -> tuple[list[str | int], str]:
    """(path steps, "path: expected X, got Y") of a msgspec validation message."""
    match = _EXPECTED.search(message)
    if match is not None:
        path = _steps(match["path"])
        got = _WORDS.get(match["got"], match["got"])
        return path, f"{_path_text(path)}: expected {_words(match['want'])}, got {got}"
    match = _AT.search(message)
    if match is not None:
        path = _steps(match["path"])
        return path, f"{_path_text(path)}: {_plain(match['why']).lower()}"
    return [], _plain(message)


def _steps(path: str) -> list[str | int]:
    return [
        name if name else int(number)
        for name, number in ((m[1], m[2]) for m in _STEP.finditer(path))
    ]


def _path_text(path: list[str | int]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "(record)"


def _value_at(value: Any, path: list[str | int]) -> Any:
    for step in path:
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def _without(value: Any, path: list[str | int]) -> Any:
    """A copy of ``value`` with the value at ``path`` read as missing (copies only along the
    path; an entry of a list becomes an empty object so the list keeps its length)."""
    if not path:
        return {}
    step, rest = path[0], path[1:]
    if isinstance(value, dict) and isinstance(step, str):
        copy = dict(value)
        if rest and step in copy:
            copy[step] = _without(copy[step], rest)
        else:
            copy.pop(step, None)
        return copy
    if isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
        items = list(value)
        items[step] = _without(items[step], rest) if rest else {}
        return items
    return value


def _shape_problem(message: str) -> str:
    if "missing required field `items`" in message:
        return "body has no 'items' list"
    if message.startswith("Expected `object`, got") and " - at " not in message:
        return "body is not a JSON object"
    match = _EXPECTED.search(message)
    if match is not None:
        where = match["path"]
        if where == "":
            return "body is not a JSON object"
        if where == ".items":
            return f"'items' is {_WORDS.get(match['got'], match['got'])}, not a list"
        if re.fullmatch(r"\.items\[\d+\]", where):
            return f"'items' holds {_WORDS.get(match['got'], match['got'])} where a record belongs"
    return f"body is not a page of records ({_plain(message)})"


def _plain(text: str) -> str:
    """msgspec's message without its code quotes, shortened."""
    return text.replace("`", "'")[:160]
