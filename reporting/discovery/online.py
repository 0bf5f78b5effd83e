"""``attendance check --online``: what each meetings entry selects right now.

Planning only, exactly as a run plans (the same List Meetings and Get Meeting requests,
the same rules 16 and 17), with the lookups kept in a throwaway in-memory store:
nothing is fetched beyond the meeting lists, nothing is written. A reviewer approves this
list before the monthly run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from reporting.config import Config
from reporting.errors import WebexError
from reporting.fetch import Planner, StoreThread, entry_ref, planned_instances
from reporting.model import Instance
from reporting.store import Store
from reporting.webex.client import WebexClient

log = logging.getLogger(__name__)


@dataclass
class EntrySelection:
    index: int
    ref: str
    instances: list[Instance] = field(default_factory=list)
    error: str | None = None


@dataclass
class OnlineCheck:
    entries: list[EntrySelection]
    warnings: list[str]

    @property
    def failed(self) -> bool:
        return any(e.error is not None for e in self.entries)


async def _discover(config: Config, client: WebexClient) -> OnlineCheck:
    store = Store.open(":memory:")
    db = StoreThread(store)
    try:
        fetcher = Planner(config, store, "check", client, db)
        result = OnlineCheck([], [])
        for index, entry in enumerate(config.meetings):
            selection = EntrySelection(index, entry_ref(entry))
            try:
                meetings = await fetcher.plan(index, entry)
            except WebexError as exc:
                selection.error = str(exc)
                if getattr(exc, "status", None) == 401:
                    result.entries.append(selection)
                    break  # a refused token refuses every entry
            else:
                selection.instances, notes = planned_instances(
                    meetings, index, entry, config.period.label
                )
                result.warnings.extend(notes)
            result.entries.append(selection)
        return result
    finally:
        db.close()
        store.close()


def check_online(config: Config, env: Mapping[str, str]) -> OnlineCheck:
    """Plan every entry against Webex (or the configured sandbox)."""
    from reporting.connection import webex_endpoint

    outcome: list[OnlineCheck] = []
    with webex_endpoint(config, env) as endpoint:

        async def go() -> None:
            async with endpoint.client(config) as client:
                outcome.append(await _discover(config, client))

        asyncio.run(go())
    return outcome[0]


def format_online(config: Config, checked: OnlineCheck) -> str:
    """The selection of each entry: start (config zone), title, host, id."""
    lines = ["selection  what each entry selects in the period now (nothing else is fetched)"]
    for selection in checked.entries:
        head = f"  {selection.index + 1}. {selection.ref}"
        if selection.error is not None:
            lines.append(f"{head}: FAILED: {selection.error}")
            continue
        count = len(selection.instances)
        lines.append(f"{head}: {count} instance(s)")
        sessions: set[str] = set()
        for instance in selection.instances:
            session = instance.scheduled_meeting_id
            again = " (started again: one session, rule 15)" if session in sessions else ""
            if session:
                sessions.add(session)
            lines.append(
                f"     {_local(instance.start, config)}  {instance.title}  "
                f"host {instance.host_email or '?'}  {instance.id}{again}"
            )
    return "\n".join(lines)


def _local(moment: datetime | None, config: Config) -> str:
    if moment is None:
        return "start unknown   "
    return moment.astimezone(config.tz).strftime("%Y-%m-%d %H:%M %Z")
