"""Render the demo's reports to PNG previews under samples/previews/.

Needs poppler-utils (pdftoppm) and, for the workbook, LibreOffice (soffice); neither is a
dependency of the tool. Run from anywhere:

    python samples/make_previews.py

The demo runs in a temporary folder (its own store and outbox), so nothing in the
checkout changes except the PNGs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREVIEWS = ROOT / "samples" / "previews"
DPI = "60"


def main() -> int:
    missing = [tool for tool in ("pdftoppm", "soffice") if shutil.which(tool) is None]
    if "pdftoppm" in missing:
        print("pdftoppm is missing: apt-get install poppler-utils", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        for folder in ("configs", "samples"):
            shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("previews"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "reporting",
                "run",
                str(tree / "configs" / "demo.yaml"),
                "--no-email",
            ],
            check=True,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        )
        out = tree / "reports" / "demo"
        PREVIEWS.mkdir(exist_ok=True)
        # Only the previews made again go: without soffice the workbook's stay as they are.
        remade = ["compliance-page-*.png", "managers-page-*.png"]
        if "soffice" not in missing:
            remade.append("compliance-xlsx-*.png")
        for pattern in remade:
            for old in PREVIEWS.glob(pattern):
                old.unlink()
        # The cover, the first meeting section and the data-quality appendix tell the story.
        pages = _page_count(out / "compliance.pdf")
        for page in sorted({1, 2, 3, pages}):
            _pdf_page(out / "compliance.pdf", page, PREVIEWS / f"compliance-page-{page}")
        _pdf_page(out / "managers.pdf", 3, PREVIEWS / "managers-page-3")
        if "soffice" in missing:
            print("soffice is missing: no workbook preview", file=sys.stderr)
        else:
            _workbook_preview(out / "compliance.xlsx", tree)
    for png in sorted(PREVIEWS.glob("*.png")):
        print(png.relative_to(ROOT))
    return 0


def _page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    line = next(x for x in info.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def _pdf_page(pdf: Path, page: int, stem: Path, dpi: str = DPI) -> None:
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            dpi,
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
    )


def _workbook_preview(xlsx: Path, tmp: Path) -> None:
    """LibreOffice prints the workbook to PDF, as a person opening it would see the sheets."""
    profile = tmp / "lo-profile"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    printed = tmp / (xlsx.stem + ".pdf")
    # A whole sheet fits the page width, so its text is small: render it sharper.
    _pdf_page(printed, 1, PREVIEWS / "compliance-xlsx-summary", dpi="110")
    # The Attendance sheet starts on the first printed page with its header row.
    for page in range(2, _page_count(printed) + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(printed), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        if text.lstrip().startswith("Meeting id"):
            _pdf_page(printed, page, PREVIEWS / "compliance-xlsx-attendance", dpi="150")
            break


if __name__ == "__main__":
    sys.exit(main())
