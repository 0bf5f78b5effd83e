"""The client's own wire (aiohttp) against real servers on loopback: drops are the client's
retries, bodies are decoded by their Content-Encoding, the proxy variables are honoured,
and the token goes nowhere but the base URL's origin.

The rest of the client's rules run over httpx.MockTransport in test_client.py; these are
what only a socket shows.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import pytest

from reporting.webex.client import WebexClient
from reporting.webex.sandbox import SandboxServer, generate_dataset
from reporting.webex.wire import AiohttpWire, decode_body, yarl_origin
from tests.hostile_server import HOSTILE_MEETING, HostileServer, Reply, record

TOKEN = "wire-test-token-7d2e1b"


def _walk(base_url: str, meeting_id: str, **client: Any) -> tuple[list[Any], WebexClient]:
    async def go() -> tuple[list[Any], WebexClient]:
        async with WebexClient(base_url, TOKEN, requests_per_minute=None, **client) as c:
            pages = [
                p async for p in c.pages("meetingParticipants", {"meetingId": meeting_id}, what="m")
            ]
            return pages, c

    return asyncio.run(go())


def test_a_dropped_connection_is_the_clients_retry_not_a_silent_resend() -> None:
    data = generate_dataset(2, 250, 4)
    instance = next(m["id"] for m in data["meetings"] if m["meetingType"] == "meeting")
    # Every request is dropped once (after it was counted), then answered.
    with SandboxServer(data, faults="drop=100%,streak=1,rate=off") as server:
        server.add_token(TOKEN, "compliance")
        pages, client = _walk(server.base_url, instance, max_retries=2)
    assert sum(len(p.items or ()) for p in pages) == len(data["participants"][instance])
    assert client.stats.transport_errors == len(pages)  # each page: one drop, one retry
    assert client.stats.requests == 2 * len(pages)  # every attempt went through the limiter


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate, as some send it
        ("identity", lambda b: b),
    ],
)
def test_a_body_is_read_through_its_content_encoding(encoding: str, encode: Any) -> None:
    import json

    body = json.dumps({"items": [record("Zip Person", "zip@example.com")]}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Encoding", encoding)]
    with HostileServer(lambda n, base: Reply(headers=headers, body=encode(body))) as server:
        pages, _ = _walk(server.base_url, HOSTILE_MEETING)
    assert [p.problem for p in pages] == [None]
    assert pages[0].items is not None and pages[0].items[0]["email"] == "zip@example.com"


def test_decode_body_refuses_what_its_coding_does_not_decode() -> None:
    assert decode_body(b"plain", "gzip") is None
    assert decode_body(bytes.fromhex("00ff13377acd"), "deflate") is None
    assert decode_body(gzip.compress(zlib.compress(b"x")), "deflate, gzip") == b"x"
    assert decode_body(b"as is", "x-unknown") == b"as is"


def test_the_proxy_variables_are_read_once_and_no_proxy_is_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")

    async def proxies() -> tuple[object, object]:
        through = AiohttpWire({}, base_url="https://webexapis.com/v1", connections=1, timeout=1)
        direct = AiohttpWire({}, base_url="https://internal.example/v1", connections=1, timeout=1)
        try:
            return through._proxy, direct._proxy
        finally:
            await through.aclose()
            await direct.aclose()

    through, direct = asyncio.run(proxies())
    assert str(through) == "http://proxy.example:3128" and direct is None


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("HTTP://Sandbox.TEST:80/v1/x", ("http", "sandbox.test", None)),
        ("https://webexapis.com:443/v1", ("https", "webexapis.com", None)),
        ("http://127.0.0.1:8080/v1", ("http", "127.0.0.1", 8080)),
        ("http://u:p@evil.example/v1", ("http", "evil.example", None)),
        ("//evil.example/v1", ("", "", None)),
        ("http://[::1/v1", ("", "", None)),
    ],
)
def test_the_origin_is_read_by_the_parser_the_request_goes_out_with(
    url: str, origin: tuple[str, str, int | None]
) -> None:
    assert yarl_origin(url) == origin
