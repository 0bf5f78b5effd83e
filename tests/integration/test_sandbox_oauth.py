"""The sandbox's OAuth token endpoint, and the client's refresh path against a real server.

In process (starlette TestClient, fake clock): ``POST /v1/access_token``'s answer, each
refusal, expiry of minted tokens. Over a loopback socket (SandboxServer): a real
WebexClient with an OAuthToken walks a meeting's participants while its access token
expires, and a refused refresh becomes a clear error without secrets.
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from reporting.cli import main
from reporting.errors import WebexError
from reporting.logs import REDACTED, redact
from reporting.webex.auth import OAuthToken
from reporting.webex.client import WebexClient
from reporting.webex.sandbox import (
    DatasetError,
    SandboxServer,
    create_app,
    parse_integration_arg,
    parse_lifetime,
)
from reporting.webex.sandbox.app import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME
from tests.sandbox_fixtures import auth, demo, error_shape, generated

CLIENT_ID = "C0ffee0123456789abcdef"
CLIENT_SECRET = "client-secret-SECRET-0123456789"
REFRESH = "refresh-token-SECRET-0123456789"
OTHER_ID = "Cdecaf0123456789abcdef"
OTHER_SECRET = "other-secret-SECRET-0123456789"
OTHER_REFRESH = "other-refresh-SECRET-0123456789"
SECRETS = (CLIENT_SECRET, REFRESH, OTHER_SECRET, OTHER_REFRESH)
FORM = {
    "grant_type": "refresh_token",
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "refresh_token": REFRESH,
}


class Clock:
    """The sandbox's clock (monotonic seconds), moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _client(clock: Clock, faults: str | None = None, **lifetimes: float) -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    app = create_app(copy.deepcopy(demo()), faults, clock, **lifetimes)
    app.add_integration(CLIENT_ID, CLIENT_SECRET, REFRESH, "compliance")
    app.add_integration(OTHER_ID, OTHER_SECRET, OTHER_REFRESH, "host:sabine.hartmann@example.com")
    return TestClient(app, base_url="http://testserver/v1", raise_server_exceptions=True)


def _phone_participant() -> str:
    """A participant of an ended demo meeting with a dialled-in phone number."""
    ended = {m["id"] for m in demo()["meetings"] if m.get("state") == "ended"}
    for instance, records in demo()["participants"].items():
        for record in records:
            if instance in ended and any(d.get("phoneNumber") for d in record["devices"]):
                return str(record["id"])
    raise AssertionError("the demo dataset has no caller with a phone number")


# -- the endpoint, in process -------------------------------------------------------------------


def test_refresh_mints_a_token_of_the_registered_role() -> None:
    clock = Clock()
    c = _client(clock)
    r = c.post("/access_token", data=FORM)  # no Authorization header: none is needed
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store" and r.headers["trackingid"]
    body = r.json()
    assert set(body) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "token_type",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == int(ACCESS_TOKEN_LIFETIME) == 14 * 86400
    # The refresh token stays the same; its lifetime runs from its registration.
    assert body["refresh_token"] == REFRESH
    assert body["refresh_token_expires_in"] == int(REFRESH_TOKEN_LIFETIME) == 90 * 86400
    token = body["access_token"]
    assert len(token) >= 40 and token not in SECRETS
    # compliance: sees the phone numbers of an ended meeting's callers.
    view = c.get("/meetingParticipants/" + _phone_participant(), headers=auth(token))
    assert view.status_code == 200
    assert any(d.get("phoneNumber") for d in view.json()["devices"])
    # Each refresh mints another token; the earlier one keeps working until it expires.
    clock.now += 3600
    again = c.post("/access_token", data=FORM).json()
    assert again["access_token"] != token
    assert again["refresh_token_expires_in"] == int(REFRESH_TOKEN_LIFETIME) - 3600
    assert c.get("/meetings", headers=auth(token)).status_code == 200
    assert c.get("/meetings", headers=auth(again["access_token"])).status_code == 200
    assert c.app.sandbox.minted == 2


