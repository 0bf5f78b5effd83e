"""A run killed while it walks the invitee pages resumes them where it stopped.

As in test_pipeline_resume.py: `python -m reporting run` in its own process against a slow
sandbox (one request at a time, 200 ms each), SIGKILL once the store holds an invitee list
partly fetched (some pages, not all). The rerun asks only for the invitee and participant
pages the store lacks, stores each page once, and writes the CSVs of an uninterrupted run
byte for byte. Every entry's roster is `invitees`, so the invitee lists decide who is
required and absent.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from reporting.webex.sandbox import SandboxServer
from tests.pipeline_support import (
    CSVS,
    ROOT,
    config_meetings,
    csv_bytes,
    dataset_file,
    readonly,
    run_cli,
    store_rows,
    subprocess_env,
    write_config,
)

SHAPE = {"meetings": 6, "participants": 250, "seed": 11}
TOKEN = "pipeline-invitee-resume-token"
WEBEX = {"requests_per_minute": 100_000, "max_concurrency": 1}
INVITEES = "SELECT count(*) FROM pages WHERE kind = 'invitees'"


def _with_invitee_rosters(config: Path) -> Path:
    document: dict[str, Any] = yaml.safe_load(config.read_text(encoding="utf-8"))
    for entry in document["meetings"]:
        entry["roster"] = ["invitees"]
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return config


def _partial_invitee_fetches(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        conn = readonly(store)
        try:
            row = conn.execute(
                "SELECT count(*) FROM fetches WHERE instance_id LIKE 'invitees:%'"
                " AND complete = 0 AND pages > 0"
            ).fetchone()
            return int(row[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _kill_during_invitees(config: Path, store: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reporting", "run", str(config)],
        cwd=ROOT,
        env=subprocess_env(TOKEN),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if _partial_invitee_fetches(store) >= 1:
                proc.kill()  # SIGKILL, mid-walk
                proc.wait(timeout=10)
                return
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(f"never saw a partial invitee fetch (exit {proc.poll()})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_run_killed_during_the_invitee_fetch_resumes_and_matches_a_clean_run(
    tmp_path: Path,
) -> None:
    dataset = dataset_file(tmp_path, **SHAPE)
    meetings = config_meetings(**SHAPE)

    with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as fast:
        clean_config = _with_invitee_rosters(
            write_config(tmp_path / "clean", base_url=fast.base_url, meetings=meetings, webex=WEBEX)
        )
        clean = run_cli("run", str(clean_config), token=TOKEN)
    assert clean.exit_code == 0, clean.output
    clean_store = tmp_path / "clean" / "store.sqlite"
    total_invitee_pages = store_rows(clean_store, INVITEES)[0][0]
    assert total_invitee_pages >= 10  # five instances, three pages each
    clean_counts = json.loads(store_rows(clean_store, "SELECT counts FROM runs")[0][0])
    assert clean_counts["list_pages"] == total_invitee_pages

    with SandboxServer(
        dataset, tokens={TOKEN: "compliance"}, faults="latency=200ms,rate=off"
    ) as slow:
        config = _with_invitee_rosters(
            write_config(
                tmp_path / "resumed", base_url=slow.base_url, meetings=meetings, webex=WEBEX
            )
        )
        store = tmp_path / "resumed" / "store.sqlite"
        _kill_during_invitees(config, store)
        before = store_rows(store, "SELECT url FROM pages WHERE kind = 'invitees'")
        assert 0 < len(before) < total_invitee_pages
        assert not (tmp_path / "resumed" / "out" / "attendance.csv").exists()
        rerun = run_cli("run", str(config), token=TOKEN)
    assert rerun.exit_code == 0, rerun.output

    runs = store_rows(store, "SELECT id, status, counts FROM runs ORDER BY started")
    assert [r[1] for r in runs] == ["interrupted", "complete"]
    counts = json.loads(runs[-1][2])
    assert counts["retries"] == 0
    # Only the invitee pages the store lacked were asked for again.
    assert counts["list_pages"] == total_invitee_pages - len(before)
    again = store_rows(
        store, "SELECT url FROM pages WHERE kind = 'invitees' AND run_id = ?", (runs[-1][0],)
    )
    assert {u for (u,) in again}.isdisjoint({u for (u,) in before})
    # Each invitee list's pages are stored once: seq 0..n-1, no duplicates, no gaps.
    by_fetch: dict[int, list[int]] = {}
    for fetch_id, seq in store_rows(
        store, "SELECT fetch_id, seq FROM pages WHERE kind = 'invitees'"
    ):
        by_fetch.setdefault(fetch_id, []).append(seq)
    assert all(sorted(s) == list(range(len(s))) for s in by_fetch.values()), by_fetch
    assert sum(len(s) for s in by_fetch.values()) == total_invitee_pages

    resumed = csv_bytes(tmp_path / "resumed" / "out")
    reference = csv_bytes(tmp_path / "clean" / "out")
    for name in CSVS:
        assert resumed[name] == reference[name], f"{name} differs after the resume"
