"""`manifest.json`: what a run produced, from what, and the SHA-256 of every output file.

An auditor who receives a report folder months later runs ``attendance verify DIR`` to
learn whether any file was changed, removed or added since the run wrote it.

Decisions:

- File names in the manifest are relative to the output folder (POSIX separators), so the
  folder can be moved or archived as a whole and still verify.
- ``verify_outputs`` reports files at the top level of the folder that the manifest does
  not list. Nothing vouches for such a file, and a stale report left over from an earlier
  run with other formats looks exactly like a current one; an auditor should hear about
  both. Subfolders are not looked into: the run writes its outputs at the top level only,
  and a subfolder is where an outbox of sent mail (the demo config puts one there) or an
  operator's notes belong.
- Keys are sorted and the JSON is indented, so two manifests diff cleanly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from reporting.model import FetchFailure, RunInfo
from reporting.safe_files import write_output

__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_SIGNATURE_NAME",
    "MANIFEST_VERSION",
    "sha256_file",
    "verify_outputs",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
MANIFEST_SIGNATURE_NAME = "manifest.json.p7s"  # its detached CMS signature (reporting.signing)
MANIFEST_VERSION = 1
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(
    out_dir: Path,
    *,
    run: RunInfo,
    meetings_fetched: Sequence[str],
    meetings_failed: Sequence[FetchFailure],
    row_counts: Mapping[str, int],
    files: Sequence[Path],
    page_problems: Mapping[str, Sequence[str]] | None = None,
    notes: Sequence[str] = (),
    signing: Mapping[str, str] | None = None,
    selections: Sequence[Mapping[str, Any]] = (),
    inputs: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write `out_dir/manifest.json` describing the run and hashing every file in `files`.

    Every file must lie inside `out_dir` (a manifest cannot vouch for files it will not
    travel with); the manifest itself is skipped if listed.
    """
    out_dir = Path(out_dir)
    root = out_dir.resolve()
    target = out_dir / MANIFEST_NAME
    entries: dict[str, dict[str, Any]] = {}
    for path in files:
        resolved = Path(path).resolve()
        if resolved == target.resolve():
            continue
        try:
            name = resolved.relative_to(root).as_posix()
        except ValueError:
            raise ValueError(f"{path} is not inside the output folder {out_dir}") from None
        entries[name] = {"bytes": resolved.stat().st_size, "sha256": sha256_file(resolved)}

    document: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "tool_version": run.tool_version,
        "run_id": run.run_id,
        "config_path": run.config_path,
        "config_hash": run.config_hash,
        "period": {
            "label": run.period_label,
            "start": run.period_start.isoformat(),
            "end": run.period_end.isoformat(),
        },
        "as_of": run.as_of.isoformat(),
        "timezone": run.timezone,
        "offline": run.offline,
        "meetings": {
            "fetched": list(meetings_fetched),
            "failed": [
                {"entry_id": f.entry_id, "instance_id": f.instance_id, "message": f.message}
                for f in meetings_failed
            ],
            # Instances fetched with pages that could not be used: their rows may be short.
            "page_problems": {k: list(v) for k, v in sorted((page_problems or {}).items())},
        },
        "row_counts": dict(row_counts),
        "files": entries,
        # What planning decided that a reader should know (e.g. an instance two entries named).
        "notes": list(notes),
        # Rule 16: each `match:` entry and the instances it selected (title, start, host, id).
        "selections": [dict(s) for s in selections],
        # Input files other than the config, with their SHA-256 (the overrides file).
        "inputs": {k: dict(v) for k, v in sorted((inputs or {}).items())},
    }
    if signing is not None:
        # Who signs the run: `verify` then fails a run whose signatures were removed.
        document["signing"] = dict(signing)
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    # A crash mid-write must not leave a truncated manifest that fails every later verify.
    write_output(target, text.encode("utf-8"))
    return target


def verify_outputs(out_dir: Path) -> list[str]:
    """Problems with the outputs in `out_dir` against its manifest; empty means all is well.

    Each problem is one line naming the file: changed, missing, not in the manifest, or
    a manifest that cannot be read.
    """
    out_dir = Path(out_dir)
    manifest_path = out_dir / MANIFEST_NAME
    if not out_dir.is_dir():
        return [f"{out_dir}: not a folder"]
    try:
        document = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{MANIFEST_NAME}: missing from {out_dir}"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{MANIFEST_NAME}: cannot be read ({exc})"]
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, dict):
        return [f"{MANIFEST_NAME}: has no 'files' table; not a manifest written by this tool"]

    problems: list[str] = []
    listed: set[str] = set()
    for name in sorted(files):
        expected = files[name]
        if not _safe_name(name):
            # A tampered manifest must not make verify read files outside the folder.
            problems.append(f"{name}: unsafe path in the manifest")
            continue
        listed.add(name)
        digest = expected.get("sha256") if isinstance(expected, dict) else None
        if not isinstance(digest, str):
            problems.append(f"{name}: the manifest entry has no sha256")
            continue
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        actual = sha256_file(path)
        if actual != digest:
            problems.append(
                f"{name}: changed since the run (sha256 {actual}, manifest says {digest})"
            )

    for path in sorted(p for p in out_dir.iterdir() if p.is_file() or p.is_symlink()):
        name = path.name
        # The manifest's signature cannot be listed in what it signs.
        if name not in (MANIFEST_NAME, MANIFEST_SIGNATURE_NAME) and name not in listed:
            problems.append(f"{name}: not listed in the manifest")
    return problems


def _safe_name(name: str) -> bool:
    pure = PurePosixPath(name)
    return bool(name) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in name
