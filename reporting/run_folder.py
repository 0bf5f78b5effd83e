"""Where a run's outputs live: ``<output.dir>/runs/<run_id>/``, never modified afterwards.

A run writes everything (CSVs, reports, manifest) into ``runs/.<run_id>.partial/``; when
its manifest is written the folder is renamed to ``runs/<run_id>/`` in one step. So a
folder named by a run id is always a whole run that verifies, and a run killed at any
point leaves at most a ``.partial`` folder, which the next run removes. Earlier runs'
folders are never opened for writing.

Then the run's files are *published*: copied to ``<output.dir>`` itself, with the run's
manifest, so that the top folder always holds the latest run and verifies as such.
Copies rather than hard links: a hard link shares its bytes with the run's folder, and
a program that edits the latest file in place (a spreadsheet tool saving a CSV) would
change the archived run with it.

Publishing order: the top-level manifest is removed first, then each file is replaced
(atomically, one at a time), files the previous latest run had and this one has not
are removed, and the manifest comes last. A kill halfway leaves a top folder without a
manifest (``attendance verify`` says so) rather than a manifest vouching for a mix of two
runs; the next run publishes again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from reporting.manifest import MANIFEST_NAME
from reporting.safe_files import OutputError, open_output, safe_folder

__all__ = ["RUNS", "RunFolder"]

log = logging.getLogger(__name__)

RUNS = "runs"
_PARTIAL = ".partial"
_CHUNK = 1 << 20


class RunFolder:
    """The folders of one run under an output folder."""

    def __init__(self, out_dir: Path, run_id: str) -> None:
        self.out_dir = Path(out_dir)
        self.run_id = run_id
        self.runs = self.out_dir / RUNS
        self.partial = self.runs / f".{run_id}{_PARTIAL}"
        self.final = self.runs / run_id

    def start(self) -> Path:
        """Create the run's partial folder (removing those killed runs left); return it."""
        safe_folder(self.out_dir)
        safe_folder(self.runs)
        try:
            entries = list(os.scandir(self.runs))
        except OSError as exc:
            raise _error("read the folder", self.runs, exc) from None
        for entry in entries:
            if (
                entry.name.startswith(".")
                and entry.name.endswith(_PARTIAL)
                and entry.is_dir(follow_symlinks=False)
                and entry.path != str(self.partial)
            ):
                # Runs of one store take turns (the run lock), so a partial folder that
                # is not ours belongs to a run that was killed or failed.
                shutil.rmtree(entry.path, ignore_errors=True)
                log.info("removed %s, left by an interrupted run", entry.path)
        if self.final.exists():
            raise OutputError(f"{self.final} already exists; a run's folder is never reused")
        safe_folder(self.partial)
        return self.partial

    def finish(self) -> Path:
        """Rename the partial folder to ``runs/<run_id>``: from now on it is never written."""
        try:
            os.rename(self.partial, self.final)
            _sync_dir(self.runs)
        except OSError as exc:
            raise _error("rename the run's folder to", self.final, exc) from None
        return self.final

    def publish(self) -> list[Path]:
        """Copy the finished run's files to the top of the output folder; return them."""
        try:
            return self._publish()
        except OSError as exc:
            raise _error("publish the latest run to", self.out_dir, exc) from None

    def _publish(self) -> list[Path]:
        names = sorted(
            entry.name
            for entry in os.scandir(self.final)
            if entry.is_file(follow_symlinks=False) and not entry.name.startswith(".")
        )
        # Files the previous latest run wrote, and the manifest's companions (a signature).
        previous = _listed(self.out_dir / MANIFEST_NAME) | {
            entry.name
            for entry in os.scandir(self.out_dir)
            if entry.name.startswith(f"{MANIFEST_NAME}.") and entry.is_file(follow_symlinks=False)
        }
        top_manifest = self.out_dir / MANIFEST_NAME
        if top_manifest.is_symlink() or top_manifest.exists():
            top_manifest.unlink()
        published: list[Path] = []
        for name in names:
            if name == MANIFEST_NAME:
                continue
            published.append(_copy(self.final / name, self.out_dir / name))
        for name in sorted(previous - set(names)):
            stale = self.out_dir / name
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
                log.info("removed %s: the latest run did not write it", stale)
        if MANIFEST_NAME in names:
            published.append(_copy(self.final / MANIFEST_NAME, top_manifest))
        return published


def _error(what: str, path: Path, exc: OSError) -> OutputError:
    return OutputError(
        f"cannot {what} {path}: {exc.strerror or exc}",
        hint="check the output folder's permissions and free space; earlier runs' "
        "folders under runs/ are untouched",
    )


def _listed(manifest: Path) -> set[str]:
    """The top-level file names a manifest lists (and its companions, e.g. a signature)."""
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, dict):
        return set()
    return {name for name in files if isinstance(name, str) and "/" not in name}


def _copy(source: Path, target: Path) -> Path:
    with source.open("rb") as reader, open_output(target) as writer:
        while chunk := reader.read(_CHUNK):
            writer.write(chunk)
    return target


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
