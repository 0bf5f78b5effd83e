"""Pausing Python's cycle collector around work that makes many objects and no cycles.

A collection walks every container object it tracks. Code that piles up millions of
acyclic objects (decoded JSON, a laid-out PDF) pays for walks that find nothing; each
caller says why its pause is safe.

The collector's switches are the process's, and reports render in threads side by side:
so the pauses are counted, and the collector comes back when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0  # collector_paused blocks running now, all threads together
_was_enabled = False  # whether the collector ran before the first of them


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection at all inside the block; as before once no block of any
    thread is still inside one."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
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
