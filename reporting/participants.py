"""An instance's participant records held as the page bodies the store keeps (issue 16).

The engine reads them straight into its columns (`reporting.attendance.records`): one
typed decode per page against the schema's structs, no dict per record. Anything else
that asks for a record (the data-quality lines, the tests' reference) gets the records as
dicts, decoded and checked by `decode_participant_page` exactly as the fetch did before,
on first ask.

A page that fails the typed check (a field of the wrong type) is read through those dicts
too, with its bad fields read as missing and the records listed in `record_problems`
(``BAD_RECORD``); the pages given here are only those the store holds as usable (an
unusable page is a page problem, reported by the fetch, and never reaches this class).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import msgspec

from reporting.model import RecordProblem
from reporting.webex.schema import Participant, decode_participant_page, without_bom


class _DeviceText(msgspec.Struct, rename="camel", gc=False):
    correlation_id: str | None = None
    device_type: str | None = None
    audio_type: str | None = None
    call_type: str | None = None
    phone_number: str | None = None


class _BreakoutText(msgspec.Struct, gc=False):
    id: str | None = None
    name: str | None = None


class _Entries(msgspec.Struct, rename="camel", gc=False):
    devices: list[_DeviceText] | None = None
    breakout_sessions_attended: list[_BreakoutText] | None = None


class _EntriesPage(msgspec.Struct, gc=False):
    items: list[_Entries]


class _Page(msgspec.Struct, gc=False):
    items: list[Participant]


_TYPED = msgspec.json.Decoder(_Page)
_ENTRIES = msgspec.json.Decoder(_EntriesPage)


class ParticipantPages(Sequence[dict[str, Any]]):
    """The usable participant pages of one instance, in list order."""

    __slots__ = ("_problems", "_records", "bodies")

    def __init__(self, bodies: Iterable[bytes]) -> None:
        self.bodies: tuple[bytes, ...] = tuple(bodies)
        self._records: list[dict[str, Any]] | None = None
        self._problems: tuple[RecordProblem, ...] | None = None

    def typed(self) -> list[Participant] | None:
        """Every record as the schema's struct, or None when a page fails the typed check
        (then `records` reads the instance, with the bad fields read as missing)."""
        out: list[Participant] = []
        try:
            for body in self.bodies:
                out.extend(_TYPED.decode(without_bom(body)).items)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            return None
        self._problems = ()
        return out

    def passed_typed_check(self) -> None:
        """The pages passed `typed` in another process (the engine's second reader): no
        record has a problem."""
        if self._problems is None:
            self._problems = ()

    def entries(self) -> list[_Entries]:
        """Every record's device and breakout entries with their text fields alone (what
        the devices and breakouts tables show); only for pages that passed `typed`."""
        out: list[_Entries] = []
        for body in self.bodies:
            out.extend(_ENTRIES.decode(without_bom(body)).items)
        return out

    def records(self) -> list[dict[str, Any]]:
        """The records as dicts: the fetch's reading, bad fields read as missing."""
        if self._records is None:
            records: list[dict[str, Any]] = []
            problems: list[RecordProblem] = []
            for body in self.bodies:
                page = decode_participant_page(body)
                offset = len(records)
                problems.extend(
                    RecordProblem(offset + b.index, b.fields, b.detail) for b in page.bad
                )
                records.extend(page.items)
            self._records = records
            self._problems = tuple(problems)
        return self._records

    @property
    def record_problems(self) -> tuple[RecordProblem, ...]:
        """The records with fields of the wrong type (``BAD_RECORD``), by position."""
        if self._problems is None:
            self.records()
        assert self._problems is not None
        return self._problems

    def __eq__(self, other: object) -> bool:
        """Equal records (as the fetch reads them), whatever pages they came on."""
        if isinstance(other, ParticipantPages):
            return self.bodies == other.bodies or self.records() == other.records()
        if isinstance(other, Sequence):
            return self.records() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by value, and not immutable

    def __repr__(self) -> str:
        return f"ParticipantPages({len(self.bodies)} pages)"

    def __len__(self) -> int:
        return len(self.records())

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        return self.records()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records())
