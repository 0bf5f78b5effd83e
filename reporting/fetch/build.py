"""The one path from what was fetched for an entry's instances (online, or read back from
the store offline) to the instances' records and failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reporting.discovery.people import Registrant, invitees_from_items, registrants_from_items
from reporting.errors import WebexError
from reporting.fetch.entries import INVITEES, REGISTRANTS
from reporting.fetch.pages import Result
from reporting.model import FetchFailure, Instance, InstanceRecords, Invitee


@dataclass(frozen=True)
class Fetched:
    """What one instance's lists came to: its participants; its invitees when they were
    asked for (None: not asked); its series' registrants when its roster names them
    (None: not asked). An exception stands for a list that could not be had."""

    records: Result | BaseException
    invitees: Result | BaseException | None = None
    registrants: Result | BaseException | None = None


def build_instances(
    ref: str,
    instances: Sequence[Instance],
    fetched: Mapping[str, Fetched],
    sources: frozenset[str],
    registrant_lists: dict[str, tuple[Registrant, ...]],
) -> tuple[list[InstanceRecords], list[FetchFailure]]:
    """Each instance's records with its invitees, or a `FetchFailure` saying why it
    cannot be audited, in the order of ``instances``; the registrants of each series are
    put in ``registrant_lists``. An exception other than a `WebexError` is raised."""
    data: list[InstanceRecords] = []
    failures: list[FetchFailure] = []
    for instance in instances:
        parts = _assemble(instance, fetched[instance.id], sources, registrant_lists)
        if isinstance(parts, BaseException):
            if not isinstance(parts, WebexError):
                raise parts
            failures.append(FetchFailure(ref, instance.id, str(parts)))
        else:
            data.append(parts)
    return data, failures


def _assemble(
    instance: Instance,
    fetched: Fetched,
    sources: frozenset[str],
    registrant_lists: dict[str, tuple[Registrant, ...]],
) -> InstanceRecords | BaseException:
    """An instance's records with its invitees, or why it cannot be audited.

    Invitees or registrants a roster needs and that could not be fetched fail the
    instance (who was required is unknown); a webinar's invitees asked for its panelists
    only leave a page problem (panelists are then not told apart)."""
    result, invitees = fetched.records, fetched.invitees
    if isinstance(result, BaseException):
        return result
    problems = list(result.problems)
    people: tuple[Invitee, ...] | None = None
    if isinstance(invitees, BaseException):
        if INVITEES in sources or not isinstance(invitees, WebexError):
            return invitees
        problems.append(
            f"meeting {instance.id}: its invitees could not be fetched ({invitees}); its "
            "panelists are not told apart from its attendees"
        )
    elif invitees is not None:
        people = invitees_from_items(invitees.records)
        problems.extend(invitees.problems)
    if REGISTRANTS in sources and instance.series_id:
        listed = fetched.registrants
        if isinstance(listed, BaseException):
            return listed
        if listed is not None:
            registrant_lists[instance.series_id] = registrants_from_items(listed.records)
            problems.extend(listed.problems)
    return InstanceRecords(
        instance,
        result.records,
        tuple(problems),
        invitees=people,
    )
