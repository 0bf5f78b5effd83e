"""A deliberately plain reference implementation of ATTENDANCE_RULES.md for the tests.

Loops and dicts, no pandas or numpy, written from the rules and the engine's "Readings of
the rules" (reporting/attendance/engine.py) without looking at how the engine computes.
The property test compares the two over random meetings; the benchmark times this one
against the engine on the same data. Output: attendance and course rows as plain dicts,
times as integer milliseconds since the epoch (None when empty).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from reporting.columns import ATTENDANCE_CSV_COLUMNS
from reporting.model import InstanceRecords
from reporting.roster import Roster

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
INF = float("inf")


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MS


def parse(value: Any) -> tuple[int | None, bool]:
    """(milliseconds or None when unknown, bad)."""
    if value is None:
        return None, False
    if isinstance(value, float) and math.isnan(value):
        return None, False
    if not isinstance(value, str):
        return None, True
    if not value.strip():
        return None, False
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None, True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if to_ms(moment) == 0:  # the epoch at millisecond resolution
        return None, False
    return to_ms(moment), False


def items(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [v if isinstance(v, dict) else {} for v in value]


def digits(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value if c in "0123456789")


def person_key(record: dict[str, Any], roster: Roster | None) -> str:
    email = record.get("email")
    if isinstance(email, str) and "@" in email.strip().lower():
        email = email.strip().lower()
        if roster is not None:
            for entry in roster:
                if email == entry.email.lower() or email in [a.lower() for a in entry.aliases]:
                    return entry.email.lower()
        return email
    for device in items(record.get("devices")):
        if digits(device.get("phoneNumber")):
            return "tel:" + digits(device.get("phoneNumber"))
    name = record.get("displayName")
    if isinstance(name, str) and name.split():
        return "name:" + " ".join(name.split()).casefold()
    rid = record.get("id")
    return "id:" + ("" if rid is None else str(rid))


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def union(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    blocks: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if blocks and start <= blocks[-1][1]:
            blocks[-1] = (blocks[-1][0], max(blocks[-1][1], end))
        else:
            blocks.append((start, end))
    return blocks


def meets(attended: int, meeting: int, rules: Any) -> bool:
    threshold = rules.min_attendance
    if threshold.percent is not None:
        return attended * 100 >= Fraction(threshold.percent) * meeting
    return attended >= threshold.seconds


def instance_window(item: InstanceRecords, now: int) -> dict[str, Any]:
    """Rule 4 for one instance: start, end (None when unknown), inferred, in progress."""
    inst = item.instance
    joins: list[int] = []
    leaves: list[int] = []
    for r in item.records:
        if not isinstance(r, dict) or r.get("state") == "lobby":
            continue
        for s in [r, *items(r.get("devices")), *items(r.get("breakoutSessionsAttended"))]:
            j, _ = parse(s.get("joinedTime"))
            lv, _ = parse(s.get("leftTime"))
            if j is not None:
                joins.append(j)
            if lv is not None:
                leaves.append(lv)
    inferred = not inst.looked_up or inst.start is None
    in_progress = inst.looked_up and inst.end is None
    if inferred:
        ws = min(joins) if joins else None
    else:
        assert inst.start is not None
        ws = to_ms(inst.start)
    if in_progress:
        we: int | None = now
    elif inst.looked_up and inst.end is not None:
        we = to_ms(inst.end)
    else:
        we = max(leaves) if leaves else None
    return {"start": ws, "end": we, "inferred": inferred, "in_progress": in_progress}


def session_of(inst: Any) -> Any:
    if inst.scheduled_meeting_id:
        return (inst.series_id or inst.entry_id, inst.scheduled_meeting_id)
    return inst.id


def start_order(inst: Any) -> tuple[Any, ...]:
    return (inst.start is None, inst.start or EPOCH, inst.id)


def scope_rank(scope: str, members: list[Any]) -> int | None:
    """How specifically an override's scope names a session (any of its instances)."""
    ranks = []
    for inst in members:
        if scope == inst.id:
            ranks.append(0)
        elif scope in (inst.series_id, inst.entry_id):
            ranks.append(1)
        elif scope == inst.course:
            ranks.append(2)
        elif scope == "*":
            ranks.append(3)
    return min(ranks) if ranks else None


