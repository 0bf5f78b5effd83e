"""Fixtures shared across test modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.signing_support import Pki, make_pki

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


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway CA, a document-signing certificate in a PKCS#12 file, and a TSA."""
    return make_pki(tmp_path_factory.mktemp("pki"))
