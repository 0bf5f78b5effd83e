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
def full_collections_paused(*, keep: bool = False) -> Iterator[None]:
    """The young generations are collected as usual inside the block, the oldest one
    (everything that lived a while: a full collection) only afterwards.

    ``keep``: what the block built lives on (a run's records, until the run ends). It is
    then set apart at the end (a young collection, then `gc.freeze`), so that no later
    full collection walks it; otherwise the first one after the block, due at once, walks
    all of it and finds nothing. Cyclic garbage set apart with it is freed only after
    `release_kept`; a run is one process, and the tests release after each test.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 2**31 - 1)
    try:
        yield
    finally:
        if keep:
            gc.collect(1)
            gc.freeze()
        gc.set_threshold(*thresholds)


def release_kept() -> None:
    """Hand what `full_collections_paused(keep=True)` set apart back to the collector."""
    gc.unfreeze()