def best(options: list[tuple[int, Any]]) -> Any:
    """The most specific (lowest rank), then the latest line."""
    if not options:
        return None
    return sorted(options, key=lambda o: (o[0], -o[1].line))[0][1]


def first_phone(record: dict[str, Any]) -> str | None:
    for device in items(record.get("devices")):
        if digits(device.get("phoneNumber")):
            return str(device.get("phoneNumber"))
    return None


def reference_compute(
    data: Sequence[InstanceRecords],
    rules: Any,
    rosters: Mapping[str, Roster | None],
    as_of: datetime,
    overrides: Sequence[Any] = (),
    phone_region: str | None = None,
    planned: Sequence[Any] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from reporting.phones import device_e164s

    now = to_ms(as_of)
    rows: list[dict[str, Any]] = []
    windows = [instance_window(item, now) for item in data]
    sessions: dict[Any, list[int]] = {}
    for index, item in enumerate(data):
        sessions.setdefault(session_of(item.instance), []).append(index)
    all_rosters = [r for r in rosters.values() if r is not None]
    # Overrides indexed by the keys they name (a plain dict, not a scan per row).
    same_as: dict[str, list[Any]] = {}
    same_as_numbers: list[Any] = []
    status_by_key: dict[str, list[Any]] = {}
    for o in overrides:
        if o.decision == "same_as":
            same_as.setdefault(o.person_key, []).append(o)
            if o.person_key.startswith("tel:"):
                same_as_numbers.append(o)
            continue
        names = {o.person_key}
        if "@" in o.person_key and not o.person_key.startswith(("name:", "id:")):
            names |= {r.key_for_email(o.person_key) for r in all_rosters} - {None}
        for name in names:
            status_by_key.setdefault(name, []).append(o)
    override_rows = {id(o): 0 for o in overrides}
    instance_sort: dict[int, tuple[Any, ...]] = {}

    for indexes in sessions.values():
        indexes.sort(key=lambda i: start_order(data[i].instance))
        lead = indexes[0]
        members = [data[i].instance for i in indexes]
        restarted = len(indexes) > 1
        lead_inst = data[lead].instance
        roster = rosters.get(lead_inst.id)
        known = [windows[i] for i in indexes]
        starts = [w["start"] for w in known if w["start"] is not None]
        ends = [w["end"] for w in known if w["end"] is not None]
        ws = min(starts) if starts else None
        we = max(ends) if ends else None
        full = [
            (w["start"], w["end"]) for w in known if w["start"] is not None and w["end"] is not None
        ]
        meeting_ms = sum(e - s for s, e in union([(s, e) for s, e in full if e > s]))
        inferred = any(w["inferred"] for w in known)
        in_progress = any(w["in_progress"] for w in known)
        instance_sort[lead] = (ws if ws is not None else INF, lead_inst.id, lead)

        people: dict[str, dict[str, Any]] = {}
        groups_seen: set[tuple[int, str]] = set()
        for index in indexes:
            item = data[index]
            own_roster = rosters.get(item.instance.id)
            win = windows[index]
            # the first written number of each (instance, own key) group
            group_phone: dict[str, str] = {}
            records = [r for r in item.records if isinstance(r, dict)]
            for r in records:
                raw = person_key(r, None)
                if raw.startswith("tel:") and raw not in group_phone:
                    phone = first_phone(r)
                    if phone is not None:
                        group_phone[raw] = phone
            for position, r in enumerate(records):
                raw = person_key(r, None)
                aliased = person_key(r, own_roster)
                phone = group_phone.get(raw)
                key = aliased
                merged_by = None
                candidates = [*same_as.get(raw, []), *same_as.get(aliased, [])]
                if phone is not None:
                    ours = set(device_e164s(phone, phone_region))
                    candidates += [
                        o
                        for o in same_as_numbers
                        if ours & set(device_e164s(o.person.strip()[4:], phone_region))
                    ]
                options = []
                for o in dict.fromkeys(candidates):
                    rank = scope_rank(o.scope, members)
                    if rank is not None:
                        options.append((rank, o))
                merged_by = best(options)
                seen = None
                if merged_by is not None:
                    target = merged_by.value.lower()
                    key = (own_roster.key_for_email(target) if own_roster else None) or target
                elif phone is not None and own_roster is not None:
                    for e164 in device_e164s(phone, phone_region):
                        if e164 in own_roster.phone_map:
                            key = own_roster.phone_map[e164]
                            seen = "tel:" + e164
                            break
                if key != raw and seen is None:
                    shown = device_e164s(phone, phone_region) if phone is not None else ()
                    seen = "tel:" + shown[0] if shown and shown[0].startswith("+") else raw
                p = people.setdefault(
                    key,
                    {
                        "records": [],
                        "devices": 0,
                        "host": False,
                        "cohost": False,
                        "flags": set(),
                        "intervals": [],
                        "breakouts": [],
                        "admitted": False,
                        "seen": set(),
                        "aka": set(),
                        "same_as": [],
                        "phone": None,
                    },
                )
                if key != raw:
                    p["seen"].add(seen)
                    p["aka"].add(raw)
                if merged_by is not None and (index, raw) not in groups_seen:
                    groups_seen.add((index, raw))
                    if merged_by not in p["same_as"]:
                        p["same_as"].append(merged_by)
                if phone is not None and p["phone"] is None:
                    p["phone"] = phone
                devices = items(r.get("devices"))
                breakouts = items(r.get("breakoutSessionsAttended"))
                p["devices"] += len(devices)
                p["host"] = p["host"] or r.get("host") is True
                p["cohost"] = p["cohost"] or r.get("coHost") is True
                lobby = r.get("state") == "lobby"
                first = INF
                for s in [r, *devices, *breakouts]:
                    j, _ = parse(s.get("joinedTime"))
                    if j is not None:
                        first = min(first, j)
                name = r.get("displayName")
                email = r.get("email")
                p["records"].append(
                    (
                        (lobby, first, index, position),
                        name.strip() if isinstance(name, str) and name.strip() else None,
                        email.strip() if isinstance(email, str) and "@" in email else None,
                    )
                )
                if lobby:
                    p["flags"].add("LOBBY")
                    continue
                p["admitted"] = True
                for s in [r, *devices, *breakouts]:
                    for field in ("joinedTime", "leftTime"):
                        if parse(s.get(field))[1]:
                            p["flags"].add("BAD_TIMESTAMP")
                rec_left, _ = parse(r.get("leftTime"))
                use_devices = any(parse(d.get("joinedTime"))[0] is not None for d in devices)
                sources: list[tuple[dict[str, Any], str]] = []
                if use_devices:
                    sources += [(d, "device") for d in devices]
                else:
                    sources.append((r, "record"))
                sources += [(b, "breakout") for b in breakouts]
                for s, kind in sources:
                    j, _ = parse(s.get("joinedTime"))
                    lv, _ = parse(s.get("leftTime"))
                    if j is None:
                        p["flags"].add("UNKNOWN_JOIN")
                        continue
                    left_inferred = False
                    if lv is None:
                        left_inferred = True
                        if win["in_progress"]:
                            lv = now
                            p["flags"].add("IN_PROGRESS")
                        elif rec_left is not None:
                            lv = rec_left
                            p["flags"].add("LEFT_TIME_INFERRED")
                        elif win["end"] is not None:
                            lv = win["end"]
                            p["flags"].add("LEFT_TIME_INFERRED")
                        else:
                            p["flags"].add("UNKNOWN_LEAVE")
                            continue
                    if lv < j:
                        p["flags"].add("INVALID_INTERVAL")
                        continue
                    if kind == "device" and not left_inferred:
                        duration = number(s.get("durationSecond"))
                        if (
                            duration is not None
                            and not math.isnan(duration)
                            and (
                                math.isinf(duration)
                                or abs(Fraction(duration) * 1000 - (lv - j)) > 60000
                            )
                        ):
                            p["flags"].add("DURATION_MISMATCH")
                    # Own window, as in rule 4; a restarted session's other windows too.
                    clips = [(win["start"], win["end"])]
                    clips += [
                        (windows[o]["start"], windows[o]["end"])
                        for o in indexes
                        if o != index
                        and windows[o]["start"] is not None
                        and windows[o]["end"] is not None
                    ]
                    for c_start, c_end in clips:
                        start = max(j, c_start) if c_start is not None else j
                        end = min(lv, c_end) if c_end is not None else lv
                        if end > start:
                            p["intervals"].append((start, end))
                            if kind == "breakout":
                                p["breakouts"].append((start, end))

        on_roster_keys = {e.email.lower(): e for e in roster} if roster is not None else {}
        session_rows: list[dict[str, Any]] = []
        for key, p in people.items():
            ordered = sorted(p["records"], key=lambda x: x[0])
            name = next((n for _, n, _ in ordered if n is not None), None)
            email = next((e for _, _, e in ordered if e is not None), None)
            entry = on_roster_keys.get(key)
            blocks = union(p["intervals"])
            session_rows.append(
                {
                    "index": lead,
                    "person_key": key,
                    "display_name": name,
                    "email": entry.email if entry is not None else email,
                    "is_host": p["host"],
                    "is_cohost": p["cohost"],
                    "attended_ms": sum(e - s for s, e in blocks),
                    "breakout_ms": sum(e - s for s, e in union(p["breakouts"])),
                    "first_join": blocks[0][0] if blocks else None,
                    "last_leave": blocks[-1][1] if blocks else None,
                    "segments": len(blocks),
                    "devices": p["devices"],
                    "flags": set(p["flags"]),
                    "roster_name": entry.name if entry is not None else None,
                    "department": entry.department if entry is not None else None,
                    "not_on_roster": roster is not None and entry is None,
                    "lobby_only": not p["admitted"],
                    "seen": p["seen"],
                    "aka": p["aka"],
                    "same_as": p["same_as"],
                }
            )
        if roster is not None:
            for entry in roster:
                if entry.email.lower() not in people:
                    session_rows.append(
                        {
                            "index": lead,
                            "person_key": entry.email.lower(),
                            "display_name": entry.name or entry.email,
                            "email": entry.email,
                            "is_host": False,
                            "is_cohost": False,
                            "attended_ms": 0,
                            "breakout_ms": 0,
                            "first_join": None,
                            "last_leave": None,
                            "segments": 0,
                            "devices": 0,
                            "flags": set(),
                            "roster_name": entry.name,
                            "department": entry.department,
                            "not_on_roster": False,
                            "lobby_only": False,
                            "seen": set(),
                            "aka": set(),
                            "same_as": [],
                        }
                    )
        panelists = {
            i.email.strip().lower()
            for index in indexes
            for i in data[index].invitees or ()
            if i.panelist and i.email
        }
        for row in session_rows:
            meeting = meeting_ms // 1000 if ws is not None and we is not None else 0
            attended = row.pop("attended_ms") // 1000
            breakout = row.pop("breakout_ms") // 1000
            if attended > 0 and meets(attended, meeting, rules):
                status = "complete"
            elif attended > 0:
                status = "partial"
            else:
                status = "absent"
            flags = row.pop("flags")
            if attended > 0 and not inferred:
                assert ws is not None and we is not None
                if row["first_join"] > ws + rules.late_grace_seconds * 1000:
                    flags.add("LATE_JOIN")
                # A running meeting has no end yet to leave early from.
                if (
                    not in_progress
                    and row["last_leave"] < we - rules.early_leave_grace_seconds * 1000
                ):
                    flags.add("EARLY_LEAVE")
            if row.pop("not_on_roster"):
                flags.add("NOT_ON_ROSTER")
            if inferred:
                flags.add("MEETING_WINDOW_INFERRED")
            if in_progress:
                flags.add("IN_PROGRESS")
            key = row["person_key"]
            # rule 10
            if row["is_host"]:
                role = "host"
            elif row["is_cohost"]:
                role = "cohost"
            elif key in panelists or row["aka"] & panelists:
                role = "panelist"
            else:
                role = "attendee"
            # rule 11
            if roster is not None:
                required = key in on_roster_keys
            else:
                required = (
                    role == "attendee"
                    and not key.startswith(("tel:", "name:", "id:"))
                    and not row["lobby_only"]
                )
            # rule 13
            # same_as decisions in the order of their lines (not of the records they merged)
            applied = sorted(row.pop("same_as"), key=lambda o: o.line)
            for o in applied:
                override_rows[id(o)] += 1
            candidates = [o for k in [key, *sorted(row["aka"])] for o in status_by_key.get(k, [])]
            options = []
            for o in dict.fromkeys(candidates):
                rank = scope_rank(o.scope, members)
                if rank is not None:
                    options.append((rank, o))
            chosen = best(options)
            if chosen is not None:
                override_rows[id(chosen)] += 1
                applied.append(chosen)
                status = {"excused": "excused", "present": "complete", "absent": "absent"}[
                    chosen.decision
                ]
            if applied:
                flags.add("OVERRIDDEN")
            if restarted:
                flags.add("RESTARTED")
            if key.startswith("tel:"):
                flags.add("UNIDENTIFIED_CALLER")
            seen = row.pop("seen")
            row.pop("aka")
            row.pop("lobby_only")

            def joined(values: list[str]) -> str | None:
                return ";".join(values) if values else None

            row.update(
                meeting_id=lead_inst.id,
                meeting_title=lead_inst.title,
                meeting_start=ws,
                meeting_end=we,
                meeting_seconds=meeting,
                attended_seconds=attended,
                main_session_seconds=attended - breakout,
                breakout_seconds=breakout,
                status=status,
                flags=";".join(sorted(flags)),
                course=lead_inst.course,
                role=role,
                required=required,
                override=joined([o.decision for o in applied]),
                override_reason=joined([o.reason for o in applied]),
                override_reviewer=joined([o.reviewer for o in applied]),
                override_date=joined([o.date.isoformat() for o in applied]),
                seen_as=joined(sorted(seen)),
            )
        rows.extend(session_rows)

    def row_order(row: dict[str, Any]) -> tuple[Any, ...]:
        name = row["display_name"]
        return (
            instance_sort[row["index"]],
            name.casefold() if name else "\U0010ffff",
            row["person_key"],
        )

    rows.sort(key=row_order)
    for row in rows:
        del row["index"]
    return rows, reference_courses(data, rows, rules, planned)


def reference_courses(
    data: Sequence[InstanceRecords],
    rows: list[dict[str, Any]],
    rules: Any,
    planned: Sequence[Any] = (),
) -> list[dict[str, Any]]:
    """Rules 8 and 13: sessions (a restarted one once), excused sessions left out."""
    fetched_ids = {item.instance.id for item in data}
    sessions: dict[Any, list[Any]] = {}
    for item in data:
        sessions.setdefault(session_of(item.instance), []).append(item.instance)
    for inst in planned:
        if inst.id not in fetched_ids:
            sessions.setdefault(session_of(inst), []).append(inst)
    by_course: dict[str, list[Any]] = {}
    first_entry: dict[str, int] = {}
    for members in sessions.values():
        fetched = [m for m in members if m.id in fetched_ids]
        lead = min(fetched or members, key=start_order)
        by_course.setdefault(lead.course, []).append(lead)
    for inst in [*(item.instance for item in data), *planned]:
        c = inst.course
        first_entry[c] = min(first_entry.get(c, inst.entry_index), inst.entry_index)
    session_ids = {c: [i.id for i in sorted(v, key=start_order)] for c, v in by_course.items()}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["course"], row["person_key"]), []).append(row)
    out = []
    for (course, key), group in groups.items():
        roster_name = next((r["roster_name"] for r in group if r["roster_name"]), None)
        display = next((r["display_name"] for r in group if r["display_name"]), None)
        name = roster_name or display
        complete = sum(r["status"] == "complete" for r in group)
        excused = sum(r["status"] == "excused" for r in group)
        total = len(session_ids.get(course, [])) - excused
        needed = total if rules.sessions_required is None else min(rules.sessions_required, total)
        completed = total > 0 and complete >= needed
        settled = {r["meeting_id"] for r in group if r["status"] in ("complete", "excused")}
        out.append(
            {
                "course": course,
                "person_key": key,
                "display_name": name,
                "email": next((r["email"] for r in group if r["email"]), None),
                "sessions_total": total,
                "sessions_complete": complete,
                "completed": completed,
                "department": next((r["department"] for r in group if r["department"]), None),
                "required": any(r["required"] for r in group),
                "sessions_excused": excused,
                "status": "excused"
                if total == 0
                else "completed"
                if completed
                else "not_completed",
                "missing": ";".join(i for i in session_ids.get(course, []) if i not in settled),
            }
        )
    out.sort(
        key=lambda r: (
            (first_entry[r["course"]], r["course"]),
            r["display_name"].casefold() if r["display_name"] else "\U0010ffff",
            r["person_key"],
        )
    )
    return out


