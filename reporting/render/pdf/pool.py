"""The worker pool: the parts of a report laid out at most `MAX_WORKERS` at a time, each by
a fresh process forked from a fork server that imported WeasyPrint once.

Forking and starting a worker takes a while on a busy machine, so one spare worker is
always started ahead and waits for its job: when a part is done the next one starts at
once. (ProcessPoolExecutor with max_tasks_per_child=1 only replaces a worker after it
exited, leaving a core idle in between, every part.) A worker that dies, or a part that
takes over `PART_SECONDS`, fails the report with a `RenderError` naming the part.

Reports may be rendered side by side (threads of the pipeline): the pools of one process
share `MAX_WORKERS` slots, so no more parts are laid out at once than there are cores
meant for it, and memory stays bounded by the slots, not by the number of reports.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, cast

from reporting.errors import RenderError
from reporting.render.pdf.layout import MAX_WORKERS
from reporting.render.pdf.worker import PartJob, PartResult, part_worker, render_part

# A part that takes this long is stuck, and the monthly run must end with an error
# rather than wait for ever.
PART_SECONDS = 600.0

# The fork server imports what a worker needs, nothing more: it starts when a run starts
# and the run's first part waits until it is ready. `__main__` too: each child would
# otherwise run the main script again (for a bench, all it imports) before its part.
_PRELOAD = ["__main__", "weasyprint", "reporting.render.pdf.worker"]

log = logging.getLogger(__name__)

# Parts being laid out in this process's pools, all reports together.
_SLOTS = threading.BoundedSemaphore(MAX_WORKERS)
_always_workers = False
_stopping: list[int] = []  # fork servers asked to stop, not yet reaped


def start_fork_server() -> None:
    """Start the fork server now; it imports WeasyPrint once for all workers."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(_PRELOAD)
    forkserver.ensure_running()


def stop_fork_server() -> None:
    """Ask the fork server to stop now (the run's PDFs are done) and reap it when this
    process exits, so a run leaves no process behind it.

    The server stops when its "alive" pipe closes, which otherwise happens only once this
    process has exited: it then tore down after the run, still in the run's process group.
    Closing the pipe here lets it tear down while the run writes its manifest and emails;
    only the reaping waits for the exit. The next `start_fork_server` starts a new one.
    (multiprocessing has no public call for this; its own tests use `_stop`, which would
    wait for the teardown here.)
    """
    from multiprocessing import forkserver

    _reap(block=False)
    server: Any = getattr(forkserver, "_forkserver", None)
    if server is None or getattr(server, "_forkserver_pid", None) is None:
        return
    with server._lock:
        pid, alive_fd = server._forkserver_pid, server._forkserver_alive_fd
        address = server._forkserver_address
        server._forkserver_pid = server._forkserver_alive_fd = None
        server._forkserver_address = None
    os.close(alive_fd)
    with contextlib.suppress(OSError, TypeError, ValueError):
        os.unlink(address)  # a socket file (nothing to do for an abstract address)
    _stopping.append(pid)


def _reap(*, block: bool) -> None:
    for pid in list(_stopping):
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _stopping.remove(pid)


def _at_exit() -> None:
    """Reap the stopped fork servers, and stop the resource tracker the first one started
    (it too would otherwise end just after this process, outside it)."""
    from multiprocessing import resource_tracker

    _reap(block=False)
    for pid in _stopping:
        # Still tearing its interpreter down (its workers are all gone): nothing of it is
        # needed any more, and the run's exit should not wait for it.
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    _reap(block=True)
    tracker: Any = getattr(resource_tracker, "_resource_tracker", None)
    if tracker is not None and getattr(tracker, "_fd", None) is not None:
        with contextlib.suppress(Exception):  # at exit, a tracker already gone is fine
            tracker._stop()


atexit.register(_at_exit)


def use_workers() -> None:
    """Start the fork server and lay out even a one-part PDF in a worker from now on:
    several reports then lay out side by side, and this process never needs WeasyPrint."""
    global _always_workers
    try:
        start_fork_server()
    except OSError as exc:
        # Only a head start: the parts are then laid out here (or in workers started
        # when they are needed, which report their own failure as a RenderError).
        log.warning("PDF workers could not start ahead of the run (%s); going on without", exc)
        return
    _always_workers = True


