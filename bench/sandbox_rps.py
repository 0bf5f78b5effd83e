"""Requests/second of the sandbox on loopback for a 100-participant page.

    .venv/bin/python bench/sandbox_rps.py [--requests 3000] [--seconds 20] [--concurrency 16]

Starts `attendance sandbox serve` in its own process (rate limit off, no faults: the
server's CPU is not shared with the client's interpreter) and drives it with one
concurrent httpx.AsyncClient asking `GET /meetingParticipants?max=100` of a 250-person
meeting (alternating pages and time zones, so both cached rendering paths are hit). Stops
at the request count or the time budget, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from fetch_common import TOKEN, Sandbox, dataset


async def drive(
    base_url: str, meeting_id: str, total: int, seconds: float, concurrency: int
) -> tuple[int, int, float]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    done = failed = 0
    started = time.perf_counter()
    deadline = started + seconds
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as client:
        first = await client.get(
            "/meetingParticipants", params={"meetingId": meeting_id, "max": 100}
        )
        next_url = first.headers["link"].split(">")[0][1:]

        async def worker(number: int) -> None:
            nonlocal done, failed
            while done + failed < total and time.perf_counter() < deadline:
                zone = "Europe/Berlin" if number % 2 else "UTC"
                if (done + number) % 2:
                    r = await client.get(next_url, headers={"timezone": zone})
                else:
                    r = await client.get(
                        "/meetingParticipants",
                        headers={"timezone": zone},
                        params={"meetingId": meeting_id, "max": 100},
                    )
                if r.status_code == 200 and len(r.json()["items"]) == 100:
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
        done, failed, elapsed = asyncio.run(
            drive(server.base_url, meeting_id, args.requests, args.seconds, args.concurrency)
        )
    print(
        f"sandbox: {done} x 100-participant pages in {elapsed:.2f}s "
        f"({done / elapsed:.0f} requests/s, {failed} failed, concurrency {args.concurrency})"
    )


if __name__ == "__main__":
    main()
