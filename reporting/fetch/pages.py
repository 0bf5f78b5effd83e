"""A list's pages as records: read back from the store, or as a walk received them; the
text of an unusable page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reporting.fetch.entries import INVITEES, REGISTRANTS
from reporting.participants import ParticipantPages
from reporting.store import FetchState, Store
from reporting.webex.schema import decode_items


@dataclass
class Result:
    # Participants: their usable pages (`ParticipantPages`, whose records and BAD_RECORD
    # problems are read from the bodies); invitees and registrants: their items.
    records: Sequence[dict[str, Any]]
    problems: tuple[str, ...]


_PAGE_WORDS = {
    "participants": "participant page",
    INVITEES: "invitee page",
    REGISTRANTS: "registrant page",
}


def problem_text(
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


def records_from_store(store: Store, fetch: FetchState, kind: str = "participants") -> Result:
    records: list[dict[str, Any]] = []
    bodies: list[bytes] = []
    problems: list[str] = []
    number = 0
    for page in store.fetch_pages(fetch.id):
        if page.superseded:
            continue  # asked again; the page after it stands in for it
        number += 1
        if page.problem is not None:
            tracking = page.headers.get("trackingid")
            problems.append(
                problem_text(fetch.instance_id, number, page.url, page.problem, tracking, kind)
            )
            continue
        if kind == "participants":
            bodies.append(page.body)  # decoded by the engine, straight into its columns
        else:
            records.extend(decode_items(page.body))
    if kind == "participants":
        return Result(ParticipantPages(bodies), tuple(problems))
    return Result(tuple(records), tuple(problems))
