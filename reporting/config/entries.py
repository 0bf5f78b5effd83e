"""The config's lists: ``meetings:`` entries (an id or a ``match:``, with their rosters)
and ``reports:`` entries (name, audience, formats, recipients)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from reporting.config.values import (
    COMPLIANCE,
    MODEL_CONFIG,
    email_address,
    existing_file,
    invalid,
    show_value,
    suggest,
)
from reporting.render.formats import FORMATS, choices_text

_STEM = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")


RosterSource = Literal["invitees", "registrants"]
ROSTER_SOURCES: tuple[RosterSource, ...] = ("invitees", "registrants")
MATCH_TYPES = ("meeting", "webinar")


class MatchSpec(BaseModel):
    """``match:`` of a meetings entry (rule 16): every ended instance of the period whose
    title matches ``title`` (a case-insensitive shell-style pattern), whose host is one of
    ``hosts`` (each listed with ``hostEmail``) and whose ``scheduledType`` is ``type``."""

    model_config = MODEL_CONFIG

    title: str | None = None
    hosts: tuple[str, ...] = ()
    type: Literal["meeting", "webinar"] | None = None

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip()):
            return value.strip() if isinstance(value, str) else None
        raise invalid(
            f"expected a title pattern, got {show_value(value)}", 'e.g. "Security awareness*"'
        )

    @field_validator("hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not items:
            raise invalid(
                f"expected a list of host emails, got {show_value(value)}", "or leave it out"
            )
        return tuple(email_address(item).lower() for item in items)

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        if value is None or value in MATCH_TYPES:
            return value
        raise invalid(f"unknown meeting type {show_value(value)}", "use meeting or webinar")

    @model_validator(mode="after")
    def _something(self) -> MatchSpec:
        if self.title is None and not self.hosts and self.type is None:
            raise invalid("match selects every meeting", "give at least one of title, hosts, type")
        return self

    def describe(self) -> str:
        """One line naming what the match asks for (also its key in the store)."""
        parts = []
        if self.title is not None:
            parts.append(f"title={self.title!r}")
        if self.hosts:
            parts.append("hosts=" + ",".join(self.hosts))
        if self.type is not None:
            parts.append(f"type={self.type}")
        return "match " + " ".join(parts)


class MeetingEntry(BaseModel):
    """One ``meetings:`` entry: a series id (every ended instance in the period), a
    scheduled meeting id, or a single instance id (``..._I_...``); or, instead of ``id``,
    a ``match:`` (rule 16). ``title`` overrides the API's title in reports; ``course``
    groups entries; ``roster`` overrides the top-level ``roster`` for this entry: a CSV
    path (resolved against the config's folder) or a list of CSV paths and the sources
    ``invitees`` / ``registrants`` (rule 14)."""

    model_config = MODEL_CONFIG

    id: str | None = None
    match: MatchSpec | None = None
    title: str | None = None
    course: str | None = None
    roster: tuple[Path | RosterSource, ...] | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and value.strip() and not re.search(r"\s", value.strip()):
            return value.strip()
        raise invalid(
            f"not a meeting id: {show_value(value)}",
            "copy the id from Webex (a series id, or an instance id containing _I_)",
        )

    @field_validator("title", "course", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise invalid(
            f"expected non-empty text, got {show_value(value)}", "leave the key out instead"
        )

    @field_validator("roster", mode="before")
    @classmethod
    def _roster(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items:
            raise invalid("empty roster list", "name CSV files, invitees or registrants")
        out: list[Path | str] = []
        for number, item in enumerate(items):
            if isinstance(item, str) and item.strip().lower() in ROSTER_SOURCES:
                out.append(item.strip().lower())
                continue
            try:
                out.append(roster_path(item, info))
            except PydanticCustomError as exc:
                where = f"item {number + 1}: " if len(items) > 1 else ""
                guess = suggest(item.strip(), ROSTER_SOURCES) if isinstance(item, str) else None
                raise invalid(
                    where + str(exc.context["message"] if exc.context else exc),
                    f"did you mean {guess!r}?"
                    if guess
                    else "a CSV path (relative to the config's folder), invitees or registrants",
                ) from None
        return tuple(out)

    @model_validator(mode="after")
    def _one_selector(self) -> MeetingEntry:
        if (self.id is None) == (self.match is None):
            raise invalid(
                "give either id or match" if self.id is None else "give id or match, not both",
                'write `- id: <meeting id>` or `- match: {title: "Security awareness*"}`',
            )
        return self

    @property
    def ref(self) -> str:
        """How the entry is named in messages, the store and reports: its id or its match."""
        if self.id is not None:
            return self.id
        assert self.match is not None
        return self.match.describe()

    @property
    def roster_files(self) -> tuple[Path, ...] | None:
        """The entry's own roster CSVs; None when it names no roster (the default applies)."""
        if self.roster is None:
            return None
        return tuple(item for item in self.roster if isinstance(item, Path))

    @property
    def roster_sources(self) -> frozenset[str]:
        """``invitees`` / ``registrants`` when the entry's roster names them."""
        return frozenset(item for item in self.roster or () if isinstance(item, str))


def roster_path(value: Any, info: ValidationInfo) -> Path:
    return existing_file(value, info, "roster", "roster file")


def _known_format(value: Any) -> Any:
    # Read at validation time: the format table (reporting.render.formats) is the one
    # list of formats.
    if isinstance(value, str) and value in FORMATS:
        return value
    raise PydanticCustomError(
        "literal_error", "Input should be {expected}", {"expected": choices_text()}
    )


ReportFormatName = Annotated[str, BeforeValidator(_known_format)]


class ReportSpec(BaseModel):
    """One ``reports:`` entry. ``name`` is the file stem of its outputs (only letters,
    digits, ``.``, ``_``, ``-``; no leading dot). ``audience: compliance`` shows full
    detail; any other audience text gets masked phone numbers. ``formats`` is a subset of
    ``pdf`` / ``xlsx`` (default ``[pdf]``). Beyond DESIGN.md: ``show_devices`` (the
    per-device table; default: true for the compliance audience only)."""

    model_config = MODEL_CONFIG

    name: str
    audience: str
    formats: tuple[ReportFormatName, ...] = ("pdf",)
    email_to: tuple[str, ...] = ()
    show_devices: bool = False

    @model_validator(mode="before")
    @classmethod
    def _default_devices(cls, data: Any) -> Any:
        if isinstance(data, dict) and "show_devices" not in data:
            audience = data.get("audience")
            devices = isinstance(audience, str) and audience.strip() == COMPLIANCE
            return {**data, "show_devices": devices}
        return data

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if isinstance(value, str) and _STEM.match(value) and value not in (".", ".."):
            return value
        raise invalid(
            f"{show_value(value)} cannot be a file name",
            "use only letters, digits, '.', '_' and '-', not starting with a dot",
        )

    @field_validator("audience", mode="before")
    @classmethod
    def _audience(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            text = value.strip()
            if text != COMPLIANCE and _close_to_compliance(text):
                # Any other word is a masked audience: a slip here would silently hide
                # the phone numbers the compliance officer needs.
                raise invalid(
                    f"{show_value(text)} is not the compliance audience (audience names are "
                    "exact: only `compliance` shows full phone numbers)",
                    "did you mean 'compliance'? write another word (e.g. summary) for "
                    "masked numbers",
                )
            return text
        raise invalid(
            "audience is empty",
            "write `compliance` for full detail, or any other word (e.g. summary) for "
            "masked phone numbers",
        )

    @field_validator("formats", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if not value:
                raise invalid("no formats", f"list at least one of {', '.join(FORMATS)}")
            # Dedupe so a repeated format never renders (and emails) the same file twice.
            return tuple(
                dict.fromkeys(v.strip().lower() if isinstance(v, str) else v for v in value)
            )
        return value

    @field_validator("email_to", mode="before")
    @classmethod
    def _recipients(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return tuple(dict.fromkeys(email_address(v) for v in value))
        return value

    @field_validator("show_devices", mode="before")
    @classmethod
    def _devices(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        raise invalid(f"expected true or false, got {show_value(value)}")


def _close_to_compliance(text: str) -> bool:
    folded = text.casefold()
    if folded == COMPLIANCE or "complian" in folded:
        return True
    return difflib.SequenceMatcher(None, folded, COMPLIANCE).ratio() >= 0.75
