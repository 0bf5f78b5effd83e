"""The sandbox's front layer: what every Webex endpoint does before routing
(``TrackingId``, bearer-token authentication, the per-token rate limit, fault injection),
then Starlette's routing to the endpoints."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reporting.webex.sandbox.conventions import ERROR_TEXT, JSON_TYPE, ApiError, error_body
from reporting.webex.sandbox.dataset import Role
from reporting.webex.sandbox.faults import decide
from reporting.webex.sandbox.oauth import access_token
from reporting.webex.sandbox.routes import (
    get_meeting,
    get_participant,
    list_meetings,
    list_participants,
)
from reporting.webex.sandbox.state import Sandbox

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ACCESS_TOKEN_PATH = "/v1/access_token"  # noqa: S105 - a path, not a secret

# -- the front layer -------------------------------------------------------------------------


class SandboxApp:
    """ASGI entry: tracking id, auth, rate limit and faults, then Starlette routing."""

    def __init__(self, sandbox: Sandbox) -> None:
        from reporting.webex.sandbox.people import list_invitees, list_registrants

        self.sandbox = sandbox
        self.router = Starlette(
            routes=[
                Route("/v1/meetingParticipants", list_participants, methods=["GET"]),
                Route("/v1/meetingInvitees", list_invitees, methods=["GET"]),
                Route("/v1/meetings/{meetingId}/registrants", list_registrants, methods=["GET"]),
                Route("/v1/meetingParticipants/{participantId}", get_participant, methods=["GET"]),
                Route("/v1/meetings", list_meetings, methods=["GET"]),
                Route("/v1/meetings/{meetingId}", get_meeting, methods=["GET"]),
                Route(ACCESS_TOKEN_PATH, access_token, methods=["POST"]),
            ],
            exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        )
        self.router.state.sandbox = sandbox
        self.state = self.router.state

    def add_token(self, token: str, role: str | Role) -> None:
        self.sandbox.add_token(token, role)

    def add_integration(
        self, client_id: str, client_secret: str, refresh_token: str, role: str | Role
    ) -> None:
        self.sandbox.add_integration(client_id, client_secret, refresh_token, role)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        tracking_id = f"SANDBOX_{uuid.uuid4()}"
        scope["sandbox.tracking_id"] = tracking_id

        async def send_with_tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"trackingid", tracking_id.encode()),
                ]
            await send(message)

        if scope["path"] == ACCESS_TOKEN_PATH:
            # The integration authenticates with its form fields: no bearer token, and no
            # per-token rate limit or fault (both are keyed by the bearer token).
            await self.router(scope, receive, send_with_tracking)
            return
        sandbox = self.sandbox
        token = _bearer(scope) or ""
        role = sandbox.role_of(token) if token else None
        if role is None:
            await _send_error(send, 401, ERROR_TEXT[401], tracking_id)
            return
        scope["sandbox.role"] = role
        wait = sandbox.limiter.check(token, sandbox.clock())
        if wait is not None:
            await _send_error(
                send,
                429,
                "Too many requests for this token; retry later.",
                tracking_id,
                {"Retry-After": str(wait)},
            )
            return
        spec = sandbox.faults
        if spec.injects or spec.latency:
            query = scope.get("query_string", b"").decode("latin-1")
            target = scope["path"] + ("?" + query if query else "")
            attempt = sandbox.attempts.next(token, target) if spec.injects else 0
            decision = decide(spec, token, target, attempt)
            if decision.kind is None and decision.delay:
                # The latency runs while the answer is made: it leaves ``delay`` after the
                # request came in, whatever this one thread was busy with meanwhile.
                answer_at = asyncio.get_running_loop().time() + decision.delay
                await self.router(scope, receive, _held_until(answer_at, send_with_tracking))
                return
            if decision.delay:
                await asyncio.sleep(decision.delay)
            if decision.kind == "drop":
                await _drop(scope)
                return
            if decision.kind is not None:
                status = int(decision.kind)
                extra = {"Retry-After": decision.retry_after} if decision.retry_after else {}
                await _send_error(send, status, ERROR_TEXT[status], tracking_id, extra)
                return
        await self.router(scope, receive, send_with_tracking)


def _held_until(moment: float, send: Send) -> Send:
    """``send`` that holds the answer's first message back until ``moment`` (loop time)."""

    async def held(message: Message) -> None:
        if message["type"] == "http.response.start":
            wait = moment - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
        await send(message)

    return held


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            text = bytes(value).decode("latin-1").strip()
            if text[:7].lower() == "bearer " and text[7:].strip():
                return text[7:].strip()
            return None
    return None


async def _send_error(
    send: Send,
    status: int,
    description: str,
    tracking_id: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    body = error_body(status, description, tracking_id)
    raw = [
        (b"content-type", JSON_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"trackingid", tracking_id.encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _drop(scope: Scope) -> None:
    transport = scope.get("sandbox.transport")
    if transport is None:
        # In process (httpx.ASGITransport) there is no socket to close: raise what httpx
        # raises when a real server hangs up without answering.
        import httpx

        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    transport.abort()
    # Let the protocol see connection_lost before we return, so it does not answer 500.
    for _ in range(3):
        await asyncio.sleep(0)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    tracking_id = request.scope.get("sandbox.tracking_id", "")
    return Response(
        error_body(exc.status, exc.description, tracking_id, exc.message),
        status_code=exc.status,
        media_type=JSON_TYPE,
        headers=exc.headers,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    tracking_id = request.scope.get("sandbox.tracking_id", "")
    text = ERROR_TEXT.get(exc.status_code, str(exc.detail))
    return Response(
        error_body(exc.status_code, text, tracking_id),
        status_code=exc.status_code,
        media_type=JSON_TYPE,
    )
