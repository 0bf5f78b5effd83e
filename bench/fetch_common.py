"""Shared by the fetch benchmarks: a sandbox on a real uvicorn socket in its own process.

The sandbox runs in a subprocess so its CPU time does not share the client's GIL; the
client is the real WebexClient + Store + fetch_all of a run.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
    """`python -m reporting sandbox serve` on a free loopback port, as its own process.

    Started on ``with``, waited for until it answers (at most ``START_SECONDS``), and
    terminated (then killed if it lingers) on exit.
    """

    START_SECONDS = 30.0

    def __init__(self, data: Dataset | Path, faults: str, token: str = TOKEN) -> None:
        self.path = data.path if isinstance(data, Dataset) else data
        self.port = free_port()
        self.faults = faults
        self.token = token
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Sandbox:
        command = [
            sys.executable,
            "-m",
            "reporting",
            "sandbox",
            "serve",
            "--dataset",
            str(self.path),
            "--port",
            str(self.port),
            "--faults",
            self.faults,
            "--token",
            f"{self.token}:compliance",
        ]
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + self.START_SECONDS
        while True:
            try:
                # No token: answered 401 without using up any fault decision.
                httpx.get(self.base_url + "/meetings", timeout=1)
                return self
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.__exit__()
                    raise RuntimeError("sandbox did not start") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


def instance_config(data: Dataset, limit: int | None = None, *, invitees: bool = False) -> Any:
    """A stand-in config naming every meeting instance of the dataset as an entry.

    ``invitees``: each entry's roster names `invitees`, so every instance also walks
    ``GET /meetingInvitees`` (rule 14), beside its participants."""
    sources = frozenset({"invitees"}) if invitees else frozenset()
    return SimpleNamespace(
        timezone="UTC",
        period=SimpleNamespace(
            start=data.now - timedelta(days=400), end=data.now + timedelta(days=1), label="bench"
        ),
        webex=SimpleNamespace(host_email=None),
        meetings=tuple(
            SimpleNamespace(id=i, title=None, course=None, roster_sources=sources)
            for i in data.instance_ids[:limit]
        ),
    )


def run_fetch(
    base_url: str, config: Any, *, store_path: Path | None = None, **client_args: Any
) -> tuple[FetchOutcome, float]:
    """The product's fetch (real Store on a temp SQLite file); wall seconds of the loop."""
    store_path = store_path or Path(tempfile.mkdtemp(prefix="fetch-bench-")) / "s.sqlite"
    result: list[FetchOutcome] = []

    async def go() -> None:
        with Store.open(store_path) as store:
            async with WebexClient(base_url, TOKEN, **client_args) as client:
                result.append(await fetch_all(config, store, "bench", client))

    # The outcome is handed out of the loop, not returned by the task: on Python 3.11
    # asyncio.run's SIGINT restore builds repr(main task), which would format every record.
    started = time.perf_counter()
    asyncio.run(go())
    return result[0], time.perf_counter() - started


def records(outcome: FetchOutcome) -> dict[str, tuple[dict[str, Any], ...]]:
    return {d.instance.id: d.records for d in outcome.data}


@dataclass(frozen=True)
class Dataset:
    """A generated dataset, saved to ``path``; only what the client side needs is kept."""

    path: Path
    instance_ids: list[str]
    now: datetime


def dataset(meetings: int, participants: int, seed: int) -> Dataset:
    """Generate and save a dataset (untimed). The records are not kept in this process:
    50 000 participant dicts in the client's heap would make every full garbage
    collection during the timed fetch walk them."""
    data = generate_dataset(meetings, participants, seed)
    if not data.get("now"):
        data["now"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = Path(tempfile.mkdtemp(prefix="fetch-bench-")) / "dataset.json"
    save_dataset(data, path)
    ids = [str(m["id"]) for m in data["meetings"] if m["meetingType"] == "meeting"]
    now = datetime.fromisoformat(str(data["now"]).replace("Z", "+00:00"))
    del data
    gc.collect()
    return Dataset(path, ids, now)


def cpu_note() -> str:
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores, load average {load:.1f} (shared machine: figures are contended)"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
