"""How the client's requests go out: one small interface, two implementations.

- `AiohttpWire`, what a run uses: aiohttp's connection pool hands an idle connection out
  of a queue, so the cost of a request does not grow with the number in flight (httpcore's
  pool scans every connection for every queued request, and fell behind at 32 and more).
- `HttpxWire`, over any httpx transport handed in: the tests run the sandbox in process
  (``httpx.ASGITransport``) or script answers (``httpx.MockTransport``) through it.

Both answer with a `Reply` that holds only what the client reads, and fail with
`WireFailure`, which names the exception's type and nothing else: a transport exception's
text and repr can carry the request, its URL and headers. It is raised outside the
``except`` block, so the original never rides along as ``__context__`` either.

The aiohttp wire decodes the body here, by its ``Content-Encoding`` (gzip, deflate, br when
the brotli package is there; an unknown coding is read as identity), as httpx does for
the httpx wire; a body its coding does not decode is answered as `Reply.undecodable`,
with its headers intact (a Link among them), rather than as a failed transport.

aiohttp and httpx are imported when a wire of theirs is made: each is slow to import, and
a command that sends no request needs neither.

The URL parser that decides whether a URL is the client's own origin (`origin`) is the
one the request then goes out with: yarl for aiohttp, httpx's for httpx.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from yarl import URL

if TYPE_CHECKING:
    import httpx

try:  # optional, as for httpx: Webex answers gzip, and br only when asked for it
    import brotli
except ImportError:  # pragma: no cover - brotli is installed wherever httpx[brotli] is
    brotli = None

Origin = tuple[str, str, int | None]
# The response headers the client reads; every other one is dropped on arrival.
READ_HEADERS = ("link", "trackingid", "retry-after", "content-type", "date", "content-encoding")
ACCEPT_ENCODING = "gzip, deflate" + (", br" if brotli is not None else "")
# A long next-page cursor must fit; h11 (under httpx) allows 16 KiB of headers as well.
MAX_HEADER_BYTES = 16 * 1024
NO_ORIGIN: Origin = ("", "", None)


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer: its status, the headers of `READ_HEADERS`, and the decoded body."""

    url: str
    status: int
    headers: Mapping[str, str]  # lower-case names; repeated headers joined by ", "
    body: bytes
    undecodable: bool = False  # the body does not decode as its Content-Encoding says


