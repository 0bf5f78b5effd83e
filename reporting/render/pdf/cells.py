"""What the cells of the report's tables say: the columns of each table and the text of
its cells, from the result's rows."""

from __future__ import annotations

from typing import Any

import pandas as pd

from reporting.render.context import fmt_duration, fmt_local_many, split_flags
from reporting.render.pdf.layout import Column
from reporting.render.summary import share_text, truthy

# WeasyPrint's cost is per box (cell and line box), not per character, so a row
# is one line of four cells: related figures share a cell, the e-mail follows the name,
# the flags follow the status (whose colour is a bar at the cell's left edge, no box).
ATTENDANCE_COLUMNS = (
    Column("person", "Person · e-mail", 0.33),
    Column("attended", "Attended (share) · breakout", 0.23, free_text=False),
    Column("presence", "First join – last leave", 0.14, free_text=False),
    Column("status", "Status · flags", 0.30, free_text=False),
)
DEVICE_COLUMNS = (
    Column("person", "Person · e-mail", 0.27),
    Column("device", "Device, audio, call type", 0.27),
    Column("phone_number", "Phone number", 0.16),
    Column("presence", "Join – leave", 0.18, free_text=False),
    Column("duration", "Duration", 0.12, "right", free_text=False),
)
COURSE_COLUMNS = (
    Column("course", "Course", 0.26),
    Column("sessions", "Sessions", 0.08, "right", free_text=False),
    Column("people", "Required", 0.08, "right", free_text=False),
    Column("excused", "Excused", 0.08, "right", free_text=False),
    Column("completed", "Completed", 0.09, "right", free_text=False),
    Column("share", "Completion", 0.11, "right", free_text=False),
    Column("population", "Required population", 0.30),
)
DEPARTMENT_COLUMNS = (
    Column("course", "Course", 0.30),
    Column("department", "Department", 0.30),
    Column("people", "Required", 0.10, "right", free_text=False),
    Column("excused", "Excused", 0.10, "right", free_text=False),
    Column("completed", "Completed", 0.10, "right", free_text=False),
    Column("share", "Completion", 0.10, "right", free_text=False),
)
NONCOMPLIANCE_COLUMNS = (
    Column("person", "Person", 0.22),
    Column("department", "Department", 0.11),
    Column("course", "Course", 0.14),
    Column("missing", "Missing sessions: date, meeting, why", 0.33),
    Column("overrides", "Overrides", 0.20),
)
OVERRIDE_COLUMNS = (
    Column("person", "Person", 0.22),
    Column("meeting", "Meeting", 0.20),
    Column("decision", "Decision → status", 0.12, free_text=False),
    Column("reason", "Reason", 0.20),
    Column("reviewer", "Reviewer, date", 0.26),
)
CALLER_COLUMNS = (
    Column("caller", "Caller", 0.18),
    Column("meeting", "Meeting", 0.22),
    Column("attended", "Attended · status", 0.14, free_text=False),
    Column("hints", "Hints (never merged)", 0.46),
)
OTHER_COLUMNS = (
    Column("person", "Person · e-mail", 0.36),
    Column("why", "Role · why not counted", 0.30),
    Column("attended", "Attended · status", 0.34, free_text=False),
)
FLAG_COLUMNS = (
    Column("flag", "Flag", 0.22, free_text=False),
    Column("rows", "Rows", 0.08, "right", free_text=False),
    Column("explanation", "What it means", 0.70),
)
PROBLEM_COLUMNS = (
    Column("what", "Meeting / entry", 0.35),
    Column("message", "Problem", 0.65),
)
NOTE_COLUMNS = (Column("note", "Note", 1.0),)


def person_cell(
    name: Any, email: Any, key: Any, host: bool = False, cohost: bool = False, sep: str = "\n"
) -> str:
    name_s = "" if pd.isna(name) else str(name)
    email_s = "" if pd.isna(email) else str(email)
    first = name_s or email_s or ("" if pd.isna(key) else str(key))
    role = " (host)" if host else (" (co-host)" if cohost else "")
    second = email_s if email_s and email_s != first else ""
    return first + role + (sep + second if second else "")


