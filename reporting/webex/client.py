"""WebexClient: one async httpx client per run, polite and persistent.

Every request goes through the same three gates: the concurrency semaphore (httpx's own
pool limits are ignored when a transport is injected, so the semaphore is what bounds
concurrency), the shared client-side `RateLimiter`, and the retry loop:

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

Token hygiene: the token is only ever put into the ``Authorization`` header of an outgoing
request to the client's own origin (scheme, host and port of ``base_url``): a next-page link,
fresh or stored, that points elsewhere is refused before any request. Request headers are
never logged, stored or put into messages, and httpx exceptions are reduced to their type
name and never chained (their repr can carry the request).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from reporting.errors import WebexError
from reporting.logs import redact, redact_bytes
from reporting.webex.auth import OAuthToken, StaticToken, TokenProvider
from reporting.webex.ratelimit import RateLimiter, parse_retry_after
from reporting.webex.schema import BadPage, decode_items, decode_json

if TYPE_CHECKING:
    from reporting.config import Config, WebexCredentials

log = logging.getLogger(__name__)


PAGE_MAX = 100
MIN_MAX = 10
KEPT_HEADERS = ("link", "trackingid", "retry-after", "content-type", "date")
RETRY_STATUSES = frozenset({500, 502, 503, 504})
WAIT_STATUSES = frozenset({423, 429})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
# Query parameters that could hold a secret if a server ever echoed one into a Link.
SECRET_PARAMS = frozenset({"access_token", "token", "client_secret", "refresh_token"})
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


class WebexRequestError(WebexError):
    """A request that failed for good; ``status`` None for a transport failure."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str = "",
        tracking_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        # The API's own words and URLs go into it; Webex may echo the token in either.
        super().__init__(redact(message), hint=hint)
        self.status = status
        self.url = redact(url)
        self.tracking_id = tracking_id


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
    items: list[dict[str, Any]] | None  # None when the body is unusable
    problem: str | None  # why the body is unusable
    superseded: bool = False  # a bad page the client fetched again
    link_problem: str | None = None  # why the Link header could not be read

    @property
    def cursor_after(self) -> str | None:
        """Where to continue once this page is stored: a superseded page is asked again."""
        return self.url if self.superseded else self.next_url

    def json(self) -> Any:
        return decode_json(self.body)


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


def clean_url(url: str | httpx.URL) -> str:
    """The URL without userinfo or secret-looking query parameters (for store and logs)."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "an unreadable URL"  # e.g. a broken IPv6 host; it may hold anything
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query and _may_hold_secret(query.lower()):
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, v) for k, v in pairs if k.lower() not in SECRET_PARAMS])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _may_hold_secret(query: str) -> bool:
    return any(name in query for name in SECRET_PARAMS)


def _smaller_max(url: str) -> str:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    current = next((v for k, v in pairs if k == "max"), None)
    try:
        size = int(float(current)) if current is not None else PAGE_MAX
    except ValueError:
        size = PAGE_MAX
    smaller = max(MIN_MAX, size // 2)
    pairs = [(k, v) for k, v in pairs if k != "max"] + [("max", str(smaller))]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))


def _api_message(response: httpx.Response) -> str:
    """The API's own error text, shortened (it is untrusted data, but useful)."""
    try:
        body = decode_json(response.content)
    except BadPage:
        return ""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    text = ""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        text = str(errors[0].get("description") or "")
    text = text or str(body.get("message") or "")
    return redact(" ".join(text.split()))[:200]


