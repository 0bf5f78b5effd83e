"""One section per meeting: its facts, the attendance table (required people, then the
other participants), the absentees, the devices and the breakout rooms."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reporting.model import Instance
from reporting.render.context import ReportInput, fmt_duration, fmt_local
from reporting.render.pdf.cells import (
    ATTENDANCE_COLUMNS,
    DEVICE_COLUMNS,
    absent_entry,
    attendance_cells,
    labels,
    names,
    plain,
    required_mask,
    spans,
)
from reporting.render.pdf.layout import LINE_PT, Block, Planner, text_lines
from reporting.render.summary import MeetingFigures

DEVICE_FIELDS = [
    "person_key",
    "device_type",
    "audio_type",
    "call_type",
    "phone_number",
    "joined",
    "left",
    "duration_seconds",
]
BREAKOUT_FIELDS = [
    "person_key",
    "breakout_id",
    "breakout_name",
    "joined",
    "left",
    "duration_seconds",
]
ABSENT_FIELDS = ["display_name", "email", "person_key", "department", "roster_name"]


def _by_meeting(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    if not len(frame):
        return {}
    return {str(k): g for k, g in frame.groupby("meeting_id", sort=False)}


@dataclass(frozen=True)
class Meetings:
    """The result's rows grouped by meeting, and how people are named in them."""

    attendance: dict[str, pd.DataFrame]
    devices: dict[str, pd.DataFrame]
    breakouts: dict[str, pd.DataFrame]
    names: dict[tuple[str, str], str]  # name · e-mail (devices)
    labels: dict[tuple[str, str], str]  # name, else e-mail, else key (breakout rooms)
    figures: dict[str, MeetingFigures]

    @classmethod
    def of(cls, inp: ReportInput) -> Meetings:
        res = inp.result
        att = res.attendance
        return cls(
            _by_meeting(att),
            _by_meeting(res.devices),
            _by_meeting(res.breakouts),
            names(att),
            labels(att),
            {m.meeting_id: m for m in inp.summary.meetings},
        )


def meetings(plan: Planner, inp: ReportInput) -> None:
    """A section per meeting, in the order they took place."""
    grouped = Meetings.of(inp)
    start = inp.run.period_start
    for inst in sorted(inp.instances, key=lambda i: (i.start or start, i.title, i.id)):
        meeting(plan, inp, inst, grouped)


def meeting(plan: Planner, inp: ReportInput, inst: Instance, grouped: Meetings) -> None:
    section = f"meeting:{inst.id}"
    rows = grouped.attendance.get(inst.id, inp.result.attendance[:0])
    plan.heading(inst.title, section, new_page=True)
    _facts(plan, inp, inst, rows, grouped.figures.get(inst.id), section)
    required = required_mask(rows)
    for part, others in ((rows[required], False), (rows[~required], True)):
        table_rows, classes = attendance_cells(part, inp.tz, others=others)
        if not table_rows:
            continue
        what = "other participants" if others else "attendance"
        plan.table(
            "attendance",
            ATTENDANCE_COLUMNS,
            table_rows,
            section,
            caption=(
                f"Other participants ({len(table_rows)}): not required, in no rate"
                if others
                else ""
            ),
            # A page that continues the table says whose rows it holds.
            continued=f"{inst.title} — {what} (continued)",
            row_classes=classes,
        )
    absent = rows[required & (rows["status"] == "absent")] if len(rows) else rows
    if len(absent):
        _absentees(plan, absent, section)
    if inp.show_devices and inst.id in grouped.devices:
        _devices(plan, inp, inst, grouped, section)
    if inst.id in grouped.breakouts:
        _breakouts(plan, inp, inst, grouped, section)


def _facts(
    plan: Planner,
    inp: ReportInput,
    inst: Instance,
    rows: pd.DataFrame,
    figures: MeetingFigures | None,
    section: str,
) -> None:
    tz, summary = inp.tz, inp.summary
    seconds = rows["meeting_seconds"].iloc[0] if len(rows) else None
    mfacts = [
        ("Instance id", inst.id),
        ("Course", inst.course),
        ("Start", fmt_local(inst.start, tz) if inst.start else "unknown"),
        ("End", fmt_local(inst.end, tz) if inst.end else "not ended / unknown"),
        ("Duration", fmt_duration(seconds)),
        ("Host", inst.host_email or ""),
    ]
    if figures is not None:
        mfacts += [
            (
                "Completion (required)",
                f"{figures.rate.long} ({figures.excused} excused, {figures.others} other"
                " participant(s) not counted)",
            ),
            ("Criteria", summary.criteria_line(figures.population)),
        ]
    height = sum(text_lines(v, plan.width * 0.75) for _, v in mfacts) * 11 + 10
    plan.block(Block("facts", {"facts": mfacts}, height), section)
    unfetched = summary.unfetched
    if inst.id in unfetched:
        text = f"The participants could not be fetched: {unfetched[inst.id]}"
        note_h = text_lines(text, plan.width) * LINE_PT + 12
        plan.block(Block("note", {"text": text}, note_h), section)
    elif len(rows) == 0:
        plan.block(Block("note", {"text": "No participants were recorded."}, 20), section)


def _absentees(plan: Planner, absent: pd.DataFrame, section: str) -> None:
    """The absentees are rows of the attendance table too; here they are one flowing,
    alphabetical list per meeting (roster name, e-mail, department)."""
    plan.heading(f"Absent ({len(absent)})", section, level=2)
    entries = sorted(
        (
            absent_entry(n, e, k, r, d)
            for n, e, k, d, r in absent.reindex(columns=ABSENT_FIELDS).itertuples(
                index=False, name=None
            )
        ),
        key=str.casefold,
    )
    plan.flow(entries, section)


def _devices(
    plan: Planner, inp: ReportInput, inst: Instance, grouped: Meetings, section: str
) -> None:
    dev = grouped.devices[inst.id].reindex(columns=DEVICE_FIELDS)
    plan.heading("Devices", section, level=2)
    plan.table(
        "devices",
        DEVICE_COLUMNS,
        [
            [
                grouped.names.get((inst.id, plain(k)), plain(k)),
                ", ".join(v for v in (plain(dt), plain(at), plain(ct)) if v),
                plain(ph),
                span,
                fmt_duration(d),
            ]
            for (k, dt, at, ct, ph, _, _, d), span in zip(
                dev.itertuples(index=False, name=None),
                spans(dev["joined"], dev["left"], inp.tz),
                strict=True,
            )
        ],
        section,
        continued=f"{inst.title} — devices (continued)",
    )


def _breakouts(
    plan: Planner, inp: ReportInput, inst: Instance, grouped: Meetings, section: str
) -> None:
    """One flowing list per breakout room: who, from when to when, how long."""
    b = grouped.breakouts[inst.id].reindex(columns=BREAKOUT_FIELDS)
    rooms: dict[str, list[tuple[str, str]]] = {}
    for (k, bid, bn, _, _, d), span in zip(
        b.itertuples(index=False, name=None),
        spans(b["joined"], b["left"], inp.tz),
        strict=True,
    ):
        who = grouped.labels.get((inst.id, plain(k)), plain(k))
        entry = f"{who} {span} ({fmt_duration(d)})"
        rooms.setdefault(plain(bn) or plain(bid), []).append((who.casefold(), entry))
    plan.heading("Breakout sessions", section, level=2)
    for room, room_entries in rooms.items():
        people = len({who for who, _ in room_entries})
        plan.flow(
            [e for _, e in sorted(room_entries)],
            section,
            caption=f"{room} — {people} {'person' if people == 1 else 'people'}",
        )
