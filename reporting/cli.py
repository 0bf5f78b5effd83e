"""The `attendance` command line: parse, call the core, turn errors into exit codes.

Exit codes: 0 all done; 1 failure; 2 bad config or arguments; 3 the reports were produced
but some meetings, or some pages of participants, could not be fetched (they are listed
in the reports and the manifest).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from reporting import __version__
from reporting.errors import AttendanceError, ConfigError

if TYPE_CHECKING:
    from reporting.config import Config, Period
    from reporting.pipeline import RunOutcome

EXIT_FAILURE = 1
EXIT_USAGE = 2


def _fail(error: AttendanceError, log_format: str = "text") -> NoReturn:
    _tell(f"error: {error}", log_format, level=logging.ERROR)
    sys.exit(error.exit_code)


def _tell(message: str, log_format: str, *, level: int) -> None:
    """One line for the operator on stderr; with --log-format json, a JSON log line."""
    if log_format == "json":
        # A log collector expects one JSON object per line, nothing in between.
        logging.getLogger("reporting.cli").log(level, "%s", message)
    else:
        click.echo(message, err=True)


def _load(
    config_path: str, period: str | None, date_from: date | None, date_to: date | None
) -> Config:
    """Load the config with the period the command line asks for, if any."""
    from reporting.config import load_config, parse_period_arg

    if period is not None and (date_from or date_to):
        raise ConfigError("use either --period or --from/--to, not both")
    if (date_from is None) != (date_to is None):
        raise ConfigError(
            "--from and --to go together", hint="e.g. --from 2026-10-01 --to 2026-11-01"
        )
    override: Period | tuple[date, date] | None = None
    if period is not None:
        # Parsed as calendar dates; load_config places them at midnight in the config's zone.
        override = parse_period_arg(period)
    elif date_from is not None and date_to is not None:
        override = (date_from, date_to)
    return load_config(Path(config_path), period=override)


def program() -> NoReturn:
    """The `attendance` command: `main`, then an exit that skips the interpreter's teardown.

    By the time a command returns, its work is done and closed (the store, the run lock,
    the output files); what the teardown would add is freeing every object the run made,
    a noticeable part of a short run. The exit handlers still run (logging's flush, the
    PDF fork server's reaping, multiprocessing's), and the output streams are flushed.
    Tests call `main` itself, which exits as any click program does."""
    try:
        main()
        code: object = 0
    except SystemExit as stop:
        code = stop.code
    if code is not None and not isinstance(code, int):
        click.echo(str(code), err=True)  # as the interpreter prints a SystemExit message
        code = EXIT_FAILURE
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken pipe: nothing to flush to
            stream.flush()
    os._exit(code or 0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attendance")
def main() -> None:
    """Audit who really attended mandatory trainings held on Webex."""


@main.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option("--period", help="Audit this calendar month instead of the config's, e.g. 2026-10.")
@click.option(
    "--from",
    "date_from",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Period start (inclusive), e.g. 2026-10-01.",
)
@click.option(
    "--to",
    "date_to",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Period end (exclusive), e.g. 2026-11-01.",
)
@click.option(
    "--output",
    "output_dir",
    type=click.Path(file_okay=False),
    help="Write the outputs here instead of output.dir.",
)
@click.option("--offline", is_flag=True, help="Recompute and re-render from the store; no network.")
@click.option("--refresh", is_flag=True, help="Fetch every meeting again even if the store has it.")
@click.option("--no-email", is_flag=True, help="Produce the reports but send nothing.")
@click.option(
    "--resend", is_flag=True, help="Send again to recipients who already got this period's reports."
)
@click.option(
    "--dry-run", is_flag=True, help="Print what would be fetched, written and sent; do nothing."
)
@click.option(
    "--new-store",
    is_flag=True,
    help="Start a new store when the one configured is empty or unreadable (it is kept, "
    "renamed aside); reports already emailed are then emailed again.",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "-v", "--verbose", count=True, help="More detail; -v request level, -vv HTTP library too."
)
def run(
    config_path: str,
    period: str | None,
    date_from: object,
    date_to: object,
    output_dir: str | None,
    offline: bool,
    refresh: bool,
    no_email: bool,
    resend: bool,
    dry_run: bool,
    new_store: bool,
    log_format: str,
    verbose: int,
) -> None:
    """Fetch, compute, render and deliver the reports of CONFIG."""
    from reporting.logs import setup_logging
    from reporting.quality import record_problem_lines

    setup_logging(verbose, log_format, secrets=())
    try:
        _refuse_contradictions(offline=offline, refresh=refresh)
        config = _load(config_path, period, _as_date(date_from), _as_date(date_to))
        if dry_run:
            from reporting.dry_run import describe_dry_run

            click.echo(
                describe_dry_run(
                    config,
                    output_dir=Path(output_dir) if output_dir else None,
                    send_email=not no_email,
                    resend=resend,
                )
            )
            return
        from reporting.pipeline import RunOptions
        from reporting.pipeline import run as run_pipeline

        options = RunOptions(
            output_dir=Path(output_dir) if output_dir else None,
            offline=offline,
            refresh=refresh,
            send_email=not no_email,
            resend=resend,
            progress=sys.stderr.isatty(),
            new_store=new_store,
        )
        outcome = run_pipeline(config, options, os.environ)
    except AttendanceError as error:
        _fail(error, log_format)
    click.echo(_summary_line(outcome))
    for failure in outcome.fetch.failures:
        _tell(f"not fetched: {failure.message}", log_format, level=logging.WARNING)
    for note in outcome.fetch.notes:
        _tell(f"note: {note}", log_format, level=logging.WARNING)
    for data in outcome.fetch.data:
        for problem in data.page_problems:
            _tell(
                f"unusable page: {data.instance.id}: {problem}", log_format, level=logging.WARNING
            )
    for line in record_problem_lines(outcome.fetch.data):
        _tell(f"bad record: {line}", log_format, level=logging.WARNING)
    for warning in outcome.notes:
        _tell(f"warning: {warning}", log_format, level=logging.WARNING)
    sys.exit(outcome.exit_code)


@main.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option("--period", help="Check with this calendar month, e.g. 2026-10.")
@click.option(
    "--online",
    is_flag=True,
    help="Also ask Webex what each entry selects (title, start, host, id); reads the "
    "meeting lists only.",
)
def check(config_path: str, period: str | None, online: bool) -> None:
    """Validate CONFIG and print the resolved plan; touches no network unless --online."""
    from reporting.check import format_plan
    from reporting.preflight import problems
    from reporting.quality import check_warnings

    try:
        config = _load(config_path, period, None, None)
    except AttendanceError as error:
        _fail(error)
    click.echo(format_plan(config))
    for warning in check_warnings(config):
        click.echo(f"warning: {warning}", err=True)
    # Everything `run` checks before the network, all of it at once.
    found = problems(config, os.environ)
    for problem in found:
        click.echo(f"error: {problem}", err=True)
    if found:
        sys.exit(max(problem.exit_code for problem in found))
    if online:
        from reporting.discovery.online import check_online, format_online

        try:
            checked = check_online(config, os.environ)
        except AttendanceError as error:
            _fail(error)
        click.echo(format_online(config, checked))
        for warning in checked.warnings:
            click.echo(f"warning: {warning}", err=True)
        if checked.failed:
            sys.exit(EXIT_FAILURE)


@main.command()
@click.argument("output_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.option(
    "--trust",
    "trust",
    multiple=True,
    metavar="CA.pem",
    type=click.Path(dir_okay=False),
    help="Check that the signer's certificate chains to this CA (PEM; repeatable).",
)
def verify(output_dir: str, trust: tuple[str, ...]) -> None:
    """Re-check DIR against its manifest.json: every SHA-256, and for a signed run the
    manifest's signature and every PDF's signature."""
    from reporting.verify import verify_run

    try:
        result = verify_run(Path(output_dir), [Path(t) for t in trust])
    except AttendanceError as error:
        _fail(error)
    for note in result.notes:
        click.echo(note)
    if not result.ok:
        for problem in result.problems:
            click.echo(f"FAILED: {problem}", err=True)
        sys.exit(EXIT_FAILURE)
    click.echo(f"OK: every output in {output_dir} matches its manifest")


@main.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option("--period", help="Show this calendar month instead of the config's, e.g. 2026-10.")
def history(config_path: str, period: str | None) -> None:
    """List the period's runs and every message sent for it, from the store."""
    from reporting.history import describe_history

    try:
        click.echo(describe_history(_load(config_path, period, None, None)))
    except AttendanceError as error:
        _fail(error)


