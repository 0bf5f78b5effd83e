"""Running the sandbox on uvicorn: `serve` (foreground, the CLI) and `SandboxServer`."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from reporting.webex.sandbox.app import SandboxApp, Scope, create_app
from reporting.webex.sandbox.dataset import DatasetError, Index, build_index, load_dataset
from reporting.webex.sandbox.faults import FaultSpec


class _DroppingH11(H11Protocol):
    """uvicorn's h11 protocol that lets the app close its connection without answering."""

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        inner = self.app

        async def with_transport(scope: Scope, receive: Any, send: Any) -> None:
            scope["sandbox.transport"] = transport
            await inner(scope, receive, send)

        self.app = with_transport


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


def _config(
    app: SandboxApp, host: str, port: int | None = None, sock: socket.socket | None = None
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port or 0,
        http=_DroppingH11,
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
) -> None:
    """Serve the dataset until interrupted. ``tokens`` are ``TOKEN:ROLE`` strings."""
    app = create_app(_index(dataset_path), faults)
    for entry in tokens:
        app.add_token(*_parse_token_arg(entry))
    print(f"Webex sandbox on http://{host}:{port}/v1  (dataset {dataset_path})", flush=True)
    roles: dict[str, list[str]] = {}
    for token, role in sorted(app.sandbox.tokens.items(), key=lambda kv: str(kv[1])):
        roles.setdefault(str(role), []).append(token)
    for role_name, names in roles.items():
        print(f"  role {role_name}: {len(names)} token(s), e.g. {names[0]}", flush=True)
    spec = app.sandbox.faults
    limit = f"{spec.rate_limit}/{int(spec.rate_window)}s" if spec.rate_limit else "off"
    print(f"  rate limit per token: {limit}; faults: {faults or 'none'}", flush=True)
    uvicorn.Server(_config(app, host, port)).run()


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
    ) -> None:
        self.app = create_app(_index(dataset), faults)
        for token, role in (tokens or {}).items():
            self.app.add_token(token, role)
        self.host = host
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def add_token(self, token: str, role: str) -> None:
        self.app.add_token(token, role)

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
