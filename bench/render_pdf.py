"""PDF benchmark: 10,000 attendance rows. Prints wall time and peak memory (main + workers).

Run: .venv/bin/python bench/render_pdf.py [rows]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from reporting.render import render_pdf
from reporting.render.sample import sample_input


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    inp = sample_input(meetings=10, people=rows // 10, show_devices=False)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = render_pdf(inp, Path(tmp) / "bench.pdf")
        wall = time.perf_counter() - start
        size = path.stat().st_size
    main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"pdf rows={rows} wall={wall:.1f}s size={size / 2**20:.1f}MiB "
        f"peak_main={main_rss:.0f}MiB peak_worker={child_rss:.0f}MiB "
        f"(2 workers: peak total <= {main_rss + 2 * child_rss:.0f}MiB)"
    )


if __name__ == "__main__":
    main()