@main.group()
def sandbox() -> None:
    """The bundled simulator of the Webex meetings API."""


@sandbox.command()
@click.option(
    "--dataset",
    type=click.Path(dir_okay=False, exists=True),
    help="Dataset JSON (default: the demo dataset).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--faults", help="Fault injection, e.g. seed=7,latency=50ms,429=5%,503=5%,drop=2%,rate=300/min."
)
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN:ROLE",
    help="Accept TOKEN with ROLE (admin, compliance, host:EMAIL); repeatable.",
)
@click.option(
    "--integration",
    "integrations",
    multiple=True,
    metavar="CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN:ROLE",
    help="Register an OAuth integration: POST /v1/access_token trades REFRESH_TOKEN "
    "(with CLIENT_ID and CLIENT_SECRET) for a new access token with ROLE; repeatable.",
)
@click.option(
    "--token-lifetime",
    default="14d",
    show_default=True,
    metavar="DURATION",
    help="How long an access token minted by POST /v1/access_token lives (500ms, 30s, "
    "15m, 12h, 14d); an expired one draws 401.",
)
def serve(
    dataset: str | None,
    host: str,
    port: int,
    faults: str | None,
    tokens: tuple[str, ...],
    integrations: tuple[str, ...],
    token_lifetime: str,
) -> None:
    """Serve the Webex API simulator on HOST:PORT until interrupted."""
    from reporting.webex.sandbox import default_dataset_path, parse_lifetime
    from reporting.webex.sandbox import serve as serve_sandbox

    try:
        serve_sandbox(
            Path(dataset) if dataset else default_dataset_path(),
            host=host,
            port=port,
            faults=faults,
            tokens=list(tokens),
            integrations=list(integrations),
            token_lifetime=parse_lifetime(token_lifetime),
        )
    except AttendanceError as error:
        _fail(error)