class WireFailure(Exception):
    """No answer: the connection failed, dropped or broke the protocol (``kind``: the
    exception's type name only)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Wire(Protocol):
    """What `WebexClient` and the token providers send their requests through."""

    timeout: float  # seconds; the caller enforces it as one deadline per attempt

    def origin(self, url: str) -> Origin: ...

    def join(self, base: str, link: str) -> str:
        """``link`` read against ``base``; raises ValueError when it is not a URL."""
        ...

    async def get(self, url: str, headers: Mapping[str, str]) -> Reply: ...

    async def post_form(self, url: str, form: Mapping[str, str]) -> Reply: ...

    async def aclose(self) -> None: ...


# -- content decoding -------------------------------------------------------------------------


def decode_body(raw: bytes, encoding: str) -> bytes | None:
    """``raw`` decoded by its ``Content-Encoding`` (codings applied in order, so undone in
    reverse); None when it does not decode."""
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    data = raw
    try:
        for coding in reversed(codings):
            data = _undo(coding, data)
    except (zlib.error, OSError, ValueError, EOFError):
        return None
    except Exception as exc:  # brotli.error is not an OSError/ValueError
        if brotli is not None and isinstance(exc, brotli.error):
            return None
        raise
    return data


def _undo(coding: str, data: bytes) -> bytes:
    if coding == "gzip" or coding == "x-gzip":
        gunzip = zlib.decompressobj(zlib.MAX_WBITS | 16)
        return gunzip.decompress(data) + gunzip.flush()
    if coding == "deflate":
        # RFC 9110 says zlib-wrapped; some servers send raw deflate: try both, like httpx.
        try:
            inflate = zlib.decompressobj()
            return inflate.decompress(data) + inflate.flush()
        except zlib.error:
            inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            return inflate.decompress(data) + inflate.flush()
    if coding == "br":
        if brotli is None:
            raise ValueError("br")
        return bytes(brotli.decompress(data))
    return data  # identity, or a coding nobody knows: the bytes as they came


def _read_headers(values_of: Any) -> dict[str, str]:
    """The `READ_HEADERS` found by ``values_of(name)``, repeated values joined."""
    kept: dict[str, str] = {}
    for name in READ_HEADERS:
        values = values_of(name)
        if values:
            kept[name] = ", ".join(values)
    return kept


def _reply(url: str, status: int, headers: dict[str, str], raw: bytes) -> Reply:
    encoding = headers.get("content-encoding")
    if not encoding or not raw:
        return Reply(url, status, headers, raw)
    body = decode_body(raw, encoding)
    if body is None:
        return Reply(url, status, headers, b"", undecodable=True)
    return Reply(url, status, headers, body)


# -- aiohttp ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def yarl_origin(url: str) -> Origin:
    """(scheme, host, port) as aiohttp will connect, normalised (lower case, default port
    None); `NO_ORIGIN` for what is not an absolute URL."""
    # Next links and stored cursors are checked when named and again when asked for.
    try:
        parsed = URL(url)
        host, port = parsed.host, parsed.explicit_port
    except (ValueError, TypeError):
        return NO_ORIGIN
    if not host or not parsed.scheme:
        return NO_ORIGIN
    scheme = parsed.scheme.lower()
    if port is not None and port == {"http": 80, "https": 443}.get(scheme):
        port = None
    return (scheme, host.lower(), port)


class AiohttpWire:
    """Requests over an aiohttp session; create it inside the event loop that uses it."""

    def __init__(
        self, headers: Mapping[str, str], *, base_url: str, connections: int, timeout: float
    ) -> None:
        import aiohttp
        from aiohttp.helpers import get_env_proxy_for_url

        self.timeout = timeout
        tls = yarl_origin(base_url)[0] == "https"
        # HTTPS_PROXY / NO_PROXY, as httpx honoured them, read once: every request goes to
        # the base URL's origin. (aiohttp's trust_env would read them, and ~/.netrc, in a
        # thread for every request.)
        try:
            self._proxy, self._proxy_auth = get_env_proxy_for_url(URL(base_url))
        except LookupError:
            self._proxy, self._proxy_auth = None, None  # type: ignore[assignment]
        self._failures = (aiohttp.ClientError, OSError, ValueError)
        connector = aiohttp.TCPConnector(
            limit=connections,
            limit_per_host=0,
            # The CA store httpx used (certifi, or SSL_CERT_FILE / SSL_CERT_DIR): moving to
            # aiohttp changes no one's trust. Loaded only for an https base URL.
            ssl=_httpx_trust() if tls else True,
            ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={**headers, "Accept-Encoding": ACCEPT_ENCODING},
            # One deadline per attempt is the caller's (asyncio.timeout): none here.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=None, sock_read=None),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            max_line_size=MAX_HEADER_BYTES,
            max_field_size=MAX_HEADER_BYTES,
            raise_for_status=False,
        )
        # aiohttp resends a GET once, unasked, when a kept-alive connection drops: that
        # resend would pass by the rate limiter and the retry count. Every attempt is the
        # client's own instead (aiohttp's test client turns it off the same way).
        if hasattr(self._session, "_retry_connection"):
            self._session._retry_connection = False

    def origin(self, url: str) -> Origin:
        return yarl_origin(url)

    def join(self, base: str, link: str) -> str:
        try:
            joined = URL(base).join(URL(link))
            _ = joined.port, joined.host  # an impossible port or host raises only when read
        except (ValueError, TypeError):
            raise ValueError(link) from None
        return str(joined)

    async def get(self, url: str, headers: Mapping[str, str]) -> Reply:
        return await self._send("GET", url, headers, None)

    async def post_form(self, url: str, form: Mapping[str, str]) -> Reply:
        return await self._send("POST", url, {}, dict(form))

    async def _send(self, method: str, url: str, headers: Mapping[str, str], data: Any) -> Reply:
        failure: str | None = None
        target = URL(url)
        if target.raw_user is not None:
            target = target.with_user(None)  # aiohttp would send it as Basic credentials
        try:
            async with self._session.request(
                method,
                target,
                headers=headers,
                data=data,
                allow_redirects=False,
                proxy=self._proxy,
                proxy_auth=self._proxy_auth,
            ) as response:
                raw = await response.read()
                status = response.status
                kept = _read_headers(lambda name: response.headers.getall(name, ()))
        except self._failures as exc:
            failure = type(exc).__name__
        if failure is not None:
            raise WireFailure(failure)
        return _reply(url, status, kept, raw)

    async def aclose(self) -> None:
        await self._session.close()


# -- httpx ------------------------------------------------------------------------------------


def _httpx_trust() -> Any:
    import httpx

    return httpx.create_ssl_context()


@functools.lru_cache(maxsize=256)
def httpx_origin(url: str) -> Origin:
    """(scheme, host, port) as httpx will connect (its parser drops a default port)."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return NO_ORIGIN
    if not parsed.host:
        return NO_ORIGIN
    return (parsed.scheme.lower(), parsed.host.lower(), parsed.port)


class HttpxWire:
    """Requests over an httpx client on a given transport (in-process sandbox, scripts)."""

    def __init__(
        self, headers: Mapping[str, str], *, transport: httpx.AsyncBaseTransport, timeout: float
    ) -> None:
        import httpx

        self.timeout = timeout
        self._failures = (httpx.TransportError,)
        self._decoding_error = httpx.DecodingError
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={**headers, "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
        )

    def origin(self, url: str) -> Origin:
        return httpx_origin(url)

    def join(self, base: str, link: str) -> str:
        import httpx

        try:
            joined = httpx.URL(base).join(link)
            _ = joined.port
        except (httpx.InvalidURL, ValueError, TypeError):
            raise ValueError(link) from None
        return str(joined)

    async def get(self, url: str, headers: Mapping[str, str]) -> Reply:
        return await self._send(self._client.build_request("GET", url, headers=headers))

    async def post_form(self, url: str, form: Mapping[str, str]) -> Reply:
        return await self._send(self._client.build_request("POST", url, data=dict(form)))

    async def _send(self, request: httpx.Request) -> Reply:
        failure: str | None = None
        undecodable = False
        try:
            response = await self._client.send(request, stream=True)
            try:
                raw = await response.aread()  # httpx decodes its Content-Encoding
            except self._decoding_error:
                raw, undecodable = b"", True  # the headers are usable, the body is not
            finally:
                await response.aclose()
        except self._failures as exc:
            failure = type(exc).__name__
        if failure is not None:
            raise WireFailure(failure)
        headers = _read_headers(response.headers.get_list)
        return Reply(str(request.url), response.status_code, headers, raw, undecodable)

    async def aclose(self) -> None:
        await self._client.aclose()
