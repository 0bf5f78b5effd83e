"""Running the sandbox on uvicorn: `serve` (foreground, the CLI) and `SandboxServer`."""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from reporting.errors import AttendanceError
from reporting.webex.sandbox.app import (
    ACCESS_TOKEN_LIFETIME,
    REFRESH_TOKEN_LIFETIME,
    SandboxApp,
    Scope,
    create_app,
)
from reporting.webex.sandbox.dataset import DatasetError, Index, build_index, load_dataset
from reporting.webex.sandbox.faults import FaultSpec, duration_seconds


def _dropping(protocol: type[Any]) -> type[Any]:
    """uvicorn's ``protocol`` that lets the app close its connection without answering."""

    class Dropping(protocol):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            inner: Any = self.app  # type: ignore[has-type]

            async def with_transport(scope: Scope, receive: Any, send: Any) -> None:
                scope["sandbox.transport"] = transport
                await inner(scope, receive, send)

            self.app = with_transport

    return Dropping


def _protocol() -> type[Any]:
    """httptools' parser (C) where it is installed, else h11's (pure Python): the sandbox
    shares the machine's cores with the client it serves, so its cost per request counts."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools is a dependency
        return _dropping(H11Protocol)
    return _dropping(HttpToolsProtocol)


def _index(dataset: Path | str | Mapping[str, Any] | Index) -> Index:
    if isinstance(dataset, Index):
        return dataset
    if isinstance(dataset, Mapping):
        return build_index(dataset)
    return build_index(load_dataset(dataset))


def _parse_token_arg(text: str) -> tuple[str, str]:
    token, sep, role = text.partition(":")
    if not sep or not token or not role:
        raise DatasetError(
            f"--token {text[:4]}…: expected TOKEN:ROLE",
            hint="role: admin, compliance or host:EMAIL",
        )
    return token, role


def parse_integration_arg(text: str) -> tuple[str, str, str, str]:
    """``CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN:ROLE`` → its four parts; ROLE may hold a colon."""
    parts = text.split(":", 3)
    if len(parts) != 4 or not all(parts):
        # At most the client id is shown (when there is a colon to tell it from the rest):
        # everything after it is secret.
        shown = f" {parts[0][:12]}…" if len(parts) > 1 and parts[0] else ""
        raise DatasetError(
            f"--integration{shown}: expected CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN:ROLE",
            hint="role: admin, compliance or host:EMAIL",
        )
    client_id, client_secret, refresh_token, role = parts
    return client_id, client_secret, refresh_token, role


def parse_lifetime(text: str) -> float:
    """``500ms``, ``30``, ``30s``, ``15m``, ``12h``, ``14d`` → seconds (more than 0)."""
    seconds = duration_seconds(text) or 0.0
    if seconds <= 0:
        raise DatasetError(
            f"--token-lifetime {text[:20]}: expected a duration above zero",
            hint="seconds, or with a unit: 500ms, 30s, 15m, 12h, 14d",
        )
    return seconds


def _config(
    app: SandboxApp, host: str, port: int | None = None, sock: socket.socket | None = None
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port or 0,
        http=_protocol(),
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


def serve(
    dataset_path: Path | str,
    host: str = "127.0.0.1",
    port: int = 8765,
    faults: str | FaultSpec | None = None,
    tokens: Iterable[str] = (),
    integrations: Iterable[str] = (),
    token_lifetime: float = ACCESS_TOKEN_LIFETIME,
) -> None:
    """Serve the dataset until interrupted. ``tokens`` are ``TOKEN:ROLE`` strings,
    ``integrations`` ``CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN:ROLE`` strings; access tokens
    minted for an integration live ``token_lifetime`` seconds."""
    app = create_app(_index(dataset_path), faults, token_lifetime=token_lifetime)
    # Bound here, before anything is printed: uvicorn would log a busy port and exit 3,
    # the code that means "some meetings not fetched".
    listening = _listen(host, port)
    for entry in tokens:
        app.add_token(*_parse_token_arg(entry))
    for entry in integrations:
        app.add_integration(*parse_integration_arg(entry))
    print(f"Webex sandbox on http://{host}:{port}/v1  (dataset {dataset_path})", flush=True)
    roles: dict[str, list[str]] = {}
    for token, role in sorted(app.sandbox.tokens.items(), key=lambda kv: str(kv[1])):
        roles.setdefault(str(role), []).append(token)
    for role_name, names in roles.items():
        print(f"  role {role_name}: {len(names)} token(s), e.g. {names[0]}", flush=True)
    lifetime = f"{token_lifetime:.0f}s" if token_lifetime >= 1 else f"{token_lifetime:.3f}s"
    for client_id, integration in app.sandbox.integrations.items():
        granted = sorted({str(g.role) for g in integration.grants.values()})
        print(
            f"  integration {client_id}: {len(integration.grants)} refresh token(s), "
            f"role {', '.join(granted)}; POST /v1/access_token mints tokens living {lifetime}",
            flush=True,
        )
    spec = app.sandbox.faults
    limit = f"{spec.rate_limit}/{int(spec.rate_window)}s" if spec.rate_limit else "off"
    print(f"  rate limit per token: {limit}; faults: {faults or 'none'}", flush=True)
    uvicorn.Server(_config(app, host, port)).run(sockets=[listening])


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port), or one clean error line (exit 1)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, IndexError) as exc:
        raise AttendanceError(
            f"sandbox serve: cannot listen on {host}:{port}: {getattr(exc, 'strerror', exc)}",
            hint="give --host an address of this machine, e.g. 127.0.0.1",
        ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AttendanceError(
                f"sandbox serve: port {port} on {host} is already in use",
                hint="stop what listens there, or choose another port with --port",
            ) from None
        raise AttendanceError(
            f"sandbox serve: cannot listen on {host}:{port}: {exc.strerror}",
            hint="ports below 1024 need privileges; choose another with --port",
        ) from None
    return sock


class SandboxServer:
    """The sandbox on a free loopback port in a background thread.

    >>> with SandboxServer("samples/demo-dataset.json") as server:   # doctest: +SKIP
    ...     httpx.get(server.base_url + "/meetings", headers=...)
    """

    def __init__(
        self,
        dataset: Path | str | Mapping[str, Any] | Index,
        *,
        faults: str | FaultSpec | None = None,
        host: str = "127.0.0.1",
        tokens: Mapping[str, str] | None = None,
        integrations: Iterable[tuple[str, str, str, str]] = (),
        clock: Callable[[], float] | None = None,
        token_lifetime: float = ACCESS_TOKEN_LIFETIME,
        refresh_token_lifetime: float = REFRESH_TOKEN_LIFETIME,
    ) -> None:
        self.app = create_app(
            _index(dataset),
            faults,
            clock,
            token_lifetime=token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
        )
        for token, role in (tokens or {}).items():
            self.app.add_token(token, role)
        for client_id, client_secret, refresh_token, role in integrations:
            self.app.add_integration(client_id, client_secret, refresh_token, role)
        self.host = host
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def add_token(self, token: str, role: str) -> None:
        self.app.add_token(token, role)

    def add_integration(
        self, client_id: str, client_secret: str, refresh_token: str, role: str
    ) -> None:
        """Accept ``refresh_token`` at ``POST /v1/access_token`` (see the app's docstring)."""
        self.app.add_integration(client_id, client_secret, refresh_token, role)

    def start(self) -> SandboxServer:
        # Bind first so the port is ours before uvicorn starts (no race for a free port).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(_config(self.app, self.host, self.port))
        # uvicorn only installs signal handlers in the main thread, so none are needed here.
        self._server = server

        def run() -> None:
            asyncio.run(server.serve(sockets=[sock]))

        self._thread = threading.Thread(target=run, name="webex-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise DatasetError("the Webex sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
