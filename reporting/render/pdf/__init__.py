"""The PDF report, through Jinja templates and WeasyPrint.

- `content` (with `cover`, `meeting`, `appendix` and `cells`): what the report says, as
  explicit pages of headings, facts, tables, flowing lists and charts;
- `layout`: page arithmetic: text heights estimated, blocks packed into pages, pages cut
  into balanced parts;
- `template`: the Jinja environment and one part's HTML;
- `pool`: the parts laid out at most two at a time, a fresh process each, forked from a
  fork server that imported WeasyPrint once;
- `worker`: what a worker process runs: WeasyPrint's layout of one part;
- `document`: the whole: plan, render the parts, check the page counts, join them.

Large reports are cut into parts because WeasyPrint keeps nearly everything it allocates
until the PDF is written; so the cyclic garbage collector only costs time in the workers,
which never run it (see `worker`).
"""

from __future__ import annotations

from reporting.render.pdf.document import render_pdf
from reporting.render.pdf.pool import stop_fork_server, use_workers

render = render_pdf  # the renderer interface of `reporting.render.formats`


def prepare() -> None:
    """A run will render PDFs: start the fork server now (it imports WeasyPrint while the
    run fetches and computes), and lay out even one-part PDFs in its workers, so the
    reports of a run are laid out side by side and this process never imports WeasyPrint."""
    use_workers()


def finish() -> None:
    """The run's PDFs are done: stop the fork server (see `pool.stop_fork_server`)."""
    stop_fork_server()


__all__ = ["finish", "prepare", "render", "render_pdf"]
