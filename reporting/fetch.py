"""Plan and fetch: config entries → meeting instances → their participant pages, via the store.

Planning: every config meeting id is looked up (``GET /meetings/{id}``). A series expands
to its ended instances in the period (``GET /meetings?meetingSeriesId=..&meetingType=meeting
&state=ended&from=..&to=..``, every page); a scheduled meeting expands likewise, keeping the
instances whose ``scheduledMeetingId`` is that id; an instance is used as is, whatever its
state. An instance id that Get Meeting cannot describe is still fetched, marked
``looked_up=False`` so the engine infers its window (ATTENDANCE_RULES.md rule 4).

Fetching, per instance, against the store:

- an ended instance with a complete stored fetch is not asked again (``refresh`` forces it);
- an ended instance with a partial fetch resumes from that fetch's stored next link (the
  cursor committed with its last page); if Webex refuses the stored cursor (400), or it
  points to another host than the client's (the token must not go there), the partial
  fetch is abandoned and the instance restarts cleanly from its first page;
- a fetch that reached its end with an unusable page (still bad after one retry) is not
  complete: this run reports its records and ``page_problems``, the next run fetches the
  instance again from its first page;
- in-progress (or not looked-up) instances are always fetched afresh: their data changes.

An instance that several config entries yield (a series and one of its instances) is
audited once, under the first entry in config order; the later entries skip it with a
warning and a note in `FetchOutcome.notes`. `load_offline` applies the same rule.

Each entry is planned and its instances fetched as one task, so fetching starts while other
entries are still being planned. A failure of one entry or instance becomes a
`FetchFailure`; the others complete.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from reporting.collector import full_collections_paused
from reporting.discovery.match import selection_item, selects
from reporting.discovery.people import Registrant, invitees_from_items, registrants_from_items
from reporting.errors import StoreError, WebexError
from reporting.logs import redact
from reporting.model import FetchFailure, Instance, InstanceRecords, Invitee, RecordProblem
from reporting.protocols import EntryLike as _Entry
from reporting.protocols import FetchConfig, MatchLike
from reporting.store import FetchState, Store
from reporting.webex.client import WebexClient, WebexRequestError
from reporting.webex.models import (
    INSTANCE,
    SCHEDULED,
    SERIES,
    impossible_windows,
    looks_like_instance_id,
    meeting_type,
    outside_period,
    parse_time,
    to_instance,
    unlooked_instance,
)
from reporting.webex.schema import (
    BadRecord,
    check_participants,
    decode_items,
    decode_participant_page,
    meeting_problem,
)

log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")

# The most items a walk can hold; past them its next links are looping, not listing.
# List Meetings answers at most 10,000 instances (the API's documented limit).
MAX_LISTED_INSTANCES = 10_000
# Participant records of one instance: a meeting holds at most 1,000 people and a webinar
# (webcast mode) 100,000; a meeting's people get ten records each for rejoins.
MEETING_RECORDS_CEILING = 10_000
WEBINAR_RECORDS_CEILING = 100_000


def participant_ceiling(instance: Instance) -> int:
    """The most participant records ``instance`` can have, by its kind of session (an
    instance that could not be looked up may be a webinar)."""
    if instance.scheduled_type == "webinar" or not instance.looked_up:
        return WEBINAR_RECORDS_CEILING
    return MEETING_RECORDS_CEILING


# -- what discovery reads of an entry (stand-in configs may leave it out) ---------------

INVITEES = "invitees"
REGISTRANTS = "registrants"
# A planned meeting that rule 17 leaves out (named by id, started outside the period).
OUTSIDE_PERIOD = "outsidePeriod"


def entry_ref(entry: _Entry) -> str:
    """The entry's id, or its match described: how the store and messages name it."""
    ref = getattr(entry, "ref", None)
    return str(ref) if ref else str(entry.id)


def _entry_match(entry: _Entry) -> MatchLike | None:
    match: MatchLike | None = getattr(entry, "match", None)
    return match


def _entry_sources(entry: _Entry) -> frozenset[str]:
    return frozenset(getattr(entry, "roster_sources", ()) or ())


def _entry_course(entry: _Entry) -> str | None:
    """The course label: ``course:``, else a match's title pattern (rule 16)."""
    if entry.course:
        return entry.course
    match = _entry_match(entry)
    if match is not None:
        return match.title or entry_ref(entry)
    return None


