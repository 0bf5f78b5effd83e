"""The attendance rules of ATTENDANCE_RULES.md, vectorised over pandas/numpy."""

from __future__ import annotations

from reporting.attendance.engine import (
    ATTENDANCE_COLUMNS,
    COURSE_COLUMNS,
    DEVICE_COLUMNS,
    AttendanceResult,
    compute,
)
from reporting.attendance.flags import ALL_FLAGS, FLAG_EXPLANATIONS
from reporting.attendance.masking import mask_phone, mask_result
from reporting.columns import BREAKOUT_COLUMNS
from reporting.protocols import RulesLike, ThresholdLike

__all__ = [
    "ALL_FLAGS",
    "ATTENDANCE_COLUMNS",
    "BREAKOUT_COLUMNS",
    "COURSE_COLUMNS",
    "DEVICE_COLUMNS",
    "FLAG_EXPLANATIONS",
    "AttendanceResult",
    "RulesLike",
    "ThresholdLike",
    "compute",
    "mask_phone",
    "mask_result",
]
