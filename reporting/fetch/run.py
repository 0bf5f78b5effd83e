"""Fetching online: each entry planned and its instances' lists walked into the store,
resumed from a stored cursor, or reused when complete (see the package's docstring)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reporting.collector import full_collections_paused
from reporting.discovery.people import Registrant
from reporting.errors import WebexError
from reporting.fetch.build import Fetched, build_instances
from reporting.fetch.entries import (
    INVITEES,
    REGISTRANTS,
    WEBINAR_RECORDS_CEILING,
    entry_ref,
    expand_plan,
    invitees_key,
    participant_ceiling,
    registrants_key,
    wants_invitees,
)
from reporting.fetch.pages import (
    Result,
    problem_text,
    records_from_store,
)
from reporting.fetch.plan import Planner
from reporting.fetch.progress import FetchProgress, as_progress
from reporting.fetch.stats import FetchOutcome, FetchStats, Owners
from reporting.fetch.store_thread import StoreThread
from reporting.logs import redact
from reporting.model import FetchFailure, Instance, InstanceRecords
from reporting.participants import ParticipantPages
from reporting.protocols import EntryLike as _Entry
from reporting.protocols import FetchConfig
from reporting.store import FetchState, Store
from reporting.webex.client import WebexClient, WebexRequestError

# The package's one logger name, as before it was a package (log filters keep working).
log = logging.getLogger("reporting.fetch")

_EntryResult = tuple[list[Instance], list[InstanceRecords], list[FetchFailure], list[str]]


@dataclass(frozen=True)
class _List:
    """One list a run walks: an instance's participants or invitees, a series' registrants."""

    key: str  # the fetch's name in the store (an instance id, prefixed for the other kinds)
    path: str
    params: dict[str, str]
    state: str  # the meeting's state: only an ended meeting's lists are reused or resumed
    kind: str  # participants, invitees or registrants
    what: str  # how messages name it
    max_items: int  # the longest walk it can be (a walk longer than this never ends)


class Fetcher(Planner):
    """Plans the entries and fetches their instances' lists, each list once per run."""

    def __init__(
        self,
        config: FetchConfig,
        store: Store,
        run_id: str,
        client: WebexClient,
        refresh: bool,
        progress: FetchProgress,
        db: StoreThread,
    ) -> None:
        super().__init__(config, store, run_id, client, db)
        self.refresh = refresh
        self.progress = progress
        self.stats = FetchStats()
        self._tasks: dict[str, asyncio.Task[Result]] = {}
        self.selections: dict[int, dict[str, Any]] = {}
        self.registrant_lists: dict[str, tuple[Registrant, ...]] = {}

    def tasks(self) -> list[asyncio.Task[Result]]:
        """The fetch task of every instance and list asked for so far."""
        return list(self._tasks.values())

    def _task(self, key: str, make: Callable[[], Any]) -> asyncio.Task[Result]:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._tasks[key] = task
        return task

    def records(self, instance: Instance) -> asyncio.Task[Result]:
        """One fetch per instance id, however many entries name it."""
        return self._task(instance.id, lambda: self._fetch(instance))

    def invitees(self, instance: Instance) -> asyncio.Task[Result]:
        """``GET /meetingInvitees`` of an instance, every page (rule 14), once per run."""
        return self._task(
            invitees_key(instance.id),
            lambda: self._fetch_list(
                _List(
                    invitees_key(instance.id),
                    "meetingInvitees",
                    {"meetingId": instance.id},
                    instance.state,
                    INVITEES,
                    f"invitees of meeting {instance.id}",
                    # Invitees are at most the people a session of its kind can hold.
                    participant_ceiling(instance),
                )
            ),
        )

    def registrants(self, series_id: str) -> asyncio.Task[Result]:
        """``GET /meetings/{seriesId}/registrants``, every page (rule 14), once per run."""
        return self._task(
            registrants_key(series_id, self.label),
            lambda: self._fetch_list(
                _List(
                    registrants_key(series_id, self.label),
                    f"meetings/{quote(series_id, safe='')}/registrants",
                    {},
                    "ended",
                    REGISTRANTS,
                    f"registrants of series {series_id}",
                    WEBINAR_RECORDS_CEILING,
                )
            ),
        )

    async def _fetch(self, instance: Instance) -> Result:
        try:
            result, how = await self._stored_or_walk(
                _List(
                    instance.id,
                    "meetingParticipants",
                    {"meetingId": instance.id},
                    instance.state,
                    "participants",
                    _what(instance),
                    participant_ceiling(instance),
                )
            )
        except WebexError:
            self.stats.instances_failed += 1
            self.progress.instance_done(instance.id, ok=False, reused=False)
            raise
        if how == "reused":
            self.stats.instances_reused += 1
        else:
            self.stats.instances_fetched += 1
            if how == "resumed":
                self.stats.instances_resumed += 1
        self.progress.instance_done(instance.id, ok=True, reused=how == "reused")
        return result

    async def _fetch_list(self, listed: _List) -> Result:
        result, _how = await self._stored_or_walk(listed)
        return result

    async def _stored_or_walk(self, listed: _List) -> tuple[Result, str]:
        """A list's items from a complete stored fetch, a resumed one, or a fresh walk;
        how it went is "reused", "resumed" or "fetched"."""
        how, fetch, stored = await self.db(self._opened, listed.key, listed.state, listed.kind)
        if stored is not None:
            return stored, how
        if how == "resumed":
            try:
                walked = await self._walk(fetch, listed, fetch.next_url)
            except WebexRequestError as exc:
                if exc.status != 400:
                    raise
                log.info("%s: stored cursor refused; restarting it", listed.what)
                await self.db(self.store.abandon_fetch, fetch.id)
                fresh = await self.db(self.store.start_fetch, self.run_id, listed.key, listed.state)
                return await self._walk(fresh, listed, None), "fetched"
            return walked, "resumed"
        return await self._walk(fetch, listed, None), how

    def _opened(self, key: str, state: str, kind: str) -> tuple[str, FetchState, Result | None]:
        """The fetch a list goes on with, looked up and opened in one store call (on the
        store thread): "reused" with a complete fetch's records; "resumed", a partial
        fetch with a cursor it may follow; or "fetched", one to walk from its first page
        (a partial fetch without pages, else a new one). Only an ended instance's lists
        are reused or resumed, and none with ``refresh``."""
        if state == "ended" and not self.refresh:
            done = self.store.complete_fetch(key)
            if done is not None:
                return "reused", done, records_from_store(self.store, done, kind)
            partial = self.store.resumable_fetch(key)
            if partial is not None and partial.pages == 0:
                return "fetched", partial, None
            if partial is not None and self._own_cursor(partial):
                return "resumed", partial, None
            if partial is not None:
                self.store.abandon_fetch(partial.id)
        return "fetched", self.store.start_fetch(self.run_id, key, state), None

    def _own_cursor(self, fetch: FetchState) -> bool:
        """Whether a stored cursor may be followed (it is on the client's own origin)."""
        if fetch.next_url is None or self.client.is_own_url(fetch.next_url):
            return True
        log.warning(
            "meeting %s: the stored next-page link points to another host; not followed, so "
            "the token is not sent there; restarting the meeting from its first page",
            fetch.instance_id,
        )
        return False

    async def _walk(self, fetch: FetchState, listed: _List, start_url: str | None) -> Result:
        key, kind = listed.key, listed.kind
        records: list[dict[str, Any]] = []
        problems: list[str] = []
        bodies: list[bytes] = []
        number = 0
        participants = kind == "participants"
        pages = self.client.pages(
            listed.path,
            listed.params,
            start_url=start_url,
            what=listed.what,
            max_items=listed.max_items,
            expect="participants" if participants else "items",
        )
        async for page in pages:
            last = page.next_url is None and not page.superseded
            await self.db(
                self.store.add_page,
                self.run_id,
                fetch.id,
                key,
                page,
                # A next link may carry a secret the API echoed; a cursor without it
                # is refused on resume (400) and the list restarts from page one.
                cursor=None if page.cursor_after is None else redact(page.cursor_after),
                last=last,
                kind=kind,
            )
            if participants:
                self.stats.pages += 1
                self.progress.page(key)
            else:
                self.stats.list_pages += 1
            if page.superseded:
                continue
            number += 1
            if page.problem is not None:
                tracking = page.headers.get("trackingid")
                problems.append(problem_text(key, number, page.url, page.problem, tracking, kind))
            elif participants:
                # The engine decodes the body straight into its columns, with the typed
                # check of the schema (BAD_RECORD).
                bodies.append(page.body)
            else:
                assert page.items is not None  # a usable list page's items are decoded
                records.extend(page.items)
        if start_url is not None:
            # Resumed: the pages of earlier runs are in the store, read them all back.
            return await self.db(records_from_store, self.store, fetch, kind)
        if participants:
            return Result(ParticipantPages(bodies), tuple(problems))
        return Result(tuple(records), tuple(problems))

    # one entry, end to end

    async def entry(self, index: int, entry: _Entry) -> _EntryResult:
        ref = entry_ref(entry)
        try:
            meetings = await self.plan(index, entry)
        except WebexError as exc:
            message = str(exc)
            self.stats.entries_failed += 1
            await self.db(
                self.store.save_plan, self.run_id, ref, self.period, self.host_email, None, message
            )
            await self.db(self.store.record_failure, self.run_id, ref, None, message)
            return [], [], [FetchFailure(ref, None, message)], []
        await self.db(
            self.store.save_plan, self.run_id, ref, self.period, self.host_email, meetings
        )
        planned = expand_plan(index, entry, meetings, self.label)
        if planned.selection is not None:
            self.selections[index] = planned.selection
        failures = planned.impossible_failures()
        for failure in failures:
            self.stats.instances_failed += 1
            await self.db(
                self.store.record_failure, self.run_id, ref, failure.instance_id, failure.message
            )
        # Kept among the instances (a session that could not be audited, like a failed
        # fetch), but their participants are not asked for.
        usable = planned.usable
        fresh = [i for i in usable if i.id not in self._tasks]
        self.progress.planned(len({i.id for i in fresh}))
        fetched = await self._gathered(usable, planned.sources)
        data, failed = build_instances(ref, usable, fetched, planned.sources, self.registrant_lists)
        for failure in failed:
            await self.db(
                self.store.record_failure, self.run_id, ref, failure.instance_id, failure.message
            )
        return planned.instances, data, failures + failed, planned.notes

    async def _gathered(
        self, usable: Sequence[Instance], sources: frozenset[str]
    ) -> dict[str, Fetched]:
        """Every list of the instances fetched (or reused), each instance's by its id."""
        records = [self.records(i) for i in usable]
        invitees = [self.invitees(i) if wants_invitees(i, sources) else None for i in usable]
        series = sorted({i.series_id for i in usable if i.series_id})
        registrants = {s: self.registrants(s) for s in series} if REGISTRANTS in sources else {}
        done = await asyncio.gather(*records, return_exceptions=True)
        invited = iter(
            await asyncio.gather(*(t for t in invitees if t is not None), return_exceptions=True)
        )
        registered = dict(
            zip(
                registrants,
                await asyncio.gather(*registrants.values(), return_exceptions=True),
                strict=True,
            )
        )
        return {
            instance.id: Fetched(
                result,
                next(invited) if task is not None else None,
                registered.get(instance.series_id) if instance.series_id else None,
            )
            for instance, result, task in zip(usable, done, invitees, strict=True)
        }


