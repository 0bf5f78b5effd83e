"""Regenerate the demo data: samples/demo-dataset.json and samples/roster.csv.

    .venv/bin/python samples/make_demo_dataset.py

Deterministic: the same code writes byte-identical files. The scenario itself lives in
reporting/webex/sandbox/demo.py so an installed wheel can rebuild it without this folder.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from reporting.webex.sandbox.demo import build_demo

HERE = Path(__file__).resolve().parent


def main() -> None:
    dataset, roster = build_demo()
    # Indented so reviewers can read and diff the demo; generated datasets stay compact.
    text = json.dumps(dataset, ensure_ascii=False, indent=1) + "\n"
    (HERE / "demo-dataset.json").write_text(text, encoding="utf-8")
    with (HERE / "roster.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["email", "name", "department", "aliases"])
        writer.writeheader()
        writer.writerows(roster)
    print(f"wrote {HERE / 'demo-dataset.json'} and {HERE / 'roster.csv'}")


if __name__ == "__main__":
    main()