@sandbox.command()
@click.option("--meetings", required=True, type=click.IntRange(min=1))
@click.option(
    "--participants", required=True, type=click.IntRange(min=1), help="People per meeting."
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False))
def generate(meetings: int, participants: int, seed: int, output: str) -> None:
    """Write a realistic dataset of MEETINGS × PARTICIPANTS under SEED."""
    from reporting.webex.sandbox import generate_dataset, save_dataset

    save_dataset(generate_dataset(meetings, participants, seed), Path(output))
    click.echo(f"wrote {output}")


def _refuse_contradictions(*, offline: bool, refresh: bool) -> None:
    """Flags that ask for opposite things: the run would have to ignore one of them.
    (``--no-email --resend`` is not one: --no-email wins, as documented.)"""
    if offline and refresh:
        raise ConfigError(
            "--offline and --refresh contradict each other: --offline asks Webex nothing, "
            "--refresh asks it for every meeting again",
            hint="drop one of them",
        )


def _as_date(value: object) -> date | None:
    # click.DateTime gives a datetime; the period is made of calendar dates.
    return value.date() if isinstance(value, datetime) else None


def _summary_line(outcome: RunOutcome) -> str:
    fetched = len(outcome.fetch.data)
    failed = len(outcome.fetch.failures)
    sent = f", {outcome.delivery.describe()}" if outcome.delivery is not None else ""
    return (
        f"{fetched} meeting instance(s) audited, {failed} failed; "
        f"outputs in {outcome.output_dir}{sent}"
    )
