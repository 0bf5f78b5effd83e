"""A report's content key: a hash of what the report says, not of when it was made.

Two runs over the same store and rules give the same key, so a rerun knows whether a
recipient already has what this run would send; when the key differs, the recipient
gets a correction (`reporting.delivery`) whose body says what changed, worked out by
`describe_changes` from the snapshots the store keeps of what each emailed report said.

What the key covers, at the report's audience (so after masking):

- every attendance and course row (every column), and the device rows when the report
  shows devices;
- the audited meeting instances (id, title, course, window, state);
- which meetings or entries could not be fetched and which had unusable pages (ids only:
  the wording of an error, which can carry a time or a request id, is not content);
- the criteria (the rules that decide the statuses).

Not covered: the run id, its clock, the tool version, the templates, the file formats.
"""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pandas as pd

from reporting.model import FetchFailure
from reporting.protocols import ReportInputLike, RulesLike

__all__ = ["ReportContent", "criteria_of", "describe_changes", "report_content"]

KEY_VERSION = "1"  # part of every key: a change of what is hashed is a change of content
_ROW_ORDER = ("meeting_id", "course", "person_key")
LISTED = 20  # rows named one by one in a correction's body; the rest are counted


@dataclass(frozen=True)
class ReportContent:
    key: str  # "sha256:<hex>"
    snapshot: bytes  # zlib-compressed JSON, for `describe_changes`


def criteria_of(rules: RulesLike) -> dict[str, str]:
    """The rules as the words a reader compares (``80%``, ``300s``, ``all``)."""
    threshold = rules.min_attendance
    percent = getattr(threshold, "percent", None)
    seconds = getattr(threshold, "seconds", None)
    if isinstance(percent, Fraction):
        minimum = f"{float(percent):g}%"
    elif seconds is not None:
        minimum = f"{int(seconds)}s"
    else:
        minimum = str(threshold)
    required = rules.sessions_required
    return {
        "min_attendance": minimum,
        "late_grace": f"{rules.late_grace_seconds}s",
        "early_leave_grace": f"{rules.early_leave_grace_seconds}s",
        "sessions_required": "all" if required is None else str(required),
    }


def report_content(inp: ReportInputLike, criteria: Mapping[str, str]) -> ReportContent:
    digest = hashlib.sha256()

    def part(name: str, data: bytes) -> None:
        # Length-prefixed, so no two different sequences of parts hash alike.
        digest.update(f"{name}:{len(data)}\n".encode())
        digest.update(data)

    instances = sorted(
        [
            i.id,
            i.title,
            i.course,
            i.start.isoformat() if i.start else "",
            i.end.isoformat() if i.end else "",
            i.state,
        ]
        for i in inp.instances
    )
    failed = _failed_ids(inp.failures)
    part("version", KEY_VERSION.encode())
    part("audience", inp.spec.audience.encode())
    part("criteria", _json(dict(sorted(criteria.items()))))
    part("instances", _json(instances))
    part("failed", _json(failed))
    part("page_problems", _json(sorted(k for k, v in inp.page_problems.items() if v)))
    part("attendance", _frame_bytes(inp.result.attendance))
    part("courses", _frame_bytes(inp.result.courses))
    if getattr(inp.spec, "show_devices", False):
        part("devices", _frame_bytes(inp.result.devices))

    attendance = inp.result.attendance
    rows = [
        [_text(r.get(c)) for c in ("meeting_id", "person_key", "display_name", "meeting_title")]
        + [_text(r.get("status")), _text(r.get("override"))]
        for r in attendance.to_dict("records")
    ]
    snapshot = {
        "criteria": dict(criteria),
        "meetings": {i.id: i.title for i in inp.instances},
        "failed": failed,
        "rows": rows,
    }
    return ReportContent(
        key=f"sha256:{digest.hexdigest()}",
        snapshot=zlib.compress(_json(snapshot), 6),
    )


