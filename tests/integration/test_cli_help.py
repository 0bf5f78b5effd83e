"""The README's command-line block and the commands' --help must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reporting.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _readme_usage() -> dict[str, set[str]]:
    block = README.split("## The command line", 1)[1].split("```", 2)[1]
    usage: dict[str, set[str]] = {}
    current = ""
    for line in block.splitlines():
        start = re.match(r"attendance ((?:sandbox )?\w+)", line)
        if start:
            current = start.group(1)
            usage[current] = set()
        if current:
            usage[current] |= set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", line))
    return usage


def _help_options(command: str) -> set[str]:
    result = CliRunner().invoke(main, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    options = set(re.findall(r"^\s+((?:-\w, )?--[a-z][a-z-]*)", result.output, re.M))
    flat: set[str] = set()
    for option in options:
        flat |= {part.strip() for part in option.split(",")}
    return flat - {"--help", "-h"}


USAGE = _readme_usage()


def test_readme_lists_every_command() -> None:
    assert set(USAGE) == {
        "run",
        "check",
        "verify",
        "history",
        "sandbox serve",
        "sandbox generate",
    }


@pytest.mark.parametrize("command", sorted(USAGE))
def test_help_and_readme_name_the_same_options(command: str) -> None:
    in_help = _help_options(command)
    in_readme = USAGE[command]
    # -v is the short form of --verbose; the README shows the short one.
    if "-v" in in_readme:
        in_readme = in_readme | {"--verbose"}
    if "-o" in in_readme:
        in_readme = in_readme | {"--output"}
    assert in_help == in_readme
