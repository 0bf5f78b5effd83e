"""Where the demo's time goes: `attendance run configs/demo.yaml --no-email` on a warm store,
in this process, each phase timed.

Run: .venv/bin/python bench/demo_phases.py [runs]

Prints the import of the command line and the pipeline, then per run: fetch (with the
limiter and the bundled sandbox), compute, the CSVs, every report format (PDFs and
workbooks; reports render two at a time, so their spans overlap), the manifest, and the
whole run, with the load average. The store is warmed by one run first. `farm-bench` times
the whole command from outside, start-up included: that is the figure the target is about.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
started = time.perf_counter()
from reporting import cli, pipeline  # noqa: E402 -- timed: the import is a phase

IMPORTED = time.perf_counter() - started
SPANS: dict[str, list[float]] = defaultdict(list)
_lock = threading.Lock()


def timed(name: Callable[..., str] | str, func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            label = name(*args) if callable(name) else name
            with _lock:
                SPANS[label].append(time.perf_counter() - start)

    return wrapper


def instrument() -> None:
    from reporting.render import formats

    pipeline._fetched = timed("fetch", pipeline._fetched)  # type: ignore[assignment]
    pipeline._computed = timed("compute", pipeline._computed)  # type: ignore[assignment]
    pipeline.write_csvs = timed("csvs", pipeline.write_csvs)  # type: ignore[assignment]
    pipeline._manifest = timed("manifest", pipeline._manifest)  # type: ignore[assignment]
    pipeline._render_all = timed("all reports", pipeline._render_all)  # type: ignore[assignment]
    original = formats.ReportFormat.renderer

    def renderer(self: formats.ReportFormat) -> Any:
        return timed(lambda inp, path: f"render {path.name}", original(self))

    formats.ReportFormat.renderer = renderer  # type: ignore[method-assign]


def run_once() -> float:
    start = time.perf_counter()
    with contextlib.suppress(SystemExit):
        cli.main(["run", str(ROOT / "configs" / "demo.yaml"), "--no-email"], standalone_mode=False)
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    instrument()
    run_once()  # warms the store (and this process)
    SPANS.clear()
    totals = [run_once() for _ in range(runs)]
    print(f"import reporting.cli + pipeline: {IMPORTED:.2f}s (first run, cold)")
    for name, spans in SPANS.items():
        print(f"{name:>24}: median {statistics.median(spans):.2f}s over {len(spans)}")
    print(f"{'whole run (in process)':>24}: median {statistics.median(totals):.2f}s")
    print(f"load={os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
