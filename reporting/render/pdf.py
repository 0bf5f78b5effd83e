"""The PDF report, through Jinja templates and WeasyPrint.

Large reports are cut into balanced parts of at most `CHUNK_ROWS` row units of layout work
(`Page.rows`), rendered two at a time, each by a fresh process forked from a fork server
that imported WeasyPrint once, and joined page by page. WeasyPrint's cost follows its
boxes: ~0.7 ms per table cell of one line, ~0.2 MiB per row, ~7 ms per page (margin
boxes). So an attendance row is one line of four cells, and long lists (absentees,
breakout rooms) are flowing paragraphs, not tables. WeasyPrint keeps nearly all it
allocates until the PDF is written, so the cyclic garbage collector only costs time
while it runs (a quarter of a part): see `reporting.render.pdf_worker`.

"Page X of Y" must be right across parts, but a part only learns its page count by
laying it out. So the renderer paginates itself: it estimates the height of every heading
and table row from the text (generous per-character widths, greedy word wrap) and packs
them into explicit pages with room to spare. Every part then knows its first page number
and the total before it is laid out (`@page:first { counter-reset }` plus a fixed total).
Each worker checks the real page count; if an estimate was ever too small (a page spilled
onto a second one) the parts are rendered again with the real counts, so the footer is
never wrong, only slower in that rare case.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import time
import unicodedata
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, cast

import pandas as pd
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
)
from markupsafe import Markup

from reporting.collector import collector_paused
from reporting.errors import RenderError
from reporting.render.charts import Bar, chart_height, completion_chart
from reporting.render.context import (
    COMPLIANCE,
    ReportInput,
    flag_explanations,
    fmt_duration,
    fmt_local,
    fmt_local_many,
    split_flags,
)
from reporting.render.pdf_worker import PartJob, part_worker, render_part
from reporting.render.summary import criteria_facts, share_text, truthy
from reporting.resources import templates_dir
from reporting.safe_files import write_output
from reporting.templating import ConfinedLoader, sandboxed_environment, template_problem

log = logging.getLogger(__name__)

CHUNK_ROWS = 1000  # table rows per WeasyPrint document: ~250 MiB per worker at most
MAX_WORKERS = 2
# A part of 1,000 rows lays out in about 4 s; one that takes this long is stuck, and the
# monthly run must end with an error rather than wait for ever.
PART_SECONDS = 600.0
CONFIDENTIAL = "Confidential — contains personal data; for the named recipients only."

# Geometry shared with report.css (landscape pages; points).
PAGE_SIZES = {"A4": (842.0, 595.0), "Letter": (792.0, 612.0)}
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 36.0, 40.0, 46.0
FILL = 0.95  # share of the page height the planner fills; the rest absorbs misestimates
FONT_PT = 7.5
KEEP_TOGETHER_ROWS = 15  # a table this short is never cut across pages if it fits on one
LINE_PT = FONT_PT * 1.3
CELL_PAD_PT = 4.0
ROW_PAD_PT = 3.0  # a body row beyond its lines: 2 x 1pt padding, 0.4pt border, slack
FLOW_SEP = "\u00a0· "  # between entries of a flowing list: the dot stays with its entry
# Layout work in row units (one 8-cell table row): a page (margin boxes, ~11 ms), a table
# cell, a line of flowing text (measured with bench/render_pdf.py).
PAGE_WEIGHT = 2.0
CELL_WEIGHT = 1 / 8
FLOW_LINE_WEIGHT = 0.25


# --------------------------------------------------------------------------- estimating


@lru_cache(maxsize=4096)
def _char_em(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.25
    if ord(ch) > 0xFFFF or unicodedata.category(ch) in ("So", "Cn", "Co"):
        return 1.25  # emoji and glyphs DejaVu lacks fall back to wide boxes
    return 0.72 if ch.isupper() or ch in "mwMW@%" else 0.62


@lru_cache(maxsize=65536)
def _word_em(word: str) -> float:
    """Width of `word` in em. Cached: the planner measures every cell of every row, and
    names, times and statuses repeat (it was most of the planning time, all serial)."""
    return sum(_char_em(c) for c in word)


def _width(text: str, font_pt: float = FONT_PT) -> float:
    """Estimated width of `text` on one line (spaces as in `text_lines`), erring high."""
    words = sum(_word_em(w) for w in text.split(" "))  # no break is 0.62 em in a word
    return (words + text.count(" ") * 0.33 - text.count("\u00a0") * (0.62 - 0.33)) * font_pt


def text_lines(text: str, width_pt: float, font_pt: float = FONT_PT) -> int:
    """Lines `text` needs in a column `width_pt` wide, erring on the high side."""
    if not text:
        return 1
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split(" "):
            w = _word_em(word) * font_pt
            space = 0.33 * font_pt if used else 0.0
            if used + space + w <= width_pt:
                used += space + w
                continue
            if used:
                lines += 1
                used = 0.0
            while w > width_pt:  # overflow-wrap: anywhere breaks inside the word
                lines += 1
                w -= width_pt
            used = w
    return lines


# Text from Webex can be any length (a 1 MB display name): a cell taller than a page
# cannot be laid out and would overprint the rows after it. Free text is shortened to this
# many lines in the PDF; the CSVs and the workbook keep it whole.
MAX_TEXT_LINES = 12


def clip_lines(
    text: str, width_pt: float, max_lines: int = MAX_TEXT_LINES, font_pt: float = FONT_PT
) -> str:
    """``text`` if it fits in ``max_lines`` lines of ``width_pt``, else its longest start
    that does, followed by a note saying how much was left out."""
    if text_lines(text, width_pt, font_pt) <= max_lines:
        return text

    def shortened(n: int) -> str:
        return f"{text[:n]}… [{len(text) - n:,} more characters; in full in the CSV]"

    low, high = 0, len(text)  # the longest prefix that fits lies in [low, high)
    while high - low > 1:
        mid = (low + high) // 2
        if text_lines(shortened(mid), width_pt, font_pt) <= max_lines:
            low = mid
        else:
            high = mid
    return shortened(low)


# --------------------------------------------------------------------------- view model


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float  # share of the table width
    align: str = "left"
    # Text from Webex or the config (names, titles, messages): any script, any length,
    # line breaks. Its cells get `dir="auto"`, `white-space: pre-line` and
    # `overflow-wrap: anywhere`; the tool's own values (times, figures, status, flag
    # names) do not need them, and WeasyPrint lays out plain cells measurably faster.
    free_text: bool = True
    # The tool's own values stacked on lines (`\n`) in one cell: fewer boxes than a
    # column each. Free-text cells keep their line breaks anyway.
    lines: bool = False

    @property
    def css(self) -> str:
        """Classes of the column's cells: `text` (free text), `lines`, `right`, `status`."""
        classes = (
            "text" if self.free_text else "lines" if self.lines else "",
            "" if self.align == "left" else self.align,
            "status" if self.key == "status" else "",
        )
        return " ".join(c for c in classes if c)


