"""The module map of docs/ARCHITECTURE.md, made from the code (issue 11).

Every package and module of `reporting/` is listed with the first sentence of its
docstring, so the map cannot miss a module or describe one that is gone:
tests/unit/test_architecture_doc.py fails when the page and the code disagree.

    python -m tests.module_map --write     # rewrite the map in docs/ARCHITECTURE.md
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reporting"
DOC = ROOT / "docs" / "ARCHITECTURE.md"
START = "<!-- module map: made by `python -m tests.module_map --write`; do not edit by hand -->"
END = "<!-- end of module map -->"
TEXT_COLUMN = 24
WIDTH = 100
_SENTENCE = re.compile(r"^(.*?[.!?])(?:\s|$)", re.DOTALL)


def first_sentence(path: Path) -> str:
    """The first sentence of a module's docstring, on one line."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    found = _SENTENCE.match(paragraph)
    return found.group(1) if found else paragraph


def _line(depth: int, name: str, text: str) -> list[str]:
    head = "  " * depth + name
    if not text:
        return [head]
    pad = max(TEXT_COLUMN, len(head) + 2)
    wrapped = textwrap.wrap(text, WIDTH - pad) or [""]
    lines = [head.ljust(pad) + wrapped[0]]
    lines += [" " * pad + more for more in wrapped[1:]]
    return lines


def _package(folder: Path, depth: int) -> list[str]:
    lines: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.is_dir() and (path / "__init__.py").exists():
            lines += _line(depth, path.name + "/", first_sentence(path / "__init__.py"))
            lines += _package(path, depth + 1)
        elif path.suffix == ".py" and path.name not in ("__init__.py", "__main__.py"):
            lines += _line(depth, path.name, first_sentence(path))
    return lines


def module_map() -> str:
    """The map as it belongs between START and END in the page (a fenced block)."""
    body = _line(0, "reporting/", first_sentence(PACKAGE / "__init__.py")) + _package(PACKAGE, 1)
    return "\n".join(["```", *body, "```"])


def page_with_map(page: str) -> str:
    """`page` with the text between its markers replaced by today's map."""
    before, found, rest = page.partition(START)
    if not found or END not in rest:
        raise SystemExit(f"{DOC}: the markers of the module map are missing")
    after = rest.partition(END)[2]
    return f"{before}{START}\n{module_map()}\n{END}{after}"


def main(argv: list[str]) -> int:
    page = DOC.read_text(encoding="utf-8")
    wanted = page_with_map(page)
    if "--write" in argv:
        DOC.write_text(wanted, encoding="utf-8")
        return 0
    print(module_map())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
