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

The package: `entries` (what an entry says, its plan expanded), `plan` (planning
requests), `run` (`fetch_all`), `offline` (`load_offline`), `build` (the one path from
fetched lists to instance records, online and offline), `pages` (records from pages),
`store_thread` (the thread that makes the fetch's store calls), `progress` and `stats`.
"""

from reporting.fetch.entries import (
    MAX_LISTED_INSTANCES,
    MEETING_RECORDS_CEILING,
    WEBINAR_RECORDS_CEILING,
    entry_ref,
    participant_ceiling,
    planned_instances,
    selection,
)
from reporting.fetch.offline import load_offline
from reporting.fetch.pages import records_from_store
from reporting.fetch.plan import Planner
from reporting.fetch.progress import FetchProgress, TqdmProgress
from reporting.fetch.run import Fetcher, fetch_all
from reporting.fetch.stats import FetchOutcome, FetchStats
from reporting.fetch.store_thread import StoreThread

__all__ = [
    "MAX_LISTED_INSTANCES",
    "MEETING_RECORDS_CEILING",
    "WEBINAR_RECORDS_CEILING",
    "FetchOutcome",
    "FetchProgress",
    "FetchStats",
    "Fetcher",
    "Planner",
    "StoreThread",
    "TqdmProgress",
    "entry_ref",
    "fetch_all",
    "load_offline",
    "participant_ceiling",
    "planned_instances",
    "records_from_store",
    "selection",
]
