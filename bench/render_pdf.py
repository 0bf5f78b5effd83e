"""PDF benchmark: 10,000 attendance rows. Prints wall time and peak memory of the process tree.

Run: .venv/bin/python bench/render_pdf.py [rows] [--sign] [--compare N] [--no-plain]

After our render, the same report's HTML as one document (the template rendered over all
pages at once, the same stylesheet and URL fetcher) goes through one plain WeasyPrint pass
(`HTML(...).write_pdf()`, collector on, one process), in a child process measured the same
way; the bench prints both and the ratio, from the same run. `--no-plain` skips it.

`--sign` signs the PDF as a run with `signing:` does (PAdES B-B, a throwaway EC P-256 key
made here) and prints the signing time apart. `--compare N` renders N times unsigned and N
times signed, alternated (the machine is shared: neighbours slow both alike), and prints
the ratio of the medians, the figure the signing target (at most +20 %) is about.

The PDF is laid out by worker processes started from a fork server, which are not this
process's children (so `RUSAGE_CHILDREN` never sees them). `TreeMemory` samples /proc
every 100 ms for this process and all its descendants and keeps the peak of the *sum*:
RSS (counts pages shared after fork in every process: an upper bound) and PSS (shared
pages split between the processes sharing them: the real total). It also sums the CPU
time of the tree: on a shared machine wall time depends on the neighbours, CPU time less.
(Reading smaps_rollup of ~250 MiB workers is kernel work: every 20 ms it cost a quarter of
a core, taken from the two workers it measures. So RSS comes from the cheap statm every
100 ms, and PSS, which is never above RSS, only at a new RSS peak or, near it, every
0.5 s.) It also prints the page count.
"""

from __future__ import annotations

import logging
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pypdf import PdfReader

