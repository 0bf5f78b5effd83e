"""A whole `attendance run` through the issue's fault mix gives the same CSVs as a clean run.

Two runs of `python -m reporting run` (separate processes, stores and output folders) on
the same generated dataset, each against its own `attendance sandbox serve` process: one
fault-free, one with 5 % 429 + 5 % 503 (10 % in all) and 2 % dropped connections. Prints
requests, retries, wall time and whether attendance.csv, devices.csv and courses.csv are
byte-identical; exits 1 if they are not or a run did not exit 0.

    .venv/bin/python bench/pipeline_faults.py [--meetings 60] [--participants 250]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from fetch_common import Sandbox

from reporting.webex.sandbox import generate_dataset, save_dataset

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-pipeline-token"
TOKEN_ENV = "BENCH_PIPELINE_TOKEN"
FAULTS = "seed=7,429=5%,503=5%,drop=2%,rate=off"
CSVS = ("attendance.csv", "devices.csv", "courses.csv")


def plan(data: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Config meeting ids (series ids, ended single instances) and a period covering them."""
    instances = [m for m in data["meetings"] if m["meetingType"] == "meeting"]
    per_series: dict[str, int] = {}
    for meeting in instances:
        series = meeting["meetingSeriesId"]
        per_series[series] = per_series.get(series, 0) + 1
    ids: list[str] = []
    for meeting in instances:
        series = meeting["meetingSeriesId"]
        if per_series[series] > 1:
            if series not in ids:
                ids.append(series)
        elif meeting["state"] == "ended":
            ids.append(meeting["id"])
    starts = [datetime.fromisoformat(m["start"].replace("Z", "+00:00")) for m in instances]
    period = {
        "from": (min(starts) - timedelta(days=1)).date().isoformat(),
        "to": (max(starts) + timedelta(days=2)).date().isoformat(),
    }
    return ids, period


def run(folder: Path, base_url: str, ids: list[str], period: dict[str, str]) -> dict[str, Any]:
    folder.mkdir(parents=True)
    config = {
        "timezone": "UTC",
        "period": period,
        "webex": {"base_url": base_url, "token_env": TOKEN_ENV},
        "meetings": [{"id": i} for i in ids],
        "reports": [],
        "output": {"dir": "out"},
        "store": "store.sqlite",
    }
    path = folder / "audit.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "reporting", "run", str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), TOKEN_ENV: TOKEN},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    conn = sqlite3.connect(folder / "store.sqlite")
    try:
        counts = json.loads(conn.execute("SELECT counts FROM runs").fetchone()[0] or "{}")
    finally:
        conn.close()
    return {
        "exit": proc.returncode,
        "stdout": proc.stdout.strip(),
        "stderr": proc.stderr,
        "wall": wall,
        "counts": counts,
        "csvs": {
            n: (folder / "out" / n).read_bytes() for n in CSVS if (folder / "out" / n).exists()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=60)
    parser.add_argument("--participants", type=int, default=250)
    parser.add_argument("--seed", type=int, default=29)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pipeline-faults-"))
    data = generate_dataset(args.meetings, args.participants, args.seed)
    dataset = work / "dataset.json"
    save_dataset(data, dataset)
    ids, period = plan(data)
    del data
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; dataset "
        f"{args.meetings} meetings x {args.participants} participants, {len(ids)} config "
        f"entries, period {period['from']}..{period['to']}; work dir {work}"
    )

    results = {}
    for name, faults in (("fault-free", "rate=off"), ("faults", FAULTS)):
        with Sandbox(dataset, faults, token=TOKEN) as sandbox:
            results[name] = run(work / name, sandbox.base_url, ids, period)
        r = results[name]
        c = r["counts"]
        print(
            f"{name:10} ({faults}): exit {r['exit']}, {c.get('requests')} requests, "
            f"{c.get('retries')} retries ({c.get('rate_limited')}x 429, "
            f"{c.get('server_errors')}x 5xx, {c.get('transport_errors')}x dropped), "
            f"{c.get('pages')} pages, fetch {c.get('seconds', 0):.1f}s, "
            f"waited {c.get('backoff_seconds', 0):.1f}s, wall {r['wall']:.1f}s"
        )
        print(f"           {r['stdout']}")
        if r["exit"] != 0:
            print(r["stderr"][-2000:], file=sys.stderr)

    clean, faulty = results["fault-free"], results["faults"]
    same = len(clean["csvs"]) == len(CSVS) and clean["csvs"] == faulty["csvs"]
    rows = clean["csvs"].get("attendance.csv", b"").count(b"\n") - 1
    print(f"identical: {'yes' if same else 'no'} ({', '.join(CSVS)}; {rows} attendance rows)")
    if not same or clean["exit"] != 0 or faulty["exit"] != 0:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
