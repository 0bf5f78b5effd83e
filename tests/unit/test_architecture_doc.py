"""docs/ARCHITECTURE.md's module map is the code's (issue 11): made from the docstrings."""

from __future__ import annotations

from tests.module_map import DOC, END, PACKAGE, START, module_map, page_with_map


def test_the_module_map_is_the_one_the_code_makes() -> None:
    page = DOC.read_text(encoding="utf-8")
    assert page_with_map(page) == page, (
        "docs/ARCHITECTURE.md's module map is stale: run `python -m tests.module_map --write`"
    )


def test_the_map_names_every_module_and_only_those() -> None:
    listed = module_map()
    for path in PACKAGE.rglob("*.py"):
        if path.name not in ("__init__.py", "__main__.py"):
            assert f" {path.name} " in listed or f" {path.name}\n" in listed, path
    page = DOC.read_text(encoding="utf-8")
    assert page.index(START) < page.index(END)
