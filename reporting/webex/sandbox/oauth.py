"""``POST /v1/access_token``: an OAuth integration trades its refresh token for an access
token (the reading of the documentation is in `reporting.webex.sandbox.app`)."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from reporting.webex.sandbox.conventions import FORM_TYPE, JSON_TYPE, ApiError, _json
from reporting.webex.sandbox.state import Sandbox


async def access_token(request: Request) -> Response:
    """``POST /access_token``: an integration trades its refresh token for an access token."""
    sandbox: Sandbox = request.app.state.sandbox
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != FORM_TYPE:
        raise ApiError(400, f"The request body must be form-encoded ({FORM_TYPE}).")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "The request body is not valid UTF-8.") from None
    form: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        form.setdefault(key, value)
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise ApiError(400, "The grant_type parameter is required.")
    if grant_type != "refresh_token":
        raise ApiError(
            400, f"Unsupported grant_type '{grant_type[:40]}': the sandbox accepts refresh_token."
        )
    for name in ("client_id", "client_secret", "refresh_token"):
        if not form.get(name):
            raise ApiError(400, f"The {name} parameter is required.")
    integration = sandbox.integrations.get(form["client_id"])
    if integration is None or not hmac.compare_digest(
        integration.client_secret.encode(), form["client_secret"].encode()
    ):
        # Not the standard 401 text, which speaks of the Authorization header.
        text = "Invalid client_id or client_secret."
        raise ApiError(401, text, message=text)
    refresh_token = form["refresh_token"]
    grant = integration.grants.get(refresh_token)
    if grant is None:
        raise ApiError(400, "Invalid refresh_token for this client_id.")
    remaining = grant.expires_at - sandbox.clock()
    if remaining <= 0:
        raise ApiError(400, "The refresh_token has expired; the user must authorise again.")
    token, lifetime = sandbox.mint(grant.role)
    body = {
        "access_token": token,
        "expires_in": int(lifetime),
        "refresh_token": refresh_token,
        "refresh_token_expires_in": int(remaining),
        "token_type": "Bearer",
    }
    # RFC 6749 section 5.1: a response carrying tokens must not be cached.
    return _json(body, JSON_TYPE, {"Cache-Control": "no-store", "Pragma": "no-cache"})