def plain(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def names(att: pd.DataFrame) -> dict[tuple[str, str], str]:
    cols = ["meeting_id", "person_key", "display_name", "email"]
    if not set(cols) <= set(att.columns):
        return {}
    return {
        (str(m), str(k)): person_cell(n, e, k, sep=" · ")
        for m, k, n, e in att[cols].itertuples(index=False, name=None)
    }


def labels(att: pd.DataFrame) -> dict[tuple[str, str], str]:
    """One-line name of every person of every meeting (name, else e-mail, else key)."""
    cols = ["meeting_id", "person_key", "display_name", "email"]
    if not set(cols) <= set(att.columns):
        return {}
    return {
        (str(m), str(k)): plain(n) or plain(e) or plain(k)
        for m, k, n, e in att[cols].itertuples(index=False, name=None)
    }


def absent_entry(name: Any, email: Any, key: Any, roster_name: Any, department: Any) -> str:
    """`Roster name (e-mail, department)` on one line, for the list of absentees."""
    email_s = plain(email)
    first = plain(roster_name) or plain(name) or email_s or plain(key)
    details = [v for v in (email_s if email_s != first else "", plain(department)) if v]
    return first + (f" ({', '.join(details)})" if details else "")


def attended_cell(attended: str, share_s: str, breakout: Any) -> str:
    """`0:30:00 (50.0 %) · breakout 0:10:00` (attended time includes the breakout)."""
    text = f"{attended} ({share_s})" if share_s else attended
    if not pd.isna(breakout) and int(breakout) != 0:
        text += f" · breakout {fmt_duration(breakout)}"
    return text


def spans(start: pd.Series, end: pd.Series, tz: Any) -> list[str]:
    """`hh:mm:ss–hh:mm:ss` in the display zone (either side may be unknown), per row."""
    return [
        f"{a or '?'}–{b or '?'}" if a or b else ""
        for a, b in zip(
            fmt_local_many(start, tz, date=False), fmt_local_many(end, tz, date=False), strict=True
        )
    ]


def required_mask(rows: pd.DataFrame) -> pd.Series:
    """Rows that enter the rates (rule 11); every row when the result has no `required`."""
    if "required" not in rows.columns:
        return pd.Series(True, index=rows.index, dtype=bool)
    return rows["required"].map(truthy).astype(bool)


def attendance_cells(
    rows: pd.DataFrame, tz: Any, *, others: bool
) -> tuple[list[list[str]], list[str]]:
    """The four cells of each attendance row; the person is named by the roster, with
    the email or number seen beside when merged (rule 14)."""
    cols = [
        "roster_name",
        "display_name",
        "email",
        "person_key",
        "is_host",
        "is_cohost",
        "attended_seconds",
        "meeting_seconds",
        "breakout_seconds",
        "status",
        "flags",
        "seen_as",
        "role",
    ]
    present = rows.reindex(columns=[*cols, "first_join", "last_leave"])
    table_rows, classes = [], []
    for (
        roster_name,
        name,
        email,
        key,
        host,
        cohost,
        attended,
        msec,
        bsec,
        st,
        flags,
        seen,
        role,
    ), first_s, last_s in zip(
        present[cols].itertuples(index=False, name=None),
        fmt_local_many(present["first_join"], tz, date=False),
        fmt_local_many(present["last_leave"], tz, date=False),
        strict=True,
    ):
        person = person_cell(
            plain(roster_name) or name,
            email,
            key,
            bool(host) if not pd.isna(host) else False,
            bool(cohost) if not pd.isna(cohost) else False,
            sep=" · ",
        )
        if plain(seen):
            person += f" · seen as {plain(seen).replace(';', '; ')}"
        status = [plain(st)]
        if others:
            status.append(plain(role) or "attendee")
        table_rows.append(
            [
                person,
                attended_cell(fmt_duration(attended), share_text(attended, msec), bsec),
                f"{first_s or '?'} – {last_s or '?'}" if first_s or last_s else "",
                " · ".join([*status, *split_flags(flags)]),
            ]
        )
        classes.append(f"status-{plain(st)}")
    return table_rows, classes
