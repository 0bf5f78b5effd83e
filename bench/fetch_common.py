"""Shared by the fetch benchmarks: a sandbox on a real uvicorn socket in its own process.

The sandbox runs in a subprocess so its CPU time does not share the client's GIL; the
client is the real WebexClient + Store + fetch_all of a run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from reporting.fetch import FetchOutcome, fetch_all
from reporting.store import Store
from reporting.webex.client import WebexClient
from reporting.webex.sandbox import generate_dataset, save_dataset

TOKEN = "bench-token"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sandbox:
    def __init__(self, data: dict[str, Any], faults: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fetch-bench-"))
        self.path = self.dir / "dataset.json"
        save_dataset(data, self.path)
        self.port = free_port()
        self.faults = faults
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Sandbox:
        code = (
            "import sys; from reporting.webex.sandbox import serve; "
            "serve(sys.argv[1], port=int(sys.argv[2]), faults=sys.argv[3], "
            "tokens=[sys.argv[4] + ':compliance'])"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(self.path), str(self.port), self.faults, TOKEN],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.base_url + "/meetings", timeout=1)
                return self
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("sandbox did not start") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def instance_config(data: dict[str, Any], limit: int | None = None) -> Any:
    """A stand-in config naming every meeting instance of the dataset as an entry."""
    instances = [m for m in data["meetings"] if m["meetingType"] == "meeting"][:limit]
    now = datetime.fromisoformat(data["now"].replace("Z", "+00:00"))
    return SimpleNamespace(
        timezone="UTC",
        period=SimpleNamespace(
            start=now - timedelta(days=400), end=now + timedelta(days=1), label="bench"
        ),
        webex=SimpleNamespace(host_email=None),
        meetings=tuple(SimpleNamespace(id=m["id"], title=None, course=None) for m in instances),
    )


def run_fetch(
    base_url: str, config: Any, *, store_path: Path | None = None, **client_args: Any
) -> tuple[FetchOutcome, float]:
    store_path = store_path or Path(tempfile.mkdtemp(prefix="fetch-bench-")) / "s.sqlite"

    async def go() -> FetchOutcome:
        with Store.open(store_path) as store:
            async with WebexClient(base_url, TOKEN, **client_args) as client:
                return await fetch_all(config, store, "bench", client)

    started = time.perf_counter()
    outcome = asyncio.run(go())
    return outcome, time.perf_counter() - started


def records(outcome: FetchOutcome) -> dict[str, tuple[dict[str, Any], ...]]:
    return {d.instance.id: d.records for d in outcome.data}


def dataset(meetings: int, participants: int, seed: int) -> dict[str, Any]:
    data = generate_dataset(meetings, participants, seed)
    data["now"] = (
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if not data.get("now") else data["now"]
    )
    return data


def cpu_note() -> str:
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores, load average {load:.1f} (shared machine: figures are contended)"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
