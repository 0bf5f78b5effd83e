"""WebexClient: one connection pool per run, polite and persistent.

Every request goes through the same three gates: the concurrency semaphore, the shared
client-side `RateLimiter`, and the retry loop:

- 429 / 423: wait ``Retry-After`` seconds (all requests pause, the limit is per user); a
  malformed value falls back to exponential backoff; a value above
  ``retry_after_ceiling`` fails the request at once with a message saying so.
- 500 / 502 / 503 / 504, timeouts, dropped connections: capped exponential backoff with
  jitter; a 504 also halves ``max`` (Webex's own advice).
- 401: with a refreshable token, refresh once and retry; otherwise fail.
- 400 / 403 / 404 and the rest: fail at once with the likely cause.

Walks that cannot loop: a next link already followed in this walk (a page pointing back
at itself, or two pages pointing at each other) or more pages than ``max``-sized pages
could hold for the walk's ceiling of items (``max_items``) ends the walk with a
`WebexRequestError` naming it. Every attempt has a total deadline (``timeout``: connect,
send and every read together), so a server that trickles its answer is given up on; an
attempt that ran out of its deadline is retried at once (it already waited its full
deadline), so a request ends within ``timeout × (max_retries + 1)``.

The requests go out through a `Wire` (`reporting.webex.wire`): aiohttp for a run, or an
httpx transport handed in (``transport=``, the tests' in-process sandbox).

Token hygiene: the token is only ever put into the ``Authorization`` header of an outgoing
request to the client's own origin (scheme, host and port of ``base_url``): a next-page link,
fresh or stored, that points elsewhere is refused before any request. Request headers are
never logged, stored or put into messages, and transport exceptions are reduced to their
type name and never chained (their repr can carry the request).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote, urlencode

from reporting.logs import redact, redact_bytes
from reporting.webex.auth import OAuthToken, StaticToken, TokenProvider
from reporting.webex.links import (
    PAGE_MAX,
    WalkLimit,
    WebexRequestError,
    clean_url,
    next_link,
    origin_text,
    same_page,
    shown_header,
    smaller_max,
)
from reporting.webex.ratelimit import RateLimiter, parse_retry_after
from reporting.webex.schema import BadPage, decode_items, decode_json, participant_page_problem
from reporting.webex.wire import AiohttpWire, HttpxWire, Reply, Wire, WireFailure

if TYPE_CHECKING:
    import httpx

    from reporting.config import Config, WebexCredentials

log = logging.getLogger(__name__)

__all__ = [
    "ClientStats",
    "Page",
    "WebexClient",
    "WebexRequestError",
    "clean_url",
    "parse_retry_after",
]

KEPT_HEADERS = ("link", "trackingid", "retry-after", "content-type", "date")
RETRY_STATUSES = frozenset({500, 502, 503, 504})
WAIT_STATUSES = frozenset({423, 429})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
# The most items a walk may hold when the caller names no ceiling: the largest Webex
# session (a webinar in webcast mode) holds 100,000 attendees.
DEFAULT_MAX_ITEMS = 100_000
DEADLINE = "no complete answer within the deadline"

CAUSES = {
    401: "the token was refused: it is expired or invalid (a personal access token lives "
    "12 hours); put a fresh one into the variable named by webex.token_env, or configure "
    "webex.oauth so it is refreshed",
    403: "access refused: the token lacks a scope (meeting:participants_read as host, "
    "meeting:admin_participants_read as admin, spark-compliance:meetings_read as "
    "compliance officer; meeting:schedules_read or meeting:admin_schedule_read to look "
    "meetings up) or its user is not the meeting's host (an admin can set webex.host_email)",
    404: "not found: check the id; a personal-room meeting id is not supported by the API "
    "(name the instance id instead), and the meeting must be visible to this token "
    "(hosted by its user, or by webex.host_email for an admin)",
}

Sleep = Callable[[float], Awaitable[None]]
# What a 200 body is read as: any JSON object (Get Meeting), a list page whose items are
# decoded, or a participant page only judged usable (the engine decodes it later).
Expect = Literal["object", "items", "participants"]


@dataclass(frozen=True)
class Page:
    """One response as received, plus what the client read from it."""

    method: str
    url: str  # the URL requested, without secrets
    status: int
    headers: dict[str, str]  # only KEPT_HEADERS, lower-case names
    body: bytes
    fetched_at: datetime
    next_url: str | None
    items: list[dict[str, Any]] | None  # None when unusable, or a participant page judged only
    problem: str | None  # why the body is unusable; None when it is usable
    superseded: bool = False  # a bad page the client fetched again
    link_problem: str | None = None  # why the Link header could not be read
    # The object a body that is not a list page decoded to (read once, when received).
    parsed: Any = field(default=None, repr=False, compare=False)

    @property
    def cursor_after(self) -> str | None:
        """Where to continue once this page is stored: a superseded page is asked again."""
        return self.url if self.superseded else self.next_url

    def json(self) -> Any:
        return self.parsed if self.parsed is not None else decode_json(self.body)


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0  # 429 answers
    locked: int = 0  # 423 answers
    server_errors: int = 0
    transport_errors: int = 0
    bad_pages: int = 0
    token_refreshes: int = 0
    backoff_seconds: float = 0.0  # slept between retries (Retry-After or backoff)

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


class RetryListener(Protocol):
    def __call__(self, reason: str, seconds: float) -> None: ...


@dataclass
class _Attempt:
    url: str
    what: str
    refreshed: bool = False
    retries: int = 0
    history: list[str] = field(default_factory=list)


def _api_message(body: bytes) -> str:
    """The API's own error text, shortened (it is untrusted data, but useful)."""
    try:
        parsed = decode_json(body)
    except BadPage:
        return ""
    if not isinstance(parsed, dict):
        return ""
    errors = parsed.get("errors")
    text = ""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        text = str(errors[0].get("description") or "")
    text = text or str(parsed.get("message") or "")
    return redact(" ".join(text.split()))[:200]


