"""Faults: 5 % 429 + 5 % 503 (10 % in all) and 2 % dropped connections on a real socket.

Target: the fetch completes and yields exactly the records of a fault-free fetch.

    .venv/bin/python bench/fetch_faults.py [--meetings 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fetch_common import (
    Sandbox,
    cpu_note,
    dataset,
    instance_config,
    records,
    run_fetch,
)

FAULTS = "seed=7,429=5%,503=5%,drop=2%,malformed_retry_after=20%,retry_after=1,rate=off"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=60)
    parser.add_argument("--participants", type=int, default=250)
    args = parser.parse_args()
    data = dataset(args.meetings, args.participants, 29)
    config = instance_config(data)
    print(cpu_note())
    with Sandbox(data, "rate=off") as sandbox:
        clean, clean_seconds = run_fetch(sandbox.base_url, config, requests_per_minute=None)
    with Sandbox(data, FAULTS) as sandbox:
        faulty, seconds = run_fetch(sandbox.base_url, config, requests_per_minute=None)
    stats = faulty.stats
    print(f"fault-free: {clean.stats.requests} requests in {clean_seconds:.2f}s")
    print(
        f"with faults ({FAULTS}): {stats.requests} requests, {stats.retries} retries "
        f"({stats.rate_limited}× 429, {stats.server_errors}× 5xx, "
        f"{stats.transport_errors}× dropped), waited {stats.backoff_seconds:.1f}s, "
        f"{seconds:.2f}s; failures: {len(faulty.failures)}"
    )
    same = records(faulty) == records(clean)
    count = sum(len(r) for r in records(faulty).values())
    print(
        f"records identical to the fault-free fetch: {same} "
        f"({len(faulty.data)} instances, {count} records)"
    )
    if not same or faulty.failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
