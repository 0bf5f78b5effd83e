"""Rules 16 and 17 through a whole run: what the plan left out reaches every output.

`attendance run` on the bundled sandbox (demo data), one instance named by id that
started before the period, one match that selects nothing, and one that selects the
restarted session. The notes must be on stderr, in the manifest and in the compliance
report's data-quality section (PDF text and workbook cells), and the out-of-period
instance must appear in no output.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import yaml
from click.testing import CliRunner

from reporting.cli import main
from tests.pipeline_support import pdf_text

ROOT = Path(__file__).resolve().parents[2]
OCT_13 = "d75df7ee5c1faa9f52135cb13ccc38b7_I_315246460284233477"
FIRST_AID = "b2e8e3403ec8de6e3531d9edb35fa3a0_I_869765047873097632"  # Oct 21


def test_left_out_instances_and_empty_matches_are_told_everywhere(tmp_path: Path) -> None:
    config = {
        "timezone": "Europe/Berlin",
        "period": {"from": "2026-10-15", "to": "2026-11-01"},
        "webex": {
            "base_url": "sandbox",
            "sandbox_dataset": str(ROOT / "samples" / "demo-dataset.json"),
            "sandbox_role": "compliance",
        },
        "meetings": [
            {"id": OCT_13, "course": "security"},
            {"id": FIRST_AID},
            {"match": {"title": "Quarterly town hall*"}},
            {"match": {"title": "anti-bribery*"}, "roster": ["invitees"]},
        ],
        "reports": [{"name": "compliance", "audience": "compliance", "formats": ["pdf", "xlsx"]}],
        "output": {"dir": "out"},
        "store": "store.sqlite",
    }
    path = tmp_path / "audit.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path)], env={"WEBEX_TOKEN": None})
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"

    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert any(OCT_13 in n and "outside the period" in n for n in notes), result.stderr
    assert any("meetings[2]" in n and "selects no ended meeting" in n for n in notes)

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert OCT_13 not in manifest["meetings"]["fetched"]
    assert any(OCT_13 in n for n in manifest["notes"])
    assert [len(s["selected"]) for s in manifest["selections"]] == [0, 2]

    with (out / "attendance.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and OCT_13 not in {r["meeting_id"] for r in rows}

    text = " ".join(pdf_text(out / "compliance.pdf").split())
    assert OCT_13 in text and "outside the period" in text
    sheet = openpyxl.load_workbook(out / "compliance.xlsx", read_only=True)["Data quality"]
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert any(OCT_13 in c and "outside the period" in c for c in cells)
    assert any("selects no ended meeting" in c for c in cells)