class WebexClient:
    """The run's Webex connection. Use as ``async with WebexClient(...) as client``."""

    def __init__(
        self,
        base_url: str,
        token_provider: TokenProvider | str,
        *,
        timezone: str = "UTC",
        host_email: str | None = None,
        max_concurrency: int = 8,
        requests_per_minute: float | None = 300,
        timeout: float = 30.0,
        max_retries: int = 6,
        retry_after_ceiling: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        rate_headroom: float | None = None,
        rate_window: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens: TokenProvider = (
            StaticToken(token_provider) if isinstance(token_provider, str) else token_provider
        )
        self.timezone = timezone
        self.host_email = host_email
        self.max_concurrency = max(1, max_concurrency)
        self.timeout = timeout
        self.max_retries = max_retries
        # The longest Retry-After honoured; None: the config's own default.
        self.retry_after_ceiling = (
            retry_after_ceiling if retry_after_ceiling is not None else _default_ceiling()
        )
        self._transport = transport
        self._sleep: Sleep = sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self._rng = rng or random.Random()
        limiter_args: dict[str, Any] = {"clock": self._clock, "sleep": self._sleep}
        if rate_headroom is not None:
            limiter_args["headroom"] = rate_headroom
        if rate_window is not None:
            limiter_args["window"] = rate_window
        self.limiter = RateLimiter(requests_per_minute, **limiter_args)
        self.stats = ClientStats()
        self.on_retry: RetryListener | None = None
        self._semaphore = asyncio.Semaphore(self.max_concurrency)
        self._wire: Wire | None = None
        # The origin is read by the parser of the wire the requests go out on.
        self._origin_of = _origin_reader(transport)
        self._own_origin = self._origin_of(self.base_url)

    def __repr__(self) -> str:
        return f"WebexClient({self.base_url!r})"

    def is_own_url(self, url: str) -> bool:
        """Whether ``url`` has the scheme, host and port of ``base_url`` (gets the token)."""
        return self._origin_of(url) == self._own_origin

    def _refuse_foreign(self, url: str, what: str, link: str) -> None:
        """Raise unless ``url`` is on the client's origin: the token must not go elsewhere."""
        if self.is_own_url(url):
            return
        origin = origin_text(self._origin_of(url))
        log.warning("%s: %s points to another host (%s); not followed", what, link, origin)
        raise WebexRequestError(
            f"{what}: {link} points to another host ({origin}); not followed, so the "
            "token is not sent there",
            url=origin,
            hint=f"only {origin_text(self._own_origin)} is asked; report this to the API's owner",
        )

    @classmethod
    def from_config(
        cls,
        config: Config,
        base_url: str,
        credentials: WebexCredentials,
        **overrides: Any,
    ) -> WebexClient:
        """The client a run's config asks for: every setting from ``config.webex`` (whose
        models hold the defaults), the credentials as `reporting.config.secrets` read them.
        ``overrides`` are constructor arguments for tests (a transport, a clock)."""
        webex = config.webex
        provider: TokenProvider
        oauth = credentials.oauth
        if oauth is not None:
            provider = OAuthToken(
                oauth.client_id,
                oauth.client_secret,
                oauth.refresh_token,
                access_token=credentials.token or None,
                attempts=1 + webex.max_retries,
            )
        elif credentials.token:
            provider = StaticToken(credentials.token)
        else:
            from reporting.errors import ConfigError

            raise ConfigError(f"{config.source}: no Webex token", hint="set webex.token_env")
        args: dict[str, Any] = {
            "timezone": config.timezone,
            "host_email": webex.host_email,
            "max_concurrency": webex.max_concurrency,
            "requests_per_minute": webex.requests_per_minute,
            "timeout": webex.timeout_seconds,
            "max_retries": webex.max_retries,
            "retry_after_ceiling": webex.retry_after_ceiling_seconds,
            **overrides,
        }
        return cls(base_url, provider, **args)

    async def __aenter__(self) -> WebexClient:
        headers = {"Accept": "application/json", "timezone": self.timezone}
        if self._transport is not None:
            self._wire = HttpxWire(headers, transport=self._transport, timeout=self.timeout)
        else:
            self._wire = AiohttpWire(
                headers,
                base_url=self.base_url,
                connections=self.max_concurrency,
                timeout=self.timeout,
            )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._wire is not None:
            await self._wire.aclose()
            self._wire = None

    @property
    def wire(self) -> Wire:
        if self._wire is None:
            raise RuntimeError("WebexClient used outside 'async with'")
        return self._wire

    # -- URLs -------------------------------------------------------------------------------

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        """An absolute URL for ``path`` with ``params`` and the configured hostEmail."""
        query: dict[str, str] = {k: str(v) for k, v in (params or {}).items()}
        if self.host_email and "hostEmail" not in query:
            query["hostEmail"] = self.host_email
        full = self.base_url + "/" + path.lstrip("/")
        return f"{full}?{urlencode(query)}" if query else full

    # -- requests -----------------------------------------------------------------------

    async def get_meeting(self, meeting_id: str, *, what: str | None = None) -> Page:
        url = self.url(f"meetings/{quote(meeting_id, safe='')}")
        return await self.get(url, what=what or f"meeting {meeting_id}", expect="object")

    async def pages(
        self,
        path: str,
        params: Mapping[str, str | int],
        *,
        start_url: str | None = None,
        what: str,
        max_items: int = DEFAULT_MAX_ITEMS,
        expect: Expect = "items",
    ) -> AsyncIterator[Page]:
        """Every page of a list, following ``Link: rel="next"`` until there is none.

        An empty page that still has a next link is followed too. A page whose body is
        unusable is asked for once more; if it is still unusable it is yielded with its
        ``problem`` (the caller records it) and the walk continues along its Link header.
        ``start_url`` resumes a walk from a stored next link. ``expect="participants"``:
        the pages are participant pages whose records the caller reads from the bodies
        later; each is only judged (`participant_page_problem`) and its ``items`` is None.

        A next link (or ``start_url``) whose scheme, host or port differs from ``base_url``
        raises `WebexRequestError` before any request: the token is only sent to the API.
        So does a next link already followed in this walk, a Link header that cannot be
        read, and a walk longer than ``max_items`` items in pages of the ``max`` asked
        for could be (the walk would otherwise never end).
        """
        if start_url is not None:
            self._refuse_foreign(start_url, what, "the stored next-page link")
        url: str | None = start_url or self.url(path, {"max": PAGE_MAX, **params})
        followed: dict[tuple[object, ...], int] = {}
        walk = WalkLimit(max_items)
        while url is not None:
            followed[self._same_page(url)] = len(followed) + 1
            walk.check(url, len(followed), what)
            page = await self.get(url, what=what, expect=expect)
            if page.problem is not None:
                self.stats.bad_pages += 1
                log.warning("%s: unusable page from %s (%s); asking again", what, url, page.problem)
                yield replace(page, superseded=True)
                page = await self.get(url, what=what, expect=expect)
                if page.problem is not None:
                    self.stats.bad_pages += 1
            yield page
            url = self._next_of(page, url, what, followed)

    def _same_page(self, url: str) -> tuple[object, ...]:
        return same_page(url, self._origin_of(url))

    def _next_of(
        self, page: Page, url: str, what: str, followed: dict[tuple[object, ...], int]
    ) -> str | None:
        """The walk's next URL after ``page``: None at its end; raises where it cannot go on."""
        if page.link_problem is not None:
            raise WebexRequestError(
                f"{what}: page {len(followed)} of the list has a Link header that cannot "
                f"be read ({page.link_problem}); the pages after it cannot be reached",
                url=clean_url(url),
                hint="rerun later; if it persists, report it to the API's owner",
            )
        target = page.next_url
        if target is None:
            return None
        self._refuse_foreign(target, what, "the API's next-page link")
        seen = followed.get(self._same_page(target))
        if seen is not None:
            raise WebexRequestError(
                f"{what}: the API's next-page link on page {len(followed)} leads back to "
                f"page {seen} of this list (a loop); stopped there",
                url=clean_url(target),
                hint="rerun later; if it persists, report it to the API's owner",
            )
        return target

    async def get(self, url: str, *, what: str, expect: Expect) -> Page:
        """GET ``url`` with every retry rule; returns a 200 page or raises WebexRequestError.

        ``url`` must be on the client's origin (the token goes with it).
        """
        self._refuse_foreign(url, what, "the URL")
        attempt = _Attempt(url, what)
        while True:
            outcome = await self._once(attempt, expect)
            if isinstance(outcome, Page):
                return outcome
            reason, wait = outcome
            if wait is None:
                continue  # retry at once (token refreshed)
            if attempt.retries >= self.max_retries:
                raise WebexRequestError(
                    f"{what}: gave up after {attempt.retries + 1} attempts "
                    f"({', '.join(attempt.history[-4:])})",
                    url=clean_url(attempt.url),
                    hint="Webex kept failing; rerun later (pages already fetched are kept)",
                )
            attempt.retries += 1
            self.stats.retries += 1
            if self.on_retry is not None:
                self.on_retry(reason, wait)
            if wait > 0:
                self.stats.backoff_seconds += wait
                await self._sleep(wait)

    def _backoff(self, retries: int, base: float = BACKOFF_BASE) -> float:
        ceiling = min(BACKOFF_CAP, base * 2.0**retries)
        return float(ceiling * (0.5 + self._rng.random() / 2))

    async def _once(
        self, attempt: _Attempt, expect: Expect = "object"
    ) -> Page | tuple[str, float | None]:
        """One request. A Page on 200; (reason, wait) to retry; raises to give up."""
        wire = self.wire
        token = await self.tokens.token(wire, self.base_url)
        self._count_refreshes()
        async with self._semaphore:
            await self.limiter.acquire()
            self.stats.requests += 1
            started = datetime.now(UTC)
            reply, problem = await self._send(wire, attempt.url, token)
        if reply is None:
            return self._transport_retry(attempt, problem)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("GET %s -> %s", clean_url(attempt.url), reply.status)
        if reply.status == 200:
            return self._page(attempt, reply, started, expect)
        attempt.history.append(str(reply.status))
        if reply.status in WAIT_STATUSES:
            return self._wait_as_told(attempt, reply)
        if reply.status in RETRY_STATUSES:
            self.stats.server_errors += 1
            if reply.status == 504:
                attempt.url = smaller_max(attempt.url)
            return str(reply.status), self._backoff(attempt.retries)
        if reply.status == 401 and self.tokens.can_refresh and not attempt.refreshed:
            attempt.refreshed = True
            await self.tokens.refresh(wire, self.base_url, token)
            self._count_refreshes()
            return "401 token refreshed", None
        raise self._refusal(attempt, reply)

    async def _send(self, wire: Wire, url: str, token: str) -> tuple[Reply | None, str]:
        """(the answer, "") or (None, why there is none) for one GET with the token."""
        try:
            # One deadline for connect, send and every read: a server trickling a byte at
            # a time never trips a per-read timeout.
            async with asyncio.timeout(self.timeout):
                return await wire.get(url, {"Authorization": f"Bearer {token}"}), ""
        except TimeoutError:
            return None, DEADLINE
        except WireFailure as failure:
            return None, failure.kind

    def _count_refreshes(self) -> None:
        if isinstance(self.tokens, OAuthToken):
            self.stats.token_refreshes = self.tokens.refreshes

    def _transport_retry(self, attempt: _Attempt, problem: str) -> tuple[str, float]:
        self.stats.transport_errors += 1
        attempt.history.append(problem)
        log.info("GET %s: %s; will retry", clean_url(attempt.url), problem)
        if problem == DEADLINE:
            return f"{problem} ({self.timeout:g}s)", 0.0
        return problem, self._backoff(attempt.retries)

    def _page(self, attempt: _Attempt, reply: Reply, started: datetime, expect: Expect) -> Page:
        # Webex may echo the token (an error text, a display name, a next link): nothing
        # read from it is kept or parsed before the secrets are taken out.
        body = redact_bytes(reply.body)
        if reply.undecodable:
            encoding = reply.headers.get("content-encoding", "")
            items: list[dict[str, Any]] | None = None
            parsed: Any = None
            problem: str | None = (
                f"body could not be decoded as its Content-Encoding ({shown_header(encoding)}) says"
            )
        else:
            items, parsed, problem = _read_body(body, expect)
        headers = reply.headers
        next_url, link_problem = next_link(headers, reply.url, self.wire.join)
        return Page(
            method="GET",
            url=redact(clean_url(attempt.url)),
            status=reply.status,
            headers={k: redact(headers[k]) for k in KEPT_HEADERS if k in headers},
            body=body,
            fetched_at=started,
            next_url=next_url,
            items=items,
            problem=problem,
            link_problem=link_problem,
            parsed=parsed,
        )

    def _wait_as_told(self, attempt: _Attempt, reply: Reply) -> tuple[str, float]:
        """429 / 423: hold every request back for the server's Retry-After."""
        status = reply.status
        if status == 429:
            self.stats.rate_limited += 1
        else:
            self.stats.locked += 1
        raw = reply.headers.get("retry-after")
        seconds = parse_retry_after(raw)
        if seconds is None:
            seconds = self._backoff(attempt.retries, base=1.0)
            if raw is not None:
                log.info("malformed Retry-After %r; backing off %.1fs", raw[:40], seconds)
        elif seconds > self.retry_after_ceiling:
            raise WebexRequestError(
                f"{attempt.what}: Webex answered {status} and asked to wait {seconds:.0f}s "
                "(Retry-After), "
                f"more than webex.retry_after_ceiling_seconds={self.retry_after_ceiling:.0f}",
                status=status,
                url=clean_url(attempt.url),
                tracking_id=reply.headers.get("trackingid"),
                hint="rerun later (fetched pages are kept), or raise the ceiling",
            )
        # The limit is per user: hold back every request, not only this one.
        self.limiter.pause(seconds)
        return f"{status} Retry-After {raw}", 0.0

    def _refusal(self, attempt: _Attempt, reply: Reply) -> WebexRequestError:
        """The error for an answer no retry mends, with the API's words and likely cause."""
        tracking = reply.headers.get("trackingid")
        api_text = _api_message(reply.body)
        detail = f"{attempt.what}: Webex answered {reply.status}"
        if api_text:
            detail += f": {api_text}"
        if tracking:
            detail += f" (TrackingId {tracking})"
        return WebexRequestError(
            detail,
            status=reply.status,
            url=clean_url(attempt.url),
            tracking_id=tracking,
            hint=CAUSES.get(reply.status),
        )


def _default_ceiling() -> float:
    from reporting.config.schema import WebexConfig

    return float(WebexConfig.model_fields["retry_after_ceiling_seconds"].default)


def _origin_reader(transport: object | None) -> Callable[[str], tuple[str, str, int | None]]:
    """The origin parser of the wire a client with ``transport`` will send through."""
    from reporting.webex import wire

    return wire.httpx_origin if transport is not None else wire.yarl_origin


def _read_body(body: bytes, expect: Expect) -> tuple[list[dict[str, Any]] | None, Any, str | None]:
    """(items, object, problem) of a 200 body: parsed once, here; the raw bytes are what
    is stored. ``object``: what a body that is not a list page decoded to."""
    if expect == "participants":
        return None, None, participant_page_problem(body)
    try:
        if expect == "items":
            return decode_items(body), None, None
        parsed = decode_json(body)
    except BadPage as exc:
        return None, None, exc.problem
    if not isinstance(parsed, dict):
        return None, None, "body is not a JSON object"
    return None, parsed, None
