"""Inline SVG charts for the PDF: no image files, no fonts or URLs from outside.

The SVG is built as text with every label escaped, then embedded in the HTML; WeasyPrint
draws it natively, so it stays vector in the PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup


@dataclass(frozen=True)
class Bar:
    label: str
    complete: int
    partial: int
    absent: int

    @property
    def total(self) -> int:
        return self.complete + self.partial + self.absent


COLORS = {"complete": "#2e7d32", "partial": "#f9a825", "absent": "#c62828"}
# Presentation attributes, not CSS: WeasyPrint's SVG does not take `fill` from stylesheets.
TITLE_FONT = 'font-family="DejaVu Sans" font-size="11" font-weight="bold" fill="#1f3a5f"'
LABEL_FONT = 'font-family="DejaVu Sans" font-size="9" fill="#333"'
BAR_HEIGHT = 14
GAP = 6


def _clip(label: str, limit: int = 48) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def completion_chart(bars: Sequence[Bar], *, title: str, width: int = 640) -> Markup:
    """A horizontal stacked bar per item: complete / partial / absent, with the share."""
    label_w, value_w = 250, 70
    plot_w = width - label_w - value_w
    height = 28 + len(bars) * (BAR_HEIGHT + GAP) + 18
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="12" {TITLE_FONT}>{escape(title)}</text>',
    ]
    y = 24
    for bar in bars:
        parts.append(
            f'<text x="{label_w - 6}" y="{y + BAR_HEIGHT - 3}" text-anchor="end" '
            f"{LABEL_FONT}>{escape(_clip(bar.label))}</text>"
        )
        x = float(label_w)
        for key, value in (
            ("complete", bar.complete),
            ("partial", bar.partial),
            ("absent", bar.absent),
        ):
            if bar.total and value:
                w = plot_w * value / bar.total
                parts.append(
                    f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{BAR_HEIGHT}" '
                    f'fill="{COLORS[key]}"/>'
                )
                x += w
        if not bar.total:
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{BAR_HEIGHT}" '
                f'fill="#eeeeee"/>'
            )
        pct = f"{int(bar.complete * 1000 / bar.total) / 10:.1f} %" if bar.total else "–"
        parts.append(
            f'<text x="{label_w + plot_w + 6}" y="{y + BAR_HEIGHT - 3}" {LABEL_FONT}>{pct}</text>'
        )
        y += BAR_HEIGHT + GAP
    legend_x = label_w
    for key in ("complete", "partial", "absent"):
        parts.append(
            f'<rect x="{legend_x}" y="{y + 2}" width="10" height="10" fill="{COLORS[key]}"/>'
            f'<text x="{legend_x + 14}" y="{y + 11}" {LABEL_FONT}>{key}</text>'
        )
        legend_x += 90
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated label is escaped above


def chart_height(n_bars: int) -> int:
    return 28 + n_bars * (BAR_HEIGHT + GAP) + 18
