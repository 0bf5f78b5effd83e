"""The store is never started over silently, and no message advises deleting it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reporting.errors import StoreError
from reporting.store import Store
from reporting.store_guard import store_error_hint
from tests.pipeline_support import config_meetings, dataset_file, run_cli, write_config

FORBIDDEN = ("remove", "delete", "rm ")


def _says_keep(text: str) -> None:
    lowered = text.lower()
    assert not any(word in lowered for word in FORBIDDEN), text


def test_an_empty_store_is_refused_then_taken_with_new_store(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"")
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    message = str(caught.value)
    assert message.startswith(f"the store {path} is empty (0 bytes)")
    assert "--new-store" in message
    _says_keep(message)
    assert path.read_bytes() == b""  # untouched
    with Store.open(path, new_store=True) as store:
        assert store.runs() == []
    assert path.stat().st_size > 0


def test_a_file_that_is_not_sqlite_is_set_aside_only_with_new_store(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"garbage that was once a ledger")
    with pytest.raises(StoreError, match="is not an SQLite database") as caught:
        Store.open(path)
    _says_keep(str(caught.value))
    with Store.open(path, new_store=True):
        pass
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("store.sqlite.set-aside-")]
    assert len(aside) == 1
    assert aside[0].read_bytes() == b"garbage that was once a ledger"


def test_a_corrupt_store_says_how_to_recover_without_deleting(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with Store.open(path):
        pass
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # header kept, schema page smashed
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    assert "cannot be used" in str(caught.value)
    assert "--new-store" in str(caught.value)
    _says_keep(str(caught.value))
    with Store.open(path, new_store=True) as store:
        assert store.runs() == []
    assert len(list(tmp_path.glob("store.sqlite.set-aside-*Z"))) == 1


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database or disk is full"),
        sqlite3.OperationalError("attempt to write a readonly database"),
        sqlite3.OperationalError("unable to open database file"),
        sqlite3.DatabaseError("database disk image is malformed"),
        sqlite3.OperationalError("database is locked"),
        OSError(28, "No space left on device"),
    ],
)
def test_no_store_hint_advises_deleting_it(error: BaseException) -> None:
    _says_keep(store_error_hint(error))


def test_the_cli_refuses_an_empty_store_and_new_store_starts_over(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path, meetings=2, participants=5)
    config = write_config(
        tmp_path, base_url="sandbox", meetings=config_meetings(2, 5), sandbox_dataset=dataset
    )
    (tmp_path / "store.sqlite").write_bytes(b"")
    refused = run_cli("run", str(config), "--no-email")
    assert refused.exit_code == 1
    assert "is empty (0 bytes)" in refused.output
    assert "Traceback" not in refused.output
    _says_keep(refused.output)
    assert not (tmp_path / "out").exists()
    taken = run_cli("run", str(config), "--no-email", "--new-store")
    assert taken.exit_code == 0, taken.output
    assert (tmp_path / "out" / "attendance.csv").exists()


def test_check_reports_a_store_run_would_refuse(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path, meetings=2, participants=5)
    config = write_config(
        tmp_path, base_url="sandbox", meetings=config_meetings(2, 5), sandbox_dataset=dataset
    )
    assert run_cli("check", str(config)).exit_code == 0  # no store yet: a first run
    store = tmp_path / "store.sqlite"
    store.write_bytes(b"this is not a database, but it might have been one")
    checked = run_cli("check", str(config))
    assert checked.exit_code == 1
    (line,) = [x for x in checked.output.splitlines() if x.startswith("error:")]
    assert f"the store {store} is not an SQLite database" in line
    _says_keep(checked.output)
    assert store.read_bytes().startswith(b"this is not")  # check changes nothing