@dataclass
class TableBlock:
    """A fragment of one table on one page; `rows` hold display strings."""

    kind: str
    columns: Sequence[Column]
    rows: list[list[str]]
    caption: str = ""
    row_classes: list[str] = field(default_factory=list)


@dataclass
class Block:
    kind: str  # heading | facts | chart | note | flow
    data: dict[str, Any]
    height: float


@dataclass
class Page:
    blocks: list[Block | TableBlock] = field(default_factory=list)
    used: float = 0.0
    # Layout work on the page in "row units" (one 8-cell table row, ~5 ms); parts are
    # cut and balanced by it.
    rows: float = PAGE_WEIGHT
    section: str = ""


# Few cells per row: WeasyPrint's cost is per box (cell), not per character, so related
# figures share a cell (attended time and share; first join and last leave).
# WeasyPrint's cost is per cell and line box (~0.7 ms for a cell of one line), so a row
# is one line of four cells: related figures share a cell, the e-mail follows the name,
# the flags follow the status (whose colour is a bar at the cell's left edge, no box).
ATTENDANCE_COLUMNS = (
    Column("person", "Person · e-mail", 0.33),
    Column("attended", "Attended (share) · breakout", 0.23, free_text=False),
    Column("presence", "First join – last leave", 0.14, free_text=False),
    Column("status", "Status · flags", 0.30, free_text=False),
)
DEVICE_COLUMNS = (
    Column("person", "Person · e-mail", 0.27),
    Column("device", "Device, audio, call type", 0.27),
    Column("phone_number", "Phone number", 0.16),
    Column("presence", "Join – leave", 0.18, free_text=False),
    Column("duration", "Duration", 0.12, "right", free_text=False),
)
COURSE_COLUMNS = (
    Column("course", "Course", 0.26),
    Column("sessions", "Sessions", 0.08, "right", free_text=False),
    Column("people", "Required", 0.08, "right", free_text=False),
    Column("excused", "Excused", 0.08, "right", free_text=False),
    Column("completed", "Completed", 0.09, "right", free_text=False),
    Column("share", "Completion", 0.11, "right", free_text=False),
    Column("population", "Required population", 0.30),
)
DEPARTMENT_COLUMNS = (
    Column("course", "Course", 0.30),
    Column("department", "Department", 0.30),
    Column("people", "Required", 0.10, "right", free_text=False),
    Column("excused", "Excused", 0.10, "right", free_text=False),
    Column("completed", "Completed", 0.10, "right", free_text=False),
    Column("share", "Completion", 0.10, "right", free_text=False),
)
NONCOMPLIANCE_COLUMNS = (
    Column("person", "Person", 0.22),
    Column("department", "Department", 0.11),
    Column("course", "Course", 0.14),
    Column("missing", "Missing sessions: date, meeting, why", 0.33),
    Column("overrides", "Overrides", 0.20),
)
OVERRIDE_COLUMNS = (
    Column("person", "Person", 0.22),
    Column("meeting", "Meeting", 0.20),
    Column("decision", "Decision → status", 0.12, free_text=False),
    Column("reason", "Reason", 0.20),
    Column("reviewer", "Reviewer, date", 0.26),
)
CALLER_COLUMNS = (
    Column("caller", "Caller", 0.18),
    Column("meeting", "Meeting", 0.22),
    Column("attended", "Attended · status", 0.14, free_text=False),
    Column("hints", "Hints (never merged)", 0.46),
)
OTHER_COLUMNS = (
    Column("person", "Person · e-mail", 0.36),
    Column("why", "Role · why not counted", 0.30),
    Column("attended", "Attended · status", 0.34, free_text=False),
)
FLAG_COLUMNS = (
    Column("flag", "Flag", 0.22, free_text=False),
    Column("rows", "Rows", 0.08, "right", free_text=False),
    Column("explanation", "What it means", 0.70),
)
PROBLEM_COLUMNS = (
    Column("what", "Meeting / entry", 0.35),
    Column("message", "Problem", 0.65),
)
NOTE_COLUMNS = (Column("note", "Note", 1.0),)


