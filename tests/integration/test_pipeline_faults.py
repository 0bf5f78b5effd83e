"""A run through injected faults produces exactly the outputs of a fault-free run.

The promise: 429s, 503s and dropped connections are retried until the data is complete,
so a user who hits a bad day at Webex gets the same CSVs, byte for byte, as on a good day
(separate stores, separate output folders, the same dataset).
"""

from __future__ import annotations

import json
from pathlib import Path

from reporting.webex.sandbox import SandboxServer
from tests.pipeline_support import (
    CSVS,
    config_meetings,
    csv_bytes,
    dataset_file,
    run_cli,
    store_rows,
    write_config,
)

# 6 instances of 150 people: two participant pages each, ~15 requests per run.
SHAPE = {"meetings": 6, "participants": 150, "seed": 11}
TOKEN = "pipeline-faults-token"
# Decisions are a pure function of (seed, token, URL, attempt): under this seed the run
# meets at least one 429, one 503 and one dropped connection. Retry-After 0 keeps it fast.
FAULTS = "seed=7,429=5%,503=5%,drop=2%,retry_after=0"


def _run(folder: Path, base_url: str) -> tuple[int, str, dict[str, bytes], dict[str, int]]:
    config = write_config(
        folder,
        base_url=base_url,
        meetings=config_meetings(**SHAPE),
        webex={"requests_per_minute": 100_000},
    )
    result = run_cli("run", str(config), token=TOKEN)
    counts = json.loads(store_rows(folder / "store.sqlite", "SELECT counts FROM runs")[0][0])
    return result.exit_code, result.output, csv_bytes(folder / "out"), counts


def test_faulty_run_outputs_are_byte_identical_to_a_clean_run(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path, **SHAPE)
    with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as clean_sandbox:
        clean_code, clean_output, clean, clean_counts = _run(
            tmp_path / "clean", clean_sandbox.base_url
        )
    with SandboxServer(dataset, tokens={TOKEN: "compliance"}, faults=FAULTS) as faulty_sandbox:
        code, output, faulty, counts = _run(tmp_path / "faulty", faulty_sandbox.base_url)

    assert clean_code == 0, clean_output
    assert clean_counts["retries"] == 0
    assert code == 0, output
    assert "5 meeting instance(s) audited, 0 failed" in output
    # The faults really happened (otherwise this test proves nothing; pick another seed).
    assert counts["rate_limited"] >= 1, counts
    assert counts["server_errors"] >= 1, counts
    assert counts["transport_errors"] >= 1, counts
    assert counts["retries"] == (
        counts["rate_limited"] + counts["server_errors"] + counts["transport_errors"]
    )
    assert counts["requests"] == clean_counts["requests"] + counts["retries"]
    for name in CSVS:
        assert faulty[name] == clean[name], f"{name} differs after retries"
    # Not vacuous: the CSVs hold the dataset's people.
    assert clean["attendance.csv"].count(b"\n") > 5 * 100
