"""Offline: the outcome of the newest stored plans and pages, without any request.

Each entry's newest plan is expanded as online (an instance several entries yield is kept
under the first, with a note; rule 16 and 17 notes are given again). Per instance, its
newest fetch that was not abandoned decides:

- finished (complete, or walked to its end with unusable pages): its records and
  ``page_problems``, unless a failure was recorded for the instance after that fetch;
- unfinished (no page at all, or interrupted with pages missing), none, or followed by a
  failure: a `FetchFailure` with the stored failure message, as the online run reported
  it. Partial records are never passed on as if they were all.

Invitees and registrants are read the same way; when a roster needs them and the store
holds no finished list, the instance fails like one whose pages are missing. The records
are then built by the path online runs use (`reporting.fetch.build`).
"""

from __future__ import annotations

from reporting.collector import full_collections_paused
from reporting.errors import StoreError, WebexError
from reporting.fetch.build import Fetched, build_instances
from reporting.fetch.entries import (
    INVITEES,
    REGISTRANTS,
    PlannedEntry,
    entry_ref,
    expand_plan,
    invitees_key,
    registrants_key,
    wants_invitees,
)
from reporting.fetch.pages import Result, records_from_store
from reporting.fetch.stats import FetchOutcome, FetchStats, Owners
from reporting.model import FetchFailure, Instance
from reporting.protocols import FetchConfig
from reporting.store import FetchState, Store


def load_offline(config: FetchConfig, store: Store) -> FetchOutcome:
    """The FetchOutcome of the newest stored plan and pages (see the module's docstring).

    Raises `StoreError` when the store holds no plan at all for the period. Parsed
    records hold no cycles, so full collections wait (as in `fetch_all`).
    """
    with full_collections_paused():
        return _load_offline(config, store)


def _load_offline(config: FetchConfig, store: Store) -> FetchOutcome:
    period = (config.period.start, config.period.end)
    outcome = FetchOutcome([], [], [], FetchStats(offline=True))
    owners = Owners(outcome.notes)
    planned_any = False
    for index, entry in enumerate(config.meetings):
        ref = entry_ref(entry)
        plan = store.latest_plan(ref, period, config.webex.host_email)
        if plan is None:
            message = (
                f"meeting {ref} (meetings[{index}]): not in the store for period "
                f"{config.period.label}; run once without --offline"
            )
            _entry_failed(outcome, FetchFailure(ref, None, message))
            continue
        planned_any = True
        meetings, failure = plan
        if meetings is None:
            _entry_failed(outcome, FetchFailure(ref, None, failure or "not planned"))
            continue
        planned = expand_plan(index, entry, meetings, config.period.label)
        outcome.notes.extend(planned.notes)
        if planned.selection is not None:
            outcome.selections.append(planned.selection)
        _load_entry(store, config.period.label, planned, owners, outcome)
    if not planned_any and config.meetings:
        raise StoreError(
            f"the store {store.path} holds nothing for period {config.period.label}",
            hint="run once without --offline to fetch the meetings",
        )
    return outcome


def _entry_failed(outcome: FetchOutcome, failure: FetchFailure) -> None:
    outcome.stats.entries_failed += 1
    outcome.failures.append(failure)


def _load_entry(
    store: Store, label: str, planned: PlannedEntry, owners: Owners, outcome: FetchOutcome
) -> None:
    """The entry's instances it owns, read from the store and built as online."""
    owned = [i for i in planned.instances if owners.claim(i.id, planned.index, planned.ref)]
    outcome.instances.extend(owned)
    fetched: dict[str, Fetched] = {}
    pages: dict[str, int] = {}
    for instance in owned:
        failed = planned.impossible.get(instance.id) or _offline_failure(store, instance.id)
        if failed is not None:
            fetched[instance.id] = Fetched(WebexError(failed))
            continue
        fetch = store.latest_fetch(instance.id)
        assert fetch is not None  # _offline_failure said it is finished
        pages[instance.id] = fetch.pages
        fetched[instance.id] = _stored_lists(store, label, instance, fetch, planned.sources)
    data, failures = build_instances(
        planned.ref, owned, fetched, planned.sources, outcome.registrants
    )
    outcome.stats.instances_failed += len(failures)
    outcome.stats.instances_reused += len(data)
    outcome.stats.pages += sum(pages[d.instance.id] for d in data)
    outcome.failures.extend(failures)
    outcome.data.extend(data)


def _stored_lists(
    store: Store, label: str, instance: Instance, fetch: FetchState, sources: frozenset[str]
) -> Fetched:
    """A finished instance's participants, and the invitees and registrants it needs."""
    invitees: Result | BaseException | None = None
    if wants_invitees(instance, sources):
        invitees = _offline_list(store, invitees_key(instance.id), INVITEES) or WebexError(
            f"meeting {instance.id}: its invitees are not in the store; run once without --offline"
        )
    registrants: Result | BaseException | None = None
    if REGISTRANTS in sources and instance.series_id:
        key = registrants_key(instance.series_id, label)
        registrants = _offline_list(store, key, REGISTRANTS) or WebexError(
            f"series {instance.series_id}: its registrants are not in the store; run "
            "once without --offline"
        )
    return Fetched(records_from_store(store, fetch), invitees, registrants)


def _offline_list(store: Store, key: str, kind: str) -> Result | None:
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
