"""XLSX benchmark: 200,000 attendance rows. Prints wall time and peak memory.

Run: .venv/bin/python bench/render_xlsx.py [rows]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from reporting.render import render_xlsx
from reporting.render.sample import sample_input


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    inp = sample_input(meetings=20, people=rows // 20, show_devices=False)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = render_xlsx(inp, Path(tmp) / "bench.xlsx")
        wall = time.perf_counter() - start
        size = path.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"xlsx rows={rows} wall={wall:.1f}s size={size / 2**20:.1f}MiB "
        f"peak={peak:.0f}MiB (input data alone {base:.0f}MiB)"
    )


if __name__ == "__main__":
    main()