from reporting.render import ReportInput, render_pdf
from reporting.render.sample import sample_input
from reporting.signing import SigningKey

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _kids(pid: int) -> list[int]:
    """Children of `pid` from /proc/PID/task/*/children (no walk over every process)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                out.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return out


def _tree(root: int) -> tuple[list[int], dict[int, float]]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(_kids(pid))
    return out, {pid: _cpu(pid) for pid in out}


PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss(pid: int) -> int:
    """Resident set size from /proc/PID/statm: cheap, unlike smaps_rollup."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _rss_pss(pid: int) -> tuple[int, int]:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line and "-" not in line)
        return int(fields["Rss"].split()[0]) * 1024, int(fields["Pss"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0, 0


class TreeMemory:
    """Peak of the summed RSS and PSS of this process and its descendants while active."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_rss = self.peak_pss = 0
        self.peak_procs = 0
        self._last_pss = 0.0
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self, *, force: bool = False) -> tuple[int, int]:
        pids, cpu = _tree(os.getpid())
        for pid in pids:
            self._cpu[pid] = cpu.get(pid, 0.0)
        rss = sum(_rss(pid) for pid in pids)
        pss = 0
        # PSS <= RSS: the expensive PSS walk (it also stalls the measured processes) is
        # only needed at a new RSS peak, or near it at most every 0.5 s.
        now = time.monotonic()
        near = rss >= 0.95 * self.peak_rss and now - self._last_pss >= 0.5
        if force or rss > self.peak_rss or near:
            self._last_pss = now
            rss, pss = map(sum, zip(*(_rss_pss(pid) for pid in pids), strict=True))
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_procs = max(self.peak_procs, len(pids))
        return rss, pss

    @property
    def cpu_seconds(self) -> float:
        """CPU time of every process seen in the tree (last sample of each)."""
        return sum(self._cpu.values())

    def cpu_per_process(self) -> list[float]:
        return sorted((c for c in self._cpu.values() if c >= 0.05), reverse=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeMemory:
        self.sample(force=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample(force=True)


def mib(n: float) -> str:
    return f"{n / 2**20:.0f}MiB"


def _throwaway_key() -> SigningKey:
    """A self-signed document-signing certificate, as a PKCS#12 file would give it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Bench Signer")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return SigningKey(key=key, certificate=cert)


def _render(inp: ReportInput, key: SigningKey | None) -> tuple[float, float, float, float]:
    """One render (and sign): wall, tree CPU, signing wall, size in MiB."""
    before = TreeMemory()
    before.sample(force=True)
    with tempfile.TemporaryDirectory() as tmp, TreeMemory() as mem:
        start = time.perf_counter()
        path = render_pdf(inp, Path(tmp) / "bench.pdf")
        signed_at = time.perf_counter()
        if key is not None:
            key.sign_pdf_file(path)
        end = time.perf_counter()
        size = path.stat().st_size / 2**20
    return end - start, mem.cpu_seconds - before.cpu_seconds, end - signed_at, size


def compare(inp: ReportInput, rounds: int) -> None:
    key = _throwaway_key()
    walls: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    signs: list[float] = []
    for number in range(rounds):
        # Alternate which goes first, so a neighbour's burst does not favour one side.
        for signed in (False, True) if number % 2 == 0 else (True, False):
            wall, cpu, sign, size = _render(inp, key if signed else None)
            walls[signed].append(wall)
            cpus[signed].append(cpu)
            if signed:
                signs.append(sign)
            print(
                f"round {number + 1} {'signed  ' if signed else 'unsigned'} wall={wall:.1f}s "
                f"cpu={cpu:.1f}s sign={sign:.2f}s size={size:.1f}MiB "
                f"load={os.getloadavg()[0]:.2f}",
                flush=True,
            )
    wall_ratio = statistics.median(walls[True]) / statistics.median(walls[False])
    cpu_ratio = statistics.median(cpus[True]) / statistics.median(cpus[False])
    print(
        f"signed/unsigned over {rounds} alternated rounds: wall x{wall_ratio:.3f} "
        f"(+{(wall_ratio - 1) * 100:.1f} %), tree CPU x{cpu_ratio:.3f} "
        f"(+{(cpu_ratio - 1) * 100:.1f} %); signing alone {statistics.median(signs):.2f}s "
        f"= {statistics.median(signs) / statistics.median(walls[False]) * 100:.1f} % of the "
        "unsigned wall time"
    )


def plain_pass(html_file: str, base_url: str, roots: list[str]) -> None:
    """One plain WeasyPrint pass over `html_file` (run in a child process): prints its time."""
    from weasyprint import HTML

    from reporting.render.pdf.fetcher import SafeURLFetcher

    html = Path(html_file).read_text(encoding="utf-8")
    start = time.perf_counter()
    fetcher = SafeURLFetcher([Path(r) for r in roots])
    pdf = HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    print(f"{time.perf_counter() - start:.3f} {len(pdf)}")


def _plain(inp: ReportInput) -> tuple[float, float, float]:
    """Wall of the plain pass (WeasyPrint alone, its import not counted), its child's CPU
    and peak PSS."""
    import subprocess

    from reporting.render.pdf import content, template

    pages, meta = content.build_pages(inp)
    html = template.render_html(inp, pages, meta, first_page=1, total_pages=len(pages))
    roots = [str(r) for r in template.template_roots(inp.templates)]
    base_url = template.templates_dir().as_uri() + "/"
    before = TreeMemory()
    before.sample(force=True)
    with tempfile.TemporaryDirectory() as tmp, TreeMemory() as mem:
        path = Path(tmp) / "plain.html"
        path.write_text(html, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, __file__, "--plain-pass", str(path), base_url, *roots],
            capture_output=True,
            text=True,
            check=True,
        )
    wall = float(done.stdout.split()[0])
    return wall, mem.cpu_seconds - before.cpu_seconds, mem.peak_pss - before.peak_pss


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--plain-pass"]:
        plain_pass(args[1], args[2], args[3:])
        return
    plain = "--no-plain" not in args
    args = [a for a in args if a != "--no-plain"]
    rounds = 0
    if "--compare" in args:
        at = args.index("--compare")
        rounds = int(args[at + 1])
        del args[at : at + 2]
    sign = "--sign" in args
    args = [a for a in args if a != "--sign"]
    rows = int(args[0]) if args else 10_000
    # The renderer's own phase timings (planning, workers, join) as one line.
    logging.basicConfig(format="%(message)s")
    logging.getLogger("reporting.render.pdf").setLevel(logging.DEBUG)
    # The compliance report as the colleague benchmarked it: 10 meetings of 1,000 people
    # (attendance + absent tables, breakouts, cover charts and courses; no devices section).
    inp = sample_input(meetings=10, people=rows // 10, show_devices=False)
    if rounds:
        logging.getLogger("reporting.render.pdf").setLevel(logging.INFO)
        compare(inp, rounds)
        return
    key = _throwaway_key() if sign else None
    before = TreeMemory()
    before.sample(force=True)
    cpu_before = before.cpu_seconds
    with tempfile.TemporaryDirectory() as tmp, TreeMemory() as mem:
        start = time.perf_counter()
        path = render_pdf(inp, Path(tmp) / "bench.pdf")
        signed_at = time.perf_counter()
        if key is not None:
            key.sign_pdf_file(path)
        wall = time.perf_counter() - start
        signing = f" signing={time.perf_counter() - signed_at:.2f}s" if key else ""
        size = path.stat().st_size
        pages = len(PdfReader(path).pages)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    main_peak = usage.ru_maxrss * 1024
    print(
        f"pdf rows={rows} wall={wall:.1f}s{signing} cpu={mem.cpu_seconds - cpu_before:.1f}s "
        f"pages={pages} size={size / 2**20:.1f}MiB "
        f"tree_peak_pss={mib(mem.peak_pss)} tree_peak_rss={mib(mem.peak_rss)} "
        f"(up to {mem.peak_procs} processes; input built: {mib(before.peak_pss)}; "
        f"main process peak {mib(main_peak)}, cpu {usage.ru_utime + usage.ru_stime:.1f}s) "
        f"load={os.getloadavg()[0]:.2f}"
    )
    # CPU per process of the tree (this process, the fork server, the workers).
    print("cpu per process: " + " ".join(f"{c:.1f}s" for c in mem.cpu_per_process()))
    if plain:
        plain_wall, plain_cpu, plain_pss = _plain(inp)
        print(
            f"plain WeasyPrint pass: wall={plain_wall:.1f}s cpu={plain_cpu:.1f}s "
            f"peak_pss={mib(plain_pss)}; ours is {plain_wall / wall:.2f}x faster "
            f"load={os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
