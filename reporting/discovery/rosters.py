"""Rule 14: the roster of each instance, from CSV files, invitees and registrants.

An entry's ``roster`` (or, when it names none, the top-level ``roster``) is the union, by
person key, of its CSV files, the instance's invitees that are not panelists, and the
approved registrants of the instance's series. The first source that names a person gives
their name and department; later sources only add aliases no one else holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from reporting.discovery.people import Registrant
from reporting.model import InstanceRecords
from reporting.protocols import RosterConfig
from reporting.roster import Person, Roster, load_roster, roster_from_people, union_rosters

INVITEES = "invitees"
REGISTRANTS = "registrants"


def rosters_by_instance(
    config: RosterConfig,
    data: Sequence[InstanceRecords],
    registrants: Mapping[str, tuple[Registrant, ...]],
    *,
    load: Callable[[Path], Roster] = load_roster,
) -> tuple[dict[str, Roster | None], list[str]]:
    """(instance id -> its roster or None, notes for the report) for every fetched instance."""
    cache: dict[Path, Roster] = {}
    rosters: dict[str, Roster | None] = {}
    notes: list[str] = []

    def csv(path: Path) -> Roster:
        if path not in cache:
            cache[path] = load(path)
        return cache[path]

    for item in data:
        instance = item.instance
        entry = config.meetings[instance.entry_index]
        files = entry.roster_files
        if files is None:
            files = (config.roster,) if config.roster is not None else ()
        sources = entry.roster_sources
        if not files and not sources:
            rosters[instance.id] = None
            continue
        parts = [csv(path) for path in files]
        if INVITEES in sources and item.invitees is not None:
            invited = [Person(i.email, i.display_name) for i in item.invitees if not i.panelist]
            if not invited:
                notes.append(
                    f"meeting {instance.id}: its roster names invitees, and Webex lists no "
                    "invitee who is not a panelist"
                )
            parts.append(roster_from_people(invited, INVITEES))
        if REGISTRANTS in sources:
            listed = registrants.get(instance.series_id or "", ())
            approved = [Person(r.email, r.name) for r in listed if r.approved]
            if not approved:
                notes.append(
                    f"meeting {instance.id}: its roster names registrants, and Webex lists "
                    f"no approved registrant of series {instance.series_id}"
                )
            parts.append(roster_from_people(approved, REGISTRANTS))
        # Sources that list nobody still make a roster: nobody is required from them.
        rosters[instance.id] = union_rosters(parts) or Roster(entries=())
    return rosters, notes