def describe_changes(old: bytes | None, new: bytes) -> list[str]:
    """What differs between two snapshots, one line per kind of change (for a correction)."""
    if old is None:
        return [
            "what the earlier report said was not kept (it predates this version), "
            "so the changes cannot be listed; this report replaces it"
        ]
    before, after = _load(old), _load(new)
    lines = [
        *_meeting_changes(before, after),
        *_criteria_changes(before["criteria"], after["criteria"]),
        *_row_changes(before["rows"], after["rows"]),
    ]
    if not lines:
        lines.append(
            "Figures changed (attended times or other details); no meeting, status, "
            "override or criterion changed"
        )
    return lines


def _meeting_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    titles = {**before["meetings"], **after["meetings"]}

    def named(ids: Sequence[str]) -> str:
        shown = [f"{titles.get(i) or i} ({i})" for i in ids[:LISTED]]
        more = len(ids) - len(shown)
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")

    was, now = set(before["meetings"]), set(after["meetings"])
    failed_before, failed_now = set(before["failed"]), set(after["failed"])
    kinds = (
        ("Meetings added", now - was),
        ("Meetings fetched now that could not be fetched before", failed_before - failed_now),
        ("Meetings no longer in the report", was - now),
        ("Meetings that could not be fetched this time", failed_now - failed_before),
    )
    return [f"{what}: {named(sorted(ids))}" for what, ids in kinds if ids]


def _criteria_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    lines = []
    for name in sorted(set(before) | set(after)):
        was, now = before.get(name), after.get(name)
        if was != now:
            lines.append(f"Criteria: {name} {was or 'unset'} -> {now or 'unset'}")
    return lines


_Row = Sequence[str]  # meeting id, person key, name, meeting title, status, override


def _row_changes(before: Sequence[_Row], after: Sequence[_Row]) -> list[str]:
    old_rows = {(r[0], r[1]): r for r in before}
    new_rows = {(r[0], r[1]): r for r in after}
    both = [(old_rows[k], row) for k, row in new_rows.items() if k in old_rows]
    rows_added = [row for k, row in new_rows.items() if k not in old_rows]
    rows_gone = [row for k, row in old_rows.items() if k not in new_rows]
    lines = _listed("Rows whose status changed", [(was, row) for was, row in both], field=4)
    if rows_added:
        lines.append(f"Attendance rows added: {len(rows_added)}")
    if rows_gone:
        lines.append(f"Attendance rows no longer present: {len(rows_gone)}")
    overrides: list[tuple[_Row | None, _Row]] = [(was, row) for was, row in both]
    overrides += [(None, row) for row in rows_added if row[5]]
    return lines + _listed("Overrides changed", overrides, field=5)


def _listed(title: str, pairs: Sequence[tuple[_Row | None, _Row]], *, field: int) -> list[str]:
    """The pairs whose ``field`` differs (a row new to the report had none), counted, and
    the first `LISTED` of them named."""
    changed = [
        (was, row) for was, row in pairs if (was[field] if was is not None else "") != row[field]
    ]
    if not changed:
        return []
    lines = [f"{title}: {len(changed)}"]
    lines += [
        f"  - {_who(row)}: {(was[field] if was else '') or 'none'} -> {row[field] or 'none'}"
        for was, row in changed[:LISTED]
    ]
    if len(changed) > LISTED:
        lines.append(f"  - and {len(changed) - LISTED} more; see the attached report")
    return lines


def _who(row: Sequence[str]) -> str:
    meeting_id, person_key, name, title = row[0], row[1], row[2], row[3]
    return f"{name or person_key} ({title or meeting_id})"


def _failed_ids(failures: Sequence[FetchFailure]) -> list[str]:
    return sorted({f.instance_id or f.entry_id for f in failures})


def _load(snapshot: bytes) -> dict[str, Any]:
    data = json.loads(zlib.decompress(snapshot))
    if not isinstance(data, dict):
        raise ValueError("not a content snapshot")
    data.setdefault("criteria", {})
    data.setdefault("meetings", {})
    data.setdefault("failed", [])
    data.setdefault("rows", [])
    return data


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _text(value: Any) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    """A table as canonical CSV: columns by name, rows in a stable order."""
    columns = sorted(str(c) for c in frame.columns)
    ordered = frame.reindex(columns=columns)
    keys = [c for c in _ROW_ORDER if c in ordered.columns]
    if keys:
        ordered = ordered.sort_values(keys, kind="stable", key=lambda s: s.astype(str))
    buffer = io.StringIO()
    ordered.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")
