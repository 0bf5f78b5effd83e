"""docs/ARCHITECTURE.md's module map is the code's (issue 11): made from the docstrings."""

from __future__ import annotations

from tests.module_map import DOC, END, PACKAGE, START, page_with_map


def test_the_module_map_is_the_one_the_code_makes() -> None:
    page = DOC.read_text(encoding="utf-8")
    assert page_with_map(page) == page, (
        "docs/ARCHITECTURE.md's module map is stale: run `python -m tests.module_map --write`"
    )


def _paths_in_the_page() -> set[str]:
    """The paths the page's map names, rebuilt from its indentation."""
    page = DOC.read_text(encoding="utf-8")
    block = page[page.index(START) : page.index(END)].splitlines()
    names: set[str] = set()
    folders: list[str] = []
    for line in block:
        if not line.startswith(" ") and not line.startswith("reporting/"):
            continue
        stripped = line.lstrip(" ")
        name = stripped.split(" ", 1)[0]
        if not name.endswith((".py", "/")):
            continue  # a wrapped line of text
        depth = (len(line) - len(stripped)) // 2
        del folders[depth:]
        path = "".join(folders) + name
        if name.endswith("/"):
            folders.append(name)
        else:
            names.add(path)
    return names


def test_the_page_names_every_module_and_no_other() -> None:
    modules = {
        "reporting/" + path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    assert _paths_in_the_page() == modules
