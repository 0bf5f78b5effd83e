"""Shared by the evidence tests: a plain SMTP server, configs that use it, the outputs' hashes.

Real parts only: aiosmtpd on loopback (no TLS, no login: what is tested here is what is
sent, not how), the sandbox, the command line, the store.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.controller import Controller

from tests.deliver_support import Received, Recorder, attachments_of, free_port
from tests.pipeline_support import ROOT, subprocess_env, write_config


@contextmanager
def plain_smtp() -> Iterator[tuple[Recorder, int]]:
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def smtp_config(
    folder: Path,
    *,
    base_url: str,
    meetings: Sequence[str],
    reports: Sequence[Mapping[str, Any]],
    smtp_port: int,
    min_attendance: str = "80%",
    email: Mapping[str, Any] | None = None,
) -> Path:
    """A pipeline config (tests.pipeline_support.write_config) that emails over SMTP."""
    path = write_config(folder, base_url=base_url, meetings=meetings, reports=reports)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["rules"]["min_attendance"] = min_attendance
    config["email"] = {
        "from": "attendance@example.com",
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "starttls": False},
        **(email or {}),
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_folders(out: Path) -> dict[str, Path]:
    """runs/<run_id>/ folders by run id (partial folders of killed runs left out)."""
    runs = out / "runs"
    if not runs.is_dir():
        return {}
    return {p.name: p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")}


def folder_hashes(folder: Path) -> dict[str, str]:
    return {p.name: sha256(p.read_bytes()) for p in folder.iterdir() if p.is_file()}


def ledger(store: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM ledger ORDER BY id")]
    finally:
        conn.close()


def pdf_attachments(received: Sequence[Received]) -> list[tuple[Received, str, bytes]]:
    """(message, file name, bytes) of every PDF attached to every message received."""
    out = []
    for item in received:
        for name, data in attachments_of(item.message).items():
            out.append((item, name, data))
    return out


# Runs `attendance ARGS` in a process of its own, with one function replaced by one that
# SIGKILLs the process at a chosen moment: the kill lands exactly at that point of the
# run, with no cleanup, no exception handler and no finally block running.
KILL_DRIVER = r"""
import os, signal, sys, importlib
point, args = sys.argv[1], sys.argv[2:]
calls = {"n": 0}

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

def patch(module, owner, name, *, before=False, after_calls=1):
    mod = importlib.import_module(module)
    target = getattr(mod, owner) if owner else mod
    original = getattr(target, name)
    def wrapper(*a, **k):
        calls["n"] += 1
        if before and calls["n"] >= after_calls:
            kill()
        result = original(*a, **k)
        if not before and calls["n"] >= after_calls:
            kill()
        return result
    setattr(target, name, wrapper)

if point == "fetch":  # two participant pages stored, the walk not finished
    patch("reporting.store", "Store", "add_page", after_calls=2)
elif point == "render":  # the CSVs written, the first report not yet
    patch("reporting.render.formats", "ReportFormat", "renderer", before=True)
elif point == "manifest":  # the manifest written, the run's folder not yet final
    patch("reporting.pipeline", None, "write_manifest")
elif point == "publish":  # the run's folder final, the top folder half replaced
    patch("reporting.run_folder", None, "_copy", after_calls=2)
elif point == "send":  # the server accepted the message; its answer not yet recorded
    patch("reporting.delivery.transport", "SmtpTransport", "send")
else:
    raise SystemExit(f"unknown kill point {point}")

from reporting.cli import main
main(args)
"""


def run_killed(point: str, *args: str, token: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILL_DRIVER, point, *args],
        cwd=ROOT,
        env=subprocess_env(token),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
