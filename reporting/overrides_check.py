"""`attendance check` on the overrides file: what would not apply, before any fetch.

Reads the overrides file and the rosters of the config's entries, and returns one line
per problem: malformed lines (which `run` refuses: errors), and decisions that would not
apply (unknown person, a scope that names nothing, a same_as naming no roster person,
contradicting decisions: warnings, since `run` reports them and goes on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reporting.config import Config
from reporting.overrides import PlannedScope, check_overrides, read_overrides
from reporting.roster import Roster, load_roster


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

    def roster(path: Path | None) -> Roster | None:
        if path is None:
            return None
        if path not in cache:
            cache[path] = load_roster(path, config.roster_phone_region)
        return cache[path]

    entries = [
        PlannedScope(
            entry_id=getattr(entry, "id", None),
            course=entry.course or getattr(entry, "id", None) or "",
            roster=roster(entry.roster or config.roster),
        )
        for entry in config.meetings
    ]
    return OverridesCheck(
        config.overrides, len(overrides), errors, check_overrides(overrides, entries)
    )
