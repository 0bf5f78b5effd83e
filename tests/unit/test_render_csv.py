"""CSV exports: exact columns, formats, neutralised formulas, same bytes every time."""

from __future__ import annotations

import csv
from pathlib import Path

from reporting.render import write_csvs
from reporting.render.csv import ATTENDANCE_COLUMNS, COURSE_COLUMNS, DEVICE_COLUMNS
from reporting.render.sample import sample_input


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_columns_and_formats(tmp_path: Path) -> None:
    inp = sample_input()
    paths = write_csvs(inp.result, tmp_path, inp.tz)
    assert [p.name for p in paths] == ["attendance.csv", "devices.csv", "courses.csv"]
    for path, cols in zip(paths, (ATTENDANCE_COLUMNS, DEVICE_COLUMNS, COURSE_COLUMNS), strict=True):
        assert path.read_bytes().split(b"\n")[0].decode() == ",".join(cols)
        assert b"\r" not in path.read_bytes()
    att = _rows(paths[0])[1]
    assert att["first_join"] == "2026-10-05T09:10:30+02:00"
    assert att["is_host"] == "false" and att["attended_seconds"] == "1800"
    assert att["flags"] == "LATE_JOIN"
    dev = _rows(paths[1])
    assert dev[1]["joined"] == "2026-10-05T09:00:30.250+02:00"
    assert dev[0]["phone_number"] == "+1 (408) 555-0199"
    assert _rows(paths[2])[0]["completed"] in ("true", "false")


def test_deterministic_and_neutralised(tmp_path: Path) -> None:
    inp = sample_input(meetings=1, names=['=HYPERLINK("x")', "+1", "@SUM", "-2", "plain"])
    a = [p.read_bytes() for p in write_csvs(inp.result, tmp_path / "a", inp.tz)]
    b = [p.read_bytes() for p in write_csvs(inp.result, tmp_path / "b", "Europe/Berlin")]
    assert a == b
    names = [r["display_name"] for r in _rows(tmp_path / "a" / "attendance.csv")]
    assert names == ['\'=HYPERLINK("x")', "'+1", "'@SUM", "'-2", "plain"]
