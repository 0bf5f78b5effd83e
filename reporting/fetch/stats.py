"""What a fetch hands back: its outcome, its counts, and who owns an instance that
several entries name."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from reporting.discovery.people import Registrant
from reporting.model import FetchFailure, Instance, InstanceRecords

# The package's one logger name, as before it was a package (log filters keep working).
log = logging.getLogger("reporting.fetch")


@dataclass
class FetchStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0  # answers 429
    locked: int = 0  # answers 423
    server_errors: int = 0
    transport_errors: int = 0
    bad_pages: int = 0
    token_refreshes: int = 0
    backoff_seconds: float = 0.0
    rate_wait_seconds: float = 0.0
    pages: int = 0
    instances_fetched: int = 0
    instances_reused: int = 0  # complete in the store, not asked again
    instances_resumed: int = 0  # continued from a stored cursor
    instances_failed: int = 0
    entries_failed: int = 0
    list_pages: int = 0  # invitee and registrant pages
    seconds: float = 0.0
    offline: bool = False

    def summary(self) -> str:
        if self.offline:
            return (
                f"offline: {self.instances_reused} meeting instance(s) from the store, "
                f"{self.instances_failed} missing"
            )
        return (
            f"{self.requests} requests, {self.retries} retries ({self.rate_limited}× 429), "
            f"{self.pages} pages; {self.instances_fetched} instance(s) fetched, "
            f"{self.instances_reused} from the store, {self.instances_resumed} resumed, "
            f"{self.instances_failed + self.entries_failed} failed; {self.seconds:.1f}s"
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class FetchOutcome:
    instances: list[Instance]
    data: list[InstanceRecords]
    failures: list[FetchFailure]
    stats: FetchStats = field(default_factory=FetchStats)
    # Things the reports should say about the plan (an instance named by two entries).
    notes: list[str] = field(default_factory=list)
    # Registrants of webinar series whose entries' rosters name them (rule 14), by series id.
    registrants: dict[str, tuple[Registrant, ...]] = field(default_factory=dict)
    # What each `match:` entry selected (rule 16), in config order.
    selections: list[dict[str, Any]] = field(default_factory=list)


class Owners:
    """The first config entry (in config order) that yields an instance owns it."""

    def __init__(self, notes: list[str]) -> None:
        self._owner: dict[str, tuple[int, str]] = {}
        self._notes = notes

    def claim(self, instance_id: str, index: int, entry_id: str) -> bool:
        owner_index, owner_id = self._owner.setdefault(instance_id, (index, entry_id))
        if owner_index == index:
            return True
        note = (
            f"meeting instance {instance_id} is named by meetings[{owner_index}] ({owner_id}) "
            f"and meetings[{index}] ({entry_id}); it is audited once, under "
            f"meetings[{owner_index}], and skipped for meetings[{index}]"
        )
        log.warning("%s", note)
        self._notes.append(note)
        return False
