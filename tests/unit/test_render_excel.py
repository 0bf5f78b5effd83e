"""XLSX report: cells, types and number formats read back with openpyxl."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from reporting.render import render_xlsx
from reporting.render.sample import sample_input

HOSTILE = ["=1+2", "+SUM(A1)", "-3", "@x", "\tTab", "Ctrl\x01\x07char", "<b>bold</b>"]


def test_sheets_types_and_formats(tmp_path: Path) -> None:
    wb = load_workbook(render_xlsx(sample_input(), tmp_path / "r.xlsx"))
    assert wb.sheetnames == [
        "Summary",
        "Non-compliance",
        "Course rates",
        "Departments",
        "Overrides",
        "Other participants",
        "Attendance",
        "Devices",
        "Breakouts",
        "Courses",
        "Data quality",
    ]
    ws = wb["Attendance"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert not ws.merged_cells.ranges
    header = [c.value for c in ws[1]]
    row = dict(zip(header, ws[2], strict=True))
    # Stored as a number of days; openpyxl reads duration-formatted numbers as timedelta.
    assert row["Attended"].value == timedelta(seconds=3300)
    assert row["Attended"].number_format == "[h]:mm:ss"
    assert row["First join"].value == datetime(2026, 10, 5, 9, 0, 30)  # Berlin, naive
    assert row["First join"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert row["Host"].value is True
    assert row["Share of meeting"].number_format == "0.0%"
    dq = [[c.value for c in r] for r in wb["Data quality"].iter_rows(min_row=2)]
    assert any(r[1] == "LATE_JOIN" and "first join" in r[4] for r in dq)
    assert any(r[0] == "fetch failure" for r in dq) and any(r[0] == "page problem" for r in dq)


def test_hostile_strings_stay_text(tmp_path: Path) -> None:
    wb = load_workbook(render_xlsx(sample_input(meetings=1, names=HOSTILE), tmp_path / "h.xlsx"))
    ws = wb["Attendance"]
    col = [c.value for c in ws[1]].index("Name")
    cells = [r[col] for r in ws.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(HOSTILE)
    assert [c.value for c in cells][:5] == HOSTILE[:5]
    assert cells[5].value == "Ctrlchar"


def test_non_compliance_has_no_devices_sheet(tmp_path: Path) -> None:
    inp = sample_input(audience="summary", phone="•••••••0199")
    wb = load_workbook(render_xlsx(inp, tmp_path / "s.xlsx"))
    assert "Devices" not in wb.sheetnames
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and "555" in v for v in row)


def test_streamed_cells_match_openpyxl(tmp_path: Path) -> None:
    """The big sheets' rows are built without openpyxl; they must read back as if it wrote them."""
    from zoneinfo import ZoneInfo

    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from reporting.render.xlsx_rows import BigSheet, assemble, column_xml

    texts = ["a&b<c>", " lead", "trail ", "#N/A", "=x", "", None, 1, 1.0, True, "x\ny"]
    when = pd.Series(
        pd.to_datetime(
            [
                "2026-10-05 07:00:30.250001",
                None,
                "1900-01-02 00:00:00",
                "2026-03-29 01:30:00",
                "2026-10-25 00:59:59",
            ]
            + [None] * 6,
            utc=True,
            format="ISO8601",
        )
    )
    seconds = pd.Series([3300, None, 0, 59, 86401, 1, 2, 3, 4, 5, 6], dtype="float64")
    flags = pd.Series(
        [True, False, None, True, False, True, True, False, None, True, False], dtype=object
    )
    tz = ZoneInfo("Europe/Berlin")

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("fast")
    ws.append(["header"])
    style = WriteOnlyCell(ws)
    style.number_format = "yyyy-mm-dd hh:mm:ss"
    cols = [
        column_xml(pd.Series(texts, dtype=object), 11, 1, "text", tz, None),
        column_xml(when, 11, 2, "datetime", tz, style.style_id),
        column_xml(seconds, 11, 3, "duration", tz, None),
        column_xml(seconds, 11, 4, "int", tz, None),
        column_xml(flags, 11, 5, "bool", tz, None),
    ]
    sheet = BigSheet(ws, cols, 11)
    skeleton = io.BytesIO()
    wb.save(skeleton)
    assemble(skeleton, tmp_path / "fast.xlsx", [sheet])
    fast = load_workbook(tmp_path / "fast.xlsx")["fast"]

    local = when.dt.tz_convert(tz).dt.tz_localize(None)
    slow_wb = Workbook(write_only=True)
    slow_ws = slow_wb.create_sheet("slow")
    slow_ws.append(["header"])
    for i in range(11):
        t = texts[i]
        text = WriteOnlyCell(slow_ws, value=None if t is None else str(t))
        if t is not None:
            text.data_type = "s"
        if i == 4:
            # 02:59:59 happens twice that night (DST ends): text with its offset, as the
            # PDF shows it, since a date cell cannot carry one.
            stamp = WriteOnlyCell(slow_ws, value="2026-10-25 02:59:59 +02:00")
            stamp.data_type = "s"
        else:
            stamp = WriteOnlyCell(
                slow_ws, value=None if pd.isna(local[i]) else local[i].to_pydatetime()
            )
            stamp.number_format = "yyyy-mm-dd hh:mm:ss"
        s = seconds[i]
        slow_ws.append(
            [
                text,
                stamp,
                None if pd.isna(s) else float(s) / 86400.0,
                None if pd.isna(s) else int(s),
                None if flags[i] is None else bool(flags[i]),
            ]
        )
    slow_wb.save(tmp_path / "slow.xlsx")
    slow = load_workbook(tmp_path / "slow.xlsx")["slow"]

    def cells(ws: Any) -> list[tuple[Any, ...]]:
        return [
            (c.coordinate, c.value, c.data_type, c.number_format) for r in ws.iter_rows() for c in r
        ]

    assert cells(fast) == cells(slow)
