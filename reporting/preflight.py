"""What a run checks before it touches the network; `attendance check` runs the same.

Each check gives one `AttendanceError` naming where the problem is and how to fix it:
a roster that cannot be read, a sandbox dataset that cannot be loaded, an environment
variable the run will read that is not set, a store that `run` would refuse, a folder
(outputs, store, outbox) that cannot be created or written. `run` stops at the first;
`check` lists them all.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from reporting.config import SANDBOX, Config, resolve_smtp_credentials, webex_credentials
from reporting.errors import AttendanceError, ConfigError
from reporting.signing import load_signing_key


class FolderError(AttendanceError):
    """A folder the run writes cannot be created or written (exit 1: not the config's
    syntax, the machine's state)."""


def problems(
    config: Config,
    env: Mapping[str, str],
    *,
    output_dir: Path | None = None,
    offline: bool = False,
    send_email: bool = True,
    new_store: bool = False,
    store_contents: bool = True,
) -> list[AttendanceError]:
    """Every problem `run` would meet before (or instead of) asking Webex.

    ``store_contents=False`` leaves out the look inside the store file: `run` makes it
    when it opens the store under the run lock, where another run that is creating the
    store right now cannot be mistaken for an empty store."""
    from reporting.store_guard import admit_store

    found: list[AttendanceError] = []
    for check in (
        lambda: _rosters(config),
        lambda: _overrides(config),
        lambda: _dataset(config) if not offline else None,
        lambda: webex_credentials(config, env) if not offline else None,
        lambda: resolve_smtp_credentials(config, env) if send_email else None,
        lambda: load_signing_key(config, env),
        # An empty, unreadable or read-only store (`run` refuses it: its send ledger).
        lambda: admit_store(config.store) if store_contents and not new_store else None,
    ):
        try:
            check()
        except AttendanceError as error:
            found.append(error)
    folders = [(output_dir or config.output_dir, "output folder (output.dir)")]
    folders.append((config.store.parent, "store folder (store)"))
    if config.email is not None and config.email.outbox is not None and send_email:
        folders.append((config.email.outbox, "outbox folder (email.outbox)"))
    for folder, what in folders:
        problem = folder_problem(folder, what)
        if problem is not None:
            found.append(problem)
    return found


def _rosters(config: Config) -> None:
    from reporting.roster import load_roster

    paths = [path for entry in config.meetings for path in entry.roster_files or ()]
    if config.roster is not None:
        paths.append(config.roster)
    for path in dict.fromkeys(paths):
        load_roster(path, config.roster_phone_region)


def _overrides(config: Config) -> None:
    from reporting.overrides import load_overrides

    if config.overrides is not None:
        load_overrides(config.overrides)


def _dataset(config: Config) -> None:
    if config.webex.base_url != SANDBOX:
        return
    if config.webex.sandbox_dataset is None:
        raise ConfigError(
            f"{config.location('webex', 'base_url')}: webex.base_url is 'sandbox' but "
            "webex.sandbox_dataset is not set",
            hint="point webex.sandbox_dataset at a dataset file, e.g. samples/demo-dataset.json",
        )
    from reporting.webex.sandbox.dataset import load_dataset

    try:
        load_dataset(config.webex.sandbox_dataset)
    except AttendanceError as error:
        raise ConfigError(
            f"{config.location('webex', 'sandbox_dataset')}: webex.sandbox_dataset: "
            f"{error.message}",
            hint=error.hint or "point it at a dataset made by `attendance sandbox generate`",
        ) from None


def folder_problem(folder: Path, what: str) -> FolderError | None:
    """Why ``folder`` cannot be created and written, or None. Tried for real (a
    temporary folder made and removed in the nearest existing one): permissions,
    read-only file systems and root's exemptions all answer truthfully that way."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        if existing.is_symlink():
            return FolderError(
                f"{what} {folder}: {existing} is a broken symbolic link",
                hint="remove the link or point the setting at a real folder",
            )
        existing = existing.parent
    if not existing.is_dir():
        return FolderError(
            f"{what} {folder} cannot be created: {existing} is a file, not a folder",
            hint="choose another folder, or move that file away",
        )
    try:
        probe = tempfile.mkdtemp(prefix=".attendance-check-", dir=existing)
        os.rmdir(probe)
    except OSError as exc:
        reason = "not writable" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else None
        return FolderError(
            f"{what} {folder} cannot be written: {existing} is "
            f"{reason or exc.strerror or 'not usable'}",
            hint="choose a folder this user may write, or fix its permissions",
        )
    return None


def ensure_folder(folder: Path, what: str) -> None:
    """Create ``folder`` (and its parents), or raise one clean `FolderError`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        problem = folder_problem(folder, what)
        raise problem or FolderError(f"{what} {folder} cannot be created") from None
    problem = folder_problem(folder, what)
    if problem is not None:
        raise problem
