"""Union of intervals per group, vectorised: sort, running maximum of ends, new block where
a start is beyond the running maximum so far.

Comparing a start with the previous row's end only is wrong: in [0, 10), [1, 2), [5, 6)
the third interval starts after the second ends but still inside the first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

I64 = npt.NDArray[np.int64]

# Sentinels for "no interval": first join / last leave of a group with an empty union.
NO_TIME = np.iinfo(np.int64).min


@dataclass(frozen=True)
class UnionStats:
    """Per group (index = group id, length = number of groups)."""

    total: I64  # total length of the union
    first: I64  # first start of the union, NO_TIME when empty
    last: I64  # last end of the union, NO_TIME when empty
    segments: I64  # number of disjoint pieces (touching intervals are one piece)


def union_by_group(group: I64, start: I64, end: I64, n_groups: int) -> UnionStats:
    """Union of half-open intervals ``[start, end)`` (``end > start``) per group id."""
    total = np.zeros(n_groups, dtype=np.int64)
    first = np.full(n_groups, NO_TIME, dtype=np.int64)
    last = np.full(n_groups, NO_TIME, dtype=np.int64)
    segments = np.zeros(n_groups, dtype=np.int64)
    n = len(group)
    if n == 0:
        return UnionStats(total, first, last, segments)

    base = int(start.min())
    span = int(end.max()) - base + 1
    # Offsetting each group by a multiple of the time span puts the groups one after the
    # other on one number line: one stable argsort orders by (group, start) (as a lexsort
    # would, at a third of the cost), and the running maximum over the whole array is the
    # running maximum within each group.
    offsets_fit = (int(group.max()) + 1) * span < 2**62
    if offsets_fit:
        order = np.argsort(group * np.int64(span) + (start - base), kind="stable")
    else:  # pragma: no cover - only for spans or group counts far beyond real data
        order = np.lexsort((start, group))
    g = group[order]
    s = start[order]
    e = end[order]

    if offsets_fit:
        offset = g * np.int64(span)
        runmax = np.maximum.accumulate(e - base + offset) - offset + base
    else:  # pragma: no cover
        runmax = pd.Series(e).groupby(g).cummax().to_numpy(dtype=np.int64)

    new_block = np.empty(n, dtype=np.bool_)
    new_block[0] = True
    new_block[1:] = (g[1:] != g[:-1]) | (s[1:] > runmax[:-1])
    block_first = np.flatnonzero(new_block)
    block_last = np.append(block_first[1:] - 1, n - 1)
    block_start = s[block_first]
    block_end = runmax[block_last]
    block_group = g[block_first]

    lengths = block_end - block_start
    group_change = np.empty(len(block_group), dtype=np.bool_)
    group_change[0] = True
    group_change[1:] = block_group[1:] != block_group[:-1]
    group_first_block = np.flatnonzero(group_change)
    group_last_block = np.append(group_first_block[1:] - 1, len(block_group) - 1)
    ids = block_group[group_first_block]

    total[ids] = np.add.reduceat(lengths, group_first_block)
    first[ids] = block_start[group_first_block]
    # Within a group the running maximum never decreases, so its last block ends last.
    last[ids] = block_end[group_last_block]
    segments[ids] = group_last_block - group_first_block + 1
    return UnionStats(total, first, last, segments)
