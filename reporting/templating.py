"""Jinja for user templates: confined to their folder and run in Jinja's sandbox.

A `templates:` folder is the operator's, but what it holds is still text from a file
system others may write to, and a template is a program. So:

- every template file is read only if its real path (links followed) lies inside the
  real path of the folder it was found in: a link to ``/etc/passwd`` dropped into the
  folder, or ``{% include "../secrets" %}``, is refused with a message naming it, never
  read and never silently replaced by the shipped template;
- templates run in `jinja2.sandbox.ImmutableSandboxedEnvironment`: no access to
  ``__globals__``, ``__init__`` or other internals (``cycler.__init__.__globals__.os``
  raises instead of running a command), and no mutating lists or dicts the report hands
  in;
- autoescape is on for HTML (and for templates built from strings); CSS and plain-text
  templates are not escaped, as their format needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
import jinja2.exceptions
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["ConfinedLoader", "TemplateEscapeError", "sandboxed_environment"]


class TemplateEscapeError(jinja2.TemplateError):
    """A template name or file leads outside its templates folder."""


class ConfinedLoader(jinja2.FileSystemLoader):
    """`FileSystemLoader` whose files must really lie inside their search folder."""

    def __init__(self, searchpath: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]):
        super().__init__(searchpath, encoding="utf-8", followlinks=False)
        self._real_roots = [os.path.realpath(p) for p in self.searchpath]

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if "\x00" in template or "\\" in template or template.startswith("/"):
            raise TemplateEscapeError(f"template name {template!r} is not a plain relative path")
        # jinja2.loaders.split_template_path refuses ".." pieces (TemplateNotFound).
        if any(piece == ".." for piece in template.split("/")):
            raise TemplateEscapeError(f"template name {template!r} leads out of its folder")
        source, filename, uptodate = super().get_source(environment, template)
        real = os.path.realpath(filename)
        root = next(
            (r for r, s in zip(self._real_roots, self.searchpath, strict=True)
             if os.path.abspath(filename).startswith(os.path.join(os.path.abspath(s), ""))),
            None,
        )  # fmt: skip
        if root is None or os.path.commonpath([root, real]) != root:
            raise TemplateEscapeError(
                f"template {template!r} in {Path(filename).parent} is a link to {real}, "
                "outside its templates folder; copy the file into the folder instead"
            )
        return source, filename, uptodate


def sandboxed_environment(
    loader: jinja2.BaseLoader,
    *,
    html_extensions: Sequence[str] = ("html", "htm", "xml", "svg", "j2"),
    plain_extensions: Sequence[str] = ("css",),
    **options: Any,
) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment every report and email template is rendered in."""
    autoescape = jinja2.select_autoescape(
        enabled_extensions=tuple(html_extensions),
        disabled_extensions=tuple(plain_extensions),
        default=True,
        default_for_string=True,
    )
    return ImmutableSandboxedEnvironment(loader=loader, autoescape=autoescape, **options)


def template_problem(exc: jinja2.TemplateError, name: str) -> str:
    """One line for template ``name`` that failed: which file (and line), and what."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"{exc.name or name}:{exc.lineno}: {exc.message}"
    if isinstance(exc, jinja2.TemplateNotFound) and not isinstance(exc, TemplateEscapeError):
        return f"{name}: template {exc.name!r} not found"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return f"{name}: refused by the template sandbox: {exc}"
    return f"{name}: {exc}"
