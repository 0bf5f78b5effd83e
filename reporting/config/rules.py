"""``rules:``: the attendance rules of ATTENDANCE_RULES.md rule 6 (the minimum, the
graces, the sessions a course needs)."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from reporting.config.values import (
    MODEL_CONFIG,
    context_of,
    format_duration,
    invalid,
    parse_duration,
    show_value,
)


class Threshold(BaseModel):
    """``rules.min_attendance``: exactly one of a share (``percent``, e.g. ``Fraction(80)``
    for ``80%``, ``Fraction(175, 2)`` for ``87.5%``) or a duration in ``seconds``.

    In YAML it is one string: ``80%`` / ``87.5%`` (0 < p ≤ 100) or ``45m`` / ``1h30m``.
    """

    model_config = MODEL_CONFIG

    percent: Fraction | None = None
    seconds: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, (str, int, float)) and not isinstance(data, bool):
            return _threshold_fields(data)
        return data

    @field_validator("percent", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if value is None or isinstance(value, Fraction):
            return value
        if isinstance(value, bool):
            raise invalid(f"not a percentage: {show_value(value)}")
        try:
            # via str: Fraction(87.5) is exact but Fraction(0.1) would not be
            return Fraction(str(value))
        except (ValueError, ZeroDivisionError):
            raise invalid(f"not a percentage: {show_value(value)}", "write it like 80%") from None

    @model_validator(mode="after")
    def _one_of(self) -> Threshold:
        if (self.percent is None) == (self.seconds is None):
            raise invalid("give exactly one of a percentage or a duration", "e.g. 80% or 45m")
        if self.percent is not None and not 0 < self.percent <= 100:
            raise invalid(
                f"percentage must be above 0% and at most 100%, got {float(self.percent):g}%"
            )
        if self.seconds is not None and self.seconds <= 0:
            raise invalid("the minimum duration must be above 0", "e.g. 45m")
        return self

    def __str__(self) -> str:
        if self.percent is not None:
            return f"{float(self.percent):g}%"
        return format_duration(self.seconds or 0)


_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")


def parse_threshold(text: str) -> Threshold:
    """``80%`` / ``87.5%`` → a share; ``45m`` → a duration (see :class:`Threshold`).
    Raises pydantic's ``ValidationError`` (a ``ValueError``) when ``text`` is neither."""
    return Threshold.model_validate(text)


def _threshold_fields(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        raise invalid(
            f"not a percentage or duration: {show_value(text)}",
            "write a percentage like 80% or a duration like 45m",
        )
    match = _PERCENT.match(text.strip())
    if match:
        return {"percent": Fraction(match.group(1))}
    if text.strip().endswith("%"):
        raise invalid(f"not a percentage: {show_value(text)}", "write it like 80% or 87.5%")
    try:
        return {"seconds": parse_duration(text)}
    except PydanticCustomError:
        raise invalid(
            f"not a percentage or duration: {show_value(text)}",
            "write a percentage like 80% or a duration like 45m or 1h30m",
        ) from None


class Rules(BaseModel):
    """The attendance rules (ATTENDANCE_RULES.md, rule 6): the minimum to count as
    attended, the grace before a join is "late" / a leave "early", and how many sessions
    of a course make it complete (``sessions_required``: ``None`` = all of them)."""

    model_config = MODEL_CONFIG

    min_attendance: Threshold = Field(default_factory=lambda: Threshold(percent=Fraction(80)))
    late_grace_seconds: int = Field(300, alias="late_grace")
    early_leave_grace_seconds: int = Field(300, alias="early_leave_grace")
    sessions_required: int | None = None

    @field_validator("late_grace_seconds", "early_leave_grace_seconds", mode="before")
    @classmethod
    def _grace(cls, value: Any, info: ValidationInfo) -> Any:
        # Direct construction passes seconds; YAML must say its unit (see parse_duration).
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not context_of(info).get("yaml")
        ):
            if value < 0:
                raise invalid("a grace cannot be negative")
            return value
        return parse_duration(value)

    @field_validator("sessions_required", mode="before")
    @classmethod
    def _sessions(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip() == "all"):
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        raise invalid(
            f"expected `all` or a positive whole number, got {show_value(value)}",
            "e.g. sessions_required: all, or sessions_required: 3",
        )
