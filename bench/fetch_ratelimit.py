"""Rate limit: the sandbox limits to a scaled 20 requests/s per token (sliding window).

Target: the client, configured to the same 1200 requests/minute, sustains ≥ 90 % of the
limit with < 1 % of its requests answered 429.

    .venv/bin/python bench/fetch_ratelimit.py [--meetings 180]  (~720 requests: a window of ~38 s)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fetch_common import Sandbox, cpu_note, dataset, instance_config, run_fetch

LIMIT_PER_SECOND = 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=180)
    parser.add_argument("--participants", type=int, default=250)
    parser.add_argument("--headroom", type=float, default=None, help="override the default")
    args = parser.parse_args()
    data = dataset(args.meetings, args.participants, 23)
    config = instance_config(data)
    print(cpu_note())
    with Sandbox(data, f"rate={LIMIT_PER_SECOND}/s,latency=20ms") as sandbox:
        outcome, seconds = run_fetch(
            sandbox.base_url,
            config,
            max_concurrency=8,
            requests_per_minute=LIMIT_PER_SECOND * 60,
            **({"rate_headroom": float(args.headroom)} if args.headroom else {}),
        )
    stats = outcome.stats
    seconds = stats.seconds  # the fetch itself, without opening the store and the loop
    rate = stats.requests / seconds
    print(
        f"{stats.requests} requests in {seconds:.2f}s = {rate:.2f} req/s against a limit of "
        f"{LIMIT_PER_SECOND}/s: {rate / LIMIT_PER_SECOND:.1%} of the limit (target ≥ 90 %)"
    )
    print(
        f"429 answers: {stats.rate_limited} = {stats.rate_limited / stats.requests:.2%} of "
        f"requests (target < 1 %); failures: {len(outcome.failures)}"
    )


if __name__ == "__main__":
    main()
