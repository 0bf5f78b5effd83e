"""The Webex endpoint a run talks to: the configured API, or the bundled sandbox.

`run` and `check --online` both open it here, so the two never differ in where they ask
or with what credentials. With ``base_url: sandbox`` the simulator is started on a free
loopback port for as long as the endpoint is open: it accepts the token of
``webex.token_env`` (or, without one, a token minted for the run) with the role
``webex.sandbox_role``, and registers the integration of ``webex.oauth`` when the config
names one, so the run's client refreshes its token against the simulator.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from reporting.config import SANDBOX, Config, WebexCredentials, webex_credentials
from reporting.errors import ConfigError
from reporting.logs import register_secret
from reporting.webex.client import WebexClient

__all__ = ["Endpoint", "webex_endpoint"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """Where the run's client connects, and what it authenticates with."""

    base_url: str
    credentials: WebexCredentials

    def client(self, config: Config, **overrides: Any) -> WebexClient:
        """The run's client for this endpoint (use as ``async with``)."""
        return WebexClient.from_config(config, self.base_url, self.credentials, **overrides)


@contextmanager
def webex_endpoint(config: Config, env: Mapping[str, str]) -> Iterator[Endpoint]:
    """The endpoint of ``config``, its credentials read from ``env`` (and kept out of the
    logs); a sandbox is stopped when the block ends."""
    credentials = webex_credentials(config, env)
    _keep_out_of_logs(credentials)
    if config.webex.base_url != SANDBOX:
        yield Endpoint(config.webex.base_url, credentials)
        return
    with _sandbox(config, credentials) as endpoint:
        yield endpoint


@contextmanager
def _sandbox(config: Config, credentials: WebexCredentials) -> Iterator[Endpoint]:
    dataset = config.webex.sandbox_dataset
    if dataset is None:
        raise ConfigError(
            f"{config.location('webex', 'base_url')}: webex.base_url is 'sandbox' but "
            "webex.sandbox_dataset is not set",
            hint="point webex.sandbox_dataset at a dataset file, e.g. samples/demo-dataset.json",
        )
    from reporting.webex.sandbox import SandboxServer

    role = config.webex.sandbox_role
    oauth = credentials.oauth
    token = credentials.token
    if oauth is None and token is None:
        # The demo works on a fresh machine: a token of the configured role, for this run.
        token = secrets.token_urlsafe(24)
        register_secret(token)
    with SandboxServer(dataset) as sandbox:
        if oauth is not None:
            sandbox.add_integration(oauth.client_id, oauth.client_secret, oauth.refresh_token, role)
        if token is not None:
            sandbox.add_token(token, role)
        log.info("using the bundled Webex sandbox at %s", sandbox.base_url)
        yield Endpoint(sandbox.base_url, credentials.with_token(token))


def _keep_out_of_logs(credentials: WebexCredentials) -> None:
    oauth = credentials.oauth
    values = [credentials.token]
    if oauth is not None:
        values += [oauth.client_secret, oauth.refresh_token]
    for value in values:
        if value:
            register_secret(value)
