"""manifest.json: content, stable form, and verify_outputs catching any change."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.manifest import MANIFEST_NAME, sha256_file, verify_outputs, write_manifest
from reporting.model import FetchFailure, RunInfo

RUN = RunInfo(
    run_id="abc123def456",
    config_path="/srv/attendance/monthly.yaml",
    config_hash="f" * 64,
    period_label="2026-10",
    period_start=datetime(2026, 9, 30, 22, tzinfo=UTC),
    period_end=datetime(2026, 10, 31, 23, tzinfo=UTC),
    as_of=datetime(2026, 11, 2, 5, 0, 7, tzinfo=UTC),
    timezone="Europe/Berlin",
    tool_version="0.1.0",
)
FAILED = FetchFailure("series-9", "series-9_I_1", "Fire safety: 404 Not Found")

CONTENTS = {
    "attendance.csv": b"meeting_id,person_key\nm1,email:a@example.com\n",
    "devices.csv": b"meeting_id\n",
    "courses.csv": b"course\nsec\n",
    "compliance.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 8,
    "managers.xlsx": b"PK\x03\x04" + bytes(range(255, -1, -1)) * 4,
}


def make_outputs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, data in CONTENTS.items():
        path = folder / name
        path.write_bytes(data)
        files.append(path)
    write_manifest(
        folder,
        run=RUN,
        meetings_fetched=["m1", "m2"],
        meetings_failed=[FAILED],
        row_counts={"attendance": 1, "devices": 0, "courses": 1},
        files=files,
    )
    return files


def test_manifest_describes_the_run(tmp_path: Path) -> None:
    files = make_outputs(tmp_path)
    document = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert document["run_id"] == "abc123def456"
    assert document["config_hash"] == "f" * 64
    assert document["period"] == {
        "label": "2026-10",
        "start": "2026-09-30T22:00:00+00:00",
        "end": "2026-10-31T23:00:00+00:00",
    }
    assert document["as_of"] == "2026-11-02T05:00:07+00:00"
    assert document["tool_version"] == "0.1.0"
    assert document["meetings"] == {
        "fetched": ["m1", "m2"],
        "failed": [
            {
                "entry_id": "series-9",
                "instance_id": "series-9_I_1",
                "message": "Fire safety: 404 Not Found",
            }
        ],
        "page_problems": {},
    }
    assert document["row_counts"] == {"attendance": 1, "courses": 1, "devices": 0}
    assert set(document["files"]) == set(CONTENTS)
    for path in files:
        entry = document["files"][path.name]
        assert entry == {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def test_manifest_text_is_stable_and_sorted(tmp_path: Path) -> None:
    make_outputs(tmp_path / "a")
    make_outputs(tmp_path / "b")
    first = (tmp_path / "a" / MANIFEST_NAME).read_text(encoding="utf-8")
    assert first == (tmp_path / "b" / MANIFEST_NAME).read_text(encoding="utf-8")
    assert first.endswith("}\n") and first.startswith("{\n  ")
    document = json.loads(first)
    assert list(document) == sorted(document)
    assert first == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_manifest_lists_itself_never_and_refuses_outside_files(tmp_path: Path) -> None:
    files = make_outputs(tmp_path / "out")
    # Listing the manifest (as the pipeline's file list might) is harmless.
    write_manifest(
        tmp_path / "out",
        run=RUN,
        meetings_fetched=[],
        meetings_failed=[],
        row_counts={},
        files=[*files, tmp_path / "out" / MANIFEST_NAME],
    )
    document = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert MANIFEST_NAME not in document["files"]
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("x")
    with pytest.raises(ValueError, match="not inside the output folder"):
        write_manifest(
            tmp_path / "out",
            run=RUN,
            meetings_fetched=[],
            meetings_failed=[],
            row_counts={},
            files=[outside],
        )


def test_fresh_outputs_verify(tmp_path: Path) -> None:
    make_outputs(tmp_path)
    assert verify_outputs(tmp_path) == []


def test_a_moved_folder_still_verifies(tmp_path: Path) -> None:
    make_outputs(tmp_path / "2026-10")
    shutil.move(tmp_path / "2026-10", tmp_path / "archive")
    assert verify_outputs(tmp_path / "archive") == []


def test_missing_file_is_named(tmp_path: Path) -> None:
    make_outputs(tmp_path)
    (tmp_path / "devices.csv").unlink()
    assert verify_outputs(tmp_path) == ["devices.csv: missing"]


def test_extra_file_is_named(tmp_path: Path) -> None:
    make_outputs(tmp_path)
    (tmp_path / "managers.pdf").write_bytes(b"%PDF stale, from a run with other formats")
    assert verify_outputs(tmp_path) == ["managers.pdf: not listed in the manifest"]


def test_subfolders_such_as_an_outbox_are_not_outputs(tmp_path: Path) -> None:
    make_outputs(tmp_path)
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / "2026-10_managers.eml").write_bytes(b"From: x\r\n\r\nbody")
    assert verify_outputs(tmp_path) == []


def test_truncated_and_appended_files_are_named(tmp_path: Path) -> None:
    make_outputs(tmp_path)
    pdf = tmp_path / "compliance.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n")
    csv = tmp_path / "courses.csv"
    csv.write_bytes(csv.read_bytes()[:-1])
    problems = verify_outputs(tmp_path)
    assert [p.split(":")[0] for p in problems] == ["compliance.pdf", "courses.csv"]
    assert all("changed since the run" in p for p in problems)


def test_missing_or_broken_manifest(tmp_path: Path) -> None:
    assert verify_outputs(tmp_path / "nope") == [f"{tmp_path / 'nope'}: not a folder"]
    assert verify_outputs(tmp_path) == [f"{MANIFEST_NAME}: missing from {tmp_path}"]
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    [problem] = verify_outputs(tmp_path)
    assert problem.startswith(f"{MANIFEST_NAME}: cannot be read")
    (tmp_path / MANIFEST_NAME).write_text("[]")
    [problem] = verify_outputs(tmp_path)
    assert "not a manifest" in problem


def test_a_tampered_manifest_cannot_point_outside_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    make_outputs(out)
    (tmp_path / "secret.txt").write_text("outside")
    path = out / MANIFEST_NAME
    document = json.loads(path.read_text(encoding="utf-8"))
    document["files"]["../secret.txt"] = {"sha256": sha256_file(tmp_path / "secret.txt")}
    document["files"]["/etc/passwd"] = {"sha256": "0" * 64}
    path.write_text(json.dumps(document), encoding="utf-8")
    assert verify_outputs(out) == [
        "../secret.txt: unsafe path in the manifest",
        "/etc/passwd: unsafe path in the manifest",
    ]


def test_editing_the_manifest_hash_is_caught(tmp_path: Path) -> None:
    make_outputs(tmp_path)
    path = tmp_path / MANIFEST_NAME
    document = json.loads(path.read_text(encoding="utf-8"))
    document["files"]["attendance.csv"]["sha256"] = "0" * 64
    path.write_text(json.dumps(document), encoding="utf-8")
    [problem] = verify_outputs(tmp_path)
    assert problem.startswith("attendance.csv: changed since the run")


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(CONTENTS)),
    position=st.integers(min_value=0, max_value=10_000),
    flip=st.integers(min_value=1, max_value=255),
)
def test_any_changed_byte_is_caught_and_names_its_file(name: str, position: int, flip: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        make_outputs(out)
        path = out / name
        data = bytearray(path.read_bytes())
        index = position % len(data)
        data[index] ^= flip
        path.write_bytes(bytes(data))
        problems = verify_outputs(out)
        assert len(problems) == 1
        assert problems[0].startswith(f"{name}: changed since the run")
