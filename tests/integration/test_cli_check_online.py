"""`attendance check --online`: what each entry selects, against the bundled sandbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from reporting.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_check_online_lists_each_match_selection_and_marks_the_restart() -> None:
    result = CliRunner().invoke(
        main, ["check", "--online", str(ROOT / "configs" / "demo.yaml")], env={"WEBEX_TOKEN": None}
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    section = out.split("selection ", 1)[1]
    assert "match title='Fire Safety*' type=webinar: 1 instance(s)" in section
    assert "match title='data protection*' hosts=sabine.hartmann@example.com: 1 instance(s)" in (
        section
    )
    anti = section.split("match title='Anti-Bribery*': 2 instance(s)", 1)[1]
    first, second = anti.strip().splitlines()[:2]
    assert "2026-10-28 11:01 CET  Anti-Bribery Essentials  host sabine.hartmann@example.com" in (
        first
    )
    assert "(started again: one session, rule 15)" in second
    assert "d75df7ee5c1faa9f52135cb13ccc38b7: 4 instance(s)" in section
    # Nothing is written: no store, no outputs.
    assert not (ROOT / "reports" / "demo-check-online").exists()


def test_check_online_warns_of_an_instance_outside_the_period_and_an_empty_match(
    tmp_path: Path,
) -> None:
    for folder in ("samples",):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.png"))
    config = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8"))
    first_aid = "b2e8e3403ec8de6e3531d9edb35fa3a0_I_869765047873097632"  # Oct 21
    config["period"] = {"from": "2026-10-01", "to": "2026-10-15"}
    config["webex"]["sandbox_dataset"] = str(tmp_path / "samples" / "demo-dataset.json")
    config["meetings"] = [
        {"id": first_aid},
        {"match": {"title": "Quarterly*"}},
        {"match": {"title": "security awareness*"}},
    ]
    config.pop("email", None)
    config.pop("overrides", None)  # a path relative to configs/, not to this copy
    config["reports"] = []
    config["store"] = str(tmp_path / "store.sqlite")
    config["output"] = {"dir": str(tmp_path / "out")}
    path = tmp_path / "audit.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--online", str(path)], env={"WEBEX_TOKEN": None})
    assert result.exit_code == 0, result.output
    assert f"1. {first_aid}: 0 instance(s)" in result.stdout
    assert "3. match title='security awareness*': 2 instance(s)" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any(first_aid in w and "outside the period" in w for w in warnings), warnings
    assert any("meetings[1]" in w and "selects no ended meeting" in w for w in warnings)
    assert not (tmp_path / "store.sqlite").exists() and not (tmp_path / "out").exists()


def test_check_online_with_a_refused_token_exits_1(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8"))
    config["webex"]["sandbox_dataset"] = str(ROOT / "samples" / "demo-dataset.json")
    config["webex"]["sandbox_role"] = "host:nobody@example.com"
    config["meetings"] = [{"match": {"hosts": ["sabine.hartmann@example.com"]}}]
    config.pop("email", None)
    config.pop("overrides", None)  # a path relative to configs/, not to this copy
    config["reports"] = []
    config["store"] = str(tmp_path / "store.sqlite")
    config["output"] = {"dir": str(tmp_path / "out")}
    path = tmp_path / "audit.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--online", str(path)], env={"WEBEX_TOKEN": None})
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.stdout and "403" in result.stdout
    assert "Traceback" not in result.output