class Planner:
    """Packs blocks and table rows into explicit pages of known count."""

    def __init__(self, page_size: str) -> None:
        width, height = PAGE_SIZES.get(page_size, PAGE_SIZES["A4"])
        self.width = width - 2 * MARGIN_X
        self.capacity = (height - MARGIN_TOP - MARGIN_BOTTOM) * FILL
        self.pages: list[Page] = []

    def new_page(self, section: str) -> Page:
        page = Page(section=section)
        self.pages.append(page)
        return page

    @property
    def page(self) -> Page:
        return self.pages[-1]

    def block(self, block: Block, section: str) -> None:
        if not self.pages or (self.page.used + block.height > self.capacity and self.page.blocks):
            self.new_page(section)
        self.page.blocks.append(block)
        self.page.used += block.height

    def heading(self, text: str, section: str, *, level: int = 1, new_page: bool = False) -> None:
        if new_page or not self.pages:
            self.new_page(section)
        font = 15.0 if level == 1 else 10.5
        text = clip_lines(text, self.width, 3, font)
        height = text_lines(text, self.width, font) * font * 1.3 + (14 if level == 1 else 10)
        # Keep a heading with at least a few lines of what follows it.
        if self.page.used + height + 60 > self.capacity and self.page.blocks:
            self.new_page(section)
        self.page.blocks.append(Block("heading", {"text": text, "level": level}, height))
        self.page.used += height

    def _trailing_heading(self) -> Block | None:
        """The heading that ends the current page, if anything stands before it."""
        blocks = self.page.blocks
        last = blocks[-1] if blocks else None
        if isinstance(last, Block) and last.kind == "heading" and len(blocks) > 1:
            return last
        return None

    def _break_keeping_heading(self, section: str, heading: Block | None) -> None:
        """A new page; `heading`, which ends the current page, moves onto it."""
        if heading is not None:
            self.page.blocks.pop()
            self.page.used -= heading.height
        elif len(self.page.blocks) == 1 and self.page.blocks[0].kind == "heading":
            return  # the page holds only the table's heading: the table starts here
        if self.page.blocks:
            self.new_page(section)
        if heading is not None:
            self.page.blocks.append(heading)
            self.page.used += heading.height

    def table(
        self,
        kind: str,
        columns: Sequence[Column],
        rows: Iterable[list[str]],
        section: str,
        *,
        caption: str = "",
        continued: str = "",
        row_classes: Sequence[str] | None = None,
    ) -> None:
        """Rows packed into pages; a page that continues the table repeats its header
        under `continued` (default: the caption plus "(continued)")."""
        continued = continued or f"{caption} (continued)".lstrip()
        widths = [c.width * self.width - CELL_PAD_PT * 2 for c in columns]
        free = [i for i, c in enumerate(columns) if c.free_text]
        header_h = (
            max(text_lines(c.header, w) for c, w in zip(columns, widths, strict=True)) * LINE_PT
            + CELL_PAD_PT * 2
        )
        rows = list(rows)
        lines = [max(text_lines(v, w) for v, w in zip(row, widths, strict=True)) for row in rows]
        for i in (i for i, n in enumerate(lines) if n > MAX_TEXT_LINES):
            rows[i] = [clip_lines(v, widths[j]) if j in free else v for j, v in enumerate(rows[i])]
            lines[i] = max(text_lines(v, w) for v, w in zip(rows[i], widths, strict=True))
        heights = [n * LINE_PT + ROW_PAD_PT for n in lines]
        if len(rows) <= KEEP_TOGETHER_ROWS and self.pages:
            caption_h = text_lines(caption, self.width) * LINE_PT + 4 if caption else 0.0
            whole = caption_h + header_h + sum(heights)
            heading = self._trailing_heading()
            # A short table that fits on a page is not cut (a row or two alone on the next
            # page); it moves there whole, with the heading just above it.
            if (
                self.page.used + whole > self.capacity
                and whole + (heading.height if heading else 0.0) <= self.capacity
            ):
                self._break_keeping_heading(section, heading)
        current: TableBlock | None = None
        for i, (row, h) in enumerate(zip(rows, heights, strict=True)):
            if current is None or self.page.used + h > self.capacity:
                full = current is not None or self.page.used + header_h + h > self.capacity
                if full and self.page.blocks:
                    self.new_page(section)
                cont = current is not None
                current = TableBlock(kind, columns, [], continued if cont else caption)
                self.page.blocks.append(current)
                if current.caption:
                    self.page.used += text_lines(current.caption, self.width) * LINE_PT + 4
                self.page.used += header_h
            current.rows.append(row)
            if row_classes is not None:
                current.row_classes.append(row_classes[i])
            self.page.used += h
            self.page.rows += len(columns) * CELL_WEIGHT

    def flow(self, items: Iterable[str], section: str, *, caption: str = "") -> None:
        """Short entries as one flowing paragraph (one box instead of a table row each),
        cut into one paragraph per page."""
        sep = _width(FLOW_SEP)
        caption_h = LINE_PT + 9 if caption else 0.0
        current: Block | None = None
        used = 0.0  # width used on the current line
        for item in items:
            w = _width(item)
            if current is not None and used and used + sep + w <= self.width:
                current.data["items"].append(item)
                used += sep + w
                continue
            # A new line: as many as the entry needs (it may wrap on its own).
            item = clip_lines(item, self.width)
            lines = max(1, text_lines(item, self.width))
            h = lines * LINE_PT
            if current is None or self.page.used + h > self.capacity:
                cont = current is not None
                if (
                    cont or self.page.used + caption_h + h + 6 > self.capacity
                ) and self.page.blocks:
                    self.new_page(section)
                cap = caption + (" (continued)" if cont and caption else "")
                current = Block(
                    "flow", {"items": [], "caption": cap}, 6 + (caption_h if cap else 0)
                )
                self.page.blocks.append(current)
                self.page.used += current.height
            current.data["items"].append(item)
            current.height += h
            self.page.used += h
            self.page.rows += lines * FLOW_LINE_WEIGHT
            used = w if lines == 1 else self.width


