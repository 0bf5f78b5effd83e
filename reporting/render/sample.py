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
    statuses = ("complete", "partial", "absent")
    for m in range(meetings):
        start = START + timedelta(days=7 * m)
        end = start + timedelta(hours=1)
        mid = f"meet{m:03d}_I_{m:05d}"
        title = f"Security awareness {m + 1}"
        instances.append(
            Instance(
                mid,
                0,
                "series-1",
                "security-2026",
                title,
                "series-1",
                start,
                end,
                "ended",
                "host@example.com",
            )
        )
        roster = names if names is not None else [f"Person {i:05d}" for i in range(people)]
        for i, name in enumerate(roster):
            status = statuses[i % 3] if names is None else "partial"
            attended = {"complete": 3300, "partial": 1800, "absent": 0}[status]
            key = f"p{i:05d}@example.com"
            flags = "LATE_JOIN" if status == "partial" else ""
            if i % 7 == 3:
                flags = "DURATION_MISMATCH;LATE_JOIN"
            att.append(
                {
                    "meeting_id": mid,
                    "meeting_title": title,
                    "meeting_start": start,
                    "meeting_end": end,
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
            )
            if attended:
                dev.append(
                    {
                        "meeting_id": mid,
                        "person_key": key,
                        "correlation_id": f"c-{m}-{i}",
                        "device_type": "tp_phone" if i % 5 == 0 else "webex_meeting_app",
                        "audio_type": "pstn" if i % 5 == 0 else "voip",
                        "call_type": "callIn" if i % 5 == 0 else "",
                        "phone_number": phone if i % 5 == 0 else "",
                        "joined": start + timedelta(seconds=30, milliseconds=250 * (i % 2)),
                        "left": start + timedelta(seconds=30 + attended),
                        "duration_seconds": attended,
                    }
                )
            if i % 2:
                brk.append(
                    {
                        "meeting_id": mid,
                        "person_key": key,
                        "breakout_id": f"b{m}",
                        "breakout_name": "Group A",
                        "joined": start + timedelta(minutes=20),
                        "left": start + timedelta(minutes=30),
                        "duration_seconds": 600,
                    }
                )
    attendance = pd.DataFrame(att)
    for col in ("meeting_start", "meeting_end", "first_join", "last_leave"):
        attendance[col] = pd.to_datetime(attendance[col], utc=True)
    devices = pd.DataFrame(dev, columns=list(DEVICE_CSV_COLUMNS))
    breakouts = pd.DataFrame(brk, columns=list(BREAKOUT_COLUMNS))
    course_rows = []
    if len(attendance):
        for group_key, part in attendance.groupby("person_key", sort=True):
            done = int((part["status"] == "complete").sum())
            course_rows.append(
                {
                    "course": "security-2026",
                    "person_key": str(group_key),
                    "display_name": part["display_name"].iloc[0],
                    "email": key,
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
    courses = pd.DataFrame(
        course_rows,
        columns=list(COURSE_CSV_COLUMNS),
    )
    run = RunInfo(
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
        run=run,
        instances=instances,
        result=SampleResult(attendance, devices, breakouts, courses),
        **defaults,
    )