class _WalkLimit:
    """How many pages a walk may take: ``max_items`` in pages of the ``max`` it asked for.

    The page size is read from the walk's own URLs (a 504 halves it); a next link that
    asks for a smaller page than the client does (the server's choice) does not raise
    the limit, the client's smallest ``max`` does."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.page_size = PAGE_MAX

    def check(self, url: str, pages: int, what: str) -> None:
        size = _page_size(url)
        if size is not None:
            self.page_size = min(self.page_size, max(size, MIN_MAX))
        # One more for the empty last page a list may end with.
        limit = -(-self.max_items // self.page_size) + 1
        if pages > limit:
            raise WebexRequestError(
                f"{what}: the list goes on past {limit} pages of {self.page_size}, more than "
                f"{self.max_items:,} items could fill (the next-page links never end); "
                "stopped there",
                url=clean_url(url),
                hint="rerun later; if it persists, report it to the API's owner",
            )


def _same_page(url: str) -> tuple[str, ...]:
    """What makes two URLs ask for the same page: origin, path and the query's pairs in
    any order (a server's link may order them differently from the client)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return (url,)
    pairs = sorted(parse_qsl(parts.query, keep_blank_values=True))
    return (*_origin_text(url).split("://"), parts.path, urlencode(pairs))


def _page_size(url: str) -> int | None:
    for key, value in parse_qsl(urlsplit(url).query):
        if key == "max":
            try:
                return int(value)
            except ValueError:
                return None
    return None


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
        retry_after_ceiling: float = 300.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        rate_headroom: float | None = None,
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
        self.retry_after_ceiling = retry_after_ceiling
        self._transport = transport
        self._sleep: Sleep = sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self._rng = rng or random.Random()
        limiter_args: dict[str, Any] = {"clock": self._clock, "sleep": self._sleep}
        if rate_headroom is not None:
            limiter_args["headroom"] = rate_headroom
        self.limiter = RateLimiter(requests_per_minute, **limiter_args)
        self.stats = ClientStats()
        self.on_retry: RetryListener | None = None
        self._semaphore = asyncio.Semaphore(self.max_concurrency)
        self._http: httpx.AsyncClient | None = None
        self._own_origin = _origin(self.base_url)

    def __repr__(self) -> str:
        return f"WebexClient({self.base_url!r})"

    def is_own_url(self, url: str) -> bool:
        """Whether ``url`` has the scheme, host and port of ``base_url`` (gets the token)."""
        return _origin(url) == self._own_origin

    def _refuse_foreign(self, url: str, what: str, link: str) -> None:
        """Raise unless ``url`` is on the client's origin: the token must not go elsewhere."""
        if self.is_own_url(url):
            return
        origin = _origin_text(url)
        log.warning("%s: %s points to another host (%s); not followed", what, link, origin)
        raise WebexRequestError(
            f"{what}: {link} points to another host ({origin}); not followed, so the "
            "token is not sent there",
            url=origin,
            hint=f"only {_origin_text(self.base_url)} is asked; report this to the API's owner",
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
        limits = httpx.Limits(
            max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency
        )
        self._http = httpx.AsyncClient(
            transport=self._transport,
            limits=limits,
            timeout=httpx.Timeout(self.timeout),
            headers={"Accept": "application/json", "timezone": self.timezone},
            follow_redirects=False,
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("WebexClient used outside 'async with'")
        return self._http

    # -- URLs -------------------------------------------------------------------------------

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        """An absolute URL for ``path`` with ``params`` and the configured hostEmail."""
        query: dict[str, str] = {k: str(v) for k, v in (params or {}).items()}
        if self.host_email and "hostEmail" not in query:
            query["hostEmail"] = self.host_email
        full = self.base_url + "/" + path.lstrip("/")
        return str(httpx.URL(full, params=query)) if query else full

    # -- requests -----------------------------------------------------------------------

    async def get_meeting(self, meeting_id: str, *, what: str | None = None) -> Page:
        from urllib.parse import quote

        url = self.url(f"meetings/{quote(meeting_id, safe='')}")
        return await self.get(url, what=what or f"meeting {meeting_id}", expect_items=False)

    async def pages(
        self,
        path: str,
        params: Mapping[str, str | int],
        *,
        start_url: str | None = None,
        what: str,
        max_items: int = DEFAULT_MAX_ITEMS,
    ) -> AsyncIterator[Page]:
        """Every page of a list, following ``Link: rel="next"`` until there is none.

        An empty page that still has a next link is followed too. A page whose body is
        unusable is asked for once more; if it is still unusable it is yielded with its
        ``problem`` (the caller records it) and the walk continues along its Link header.
        ``start_url`` resumes a walk from a stored next link.

        A next link (or ``start_url``) whose scheme, host or port differs from ``base_url``
        raises `WebexRequestError` before any request: the token is only sent to the API.
        So does a next link already followed in this walk, a Link header that cannot be
        read, and a walk longer than ``max_items`` items in pages of the ``max`` asked
        for could be (the walk would otherwise never end).
        """
        if start_url is not None:
            self._refuse_foreign(start_url, what, "the stored next-page link")
        url: str | None = start_url or self.url(path, {"max": PAGE_MAX, **params})
        followed: dict[tuple[str, ...], int] = {}
        walk = _WalkLimit(max_items)
        while url is not None:
            followed[_same_page(url)] = len(followed) + 1
            walk.check(url, len(followed), what)
            page = await self.get(url, what=what, expect_items=True)
            if page.problem is not None:
                self.stats.bad_pages += 1
                log.warning("%s: unusable page from %s (%s); asking again", what, url, page.problem)
                yield replace(page, superseded=True)
                page = await self.get(url, what=what, expect_items=True)
                if page.problem is not None:
                    self.stats.bad_pages += 1
            yield page
            if page.link_problem is not None:
                raise WebexRequestError(
                    f"{what}: page {len(followed)} of the list has a Link header that cannot "
                    f"be read ({page.link_problem}); the pages after it cannot be reached",
                    url=clean_url(url),
                    hint="rerun later; if it persists, report it to the API's owner",
                )
            url = page.next_url
            if url is None:
                break
            self._refuse_foreign(url, what, "the API's next-page link")
            if _same_page(url) in followed:
                raise WebexRequestError(
                    f"{what}: the API's next-page link on page {len(followed)} leads back to "
                    f"page {followed[_same_page(url)]} of this list (a loop); stopped there",
                    url=clean_url(url),
                    hint="rerun later; if it persists, report it to the API's owner",
                )

    async def get(self, url: str, *, what: str, expect_items: bool) -> Page:
        """GET ``url`` with every retry rule; returns a 200 page or raises WebexRequestError.

        ``url`` must be on the client's origin (the token goes with it).
        """
        self._refuse_foreign(url, what, "the URL")
        attempt = _Attempt(url, what)
        while True:
            outcome = await self._once(attempt, expect_items)
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

    async def _once(  # noqa: C901, PLR0915
        self, attempt: _Attempt, expect_items: bool = False
    ) -> Page | tuple[str, float | None]:
        """One request. A Page on 200; (reason, wait) to retry; raises to give up."""
        http = self.http
        token = await self.tokens.token(http, self.base_url)
        if isinstance(self.tokens, OAuthToken):
            self.stats.token_refreshes = self.tokens.refreshes
        problem: str | None = None
        undecodable: str | None = None
        async with self._semaphore:
            await self.limiter.acquire()
            self.stats.requests += 1
            started = datetime.now(UTC)
            try:
                # One deadline for connect, send and every read: httpx's own timeout is
                # per read, and a server trickling a byte at a time never trips it.
                async with asyncio.timeout(self.timeout):
                    request = http.build_request(
                        "GET", attempt.url, headers={"Authorization": f"Bearer {token}"}
                    )
                    response = await http.send(request, stream=True)
                    try:
                        body = await response.aread()
                    except httpx.DecodingError:
                        # The headers are usable (the Link among them), the body is not.
                        encoding = response.headers.get("content-encoding", "")
                        undecodable = (
                            "body could not be decoded as its Content-Encoding "
                            f"({_shown_header(encoding)}) says"
                        )
                        body = b""
                    finally:
                        await response.aclose()
            except TimeoutError:
                problem = DEADLINE
            except httpx.TransportError as exc:
                # Type name only: the exception's text and repr may carry the request.
                problem = type(exc).__name__
            del token
        if problem is not None:
            self.stats.transport_errors += 1
            attempt.history.append(problem)
            log.info("GET %s: %s; will retry", clean_url(attempt.url), problem)
            if problem == DEADLINE:
                return f"{problem} ({self.timeout:g}s)", 0.0
            return problem, self._backoff(attempt.retries)
        status = response.status_code
        if log.isEnabledFor(logging.DEBUG):
            log.debug("GET %s -> %s", clean_url(attempt.url), status)
        if status == 200:
            # Webex may echo the token (an error text, a display name, a next link):
            # nothing read from it is kept or parsed before the secrets are taken out.
            body = redact_bytes(body)
            if undecodable is not None:
                items, problem = None, undecodable
            else:
                items, problem = _read_body(body, expect_items)
            kept = response.headers
            next_url, link_problem = _next_link(response)
            return Page(
                method="GET",
                url=redact(clean_url(attempt.url)),
                status=status,
                headers={k: redact(kept[k]) for k in KEPT_HEADERS if k in kept},
                body=body,
                fetched_at=started,
                next_url=next_url,
                items=items,
                problem=problem,
                link_problem=link_problem,
            )
        attempt.history.append(str(status))
        tracking = response.headers.get("trackingid")
        if status in WAIT_STATUSES:
            if status == 429:
                self.stats.rate_limited += 1
            else:
                self.stats.locked += 1
            raw = response.headers.get("retry-after")
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
                    tracking_id=tracking,
                    hint="rerun later (fetched pages are kept), or raise the ceiling",
                )
            # The limit is per user: hold back every request, not only this one.
            self.limiter.pause(seconds)
            return f"{status} Retry-After {raw}", 0.0
        if status in RETRY_STATUSES:
            self.stats.server_errors += 1
            if status == 504:
                attempt.url = _smaller_max(attempt.url)
            return str(status), self._backoff(attempt.retries)
        if status == 401 and self.tokens.can_refresh and not attempt.refreshed:
            attempt.refreshed = True
            # The header value we sent is needed to tell a stale token from a fresh one.
            rejected = response.request.headers.get("authorization", "")[7:]
            await self.tokens.refresh(http, self.base_url, rejected)
            if isinstance(self.tokens, OAuthToken):
                self.stats.token_refreshes = self.tokens.refreshes
            return "401 token refreshed", None
        api_text = _api_message(response)
        cause = CAUSES.get(status)
        detail = f"{attempt.what}: Webex answered {status}"
        if api_text:
            detail += f": {api_text}"
        if tracking:
            detail += f" (TrackingId {tracking})"
        raise WebexRequestError(
            detail, status=status, url=clean_url(attempt.url), tracking_id=tracking, hint=cause
        )


# httpx parses a URL character by character in Python (~0.1 ms for a next link with its
# cursor); each link is checked twice, when the page names it and when it is asked for.
@functools.lru_cache(maxsize=256)
def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, normalised (lower case, default port None).

    httpx's own parser, so the check reads the URL exactly as the request will go out."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return ("", "", None)
    return (parsed.scheme.lower(), parsed.host.lower(), parsed.port)


def _origin_text(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: never its userinfo, path or query."""
    scheme, host, port = _origin(url)
    if not host:
        return "an unreadable URL"
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


# One link-value of RFC 8288: `<URI>` then `; param` or `; param=value` (token or quoted).
_LINK_VALUE = re.compile(
    r"\s*<([^<>\s]*)>(?:\s*;\s*[!#$%&\'*+.^_`|~0-9A-Za-z-]+"
    r'(?:\s*=\s*(?:[!#$%&\'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\]|\\.)*"))?)*\s*'
)


def _next_link(response: httpx.Response) -> tuple[str | None, str | None]:
    """(next URL, None), or (None, why the Link header cannot be read).

    Strict on purpose: a header that is not a list of ``<URI>; params`` values could
    hide a next page, and ending the walk there would drop its records silently."""
    header = ",".join(response.headers.get_list("link"))
    if not header.strip():
        return None, None
    for value in _split_links(header):
        if _LINK_VALUE.fullmatch(value) is None:
            return None, f"not a list of <URI>; rel=... values: {_shown(value)}"
    target = response.links.get("next", {}).get("url")
    if target is None:
        return None, None
    if not target.strip():
        return None, 'its rel="next" link is empty'
    try:
        joined = response.url.join(target)
        _ = joined.port  # an impossible port raises only when read
    except (httpx.InvalidURL, ValueError, TypeError):
        return None, f"its next link is not a URL: {_shown(target)}"
    return str(joined), None


def _split_links(header: str) -> list[str]:
    """The link-values of a Link header: split at commas outside `<...>` and quotes."""
    values: list[str] = []
    current: list[str] = []
    in_uri = in_quote = escaped = False
    for char in header:
        if in_quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_quote = False
        elif char == "<":
            in_uri = True
        elif char == ">":
            in_uri = False
        elif char == '"' and not in_uri:
            in_quote = True
        elif char == "," and not in_uri:
            values.append("".join(current))
            current = []
            continue
        current.append(char)
    values.append("".join(current))
    return [v for v in values if v.strip()]


def _shown_header(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text[:40]) or "none"


def _shown(text: str) -> str:
    """Untrusted header text, shortened and without secrets or control characters."""
    cleaned = redact("".join(c if c.isprintable() else "?" for c in text[:80]))
    return repr(clean_url(cleaned) if "://" in cleaned else cleaned)


def _read_body(body: bytes, expect_items: bool) -> tuple[list[dict[str, Any]] | None, str | None]:
    """(items, problem) of a 200 body: parsed once, here; the raw bytes are what is stored."""
    try:
        if expect_items:
            return decode_items(body), None
        if not isinstance(decode_json(body), dict):
            return None, "body is not a JSON object"
    except BadPage as exc:
        return None, exc.problem
    return None, None
