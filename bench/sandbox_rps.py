"""Requests/second of the sandbox on loopback for a 100-participant page.

    .venv/bin/python bench/sandbox_rps.py [--requests 3000] [--seconds 20] [--concurrency 16]

Starts `attendance sandbox serve` in its own process (rate limit off, no faults: the
server's CPU is not shared with the client's interpreter) and drives it with one
concurrent aiohttp session (a client whose cost per request stays small, so the figure is
the server's) asking `GET /meetingParticipants?max=100` of a 250-person
meeting (alternating pages and time zones, so both cached rendering paths are hit). Stops
at the request count or the time budget, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import aiohttp
from fetch_common import TOKEN, Sandbox, cpu_seconds, dataset


async def drive(
    base_url: str, meeting_id: str, total: int, seconds: float, concurrency: int
) -> tuple[int, int, float]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    done = failed = 0
    started = time.perf_counter()
    deadline = started + seconds
    first_url = f"{base_url}/meetingParticipants?meetingId={meeting_id}&max=100"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as client:
        async with client.get(first_url) as first:
            next_url = first.headers["link"].split(">")[0][1:]

        async def worker(number: int) -> None:
            nonlocal done, failed
            while done + failed < total and time.perf_counter() < deadline:
                zone = "Europe/Berlin" if number % 2 else "UTC"
                url = next_url if (done + number) % 2 else first_url
                async with client.get(url, headers={"timezone": zone}) as r:
                    body = await r.json()
                if r.status == 200 and len(body["items"]) == 100:
                    done += 1
                else:
                    failed += 1

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return done, failed, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    data = dataset(2, 250, 1)
    meeting_id = data.instance_ids[0]
    with Sandbox(data, faults="rate=off") as server:
        assert server.proc is not None
        cpu = cpu_seconds(server.proc.pid)
        done, failed, elapsed = asyncio.run(
            drive(server.base_url, meeting_id, args.requests, args.seconds, args.concurrency)
        )
        cpu = cpu_seconds(server.proc.pid) - cpu
    print(
        f"sandbox: {done} x 100-participant pages in {elapsed:.2f}s "
        f"({done / elapsed:.0f} requests/s, {failed} failed, concurrency {args.concurrency}); "
        f"server CPU {cpu / max(done + failed, 1) * 1000:.2f} ms/request; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