def _invitees_key(instance_id: str) -> str:
    return f"{INVITEES}:{instance_id}"


def _registrants_key(series_id: str, period_label: str) -> str:
    # Per period: a series that goes on gains registrants, so another month's run asks
    # again instead of reusing an older list; reruns of one month reuse theirs.
    return f"{REGISTRANTS}:{series_id}@{period_label}"


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
    if _entry_match(entry) is not None and not meetings:
        notes.append(f"meetings[{index}] ({ref}) selects no ended meeting in period {period_label}")
    return instances, notes


def selection(index: int, entry: _Entry, meetings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What a ``match:`` entry selected, for the manifest and ``check --online``."""
    return {
        "entry": index,
        "match": entry_ref(entry),
        "selected": [selection_item(m) for m in meetings],
    }


# -- progress ----------------------------------------------------------------------------


class FetchProgress:
    """Hooks the fetch calls as it goes; the base class does nothing."""

    def planned(self, instances: int) -> None:
        """``instances`` more meeting instances are to be fetched."""

    def page(self, instance_id: str) -> None:
        """A participant page was stored."""

    def instance_done(self, instance_id: str, *, ok: bool, reused: bool) -> None:
        """An instance is finished (``reused``: taken from the store without requests)."""

    def retry(self, reason: str, seconds: float) -> None:
        """A request is retried after ``seconds`` (Retry-After or backoff)."""

    def close(self) -> None:
        """The fetch is over."""


class TqdmProgress(FetchProgress):
    """A tqdm bar of meetings on stderr, with pages and retries; silent unless a tty."""

    def __init__(self, enabled: bool | None = None) -> None:
        from tqdm import tqdm

        if enabled is None:
            enabled = sys.stderr.isatty()
        self._bar = tqdm(
            total=0, unit="meeting", desc="fetching", file=sys.stderr, disable=not enabled
        )
        self._pages = 0
        self._retries = 0
        self._waiting = 0.0

    def _postfix(self) -> None:
        text = f"pages={self._pages} retries={self._retries}"
        if self._waiting:
            text += f" waited={self._waiting:.0f}s"
        self._bar.set_postfix_str(text, refresh=False)

    def planned(self, instances: int) -> None:
        self._bar.total = (self._bar.total or 0) + instances
        self._bar.refresh()

    def page(self, instance_id: str) -> None:
        self._pages += 1
        self._postfix()

    def instance_done(self, instance_id: str, *, ok: bool, reused: bool) -> None:
        self._bar.update(1)

    def retry(self, reason: str, seconds: float) -> None:
        self._retries += 1
        self._waiting += seconds
        self._postfix()
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def _progress(progress: FetchProgress | bool | None) -> FetchProgress:
    if progress is True:
        return TqdmProgress()
    if isinstance(progress, FetchProgress):
        return progress
    return FetchProgress()


# -- the outcome -------------------------------------------------------------------------


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


# -- online ------------------------------------------------------------------------------


def _api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Result:
    records: tuple[dict[str, Any], ...]
    problems: tuple[str, ...]
    bad: tuple[RecordProblem, ...] = ()


def _record_problems(offset: int, bad: Sequence[BadRecord]) -> list[RecordProblem]:
    return [RecordProblem(offset + b.index, b.fields, b.detail) for b in bad]


_PAGE_WORDS = {
    "participants": "participant page",
    INVITEES: "invitee page",
    REGISTRANTS: "registrant page",
}


def _problem_text(
    instance_id: str,
    number: int,
    url: str,
    problem: str,
    tracking: str | None,
    kind: str = "participants",
) -> str:
    """``number``: the page's place in the list (1 = first), not counting attempts that
    were asked again."""
    where = f"TrackingId {tracking}" if tracking else url
    subject, _, own_id = instance_id.partition(":")
    if not own_id:
        subject, own_id = "participants", instance_id
    own_id = own_id.split("@", 1)[0]  # registrants are keyed per period
    what = "meeting" if subject != REGISTRANTS else "series"
    return (
        f"{what} {own_id}: {_PAGE_WORDS.get(kind, kind)} {number} ({where}) {problem}; the "
        "page is kept in the store, its records are not counted; the meeting is fetched "
        "again on the next run"
    )


def records_from_store(store: Store, fetch: FetchState, kind: str = "participants") -> _Result:
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    bad: list[RecordProblem] = []
    number = 0
    for page in store.fetch_pages(fetch.id):
        if page.superseded:
            continue  # asked again; the page after it stands in for it
        number += 1
        if page.problem is not None:
            tracking = page.headers.get("trackingid")
            problems.append(
                _problem_text(fetch.instance_id, number, page.url, page.problem, tracking, kind)
            )
            continue
        if kind == "participants":
            decoded = decode_participant_page(page.body)
            bad.extend(_record_problems(len(records), decoded.bad))
            records.extend(decoded.items)
        else:
            records.extend(decode_items(page.body))
    return _Result(tuple(records), tuple(problems), tuple(bad))


class _StoreThread:
    """Runs the fetch's store calls one at a time, in order, on a thread of their own.

    A page's commit takes about 0.3 ms, and a WAL checkpoint now and then (an fsync) up to
    20 ms. Made on the event loop, each held up every request in flight; on this thread
    they overlap the network waits (sqlite3 releases the GIL while SQLite works). Every
    call is still awaited before the walk goes on, so a page and its cursor are committed
    together before the next page is asked for, exactly as before.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attendance-store")

    async def __call__(self, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(call, *args, **kwargs))

    def close(self) -> None:
        """Wait for the call in progress (its transaction ends either way); drop the rest."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Fetcher:
    def __init__(
        self,
        config: FetchConfig,
        store: Store,
        run_id: str,
        client: WebexClient,
        refresh: bool,
        progress: FetchProgress,
        db: _StoreThread,
    ) -> None:
        self.store = store
        self.db = db
        self.run_id = run_id
        self.client = client
        self.refresh = refresh
        self.progress = progress
        self.period = (config.period.start, config.period.end)
        self.label = config.period.label
        self.host_email = config.webex.host_email
        self.stats = FetchStats()
        self._tasks: dict[str, asyncio.Task[_Result]] = {}
        self.selections: dict[int, dict[str, Any]] = {}
        self.registrant_lists: dict[str, tuple[Registrant, ...]] = {}

    # planning

    async def plan(self, index: int, entry: _Entry) -> list[dict[str, Any]]:
        """The meeting objects an entry stands for (the plan the store keeps)."""
        match = _entry_match(entry)
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

    # fetching

    def tasks(self) -> list[asyncio.Task[_Result]]:
        """The fetch task of every instance and list asked for so far."""
        return list(self._tasks.values())

    def _task(self, key: str, make: Callable[[], Any]) -> asyncio.Task[_Result]:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._tasks[key] = task
        return task

    def records(self, instance: Instance) -> asyncio.Task[_Result]:
        """One fetch per instance id, however many entries name it."""
        return self._task(instance.id, lambda: self._fetch(instance))

    def invitees(self, instance: Instance) -> asyncio.Task[_Result]:
        """``GET /meetingInvitees`` of an instance, every page (rule 14), once per run."""
        return self._task(
            _invitees_key(instance.id),
            lambda: self._fetch_list(
                _invitees_key(instance.id),
                "meetingInvitees",
                {"meetingId": instance.id},
                instance.state,
                INVITEES,
                f"invitees of meeting {instance.id}",
                # Invitees are at most the people a session of its kind can hold.
                participant_ceiling(instance),
            ),
        )

    def registrants(self, series_id: str) -> asyncio.Task[_Result]:
        """``GET /meetings/{seriesId}/registrants``, every page (rule 14), once per run."""
        from urllib.parse import quote

        return self._task(
            _registrants_key(series_id, self.label),
            lambda: self._fetch_list(
                _registrants_key(series_id, self.label),
                f"meetings/{quote(series_id, safe='')}/registrants",
                {},
                "ended",
                REGISTRANTS,
                f"registrants of series {series_id}",
                WEBINAR_RECORDS_CEILING,
            ),
        )

    async def _fetch(self, instance: Instance) -> _Result:
        try:
            result, how = await self._stored_or_walk(
                instance.id,
                "meetingParticipants",
                {"meetingId": instance.id},
                instance.state,
                "participants",
                _what(instance),
                participant_ceiling(instance),
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

    async def _fetch_list(
        self,
        key: str,
        path: str,
        params: dict[str, str],
        state: str,
        kind: str,
        what: str,
        max_items: int,
    ) -> _Result:
        result, _how = await self._stored_or_walk(key, path, params, state, kind, what, max_items)
        return result

    async def _stored_or_walk(
        self,
        key: str,
        path: str,
        params: dict[str, str],
        state: str,
        kind: str,
        what: str,
        max_items: int,
    ) -> tuple[_Result, str]:
        """A list's items from a complete stored fetch, a resumed one, or a fresh walk.

        ``key`` names the fetch in the store (an instance id for participants, prefixed
        for invitees and registrants); how it went is "reused", "resumed" or "fetched".
        """
        ended = state == "ended"
        if ended and not self.refresh:
            done = await self.db(self.store.complete_fetch, key)
            if done is not None:
                return await self.db(records_from_store, self.store, done, kind), "reused"
        partial: FetchState | None = None
        if ended and not self.refresh:
            partial = await self.db(self.store.resumable_fetch, key)
        if partial is not None and partial.pages > 0 and not self._own_cursor(partial):
            await self.db(self.store.abandon_fetch, partial.id)
            partial = None
        if partial is not None and partial.pages > 0:
            try:
                walked = await self._walk(
                    partial, key, path, params, kind, what, partial.next_url, max_items
                )
            except WebexRequestError as exc:
                if exc.status != 400:
                    raise
                log.info("%s: stored cursor refused; restarting it", what)
                await self.db(self.store.abandon_fetch, partial.id)
                fresh = await self.db(self.store.start_fetch, self.run_id, key, state)
                walked = await self._walk(fresh, key, path, params, kind, what, None, max_items)
                return walked, "fetched"
            return walked, "resumed"
        if partial is None:
            partial = await self.db(self.store.start_fetch, self.run_id, key, state)
        walked = await self._walk(partial, key, path, params, kind, what, None, max_items)
        return walked, "fetched"

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

    async def _walk(
        self,
        fetch: FetchState,
        key: str,
        path: str,
        params: dict[str, str],
        kind: str,
        what: str,
        start_url: str | None,
        max_items: int,
    ) -> _Result:
        records: list[dict[str, Any]] = []
        problems: list[str] = []
        bad: list[RecordProblem] = []
        number = 0
        participants = kind == "participants"
        pages = self.client.pages(path, params, start_url=start_url, what=what, max_items=max_items)
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
            if page.items is None:
                problem = page.problem or "unusable"
                tracking = page.headers.get("trackingid")
                problems.append(_problem_text(key, number, page.url, problem, tracking, kind))
            else:
                if participants:
                    # The typed check of the schema, on the body the client already read.
                    bad.extend(
                        _record_problems(len(records), check_participants(page.body, page.items))
                    )
                records.extend(page.items)
        if start_url is not None:
            # Resumed: the pages of earlier runs are in the store, read them all back.
            return await self.db(records_from_store, self.store, fetch, kind)
        return _Result(tuple(records), tuple(problems), tuple(bad))

    # one entry, end to end

    async def entry(
        self, index: int, entry: _Entry
    ) -> tuple[list[Instance], list[InstanceRecords], list[FetchFailure], list[str]]:
        ref = entry_ref(entry)
        try:
            meetings = await self.plan(index, entry)
        except WebexError as exc:
            message = str(exc)
            self.stats.entries_failed += 1
            await self.db(
                self.store.save_plan,
                self.run_id,
                ref,
                self.period,
                self.host_email,
                None,
                message,
            )
            await self.db(self.store.record_failure, self.run_id, ref, None, message)
            return [], [], [FetchFailure(ref, None, message)], []
        await self.db(
            self.store.save_plan, self.run_id, ref, self.period, self.host_email, meetings
        )
        instances, notes = planned_instances(meetings, index, entry, self.label)
        if _entry_match(entry) is not None:
            self.selections[index] = selection(index, entry, meetings)
        for note in notes:
            log.warning("%s", note)
        impossible = impossible_windows(index, ref, meetings)
        failures: list[FetchFailure] = []
        for instance in [i for i in instances if i.id in impossible]:
            message = impossible[instance.id]
            self.stats.instances_failed += 1
            await self.db(self.store.record_failure, self.run_id, ref, instance.id, message)
            failures.append(FetchFailure(ref, instance.id, message))
        # Kept among the instances (a session that could not be audited, like a failed
        # fetch), but their participants are not asked for.
        usable = [i for i in instances if i.id not in impossible]
        fresh = [i for i in usable if i.id not in self._tasks]
        self.progress.planned(len({i.id for i in fresh}))
        sources = _entry_sources(entry)
        tasks = [self.records(i) for i in usable]
        invitee_tasks = [self.invitees(i) if _wants_invitees(i, sources) else None for i in usable]
        series = sorted({i.series_id for i in usable if i.series_id})
        registrant_tasks = (
            {s: self.registrants(s) for s in series} if REGISTRANTS in sources else {}
        )
        done = await asyncio.gather(*tasks, return_exceptions=True)
        invited = await asyncio.gather(
            *(t for t in invitee_tasks if t is not None), return_exceptions=True
        )
        registered = dict(
            zip(
                registrant_tasks,
                await asyncio.gather(*registrant_tasks.values(), return_exceptions=True),
                strict=True,
            )
        )
        invited_iter = iter(invited)
        data: list[InstanceRecords] = []
        for instance, result, invitee_task in zip(usable, done, invitee_tasks, strict=True):
            invitee_result = next(invited_iter) if invitee_task is not None else None
            parts = _assemble(
                instance, result, invitee_result, registered, sources, self.registrant_lists
            )
            if isinstance(parts, BaseException):
                if not isinstance(parts, WebexError):
                    raise parts
                message = str(parts)
                await self.db(self.store.record_failure, self.run_id, ref, instance.id, message)
                failures.append(FetchFailure(ref, instance.id, message))
            else:
                data.append(parts)
        return instances, data, failures, notes


def _what(instance: Instance) -> str:
    what = f"meeting {instance.id}"
    if instance.entry_id != instance.id:
        what += f" (of {instance.entry_id})"
    return what


def _wants_invitees(instance: Instance, sources: frozenset[str]) -> bool:
    """Invitees are asked for when the roster names them, and for every webinar: its
    panelists get the role ``panelist`` (rule 10) whatever the roster."""
    return INVITEES in sources or instance.scheduled_type == "webinar"


def _assemble(
    instance: Instance,
    result: _Result | BaseException,
    invitees: _Result | BaseException | None,
    registered: Mapping[str, _Result | BaseException],
    sources: frozenset[str],
    registrant_lists: dict[str, tuple[Registrant, ...]],
) -> InstanceRecords | BaseException:
    """An instance's records with its invitees, or why it cannot be audited.

    Invitees or registrants a roster needs and that could not be fetched fail the
    instance (who was required is unknown); a webinar's invitees asked for its panelists
    only leave a page problem (panelists are then not told apart)."""
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
        listed = registered.get(instance.series_id)
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
        record_problems=result.bad,
    )


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
    hooks = _progress(progress)
    db = _StoreThread()
    fetcher = _Fetcher(config, store, run_id, client, refresh, hooks, db)
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
        # The parsed records pile up (about ten objects per participant, half a million
        # for 200 meetings), and each full collection walked all of them: 90-140 ms with
        # no response read, a few times per fetch. JSON records hold no cycles, so those
        # walks find nothing. Young generations are still collected (the cyclic garbage of
        # finished requests goes there); what becomes garbage only after two young
        # collections waits for the end (measured: ~40 objects after a 900-request fetch
        # with 10 % faults and ~100 retries).
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
    owners = _Owners(outcome.notes)
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


class _Owners:
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


# -- offline -------------------------------------------------------------------------------


def load_offline(config: FetchConfig, store: Store) -> FetchOutcome:
    """See `_load_offline`; parsed records hold no cycles (as in `fetch_all`)."""
    with full_collections_paused():
        return _load_offline(config, store)


def _load_offline(config: FetchConfig, store: Store) -> FetchOutcome:  # noqa: C901, PLR0915
    """The FetchOutcome of the newest stored plan and pages, without any request.

    Each entry's newest plan is expanded as online (an instance several entries yield is
    kept under the first, with a note; rule 16 and 17 notes are given again). Per
    instance, its newest fetch that was not abandoned decides:

    - finished (complete, or walked to its end with unusable pages): its records and
      ``page_problems``, unless a failure was recorded for the instance after that fetch;
    - unfinished (no page at all, or interrupted with pages missing), none, or followed by
      a failure: a `FetchFailure` with the stored failure message, as the online run
      reported it. Partial records are never passed on as if they were all.

    Invitees and registrants are read the same way; when a roster needs them and the
    store holds no finished list, the instance fails like one whose pages are missing.

    Raises `StoreError` when the store holds no plan at all for the period.
    """
    period = (config.period.start, config.period.end)
    host_email = config.webex.host_email
    stats = FetchStats(offline=True)
    outcome = FetchOutcome([], [], [], stats)
    owners = _Owners(outcome.notes)
    planned_any = False
    for index, entry in enumerate(config.meetings):
        ref = entry_ref(entry)
        plan = store.latest_plan(ref, period, host_email)
        if plan is None:
            message = (
                f"meeting {ref} (meetings[{index}]): not in the store for period "
                f"{config.period.label}; run once without --offline"
            )
            stats.entries_failed += 1
            outcome.failures.append(FetchFailure(ref, None, message))
            continue
        planned_any = True
        meetings, failure = plan
        if meetings is None:
            stats.entries_failed += 1
            outcome.failures.append(FetchFailure(ref, None, failure or "not planned"))
            continue
        instances, notes = planned_instances(meetings, index, entry, config.period.label)
        for note in notes:
            log.warning("%s", note)
        outcome.notes.extend(notes)
        if _entry_match(entry) is not None:
            outcome.selections.append(selection(index, entry, meetings))
        sources = _entry_sources(entry)
        impossible = impossible_windows(index, ref, meetings)
        for instance in instances:
            if not owners.claim(instance.id, index, ref):
                continue
            outcome.instances.append(instance)
            failed = impossible.get(instance.id) or _offline_failure(store, instance.id)
            if failed is not None:
                stats.instances_failed += 1
                outcome.failures.append(FetchFailure(ref, instance.id, failed))
                continue
            fetch = store.latest_fetch(instance.id)
            assert fetch is not None  # _offline_failure said it is finished
            result = records_from_store(store, fetch)
            invitees: _Result | BaseException | None = _offline_list(
                store, _invitees_key(instance.id), INVITEES
            )
            if invitees is None and _wants_invitees(instance, sources):
                invitees = WebexError(
                    f"meeting {instance.id}: its invitees are not in the store; run once "
                    "without --offline"
                )
            elif not _wants_invitees(instance, sources):
                invitees = None
            registered: dict[str, _Result | BaseException] = {}
            if REGISTRANTS in sources and instance.series_id:
                listed = _offline_list(
                    store, _registrants_key(instance.series_id, config.period.label), REGISTRANTS
                )
                registered[instance.series_id] = listed or WebexError(
                    f"series {instance.series_id}: its registrants are not in the store; run "
                    "once without --offline"
                )
            parts = _assemble(instance, result, invitees, registered, sources, outcome.registrants)
            if isinstance(parts, BaseException):
                stats.instances_failed += 1
                outcome.failures.append(FetchFailure(ref, instance.id, str(parts)))
                continue
            stats.instances_reused += 1
            stats.pages += fetch.pages
            outcome.data.append(parts)
    if not planned_any and config.meetings:
        raise StoreError(
            f"the store {store.path} holds nothing for period {config.period.label}",
            hint="run once without --offline to fetch the meetings",
        )
    return outcome


def _offline_list(store: Store, key: str, kind: str) -> _Result | None:
    """A stored invitee or registrant list walked to its end; None when there is none."""
    fetch = store.latest_fetch(key)
    if fetch is None or not fetch.finished:
        return None
    if store.last_failure(key, since=fetch.updated) is not None:
        return None
    return records_from_store(store, fetch, kind)


def _offline_failure(store: Store, instance_id: str) -> str | None:
    """Why the store cannot stand for an instance's participants; None when it can."""
    fetch = store.latest_fetch(instance_id)
    if fetch is None:
        return store.last_failure(instance_id) or (
            f"meeting {instance_id}: no participant pages in the store; run once without --offline"
        )
    if not fetch.finished:
        # The failure that stopped this fetch (recorded after it started), if any.
        return store.last_failure(instance_id, since=fetch.started) or (
            f"meeting {instance_id}: only {fetch.pages} participant page(s) are in the store "
            "(the fetch was interrupted); rerun without --offline to complete it"
        )
    return store.last_failure(instance_id, since=fetch.updated)
