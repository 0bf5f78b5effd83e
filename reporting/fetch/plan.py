"""Planning an entry against Webex: the meetings an id or a ``match:`` stands for.

An id is looked up (``GET /meetings/{id}``): an instance is used as is (unless it started
outside the period, rule 17), a series lists its ended instances of the period, a
scheduled meeting lists its series' and keeps its own. A ``match:`` lists the period's
ended meetings per host, or once for the token's scope (rule 16). Every page asked for is
kept in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from reporting.discovery.match import selects
from reporting.errors import WebexError
from reporting.fetch.entries import MAX_LISTED_INSTANCES, OUTSIDE_PERIOD, entry_match, entry_ref
from reporting.fetch.store_thread import StoreThread
from reporting.protocols import EntryLike as _Entry
from reporting.protocols import FetchConfig, MatchLike
from reporting.store import Store
from reporting.webex.client import WebexClient, WebexRequestError
from reporting.webex.models import (
    INSTANCE,
    SCHEDULED,
    SERIES,
    looks_like_instance_id,
    meeting_type,
    outside_period,
    parse_time,
)
from reporting.webex.schema import meeting_problem

# The package's one logger name, as before it was a package (log filters keep working).
log = logging.getLogger("reporting.fetch")


def _api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Planner:
    """Asks Webex what each entry stands for; its pages go to the store through ``db``."""

    def __init__(
        self, config: FetchConfig, store: Store, run_id: str, client: WebexClient, db: StoreThread
    ) -> None:
        self.store = store
        self.db = db
        self.run_id = run_id
        self.client = client
        self.period = (config.period.start, config.period.end)
        self.label = config.period.label
        self.host_email = config.webex.host_email

    async def plan(self, index: int, entry: _Entry) -> list[dict[str, Any]]:
        """The meeting objects an entry stands for (the plan the store keeps)."""
        match = entry_match(entry)
        if match is not None:
            return await self._select(index, entry, match)
        assert entry.id is not None  # an entry has an id or a match
        entry_id = entry.id
        what = f"meeting {entry_id} (meetings[{index}])"
        failed: WebexRequestError | None = None
        try:
            page = await self.client.get_meeting(entry_id, what=what)
        except WebexRequestError as exc:
            # A bad token fails everything; anything else about an instance id still leaves
            # its participants worth asking for (rule 4 infers the window).
            if exc.status == 401 or not looks_like_instance_id(entry_id):
                raise
            failed = exc
        if failed is not None:
            log.warning("%s: Get Meeting failed (%s); window will be inferred", what, failed)
            return [{"id": entry_id, "lookedUp": False}]
        await self.db(self.store.add_lookup_page, self.run_id, entry_id, "meeting", page)
        if page.problem is not None:
            raise WebexError(f"{what}: Get Meeting answered an unusable body ({page.problem})")
        meeting = page.json()
        problem = meeting_problem(meeting)
        if problem is not None:
            raise WebexError(f"{what}: Get Meeting answered a meeting object with {problem}")
        kind = meeting_type(meeting)
        if kind == INSTANCE:
            start = parse_time(meeting.get("start"))
            if start is not None and not self.period[0] <= start < self.period[1]:
                # Rule 17: a named instance of another period is not this period's.
                return [{**meeting, OUTSIDE_PERIOD: True}]
            return [meeting]
        if kind == SERIES:
            return await self._list_instances(entry_id, entry_id, what)
        if kind == SCHEDULED:
            series = str(meeting.get("meetingSeriesId") or "")
            if not series:
                raise WebexError(f"{what}: a scheduled meeting without a meetingSeriesId")
            return [
                m
                for m in await self._list_instances(series, entry_id, what)
                if m.get("scheduledMeetingId") == entry_id
            ]
        raise WebexError(f"{what}: unknown meetingType {kind[:40]!r}")

    def _listing_params(self) -> dict[str, str]:
        return {
            "meetingType": "meeting",
            "state": "ended",
            "from": _api_time(self.period[0]),
            "to": _api_time(self.period[1]),
        }

    async def _listed(
        self, params: dict[str, str], subject: str, what: str
    ) -> list[dict[str, Any]]:
        """Every item of a List Meetings walk; each page kept in the store."""
        items: list[dict[str, Any]] = []
        pages = self.client.pages("meetings", params, what=what, max_items=MAX_LISTED_INSTANCES)
        async for page in pages:
            await self.db(self.store.add_lookup_page, self.run_id, subject, "meetings", page)
            if page.superseded:
                continue
            if page.items is None:
                # A missing listing page would drop instances silently: fail the entry.
                raise WebexError(
                    f"{what}: List Meetings answered an unusable page ({page.problem})"
                )
            for item in page.items:
                problem = meeting_problem(item)
                if problem is not None:
                    # An instance read around a wrong field could be dropped or misdated.
                    raise WebexError(f"{what}: List Meetings answered an instance with {problem}")
            items.extend(page.items)
        return items

    async def _list_instances(
        self, series_id: str, subject: str, what: str
    ) -> list[dict[str, Any]]:
        params = {"meetingSeriesId": series_id, **self._listing_params()}
        seen: dict[str, dict[str, Any]] = {}
        for item in await self._listed(params, subject, what):
            if item.get("meetingType", INSTANCE) != INSTANCE or "id" not in item:
                continue
            if outside_period(item, self.period):
                # The listing was asked for this period only; what it answers beyond it
                # belongs to another period's audit.
                log.warning(
                    "%s: List Meetings returned %s, which started %s, outside the period; left out",
                    what,
                    str(item["id"])[:120],
                    str(item.get("start"))[:40],
                )
                continue
            seen.setdefault(str(item["id"]), item)
        return sorted(seen.values(), key=lambda m: (str(m.get("start") or ""), str(m["id"])))

    async def _select(self, index: int, entry: _Entry, match: MatchLike) -> list[dict[str, Any]]:
        """Rule 16: the ended instances of the period that a ``match:`` selects.

        Listed per host (``hostEmail``) when the match names hosts, else once for the
        token's scope (an admin's organisation, a host's own meetings, or
        ``webex.host_email``'s). Every field is checked here: the API has no title filter,
        and ``hostEmail`` also lists meetings the host was only invited to.
        """
        ref = entry_ref(entry)
        what = f"meetings[{index}] ({ref})"
        hosts: Sequence[str | None] = tuple(match.hosts) or (None,)
        seen: dict[str, dict[str, Any]] = {}
        for host in hosts:
            params = self._listing_params()
            if host is not None:
                params["hostEmail"] = host
            for item in await self._listed(params, ref, what):
                if selects(match, item, self.period):
                    seen.setdefault(str(item["id"]), item)
        return sorted(seen.values(), key=lambda m: (str(m.get("start") or ""), str(m["id"])))
