"""One report's PDF: plan the pages, render the parts' HTML, lay the parts out in the
worker pool, check the page counts, join the parts."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from reporting.collector import collector_paused
from reporting.errors import RenderError
from reporting.render.context import ReportInput
from reporting.render.pdf import layout
from reporting.render.pdf.content import build_pages
from reporting.render.pdf.layout import Page, part_ranges
from reporting.render.pdf.pool import run_jobs, start_fork_server
from reporting.render.pdf.template import render_html, template_roots
from reporting.render.pdf.worker import PartJob, PartResult
from reporting.resources import templates_dir
from reporting.safe_files import write_output

log = logging.getLogger(__name__)


def render_pdf(inp: ReportInput, path: Path) -> Path:
    """Write the report PDF to `path` and return it (this format's `render`)."""
    # The planner and the join are serial, and automatic collections there walk the
    # report's objects for nothing (see `reporting.render.pdf.worker.render_part`).
    with collector_paused():
        return _render_pdf(inp, path)


def _render_pdf(inp: ReportInput, path: Path) -> Path:
    res = inp.result
    started = time.perf_counter()
    if len(res.attendance) + len(res.breakouts) + len(res.devices) > layout.CHUNK_ROWS:
        start_fork_server()  # imports WeasyPrint in the background while we plan
    pages, meta = build_pages(inp)
    ranges = part_ranges(pages)
    planned = time.perf_counter()
    results = _render_parts(inp, pages, meta, ranges, path)
    rendered = time.perf_counter()
    joined = _join([pdf for pdf, _, _ in results], inp)
    write_output(path, joined)
    # The serial phases (planning before the workers, the join after them) count fully
    # in wall time; bench/render_pdf.py prints this line.
    log.debug(
        "pdf %s: %d pages in %d parts; planned in %.2fs, rendered in %.2fs, joined in %.2fs",
        path.name,
        len(pages),
        len(ranges),
        planned - started,
        rendered - planned,
        time.perf_counter() - rendered,
    )
    return path


def _render_parts(
    inp: ReportInput,
    pages: Sequence[Page],
    meta: dict[str, object],
    ranges: Sequence[tuple[int, int]],
    path: Path,
) -> list[PartResult]:
    """Every part laid out with the right "Page X of Y": if a planned page spilled over,
    the counts are then exact, and one more pass makes every footer right."""
    counts = [end - start for start, end in ranges]
    roots = tuple(str(r) for r in template_roots(inp.templates))
    base_url = templates_dir().as_uri() + "/"
    for _attempt in range(2):
        total = sum(counts)
        offsets = [sum(counts[:i]) for i in range(len(counts))]
        jobs = (
            PartJob(
                render_html(inp, pages[s:e], meta, first_page=off + 1, total_pages=total),
                base_url,
                roots,
                n,
                inp.pdf_variant,
            )
            for (s, e), off, n in zip(ranges, offsets, counts, strict=True)
        )
        results = run_jobs(jobs, len(ranges))
        actual = [n for _, n, _ in results]
        for _, _, blocked in results:
            for url in blocked:
                log.warning("report %s: refused to fetch %s", inp.spec.name, url[:200])
        if actual == counts:
            return results
        log.info("page estimate missed (%s != %s); rendering again", actual, counts)
        counts = actual
    raise RenderError(f"could not paginate {path.name} consistently")


def _join(parts: Sequence[bytes], inp: ReportInput) -> bytes:
    if len(parts) == 1:
        return parts[0]
    try:
        from pypdf import PdfReader, PdfWriter
    except ImportError as exc:  # pragma: no cover - pypdf ships with the package
        raise RenderError("joining PDF parts needs the 'pypdf' package") from exc
    # Cloning the first part keeps its catalog: metadata, output intent (PDF/A), lang.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(parts[0])))
    for part in parts[1:]:
        writer.append(PdfReader(io.BytesIO(part)))
    writer.add_metadata(
        {
            "/Title": f"Training attendance — {inp.run.period_label} — {inp.spec.name}",
            "/Producer": f"attendance {inp.run.tool_version} (WeasyPrint, pypdf)",
            "/CreationDate": _pdf_date(inp.run.as_of),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_date(value: datetime) -> str:
    return value.strftime("D:%Y%m%d%H%M%SZ")
