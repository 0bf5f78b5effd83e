"""The fast CSV writer gives the bytes of the plain one: `format_cell` per cell, csv module.

`reporting.render.csv` formats whole columns at once (times through pandas and numpy,
text once per distinct value) and joins rows itself. Here a plain writer, the definition
of the format, writes the same tables cell by cell, and the bytes must match: on engine
results of the property test's random meetings (masked and not, several zones), on
instants around DST changes and in odd zones and resolutions, and on awkward text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import test_attendance_property as prop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.attendance import compute, mask_result
from reporting.render.csv import (
    ATTENDANCE_COLUMNS,
    COURSE_COLUMNS,
    DEVICE_COLUMNS,
    format_cell,
    frame_to_csv,
    write_csvs,
)
from reporting.render.sample import sample_input

ZONES = [
    "Europe/Berlin",
    "UTC",
    "America/St_Johns",  # -03:30 / -02:30
    "Australia/Lord_Howe",  # a 30-minute DST step
    "Asia/Kathmandu",  # +05:45
    "Africa/Monrovia",  # -00:44:30 until 1972
]


def plain_csv(frame: pd.DataFrame, columns: Sequence[str], tz: ZoneInfo) -> bytes:
    """One `format_cell` per cell, rows through the csv module."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    data = {c: frame[c].tolist() for c in columns if c in frame.columns}
    for i in range(len(frame)):
        writer.writerow([format_cell(data[c][i], c, tz) if c in data else "" for c in columns])
    return buffer.getvalue().encode("utf-8")


def assert_same(frame: pd.DataFrame, columns: Sequence[str], zone: str) -> None:
    tz = ZoneInfo(zone)
    assert frame_to_csv(frame, columns, tz) == plain_csv(frame, columns, tz)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(prop.scenario(), st.sampled_from(ZONES), st.sampled_from(["compliance", "manager"]))
def test_engine_tables_as_plain_writer(
    case: prop.Case,
    zone: str,
    audience: str,
) -> None:
    data, rules, rosters, as_of, extra = case
    computed = compute(
        data, rules, rosters, as_of, overrides=extra.overrides, phone_region=extra.region
    )
    result = mask_result(computed, audience)
    assert_same(result.attendance, ATTENDANCE_COLUMNS, zone)
    assert_same(result.devices, DEVICE_COLUMNS, zone)
    assert_same(result.courses, COURSE_COLUMNS, zone)


def _instants(rng: np.random.Generator, unit: str) -> pd.Series:
    """Random instants 1850-2100 plus every DST change of the zones above ± 1 s."""
    lo = int(pd.Timestamp("1850-01-01", tz="UTC").value)
    hi = int(pd.Timestamp("2100-01-01", tz="UTC").value)
    ns = rng.integers(lo, hi, 2000)
    ns[::3] -= ns[::3] % 1_000_000_000  # whole seconds
    ns[1::3] -= ns[1::3] % 1_000_000  # whole milliseconds
    changes = []
    for zone in ZONES:
        hours = pd.date_range("1960-01-01", "2040-01-01", freq="h", tz="UTC")
        local = hours.tz_convert(zone)
        offsets = np.asarray((local.tz_localize(None) - hours.tz_localize(None)).total_seconds())
        for i in np.flatnonzero(np.diff(offsets)).tolist():
            changes.extend(int(hours[i + 1].value) + d * 1_000_000_000 for d in (-1, 0, 1))
    values = np.concatenate([ns, np.array(changes, dtype=np.int64)])
    stamps = pd.Series(values.view("datetime64[ns]")).dt.tz_localize("UTC").dt.as_unit(unit)
    stamps.iloc[::50] = pd.NaT
    return stamps


@pytest.mark.filterwarnings("ignore:Discarding nonzero nanoseconds")
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("zone", ZONES)
def test_times_as_plain_writer(unit: str, zone: str) -> None:
    stamps = _instants(np.random.default_rng(len(zone)), unit)
    frame = pd.DataFrame({"joined": stamps, "left": stamps.dt.tz_localize(None)})
    assert_same(frame, ["joined", "left", "missing"], zone)


def test_times_outside_numpy_iso_range_as_plain_writer() -> None:
    far = pd.Series(
        pd.to_datetime(["0001-01-01T00:30:00", "2026-10-05T09:00:00"], format="ISO8601").as_unit(
            "s"
        )
    )
    frame = pd.DataFrame({"joined": far.dt.tz_localize("UTC"), "x": ["a", "b"]})
    assert_same(frame, ["joined", "x"], "UTC")


def test_text_and_odd_values_as_plain_writer() -> None:
    texts = [
        "plain",
        "a,b",
        'say "hi"',
        "two\nlines",
        "cr\rhere",
        "=1+2",
        "+49 30 123456",
        "-x",
        "@SUM",
        "\tTab",
        "",
        " ",
        "ümlaut ✓",
        None,
    ]
    n = len(texts)
    moments = [datetime(2026, 10, 5, 9, tzinfo=UTC) + timedelta(minutes=i) for i in range(n)]
    frame = pd.DataFrame(
        {
            "meeting_id": pd.Series(texts, dtype="str"),
            "display_name": pd.Series(texts, dtype=object),
            "phone_number": pd.Series(texts, dtype="str"),
            "email": pd.Series([*texts[:-1], float("nan")], dtype=object),
            "mixed": pd.Series([1, 1.0, True, 2.5, None, float("nan"), "t", *moments[:7]]),
            "flags": pd.Series([None] * n, dtype=object),
            "is_host": pd.Series([i % 2 == 0 for i in range(n)], dtype=bool),
            "maybe": pd.Series([True, False, None] * 4 + [True, None], dtype="boolean"),
            "devices": pd.Series(range(n), dtype=np.int64),
            "duration_seconds": pd.Series([*range(n - 1), None], dtype="Int64"),
            "share": pd.Series([0.5, 2.0, float("nan"), *range(n - 3)], dtype=float),
            "meeting_start": pd.Series(moments, dtype=object),
            "first_join": pd.Series([m.isoformat() for m in moments], dtype=object),
            "when": pd.Series(moments).dt.as_unit("ms"),
        }
    )
    assert_same(frame, list(frame.columns), "Europe/Berlin")
    assert_same(frame.iloc[:0], list(frame.columns), "Europe/Berlin")
    assert_same(frame, ["display_name"], "Europe/Berlin")
    assert_same(frame.iloc[:0], ["display_name"], "Europe/Berlin")


def test_write_csvs_writes_the_plain_bytes(tmp_path: Path) -> None:
    inp = sample_input(names=['=HYPERLINK("x")', "a, b", 'say "hi"', "+1", "plain"])
    result = mask_result(inp.result, "manager")  # type: ignore[arg-type]
    paths = write_csvs(result, tmp_path, inp.tz)
    tables = (result.attendance, result.devices, result.courses)
    for path, frame, columns in zip(
        paths, tables, (ATTENDANCE_COLUMNS, DEVICE_COLUMNS, COURSE_COLUMNS), strict=True
    ):
        assert path.read_bytes() == plain_csv(frame, columns, inp.tz)