def test_a_host_integration_mints_host_tokens() -> None:
    c = _client(Clock())
    form = {**FORM, "client_id": OTHER_ID, "client_secret": OTHER_SECRET}
    form["refresh_token"] = OTHER_REFRESH
    token = c.post("/access_token", data=form).json()["access_token"]
    r = c.get(
        "/meetings",
        headers=auth(token),
        params={"meetingType": "meeting", "from": "2026-10-01", "to": "2026-11-01", "max": 100},
    )
    assert r.status_code == 200
    assert {m["hostEmail"] for m in r.json()["items"]} == {"sabine.hartmann@example.com"}
    # The caller is in one of this host's meetings; a host never sees phone numbers.
    view = c.get("/meetingParticipants/" + _phone_participant(), headers=auth(token))
    assert view.status_code == 200
    assert not any(d.get("phoneNumber") for d in view.json()["devices"])


def test_minted_tokens_expire_on_the_sandbox_clock_and_static_ones_do_not() -> None:
    clock = Clock()
    c = _client(clock, token_lifetime=0.5)
    body = c.post("/access_token", data=FORM).json()
    assert body["expires_in"] == 0  # rounded down: never more than the token has
    token = body["access_token"]
    clock.now += 0.4
    assert c.get("/meetings", headers=auth(token)).status_code == 200
    clock.now += 0.1
    expired = error_shape(c.get("/meetings", headers=auth(token)), 401)
    unknown = error_shape(c.get("/meetings", headers=auth("never-issued")), 401)
    assert expired["message"] == unknown["message"]
    assert expired["errors"] == unknown["errors"]
    assert error_shape(c.get("/meetings", headers=auth(token)), 401)  # and stays expired
    # Tokens of the dataset (and --token) never expire.
    clock.now += 365 * 86400
    assert c.get("/meetings", headers=auth("demo-admin-token")).status_code == 200


def test_an_expired_refresh_token_is_refused() -> None:
    clock = Clock()
    c = _client(clock, refresh_token_lifetime=60)
    assert c.post("/access_token", data=FORM).json()["refresh_token_expires_in"] == 60
    clock.now += 60
    body = error_shape(c.post("/access_token", data=FORM), 400)
    assert "expired" in body["errors"][0]["description"]


def _without(name: str) -> dict[str, str]:
    return {k: v for k, v in FORM.items() if k != name}


@pytest.mark.parametrize(
    ("form", "status", "says"),
    [
        ({**FORM, "client_id": "C-unknown"}, 401, "client_id or client_secret"),
        ({**FORM, "client_secret": "wrong-secret-SECRET"}, 401, "client_id or client_secret"),
        ({**FORM, "client_secret": OTHER_SECRET}, 401, "client_id or client_secret"),
        ({**FORM, "refresh_token": "wrong-refresh-SECRET"}, 400, "Invalid refresh_token"),
        ({**FORM, "refresh_token": OTHER_REFRESH}, 400, "Invalid refresh_token"),
        ({**FORM, "grant_type": "authorization_code"}, 400, "grant_type"),
        ({**FORM, "grant_type": "client_credentials"}, 400, "grant_type"),
        (_without("grant_type"), 400, "grant_type parameter is required"),
        (_without("client_id"), 400, "client_id parameter is required"),
        (_without("client_secret"), 400, "client_secret parameter is required"),
        (_without("refresh_token"), 400, "refresh_token parameter is required"),
        ({**FORM, "refresh_token": ""}, 400, "refresh_token parameter is required"),
    ],
)
def test_each_refusal_in_webex_error_shape_without_secrets(
    form: dict[str, str], status: int, says: str
) -> None:
    c = _client(Clock())
    r = c.post("/access_token", data=form)
    body = error_shape(r, status)
    assert says in body["errors"][0]["description"]
    assert body["message"] == body["errors"][0]["description"]
    for secret in (*SECRETS, "wrong-secret-SECRET", "wrong-refresh-SECRET"):
        assert secret not in r.text
    assert c.app.sandbox.minted == 0


