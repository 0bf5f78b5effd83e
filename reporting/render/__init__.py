"""Renderers: PDF (WeasyPrint), XLSX (openpyxl) and the CSV exports.

The names below are imported on first use, so importing one renderer (or the format
table in `reporting.render.formats`) does not load the others' libraries.
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
    "write_csvs": "reporting.render.csv",
    "render_xlsx": "reporting.render.excel",
    "render_pdf": "reporting.render.pdf",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
