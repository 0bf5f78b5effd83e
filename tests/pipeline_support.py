"""Shared by the pipeline acceptance tests (tests/integration/test_pipeline_*.py).

Everything here is a real part: a generated sandbox dataset saved as JSON, the sandbox on
a loopback socket, a config file written next to it, the `attendance` command line (in
process through click's CliRunner, or as a subprocess), and the SQLite store it writes.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from reporting.cli import main
from reporting.webex.sandbox import generate_dataset, save_dataset

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-09"  # generate_dataset's meetings start on 2026-09-07
TOKEN_ENV = "ATTENDANCE_PIPELINE_TEST_TOKEN"
CSVS = ("attendance.csv", "devices.csv", "courses.csv")


@lru_cache(maxsize=8)
def _generated(meetings: int, participants: int, seed: int) -> dict[str, Any]:
    return generate_dataset(meetings, participants, seed)


def dataset_file(
    folder: Path, *, meetings: int = 6, participants: int = 30, seed: int = 11
) -> Path:
    """A generated dataset saved as JSON in ``folder``."""
    path = folder / f"dataset-{meetings}x{participants}-{seed}.json"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        save_dataset(_generated(meetings, participants, seed), path)
    return path


def config_meetings(meetings: int = 6, participants: int = 30, seed: int = 11) -> list[str]:
    """Config meeting ids covering the dataset: every series id, plus single instances.

    A series id expands to its *ended* instances only, so the generator's in-progress
    meeting (whose figures would depend on the wall clock) stays out of the outputs.
    """
    data = _generated(meetings, participants, seed)
    instances = [m for m in data["meetings"] if m["meetingType"] == "meeting"]
    per_series: dict[str, int] = {}
    for meeting in instances:
        per_series[meeting["meetingSeriesId"]] = per_series.get(meeting["meetingSeriesId"], 0) + 1
    ids: list[str] = []
    for meeting in instances:
        series = meeting["meetingSeriesId"]
        if per_series[series] > 1:
            if series not in ids:
                ids.append(series)
        elif meeting["state"] == "ended":
            ids.append(meeting["id"])
    return ids


def participant_pages(meetings: int, participants: int, seed: int, page_max: int = 100) -> int:
    """How many participant pages the ended instances in `config_meetings` take."""
    data = _generated(meetings, participants, seed)
    ended = {m["id"] for m in data["meetings"] if m.get("state") == "ended"}
    return sum(
        -(-len(records) // page_max) or 1
        for instance, records in data["participants"].items()
        if instance in ended
    )


def write_config(
    folder: Path,
    *,
    base_url: str,
    meetings: Sequence[str],
    name: str = "audit.yaml",
    reports: Sequence[Mapping[str, Any]] = (),
    email: bool = False,
    store: str = "store.sqlite",
    output: str = "out",
    webex: Mapping[str, Any] | None = None,
    sandbox_dataset: Path | None = None,
) -> Path:
    """A config file in ``folder``; paths in it are relative to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    # Client-side pacing (300/min by default) is not what these tests are about; lifting
    # it keeps them fast. A test may set it back through ``webex``.
    webex_section: dict[str, Any] = {
        "base_url": base_url,
        "token_env": TOKEN_ENV,
        "requests_per_minute": 100_000,
    }
    if sandbox_dataset is not None:
        webex_section["sandbox_dataset"] = str(sandbox_dataset)
    webex_section.update(webex or {})
    config: dict[str, Any] = {
        "timezone": "Europe/Berlin",
        "period": PERIOD,
        "webex": webex_section,
        "meetings": [
            {"id": meeting_id, "course": f"course-{index}"}
            for index, meeting_id in enumerate(meetings)
        ],
        "rules": {"min_attendance": "80%"},
        "reports": [dict(r) for r in reports],
        "output": {"dir": output},
        "store": store,
    }
    if email:
        config["email"] = {"from": "attendance@example.com", "outbox": "outbox"}
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


REPORTS_PDF_XLSX: tuple[dict[str, Any], ...] = (
    {
        "name": "compliance",
        "audience": "compliance",
        "formats": ["pdf", "xlsx"],
        "email_to": ["compliance@example.com"],
    },
)


def run_cli(
    *args: str, token: str | None = None, env: Mapping[str, str | None] | None = None
) -> Result:
    """`attendance ARGS` in process; ``token`` goes into the config's token variable."""
    environment: dict[str, str | None] = {TOKEN_ENV: token}
    environment.update(env or {})
    return CliRunner().invoke(main, list(args), env=environment)


