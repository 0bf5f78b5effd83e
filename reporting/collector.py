"""Pausing Python's cycle collector around work that makes many objects and no cycles.

A collection walks every container object it tracks. Code that piles up millions of
acyclic objects (parsed JSON records, a laid-out PDF) pays for walks that find nothing;
each caller says why its pause is safe and what it measured.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection at all inside the block; as before afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def full_collections_paused() -> Iterator[None]:
    """The young generations are collected as usual inside the block, the oldest one
    (everything that lived a while: a full collection) only afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 2**31 - 1)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
