"""Cell values as every summary reads them: truthy flags, text, flag lists, durations and
shares rounded down in whole numbers."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd

COMPLETE, PARTIAL, ABSENT, EXCUSED = "complete", "partial", "absent", "excused"
COURSE_COMPLETED, COURSE_NOT_COMPLETED = "completed", "not_completed"
NO_ROSTER = "no roster: attendees with an email"
UNIDENTIFIED_CALLER = "UNIDENTIFIED_CALLER"


# --------------------------------------------------------------------------- cells


def truthy(value: Any) -> bool:
    """A boolean cell as the CSVs and the engine write it: bools, `true`/`1`/`yes` text."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    if value is None:
        return False
    try:
        if pd.isna(value):
            return False
    except (TypeError, ValueError):
        pass
    return bool(value)


def text(value: Any) -> str:
    """A cell as text; missing values (None, NaN, NaT) are empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """`frame[name]`, or a column of missing values when the frame lacks it."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def split_flags(flags: Any) -> list[str]:
    return [f for f in text(flags).split(";") if f]


def fmt_seconds(seconds: Any) -> str:
    """Whole seconds as `h:mm:ss` (hours not wrapped at 24); empty for missing values."""
    if seconds is None or pd.isna(seconds):
        return ""
    total = int(seconds)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def floor_permille(numerator: int, denominator: int) -> int | None:
    """numerator / denominator in tenths of a percent, rounded down, in whole numbers."""
    if denominator <= 0:
        return None
    return numerator * 1000 // denominator


def permille_text(permille: int | None) -> str:
    if permille is None:
        return ""
    return f"{permille // 10}.{permille % 10} %"


def share_text(attended: Any, meeting: Any) -> str:
    """Attended share of the meeting, rounded down to one decimal ("66.6 %")."""
    if attended is None or meeting is None or pd.isna(attended) or pd.isna(meeting):
        return ""
    return permille_text(floor_permille(int(attended), int(meeting)))


def share_value(attended: Any, meeting: Any) -> float | None:
    """The same share as a fraction already rounded down to 0.1 % (for a `0.0%` cell,
    which would otherwise round it up)."""
    if attended is None or meeting is None or pd.isna(attended) or pd.isna(meeting):
        return None
    permille = floor_permille(int(attended), int(meeting))
    return None if permille is None else permille / 1000


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` as dicts keyed by column name."""
    return cast(list[dict[str, Any]], frame.to_dict("records"))


def flag_counts(att: pd.DataFrame) -> dict[str, int]:
    """Rows carrying each flag, by flag name."""
    counts: dict[str, int] = {}
    if "flags" not in att.columns:
        return counts
    for value, n in att["flags"].value_counts().items():
        for flag in split_flags(value):
            counts[flag] = counts.get(flag, 0) + int(n)
    return dict(sorted(counts.items()))
