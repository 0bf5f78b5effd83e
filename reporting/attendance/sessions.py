"""Sessions: restarted meetings are one session (rule 15), and scopes name instances.

Webex gives a meeting that was ended and started again a second instance with the same
``scheduledMeetingId``. Those instances (of one series) are one session: its rows are
keyed by the first instance's id, its window is the union of theirs, and a course counts
it once. Every other instance is a session of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from reporting.model import Instance

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

EVERYWHERE = "*"
# How specific a scope is: an instance beats a series, a series a course, a course `*`.
BY_INSTANCE, BY_SERIES, BY_COURSE, BY_ALL = 0, 1, 2, 3


def _start_rank(instance: Instance) -> tuple[int, datetime | None, str]:
    # Unknown starts last, then by id: the same order as the attendance rows.
    return (instance.start is None, instance.start, instance.id)


def session_key(instance: Instance) -> tuple[str, str] | str:
    """Instances with equal keys are one session."""
    if instance.scheduled_meeting_id:
        return (instance.series_id or instance.entry_id, instance.scheduled_meeting_id)
    return instance.id


@dataclass(frozen=True)
class Sessions:
    """The sessions of a list of instances (index = the instance's position)."""

    of: I64  # instance → its session's first instance (an instance index)
    members: dict[int, tuple[int, ...]]  # first instance → every instance of the session
    restarted: Mask  # instance is part of a session of two or more instances

    @classmethod
    def of_instances(cls, instances: Sequence[Instance]) -> Sessions:
        groups: dict[tuple[str, str] | str, list[int]] = {}
        for index, instance in enumerate(instances):
            groups.setdefault(session_key(instance), []).append(index)
        of = np.arange(len(instances), dtype=np.int64)
        members: dict[int, tuple[int, ...]] = {}
        restarted = np.zeros(len(instances), dtype=np.bool_)
        for indexes in groups.values():
            ordered = sorted(indexes, key=lambda i: _start_rank(instances[i]))
            first = ordered[0]
            members[first] = tuple(ordered)
            of[ordered] = first
            if len(ordered) > 1:
                restarted[ordered] = True
        return cls(of, members, restarted)

    @property
    def any_restarted(self) -> bool:
        return bool(self.restarted.any())


def scope_specificity(scope: str, instance: Instance) -> int | None:
    """How ``scope`` (an override's) names ``instance``, or None when it does not: its id,
    its series (or the config entry's id), its course label, or ``*``."""
    if scope == instance.id:
        return BY_INSTANCE
    if scope == instance.series_id or scope == instance.entry_id:
        return BY_SERIES
    if scope == instance.course:
        return BY_COURSE
    if scope == EVERYWHERE:
        return BY_ALL
    return None


def session_instances(instances: Sequence[Instance]) -> list[Instance]:
    """One instance per session, for the reports: a restarted session is shown once, as
    its first instance with the window from its first start to its last end (the window
    its attendance rows carry); the order of the first instances is kept."""
    sessions = Sessions.of_instances(instances)
    out: list[Instance] = []
    for index, instance in enumerate(instances):
        if sessions.of[index] != index:
            continue
        members = [instances[i] for i in sessions.members[index]]
        if len(members) > 1:
            starts = [m.start for m in members if m.start is not None]
            ends = [m.end for m in members]
            instance = replace(
                instance,
                start=min(starts) if starts else None,
                # An instance still in progress (no end) leaves the session open.
                end=None if any(e is None for e in ends) else max(e for e in ends if e),
            )
        out.append(instance)
    return out
