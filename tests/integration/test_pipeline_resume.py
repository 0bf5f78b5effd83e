"""A run killed halfway resumes where it stopped and ends with the outputs of a clean run.

`python -m reporting run` runs in its own process against a slow sandbox (one request at
a time, 200 ms each); once the store shows one meeting fully fetched and another one
partly, the process gets SIGKILL: no cleanup, no exception handler. The rerun must ask
only for the pages the store does not hold, and its CSVs must equal an uninterrupted
run's byte for byte.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from reporting.webex.sandbox import SandboxServer
from tests.pipeline_support import (
    CSVS,
    ROOT,
    config_meetings,
    csv_bytes,
    dataset_file,
    participant_pages,
    readonly,
    run_cli,
    store_rows,
    subprocess_env,
    write_config,
)

# Five ended instances of ~250 people: three participant pages each.
SHAPE = {"meetings": 6, "participants": 250, "seed": 11}
TOKEN = "pipeline-resume-token"
WEBEX = {"requests_per_minute": 100_000, "max_concurrency": 1}


def _progress(store: Path) -> tuple[int, int, int]:
    """(participant pages, complete fetches, partial fetches with pages) in the store."""
    if not store.exists():
        return 0, 0, 0
    try:
        conn = readonly(store)
        try:
            pages = conn.execute("SELECT count(*) FROM pages WHERE kind = 'participants'")
            done = conn.execute("SELECT count(*) FROM fetches WHERE complete = 1")
            partial = conn.execute("SELECT count(*) FROM fetches WHERE complete = 0 AND pages > 0")
            return pages.fetchone()[0], done.fetchone()[0], partial.fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet, or mid-schema
        return 0, 0, 0


def _kill_midway(config: Path, store: Path) -> tuple[int, int, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reporting", "run", str(config)],
        cwd=ROOT,
        env=subprocess_env(TOKEN),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = _progress(store)
            if state[1] >= 1 and state[2] >= 1:
                proc.kill()  # SIGKILL
                proc.wait(timeout=10)
                return state
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(
            f"never saw a partial fetch to kill (exit {proc.poll()}, store {_progress(store)})"
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_killed_run_resumes_without_asking_again_and_matches_a_clean_run(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path, **SHAPE)
    meetings = config_meetings(**SHAPE)
    total_pages = participant_pages(**SHAPE)
    assert total_pages == 15

    # The reference: an uninterrupted run on a fast sandbox with the same data.
    with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as fast:
        clean_config = write_config(
            tmp_path / "clean", base_url=fast.base_url, meetings=meetings, webex=WEBEX
        )
        clean = run_cli("run", str(clean_config), token=TOKEN)
    assert clean.exit_code == 0, clean.output
    clean_counts = json.loads(
        store_rows(tmp_path / "clean" / "store.sqlite", "SELECT counts FROM runs")[0][0]
    )
    assert clean_counts["pages"] == total_pages
    # Get Meeting and List Meetings (every run asks them); a webinar's invitee pages
    # (rule 14) are reused from the store like participant pages.
    invitee_pages = clean_counts["list_pages"]
    lookups = clean_counts["requests"] - total_pages - invitee_pages

    with SandboxServer(
        dataset, tokens={TOKEN: "compliance"}, faults="latency=200ms,rate=off"
    ) as slow:
        config = write_config(
            tmp_path / "resumed", base_url=slow.base_url, meetings=meetings, webex=WEBEX
        )
        store = tmp_path / "resumed" / "store.sqlite"
        _kill_midway(config, store)
        before = store_rows(
            store,
            "SELECT run_id, fetch_id, subject, seq, url FROM pages WHERE kind = 'participants'",
        )
        stored_before = len(before)
        invitees_before = len(store_rows(store, "SELECT id FROM pages WHERE kind = 'invitees'"))
        assert 0 < stored_before < total_pages
        assert not (tmp_path / "resumed" / "out" / "attendance.csv").exists()
        killed_run = before[0][0]

        rerun = run_cli("run", str(config), token=TOKEN)
    assert rerun.exit_code == 0, rerun.output
    assert "5 meeting instance(s) audited, 0 failed" in rerun.output

    runs = store_rows(store, "SELECT id, status, counts FROM runs ORDER BY started")
    assert len(runs) == 2 and runs[0][0] == killed_run
    rerun_id, status, counts_json = runs[-1]
    assert status == "complete"
    counts = json.loads(counts_json)
    # Only the pages the store lacked were asked for (plus the cheap lookups every run
    # makes); the meetings fetched in full were reused, the half-fetched one resumed.
    assert counts["retries"] == 0
    assert counts["pages"] == total_pages - stored_before
    assert counts["list_pages"] == invitee_pages - invitees_before
    assert counts["requests"] == (
        lookups + total_pages - stored_before + invitee_pages - invitees_before
    )
    assert counts["instances_reused"] >= 1
    assert counts["instances_resumed"] >= 1

    after = store_rows(
        store,
        "SELECT run_id, fetch_id, subject, seq, url FROM pages WHERE kind = 'participants'",
    )
    again = [row for row in after if row[0] == rerun_id]
    assert {row[4] for row in again}.isdisjoint({row[4] for row in before})
    # Every instance's pages were stored once each: seq 0..2, no duplicates, no gaps.
    by_fetch: dict[int, list[int]] = {}
    for _run, fetch_id, _subject, seq, _url in after:
        by_fetch.setdefault(fetch_id, []).append(seq)
    assert len(by_fetch) == 5
    assert all(sorted(seqs) == [0, 1, 2] for seqs in by_fetch.values()), by_fetch

    resumed = csv_bytes(tmp_path / "resumed" / "out")
    reference = csv_bytes(tmp_path / "clean" / "out")
    for name in CSVS:
        assert resumed[name] == reference[name], f"{name} differs after the resume"
