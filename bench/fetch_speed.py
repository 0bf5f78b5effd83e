"""Fetch speed: 200 meetings × 250 participants, 50 ms added latency, side by side.

Contestants, alternated on one sandbox process, at each concurrency (8, 32, 64 by default):

- ``ours``: the product's fetch (WebexClient + Store + fetch_all, as a run does it);
- ``client``: our WebexClient alone walking the same meetings (Get Meeting, every
  participant page), no store and no records built: the transport's share of ``ours``;
- ``wxc_sdk``: the same walk with wxc_sdk's async API (aiohttp; a test-only dependency),
  ``max=100`` as ours asks.

Each prints wall seconds, its ratio to its own latency-bound ideal (requests × 50 ms /
concurrency), the client's CPU per request (this process: store writes and record
building included for ``ours``), the sandbox server's CPU, and ours ÷ wxc_sdk. Before any
timed run one untimed walk fills the sandbox's page cache, so every contestant meets the
same server. Targets (issue 16): ours ≤ 1.1 × ideal at 8 and ≤ 1.3 × at 32 and 64, no
slower than wxc_sdk at each, client CPU ≤ 2 ms per request; with ``--workload invitees``
(every instance also walks ``GET /meetingInvitees``, issue 13) ≤ 1.2 × at 8.
Concurrency 1 runs ours on a subset (``--subset`` meetings) and is extrapolated per request
(target: concurrency 8 ≥ 6× faster).

    .venv/bin/python bench/fetch_speed.py [--meetings 200] [--concurrency 8 32 64] \\
        [--workload participants|invitees] [--runs 1] [--subset 25] [--only ours,wxc_sdk]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fetch_common import (
    TOKEN,
    Dataset,
    Sandbox,
    cpu_note,
    cpu_seconds,
    dataset,
    instance_config,
    run_fetch,
)

from reporting.webex.client import WebexClient

LATENCY = 0.05
CONTESTANTS = ("ours", "client", "wxc_sdk")


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int
    seconds: float
    client_cpu: float
    server_cpu: float

    @property
    def ratio(self) -> float:
        return self.seconds / (self.requests * LATENCY / self.concurrency)


def _ours(base_url: str, data: Dataset, concurrency: int, invitees: bool) -> int:
    config = instance_config(data, invitees=invitees)
    outcome, _ = run_fetch(
        base_url, config, max_concurrency=concurrency, requests_per_minute=None, timeout=30.0
    )
    assert not outcome.failures, outcome.failures
    return outcome.stats.requests


def _client(base_url: str, data: Dataset, concurrency: int, invitees: bool) -> int:
    async def walk() -> int:
        async with WebexClient(
            base_url, TOKEN, max_concurrency=concurrency, requests_per_minute=None
        ) as client:

            async def one(meeting_id: str) -> None:
                await client.get_meeting(meeting_id)
                lists = ["meetingParticipants"] + (["meetingInvitees"] * invitees)
                for path in lists:
                    # As the fetch walks them: participant pages judged, kept as bodies.
                    expect = "participants" if path == "meetingParticipants" else "items"
                    async for _ in client.pages(
                        path, {"meetingId": meeting_id}, what="m", expect=expect
                    ):
                        pass

            await asyncio.gather(*(one(m) for m in data.instance_ids))
            return client.stats.requests

    return asyncio.run(walk())


def _wxc_sdk(base_url: str, data: Dataset, concurrency: int, invitees: bool) -> int:
    from wxc_sdk.as_api import AsWebexSimpleApi

    requests = 0

    async def count(*_: Any) -> None:
        nonlocal requests
        requests += 1

    async def walk() -> None:
        import aiohttp

        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(count)
        async with AsWebexSimpleApi(
            tokens=TOKEN, concurrent_requests=concurrency, trace_configs=[trace]
        ) as api:
            api.session.BASE = base_url

            async def one(meeting_id: str) -> None:
                await api.meetings.get(meeting_id=meeting_id)
                await api.meetings.participants.list_participants(meeting_id=meeting_id, max=100)
                if invitees:
                    await api.meetings.invitees.list(meeting_id=meeting_id, max=100)

            await asyncio.gather(*(one(m) for m in data.instance_ids))

    asyncio.run(walk())
    return requests


RUNNERS: dict[str, Callable[[str, Dataset, int, bool], int]] = {
    "ours": _ours,
    "client": _client,
    "wxc_sdk": _wxc_sdk,
}


def _timed(name: str, sandbox: Sandbox, data: Dataset, concurrency: int, invitees: bool) -> Result:
    assert sandbox.proc is not None
    server = cpu_seconds(sandbox.proc.pid)
    cpu = time.process_time()
    started = time.perf_counter()
    requests = RUNNERS[name](sandbox.base_url, data, concurrency, invitees)
    seconds = time.perf_counter() - started
    return Result(
        name,
        concurrency,
        requests,
        seconds,
        time.process_time() - cpu,
        cpu_seconds(sandbox.proc.pid) - server,
    )


def _show(result: Result, wxc: Result | None) -> None:
    versus = f"; {result.seconds / wxc.seconds:.2f} × wxc_sdk's time" if wxc else ""
    print(
        f"  {result.name:8} {result.requests:5} requests in {result.seconds:6.2f}s = "
        f"{result.ratio:.2f} × ideal; client CPU {result.client_cpu / result.requests * 1000:.2f}"
        f" ms/request, server {result.server_cpu / result.requests * 1000:.2f} ms/request"
        f"{versus}; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--participants", type=int, default=250)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--subset", type=int, default=25)
    parser.add_argument("--workload", choices=("participants", "invitees"), default="participants")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", default=",".join(CONTESTANTS))
    args = parser.parse_args()
    names = [n for n in CONTESTANTS if n in args.only.split(",")]
    data = dataset(args.meetings, args.participants, 17)
    invitees = args.workload == "invitees"
    print(cpu_note())
    with Sandbox(data, f"latency={int(LATENCY * 1000)}ms,rate=off") as sandbox:
        _client(sandbox.base_url, data, 64, invitees)  # fills the sandbox's page cache
        results: list[Result] = []
        for concurrency in args.concurrency:
            print(f"{args.workload}, concurrency {concurrency}:")
            for _ in range(args.runs):
                run = [_timed(n, sandbox, data, concurrency, invitees) for n in names]
                wxc = next((r for r in run if r.name == "wxc_sdk"), None)
                for result in run:
                    _show(result, wxc if result.name != "wxc_sdk" else None)
                results += run
            _summary(results, concurrency, args.runs)
        if "ours" in names:
            _concurrency_one(sandbox, data, args.subset, invitees, results)


def _summary(results: list[Result], concurrency: int, runs: int) -> None:
    if runs < 2:
        return
    for name in CONTESTANTS:
        ratios = [r.ratio for r in results if r.name == name and r.concurrency == concurrency]
        if ratios:
            print(f"  {name}: median ratio {statistics.median(ratios):.2f} over {runs} runs")


def _concurrency_one(
    sandbox: Sandbox, data: Dataset, subset: int, invitees: bool, results: list[Result]
) -> None:
    eight = next((r for r in results if r.name == "ours" and r.concurrency == 8), None)
    if eight is None or subset <= 0:  # --subset 0: no concurrency-1 run
        return
    config = instance_config(data, subset, invitees=invitees)
    one, one_seconds = run_fetch(
        sandbox.base_url, config, max_concurrency=1, requests_per_minute=None
    )
    per_request = one_seconds / one.stats.requests
    extrapolated = per_request * eight.requests
    print(
        f"concurrency 1 on {len(config.meetings)} meetings: {one.stats.requests} requests in "
        f"{one_seconds:.2f}s ({per_request * 1000:.1f} ms/request); extrapolated to "
        f"{eight.requests} requests: {extrapolated:.1f}s; concurrency 8 is "
        f"{extrapolated / eight.seconds:.1f}× faster (target ≥ 6×)"
    )


if __name__ == "__main__":
    main()
