"""The participant pages read on both cores when the input is large (issue 12).

Reading the pages (the typed decode, the column reads, the timestamps) is most of the
engine's time, and it is independent per instance: for a large input a second process
reads part of it while this one reads the rest. The instances are cut into blocks of
consecutive instances; this process takes blocks from the front, the worker from the
back, until they meet. Each block's columns are a `Part`; the worker's come back with
their text columns as codes and distinct values (the same names and emails fill every
meeting of a month), and all are joined in instance order, so the result is the one
`flatten` gives (the tests force this path on small inputs and compare the outputs).

Why it is built this way:

- The worker is forked from multiprocessing's fork server, never from this process: a
  run has threads (the store's, the event loop's), and a child forked from a threaded
  process can inherit a lock that no thread of it will ever release. The PDF pool starts
  the same server at the start of a run (whichever starts it decides what it imports).
- The worker is started from a thread, so this process reads its first blocks while the
  server starts; blocks are claimed one at a time, so a slow start only means the worker
  takes fewer of them.
- A block's page bodies reach the worker through an anonymous memory file (memfd),
  written when the block is granted: no copy of the whole input up front, and nothing to
  clean up (the memory goes with the last descriptor). Claims and grants are short
  messages on a pipe, answered between this process's instances.
- A worker that fails, dies or stalls costs time only: its blocks are then read here. A
  block with a record of the wrong types is read here too, where the fetch's reading
  (the bad fields missing, BAD_RECORD) applies.
- Small inputs (the demo, the tests) are read here alone: a process start would cost
  more than it saves.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import resource
import threading
from collections.abc import Sequence
from dataclasses import fields
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import pandas as pd

from reporting.attendance.records import (
    Columns,
    EntryText,
    Flat,
    PageEntries,
    Part,
    flatten,
    join_parts,
)
from reporting.model import InstanceRecords
from reporting.participants import ParticipantPages

log = logging.getLogger(__name__)

# Below this many bytes of pages the whole read takes less than starting a worker does.
PARALLEL_MIN_BYTES = 48 * 2**20
# A block: small enough that the two processes end close together, large enough that a
# claim's round trip is nothing beside reading it.
BLOCK_BYTES = 4 * 2**20
# A worker silent this long is stuck: its blocks are read here instead.
WORKER_SECONDS = 300.0
# The text columns of a `Part`, sent as codes and distinct values.
_TEXT = ("email", "name", "key", "dev_phone")
# What the fork server imports once for every worker (as the PDF pool's does, `__main__`
# too: each child would otherwise import the main script again).
_PRELOAD = ["__main__", "reporting.attendance.ingest"]
# The most buffers one writev takes.
_IOV_MAX = os.sysconf("SC_IOV_MAX") if "SC_IOV_MAX" in os.sysconf_names else 1024


def read_columns(data: Sequence[InstanceRecords]) -> Flat:
    """`flatten(data)`, on both cores when the pages are many."""
    pages = [item.records for item in data]
    if not hasattr(os, "memfd_create") or not all(isinstance(p, ParticipantPages) for p in pages):
        return flatten(data)
    held: list[ParticipantPages] = pages  # type: ignore[assignment]  # checked above
    if sum(len(b) for p in held for b in p.bodies) < PARALLEL_MIN_BYTES:
        return flatten(data)
    try:
        two = _TwoCores(held)
    except (OSError, RuntimeError) as exc:  # no memory file, pipe or thread to be had
        log.warning("the engine's second reader could not be set up (%s)", exc)
        return flatten(data)
    return two.read()


def _blocks(pages: Sequence[ParticipantPages]) -> list[range]:
    """Consecutive instances, about `BLOCK_BYTES` of pages each."""
    blocks: list[range] = []
    start = size = 0
    for i, item in enumerate(pages):
        size += sum(map(len, item.bodies))
        if size >= BLOCK_BYTES:
            blocks.append(range(start, i + 1))
            start, size = i + 1, 0
    if start < len(pages):
        blocks.append(range(start, len(pages)))
    return blocks


class _TwoCores:
    """One read of every block: the front ones here, the back ones in the worker."""

    def __init__(self, pages: list[ParticipantPages]) -> None:
        self.pages = pages
        self.blocks = _blocks(pages)
        self.parts: dict[int, Part] = {}
        self.entry_text: list[EntryText | None] = [None] * len(pages)
        self.front = 0  # the next block this process reads
        self.back = len(self.blocks)  # blocks from here on are the worker's
        self.done = False  # the worker has answered for its blocks, or is lost
        self.told_to_stop = False
        self.written = 0  # bytes in the memory file
        self.memfd = os.memfd_create("attendance-pages", os.MFD_CLOEXEC)
        try:
            self.conn, child = multiprocessing.Pipe()
        except BaseException:
            os.close(self.memfd)
            raise
        try:
            self.worker = _Worker(child, self.memfd)
        except BaseException:
            self.conn.close()
            child.close()
            os.close(self.memfd)
            raise

    def read(self) -> Flat:
        try:
            while self.front < self.back:
                self.front += 1
                self._read_here(self.front - 1, serve=True)
            self._collect()
        finally:
            self._close()
        # Blocks the worker could not read (a record of the wrong types, or it was lost).
        for block in range(len(self.blocks)):
            if block not in self.parts:
                self._read_here(block, serve=False)
        text: list[EntryText] = self.entry_text  # type: ignore[assignment]  # all filled
        return join_parts([self.parts[b] for b in range(len(self.blocks))], text)

    def _read_here(self, block: int, *, serve: bool) -> None:
        columns = Columns()
        for i in self.blocks[block]:
            columns.read(self.pages[i])
            if serve:
                self._serve()
        self.parts[block] = columns.part()
        for i, text in zip(self.blocks[block], columns.entry_text, strict=True):
            self.entry_text[i] = text

    def _serve(self) -> None:
        """Answer what the worker sent since (never waits)."""
        try:
            while not self.done and self.conn.poll():
                self._answer(self.conn.recv())
        except (EOFError, OSError) as exc:
            self._lost(f"it stopped ({exc!r})")

    def _answer(self, message: Any) -> None:
        if message != "want":
            self._finished(message)
            return
        if self.back <= self.front:  # everything left is read or being read here
            # The worker stops at the first None, and may have closed its end by the
            # time its claim ahead arrives: that one is not answered.
            if not self.told_to_stop:
                self.conn.send(None)
                self.told_to_stop = True
            return
        self.back -= 1
        start = self.written
        layout = [len(self.blocks[self.back])]  # instances, the pages of each, their sizes
        sizes: list[int] = []
        for i in self.blocks[self.back]:
            bodies = self.pages[i].bodies
            layout.append(len(bodies))
            sizes.extend(map(len, bodies))
            self.written += _write(self.memfd, bodies)
        # The layout goes through the file too: a grant the size of the block's page count
        # could fill the pipe while the worker sends a block back, each waiting on the other.
        table = np.array(layout + sizes, dtype=np.int64).tobytes()
        at = self.written
        self.written += _write(self.memfd, [table])
        self.conn.send((self.back, start, at, len(table)))

    def _finished(self, message: Any) -> None:
        """A block's columns (None: a bad record, read here), or the worker's end."""
        match message:
            case ("part", int(block), packed):
                if packed is None:
                    log.debug("second reader: block %d has a bad record, read here", block)
                    return
                self.parts[block] = _unpack(packed)
                for i in self.blocks[block]:
                    self.pages[i].passed_typed_check()
                    self.entry_text[i] = PageEntries(self.pages[i])
            case ("done", int(peak_kib)):
                self.done = True
                log.debug(
                    "second reader: %d of %d blocks (%.0f MiB of pages through its memory "
                    "file), its peak RSS %.0f MiB",
                    len(self.blocks) - self.back,
                    len(self.blocks),
                    self.written / 2**20,
                    peak_kib / 1024,
                )
            case _:
                self._lost(f"it failed: {message!r}")

    def _collect(self) -> None:
        """Wait for the worker's blocks, if it took any."""
        if self.back == len(self.blocks) or self.done:
            return
        try:
            while not self.done:
                if not self.conn.poll(WORKER_SECONDS):
                    self._lost(f"it sent nothing for {WORKER_SECONDS:.0f} s")
                    return
                self._answer(self.conn.recv())
        except (EOFError, OSError) as exc:
            self._lost(f"it stopped ({exc!r})")

    def _lost(self, why: str) -> None:
        self.done = True
        log.warning("the engine's second reader was lost (%s); its blocks are read here", why)

    def _close(self) -> None:
        self.conn.close()  # a worker still waiting for a claim sees the end and exits
        self.worker.finish()


