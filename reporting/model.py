"""Domain types that cross stage boundaries (plan/fetch → compute → render → deliver).

Each stage owns its internals; these small frozen records are the only shapes two stages
share. Times are timezone-aware UTC datetimes; the configured zone is applied at render time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Instance:
    """One meeting instance to audit, as planned from a config entry."""

    id: str
    entry_index: int  # position of the config `meetings:` entry it came from
    entry_id: str  # the id written in the config (series, scheduled meeting or instance)
    course: str  # course label: the entry's `course:` or, by default, its `entry_id`
    title: str  # display title: the entry's `title:` override, else the API's
    series_id: str | None
    start: datetime | None  # actual start (Get Meeting / List Meetings)
    end: datetime | None  # actual end; None while in progress
    state: str  # the API's state: "ended", "inProgress", ...
    host_email: str | None
    scheduled_type: str = "meeting"
    looked_up: bool = True  # False: Get Meeting failed, so the window is inferred (rule 4)
    # The API's scheduledMeetingId: instances of one series that share it are one session
    # that was ended and started again (rule 15).
    scheduled_meeting_id: str | None = None


@dataclass(frozen=True)
class Invitee:
    """One item of ``GET /meetingInvitees`` for an instance (rule 14)."""

    email: str
    display_name: str | None = None
    panelist: bool = False  # a webinar panelist: role `panelist`, never on the roster
    cohost: bool = False


@dataclass(frozen=True)
class RecordProblem:
    """A participant record with fields of the wrong type (``BAD_RECORD``): the fields
    were read as missing, the rest of the record counts."""

    index: int  # position in `InstanceRecords.records`
    fields: tuple[str, ...]  # paths: "joinedTime", "devices[0].durationSecond"
    detail: str  # "joinedTime: expected text, got a number; ..."


@dataclass(frozen=True)
class InstanceRecords:
    """An instance with every participant record fetched for it, as received."""

    instance: Instance
    # The records as received: a tuple of dicts, or the page bodies themselves
    # (`reporting.participants.ParticipantPages`, what the fetch gives: the engine reads
    # them straight into its columns).
    records: Sequence[dict[str, Any]]
    # Human-readable descriptions of pages that could not be used (bad JSON, wrong shape);
    # they are shown in the reports, never dropped silently.
    page_problems: tuple[str, ...] = ()
    # The instance's invitees (rule 14), when they were fetched; None when they were not
    # asked for (an empty tuple means Webex listed none).
    invitees: tuple[Invitee, ...] | None = None
    # Records whose fields had the wrong type (flagged BAD_RECORD), by position, when the
    # records are given as dicts; pages find their own as they are decoded.
    problems: tuple[RecordProblem, ...] = ()

    @property
    def record_problems(self) -> tuple[RecordProblem, ...]:
        """The records with fields of the wrong type (flagged BAD_RECORD), by position."""
        found: tuple[RecordProblem, ...] | None = getattr(self.records, "record_problems", None)
        return self.problems if found is None else found


@dataclass(frozen=True)
class FetchFailure:
    """A config entry or instance that could not be fetched after retries."""

    entry_id: str
    instance_id: str | None
    message: str  # names the meeting and the likely cause; never contains the token


@dataclass(frozen=True)
class RunInfo:
    """Facts about one run that every output shows."""

    run_id: str
    config_path: str
    config_hash: str  # SHA-256 of the config file's bytes
    period_label: str  # "2026-10" or "2026-10-01_2026-11-01"
    period_start: datetime
    period_end: datetime  # exclusive
    as_of: datetime  # the run's clock: in-progress intervals end here
    timezone: str  # IANA name used for display
    tool_version: str
    offline: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