# -- attendance.csv, written the plain way -------------------------------------------

# The contract of DESIGN.md (tests/unit/test_attendance_rules.py pins it, column by column).
CSV_COLUMNS = ATTENDANCE_CSV_COLUMNS
CSV_TIMES = frozenset({"meeting_start", "meeting_end", "first_join", "last_leave"})


def csv_time(ms: int | None, tz: ZoneInfo) -> str:
    """ISO 8601 in the display zone with its offset; milliseconds only when there are any."""
    if ms is None:
        return ""
    local = (EPOCH + timedelta(milliseconds=ms)).astimezone(tz)
    return local.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")


def csv_cell(value: Any) -> str:
    """true/false, integers as written, text with a leading `'` where a spreadsheet would
    read a formula (DESIGN.md and the OWASP advice)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def reference_attendance_csv(rows: list[dict[str, Any]], tz: ZoneInfo) -> bytes:
    """attendance.csv of `reference_compute`'s rows: each cell formatted on its own, each
    row through the csv module."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [csv_time(row[c], tz) if c in CSV_TIMES else csv_cell(row[c]) for c in CSV_COLUMNS]
        )
    return buffer.getvalue().encode("utf-8")


# -- helpers shared by the attendance tests and the benchmark -------------------------


class Threshold:
    """Stands in for reporting.config.Threshold (same attributes)."""

    def __init__(self, percent: Fraction | int | str | None = None, seconds: int | None = None):
        self.percent = Fraction(percent) if percent is not None else None
        self.seconds = seconds


class Rules:
    """Stands in for reporting.config.Rules (same attributes)."""

    def __init__(
        self,
        min_attendance: Threshold | None = None,
        late_grace_seconds: int = 300,
        early_leave_grace_seconds: int = 300,
        sessions_required: int | None = None,
    ):
        self.min_attendance = min_attendance or Threshold(percent=80)
        self.late_grace_seconds = late_grace_seconds
        self.early_leave_grace_seconds = early_leave_grace_seconds
        self.sessions_required = sessions_required


def frame_rows(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as plain dicts: datetimes as epoch ms, missing values as None."""
    import pandas as pd

    out = []
    for record in frame.to_dict("records"):
        row = {}
        for k, v in record.items():
            if isinstance(v, pd.Timestamp):
                row[k] = v.value // 1_000_000 if v.unit == "ns" else to_ms(v.to_pydatetime())
            elif v is None or (not isinstance(v, str | bool) and pd.isna(v)):
                row[k] = None
            elif hasattr(v, "item"):
                row[k] = v.item()
            else:
                row[k] = v
        out.append(row)
    return out