def _person(
    name: Any, email: Any, key: Any, host: bool = False, cohost: bool = False, sep: str = "\n"
) -> str:
    name_s = "" if pd.isna(name) else str(name)
    email_s = "" if pd.isna(email) else str(email)
    first = name_s or email_s or ("" if pd.isna(key) else str(key))
    role = " (host)" if host else (" (co-host)" if cohost else "")
    second = email_s if email_s and email_s != first else ""
    return first + role + (sep + second if second else "")


def _s(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def _names(att: pd.DataFrame) -> dict[tuple[str, str], str]:
    cols = ["meeting_id", "person_key", "display_name", "email"]
    if not set(cols) <= set(att.columns):
        return {}
    return {
        (str(m), str(k)): _person(n, e, k, sep=" · ")
        for m, k, n, e in att[cols].itertuples(index=False, name=None)
    }


def _labels(att: pd.DataFrame) -> dict[tuple[str, str], str]:
    """One-line name of every person of every meeting (name, else e-mail, else key)."""
    cols = ["meeting_id", "person_key", "display_name", "email"]
    if not set(cols) <= set(att.columns):
        return {}
    return {
        (str(m), str(k)): _s(n) or _s(e) or _s(k)
        for m, k, n, e in att[cols].itertuples(index=False, name=None)
    }


def _absent_entry(name: Any, email: Any, key: Any, roster_name: Any, department: Any) -> str:
    """`Roster name (e-mail, department)` on one line, for the list of absentees."""
    email_s = _s(email)
    first = _s(roster_name) or _s(name) or email_s or _s(key)
    details = [v for v in (email_s if email_s != first else "", _s(department)) if v]
    return first + (f" ({', '.join(details)})" if details else "")


def _attended_cell(attended: str, share_s: str, breakout: Any) -> str:
    """`0:30:00 (50.0 %) · breakout 0:10:00` (attended time includes the breakout)."""
    text = f"{attended} ({share_s})" if share_s else attended
    if not pd.isna(breakout) and int(breakout) != 0:
        text += f" · breakout {fmt_duration(breakout)}"
    return text


def _spans(start: pd.Series, end: pd.Series, tz: Any) -> list[str]:
    """`hh:mm:ss–hh:mm:ss` in the display zone (either side may be unknown), per row."""
    return [
        f"{a or '?'}–{b or '?'}" if a or b else ""
        for a, b in zip(
            fmt_local_many(start, tz, date=False), fmt_local_many(end, tz, date=False), strict=True
        )
    ]


def _audit_sections(plan: Planner, inp: ReportInput) -> None:
    """Non-compliance first, then overrides, unidentified callers and departments."""
    summary, tz = inp.summary, inp.tz
    section = "audit"
    plan.heading(f"Non-compliance ({len(summary.noncompliance)})", section, new_page=True)
    if summary.noncompliance:
        plan.table(
            "noncompliance",
            NONCOMPLIANCE_COLUMNS,
            [
                [
                    n.person.label,
                    n.department,
                    f"{n.course}\n{n.sessions_complete} of {n.sessions_total} complete",
                    "\n".join(m.text(tz) for m in n.missing) or "sessions required not reached",
                    "\n".join(d.text for d in n.decisions),
                ]
                for n in summary.noncompliance
            ],
            section,
            caption="Required people who did not complete a course, and why",
        )
    else:
        text = "Every required person completed their courses (or was excused)."
        plan.block(Block("note", {"text": text}, 20), section)
    plan.heading(f"Overrides applied ({len(summary.overrides)})", section, level=2)
    if summary.overrides:
        plan.table(
            "overrides",
            OVERRIDE_COLUMNS,
            [
                [
                    o.person.label,
                    f"{fmt_local(o.start, tz)[:10]} {o.title}".strip(),
                    f"{o.decision.decision} → {o.status}",
                    o.decision.reason,
                    f"{o.decision.reviewer}, {o.decision.date}",
                ]
                for o in summary.overrides
            ],
            section,
        )
    else:
        plan.block(Block("note", {"text": "No reviewer's decision applied."}, 20), section)
    if summary.callers:
        plan.heading(f"Unidentified callers ({len(summary.callers)})", section, level=2)
        plan.table(
            "callers",
            CALLER_COLUMNS,
            [
                [
                    c.person.label,
                    f"{fmt_local(c.start, tz)[:10]} {c.title}".strip(),
                    f"{fmt_duration(c.attended_seconds)} · {c.status}",
                    "\n".join(c.hints) or "no one else used this number in this run",
                ]
                for c in summary.callers
            ],
            section,
            caption="Dial-in callers whose number is on no roster; they enter no rate",
        )
    if summary.departments:
        plan.heading("Completion per department (required people)", section, level=2)
        plan.table(
            "departments",
            DEPARTMENT_COLUMNS,
            [
                [
                    d.course,
                    d.department,
                    str(d.people),
                    str(d.excused),
                    str(d.completed),
                    d.rate.text,
                ]
                for d in summary.departments
            ],
            section,
            caption=f"Criteria: {summary.criteria_line()}",
        )


def _required_mask(rows: pd.DataFrame) -> pd.Series:
    """Rows that enter the rates (rule 11); every row when the result has no `required`."""
    if "required" not in rows.columns:
        return pd.Series(True, index=rows.index, dtype=bool)
    return rows["required"].map(truthy).astype(bool)


def _attendance_cells(
    rows: pd.DataFrame, tz: Any, *, others: bool
) -> tuple[list[list[str]], list[str]]:
    """The four cells of each attendance row; the person is named by the roster, with
    the email or number seen beside when merged (rule 14)."""
    cols = [
        "roster_name",
        "display_name",
        "email",
        "person_key",
        "is_host",
        "is_cohost",
        "attended_seconds",
        "meeting_seconds",
        "breakout_seconds",
        "status",
        "flags",
        "seen_as",
        "role",
    ]
    present = rows.reindex(columns=[*cols, "first_join", "last_leave"])
    table_rows, classes = [], []
    for (
        roster_name,
        name,
        email,
        key,
        host,
        cohost,
        attended,
        msec,
        bsec,
        st,
        flags,
        seen,
        role,
    ), first_s, last_s in zip(
        present[cols].itertuples(index=False, name=None),
        fmt_local_many(present["first_join"], tz, date=False),
        fmt_local_many(present["last_leave"], tz, date=False),
        strict=True,
    ):
        person = _person(
            _s(roster_name) or name,
            email,
            key,
            bool(host) if not pd.isna(host) else False,
            bool(cohost) if not pd.isna(cohost) else False,
            sep=" · ",
        )
        if _s(seen):
            person += f" · seen as {_s(seen).replace(';', '; ')}"
        status = [_s(st)]
        if others:
            status.append(_s(role) or "attendee")
        table_rows.append(
            [
                person,
                _attended_cell(fmt_duration(attended), share_text(attended, msec), bsec),
                f"{first_s or '?'} – {last_s or '?'}" if first_s or last_s else "",
                " · ".join([*status, *split_flags(flags)]),
            ]
        )
        classes.append(f"status-{_s(st)}")
    return table_rows, classes


def build_pages(inp: ReportInput) -> tuple[list[Page], dict[str, Any]]:  # noqa: C901, PLR0915
    """The report as explicit pages, plus the facts every page's template may show."""
    tz = inp.tz
    run = inp.run
    res = inp.result
    att = res.attendance
    plan = Planner(inp.page_size)
    summary = inp.summary
    counts = summary.statuses
    # "Audited" counts the instances whose participants were fetched, as the CLI does;
    # a failure is an instance that could not be fetched, or a whole config entry.
    unfetched = summary.unfetched
    facts = [
        (
            "Period",
            f"{fmt_local(run.period_start, tz)} to {fmt_local(run.period_end, tz)}"
            f" ({run.period_label}, end exclusive)",
        ),
        ("Generated at", f"{fmt_local(run.as_of, tz)} ({run.timezone})"),
        ("Run id", run.run_id),
        ("Config hash", run.config_hash),
        ("Audience", inp.spec.audience),
        (
            "Meetings",
            f"{summary.meetings_audited} audited, {summary.meetings_failed} could not be fetched",
        ),
        (
            "Completion (required people)",
            f"{summary.rate.long} completed their courses",
        ),
        (
            "Required rows",
            f"{counts.rows}: {counts.complete} complete, {counts.partial} partial, "
            f"{counts.absent} absent, {counts.excused} excused; "
            f"{len(summary.others)} other participant row(s) not counted",
        ),
        ("Tool version", run.tool_version + (" (offline re-run)" if run.offline else "")),
    ]
    meta = {
        "report_name": inp.spec.name,
        "title": f"Training attendance — {run.period_label}",
        "facts": facts,
        "confidential": CONFIDENTIAL,
        "compliance": inp.spec.audience == COMPLIANCE,
    }

    # Cover: facts, completion charts, course table.
    plan.heading(str(meta["title"]), "cover", new_page=True)
    plan.block(Block("facts", {"facts": facts}, len(facts) * 12 + 12), "cover")
    criteria = criteria_facts(summary)
    plan.heading("Criteria of every rate in this report", "cover", level=2)
    height = sum(text_lines(v, plan.width * 0.75) for _, v in criteria) * 11 + 10
    plan.block(Block("facts", {"facts": criteria}, height), "cover")
    if summary.courses:
        plan.heading("Completion per course (required people)", "cover", level=2)
        plan.table(
            "courses",
            COURSE_COLUMNS,
            [
                [
                    c.course,
                    str(c.sessions),
                    str(c.people),
                    str(c.excused),
                    str(c.completed),
                    c.rate.text,
                    c.population or "not stated",
                ]
                for c in summary.courses
            ],
            "cover",
        )
    _audit_sections(plan, inp)
    bars = [
        Bar(f"{m.title} ({fmt_local(m.start, tz)[:10]})", m.complete, m.partial, m.absent)
        for m in summary.meetings
    ]
    if bars:
        for i in range(0, len(bars), 20):
            chunk = bars[i : i + 20]
            plan.block(
                Block(
                    "chart",
                    {"svg": completion_chart(chunk, title="Completion per meeting")},
                    chart_height(len(chunk)) * 0.75 + 8,
                ),
                "cover",
            )
    if summary.courses:
        course_bars = [Bar(c.course, c.completed, 0, c.not_completed) for c in summary.courses]
        for i in range(0, len(course_bars), 20):
            chunk = course_bars[i : i + 20]
            plan.block(
                Block(
                    "chart",
                    {"svg": completion_chart(chunk, title="Completion per course")},
                    chart_height(len(chunk)) * 0.75 + 8,
                ),
                "cover",
            )

    # One section per meeting.
    by_meeting = {k: g for k, g in att.groupby("meeting_id", sort=False)} if len(att) else {}
    devices = res.devices
    dev_by = {k: g for k, g in devices.groupby("meeting_id", sort=False)} if len(devices) else {}
    brk = res.breakouts
    brk_by = {k: g for k, g in brk.groupby("meeting_id", sort=False)} if len(brk) else {}
    names = _names(att)
    labels = _labels(att)
    instances = sorted(inp.instances, key=lambda i: (i.start or run.period_start, i.title, i.id))
    by_id = {m.meeting_id: m for m in summary.meetings}
    for inst in instances:
        section = f"meeting:{inst.id}"
        rows = by_meeting.get(inst.id, att[:0])
        plan.heading(inst.title, section, new_page=True)
        seconds = rows["meeting_seconds"].iloc[0] if len(rows) else None
        mfacts = [
            ("Instance id", inst.id),
            ("Course", inst.course),
            ("Start", fmt_local(inst.start, tz) if inst.start else "unknown"),
            ("End", fmt_local(inst.end, tz) if inst.end else "not ended / unknown"),
            ("Duration", fmt_duration(seconds)),
            ("Host", inst.host_email or ""),
        ]
        figures = by_id.get(inst.id)
        if figures is not None:
            mfacts += [
                (
                    "Completion (required)",
                    f"{figures.rate.long} ({figures.excused} excused, {figures.others} other"
                    " participant(s) not counted)",
                ),
                ("Criteria", summary.criteria_line(figures.population)),
            ]
        height = sum(text_lines(v, plan.width * 0.75) for _, v in mfacts) * 11 + 10
        plan.block(Block("facts", {"facts": mfacts}, height), section)
        if inst.id in unfetched:
            text = f"The participants could not be fetched: {unfetched[inst.id]}"
            note_h = text_lines(text, plan.width) * LINE_PT + 12
            plan.block(Block("note", {"text": text}, note_h), section)
        elif len(rows) == 0:
            plan.block(Block("note", {"text": "No participants were recorded."}, 20), section)
        required = _required_mask(rows)
        for part, others in ((rows[required], False), (rows[~required], True)):
            table_rows, classes = _attendance_cells(part, tz, others=others)
            if not table_rows:
                continue
            what = "other participants" if others else "attendance"
            plan.table(
                "attendance",
                ATTENDANCE_COLUMNS,
                table_rows,
                section,
                caption=(
                    f"Other participants ({len(table_rows)}): not required, in no rate"
                    if others
                    else ""
                ),
                # A page that continues the table says whose rows it holds.
                continued=f"{inst.title} — {what} (continued)",
                row_classes=classes,
            )
        absent = rows[required & (rows["status"] == "absent")] if len(rows) else rows
        if len(absent):
            # The absentees are rows of the table above too; here they are one flowing,
            # alphabetical list per meeting (roster name, e-mail, department).
            plan.heading(f"Absent ({len(absent)})", section, level=2)
            entries = sorted(
                (
                    _absent_entry(n, e, k, r, d)
                    for n, e, k, d, r in absent.reindex(
                        columns=["display_name", "email", "person_key", "department", "roster_name"]
                    ).itertuples(index=False, name=None)
                ),
                key=str.casefold,
            )
            plan.flow(entries, section)
        if inp.show_devices and inst.id in dev_by:
            dev = dev_by[inst.id].reindex(
                columns=[
                    "person_key",
                    "device_type",
                    "audio_type",
                    "call_type",
                    "phone_number",
                    "joined",
                    "left",
                    "duration_seconds",
                ]
            )
            plan.heading("Devices", section, level=2)
            plan.table(
                "devices",
                DEVICE_COLUMNS,
                [
                    [
                        names.get((inst.id, _s(k)), _s(k)),
                        ", ".join(v for v in (_s(dt), _s(at), _s(ct)) if v),
                        _s(ph),
                        span,
                        fmt_duration(d),
                    ]
                    for (k, dt, at, ct, ph, _, _, d), span in zip(
                        dev.itertuples(index=False, name=None),
                        _spans(dev["joined"], dev["left"], tz),
                        strict=True,
                    )
                ],
                section,
                continued=f"{inst.title} — devices (continued)",
            )
        if inst.id in brk_by:
            # One flowing list per breakout room: who, from when to when, how long.
            b = brk_by[inst.id].reindex(
                columns=[
                    "person_key",
                    "breakout_id",
                    "breakout_name",
                    "joined",
                    "left",
                    "duration_seconds",
                ]
            )
            rooms: dict[str, list[tuple[str, str]]] = {}
            for (k, bid, bn, _, _, d), span in zip(
                b.itertuples(index=False, name=None),
                _spans(b["joined"], b["left"], tz),
                strict=True,
            ):
                who = labels.get((inst.id, _s(k)), _s(k))
                entry = f"{who} {span} ({fmt_duration(d)})"
                rooms.setdefault(_s(bn) or _s(bid), []).append((who.casefold(), entry))
            plan.heading("Breakout sessions", section, level=2)
            for room, room_entries in rooms.items():
                people = len({who for who, _ in room_entries})
                plan.flow(
                    [e for _, e in sorted(room_entries)],
                    section,
                    caption=f"{room} — {people} {'person' if people == 1 else 'people'}",
                )

    # Data-quality appendix.
    plan.heading("Data quality", "appendix", new_page=True)
    explanations = flag_explanations()
    if summary.flags:
        plan.table(
            "flags",
            FLAG_COLUMNS,
            [
                [f, str(n), explanations.get(f, "No explanation is recorded for this flag.")]
                for f, n in summary.flags.items()
            ],
            "appendix",
            caption="Flags raised in this report",
        )
    else:
        plan.block(Block("note", {"text": "No row of this report carries a flag."}, 20), "appendix")
    problems = [
        [p.entry_id + (f" / {p.instance_id}" if p.instance_id else ""), p.message]
        if p.kind == "fetch failure"
        else [p.entry_id, p.message]
        for p in summary.problems
    ]
    if problems:
        plan.table(
            "problems",
            PROBLEM_COLUMNS,
            problems,
            "appendix",
            caption="Meetings that could not be fetched, and unusable API pages",
        )
    else:
        plan.block(
            Block(
                "note",
                {"text": "Every meeting was fetched and every page of participants could be read."},
                20,
            ),
            "appendix",
        )
    if summary.notes:
        plan.table(
            "notes",
            NOTE_COLUMNS,
            [[note] for note in summary.notes],
            "appendix",
            caption="Data-quality notes: records with fields of the wrong type, and settings "
            "that make a result meaningless",
        )
    return plan.pages, meta


# --------------------------------------------------------------------------- rendering


def _css_string(value: str) -> Markup:
    """`value` as the body of a CSS string: no quote, backslash, newline or `<` left raw.

    Inside `<style>` HTML entities are not decoded, so text that autoescape already turned
    into `&amp;` is taken back to plain text first; the result needs no HTML escaping
    (nothing in it can end the style element), hence Markup.
    """
    if isinstance(value, Markup):
        value = value.unescape()
    out = []
    for ch in str(value):
        if ch in '"\\<>' or ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup("".join(out))  # noqa: S704 -- every character that could end <style> is escaped above


def environment(user_templates: Path | None) -> Environment:
    """Jinja environment: the user's folder first, then the shipped templates."""
    loaders: list[BaseLoader] = []
    if user_templates is not None:
        loaders.append(ConfinedLoader(str(user_templates)))
    shipped = ConfinedLoader(str(templates_dir()))
    loaders.append(shipped)
    # `shipped/<name>` always reaches the shipped file, so a user's report.html.j2 can
    # extend the original and override only some blocks.
    loaders.append(PrefixLoader({"shipped": shipped}))
    env = sandboxed_environment(
        ChoiceLoader(loaders),
        # CSS is included raw inside <style>, where HTML entities would not be decoded.
        html_extensions=("html", "j2", "htm", "xml", "svg"),
        plain_extensions=("css",),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_string"] = _css_string
    return env


def template_roots(user_templates: Path | None) -> list[Path]:
    roots = [templates_dir()]
    if user_templates is not None:
        roots.insert(0, user_templates)
    return roots


def _part_ranges(pages: Sequence[Page]) -> list[tuple[int, int]]:
    """Contiguous page ranges of at most CHUNK_ROWS row units of layout work (see
    `Page.rows`; a page is never split).

    The parts are balanced and their number is a multiple of MAX_WORKERS, so both
    workers stay busy to the end instead of one finishing a long last part alone.
    """
    total = sum(page.rows for page in pages)
    count = max(1, int(-(-total // CHUNK_ROWS)))
    if count > 1:
        count = -(-count // MAX_WORKERS) * MAX_WORKERS
    target = total / count
    ranges: list[tuple[int, int]] = []
    start = 0
    rows = done = 0.0
    for i, page in enumerate(pages):
        over = rows + page.rows > CHUNK_ROWS
        reached = done + rows + page.rows / 2 > target * (len(ranges) + 1)
        if i > start and (over or reached):
            ranges.append((start, i))
            done += rows
            start, rows = i, 0.0
        rows += page.rows
    ranges.append((start, len(pages)))
    return ranges


def render_html(
    inp: ReportInput,
    pages: Sequence[Page],
    meta: dict[str, Any],
    *,
    first_page: int,
    total_pages: int,
) -> str:
    env = environment(inp.templates)
    try:
        template = env.get_template("report.html.j2")
        return template.render(
            pages=pages,
            first_page=first_page,
            total_pages=total_pages,
            page_size=inp.page_size if inp.page_size in PAGE_SIZES else "A4",
            font_pt=FONT_PT,
            sep=FLOW_SEP,
            **meta,
        )
    except TemplateError as exc:
        problem = template_problem(exc, "report.html.j2")
        raise RenderError(f"report {inp.spec.name}: template {problem}") from None


def render_pdf(inp: ReportInput, path: Path) -> Path:
    """Write the report PDF to `path` and return it (this format's `render`)."""
    # The planner and the join are serial and lose ~10-80 % to collections that walk the
    # report's objects for nothing (see `reporting.render.pdf_worker.render_part`).
    with collector_paused():
        return _render_pdf(inp, path)


render = render_pdf  # the renderer interface of `reporting.render.formats`


def _render_pdf(inp: ReportInput, path: Path) -> Path:
    res = inp.result
    started = time.perf_counter()
    if len(res.attendance) + len(res.breakouts) + len(res.devices) > CHUNK_ROWS:
        _start_fork_server()  # imports WeasyPrint in the background while we plan
    pages, meta = build_pages(inp)
    ranges = _part_ranges(pages)
    planned = time.perf_counter()
    counts = [end - start for start, end in ranges]
    roots = tuple(str(r) for r in template_roots(inp.templates))
    base_url = templates_dir().as_uri() + "/"
    for attempt in (1, 2):
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
        results = _run_jobs(jobs, len(ranges))
        rendered = time.perf_counter()
        actual = [n for _, n, _ in results]
        for _, _, blocked in results:
            for url in blocked:
                log.warning("report %s: refused to fetch %s", inp.spec.name, url[:200])
        if actual == counts:
            break
        # A planned page spilled over: the counts are now exact, so one more pass
        # makes every footer right.
        log.info("page estimate missed (%s != %s); rendering again", actual, counts)
        counts = actual
        if attempt == 2:
            raise RenderError(f"could not paginate {path.name} consistently")
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


# The fork server imports the whole renderer, not only `pdf_worker` and WeasyPrint: the
# lighter preload starts 0.45 s sooner, yet measured slower and larger over the 10,000-row
# bench (tree CPU 36.7-39.8 s vs 34.3-35.6 s, peak PSS 625 vs 534 MiB, alternated runs).
_PRELOAD = ["weasyprint", "reporting.render.pdf"]


def _start_fork_server() -> None:
    """Start the fork server now; it imports WeasyPrint once for all workers (~1 s)."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(_PRELOAD)
    forkserver.ensure_running()


def _run_jobs(jobs: Iterable[PartJob], count: int) -> list[tuple[bytes, int, list[str]]]:  # noqa: C901, PLR0915
    """Render the parts in order, at most MAX_WORKERS at a time, one fresh process each.

    A process per part (see `part_worker`), forked from the fork server, which imported
    WeasyPrint once. Forking and starting one takes 0.2-0.6 s on a busy machine, so one
    spare worker is always started ahead and waits for its job: when a part is done the
    next one starts at once. (ProcessPoolExecutor with max_tasks_per_child=1 only
    replaces a worker after it exited, leaving a core idle in between, every part.) A
    worker that dies, or a part that takes over `PART_SECONDS`, fails the report with a
    `RenderError` naming the part.
    """
    if count == 1:
        return [render_part(job) for job in jobs]
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    todo = iter(enumerate(jobs))
    built: deque[tuple[int, PartJob]] = deque()  # parts whose HTML is ready
    results: dict[int, tuple[bytes, int, list[str]]] = {}
    idle: list[tuple[Connection, BaseProcess]] = []
    running: dict[Connection, tuple[int, BaseProcess]] = {}
    started = 0

    def start_worker() -> None:
        nonlocal started
        if started < count:
            ours, theirs = ctx.Pipe()
            process = ctx.Process(target=part_worker, args=(theirs,), daemon=True)
            try:
                process.start()
            except OSError as exc:
                raise RenderError(f"could not start a PDF worker process: {exc}") from None
            finally:
                theirs.close()
            idle.append((ours, process))
            started += 1

    def prepare(n: int = 1) -> None:
        """Build the HTML of the next parts while the workers are busy, so a worker that
        is done never waits for it."""
        while len(built) < n and (item := next(todo, None)) is not None:
            built.append(item)

    def dispatch() -> None:
        while len(running) < MAX_WORKERS and idle:
            prepare()
            if not built:
                return
            index, job = built.popleft()
            conn, process = idle.pop(0)
            try:
                conn.send(job)
            except OSError:  # the spare died before it got its part (out of memory, say)
                process.join()
                raise RenderError(
                    f"the worker for PDF part {index + 1} of {count} ended before it got"
                    f" its part (exit code {process.exitcode})"
                ) from None
            running[conn] = (index, process)
            began[conn] = time.monotonic()
            if not idle:
                start_worker()  # the one spare, for the next part
        prepare()

    began: dict[Connection, float] = {}
    try:
        # The first parts' HTML while the fork server still imports WeasyPrint.
        prepare(MAX_WORKERS)
        for _ in range(min(count, MAX_WORKERS)):
            start_worker()
        dispatch()
        while running:
            deadline = min(began[c] for c in running) + PART_SECONDS
            ready = wait(list(running), timeout=max(0.0, deadline - time.monotonic()))
            if not ready:
                stuck = min(running, key=lambda c: began[c])
                raise RenderError(
                    f"PDF part {running[stuck][0] + 1} of {count} took over"
                    f" {PART_SECONDS:.0f} s; its worker was stopped"
                )
            for item in ready:
                conn = cast(Connection, item)
                index, process = running.pop(conn)
                del began[conn]
                try:
                    status, payload = conn.recv()
                except EOFError:
                    process.join()
                    raise RenderError(
                        f"the worker rendering PDF part {index + 1} of {count} ended"
                        f" (exit code {process.exitcode})"
                    ) from None
                if status != "ok":
                    conn.close()
                    process.join()  # it is ending: gone before the error leaves here
                    raise cast(BaseException, payload)
                results[index] = payload
                dispatch()
                conn.close()
                process.join()
    finally:
        for conn, process in [*idle, *((c, p) for c, (_, p) in running.items())]:
            conn.close()
            if process.is_alive():
                process.terminate()
            process.join()
    return [results[i] for i in range(count)]


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
