"""One run at a time per store: a second run exits at once naming the first, and with a
slow real SMTP server every recipient still gets exactly one message."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller

from reporting.run_lock import RunLockError, lock_path, run_lock
from reporting.webex.sandbox import SandboxServer
from tests.deliver_support import free_port, parse
from tests.pipeline_support import (
    ROOT,
    config_meetings,
    dataset_file,
    run_cli,
    subprocess_env,
    write_config,
)

TOKEN = "run-lock-token"
RECIPIENTS = ("compliance@example.com", "lead-a@example.com", "lead-b@example.com")


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    store = tmp_path / ".attendance" / "store.sqlite"
    with run_lock(store, run_id="abc123"):
        with pytest.raises(RunLockError) as caught, run_lock(store):
            pass
        message = str(caught.value)
        assert f"(pid {os.getpid()}, started " in message
        assert "run abc123" in message
        assert str(store) in message
        assert caught.value.exit_code == 1
    with run_lock(store):  # released when the block ended
        pass
    assert lock_path(store).read_text().startswith("{")


def test_the_lock_is_per_store_whatever_path_reaches_it(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with (
        run_lock(tmp_path / "real" / "s.sqlite"),
        pytest.raises(RunLockError),
        run_lock(tmp_path / "link" / "s.sqlite"),
    ):
        pass
    with run_lock(tmp_path / "real" / "s.sqlite"), run_lock(tmp_path / "real" / "other.sqlite"):
        pass  # another store is another lock


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    script = (
        "import sys, time; from pathlib import Path; from reporting.run_lock import run_lock\n"
        "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(store)],
        cwd=ROOT,
        env=subprocess_env(None),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockError, match=rf"pid {holder.pid}, started"), run_lock(store):
            pass
    finally:
        holder.kill()
        holder.wait()
    with run_lock(store):
        pass


def test_dry_run_and_check_do_not_need_the_lock(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path, meetings=2, participants=5)
    config = write_config(tmp_path, base_url="sandbox", meetings=config_meetings(2, 5),
                          sandbox_dataset=dataset)  # fmt: skip
    with run_lock(tmp_path / "store.sqlite"):
        assert run_cli("check", str(config)).exit_code == 0
        dry = run_cli("run", str(config), "--dry-run")
        assert dry.exit_code == 0, dry.output
        held = run_cli("run", str(config), "--no-email")
        assert held.exit_code == 1
        assert "another run of this store is in progress" in held.output
        assert "Traceback" not in held.output
    assert not (tmp_path / "out").exists()  # the refused run wrote nothing


def test_a_store_being_created_by_the_holder_is_not_called_empty(tmp_path: Path) -> None:
    # The first run of a config creates its store under the lock: for a moment the file
    # is there with 0 bytes. A second run must name the first, not refuse an "empty" store.
    dataset = dataset_file(tmp_path, meetings=2, participants=5)
    config = write_config(tmp_path, base_url="sandbox", meetings=config_meetings(2, 5),
                          sandbox_dataset=dataset)  # fmt: skip
    with run_lock(tmp_path / "store.sqlite"):
        (tmp_path / "store.sqlite").write_bytes(b"")
        held = run_cli("run", str(config), "--no-email")
    assert held.exit_code == 1
    assert "another run of this store is in progress" in held.output, held.output


class SlowRecorder:
    """aiosmtpd handler taking `delay` seconds per message (a slow relay), keeping each."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 2.0.0 queued"


def test_two_runs_started_together_one_runs_one_exits_naming_it(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path, meetings=2, participants=5)
    handler = SlowRecorder(delay=2.0)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox:
            config = write_config(
                tmp_path,
                base_url=sandbox.base_url,
                meetings=config_meetings(2, 5),
                reports=(
                    {"name": "compliance", "audience": "compliance", "formats": ["xlsx"],
                     "email_to": [RECIPIENTS[0]]},
                    {"name": "managers", "audience": "summary", "formats": ["xlsx"],
                     "email_to": list(RECIPIENTS[1:])},
                ),
            )  # fmt: skip
            data = yaml.safe_load(config.read_text())
            data["email"] = {
                "from": "attendance@example.com",
                "smtp": {"host": "127.0.0.1", "port": port, "starttls": False},
            }
            config.write_text(yaml.safe_dump(data, sort_keys=False))

            command = [sys.executable, "-m", "reporting", "run", str(config)]
            env = subprocess_env(TOKEN)
            started = time.monotonic()
            runs = [
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
                for _ in range(2)
            ]  # fmt: skip
            ended: dict[int, float] = {}
            outputs: dict[int, tuple[str, str]] = {}
            while len(ended) < 2:
                for proc in runs:
                    if proc.pid not in ended and proc.poll() is not None:
                        ended[proc.pid] = time.monotonic() - started
                        outputs[proc.pid] = proc.communicate()
                time.sleep(0.05)
                assert time.monotonic() - started < 180
    finally:
        controller.stop()

    codes = {proc.pid: proc.returncode for proc in runs}
    assert sorted(codes.values()) == [0, 1], outputs
    winner = next(pid for pid, code in codes.items() if code == 0)
    loser = next(pid for pid, code in codes.items() if code == 1)
    loser_err = outputs[loser][1]
    assert re.search(
        rf"^error: another run of this store is in progress \(pid {winner}, started "
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00, run [0-9a-f]{12}\)",
        loser_err,
    ), loser_err
    assert "Traceback" not in loser_err
    assert len(loser_err.strip().splitlines()) == 1
    # "At once": the loser was done while the winner was still sending (2 s a message).
    assert ended[loser] < ended[winner] - 2.0, ended
    received = [rcpt for rcpts, _ in handler.messages for rcpt in rcpts]
    assert sorted(received) == sorted(RECIPIENTS)
    subjects = {str(parse(content)["X-Attendance-Report"]) for _, content in handler.messages}
    assert subjects == {"compliance", "managers"}
