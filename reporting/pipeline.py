"""One run: plan → fetch → compute → render → deliver.

Each stage reads what the stage before it wrote; this module only wires them together and
decides what happens to the run as a whole (its id, its clock, its exit code).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reporting import __version__, preflight
from reporting.attendance import AttendanceResult, compute, mask_result
from reporting.attendance.masking import mask_instances, mask_lines
from reporting.attendance.sessions import session_instances
from reporting.config import COMPLIANCE, Config, ReportSpec, resolve_smtp_credentials
from reporting.connection import webex_endpoint
from reporting.delivery import DeliverySummary, RenderedReport, deliver
from reporting.delivery.content_key import ReportContent, criteria_of, report_content
from reporting.delivery.ledger import ledger_key
from reporting.discovery.rosters import rosters_by_instance
from reporting.errors import StoreError, WebexError
from reporting.fetch import FetchOutcome, fetch_all, load_offline
from reporting.manifest import write_manifest
from reporting.model import RunInfo
from reporting.overrides import load_overrides
from reporting.quality import record_problem_lines, setting_warnings
from reporting.render.context import ReportInput
from reporting.render.criteria import report_criteria
from reporting.render.csv import write_csvs
from reporting.render.formats import ReportFormat, selected
from reporting.roster import load_roster
from reporting.run_folder import RunFolder
from reporting.run_lock import run_lock
from reporting.safe_files import output_mode, remove_stale_temps
from reporting.signing import SigningKey, load_signing_key
from reporting.store import Store

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PARTIAL = 3  # reports produced, but some meetings (or pages) could not be fetched


@dataclass(frozen=True)
class RunOptions:
    output_dir: Path | None = None  # overrides config.output_dir
    offline: bool = False
    refresh: bool = False
    send_email: bool = True
    resend: bool = False
    progress: bool = False
    now: datetime | None = None  # the run's clock; injected by tests
    new_store: bool = False  # an empty or unreadable store may be started over


@dataclass
class RunOutcome:
    run: RunInfo
    output_dir: Path
    files: list[Path]
    fetch: FetchOutcome
    delivery: DeliverySummary | None = None
    run_dir: Path | None = None  # runs/<run_id>/ under output_dir, never modified again
    notes: list[str] = field(default_factory=list)

    @property
    def incomplete(self) -> bool:
        """Some meeting could not be fetched, or some page of one could not be used."""
        return bool(self.fetch.failures) or any(d.page_problems for d in self.fetch.data)

    @property
    def exit_code(self) -> int:
        return EXIT_PARTIAL if self.incomplete else EXIT_OK


def run(config: Config, options: RunOptions, env: Mapping[str, str]) -> RunOutcome:
    as_of = options.now or datetime.now(UTC)
    out_dir = options.output_dir or config.output_dir
    run_info = RunInfo(
        run_id=uuid.uuid4().hex[:12],
        config_path=str(config.source),
        config_hash=config.config_hash,
        period_label=config.period.label,
        period_start=config.period.start,
        period_end=config.period.end,
        as_of=as_of,
        timezone=config.timezone,
        tool_version=__version__,
        offline=options.offline,
    )
    # What can be known before the network is checked before it (as `attendance check`).
    found = preflight.problems(
        config,
        env,
        output_dir=out_dir,
        offline=options.offline,
        send_email=options.send_email,
        new_store=options.new_store,
        store_contents=False,  # looked at by Store.open, under the run lock
    )
    if found:
        raise found[0]
    # Opened again (preflight only checked it): cheap, and keeps preflight side-effect free.
    signing_key = load_signing_key(config, env)
    if options.offline and not config.store.exists():
        raise StoreError(
            f"there is no store at {config.store} to run --offline from",
            hint="run once without --offline, or point `store:` at the right file",
        )
    with run_lock(config.store, run_id=run_info.run_id), output_mode(config.output_mode):
        store = Store.open(config.store, new_store=options.new_store)
        try:
            store.begin_run(run_info)
            try:
                outcome = _run_stages(config, options, env, store, run_info, out_dir, signing_key)
            except BaseException:
                store.finish_run(run_info.run_id, status="failed")
                raise
            status = "partial" if outcome.incomplete else "complete"
            store.finish_run(run_info.run_id, status=status)
            return outcome
        finally:
            store.close()


def _run_stages(
    config: Config,
    options: RunOptions,
    env: Mapping[str, str],
    store: Store,
    run_info: RunInfo,
    out_dir: Path,
    signing_key: SigningKey | None = None,
) -> RunOutcome:
    # Renderers start what they need in the background (the PDF's fork server imports
    # WeasyPrint) while the run fetches and computes.
    formats = selected({name for spec in config.reports for name in spec.formats})
    for fmt in formats:
        fmt.prepare()
    try:
        return _stages(config, options, env, store, run_info, out_dir, formats, signing_key)
    finally:
        for fmt in formats:
            fmt.finish()  # after a failure too (it does nothing the second time)


def _stages(
    config: Config,
    options: RunOptions,
    env: Mapping[str, str],
    store: Store,
    run_info: RunInfo,
    out_dir: Path,
    formats: Sequence[ReportFormat],
    signing_key: SigningKey | None,
) -> RunOutcome:
    fetched = _fetched(config, options, env, store, run_info)
    computed = _computed(config, fetched, run_info)
    preflight.ensure_folder(out_dir, "output folder (output.dir)")
    _remove_stale_temps(config, out_dir)
    # Everything is written into the run's own folder, published at the top when whole.
    folder = RunFolder(out_dir, run_info.run_id)
    work_dir = folder.start()
    files = write_csvs(mask_result(computed.result, _csv_audience(config)), work_dir, config.tz)
    inputs = _report_inputs(config, run_info, fetched, computed)
    rendered = _render_all(config.reports, inputs, work_dir, signing_key)
    for fmt in formats:
        fmt.finish()  # the PDF's fork server tears down while the run goes on
    files += [path for report in rendered for path in report.files]
    files += _manifest(config, run_info, fetched, computed, files, work_dir, signing_key)

    run_dir = folder.finish()
    folder.publish()
    store.merge_run_counts(
        run_info.run_id, {"audited": len(fetched.data), "failed": len(fetched.failures)}
    )
    # From here on the run's files are read from its folder: what is emailed is exactly
    # what runs/<run_id>/ keeps (and the ledger records its SHA-256).
    outcome = RunOutcome(
        run=run_info,
        output_dir=out_dir,
        files=[run_dir / path.name for path in files],
        fetch=fetched,
        notes=list(computed.warnings),
        run_dir=run_dir,
    )
    if config.email is not None and options.send_email:
        published = [
            RenderedReport(input=r.input, files=[run_dir / path.name for path in r.files])
            for r in rendered
        ]
        outcome.delivery = deliver(
            published,
            config.email,
            store,
            ledger_key=ledger_key(config),
            credentials=resolve_smtp_credentials(config, env),
            resend=options.resend,
            templates=config.templates,
            run_id=run_info.run_id,
            contents=_contents(config, inputs),
        )
    return outcome


@dataclass(frozen=True)
class _Computed:
    """The compute stage's result and what the run says about it (stderr, manifest and
    every report read these lines, made once here)."""

    result: AttendanceResult
    warnings: list[str]
    quality_notes: tuple[str, ...]


def _fetched(
    config: Config, options: RunOptions, env: Mapping[str, str], store: Store, run_info: RunInfo
) -> FetchOutcome:
    if options.offline:
        fetched = load_offline(config, store)
    else:
        fetched = _fetch(config, options, env, store, run_info)
    if fetched.failures and not fetched.data:
        # Reports of nobody would look like an audit that found no attendees.
        raise WebexError(
            f"no meeting could be fetched ({len(fetched.failures)} failed); first: "
            f"{fetched.failures[0].message}",
            hint="nothing was written or sent; fix the cause and run again",
        )
    return fetched


def _computed(config: Config, fetched: FetchOutcome, run_info: RunInfo) -> _Computed:
    rosters, roster_notes = rosters_by_instance(
        config,
        fetched.data,
        fetched.registrants,
        load=lambda path: load_roster(path, config.roster_phone_region),
    )
    fetched.notes.extend(roster_notes)
    overrides = load_overrides(config.overrides) if config.overrides is not None else ()
    result = compute(
        fetched.data,
        config.rules,
        rosters,
        run_info.as_of,
        planned=fetched.instances,
        overrides=overrides,
        phone_region=config.roster_phone_region,
    )
    warnings = [*setting_warnings(config, result), *result.unmatched_overrides]
    for warning in warnings:
        log.warning("%s", warning)
    return _Computed(result, warnings, (*record_problem_lines(fetched.data), *warnings))


def _csv_audience(config: Config) -> str:
    """The CSVs show full phone numbers only when some report is for compliance."""
    return COMPLIANCE if any(r.audience == COMPLIANCE for r in config.reports) else "summary"


def _report_inputs(
    config: Config, run_info: RunInfo, fetched: FetchOutcome, computed: _Computed
) -> list[ReportInput]:
    page_problems = {d.instance.id: d.page_problems for d in fetched.data if d.page_problems}
    criteria = report_criteria(config)
    # Rule 15: a restarted session is one meeting in every report.
    sessions = session_instances(fetched.instances)
    return [
        ReportInput(
            spec=spec,
            run=run_info,
            instances=mask_instances(sessions, spec.audience),
            result=mask_result(computed.result, spec.audience),
            failures=fetched.failures,
            page_problems={
                meeting: mask_lines(lines, spec.audience)
                for meeting, lines in page_problems.items()
            },
            # Rules 16-17 (a left-out instance, an empty match) beside the quality notes.
            notes=mask_lines((*fetched.notes, *computed.quality_notes), spec.audience),
            criteria=criteria,
            page_size=config.pdf.page_size,
            pdfa=config.pdf.pdfa,
            templates=config.templates,
        )
        for spec in config.reports
    ]


RENDER_THREADS = 2  # reports rendered at once


def _render_all(
    specs: Sequence[ReportSpec],
    inputs: Sequence[ReportInput],
    work_dir: Path,
    signing_key: SigningKey | None,
) -> list[RenderedReport]:
    """Every report's files, its PDFs signed. Two reports at a time: a PDF is laid out in
    worker processes, so while one report's PDF lays out this process plans the next
    report's or writes a workbook, and two PDFs lay out side by side."""
    pairs = list(zip(specs, inputs, strict=True))
    if len(pairs) < 2:
        rendered = [_render(spec, report_input, work_dir) for spec, report_input in pairs]
    else:
        # Each report in a copy of this context: the output mode (a context variable)
        # and the like hold in the render threads as they do here.
        contexts = [contextvars.copy_context() for _ in pairs]
        with ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="render") as threads:
            rendered = list(
                threads.map(
                    lambda pair, context: context.run(_render, pair[0], pair[1], work_dir),
                    pairs,
                    contexts,
                )
            )
    if signing_key is None:
        return rendered
    # PAdES on every PDF, before the manifest hashes it and the email attaches it.
    return [
        RenderedReport(
            input=report.input,
            files=[
                signing_key.sign_pdf_file(path) if path.suffix == ".pdf" else path
                for path in report.files
            ],
        )
        for report in rendered
    ]


