"""A run with an overrides file (rule 13): decisions reach attendance.csv, the ones that
match nothing are warned about on stderr and in the manifest, and the manifest holds the
file's SHA-256."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import yaml

from reporting.webex.sandbox import SandboxServer
from tests.pipeline_support import _generated, config_meetings, dataset_file, run_cli, write_config

TOKEN = "pipeline-overrides-token"


def test_overrides_reach_attendance_csv_and_the_manifest(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path)
    participants = _generated(6, 30, 11)["participants"]
    email = next(
        p["email"] for items in participants.values() for p in items if p.get("email")
    ).strip()
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(
        "person,scope,decision,value,reason,reviewer,date\n"
        f"{email},*,excused,,on leave,lead@example.com,2026-10-02\n"
        "nobody@example.com,*,present,,typo,lead@example.com,2026-10-02\n",
        encoding="utf-8",
    )
    with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox:
        config = write_config(tmp_path, base_url=sandbox.base_url, meetings=config_meetings())
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))
        settings["overrides"] = "overrides.csv"
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        result = run_cli("run", str(config), token=TOKEN)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    rows = list(csv.DictReader(io.StringIO((out / "attendance.csv").read_text("utf-8"))))
    mine = [r for r in rows if r["person_key"] == email.lower()]
    assert mine and all(r["status"] == "excused" for r in mine)
    assert all(r["override"] == "excused" and r["override_reason"] == "on leave" for r in mine)
    assert all("OVERRIDDEN" in r["flags"].split(";") for r in mine)
    others = [r for r in rows if r["person_key"] != email.lower()]
    assert all(r["override"] == "" and r["status"] != "excused" for r in others)
    warning = "overrides.csv:3: override present for nobody@example.com in scope '*' matched no row"
    assert warning in result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert (
        manifest["inputs"]["overrides"]["sha256"]
        == hashlib.sha256(overrides.read_bytes()).hexdigest()
    )
    assert any(warning in note for note in manifest["notes"])
