"""`--offline` recomputes from the store alone: same CSV bytes, no network, no token.

The offline run's config points at a loopback port where a bare listening socket waits as
a trap: any connection attempt would show up in its accept queue. The token variable is
unset, so a run that tried to authenticate would fail too.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from reporting.store import Store
from reporting.webex.sandbox import SandboxServer
from tests.pipeline_support import (
    CSVS,
    config_meetings,
    csv_bytes,
    dataset_file,
    run_cli,
    store_rows,
    write_config,
)

TOKEN = "pipeline-offline-token"
REPORTS = ({"name": "summary", "audience": "summary", "formats": ["xlsx"]},)


def _trap() -> socket.socket:
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    trap.setblocking(False)
    return trap


def _connections(trap: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = trap.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def test_offline_reproduces_the_csvs_without_touching_the_network(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path)
    with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox:
        config = write_config(
            tmp_path,
            base_url=sandbox.base_url,
            meetings=config_meetings(),
            reports=REPORTS,
            output="online",
        )
        online = run_cli("run", str(config), token=TOKEN)
    assert online.exit_code == 0, online.output

    trap = _trap()
    try:
        port = trap.getsockname()[1]
        offline_config = write_config(
            tmp_path,
            base_url=f"http://127.0.0.1:{port}/v1",
            meetings=config_meetings(),
            reports=REPORTS,
            output="offline",
        )
        assert offline_config == config  # same file, same store; only base_url moved
        offline = run_cli("run", str(config), "--offline", token=None)
        assert _connections(trap) == 0, "the offline run connected to the API"
    finally:
        trap.close()

    assert offline.exit_code == 0, offline.output
    assert "5 meeting instance(s) audited, 0 failed" in offline.stdout
    before, after = csv_bytes(tmp_path / "online"), csv_bytes(tmp_path / "offline")
    for name in CSVS:
        assert after[name] == before[name], f"{name} differs offline"
    assert (tmp_path / "offline" / "summary.xlsx").stat().st_size > 0
    runs = store_rows(
        tmp_path / "store.sqlite", "SELECT offline, status FROM runs ORDER BY started"
    )
    assert runs == [(0, "complete"), (1, "complete")]


@pytest.mark.parametrize("store_exists", [True, False], ids=["empty-store", "no-store"])
def test_offline_on_an_empty_store_fails_with_a_clear_message(
    tmp_path: Path, store_exists: bool
) -> None:
    if store_exists:
        Store.open(tmp_path / "store.sqlite").close()
    trap = _trap()
    try:
        config = write_config(
            tmp_path,
            base_url=f"http://127.0.0.1:{trap.getsockname()[1]}/v1",
            meetings=config_meetings(),
        )
        result = run_cli("run", str(config), "--offline", token=None)
        assert _connections(trap) == 0
    finally:
        trap.close()
    # Exit 1: nothing trustworthy could be produced (not 2: the config is fine).
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    if store_exists:
        assert "holds nothing for period 2026-09" in lines[0]
    else:
        assert "there is no store at" in lines[0]
        assert not (tmp_path / "store.sqlite").exists(), "--offline created a store"
    assert "without --offline" in lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()