def test_a_body_that_is_not_form_encoded_is_refused() -> None:
    c = _client(Clock())
    body = error_shape(c.post("/access_token", json=FORM), 400)
    assert "form-encoded" in body["errors"][0]["description"]
    body = error_shape(
        c.post(
            "/access_token",
            content=b"grant_type=refresh_token&client_id=\xff",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        400,
    )
    assert "UTF-8" in body["errors"][0]["description"]
    error_shape(c.get("/access_token"), 405)  # POST only


def test_the_token_endpoint_is_not_faulted_or_rate_limited() -> None:
    # Faults and the rate limit are keyed by the bearer token, which this endpoint has not.
    c = _client(Clock(), "seed=1,500=100%,streak=50,rate=1/min")
    for _ in range(3):
        assert c.post("/access_token", data=FORM).status_code == 200
    r = c.post("/access_token", data=FORM, headers=auth("not-a-token"))
    assert r.status_code == 200  # a stray bearer token is ignored, not checked
    error_shape(c.get("/meetings", headers=auth(r.json()["access_token"])), 500)


def test_registering_integrations() -> None:
    app = create_app(copy.deepcopy(demo()))
    app.add_integration(CLIENT_ID, CLIENT_SECRET, REFRESH, "admin")
    app.add_integration(CLIENT_ID, CLIENT_SECRET, OTHER_REFRESH, "compliance")  # a second user
    assert set(app.sandbox.integrations[CLIENT_ID].grants) == {REFRESH, OTHER_REFRESH}
    assert CLIENT_SECRET not in repr(app.sandbox.integrations[CLIENT_ID])
    with pytest.raises(DatasetError, match="another client secret") as info:
        app.add_integration(CLIENT_ID, "not-the-secret", "r3", "admin")
    assert "not-the-secret" not in str(info.value)
    with pytest.raises(DatasetError):
        app.add_integration(OTHER_ID, OTHER_SECRET, OTHER_REFRESH, "superuser")
    with pytest.raises(DatasetError):
        app.add_integration(OTHER_ID, "", OTHER_REFRESH, "admin")


# -- the command line's arguments -------------------------------------------------------------


def test_integration_and_lifetime_arguments() -> None:
    assert parse_integration_arg(f"{CLIENT_ID}:{CLIENT_SECRET}:{REFRESH}:host:a@example.com") == (
        CLIENT_ID,
        CLIENT_SECRET,
        REFRESH,
        "host:a@example.com",
    )
    for bad in (f"{CLIENT_ID}:{CLIENT_SECRET}:{REFRESH}", f"{CLIENT_ID}::{REFRESH}:admin", REFRESH):
        with pytest.raises(DatasetError, match="CLIENT_ID:CLIENT_SECRET") as info:
            parse_integration_arg(bad)
        assert CLIENT_SECRET[:8] not in str(info.value) and REFRESH[:8] not in str(info.value)
    assert parse_lifetime("14d") == ACCESS_TOKEN_LIFETIME
    assert parse_lifetime("500ms") == 0.5
    assert parse_lifetime("30") == parse_lifetime("30s") == 30
    assert parse_lifetime("15m") == 900 and parse_lifetime("2h") == 7200
    for bad in ("0", "0s", "-5", "soon", "5w", ""):
        with pytest.raises(DatasetError, match="token-lifetime"):
            parse_lifetime(bad)


@pytest.mark.parametrize(
    "args",
    [
        ["--integration", REFRESH],
        ["--integration", f"{CLIENT_ID}:{CLIENT_SECRET}:{REFRESH}:superuser"],
        ["--token-lifetime", "0"],
    ],
)
def test_serve_refuses_bad_arguments_before_serving(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["sandbox", "serve", "--port", "1", *args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert CLIENT_SECRET not in result.output and REFRESH not in result.output


# -- end to end: WebexClient + OAuthToken against a real server ---------------------------------


@pytest.fixture(scope="module")
def walk_data() -> dict[str, Any]:
    return generated(3, 60, 5)


def _ended_instance(data: dict[str, Any]) -> str:
    return next(
        m["id"]
        for m in data["meetings"]
        if m["meetingType"] == "meeting"
        and m["state"] == "ended"
        and len(data["participants"].get(m["id"], [])) >= 60
    )


async def _walk(
    server: SandboxServer, tokens: OAuthToken, meeting_id: str, clock: Clock, expire_after: int
) -> tuple[list[dict[str, Any]], int, WebexClient]:
    """Every participant, page by page; after page ``expire_after`` the sandbox clock jumps
    past the access token's lifetime (the client, on its own clock, does not know)."""
    items: list[dict[str, Any]] = []
    pages = 0
    client = WebexClient(server.base_url, tokens, requests_per_minute=None, max_retries=0)
    async with client:
        async for page in client.pages(
            "meetingParticipants", {"meetingId": meeting_id, "max": 10}, what="walk"
        ):
            assert page.items is not None
            items += page.items
            pages += 1
            if pages == expire_after:
                clock.now += server.app.sandbox.token_lifetime
    return items, pages, client


LIFETIME = 600.0  # sandbox seconds: past the client's 120 s refresh margin, so it trusts it


def test_a_walk_without_a_token_refreshes_first_and_again_when_it_expires_midway(
    walk_data: dict[str, Any],
) -> None:
    clock = Clock()
    meeting_id = _ended_instance(walk_data)
    expected = walk_data["participants"][meeting_id]
    with SandboxServer(
        walk_data,
        faults="rate=off",
        clock=clock,
        token_lifetime=LIFETIME,
        integrations=[(CLIENT_ID, CLIENT_SECRET, REFRESH, "compliance")],
    ) as server:
        tokens = OAuthToken(CLIENT_ID, CLIENT_SECRET, REFRESH)  # no access token at the start
        items, pages, client = asyncio.run(_walk(server, tokens, meeting_id, clock, 2))
        minted = list(server.app.sandbox.expiry)
        sandbox = server.app.sandbox
        assert sandbox.minted == 2
    assert pages == -(-len(expected) // 10) >= 4
    # One refresh before the first request, one when page 3 drew a 401 mid-walk.
    assert tokens.refreshes == 2 and client.stats.token_refreshes == 2
    assert client.stats.requests == pages + 1  # page 3 was asked twice
    assert sorted(p["id"] for p in items) == sorted(p["id"] for p in expected)
    assert len({p["id"] for p in items}) == len(items)
    # compliance: the phone numbers came through with the minted tokens
    assert any(d.get("phoneNumber") for p in items for d in p.get("devices", []))
    # Every token minted during the run is registered for log redaction.
    assert len(minted) == 1  # the first one expired and was dropped; the second is live
    issued = [s for s in tokens.new_secrets if s != REFRESH]
    assert len(issued) == 2 and minted[0] == issued[-1]
    for secret in issued:
        assert redact(f"sent {secret}") == f"sent {REDACTED}"


def test_a_walk_with_a_token_of_unknown_age_refreshes_once_on_the_401(
    walk_data: dict[str, Any],
) -> None:
    # As a run with webex.oauth and an access token in WEBEX_TOKEN starts: its expiry is
    # unknown, so the client uses it until a 401 says it has expired.
    clock = Clock()
    meeting_id = _ended_instance(walk_data)
    expected = walk_data["participants"][meeting_id]
    with SandboxServer(
        walk_data,
        faults="rate=off",
        clock=clock,
        token_lifetime=LIFETIME,
        integrations=[(CLIENT_ID, CLIENT_SECRET, REFRESH, "admin")],
    ) as server:
        first = httpx.post(server.base_url + "/access_token", data=FORM, timeout=10)
        assert first.status_code == 200
        tokens = OAuthToken(
            CLIENT_ID, CLIENT_SECRET, REFRESH, access_token=first.json()["access_token"]
        )
        items, pages, client = asyncio.run(_walk(server, tokens, meeting_id, clock, 3))
    assert tokens.refreshes == 1 and client.stats.token_refreshes == 1
    assert client.stats.requests == pages + 1
    assert sorted(p["id"] for p in items) == sorted(p["id"] for p in expected)
    # admin: no phone numbers
    assert not any(d.get("phoneNumber") for p in items for d in p.get("devices", []))
    (fresh,) = [s for s in tokens.new_secrets if s != REFRESH]
    assert redact(fresh) == REDACTED


@pytest.mark.parametrize(
    ("client_secret", "refresh_token", "status"),
    [(CLIENT_SECRET, "wrong-refresh-SECRET", 400), ("wrong-secret-SECRET", REFRESH, 401)],
)
def test_a_refused_refresh_is_a_clear_error_without_secrets(
    walk_data: dict[str, Any], client_secret: str, refresh_token: str, status: int
) -> None:
    meeting_id = _ended_instance(walk_data)
    with SandboxServer(
        walk_data, faults="rate=off", integrations=[(CLIENT_ID, CLIENT_SECRET, REFRESH, "admin")]
    ) as server:
        tokens = OAuthToken(CLIENT_ID, client_secret, refresh_token)
        with pytest.raises(WebexError) as info:
            asyncio.run(_walk(server, tokens, meeting_id, Clock(), 0))
        assert server.app.sandbox.minted == 0
    error = info.value
    text = f"{error} {error.hint} {error!r}"
    assert "could not refresh the Webex OAuth access token" in str(error)
    assert f"POST {server.base_url}/access_token answered {status}" in str(error)
    assert "refresh token" in (error.hint or "")
    for secret in (*SECRETS, client_secret, refresh_token):
        assert secret not in text
    assert error.__cause__ is None and error.__context__ is None
    assert tokens.refreshes == 0


# -- the in-process sandbox of `base_url: sandbox` -------------------------------------------


def test_base_url_sandbox_registers_the_configured_integration(tmp_path: Path) -> None:
    from reporting.config import load_config
    from reporting.connection import webex_endpoint
    from reporting.errors import ConfigError

    config_file = tmp_path / "oauth.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "timezone": "Europe/Berlin",
                "meetings": [{"id": "d75df7ee5c1faa9f52135cb13ccc38b7"}],
                "webex": {
                    "base_url": "sandbox",
                    "sandbox_dataset": str(Path(__file__).parents[2] / "samples/demo-dataset.json"),
                    "sandbox_role": "admin",
                    "oauth": {
                        "client_id_env": "T_ID",
                        "client_secret_env": "T_SECRET",
                        "refresh_token_env": "T_REFRESH",
                    },
                },
            }
        )
    )
    config = load_config(config_file)
    env = {"T_ID": CLIENT_ID, "T_SECRET": CLIENT_SECRET, "T_REFRESH": REFRESH}
    with webex_endpoint(config, env) as endpoint:
        # No token: the client obtains its own by refresh.
        assert endpoint.credentials.token is None
        base_url = endpoint.base_url
        r = httpx.post(base_url + "/access_token", data=FORM, timeout=10)
        assert r.status_code == 200
        meetings = httpx.get(
            base_url + "/meetings/d75df7ee5c1faa9f52135cb13ccc38b7",
            headers=auth(r.json()["access_token"]),
            timeout=10,
        )
        assert meetings.status_code == 200
    # An integration whose values are not all set is named before anything starts (the
    # client could not have refreshed with it).
    missing = r"T_ID is not set \(webex.oauth.client_id_env in "
    with pytest.raises(ConfigError, match=missing), webex_endpoint(config, {}):
        pass
