"""`attendance check` on the overrides file: what would not apply, before any fetch.

Reads the overrides file and the rosters of the config's entries, and returns one line
per problem: malformed lines (which `run` refuses: errors), and decisions that would not
apply (unknown person, a scope that names nothing, a same_as naming no roster person,
contradicting decisions: warnings, since `run` reports them and goes on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reporting.config import Config, MeetingEntry
from reporting.overrides import PlannedScope, check_overrides, read_overrides
from reporting.roster import Roster, load_roster, union_rosters


@dataclass(frozen=True)
class OverridesCheck:
    path: Path | None
    decisions: int = 0
    errors: list[str] = field(default_factory=list)  # `run` stops at the first
    warnings: list[str] = field(default_factory=list)  # `run` warns and goes on


def check_config_overrides(config: Config) -> OverridesCheck:
    """The overrides file of ``config`` checked against its entries and rosters. A roster
    that cannot be read raises :class:`ConfigError`, as in `run`."""
    if config.overrides is None:
        return OverridesCheck(None)
    overrides, errors = read_overrides(config.overrides)
    cache: dict[Path, Roster] = {}

    def load(path: Path) -> Roster:
        if path not in cache:
            cache[path] = load_roster(path, config.roster_phone_region)
        return cache[path]

    def roster(entry: MeetingEntry) -> Roster | None:
        # Invitees and registrants are known only once fetched: such a roster is not
        # checked here (the run warns about an override that matched no row).
        if entry.roster_sources:
            return None
        files = entry.roster_files
        if files is None:
            files = (config.roster,) if config.roster is not None else ()
        return union_rosters(load(path) for path in files)

    entries = [
        PlannedScope(
            entry_id=entry.id,
            course=entry.course or (entry.match.title if entry.match else None) or entry.ref,
            roster=roster(entry),
        )
        for entry in config.meetings
    ]
    return OverridesCheck(
        config.overrides, len(overrides), errors, check_overrides(overrides, entries)
    )
