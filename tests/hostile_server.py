"""A hostile stand-in for Webex on a loopback socket: raw HTTP/1.1 over asyncio.

It answers exactly the bytes a test scripts (wrong Content-Encoding, a body trickled one
byte at a time, Link headers that loop or cannot be parsed), which a well-behaved
framework would refuse to send. Two meetings are served: `GOOD_MEETING`, whose one page of
participants is clean, and `HOSTILE_MEETING`, whose participant pages come from the
test's `pages` (page 1 at ``?meetingId=..``, page N at ``?meetingId=..&page=N``).

Each connection carries one request and is closed after the answer (``Connection:
close``), so a trickled answer never holds up another request.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.pipeline_support import write_config

GOOD_MEETING = "9000aaaa9000aaaa9000aaaa9000aaaa_I_100000000000000001"
HOSTILE_MEETING = "9000bbbb9000bbbb9000bbbb9000bbbb_I_100000000000000002"
START = "2026-09-10T08:00:00Z"
END = "2026-09-10T09:00:00Z"


@dataclass
class Reply:
    """One scripted answer. ``trickle``: seconds between single bytes of the body."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    trickle: float | None = None


def json_reply(value: Any, *, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    return Reply(
        headers=[("Content-Type", "application/json"), *headers],
        body=json.dumps(value).encode(),
    )


def record(name: str, email: str | None, **fields: Any) -> dict[str, Any]:
    """A participant record attending 08:00-08:55 on one device, with ``fields`` over it."""
    base: dict[str, Any] = {
        "id": f"{HOSTILE_MEETING}_{name}",
        "email": email,
        "displayName": name,
        "host": False,
        "coHost": False,
        "state": "end",
        "joinedTime": START,
        "leftTime": "2026-09-10T08:55:00Z",
        "devices": [
            {
                "correlationId": f"c-{name}",
                "deviceType": "webex_meeting_center_mac",
                "audioType": "voip",
                "joinedTime": START,
                "leftTime": "2026-09-10T08:55:00Z",
                "durationSecond": 3300,
            }
        ],
    }
    base.update(fields)
    return base


def meeting(meeting_id: str, title: str) -> dict[str, Any]:
    return {
        "id": meeting_id,
        "meetingSeriesId": meeting_id.split("_I_")[0],
        "meetingType": "meeting",
        "scheduledType": "meeting",
        "state": "ended",
        "title": title,
        "start": START,
        "end": END,
        "hostEmail": "host@example.com",
    }


PageScript = Callable[[int, str], Reply]  # (page number, base URL) -> the answer


class HostileServer:
    """``with HostileServer(pages) as server:`` serves until the block ends."""

    def __init__(
        self,
        pages: PageScript,
        *,
        not_found_body: bytes = b"{}",
        meeting_fields: dict[str, Any] | None = None,
    ) -> None:
        self._pages = pages
        self._meeting_fields = meeting_fields or {}
        self._not_found_body = not_found_body
        self.requests: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
            self.requests.append(target)
            reply = self._answer(target)
            await self._write(writer, reply)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def _answer(self, target: str) -> Reply:
        url = urlsplit(target)
        query = parse_qs(url.query)
        path = url.path.removeprefix("/v1")
        if path.startswith("/meetings/"):
            meeting_id = path.rsplit("/", 1)[1]
            titles = {GOOD_MEETING: "Good training", HOSTILE_MEETING: "Hostile training"}
            if meeting_id in titles:
                found = meeting(meeting_id, titles[meeting_id])
                if meeting_id == HOSTILE_MEETING:
                    found.update(self._meeting_fields)
                return json_reply(found)
        if path == "/meetingParticipants":
            meeting_id = query.get("meetingId", [""])[0]
            if meeting_id == GOOD_MEETING:
                good = record("Good Person", "good@example.com")
                good["id"] = f"{GOOD_MEETING}_good"
                return json_reply({"items": [good]})
            if meeting_id == HOSTILE_MEETING:
                number = int(query.get("page", ["1"])[0])
                return self._pages(number, self.base_url)
        return Reply(
            status=404, headers=[("Content-Type", "application/json")], body=self._not_found_body
        )

    async def _write(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        names = {name.lower() for name, _ in reply.headers}
        lines = [f"HTTP/1.1 {reply.status} X"]
        lines += [f"{name}: {value}" for name, value in reply.headers]
        if "content-length" not in names:
            lines.append(f"Content-Length: {len(reply.body)}")
        lines.append("Connection: close")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        if reply.trickle is None:
            writer.write(reply.body)
            await writer.drain()
            return
        for i in range(len(reply.body)):
            writer.write(reply.body[i : i + 1])
            await writer.drain()
            await asyncio.sleep(reply.trickle)


def next_link(base: str, page: int) -> tuple[str, str]:
    """The Link header pointing at page ``page`` of the hostile meeting's participants."""
    url = f"{base}/meetingParticipants?meetingId={HOSTILE_MEETING}&max=100"
    if page > 1:
        url += f"&page={page}"
    return ("Link", f'<{url}>; rel="next"')


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)


def hostile_config(
    folder: Path,
    base_url: str,
    *,
    more_meetings: Sequence[str] = (),
    reports: Sequence[dict[str, Any]] = (),
    email: bool = False,
    **webex: Any,
) -> Path:
    """A config auditing the good and the hostile meeting (CSV outputs only, unless
    ``reports``), then ``more_meetings``."""
    settings: dict[str, Any] = {"requests_per_minute": 100_000, "max_retries": 1}
    settings.update(webex)
    return write_config(
        folder,
        base_url=base_url,
        meetings=[GOOD_MEETING, HOSTILE_MEETING, *more_meetings],
        webex=settings,
        reports=reports,
        email=email,
    )
