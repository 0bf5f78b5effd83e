"""A whole run writes every output through the safe writer: links planted in the output
folder are replaced (their targets untouched), every file gets `output.mode`, and what a
killed run left in the outbox is cleaned up at the start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from reporting.manifest import verify_outputs
from tests.pipeline_support import config_meetings, dataset_file, run_cli, write_config

REPORTS = (
    {"name": "compliance", "audience": "compliance", "formats": ["pdf", "xlsx"],
     "email_to": ["compliance@example.com"]},
    {"name": "managers", "audience": "summary", "formats": ["xlsx"],
     "email_to": ["lead@example.com"]},
)  # fmt: skip
PLANTED = ("attendance.csv", "compliance.pdf", "managers.xlsx", "manifest.json")


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_a_run_replaces_planted_links_and_sets_one_mode(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path, meetings=2, participants=5)
    config = write_config(
        tmp_path / "cfg",
        base_url="sandbox",
        meetings=config_meetings(2, 5),
        sandbox_dataset=dataset,
        reports=REPORTS,
        email=True,
    )
    data = yaml.safe_load(config.read_text())
    data["output"]["mode"] = "0640"
    config.write_text(yaml.safe_dump(data, sort_keys=False))

    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "cfg" / "out"
    out.mkdir()
    for name in PLANTED:
        (outside / name).write_bytes(b"not yours")
        (out / name).symlink_to(outside / name)
    outbox = tmp_path / "cfg" / "outbox"
    outbox.mkdir()
    stale = outbox / f".2026-09_compliance_x.eml.{_dead_pid()}-0a1b2c3d4e5f.tmp"
    stale.write_bytes(b"half a message")
    stale_out = out / f".devices.csv.{_dead_pid()}-abcdefabcdef.tmp"
    stale_out.write_bytes(b"half a csv")

    old = os.umask(0o022)
    try:
        result = run_cli("run", str(config))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output

    assert all((outside / name).read_bytes() == b"not yours" for name in PLANTED)
    latest = sorted(p for p in out.iterdir() if p.name != "runs")
    assert [p.name for p in latest] == sorted(
        ["attendance.csv", "devices.csv", "courses.csv", "compliance.pdf", "compliance.xlsx",
         "managers.xlsx", "manifest.json"]
    )  # fmt: skip
    (run_folder,) = (out / "runs").iterdir()
    kept = sorted(run_folder.iterdir())
    assert [p.name for p in kept] == [p.name for p in latest]
    for path in latest + kept:
        assert not path.is_symlink(), path
        assert path.stat().st_mode & 0o777 == 0o640, path
    emls = sorted(outbox.iterdir())
    assert [p.suffix for p in emls] == [".eml", ".eml"]
    assert all(p.stat().st_mode & 0o777 == 0o640 for p in emls)
    assert verify_outputs(out) == []


def test_output_mode_must_be_quoted_octal(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path, meetings=2, participants=5)
    config = write_config(
        tmp_path, base_url="sandbox", meetings=config_meetings(2, 5), sandbox_dataset=dataset
    )
    text = config.read_text().replace("  dir: out\n", "  dir: out\n  mode: 0755\n")
    config.write_text(text)
    line = text.splitlines().index("  mode: 0755") + 1
    result = run_cli("check", str(config))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {config}:{line}: output.mode: expected an octal")
