"""Renderers: PDF (WeasyPrint), XLSX (openpyxl) and the CSV exports.

The names below are imported on first use, so a process that needs one renderer's module
(a PDF worker: `reporting.render.pdf_worker`) does not import them all (pandas, openpyxl).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reporting.render.context import ReportInput
    from reporting.render.csv import write_csvs
    from reporting.render.excel import render_xlsx
    from reporting.render.pdf import render_pdf

__all__ = ["ReportInput", "render_pdf", "render_xlsx", "write_csvs"]

_HOMES = {
    "ReportInput": "reporting.render.context",
    "render_pdf": "reporting.render.pdf",
    "render_xlsx": "reporting.render.excel",
    "write_csvs": "reporting.render.csv",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
