"""Synthetic report inputs for the renderer's tests and benchmarks.

Builds DataFrames in the shape of `AttendanceResult` (see docs/ARCHITECTURE.md) without
running the fetch or the rules, so the renderers can be exercised at any size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pandas as pd

from reporting.columns import BREAKOUT_COLUMNS, COURSE_CSV_COLUMNS, DEVICE_CSV_COLUMNS
from reporting.model import FetchFailure, Instance, RunInfo
from reporting.render.context import ReportInput
from reporting.render.summary import Criteria


@dataclass(frozen=True)
class SampleSpec:
    name: str = "compliance"
    audience: str = "compliance"
    formats: tuple[str, ...] = ("pdf", "xlsx")
    email_to: tuple[str, ...] = ()
    show_devices: bool = True


@dataclass(frozen=True)
class SampleResult:
    attendance: pd.DataFrame
    devices: pd.DataFrame
    breakouts: pd.DataFrame
    courses: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)


START = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)


def _instance(m: int) -> Instance:
    start = START + timedelta(days=7 * m)
    return Instance(
        f"meet{m:03d}_I_{m:05d}",
        0,
        "series-1",
        "security-2026",
        f"Security awareness {m + 1}",
        "series-1",
        start,
        start + timedelta(hours=1),
        "ended",
        "host@example.com",
    )


def _attendance_row(inst: Instance, i: int, name: str, status: str) -> dict[str, Any]:
    assert inst.start is not None
    start = inst.start
    attended = ATTENDED[status]
    key = f"p{i:05d}@example.com"
    flags = "LATE_JOIN" if status == "partial" else ""
    if i % 7 == 3:
        flags = "DURATION_MISMATCH;LATE_JOIN"
    return {
        "meeting_id": inst.id,
        "meeting_title": inst.title,
        "meeting_start": start,
        "meeting_end": inst.end,
        "meeting_seconds": 3600,
        "person_key": key,
        "display_name": name,
        "email": key,
        "is_host": i == 0,
        "is_cohost": False,
        "attended_seconds": attended,
        "main_session_seconds": attended - 600 * (i % 2),
        "breakout_seconds": 600 * (i % 2),
        "first_join": start + timedelta(seconds=30 + 600 * (status == "partial"))
        if attended
        else pd.NaT,
        "last_leave": start + timedelta(seconds=30 + attended) if attended else pd.NaT,
        "segments": 1 if attended else 0,
        "devices": 1 if attended else 0,
        "status": status,
        "flags": flags,
        "course": "security-2026",
        "roster_name": name,
        "department": "Dept " + str(i % 4),
    }


def _device_row(inst: Instance, m: int, i: int, attended: int, phone: str) -> dict[str, Any]:
    assert inst.start is not None
    dial_in = i % 5 == 0
    return {
        "meeting_id": inst.id,
        "person_key": f"p{i:05d}@example.com",
        "correlation_id": f"c-{m}-{i}",
        "device_type": "tp_phone" if dial_in else "webex_meeting_app",
        "audio_type": "pstn" if dial_in else "voip",
        "call_type": "callIn" if dial_in else "",
        "phone_number": phone if dial_in else "",
        "joined": inst.start + timedelta(seconds=30, milliseconds=250 * (i % 2)),
        "left": inst.start + timedelta(seconds=30 + attended),
        "duration_seconds": attended,
    }


def _breakout_row(inst: Instance, m: int, i: int) -> dict[str, Any]:
    assert inst.start is not None
    return {
        "meeting_id": inst.id,
        "person_key": f"p{i:05d}@example.com",
        "breakout_id": f"b{m}",
        "breakout_name": "Group A",
        "joined": inst.start + timedelta(minutes=20),
        "left": inst.start + timedelta(minutes=30),
        "duration_seconds": 600,
    }


def _courses(attendance: pd.DataFrame, meetings: int, email: str) -> pd.DataFrame:
    """One course row per person; every row carries `email` (the last person's key, as
    the samples always have)."""
    course_rows = []
    if len(attendance):
        for group_key, part in attendance.groupby("person_key", sort=True):
            done = int((part["status"] == "complete").sum())
            course_rows.append(
                {
                    "course": "security-2026",
                    "person_key": str(group_key),
                    "display_name": part["display_name"].iloc[0],
                    "email": email,
                    "sessions_total": meetings,
                    "sessions_complete": done,
                    "completed": done == meetings,
                    "department": part["department"].iloc[0],
                    "required": True,
                    "sessions_excused": 0,
                    "status": "completed" if done == meetings else "not_completed",
                    "missing": "",
                }
            )
    return pd.DataFrame(course_rows, columns=list(COURSE_CSV_COLUMNS))


RUN = RunInfo(
    run_id="run0123456789",
    config_path="configs/sample.yaml",
    config_hash="ab" * 32,
    period_label="2026-10",
    period_start=datetime(2026, 9, 30, 22, tzinfo=UTC),
    period_end=datetime(2026, 10, 31, 23, tzinfo=UTC),
    as_of=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
    timezone="Europe/Berlin",
    tool_version="0.1.0",
)
STATUSES = ("complete", "partial", "absent")
ATTENDED = {"complete": 3300, "partial": 1800, "absent": 0}


def sample_input(
    *,
    meetings: int = 2,
    people: int = 6,
    names: list[str] | None = None,
    audience: str = "compliance",
    show_devices: bool | None = None,
    phone: str = "+1 (408) 555-0199",
    **kwargs: Any,
) -> ReportInput:
    """`meetings` instances of 1 h with `people` rows each (or one per name in `names`)."""
    instances, att, dev, brk = [], [], [], []
    roster = names if names is not None else [f"Person {i:05d}" for i in range(people)]
    for m in range(meetings):
        inst = _instance(m)
        instances.append(inst)
        for i, name in enumerate(roster):
            status = STATUSES[i % 3] if names is None else "partial"
            att.append(_attendance_row(inst, i, name, status))
            if ATTENDED[status]:
                dev.append(_device_row(inst, m, i, ATTENDED[status], phone))
            if i % 2:
                brk.append(_breakout_row(inst, m, i))
    attendance = pd.DataFrame(att)
    for col in ("meeting_start", "meeting_end", "first_join", "last_leave"):
        attendance[col] = pd.to_datetime(attendance[col], utc=True)
    devices = pd.DataFrame(dev, columns=list(DEVICE_CSV_COLUMNS))
    breakouts = pd.DataFrame(brk, columns=list(BREAKOUT_COLUMNS))
    courses = _courses(attendance, meetings, att[-1]["person_key"] if att else "")
    spec = SampleSpec(
        name=audience,
        audience=audience,
        show_devices=(audience == "compliance") if show_devices is None else show_devices,
    )
    defaults: dict[str, Any] = {
        "failures": [
            FetchFailure("series-2", None, "series-2: HTTP 404 from Webex; check the meeting id")
        ],
        "page_problems": {instances[0].id: ("page 2: not JSON",)} if instances else {},
        "criteria": Criteria(min_percent=Fraction(80), rosters={0: "roster sample.csv"}),
    }
    defaults.update(kwargs)
    return ReportInput(
        spec=spec,
        run=RUN,
        instances=instances,
        result=SampleResult(attendance, devices, breakouts, courses),
        **defaults,
    )