def _write(fd: int, bodies: Sequence[bytes]) -> int:
    """Append the bodies to the file; returns how many bytes that was."""
    total = 0
    # writev takes at most IOV_MAX buffers (EINVAL beyond): a block of small pages has more.
    for start in range(0, len(bodies), _IOV_MAX):
        chunk = bodies[start : start + _IOV_MAX]
        size = sum(map(len, chunk))
        done = os.writev(fd, chunk)
        if done < size:  # a short write (rare on a memory file): the rest in one piece
            rest = memoryview(b"".join(chunk))[done:]
            while rest:
                rest = rest[os.write(fd, rest) :]
        total += size
    return total


class _Fd:
    """A descriptor for the worker, duplicated into it when it starts."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return (_descriptor, (reduction.DupFd(self.fd),))


def _descriptor(duplicate: Any) -> int:
    fd: int = duplicate.detach()
    return fd


class _Worker:
    """The worker process, started from a thread (the fork server may be starting). It
    owns the memory file: closed once the worker is done with it."""

    def __init__(self, child: Connection, memfd: int) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)  # no effect once the server runs
        self.memfd = memfd
        self.process = ctx.Process(
            target=work, args=(child, _Fd(memfd)), name="attendance-ingest", daemon=True
        )
        self.started = False
        self._lock = threading.Lock()
        self._starting = True
        self._abandoned = False
        self._thread = threading.Thread(target=self._start, args=(child,), daemon=True)
        self._thread.start()

    def _start(self, child: Connection) -> None:
        try:
            self.process.start()
            self.started = True
        except Exception as exc:
            log.warning("the engine's second reader could not start (%s)", exc)
        finally:
            child.close()  # the worker holds its own end now
            with self._lock:
                self._starting = False
                abandoned = self._abandoned
            if abandoned:
                self._reap()

    def finish(self) -> None:
        """The reader is done. A worker still starting is not waited for (when the read
        ended before the fork server was up, that would only add its start): the thread
        starting it cleans up after it. Its descriptors are duplicated while it starts,
        so nothing is closed under it before then."""
        with self._lock:
            if self._starting:
                self._abandoned = True
                return
        self._reap()

    def _reap(self) -> None:
        if self.started:
            # Its end of the pipe is closed: a worker waiting for a claim exits.
            self.process.join(5.0)
            if self.process.exitcode is None:
                self.process.kill()
                self.process.join()
        os.close(self.memfd)


def work(conn: Connection, memfd: int) -> None:
    """The worker: read each block granted and send its columns back (None for a block
    with a record of the wrong types), until told there are none left."""
    gc.disable()  # no reference cycles here; see `reporting.attendance.engine.compute`
    try:
        # One claim ahead: the next grant waits on the pipe while a block is read.
        conn.send("want")
        conn.send("want")
        while (grant := conn.recv()) is not None:
            conn.send("want")
            block, start, at, size = grant
            part = _read_block(memfd, start, os.pread(memfd, size, at))
            # Sent at once, not kept to the end: the reader takes it in between its own
            # instances, and the last block is all that is left to send when it is done.
            conn.send(("part", block, None if part is None else _pack(part)))
        conn.send(("done", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    except (EOFError, BrokenPipeError):
        pass  # the reader finished without this worker's blocks
    finally:
        os.close(memfd)
        conn.close()


def _read_block(memfd: int, start: int, table: bytes) -> Part | None:
    """The block whose bodies are in the file from ``start`` on, laid out as ``table`` says
    (`_TwoCores._answer`)."""
    layout = np.frombuffer(table, dtype=np.int64).tolist()
    n_instances = layout[0]
    counts, sizes = layout[1 : 1 + n_instances], layout[1 + n_instances :]
    columns = Columns()
    at = start
    first = 0
    for count in counts:
        bodies = []
        for size in sizes[first : first + count]:
            bodies.append(os.pread(memfd, size, at))
            at += size
        first += count
        pages = ParticipantPages(bodies)
        typed = pages.typed()
        if typed is None:
            return None
        columns.read_typed(typed, pages)
        columns.parse_times(whole=False)
    return columns.part()


def _pack(part: Part) -> dict[str, Any]:
    values = {f.name: getattr(part, f.name) for f in fields(Part)}
    for name in _TEXT:
        codes, distinct = pd.factorize(values[name])
        values[name] = (codes.astype(np.int32), distinct)
    return values


def _unpack(values: dict[str, Any]) -> Part:
    for name in _TEXT:
        codes, distinct = values[name]
        with_missing = np.concatenate([distinct, np.array([None], dtype=object)])
        values[name] = with_missing[codes]  # code -1: missing (None)
    return Part(**values)
