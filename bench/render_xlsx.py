"""XLSX benchmark: 200,000 attendance rows. Prints wall time and peak memory.

Run: .venv/bin/python bench/render_xlsx.py [rows]

The input (200,000 rows in pandas) is built first and costs memory of its own; the
writer's figure is the peak RSS while it runs minus the RSS before it started (after
`malloc_trim`, so memory freed by the input's build is not silently reused), sampled
every 20 ms. `ru_maxrss` would report the input's build peak instead.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

from render_pdf import TreeMemory, mib

from reporting.render import render_xlsx
from reporting.render.sample import sample_input


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    devices = "--devices" in sys.argv
    inp = sample_input(meetings=20, people=rows // 20, show_devices=devices)
    gc.collect()
    # Give the heap freed while building the input back to the system, so the writer's
    # allocations show as growth instead of reusing it unseen.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    base = TreeMemory()
    base_rss, _ = base.sample()
    with tempfile.TemporaryDirectory() as tmp, TreeMemory() as mem:
        start = time.perf_counter()
        path = render_xlsx(inp, Path(tmp) / "bench.xlsx")
        wall = time.perf_counter() - start
        size = path.stat().st_size
    print(
        f"xlsx rows={rows}{' +devices' if devices else ''} wall={wall:.1f}s "
        f"size={size / 2**20:.1f}MiB writer={mib(mem.peak_rss - base_rss)} "
        f"(peak RSS {mib(mem.peak_rss)} with the input held: {mib(base_rss)}) "
        f"load={os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
