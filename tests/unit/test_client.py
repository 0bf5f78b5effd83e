"""WebexClient over httpx.MockTransport: pagination, retries, errors, limits, token hygiene.

No test sleeps: FakeTime stands in for the clock and sleep of the client and its limiter.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reporting.errors import WebexError
from reporting.webex.auth import OAuthToken
from reporting.webex.client import (
    WebexClient,
    WebexRequestError,
    clean_url,
    parse_retry_after,
)
from reporting.webex.ratelimit import RateLimiter
from tests.fetch_support import SECRET, FakeTime, client_for

BASE = "http://sandbox.test/v1"

Handler = Callable[[httpx.Request], httpx.Response]


def ok(items: list[Any], next_url: str | None = None) -> httpx.Response:
    headers = {"TrackingId": "T1"}
    if next_url:
        headers["Link"] = f'<{next_url}>; rel="next"'
    return httpx.Response(200, json={"items": items}, headers=headers)


def scripted(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


async def collect(client: WebexClient, **params: str) -> list[Any]:
    pages = []
    async with client:
        async for page in client.pages("meetingParticipants", params, what="meeting M1"):
            pages.append(page)
    return pages


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_pagination_follows_next_even_after_an_empty_page_and_sends_headers() -> None:
    handler, seen = scripted(
        ok([{"id": "a"}], f"{BASE}/meetingParticipants?meetingId=M1&cursor=2"),
        ok([], f"{BASE}/meetingParticipants?meetingId=M1&cursor=3"),
        ok([{"id": "b"}]),
    )
    client = client_for(httpx.MockTransport(handler), timezone="Europe/Berlin", host_email="h@x.io")
    pages = run(collect(client, meetingId="M1"))
    assert [p.items for p in pages] == [[{"id": "a"}], [], [{"id": "b"}]]
    first = seen[0]
    assert first.url.params["max"] == "100"
    assert first.url.params["hostEmail"] == "h@x.io"
    assert first.headers["authorization"] == f"Bearer {SECRET}"
    assert first.headers["timezone"] == "Europe/Berlin"
    assert seen[2].url.params["cursor"] == "3"
    assert pages[0].headers["trackingid"] == "T1" and "link" in pages[0].headers
    assert pages[-1].next_url is None


def test_429_waits_retry_after_and_pauses_the_shared_limiter() -> None:
    fake = FakeTime()
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": "7"}), ok([]))
    client = client_for(httpx.MockTransport(handler), fake)
    pages = run(collect(client, meetingId="M1"))
    assert len(pages) == 1 and len(seen) == 2
    assert fake.sleeps == [7.0]
    assert client.stats.rate_limited == 1 and client.stats.retries == 1


def test_423_honours_retry_after_too() -> None:
    fake = FakeTime()
    handler, _ = scripted(httpx.Response(423, headers={"Retry-After": "3"}), ok([]))
    client = client_for(httpx.MockTransport(handler), fake)
    run(collect(client, meetingId="M1"))
    assert fake.sleeps == [3.0] and client.stats.locked == 1


def test_malformed_retry_after_falls_back_to_backoff() -> None:
    fake = FakeTime()
    handler, _ = scripted(
        httpx.Response(429, headers={"Retry-After": "rand(30),add(30)"}),
        httpx.Response(429, headers={"Retry-After": "rand(30),add(30)"}),
        ok([]),
    )
    client = client_for(httpx.MockTransport(handler), fake)
    run(collect(client, meetingId="M1"))
    assert len(fake.sleeps) == 2
    assert 0.5 <= fake.sleeps[0] <= 1.0 and 1.0 <= fake.sleeps[1] <= 2.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("5", 5.0), (" 2.5 ", 2.5), ("rand(30),add(30)", None), ("-1", None), (None, None)],
)
def test_parse_retry_after(raw: str | None, expected: float | None) -> None:
    assert parse_retry_after(raw) == expected


def test_retry_after_above_the_ceiling_fails_at_once_with_a_clear_message() -> None:
    fake = FakeTime()
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    client = client_for(httpx.MockTransport(handler), fake, retry_after_ceiling=120)
    with pytest.raises(WebexRequestError) as info:
        run(collect(client, meetingId="M1"))
    text = str(info.value)
    assert "meeting M1" in text and "3600" in text and "retry_after_ceiling_seconds=120" in text
    assert fake.sleeps == [] and len(seen) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_retry_with_capped_jittered_backoff(status: int) -> None:
    fake = FakeTime()
    handler, seen = scripted(*[httpx.Response(status)] * 3, ok([{"id": "x"}]))
    client = client_for(httpx.MockTransport(handler), fake, rng=random.Random(1))
    pages = run(collect(client, meetingId="M1"))
    assert pages[0].items == [{"id": "x"}] and len(seen) == 4
    for n, slept in enumerate(fake.sleeps):
        assert 0.25 * 2**n <= slept <= 0.5 * 2**n


def test_backoff_is_capped() -> None:
    client = client_for(httpx.MockTransport(lambda r: ok([])), rng=random.Random(0))
    assert all(client._backoff(n) <= 30.0 for n in range(40))


def test_gives_up_after_max_retries_naming_the_meeting() -> None:
    handler, seen = scripted(httpx.Response(503))
    client = client_for(httpx.MockTransport(handler), max_retries=2)
    with pytest.raises(WebexRequestError, match=r"meeting M1: gave up after 3 attempts \(503"):
        run(collect(client, meetingId="M1"))
    assert len(seen) == 3


def test_504_retries_with_a_smaller_max() -> None:
    handler, seen = scripted(httpx.Response(504), httpx.Response(504), ok([]))
    client = client_for(httpx.MockTransport(handler))
    run(collect(client, meetingId="M1"))
    assert [r.url.params["max"] for r in seen] == ["100", "50", "25"]


@pytest.mark.parametrize(
    "error",
    [
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("refused"),
    ],
)
def test_timeouts_and_dropped_connections_retry(error: Exception) -> None:
    handler, seen = scripted(error, ok([]))
    client = client_for(httpx.MockTransport(handler))
    run(collect(client, meetingId="M1"))
    assert len(seen) == 2 and client.stats.transport_errors == 1


@pytest.mark.parametrize(
    ("status", "cause"),
    [(401, "expired or invalid"), (403, "lacks a scope"), (404, "personal-room")],
)
def test_auth_and_not_found_do_not_retry_and_name_the_cause(status: int, cause: str) -> None:
    body = {
        "message": "nope",
        "errors": [{"description": "Meeting not visible"}],
        "trackingId": "T9",
    }
    handler, seen = scripted(httpx.Response(status, json=body, headers={"TrackingId": "T9"}))
    client = client_for(httpx.MockTransport(handler))
    with pytest.raises(WebexRequestError) as info:
        run(collect(client, meetingId="M1"))
    assert len(seen) == 1
    text = str(info.value)
    assert text.startswith(f"meeting M1: Webex answered {status}: Meeting not visible")
    assert cause in text and "T9" in text and info.value.status == status


def _oauth_handler(fail_first: int, calls: list[str]) -> Callable[[httpx.Request], httpx.Response]:
    state = {"401s": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/access_token"):
            form = dict(httpx.QueryParams(request.content.decode()))
            calls.append(form["grant_type"])
            assert form["refresh_token"] == "refresh-SECRET"
            return httpx.Response(200, json={"access_token": "fresh-SECRET", "expires_in": 3600})
        token = request.headers["authorization"][7:]
        if token != "fresh-SECRET" or state["401s"] < fail_first - 1:
            state["401s"] += 1
            return httpx.Response(401, json={"message": "expired"})
        return ok([])

    return handler


def test_401_with_oauth_refreshes_once_then_succeeds() -> None:
    calls: list[str] = []
    fake = FakeTime()
    tokens = OAuthToken("cid", "csecret", "refresh-SECRET", access_token="stale-SECRET")
    client = WebexClient(
        BASE,
        tokens,
        transport=httpx.MockTransport(_oauth_handler(1, calls)),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    run(collect(client, meetingId="M1"))
    assert calls == ["refresh_token"] and tokens.refreshes == 1


def test_401_after_a_refresh_fails_instead_of_looping() -> None:
    calls: list[str] = []
    tokens = OAuthToken("cid", "csecret", "refresh-SECRET", access_token="stale-SECRET")
    client = WebexClient(BASE, tokens, transport=httpx.MockTransport(_oauth_handler(5, calls)))
    with pytest.raises(WebexRequestError, match="Webex answered 401"):
        run(collect(client, meetingId="M1"))
    assert calls == ["refresh_token"]


def test_oauth_without_access_token_refreshes_before_the_first_request() -> None:
    calls: list[str] = []
    tokens = OAuthToken("cid", "csecret", "refresh-SECRET")
    client = WebexClient(BASE, tokens, transport=httpx.MockTransport(_oauth_handler(0, calls)))
    run(collect(client, meetingId="M1"))
    assert calls == ["refresh_token"]


def test_failed_refresh_is_a_clear_error_without_secrets() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/access_token"):
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(401)

    tokens = OAuthToken("cid", "csecret-SECRET", "refresh-SECRET", access_token="stale-SECRET")
    client = WebexClient(BASE, tokens, transport=httpx.MockTransport(handler))
    with pytest.raises(WebexError) as info:
        run(collect(client, meetingId="M1"))
    assert "could not refresh" in str(info.value)
    assert "SECRET" not in str(info.value) + repr(info.value) + repr(tokens)


@pytest.mark.parametrize(
    ("failures", "waits"),
    [
        ([httpx.Response(503), httpx.Response(502)], [1.0, 2.0]),
        ([httpx.Response(429, headers={"Retry-After": "7"})], [7.0]),
        ([httpx.ConnectError("refused")], [1.0]),
    ],
)
def test_refresh_that_meets_a_passing_failure_is_tried_again(
    failures: list[httpx.Response | Exception], waits: list[float]
) -> None:
    answers = [*failures, httpx.Response(200, json={"access_token": "fresh-SECRET"})]
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/access_token"):
            asked.append("token")
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        assert request.headers["authorization"] == "Bearer fresh-SECRET"
        return ok([])

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    tokens = OAuthToken("cid", "csecret", "refresh-SECRET", sleep=sleep)
    client = WebexClient(BASE, tokens, transport=httpx.MockTransport(handler))
    run(collect(client, meetingId="M1"))
    assert tokens.refreshes == 1 and len(asked) == len(failures) + 1 and slept == waits


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(400, json={"error": "invalid_grant"}),  # will not pass by waiting
        httpx.Response(429, headers={"Retry-After": "3600"}),  # more than is worth waiting
    ],
)
def test_refresh_failure_that_waiting_will_not_mend_is_not_tried_again(
    answer: httpx.Response,
) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return answer

    async def sleep(seconds: float) -> None:
        raise AssertionError("no wait expected")

    tokens = OAuthToken("cid", "csecret", "refresh-SECRET", sleep=sleep)
    client = WebexClient(BASE, tokens, transport=httpx.MockTransport(handler))
    with pytest.raises(WebexError, match="could not refresh"):
        run(collect(client, meetingId="M1"))
    assert asked == ["/v1/access_token"]


def test_unusable_page_is_asked_again_once_then_flagged() -> None:
    bad = httpx.Response(
        200, content=b"<html>oops", headers={"Link": f'<{BASE}/p?c=2>; rel="next"'}
    )
    no_items = httpx.Response(
        200, json={"something": []}, headers={"Link": f'<{BASE}/p?c=2>; rel="next"'}
    )
    handler, seen = scripted(bad, no_items, ok([{"id": "z"}]))
    client = client_for(httpx.MockTransport(handler))
    pages = run(collect(client, meetingId="M1"))
    assert [(p.superseded, p.problem) for p in pages] == [
        (True, "body is not valid JSON (JSON is malformed: invalid character (byte 0))"),
        (False, "body has no 'items' list"),
        (False, None),
    ]
    assert seen[0].url == seen[1].url  # asked again, then walked on along the Link
    assert pages[0].cursor_after == pages[0].url
    assert client.stats.bad_pages == 2


def test_unusable_page_that_is_fine_the_second_time_is_superseded() -> None:
    handler, _ = scripted(httpx.Response(200, content=b"{bad"), ok([{"id": "z"}]))
    pages = run(collect(client_for(httpx.MockTransport(handler)), meetingId="M1"))
    assert [p.superseded for p in pages] == [True, False] and pages[1].items == [{"id": "z"}]


def test_concurrency_is_bounded_by_the_semaphore() -> None:
    state = {"now": 0, "peak": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.002)
        state["now"] -= 1
        return ok([])

    client = WebexClient(
        BASE,
        SECRET,
        max_concurrency=3,
        requests_per_minute=None,
        transport=httpx.MockTransport(handler),
    )

    async def go() -> None:
        async with client:
            await asyncio.gather(
                *(client.get(client.url("meetings/x"), what="m", expect="items") for _ in range(40))
            )

    run(go())
    assert state["peak"] == 3 and client.stats.requests == 40


def test_rate_limiter_spaces_requests_evenly_with_headroom() -> None:
    fake = FakeTime()
    limiter = RateLimiter(600, headroom=1.0, burst=1, clock=fake.clock, sleep=fake.sleep)

    async def go() -> None:
        for _ in range(5):
            await limiter.acquire()

    run(go())
    assert fake.sleeps == pytest.approx([0.1] * 4)
    default = RateLimiter(300)
    assert default.interval == pytest.approx(60 / (300 * 0.98))
    assert default.burst == 30


def test_rate_limiter_pause_holds_everyone_back() -> None:
    fake = FakeTime()
    limiter = RateLimiter(None, clock=fake.clock, sleep=fake.sleep)
    limiter.pause(5)
    assert limiter.delay() == pytest.approx(5) and limiter.delay() == pytest.approx(5)


def test_clean_url_strips_userinfo_and_secret_params() -> None:
    assert clean_url("https://u:p@x.io/v1/m?access_token=abc&max=1") == "https://x.io/v1/m?max=1"


def test_token_never_appears_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    failures: list[BaseException] = []
    for response in (
        httpx.RemoteProtocolError("Server disconnected"),
        httpx.Response(403, json={"message": "no"}),
        httpx.Response(429, headers={"Retry-After": "99999"}),
        httpx.Response(503),
    ):
        handler, _ = scripted(response)
        client = client_for(httpx.MockTransport(handler), max_retries=1)
        try:
            run(collect(client, meetingId="M1"))
        except WebexError as exc:
            failures.append(exc)
    assert len(failures) == 4
    for failure in failures:
        blob = str(failure) + repr(failure) + repr(failure.args)
        assert SECRET not in blob
        assert failure.__cause__ is None and failure.__context__ is None
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert logged and SECRET not in logged
    assert SECRET not in repr(client) and SECRET not in repr(client.tokens)


def test_get_meeting_quotes_the_id_and_parses_an_object() -> None:
    handler, seen = scripted(httpx.Response(200, json={"id": "a/b", "meetingType": "meeting"}))
    client = client_for(httpx.MockTransport(handler))

    async def go() -> Any:
        async with client:
            return await client.get_meeting("a/b")

    page = run(go())
    assert seen[0].url.raw_path == b"/v1/meetings/a%2Fb"
    assert page.json()["id"] == "a/b" and page.problem is None
    assert json.loads(page.body)["meetingType"] == "meeting"


class YieldingTime(FakeTime):
    """FakeTime whose sleep lets other tasks run, so limiter waiters really queue up."""

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)
        self.now += seconds


def test_rate_limiter_queued_callers_keep_the_spacing_and_do_not_oversleep() -> None:
    fake = YieldingTime()
    limiter = RateLimiter(600, headroom=1.0, burst=1, clock=fake.clock, sleep=fake.sleep)
    released: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        released.append(fake.now)

    async def go() -> None:
        await asyncio.gather(*(one() for _ in range(8)))

    run(go())
    gaps = [b - a for a, b in itertools.pairwise(released)]
    assert gaps == pytest.approx([0.1] * 7)


def test_rate_limiter_pause_holds_back_a_caller_already_waiting_for_its_slot() -> None:
    fake = YieldingTime()
    limiter = RateLimiter(600, headroom=1.0, burst=1, clock=fake.clock, sleep=fake.sleep)
    released: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        released.append(fake.now)

    async def go() -> None:
        await limiter.acquire()  # the first slot: at once
        start = fake.now
        waiter = asyncio.ensure_future(one())
        await asyncio.sleep(0)  # the waiter reserved its slot and sleeps towards it
        limiter.pause(5)  # a 429 arrives meanwhile
        await waiter
        assert released[0] == pytest.approx(start + 5)

    run(go())


def test_rate_limiter_gives_a_late_wake_up_back_to_the_next_request() -> None:
    fake = FakeTime()
    limiter = RateLimiter(600, headroom=1.0, burst=2, clock=fake.clock, sleep=fake.sleep)

    async def go() -> None:
        await limiter.acquire()
        await limiter.acquire()  # the burst: at once
        fake.now += 0.1 + 0.05  # the next caller comes half an interval late
        await limiter.acquire()  # released at once, late
        await limiter.acquire()

    run(go())
    # The fourth goes where it would have gone had the third been on time.
    assert fake.sleeps == pytest.approx([0.05])


@pytest.mark.parametrize(
    ("link", "origin"),
    [
        ("https://evil.example/steal", "https://evil.example"),
        ("//evil.example/v1/meetingParticipants?cursor=2", "http://evil.example"),
        (f"{BASE.replace('http:', 'https:')}/meetingParticipants?cursor=2", "https://sandbox"),
        ("http://sandbox.test:8080/v1/meetingParticipants?cursor=2", "http://sandbox.test:8080"),
    ],
)
def test_next_link_to_another_origin_is_refused_before_the_token_goes_there(
    link: str, origin: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handler, seen = scripted(ok([{"id": "a"}], link), ok([{"id": "b"}]))
    client = client_for(httpx.MockTransport(handler))
    with pytest.raises(WebexRequestError) as info:
        run(collect(client, meetingId="M1"))
    assert [r.url.host for r in seen] == ["sandbox.test"]  # the link was never requested
    text = str(info.value)
    assert text.startswith("meeting M1: the API's next-page link points to another host (")
    assert origin in text and "not followed, so the token is not sent there" in text
    assert "steal" not in text and "cursor" not in text  # the origin only
    blob = text + repr(info.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in blob


def test_next_link_on_the_same_origin_with_default_port_and_case_is_followed() -> None:
    handler, seen = scripted(
        ok([{"id": "a"}], "HTTP://Sandbox.TEST:80/v1/meetingParticipants?cursor=2"),
        ok([{"id": "b"}]),
    )
    pages = run(collect(client_for(httpx.MockTransport(handler)), meetingId="M1"))
    assert [p.items for p in pages] == [[{"id": "a"}], [{"id": "b"}]] and len(seen) == 2


def test_stored_start_url_to_another_host_is_refused_without_a_request() -> None:
    handler, seen = scripted(ok([]))
    client = client_for(httpx.MockTransport(handler))

    async def go() -> None:
        async with client:
            async for _page in client.pages(
                "meetingParticipants",
                {"meetingId": "M1"},
                start_url="https://evil.example/steal?cursor=2",
                what="meeting M1",
            ):
                pass

    with pytest.raises(WebexRequestError, match=r"meeting M1: the stored next-page link points"):
        run(go())
    assert seen == []
    assert not client.is_own_url("https://evil.example/v1") and client.is_own_url(BASE + "/x")


def test_a_short_lived_token_is_renewed_a_quarter_of_its_life_early_not_every_request() -> None:
    minted: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/access_token"):
            minted.append(f"t{len(minted)}-SECRET")
            return httpx.Response(200, json={"access_token": minted[-1], "expires_in": 8})
        assert request.headers["authorization"] == f"Bearer {minted[-1]}"
        return ok([])

    now = {"t": 1000.0}
    tokens = OAuthToken("cid", "csecret", "refresh-SECRET", clock=lambda: now["t"])
    client = WebexClient(BASE, tokens, transport=httpx.MockTransport(handler))
    run(collect(client, meetingId="M1"))  # the first token, valid until 1008
    now["t"] = 1005.9  # within 8 - 8/4 = 6 s: still used
    run(collect(client, meetingId="M1"))
    assert len(minted) == 1
    now["t"] = 1006.1  # in the last quarter of its life: renewed first
    run(collect(client, meetingId="M1"))
    assert len(minted) == 2


@pytest.mark.parametrize(("max_retries", "asks"), [(0, 1), (2, 3)])
def test_refresh_attempts_follow_the_configured_max_retries(
    tmp_path: Path, max_retries: int, asks: int
) -> None:
    from reporting.config import OAuthCredentials, WebexCredentials, load_config

    config_file = tmp_path / "c.yaml"
    config_file.write_text(
        "timezone: UTC\n"
        "meetings: [{id: M1}]\n"
        f"webex: {{max_retries: {max_retries}, max_concurrency: 2,\n"
        "  oauth: {client_id_env: CID, client_secret_env: CSEC, refresh_token_env: RT}}\n"
    )
    credentials = WebexCredentials(
        oauth=OAuthCredentials("cid", "csecret-SECRET", "refresh-SECRET")
    )
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(503)

    client = WebexClient.from_config(
        load_config(config_file), BASE, credentials, transport=httpx.MockTransport(handler)
    )

    async def no_wait(seconds: float) -> None:
        return None

    assert isinstance(client.tokens, OAuthToken)
    client.tokens._sleep = no_wait  # the waits themselves are tested above
    with pytest.raises(WebexError, match="could not refresh"):
        run(collect(client, meetingId="M1"))
    assert asked == ["/v1/access_token"] * asks


def test_from_config_takes_every_setting_from_the_config(tmp_path: Path) -> None:
    """The config's models hold the defaults (a 120 s Retry-After ceiling, not the 300 s
    the client once assumed); the client built from a config repeats none of them."""
    from reporting.config import WebexConfig, WebexCredentials, load_config

    config_file = tmp_path / "c.yaml"
    config_file.write_text("timezone: Europe/Berlin\nmeetings: [{id: M1}]\n")
    config = load_config(config_file)
    client = WebexClient.from_config(config, BASE, WebexCredentials(token="t0ken"))
    defaults = WebexConfig()
    assert client.retry_after_ceiling == defaults.retry_after_ceiling_seconds == 120.0
    assert (client.timeout, client.max_retries, client.max_concurrency) == (
        defaults.timeout_seconds,
        defaults.max_retries,
        defaults.max_concurrency,
    )
    assert client.timezone == "Europe/Berlin"

    config_file.write_text(
        "timezone: UTC\nmeetings: [{id: M1}]\n"
        "webex: {retry_after_ceiling_seconds: 30.5, timeout_seconds: 7.0, max_retries: 2}\n"
    )
    client = WebexClient.from_config(load_config(config_file), BASE, WebexCredentials("t"))
    assert (client.retry_after_ceiling, client.timeout, client.max_retries) == (30.5, 7.0, 2)
