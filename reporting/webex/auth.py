"""Where the bearer token comes from: a fixed token, or an OAuth integration that refreshes.

Secrets live only inside these objects; their ``repr`` never shows them, and no message
built here contains them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from reporting.errors import WebexError
from reporting.logs import register_secret
from reporting.webex.ratelimit import parse_retry_after

if TYPE_CHECKING:
    from reporting.webex.wire import Wire

# Refresh a little before the access token expires, so no request races its expiry: two
# minutes, or a quarter of the token's lifetime when that is shorter (a token that lives
# less than the margin would otherwise be refreshed before every request).
EXPIRY_MARGIN_SECONDS = 120.0
# A refresh that meets a passing failure (429, 5xx, a dropped connection) is tried again a
# few times: without a token the whole run would fail. Waits grow from 1 s; a Retry-After
# above the cap is not waited for. The attempts follow the client's `max_retries` when the
# token comes from a config (`WebexClient.from_config`).
REFRESH_ATTEMPTS = 4
DEFAULT_DEADLINE = 30.0  # seconds for one token request when the client sets no timeout
REFRESH_WAIT_CAP_SECONDS = 60.0
_PASSING = frozenset({429, 500, 502, 503, 504})


class TokenProvider(Protocol):
    """What WebexClient needs from a token source."""

    @property
    def can_refresh(self) -> bool: ...

    async def token(self, wire: Wire, base_url: str) -> str:
        """The access token to send now (refreshing first when it is about to expire)."""
        ...

    async def refresh(self, wire: Wire, base_url: str, rejected: str) -> bool:
        """Get a new token after ``rejected`` drew a 401; False when that is not possible."""
        ...


class StaticToken:
    """A personal access token, bot token or any token handed in as is."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"

    @property
    def can_refresh(self) -> bool:
        return False

    async def token(self, wire: Wire, base_url: str) -> str:
        return self._token

    async def refresh(self, wire: Wire, base_url: str, rejected: str) -> bool:
        return False


class OAuthToken:
    """An integration's access token, refreshed via ``POST /access_token``.

    Concurrent requests that all draw a 401 with the same stale token trigger one refresh:
    the others see the token has already changed and simply retry with the new one.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        access_token: str | None = None,
        expires_at: float | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        attempts: int = REFRESH_ATTEMPTS,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._access_token = access_token
        # An access token of unknown age is used until a 401 says it expired.
        self._expires_at = expires_at
        self._clock = clock
        self._margin = EXPIRY_MARGIN_SECONDS
        self._sleep = sleep
        self._attempts = max(1, attempts)
        self._lock = asyncio.Lock()
        self.refreshes = 0
        self.new_secrets: list[str] = []  # tokens minted this run, for log redaction
        for secret in (client_secret, refresh_token, access_token):
            if secret:
                register_secret(secret)

    def _remember_secret(self, value: str) -> None:
        # A token minted mid-run must be redacted from logs like the one we started with.
        self.new_secrets.append(value)
        register_secret(value)

    def __repr__(self) -> str:
        return "OAuthToken(<redacted>)"

    @property
    def can_refresh(self) -> bool:
        return True

    def _fresh(self) -> bool:
        if self._access_token is None:
            return False
        return self._expires_at is None or self._clock() < self._expires_at - self._margin

    async def token(self, wire: Wire, base_url: str) -> str:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    await self._refresh(wire, base_url)
        assert self._access_token is not None
        return self._access_token

    async def refresh(self, wire: Wire, base_url: str, rejected: str) -> bool:
        async with self._lock:
            if self._access_token != rejected:
                return True  # someone else refreshed while this request was in flight
            await self._refresh(wire, base_url)
        return True

    async def _refresh(self, wire: Wire, base_url: str) -> None:
        url = base_url.rstrip("/") + "/access_token"
        for attempt in range(1, self._attempts + 1):
            problem, passing, retry_after = await self._ask(wire, url)
            if not problem:
                return
            wait = retry_after if retry_after is not None else 2.0 ** (attempt - 1)
            if not passing or attempt == self._attempts or wait > REFRESH_WAIT_CAP_SECONDS:
                break
            await self._sleep(wait)
        # Raised outside any except block so no transport exception rides along as __context__.
        raise WebexError(
            f"could not refresh the Webex OAuth access token: {problem}",
            hint="check the integration's client id/secret and that the refresh token "
            "(valid about 90 days) has not expired; re-authorise the integration if it has",
        )

    async def _ask(self, wire: Wire, url: str) -> tuple[str, bool, float | None]:
        """One POST to the token endpoint: ("", …) when the token is renewed, else (what
        went wrong, whether it may pass, the server's Retry-After)."""
        from reporting.webex.wire import WireFailure

        try:
            # One deadline for the whole exchange, as for every API request.
            async with asyncio.timeout(wire.timeout or DEFAULT_DEADLINE):
                reply = await wire.post_form(
                    url,
                    {
                        "grant_type": "refresh_token",
                        "client_id": self._client_id,
                        "client_secret": self._client_secret,
                        "refresh_token": self._refresh_token,
                    },
                )
        except TimeoutError:
            return f"no complete answer within the deadline from POST {url}", True, None
        except WireFailure as failure:
            # Only the type name: transport exception text can carry the request.
            return f"{failure.kind} while calling POST {url}", True, None
        status = reply.status
        if status != 200:
            retry_after = parse_retry_after(reply.headers.get("retry-after"))
            return f"POST {url} answered {status}", status in _PASSING, retry_after
        try:
            body = json.loads(reply.body)
            access = str(body["access_token"])
        except (ValueError, KeyError, TypeError, RecursionError):
            return f"POST {url} answered without an access_token", False, None
        self._access_token = access
        self._remember_secret(access)
        if body.get("refresh_token"):
            self._refresh_token = str(body["refresh_token"])
            self._remember_secret(self._refresh_token)
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            self._expires_at = self._clock() + float(expires_in)
            self._margin = min(EXPIRY_MARGIN_SECONDS, max(0.0, float(expires_in)) / 4)
        else:
            self._expires_at = None
        self.refreshes += 1
        return "", False, None