def _render(spec: ReportSpec, report_input: ReportInput, work_dir: Path) -> RenderedReport:
    """Every format of one report."""
    files = [
        fmt.renderer()(report_input, work_dir / fmt.file_name(spec.name))
        for fmt in selected(spec.formats)
    ]
    return RenderedReport(input=report_input, files=files)


def _manifest(
    config: Config,
    run_info: RunInfo,
    fetched: FetchOutcome,
    computed: _Computed,
    files: list[Path],
    work_dir: Path,
    signing_key: SigningKey | None,
) -> list[Path]:
    """manifest.json over ``files`` (and its signature): the files it adds."""
    result = computed.result
    manifest = write_manifest(
        work_dir,
        run=run_info,
        meetings_fetched=[d.instance.id for d in fetched.data],
        meetings_failed=list(fetched.failures),
        row_counts={
            "attendance": len(result.attendance),
            "devices": len(result.devices),
            "courses": len(result.courses),
        },
        files=files,
        page_problems={d.instance.id: d.page_problems for d in fetched.data if d.page_problems},
        notes=[*fetched.notes, *computed.quality_notes],
        signing=signing_key.describe() if signing_key else None,
        selections=fetched.selections,
        inputs=_input_hashes(config),
    )
    if signing_key is None:
        return [manifest]
    return [manifest, signing_key.sign_manifest(manifest)]


