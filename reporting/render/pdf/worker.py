"""What a PDF worker process runs: lay out one part of a report with WeasyPrint.

`reporting.render.pdf.document` plans the report and hands each part to a process of its own;
this is that process's side: no planner, no templates, only the layout of one part.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from reporting.collector import collector_paused
from reporting.errors import RenderError

T = TypeVar("T")

# The laid-out part's PDF, its real page count, and the URLs its fetcher refused.
PartResult = tuple[bytes, int, list[str]]


@dataclass(frozen=True)
class PartJob:
    """One part of a PDF: its HTML and what laying it out needs."""

    html: str
    base_url: str
    roots: tuple[str, ...]
    expected_pages: int
    pdf_variant: str | None


def _on_one_chunk(call: Callable[[], T]) -> T:
    """`call()`, with every frame beneath it on one chunk of CPython's frame stack.

    CPython (3.11 on) keeps a thread's frames on a stack of 16 KiB chunks: a call that
    does not fit in the current chunk maps a new one, and returning from it unmaps it.
    WeasyPrint's layout recurses deeply, and its innermost calls come and go over a
    chunk's end many times a row: one mmap and munmap, and a page fault, each time.
    Where the ends fall depends on how deep the caller's stack is, so a change in a
    caller's frames can turn it on or off. This frame is made larger than a chunk (its
    value stack, never used, takes no memory until touched): it gets a chunk of its own,
    sized to the next power of two, and the layout runs in the rest of it.
    """
    return call()


_on_one_chunk.__code__ = _on_one_chunk.__code__.replace(
    co_stacksize=_on_one_chunk.__code__.co_stacksize + 70_000  # a 1 MiB chunk, ~480 KiB free
)


def render_part(job: PartJob, keep: list[Any] | None = None) -> PartResult:
    """Lay out and write one part. With `keep`, the laid-out document is appended to it
    instead of freed (see `part_worker`)."""
    return _on_one_chunk(partial(_render_part, job, keep))


def _render_part(job: PartJob, keep: list[Any] | None) -> PartResult:
    from weasyprint import HTML

    from reporting.render.pdf.fetcher import SafeURLFetcher

    # WeasyPrint allocates millions of objects (boxes, styles, glyph runs) and keeps almost
    # all of them alive until the PDF is written, so every automatic collection walks an
    # ever larger heap for next to nothing (bench/README.md has the figures).
    with collector_paused():
        fetcher = SafeURLFetcher([Path(r) for r in job.roots])
        doc = HTML(string=job.html, base_url=job.base_url, url_fetcher=fetcher).render()
        # No embedded files: `<link rel=attachment>` / `<a rel=attachment>` in a template
        # would otherwise be fetched and carried inside the PDF.
        doc.metadata.attachments = []
        for page in doc.pages:
            page.links[:] = [link for link in page.links if link[0] != "attachment"]
        pdf = doc.write_pdf(pdf_variant=job.pdf_variant, attachments=None)
        if keep is not None:
            keep.append(doc)
        return pdf, len(doc.pages), fetcher.blocked


_SPENT: list[Any] = []


def part_worker(conn: Connection) -> None:
    """A worker process for one part: receive its job, send back the result, exit.

    A part's boxes form half a million reference cycles: collecting them, and freeing the
    rest, took a noticeable share of each part only to hand memory back to a process that ends
    anyway. So the document is kept until the process exits (multiprocessing ends it
    with `os._exit`: no teardown) and the operating system takes the memory back at once.
    """
    # No collection in this process at all: not even when `render_part` ends, where a
    # re-enabled collector would walk the kept document before the reply is sent.
    gc.disable()
    try:
        job = conn.recv()
    except EOFError:  # the parent needed no more parts
        return
    try:
        reply: tuple[str, Any] = ("ok", render_part(job, keep=_SPENT))
    except BaseException as exc:  # handed to the parent, which raises it
        # The parent raises it far from where it happened: say where.
        exc.add_note("in the PDF worker:\n" + traceback.format_exc())
        reply = ("error", exc)
    try:
        conn.send(reply)
    except Exception:  # e.g. an exception that cannot be pickled
        conn.send(("error", RenderError(f"{type(reply[1]).__name__}: {reply[1]}")))
    conn.close()
