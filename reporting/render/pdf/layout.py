"""Page arithmetic: the planner estimates the height of every heading, table row and
flowing line from its text and packs them into explicit pages, then cuts the pages into
balanced parts for the workers.

"Page X of Y" must be right across parts, but a part only learns its page count by
laying it out. So the renderer paginates itself: estimates err high (generous
per-character widths, greedy word wrap) and pages are filled to `FILL` only, so every part
knows its first page number and the total before it is laid out. `render_pdf` checks the
real counts and renders again in the rare case an estimate was too small.

WeasyPrint's cost follows its boxes (per table cell, per line box, per page's margin
boxes), so the planner also counts each page's layout work in "row units" (`Page.rows`),
by which parts are cut and balanced.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

CHUNK_ROWS = 600  # row units of layout work per part: bounds a worker's memory
MAX_WORKERS = 2  # parts laid out at once (the pool's size)

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
# Layout work in row units (one 8-cell table row): a page (its margin boxes), a table
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
    # Layout work on the page in "row units" (one 8-cell table row); parts are
    # cut and balanced by it.
    rows: float = PAGE_WEIGHT
    section: str = ""


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


def part_ranges(pages: Sequence[Page]) -> list[tuple[int, int]]:
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
