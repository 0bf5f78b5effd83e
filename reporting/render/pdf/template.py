"""The report's HTML: the Jinja environment (the user's templates before the shipped
ones) and one part's pages rendered through `report.html.j2`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
)
from markupsafe import Markup

from reporting.errors import RenderError
from reporting.render.context import ReportInput
from reporting.render.pdf.layout import FLOW_SEP, FONT_PT, PAGE_SIZES, Page
from reporting.resources import templates_dir
from reporting.templating import ConfinedLoader, sandboxed_environment, template_problem


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