def run_jobs(jobs: Iterable[PartJob], count: int) -> list[PartResult]:
    """Render the parts in order, at most MAX_WORKERS at a time, one fresh process each
    (a single part in this process, unless `use_workers` was called)."""
    if count == 1 and not _always_workers:
        return [render_part(job) for job in jobs]
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    pool = _Pool(ctx, iter(enumerate(jobs)), count)
    try:
        return pool.run()
    finally:
        pool.close()


class _Pool:
    def __init__(self, ctx: BaseContext, todo: Iterator[tuple[int, PartJob]], count: int) -> None:
        self.ctx = ctx
        self.todo = todo
        self.count = count
        self.built: deque[tuple[int, PartJob]] = deque()  # parts whose HTML is ready
        self.results: dict[int, PartResult] = {}
        self.idle: list[tuple[Connection, BaseProcess]] = []
        self.running: dict[Connection, tuple[int, BaseProcess]] = {}
        self.began: dict[Connection, float] = {}
        self.started = 0

    def run(self) -> list[PartResult]:
        # The first parts' HTML while the fork server still imports WeasyPrint.
        self.prepare(MAX_WORKERS)
        for _ in range(min(self.count, MAX_WORKERS)):
            self.start_worker()
        while len(self.results) < self.count:
            # With no part of its own running, a pool may wait for a slot: the pools
            # holding them are collecting their parts, never waiting for one.
            self.dispatch(wait=not self.running)
            if self.running:
                self.collect()
        return [self.results[i] for i in range(self.count)]

    def start_worker(self) -> None:
        if self.started >= self.count:
            return
        ours, theirs = self.ctx.Pipe()
        process = self.ctx.Process(target=part_worker, args=(theirs,), daemon=True)  # type: ignore[attr-defined]
        try:
            process.start()
        except OSError as exc:
            raise RenderError(f"could not start a PDF worker process: {exc}") from None
        finally:
            theirs.close()
        self.idle.append((ours, process))
        self.started += 1

    def prepare(self, n: int = 1) -> None:
        """Build the HTML of the next parts while the workers are busy, so a worker that
        is done never waits for it."""
        while len(self.built) < n and (item := next(self.todo, None)) is not None:
            self.built.append(item)

    def dispatch(self, *, wait: bool = False) -> None:
        while len(self.running) < MAX_WORKERS and self.idle:
            self.prepare()
            if not self.built or not _SLOTS.acquire(blocking=wait):
                return
            wait = False
            index, job = self.built.popleft()
            conn, process = self.idle.pop(0)
            try:
                conn.send(job)
            except OSError:  # the spare died before it got its part (out of memory, say)
                _SLOTS.release()
                process.join()
                raise RenderError(
                    f"the worker for PDF part {index + 1} of {self.count} ended before it got"
                    f" its part (exit code {process.exitcode})"
                ) from None
            self.running[conn] = (index, process)
            self.began[conn] = time.monotonic()
            if not self.idle:
                self.start_worker()  # the one spare, for the next part
        self.prepare()

    def collect(self) -> None:
        """Wait for the next part to be done (or the oldest to run late) and take its result."""
        deadline = min(self.began[c] for c in self.running) + PART_SECONDS
        ready = wait(list(self.running), timeout=max(0.0, deadline - time.monotonic()))
        if not ready:
            stuck = min(self.running, key=lambda c: self.began[c])
            raise RenderError(
                f"PDF part {self.running[stuck][0] + 1} of {self.count} took over"
                f" {PART_SECONDS:.0f} s; its worker was stopped"
            )
        for item in ready:
            conn = cast(Connection, item)
            index, process = self.running.pop(conn)
            del self.began[conn]
            _SLOTS.release()
            try:
                status, payload = conn.recv()
            except EOFError:
                process.join()
                raise RenderError(
                    f"the worker rendering PDF part {index + 1} of {self.count} ended"
                    f" (exit code {process.exitcode})"
                ) from None
            if status != "ok":
                conn.close()
                process.join()  # it is ending: gone before the error leaves here
                raise cast(BaseException, payload)
            self.results[index] = payload
            self.dispatch()
            conn.close()
            process.join()

    def close(self) -> None:
        for _ in self.running:
            _SLOTS.release()
        for conn, process in [*self.idle, *((c, p) for c, (_, p) in self.running.items())]:
            conn.close()
            if process.is_alive():
                process.terminate()
            process.join()
