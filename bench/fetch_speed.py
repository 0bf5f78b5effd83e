"""Fetch speed: 200 meetings × 250 participants, 50 ms added latency, concurrency 8 vs 1.

Target: wall time ≤ 1.2 × ideal (requests × 50 ms / 8) and ≥ 6× faster than concurrency 1.
Concurrency 1 runs on a subset (default 25 meetings) and is extrapolated per request.
``--workload invitees`` names `invitees` as every entry's roster: each instance also walks
``GET /meetingInvitees`` (one more paginated call per instance, ~3 pages of 100); the
ideal is then computed from all requests, participants and invitees. ``--runs N`` repeats
the concurrency-8 fetch N times (fresh store each) and prints every ratio.

    .venv/bin/python bench/fetch_speed.py [--meetings 200] [--subset 25] \
        [--workload participants|invitees] [--runs 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fetch_common import (
    Sandbox,
    cpu_note,
    cpu_seconds,
    dataset,
    instance_config,
    run_fetch,
)

LATENCY = 0.05


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--participants", type=int, default=250)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--subset", type=int, default=25)
    parser.add_argument("--workload", choices=("participants", "invitees"), default="participants")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    data = dataset(args.meetings, args.participants, 17)
    invitees = args.workload == "invitees"
    config = instance_config(data, invitees=invitees)
    common = {"requests_per_minute": None, "timeout": 30.0}
    print(cpu_note())
    with Sandbox(data, f"latency={int(LATENCY * 1000)}ms,rate=off") as sandbox:
        assert sandbox.proc is not None
        ratios = []
        for _ in range(args.runs):
            server_cpu = cpu_seconds(sandbox.proc.pid)
            client_cpu = time.process_time()
            outcome, seconds = run_fetch(
                sandbox.base_url, config, max_concurrency=args.concurrency, **common
            )
            client_cpu = time.process_time() - client_cpu
            server_cpu = cpu_seconds(sandbox.proc.pid) - server_cpu
            requests = outcome.stats.requests
            ideal = requests * LATENCY / args.concurrency
            ratios.append(seconds / ideal)
            print(
                f"{args.workload}, concurrency {args.concurrency}: {len(outcome.data)} "
                f"instances, {sum(len(d.records) for d in outcome.data)} records, "
                f"{sum(len(d.invitees or ()) for d in outcome.data)} invitees, {requests} "
                f"requests, {outcome.stats.pages} participant + {outcome.stats.list_pages} "
                f"invitee pages in {seconds:.2f}s; ideal {ideal:.2f}s; ratio "
                f"{seconds / ideal:.2f} (target ≤ 1.20)"
            )
            print(
                f"  CPU during that fetch: client {client_cpu:.2f}s, sandbox server "
                f"{server_cpu:.2f}s, on 2 cores shared with other work"
            )
        if len(ratios) > 1:
            print(
                f"ratios over {len(ratios)} runs: min {min(ratios):.2f}, median "
                f"{sorted(ratios)[len(ratios) // 2]:.2f}, max {max(ratios):.2f}"
            )
        assert not outcome.failures, outcome.failures
        subset = instance_config(data, args.subset, invitees=invitees)
        one, one_seconds = run_fetch(sandbox.base_url, subset, max_concurrency=1, **common)
        per_request = one_seconds / one.stats.requests
        extrapolated = per_request * requests
        print(
            f"concurrency 1 on {len(subset.meetings)} meetings: {one.stats.requests} requests "
            f"in {one_seconds:.2f}s ({per_request * 1000:.1f} ms/request); extrapolated to "
            f"{requests} requests: {extrapolated:.1f}s"
        )
        print(f"speed-up {extrapolated / seconds:.1f}× (target ≥ 6×)")


if __name__ == "__main__":
    main()
