"""Malformed answers from a hostile Webex stand-in: one clear line each, never a traceback.

Each file in tests/hostile_pages/ scripts the participant pages of one meeting (served by
a raw loopback server, tests/hostile_server.py) and says what the run must do: the exit
code, a line it must print, and, for a record with a field of the wrong type, the flag
its row carries. A good meeting is audited beside it, so a failed hostile meeting leaves
a run that still produced its reports (exit 3), and nothing is dropped silently.

A page file's pages: ``status`` (200), ``headers`` (JSON content type), and the body as
``body`` (text), ``body_hex``, ``body_utf16``, ``json`` (any value), ``records`` (records
whose fields go over a clean one: ``{joinedTime: 5}``), or ``deep`` (a record holding a
list nested that deep); ``gzip``/``cut``/``bom`` change the bytes; ``link`` is a raw Link
header (``{base}``, ``{id}`` filled in) and ``link_to: N`` a next link to page N.
``meeting`` gives fields over the hostile meeting's Get Meeting object.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.hostile_server import (
    GOOD_MEETING,
    HOSTILE_MEETING,
    HostileServer,
    Reply,
    hostile_config,
    next_link,
    record,
)
from tests.pipeline_support import run_cli

CASES = sorted((Path(__file__).parents[1] / "hostile_pages").glob("*.yaml"))
TOKEN = "hostile-pages-token-0c3a9d"
PERSON_NAMES = ["Page1 Person", "Page2 Person", "Page3 Person"]


def _body(page: dict[str, Any]) -> bytes:
    if "body" in page:
        data = str(page["body"]).encode("utf-8")
    elif "body_hex" in page:
        data = bytes.fromhex(page["body_hex"])
    elif "body_utf16" in page:
        data = str(page["body_utf16"]).encode("utf-16")
    elif "json" in page:
        data = json.dumps(page["json"]).encode()
    elif "deep" in page:
        depth = int(page["deep"])
        data = (
            b'{"items": [{"email": "deep@example.com", "displayName": '
            + b"[" * depth
            + b"]" * depth
            + b"}]}"
        )
    else:
        return b""
    return data


def _records(page: dict[str, Any], number: int, bom: bool) -> bytes:
    name = "BOM Person" if bom else PERSON_NAMES[number - 1]
    email = name.lower().replace(" ", ".") + "@example.com"
    items = []
    for index, fields in enumerate(page["records"]):
        item = record(name if index == 0 else f"{name} {index}", email)
        if index:
            item["email"] = f"{index}.{email}"
        item.update(fields or {})
        items.append(item)
    return json.dumps({"items": items}).encode()


def _reply(page: dict[str, Any], number: int, base: str) -> Reply:
    headers = dict(page.get("headers") or {"Content-Type": "application/json"})
    body = _records(page, number, bool(page.get("bom"))) if "records" in page else _body(page)
    if page.get("bom"):
        body = b"\xef\xbb\xbf" + body
    if page.get("gzip"):
        body = gzip.compress(body)
    if "cut" in page:
        body = body[: int(len(body) * float(page["cut"]))]
    pairs = [(str(k), str(v)) for k, v in headers.items()]
    if "link" in page:
        pairs.append(("Link", str(page["link"]).format(base=base, id=HOSTILE_MEETING)))
    if "link_to" in page:
        pairs.append(next_link(base, int(page["link_to"])))
    return Reply(status=int(page.get("status", 200)), headers=pairs, body=body)


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "attendance.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_a_hostile_page_gives_its_message_and_exit_code(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    pages: list[dict[str, Any]] = spec["pages"]
    expect: dict[str, Any] = spec["expect"]

    def script(number: int, base: str) -> Reply:
        page = pages[min(number, len(pages)) - 1]
        return _reply(page, number, base)

    with HostileServer(script, meeting_fields=spec.get("meeting")) as server:
        config = hostile_config(tmp_path, server.base_url)
        result = run_cli("run", str(config), token=TOKEN)
        page1 = f"{server.base_url}/meetingParticipants?max=100&meetingId={HOSTILE_MEETING}"
    output = result.output + result.stderr
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert result.exit_code == expect["exit"], output
    says = str(expect["says"]).format(id=HOSTILE_MEETING, page1=page1) if "says" in expect else ""
    if says:
        lines = [line for line in output.splitlines() if says in line]
        assert lines, f"no line says {says!r}:\n{output}"
        # The line names the meeting it is about.
        assert all(HOSTILE_MEETING in line for line in lines), lines
    rows = _rows(tmp_path / "out")
    assert any(r["meeting_id"] == GOOD_MEETING for r in rows)
    hostile = [r for r in rows if r["meeting_id"] == HOSTILE_MEETING]
    if "flag" in expect:
        assert hostile, "the record with the bad field was dropped"
        assert any(expect["flag"] in r["flags"].split(";") for r in hostile), hostile
    if "row" in expect:
        assert any(r["display_name"] == expect["row"] for r in hostile), hostile
    if result.exit_code == 0:
        assert hostile, "the hostile meeting's records are missing from a run that exited 0"


def test_there_are_at_least_25_hostile_pages() -> None:
    assert len(CASES) >= 25
