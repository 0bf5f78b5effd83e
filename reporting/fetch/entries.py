"""What the fetch reads of a config entry, and an entry's stored plan expanded into its
instances: the one expansion online and offline runs share."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reporting.discovery.match import selection_item
from reporting.model import FetchFailure, Instance
from reporting.protocols import EntryLike as _Entry
from reporting.protocols import MatchLike
from reporting.webex.models import impossible_windows, to_instance, unlooked_instance

# The package's one logger name, as before it was a package (log filters keep working).
log = logging.getLogger("reporting.fetch")

# The most items a walk can hold; past them its next links are looping, not listing.
# List Meetings answers at most 10,000 instances (the API's documented limit).
MAX_LISTED_INSTANCES = 10_000
# Participant records of one instance: a meeting holds at most 1,000 people and a webinar
# (webcast mode) 100,000; a meeting's people get ten records each for rejoins.
MEETING_RECORDS_CEILING = 10_000
WEBINAR_RECORDS_CEILING = 100_000

INVITEES = "invitees"
REGISTRANTS = "registrants"
# A planned meeting that rule 17 leaves out (named by id, started outside the period).
OUTSIDE_PERIOD = "outsidePeriod"


def participant_ceiling(instance: Instance) -> int:
    """The most participant records ``instance`` can have, by its kind of session (an
    instance that could not be looked up may be a webinar)."""
    if instance.scheduled_type == "webinar" or not instance.looked_up:
        return WEBINAR_RECORDS_CEILING
    return MEETING_RECORDS_CEILING


# -- what discovery reads of an entry (stand-in configs may leave it out) ---------------


def entry_ref(entry: _Entry) -> str:
    """The entry's id, or its match described: how the store and messages name it."""
    ref = getattr(entry, "ref", None)
    return str(ref) if ref else str(entry.id)


def entry_match(entry: _Entry) -> MatchLike | None:
    match: MatchLike | None = getattr(entry, "match", None)
    return match


def entry_sources(entry: _Entry) -> frozenset[str]:
    return frozenset(getattr(entry, "roster_sources", ()) or ())


def _entry_course(entry: _Entry) -> str | None:
    """The course label: ``course:``, else a match's title pattern (rule 16)."""
    if entry.course:
        return entry.course
    match = entry_match(entry)
    if match is not None:
        return match.title or entry_ref(entry)
    return None


def invitees_key(instance_id: str) -> str:
    return f"{INVITEES}:{instance_id}"


def registrants_key(series_id: str, period_label: str) -> str:
    # Per period: a series that goes on gains registrants, so another month's run asks
    # again instead of reusing an older list; reruns of one month reuse theirs.
    return f"{REGISTRANTS}:{series_id}@{period_label}"


def wants_invitees(instance: Instance, sources: frozenset[str]) -> bool:
    """Invitees are asked for when the roster names them, and for every webinar: its
    panelists get the role ``panelist`` (rule 10) whatever the roster."""
    return INVITEES in sources or instance.scheduled_type == "webinar"


def planned_instances(
    meetings: Sequence[dict[str, Any]], index: int, entry: _Entry, period_label: str
) -> tuple[list[Instance], list[str]]:
    """The instances of an entry's stored plan, and the notes rules 16 and 17 ask for."""
    ref = entry_ref(entry)
    course = _entry_course(entry)
    instances: list[Instance] = []
    notes: list[str] = []
    for meeting in meetings:
        if meeting.get("lookedUp") is False:
            instances.append(
                unlooked_instance(
                    str(meeting["id"]),
                    entry_index=index,
                    entry_id=ref,
                    course=course,
                    title=entry.title,
                )
            )
        elif meeting.get(OUTSIDE_PERIOD):
            notes.append(
                f"meeting {meeting['id']} (meetings[{index}]) started {meeting.get('start')}, "
                f"outside the period {period_label}; it is left out of this report "
                "(rule 17): name it in the config of its own period"
            )
        else:
            instances.append(
                to_instance(
                    meeting, entry_index=index, entry_id=ref, course=course, title=entry.title
                )
            )
    if entry_match(entry) is not None and not meetings:
        notes.append(f"meetings[{index}] ({ref}) selects no ended meeting in period {period_label}")
    return instances, notes


def selection(index: int, entry: _Entry, meetings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What a ``match:`` entry selected, for the manifest and ``check --online``."""
    return {
        "entry": index,
        "match": entry_ref(entry),
        "selected": [selection_item(m) for m in meetings],
    }


@dataclass(frozen=True)
class PlannedEntry:
    """One entry's plan expanded: its instances, the notes rules 16 and 17 ask for, what a
    ``match:`` selected, and the instances whose window makes no sense (their message)."""

    index: int
    ref: str
    instances: list[Instance]
    notes: list[str]
    selection: dict[str, Any] | None
    impossible: dict[str, str]
    sources: frozenset[str]

    @property
    def usable(self) -> list[Instance]:
        """The instances whose participants are asked for (or read from the store)."""
        return [i for i in self.instances if i.id not in self.impossible]

    def impossible_failures(self) -> list[FetchFailure]:
        return [
            FetchFailure(self.ref, i.id, self.impossible[i.id])
            for i in self.instances
            if i.id in self.impossible
        ]


def expand_plan(
    index: int, entry: _Entry, meetings: Sequence[dict[str, Any]], period_label: str
) -> PlannedEntry:
    """An entry's plan (the meeting objects the store keeps) as the fetch works on it;
    its notes are logged as warnings."""
    ref = entry_ref(entry)
    instances, notes = planned_instances(meetings, index, entry, period_label)
    for note in notes:
        log.warning("%s", note)
    chosen = selection(index, entry, meetings) if entry_match(entry) is not None else None
    return PlannedEntry(
        index,
        ref,
        instances,
        notes,
        chosen,
        impossible_windows(index, ref, meetings),
        entry_sources(entry),
    )
