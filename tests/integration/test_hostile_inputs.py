"""Hostile inputs of every kind issue 17 names, each with its expected outcome.

Each case builds a small audit (a generated dataset served by the in-process sandbox, a
config, an output folder, bait files outside it), spoils one thing, runs the command line
and checks: the exit code, the one line it prints, no traceback, and that no file outside
the output folder, the outbox and the store's own files was created, changed or removed
(the bait files that planted links point at included).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reporting.cli import main
from reporting.run_lock import run_lock
from reporting.webex.sandbox import generate_dataset, save_dataset

INSTANCE = "ad9a629624aa17344d1079ab5e320f4a_I_295543730000069271"
REPORTS: list[dict[str, Any]] = [
    {"name": "compliance", "audience": "compliance", "formats": ["xlsx"],
     "email_to": ["c@example.com"]},
    {"name": "managers", "audience": "summary", "formats": ["xlsx"],
     "email_to": ["m@example.com"]},
]  # fmt: skip
SECRET = "root:x:0:0:bait-secret"


@dataclass
class Tree:
    root: Path
    config: dict[str, Any]
    dataset: dict[str, Any]
    text: str | None = None  # raw config text, when a case writes it itself
    raw: bytes | None = None
    args: list[str] = field(default_factory=lambda: ["run"])
    hold_lock: bool = False

    @property
    def cfg(self) -> Path:
        return self.root / "cfg"

    @property
    def out(self) -> Path:
        return self.cfg / "out"

    @property
    def outside(self) -> Path:
        return self.root / "outside"

    def records(self) -> list[dict[str, Any]]:
        return list(self.dataset["participants"][INSTANCE])

    def meeting(self) -> dict[str, Any]:
        return next(m for m in self.dataset["meetings"] if m["id"] == INSTANCE)


def _base(root: Path) -> Tree:
    (root / "cfg").mkdir(parents=True)
    (root / "outside").mkdir()
    for name in ("passwd", "attendance.csv", "manifest.json", "compliance.xlsx"):
        (root / "outside" / name).write_text(SECRET)
    config: dict[str, Any] = {
        "timezone": "Europe/Berlin",
        "period": "2026-09",
        "webex": {"base_url": "sandbox", "sandbox_dataset": "dataset.json"},
        "meetings": [{"id": INSTANCE, "course": "security"}],
        "rules": {"min_attendance": "80%"},
        "reports": copy.deepcopy(REPORTS),
        "output": {"dir": "out"},
        "store": "store.sqlite",
        "email": {"from": "attendance@example.com", "outbox": "outbox"},
    }
    return Tree(root, config, copy.deepcopy(generate_dataset(2, 5, 11)))


# -- the spoilers ------------------------------------------------------------------------


def _yaml_text(tree: Tree) -> str:
    return yaml.safe_dump(tree.config, sort_keys=False)


def alias_bomb(tree: Tree) -> None:
    lines = ['x0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    tree.text = "\n".join(lines) + "\n" + _yaml_text(tree)


def recursive_alias(tree: Tree) -> None:
    tree.text = _yaml_text(tree) + "roster: &r [a, [b, *r]]\n"


def too_deep(tree: Tree) -> None:
    tree.text = _yaml_text(tree) + "roster: " + "[" * 200 + "]" * 200 + "\n"


def raw_byte(char: str) -> Callable[[Tree], None]:
    def spoil(tree: Tree) -> None:
        tree.text = _yaml_text(tree).replace("Europe/Berlin", f"Europe/Berlin{char}")

    return spoil


def huge_config(tree: Tree) -> None:
    tree.text = _yaml_text(tree) + "# " + "x" * (2 << 20) + "\n"


def not_utf8(tree: Tree) -> None:
    tree.raw = _yaml_text(tree).encode("utf-8") + b"# \xff\xfe\n"


def python_tag(tree: Tree) -> None:
    tree.text = _yaml_text(tree) + 'roster: !!python/object/apply:os.system ["touch PWNED"]\n'


def output_mode(value: Any) -> Callable[[Tree], None]:
    def spoil(tree: Tree) -> None:
        tree.config["output"]["mode"] = value

    return spoil


def store_bytes(data: bytes) -> Callable[[Tree], None]:
    def spoil(tree: Tree) -> None:
        (tree.cfg / "store.sqlite").write_bytes(data)

    return spoil


def store_is_folder(tree: Tree) -> None:
    (tree.cfg / "store.sqlite").mkdir()


def locked(tree: Tree) -> None:
    tree.hold_lock = True


def planted_link(name: str, target: str) -> Callable[[Tree], None]:
    def spoil(tree: Tree) -> None:
        tree.out.mkdir(exist_ok=True)
        (tree.out / name).symlink_to(tree.outside / target)

    return spoil


def out_is_file(tree: Tree) -> None:
    (tree.cfg / "out").write_text("not a folder")


def folder_at_output_name(tree: Tree) -> None:
    (tree.out / "attendance.csv").mkdir(parents=True)


def stale_outbox_temp(tree: Tree) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    outbox = tree.cfg / "outbox"
    outbox.mkdir()
    (outbox / f".2026-09_managers_x.eml.{int(done.stdout)}-0a1b2c3d4e5f.tmp").write_text("half")


def user_template(name: str, body: str | None = None, link: str | None = None,
                  pdf: bool = False) -> Callable[[Tree], None]:  # fmt: skip
    def spoil(tree: Tree) -> None:
        folder = tree.cfg / "tpl"
        folder.mkdir(exist_ok=True)
        if link is not None:
            (folder / name).symlink_to(tree.outside / link)
        else:
            (folder / name).write_text(body or "")
        tree.config["templates"] = "tpl"
        if pdf:
            tree.config["reports"][1]["formats"] = ["pdf"]

    return spoil


def window(start: str, end: str) -> Callable[[Tree], None]:
    def spoil(tree: Tree) -> None:
        tree.meeting()["start"], tree.meeting()["end"] = start, end

    return spoil


def second_instance_impossible(tree: Tree) -> None:
    """A second ended instance whose end is before its start, beside the good one."""
    bad_id = INSTANCE.replace("_I_", "_I_9")
    meeting = copy.deepcopy(tree.meeting())
    meeting.update(id=bad_id, start="2026-09-07T12:00:00Z", end="2026-09-07T11:00:00Z")
    tree.dataset["meetings"].append(meeting)
    tree.dataset["participants"][bad_id] = copy.deepcopy(tree.records())
    tree.config["meetings"].append({"id": bad_id, "course": "security"})


def instance_failure_named(tree: Tree) -> None:
    manifest = json.loads((tree.out / "manifest.json").read_text())
    [failed] = manifest["meetings"]["failed"]
    assert failed["instance_id"] == INSTANCE.replace("_I_", "_I_9")
    assert "is before its start" in failed["message"]
    assert manifest["meetings"]["fetched"] == [INSTANCE]


def hostile_name(name: str) -> Callable[[Tree], None]:
    def spoil(tree: Tree) -> None:
        tree.records()[1]["displayName"] = name
        tree.records()[1].pop("email", None)

    return spoil


def phone_email(tree: Tree) -> None:
    tree.records()[1]["email"] = "14085550122@pstn.example.com"
    tree.config["reports"] = [tree.config["reports"][1]]  # no compliance audience at all


# -- expectations on the outputs ---------------------------------------------------------


def bait_untouched(tree: Tree) -> None:
    for path in tree.outside.iterdir():
        assert path.read_text() == SECRET
    assert not any(p.is_symlink() for p in tree.out.rglob("*"))


def no_controls_in_outputs(tree: Tree) -> None:
    import openpyxl

    texts = [(p.name, p.read_text(encoding="utf-8")) for p in tree.out.glob("*.csv")]
    for path in tree.out.glob("*.xlsx"):
        book = openpyxl.load_workbook(path, read_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                texts.append((path.name, " ".join(map(str, row))))
    for eml in (tree.cfg / "outbox").glob("*.eml"):
        texts.append((eml.name, eml.read_text(encoding="utf-8", errors="replace")))
    assert any("Eve" in text and "evil" in text for _, text in texts)
    for name, text in texts:
        for bad in ("\x00", "\x07", "\x1b", "\u202e"):
            assert bad not in text, (name, bad)


def no_full_number(tree: Tree) -> None:
    for path in (p for p in tree.out.rglob("*") if p.is_file()):  # runs/<id>/ copies too
        assert b"14085550122" not in path.read_bytes(), path.name
    assert "•••••••0122@pstn.example.com" in (tree.out / "attendance.csv").read_text()


def outbox_clean(tree: Tree) -> None:
    assert not list((tree.cfg / "outbox").glob(".*.tmp"))
    assert len(list((tree.cfg / "outbox").glob("*.eml"))) == 2


def nothing_written(tree: Tree, outputs: bool = True) -> None:
    assert (
        not outputs
        or not tree.out.exists()
        or not any(p.suffix in (".csv", ".xlsx", ".json") for p in tree.out.iterdir())
    )
    assert not (tree.cfg / "PWNED").exists() and not (Path.cwd() / "PWNED").exists()


def mode_0640(tree: Tree) -> None:
    assert {p.stat().st_mode & 0o777 for p in tree.out.rglob("*") if p.is_file()} == {0o640}


@dataclass(frozen=True)
class Case:
    spoil: Callable[[Tree], None]
    exit_code: int
    message: str  # a regex the output must contain ("" for none)
    check: Callable[[Tree], None] | None = None
    command: str = "run"


CASES: dict[str, Case] = {
    "yaml-alias-bomb-check": Case(alias_bomb, 2, r"more than 100000 values", command="check"),
    "yaml-alias-bomb-run": Case(alias_bomb, 2, r"more than 100000 values", nothing_written),
    "yaml-recursive-alias": Case(recursive_alias, 2, r"audit\.yaml:\d+: a recursive alias"),
    "yaml-too-deep": Case(too_deep, 2, r"nested more than 40 deep"),
    "yaml-nul-byte": Case(raw_byte("\x00"), 2, r"audit\.yaml:\d+: a control character \(U\+0000"),
    "yaml-esc-byte": Case(raw_byte("\x1b"), 2, r"control character \(U\+001B\)"),
    "yaml-bel-byte-check": Case(raw_byte("\x07"), 2, r"U\+0007", command="check"),
    "yaml-c1-byte": Case(raw_byte("\x9b"), 2, r"U\+009B"),
    "yaml-huge": Case(huge_config, 2, r"more than a config can be"),
    "yaml-not-utf8": Case(not_utf8, 2, r"not UTF-8 text"),
    "yaml-python-tag": Case(python_tag, 2, r"audit\.yaml:\d+", nothing_written),
    "mode-unquoted": Case(output_mode(640), 2, r"output\.mode: expected an octal mode in quotes"),
    "mode-executable": Case(output_mode("0755"), 2, r"output\.mode: .*execute"),
    "mode-0640": Case(output_mode("0640"), 0, "", mode_0640),
    "store-empty": Case(store_bytes(b""), 1, r"is empty \(0 bytes\).*--new-store", nothing_written),
    "store-garbage": Case(store_bytes(b"ledger? " * 50), 1, r"is not an SQLite database"),
    "store-folder": Case(store_is_folder, 1, r"is a folder, not a file"),
    "store-locked": Case(locked, 1, r"another run of this store is in progress \(pid \d+"),
    "link-attendance-csv": Case(
        planted_link("attendance.csv", "attendance.csv"), 0, "", bait_untouched
    ),
    "link-manifest": Case(planted_link("manifest.json", "manifest.json"), 0, "", bait_untouched),
    "link-workbook": Case(
        planted_link("compliance.xlsx", "compliance.xlsx"), 0, "", bait_untouched
    ),
    "link-dangling": Case(planted_link("devices.csv", "created-by-run.csv"), 0, "", bait_untouched),
    "out-is-a-file": Case(
        out_is_file,
        1,
        r"output folder \(output\.dir\) .*out cannot be created: .* is a file, not a folder",
    ),
    "folder-at-output-name": Case(
        folder_at_output_name, 1, r"cannot write .*attendance\.csv: .*a folder has the file"
    ),
    "outbox-stale-temp": Case(stale_outbox_temp, 0, "", outbox_clean),
    "template-popen": Case(
        user_template(
            "email_body.txt.j2", "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}"
        ),
        1,
        r"email template email_body\.txt\.j2: refused by the template sandbox",
        lambda t: nothing_written(t, outputs=False),
    ),
    "template-mro": Case(
        user_template("email_body.html.j2", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
        1,
        r"email template email_body\.html\.j2: refused by the template sandbox",
    ),
    "template-link-out": Case(
        user_template("email_subject.txt.j2", link="passwd"),
        1,
        r"is a link to .*passwd, outside its templates folder",
    ),
    "template-include-dotdot": Case(
        user_template("email_body.txt.j2", '{% include "../../outside/passwd" %}'),
        1,
        r"email template email_body\.txt\.j2: .*leads out of its folder",
    ),
    "template-report-popen": Case(
        user_template(
            "report.html.j2", "{{ lipsum.__globals__.os.popen('touch PWNED').read() }}", pdf=True
        ),
        1,
        r"report managers: template report\.html\.j2: refused by the template sandbox",
    ),
    "window-sentinel": Case(
        window("1970-01-01T00:00:00Z", "2026-09-07T08:58:27Z"),
        1,
        r"no meeting could be fetched.*window Webex gives is impossible: "
        r"its start '1970-01-01T[^']*' is the 'unknown' sentinel",
    ),
    "window-end-before-start": Case(
        window("2026-09-07T08:03:13Z", "2026-09-07T07:00:00Z"),
        1,
        r"impossible: its end .* is before its start",
    ),
    "window-impossible-beside-a-good-one": Case(
        second_instance_impossible,
        3,
        r"not fetched: meeting instance \S+_I_9\d+ .*impossible: its end .* is before",
        instance_failure_named,
    ),
    "window-over-24h": Case(
        window("2026-09-07T08:03:13Z", "2026-09-08T09:00:00Z"),
        1,
        r"impossible: its window .* is longer than 24 hours",
    ),
    "name-controls": Case(
        hostile_name("Eve\x00\x07\x1b[2J\u202eevil"), 0, "", no_controls_in_outputs
    ),
    "name-phone-underscores": Case(
        hostile_name("408_555_0177"), 0, "", lambda t: _no_digits(t, "4085550177")
    ),
    "name-phone-fullwidth": Case(
        hostile_name("４０８５５５０１６６"),
        0,
        "",
        lambda t: _no_digits(t, "4085550166", summary_only=True),
    ),
    "email-phone-local-part": Case(phone_email, 0, "", no_full_number),
}


def _no_digits(tree: Tree, digits: str, summary_only: bool = False) -> None:
    # The compliance workbook and the CSVs (written at the compliance audience) show it;
    # the managers' workbook must not.
    import openpyxl

    book = openpyxl.load_workbook(tree.out / "managers.xlsx", read_only=True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                text = str(value)
                folded = "".join(c for c in __import__("unicodedata").normalize("NFKC", text)
                                 if c.isdigit())  # fmt: skip
                assert digits not in folded, (sheet.title, text)


def _snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in filenames + [d for d in dirnames if (here / d).is_symlink()]:
            path = here / name
            if path in skip or name.startswith("store.sqlite"):
                continue
            info = path.lstat()
            target = os.readlink(path) if path.is_symlink() else None
            out[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns, target)
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    monkeypatch.chdir(tmp_path)
    tree = _base(tmp_path)
    case.spoil(tree)
    save_dataset(tree.dataset, tree.cfg / "dataset.json")
    config = tree.cfg / "audit.yaml"
    if tree.raw is not None:
        config.write_bytes(tree.raw)
    else:
        config.write_text(tree.text if tree.text is not None else _yaml_text(tree))
    allowed = (tree.out, tree.cfg / "outbox")
    before = _snapshot(tmp_path, allowed)

    def invoke() -> Any:
        return CliRunner().invoke(main, [case.command, str(config)])

    if tree.hold_lock:
        with run_lock(tree.cfg / "store.sqlite"):
            result = invoke()
    else:
        result = invoke()

    output = result.output
    assert result.exit_code == case.exit_code, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in output
    if case.message:
        assert __import__("re").search(case.message, output), output
    if case.exit_code in (1, 2):
        lines = [line for line in output.splitlines() if line.startswith("error:")]
        assert len(lines) == 1, output
    assert _snapshot(tmp_path, allowed) == before
    if case.check is not None:
        case.check(tree)


def test_at_least_thirty_hostile_inputs() -> None:
    assert len(CASES) >= 30
    assert json.dumps(sorted(CASES))  # names are plain text for the report
