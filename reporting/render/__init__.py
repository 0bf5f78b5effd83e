"""Renderers: PDF (WeasyPrint), XLSX (openpyxl) and the CSV exports."""

from reporting.render.context import ReportInput
from reporting.render.csv import write_csvs
from reporting.render.excel import render_xlsx
from reporting.render.pdf import render_pdf

__all__ = ["ReportInput", "render_pdf", "render_xlsx", "write_csvs"]
