"""What every renderer receives, and the small formatting rules all formats share.

The renderers depend on the *shape* of the report spec and the attendance result
(the Protocols of `reporting.protocols`), not on the classes of `reporting.config` /
`reporting.attendance`, so tests can build inputs directly and the stages stay decoupled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.model import FetchFailure, Instance, RunInfo
from reporting.protocols import ReportSpecLike, ResultLike
from reporting.render.summary import Criteria, ReportSummary, summarize
from reporting.render.summary.values import fmt_seconds

COMPLIANCE = "compliance"


@dataclass(frozen=True)
class ReportInput:
    """One report to render; `result` is already masked for `spec.audience`."""

    spec: ReportSpecLike
    run: RunInfo
    instances: Sequence[Instance]
    result: ResultLike
    failures: Sequence[FetchFailure] = ()
    page_problems: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Data-quality lines (records flagged BAD_RECORD, settings that defeat the result),
    # made once by reporting.quality and shown in the data-quality section as they are.
    notes: Sequence[str] = ()
    # What every rate means (rule 11): the rules and each entry's roster; None when the
    # caller did not say (the report then says the criteria are not stated).
    criteria: Criteria | None = None
    page_size: str = "A4"  # "A4" | "Letter"
    pdfa: bool = False  # PDF/A-3b archival output
    templates: Path | None = None  # a user folder overriding shipped templates

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.run.timezone)

    @cached_property
    def summary(self) -> ReportSummary:
        """Every figure the report states, computed once for all its formats."""
        return summarize(self)

    @property
    def show_devices(self) -> bool:
        return bool(self.spec.show_devices)

    @property
    def pdf_variant(self) -> str | None:
        return "pdf/a-3b" if self.pdfa else None


def flag_explanations() -> dict[str, str]:
    """Plain-English meaning of every flag, from the attendance rules module."""
    try:
        from reporting.attendance.flags import FLAG_EXPLANATIONS
    except ImportError:  # pragma: no cover - only while the rules module is missing
        return dict(_FALLBACK_EXPLANATIONS)
    return dict(FLAG_EXPLANATIONS)


_FALLBACK_EXPLANATIONS = {
    "LATE_JOIN": "The person's first join was later than the start plus the grace period.",
    "EARLY_LEAVE": "The person's last leave was earlier than the end minus the grace period.",
}


# Whole seconds as `h:mm:ss` (hours not wrapped at 24): the summary's own, so a duration
# reads the same in the summary's sentences and in the tables.
fmt_duration = fmt_seconds


def to_local(value: Any, tz: ZoneInfo) -> datetime | None:
    """An aware timestamp in the display zone, or None for missing values."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return None
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    result: datetime = ts.tz_convert(tz).to_pydatetime()
    return result


def offset_text(local: datetime) -> str:
    """The UTC offset of an aware time as ``+01:00``."""
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def is_ambiguous(local: datetime) -> bool:
    """The wall time of ``local`` occurs twice in its zone (the hour a DST change repeats)."""
    wall = local.replace(tzinfo=None)
    zone = local.tzinfo
    return (
        wall.replace(tzinfo=zone, fold=0).utcoffset()
        != wall.replace(tzinfo=zone, fold=1).utcoffset()
    )


def ambiguous_mask(local: pd.Series, tz: ZoneInfo) -> npt.NDArray[np.bool_]:
    """Which aware local times of a column fall in a repeated (DST fold) hour."""
    wall = local.dt.tz_localize(None)
    again = wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    mask: npt.NDArray[np.bool_] = (again.isna() & local.notna()).to_numpy(dtype=bool)
    return mask


def fmt_local(value: Any, tz: ZoneInfo, *, date: bool = True) -> str:
    """A time in the display zone; a wall time that occurs twice (DST fold) carries its
    UTC offset, so 01:30 +02:00 and 01:30 +01:00 are told apart."""
    local = to_local(value, tz)
    if local is None:
        return ""
    text = local.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    return f"{text} {offset_text(local)}" if is_ambiguous(local) else text


def fmt_local_many(values: Any, tz: ZoneInfo, *, date: bool = True) -> list[str]:
    """`fmt_local` of every value of a column, vectorised (the PDF formats two or four
    times per row: a loop over `fmt_local` was a third of its serial planning)."""
    stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    local = stamps.dt.tz_convert(tz)
    text = local.dt.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    out = [t if isinstance(t, str) else "" for t in text]
    for i in np.flatnonzero(ambiguous_mask(local, tz)).tolist():
        out[i] = f"{out[i]} {offset_text(local.iloc[i].to_pydatetime())}"
    return out


def share(attended: Any, meeting: Any) -> float | None:
    """Attended share of the meeting as a fraction (0..1), None when undefined."""
    if attended is None or meeting is None or pd.isna(attended) or pd.isna(meeting):
        return None
    if int(meeting) <= 0:
        return None
    return int(attended) / int(meeting)


def fmt_share(value: float | None) -> str:
    # Rounded down so a row shown as "80.0 %" never hides a share just under a threshold.
    if value is None:
        return ""
    return f"{int(value * 1000) / 10:.1f} %"


def split_flags(flags: Any) -> list[str]:
    if flags is None or (isinstance(flags, float) and pd.isna(flags)):
        return []
    return [f for f in str(flags).split(";") if f]
