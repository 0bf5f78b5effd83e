"""The criteria a report states beside its rates (rule 11), read from the config."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reporting.render.summary import Criteria


def _source(value: Any) -> str:
    if isinstance(value, Path):
        return f"roster {value.name}"
    text = str(value)
    if text in ("invitees", "registrants"):
        return f"Webex {text}"
    return f"roster {Path(text).name}"


def roster_text(value: Any) -> str | None:
    """`roster security.csv`, `roster a.csv + Webex invitees`; None without a roster."""
    if value is None:
        return None
    if isinstance(value, (str, Path)):
        return _source(value)
    if isinstance(value, Sequence):
        parts = [_source(v) for v in value if v is not None]
        return " + ".join(parts) or None
    return _source(value)


def report_criteria(config: Any) -> Criteria:
    """The rules and each config entry's roster, as every rate of the run states them."""
    rules = config.rules
    threshold = rules.min_attendance
    default = getattr(config, "roster", None)
    rosters: dict[int, str] = {}
    for index, entry in enumerate(config.meetings):
        described = roster_text(getattr(entry, "roster", None) or default)
        if described is not None:
            rosters[index] = described
    return Criteria(
        min_percent=threshold.percent,
        min_seconds=threshold.seconds,
        late_grace_seconds=rules.late_grace_seconds,
        early_leave_grace_seconds=rules.early_leave_grace_seconds,
        sessions_required=rules.sessions_required,
        rosters=rosters,
    )