def _what(instance: Instance) -> str:
    what = f"meeting {instance.id}"
    if instance.entry_id != instance.id:
        what += f" (of {instance.entry_id})"
    return what


async def _cancelled(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel the tasks still running and wait until every one has ended."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def fetch_all(
    config: FetchConfig,
    store: Store,
    run_id: str,
    client: WebexClient,
    *,
    refresh: bool = False,
    progress: FetchProgress | bool | None = None,
) -> FetchOutcome:
    """Plan every config entry and fetch its instances' participants into the store."""
    hooks = as_progress(progress)
    db = StoreThread(store)
    fetcher = Fetcher(config, store, run_id, client, refresh, hooks, db)
    previous_listener = client.on_retry
    client.on_retry = hooks.retry
    before = client.stats.as_dict()
    waited_before = client.limiter.waited_seconds
    started = time.monotonic()
    entries = [
        asyncio.ensure_future(fetcher.entry(index, entry))
        for index, entry in enumerate(config.meetings)
    ]
    try:
        # What the fetch keeps (pages, invitee records, meetings) piles up, and each full
        # collection would walk all of it to find nothing. Young generations are still
        # collected (the cyclic garbage of finished requests goes there).
        with full_collections_paused():
            results = await asyncio.gather(*entries)
    finally:
        # A failure that is not one meeting's (a full disk, a refused token) ends the fetch:
        # nothing may go on asking or writing once the store thread is gone.
        await _cancelled([*entries, *fetcher.tasks()])
        db.close()  # from here on the store is used from this thread again
        client.on_retry = previous_listener
        hooks.close()
    stats = fetcher.stats
    after = client.stats.as_dict()
    for name in (
        "requests",
        "retries",
        "rate_limited",
        "locked",
        "server_errors",
        "transport_errors",
        "bad_pages",
        "token_refreshes",
    ):
        setattr(stats, name, int(after[name] - before[name]))
    stats.backoff_seconds = after["backoff_seconds"] - before["backoff_seconds"]
    stats.rate_wait_seconds = client.limiter.waited_seconds - waited_before
    stats.seconds = time.monotonic() - started
    outcome = FetchOutcome([], [], [], stats)
    outcome.registrants = dict(fetcher.registrant_lists)
    outcome.selections = [fetcher.selections[i] for i in sorted(fetcher.selections)]
    owners = Owners(outcome.notes)
    for (index, entry), (instances, data, failures, notes) in zip(
        enumerate(config.meetings), results, strict=True
    ):
        outcome.notes.extend(notes)
        kept = {i.id for i in instances if owners.claim(i.id, index, entry_ref(entry))}
        outcome.instances.extend(i for i in instances if i.id in kept)
        outcome.data.extend(d for d in data if d.instance.id in kept)
        outcome.failures.extend(
            f for f in failures if f.instance_id is None or f.instance_id in kept
        )
    store.set_run_counts(run_id, stats.as_dict())
    log.info("fetch: %s", stats.summary())
    return outcome
