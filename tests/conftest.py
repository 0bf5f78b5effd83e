"""Fixtures shared across test modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo_tree(tmp_path: Path) -> Path:
    """A copy of the demo config and samples, so a run writes only under tmp_path.

    The layout is the repository's (configs/ beside samples/), because demo.yaml names its
    dataset, roster, store and output folder relative to itself.
    """
    for folder in ("configs", "samples"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.png"))
    return tmp_path
