"""The format table: a new output format is one renderer module plus one table entry.

This module is itself the throwaway format's renderer (`render` below): the test adds
one entry to `FORMATS` and nothing else, and config validation, the pipeline, the
manifest, the dry run and the email all pick it up.
"""

from __future__ import annotations

import email
import json
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from reporting.render.context import ReportInput
from reporting.render.formats import FORMATS, ReportFormat
from reporting.webex.sandbox import SandboxServer
from tests.pipeline_support import ROOT, config_meetings, dataset_file, run_cli, write_config

TOKEN = "formats-test-token"
THROWAWAY = ReportFormat("txt", __name__, ".txt", attached=True, mime_type="text/plain")


def render(inp: ReportInput, path: Path) -> Path:
    """The throwaway format: the summary's status counts as a line of text."""
    counts = inp.summary.statuses
    path.write_text(
        f"{inp.spec.name}: {counts.rows} rows, {counts.complete} complete, "
        f"{counts.partial} partial, {counts.absent} absent\n",
        encoding="utf-8",
    )
    return path


def test_a_format_is_a_module_plus_one_table_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(FORMATS, "txt", THROWAWAY)
    dataset = dataset_file(tmp_path)
    reports = [
        {"name": "plain", "audience": "summary", "formats": ["txt"], "email_to": ["a@example.com"]}
    ]
    with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox:
        config = write_config(
            tmp_path,
            base_url=sandbox.base_url,
            meetings=config_meetings(),
            reports=reports,
            email=True,
        )
        dry = run_cli("run", str(config), "--dry-run", token=TOKEN)
        assert dry.exit_code == 0, dry.output
        assert "  plain.txt\n" in dry.stdout  # would write
        assert "  plain.txt to a@example.com" in dry.stdout  # would send

        result = run_cli("run", str(config), token=TOKEN)
        assert result.exit_code == 0, result.output

    out = tmp_path / "out"
    line = (out / "plain.txt").read_text(encoding="utf-8")
    assert line.startswith("plain: ") and " complete, " in line
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "plain.txt" in json.dumps(manifest)
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    (attached,) = list(message.iter_attachments())
    assert attached.get_filename() == "plain.txt"
    assert attached.get_content_type() == "text/plain"
    assert attached.get_content() == line


def test_config_names_the_formats_of_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(
        tmp_path,
        base_url="https://webexapis.com/v1",
        meetings=["abc"],
        reports=[{"name": "r", "audience": "summary", "formats": ["pdf", "txt"]}],
    )
    refused = run_cli("check", str(config), token="t")
    assert refused.exit_code == 2
    assert "reports[0].formats[1]: must be 'pdf' or 'xlsx', got 'txt'" in refused.output
    monkeypatch.setitem(FORMATS, "txt", THROWAWAY)
    accepted = run_cli("check", str(config), token="t")
    assert accepted.exit_code == 0, accepted.output


def test_rendering_a_pdf_does_not_load_openpyxl(tmp_path: Path) -> None:
    """The PDF reads the shared summary, not the workbook renderer's helpers."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from reporting.render.sample import sample_input\n"
        "from reporting.render.formats import FORMATS\n"
        "fmt = FORMATS['pdf']\n"
        f"fmt.renderer()(sample_input(meetings=1, people=3), Path({str(tmp_path)!r}) / 'r.pdf')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'openpyxl'))\n"
        "print('weasyprint' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.splitlines() == ["[]", "True"]
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def _loaded_after(tmp_path: Path, code: str) -> list[str]:
    """The heavy packages (WeasyPrint, openpyxl, pandas) loaded after running `code`."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        f"out = Path({str(tmp_path)!r})\n"
        f"{code}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'weasyprint', 'openpyxl', 'pandas'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.splitlines()


def test_the_command_line_loads_no_renderer_nor_pandas(tmp_path: Path) -> None:
    """`attendance --help`, `check` and the rest start without WeasyPrint, openpyxl or
    pandas: each is imported where it is first needed."""
    assert _loaded_after(tmp_path, "import reporting.cli") == ["[]"]


def test_writing_the_csvs_loads_no_renderer(tmp_path: Path) -> None:
    code = (
        "from zoneinfo import ZoneInfo\n"
        "from reporting.render.csv import write_csvs\n"
        "from reporting.render.sample import sample_input\n"
        "write_csvs(sample_input().result, out, ZoneInfo('Europe/Berlin'))"
    )
    assert _loaded_after(tmp_path, code) == ["['pandas']"]


def test_a_prepared_run_lays_pdfs_out_in_workers(tmp_path: Path) -> None:
    """Once the pipeline has prepared the PDF format, even a one-part PDF is laid out in a
    worker, two reports side by side, and the run's own process never imports WeasyPrint."""
    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from pypdf import PdfReader\n"
        "from reporting.render.formats import FORMATS\n"
        "from reporting.render.sample import sample_input\n"
        "FORMATS['pdf'].prepare()\n"
        "render = FORMATS['pdf'].renderer()\n"
        "inputs = [sample_input(meetings=1, people=3), sample_input(audience='summary')]\n"
        "with ThreadPoolExecutor(2) as pool:\n"
        "    paths = list(pool.map(render, inputs, [out / 'a.pdf', out / 'b.pdf']))\n"
        "for path in paths:\n"
        "    pages = [p.extract_text() for p in PdfReader(path).pages]\n"
        "    assert all(f'Page {n} of {len(pages)}' in p for n, p in enumerate(pages, 1))"
    )
    assert _loaded_after(tmp_path, code) == ["['pandas']"]