def subprocess_env(token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    env["PYTHONPATH"] = str(ROOT)
    if token is not None:
        env[TOKEN_ENV] = token
    return env


def run_subprocess(
    *args: str, token: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m reporting ARGS` in a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "reporting", *args],
        cwd=ROOT,
        env=subprocess_env(token),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def csv_bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in CSVS}


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def readonly(store: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True, timeout=5)


def store_rows(store: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    conn = readonly(store)
    try:
        return list(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def every_store_value(store: Path) -> list[tuple[str, bytes]]:
    """(table, value as bytes) for every cell of every table of the store."""
    conn = readonly(store)
    try:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        out: list[tuple[str, bytes]] = []
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if value is None:
                        continue
                    raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
                    out.append((table, raw))
        return out
    finally:
        conn.close()


@dataclass(frozen=True)
class Blob:
    where: str
    data: bytes


def file_blobs(path: Path) -> list[Blob]:
    """A file's bytes, plus what a reader sees inside it (unzipped XLSX, PDF streams)."""
    data = path.read_bytes()
    blobs = [Blob(str(path), data)]
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            blobs += [Blob(f"{path}!{n}", book.read(n)) for n in book.namelist()]
    elif path.suffix == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(path)
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        blobs.append(Blob(f"{path}#text", text.encode("utf-8")))
        blobs.append(Blob(f"{path}#metadata", repr(reader.metadata).encode("utf-8")))
        numbers = set(reader.xref_objStm)
        for table in reader.xref.values():
            numbers |= set(table)
        for number in sorted(numbers):
            try:
                obj = reader.get_object(number)
            except Exception:  # a free or broken entry
                continue
            get_data = getattr(obj, "get_data", None)
            if get_data is None:
                continue
            try:
                blobs.append(Blob(f"{path}#obj{number}", get_data()))
            except Exception:  # an undecodable stream (e.g. an image)
                continue
    return blobs


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


# -- three runs with reports, shared by the exit-code and token-hygiene tests ------------------
#
# Rendering PDFs is the slow part of a run, so the runs that need them are made once per
# test process and read by both modules.

SECRET_TOKEN = "Zq7xK2pL9wR4-attendance-pipeline-secret-Vb8nM3cT6yH1"
WRONG_TOKEN = "Jd5sF8gH2kL0-attendance-pipeline-wrong-Qw3eR7tY1uI4"
UNKNOWN_MEETING = "0badc0de0badc0de0badc0de0badc0de_I_123456789012345678"
REPORTED_SHAPE = {"meetings": 6, "participants": 30, "seed": 11}


@dataclass(frozen=True)
class ReportedRun:
    name: str
    folder: Path
    config: Path
    exit_code: int
    stdout: str
    stderr: str

    @property
    def out(self) -> Path:
        return self.folder / "out"

    @property
    def store(self) -> Path:
        return self.folder / "store.sqlite"

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"


_reported: dict[str, ReportedRun] = {}


def reported_runs(root: Path) -> dict[str, ReportedRun]:
    """`ok`, `missing_meeting` (one config id unknown: 404) and `bad_token` (401).

    Each run has its own folder, store, outputs (a PDF and a workbook) and outbox, and
    logs at ``-v`` as JSON lines. Made once per process; ``root`` must outlive the tests.
    """
    if _reported:
        return _reported
    from reporting.webex.sandbox import SandboxServer

    dataset = dataset_file(root, **REPORTED_SHAPE)
    meetings = config_meetings(**REPORTED_SHAPE)
    plans = {
        "ok": (meetings, SECRET_TOKEN),
        "missing_meeting": ([*meetings[:1], UNKNOWN_MEETING, *meetings[1:]], SECRET_TOKEN),
        "bad_token": (meetings, WRONG_TOKEN),
    }
    with SandboxServer(dataset, tokens={SECRET_TOKEN: "compliance"}) as sandbox:
        for name, (ids, token) in plans.items():
            folder = root / name
            config = write_config(
                folder,
                base_url=sandbox.base_url,
                meetings=ids,
                reports=REPORTS_PDF_XLSX,
                email=True,
                webex={"requests_per_minute": 100_000, "max_retries": 1},
            )
            result = run_cli("run", str(config), "-v", "--log-format", "json", token=token)
            _reported[name] = ReportedRun(
                name, folder, config, result.exit_code, result.stdout, result.stderr
            )
    return _reported


def eml_blobs(path: Path) -> list[Blob]:
    """An .eml file's bytes and every MIME part decoded."""
    import email
    from email import policy

    data = path.read_bytes()
    blobs = [Blob(str(path), data)]
    message = email.message_from_bytes(data, policy=policy.default)
    for number, part in enumerate(message.walk()):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            blobs.append(Blob(f"{path}#part{number}", payload))
    return blobs
