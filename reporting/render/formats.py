"""The report formats: one table, read by config validation, the pipeline, delivery and
the dry run.

Adding a format is a renderer module with a `render(inp, path) -> Path` function and
one entry in `FORMATS`. The table names modules, it does not import them: validating a
config loads no renderer, and rendering a PDF does not load openpyxl.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from reporting.render.context import ReportInput


class Renderer(Protocol):
    """Writes one report to `path` (created or replaced) and returns the path."""

    def __call__(self, inp: ReportInput, path: Path, /) -> Path: ...


@dataclass(frozen=True)
class ReportFormat:
    name: str  # as written in a config's `reports[].formats`
    module: str  # the module whose `render` writes it
    suffix: str  # file name suffix, dot included
    attached: bool = False  # attached to the report's email
    mime_type: str = "application/octet-stream"
    # The module has a `prepare()` that starts, in the background, what its renderer
    # will need (the PDF's fork server imports WeasyPrint while the run fetches), and a
    # `finish()` that stops it once the run's reports are written.
    prepares: bool = False

    def file_name(self, stem: str) -> str:
        return f"{stem}{self.suffix}"

    def renderer(self) -> Renderer:
        return cast(Renderer, importlib.import_module(self.module).render)

    def prepare(self) -> None:
        """Start what the renderer needs in the background, if it has anything to start."""
        if self.prepares:
            importlib.import_module(self.module).prepare()

    def finish(self) -> None:
        """The run's reports are written: stop what `prepare` started (a module that
        prepares also has a `finish()`)."""
        if self.prepares:
            importlib.import_module(self.module).finish()


# Table order is the order a report's files are written and attached in.
FORMATS: dict[str, ReportFormat] = {
    "pdf": ReportFormat(
        "pdf",
        "reporting.render.pdf",
        ".pdf",
        attached=True,
        mime_type="application/pdf",
        prepares=True,
    ),
    "xlsx": ReportFormat(
        "xlsx",
        "reporting.render.excel",
        ".xlsx",
        mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


def selected(names: Iterable[str]) -> list[ReportFormat]:
    """The formats named in `names` (already validated), in table order."""
    wanted = set(names)
    return [f for name, f in FORMATS.items() if name in wanted]


def attached_suffixes() -> tuple[str, ...]:
    """File suffixes of the formats that go out attached to the email."""
    return tuple(f.suffix for f in FORMATS.values() if f.attached)


def for_file(path: Path) -> ReportFormat | None:
    """The format of a report file, by its suffix."""
    suffix = path.suffix.lower()
    return next((f for f in FORMATS.values() if f.suffix == suffix), None)


def choices_text() -> str:
    """The known names as a config error says them: `'pdf' or 'xlsx'`."""
    quoted = [repr(n) for n in FORMATS]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
