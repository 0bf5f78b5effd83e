"""Where the shipped Jinja templates live, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """The shipped templates folder.

    A wheel carries them inside the package (`reporting/_templates`, see pyproject's
    force-include); a source checkout or an editable install reads the top-level
    `templates/` folder, so there is a single copy to edit.
    """
    for candidate in (_PACKAGE / "_templates", _PACKAGE.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "the report templates are missing from this installation; reinstall the package"
    )
