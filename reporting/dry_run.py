"""`attendance run --dry-run`: what a run would fetch, write and send. It does none of it.

No network, no file written, nothing sent: the store is read (if it exists) only to tell
what is already fetched and who was already emailed for this period.
"""

from __future__ import annotations

from pathlib import Path

from reporting.check import format_plan
from reporting.config import Config
from reporting.delivery.preview import send_lines
from reporting.render.formats import selected
from reporting.store import Store


def describe_dry_run(
    config: Config, *, output_dir: Path | None, send_email: bool, resend: bool
) -> str:
    out_dir = output_dir or config.output_dir
    lines = ["Dry run: nothing is fetched, written or sent.", "", format_plan(config), ""]
    store = Store.open_readonly(config.store) if config.store.exists() else None
    try:
        lines += _fetch_lines(config, store)
        lines += ["", f"Would write to {out_dir}:"]
        lines += [f"  {name}" for name in _output_names(config)]
        lines += ["", *send_lines(config, store, send_email=send_email, resend=resend)]
    finally:
        if store is not None:
            store.close()
    return "\n".join(lines)


def _fetch_lines(config: Config, store: Store | None) -> list[str]:
    sandbox = config.webex.base_url == "sandbox"
    source = "the bundled sandbox" if sandbox else config.webex.base_url
    lines = [f"Would fetch from {source}:"]
    period = (config.period.start, config.period.end)
    for entry in config.meetings:
        plan = store.latest_plan(entry.ref, period, config.webex.host_email) if store else None
        if plan is None or plan[0] is None:
            lines.append(f"  {entry.ref}: look up, expand to its instances, fetch participants")
            continue
        instances = [m["id"] for m in plan[0]]
        stored = [i for i in instances if store is not None and store.complete_fetch(i)]
        lines.append(
            f"  {entry.ref}: {len(instances)} instance(s) planned last time, "
            f"{len(stored)} already stored (not fetched again unless --refresh)"
        )
    return lines


def _output_names(config: Config) -> list[str]:
    names = ["attendance.csv", "devices.csv", "courses.csv"]
    for spec in config.reports:
        names += [fmt.file_name(spec.name) for fmt in selected(spec.formats)]
    return [*names, "manifest.json"]