def _contents(config: Config, inputs: list[ReportInput]) -> dict[str, ReportContent]:
    """What each report says, by name: the ledger's content keys."""
    words = criteria_of(config.rules)
    return {i.spec.name: report_content(i, words) for i in inputs}


def _remove_stale_temps(config: Config, out_dir: Path) -> None:
    """Temporary files a killed run left in the output folder or the outbox."""
    folders = [out_dir]
    if config.email is not None and config.email.outbox is not None:
        folders.append(config.email.outbox)
    for folder in folders:
        for path in remove_stale_temps(folder):
            log.info("removed %s, left by an interrupted run", path)


def _fetch(
    config: Config,
    options: RunOptions,
    env: Mapping[str, str],
    store: Store,
    run_info: RunInfo,
) -> FetchOutcome:
    outcomes: list[FetchOutcome] = []
    with webex_endpoint(config, env) as endpoint:

        async def go() -> None:
            async with endpoint.client(config) as client:
                outcomes.append(
                    await fetch_all(
                        config,
                        store,
                        run_info.run_id,
                        client,
                        refresh=options.refresh,
                        progress=options.progress,
                    )
                )

        # The outcome leaves through a list, not asyncio.run's return value: on 3.11 the
        # finished task is formatted as text on the way out, which took seconds for a
        # large month's records.
        asyncio.run(go())
    return outcomes[0]


def _input_hashes(config: Config) -> dict[str, dict[str, str]]:
    """The files besides the config that decide what the reports say (rule 13: the
    overrides file's SHA-256 is in the manifest)."""
    if config.overrides is None:
        return {}
    digest = hashlib.sha256(config.overrides.read_bytes()).hexdigest()
    return {"overrides": {"path": str(config.overrides), "sha256": digest}}
