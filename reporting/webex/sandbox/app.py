"""The ASGI app: Webex's meetings and participants endpoints over a dataset.

Routes (all under ``/v1``): ``GET /meetingParticipants``, ``GET /meetingParticipants/{id}``,
``GET /meetings``, ``GET /meetings/{meetingId}``, ``GET /meetingInvitees`` and
``GET /meetings/{meetingId}/registrants`` (see `people`), and ``POST /access_token`` (an OAuth
integration refreshes its access token). A raw ASGI front layer does what every Webex
endpoint does before routing: ``TrackingId``, bearer-token authentication, the per-token
rate limit and fault injection (see `faults`). Starlette routes the rest.

OAuth integrations (``Sandbox.add_integration``): each is a client id, its client secret
and the refresh tokens it may present, each refresh token with the role of the user who
granted it. ``POST /v1/access_token`` (form-encoded ``grant_type=refresh_token``,
``client_id``, ``client_secret``, ``refresh_token``) mints a new access token with that role
and answers ``{"access_token", "expires_in", "refresh_token", "refresh_token_expires_in",
"token_type": "Bearer"}``. How the documentation is read there:

- The token endpoint authenticates the integration by its form fields, so it is answered
  without a bearer token, and neither the per-token rate limit nor fault injection (both
  keyed by the bearer token) applies to it.
- A minted access token lives ``token_lifetime`` seconds (default 14 days) on the sandbox's
  clock; once expired it draws 401, exactly like an unknown token. ``expires_in`` is that
  lifetime rounded down to whole seconds, so it never promises more than the token has.
  An earlier access token keeps working until its own expiry.
- A refresh token lives ``refresh_token_lifetime`` seconds (default 90 days) from its
  registration; refreshing neither replaces nor extends it: the answer returns the same
  refresh token and its remaining lifetime.
- Unknown ``client_id`` or a wrong ``client_secret`` → 401; a missing field, an unsupported
  ``grant_type`` (only ``refresh_token`` is simulated), a body that is not form-encoded, or
  a refresh token unknown to the integration or expired → 400. No error text repeats a
  secret.
- Tokens from the dataset or ``add_token`` never expire, as before.

How the reference page's rules are read where it is vague:

- ``meetingStartTimeFrom``/``To`` apply to series and scheduled-meeting ids only and only
  when at least one is given (the page's "both absent" default, ``to`` = now − 1 month,
  would make a bare series id return nothing, contradicting "returns the last instance");
  a missing one is derived from the other (``from`` = ``to`` − 1 month; ``to`` = the
  earlier of ``from`` + 1 month and now). Both bounds are exclusive.
- ``joinTimeFrom``/``To`` filter on the participant's ``joinedTime`` only when at least one
  is given; a participant whose join time is unknown does not match a join-time filter.
- A series or scheduled-meeting id with no ended or in-progress instance (in range) → 404.
- ``hostEmail`` from a host token is refused (403) unless it is the host's own address;
  from an admin or compliance token it restricts to meetings that user hosts (404 if not).
- Personal-room refusal: a series or scheduled-meeting id whose ``scheduledType`` is
  ``personalRoomMeeting`` → 400; instance ids of personal-room meetings are served.
- ``breakoutSessionId`` on an in-progress instance → 400; unknown on an ended one → empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from reporting.webex.sandbox.dataset import Index, build_index
from reporting.webex.sandbox.faults import FaultSpec, parse_faults
from reporting.webex.sandbox.front import ACCESS_TOKEN_PATH, SandboxApp, Scope
from reporting.webex.sandbox.state import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME, Sandbox

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "ACCESS_TOKEN_PATH",
    "REFRESH_TOKEN_LIFETIME",
    "Sandbox",
    "SandboxApp",
    "Scope",
    "create_app",
]


def create_app(
    dataset: Mapping[str, Any] | Index,
    faults: FaultSpec | str | None = None,
    clock: Callable[[], float] | None = None,
    *,
    token_lifetime: float = ACCESS_TOKEN_LIFETIME,
    refresh_token_lifetime: float = REFRESH_TOKEN_LIFETIME,
) -> SandboxApp:
    """The sandbox as an ASGI app; ``faults`` None uses the dataset's own ``faults`` key.

    ``clock`` (monotonic seconds) drives the rate limiter and token expiry; tests pass a
    fake one. ``token_lifetime`` / ``refresh_token_lifetime``: seconds an access token
    minted by ``POST /access_token`` / a registered refresh token lives.
    """
    index = dataset if isinstance(dataset, Index) else build_index(dataset)
    if isinstance(faults, FaultSpec):
        spec = faults
    else:
        spec = parse_faults(faults if faults is not None else index.faults)
    sandbox = Sandbox(
        index,
        spec,
        clock or time.monotonic,
        token_lifetime=token_lifetime,
        refresh_token_lifetime=refresh_token_lifetime,
    )
    return SandboxApp(sandbox)
