"""The one writer every output goes through: whole files or none, never through a link,
one file mode, and a clean one-line error (exit 1) when the disk or the folder says no."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from reporting.safe_files import (
    OutputError,
    open_output,
    output_mode,
    parse_mode,
    remove_stale_temps,
    write_output,
)

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_file_gets_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = write_output(tmp_path / "out" / "attendance.csv", b"a,b\n")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"a,b\n"
    assert _mode(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["attendance.csv"]


def test_output_mode_sets_another_mode_for_the_run(tmp_path: Path) -> None:
    with output_mode(0o640):
        target = write_output(tmp_path / "m.json", b"{}")
    assert _mode(target) == 0o640
    assert _mode(write_output(tmp_path / "later.json", b"{}")) == 0o600


def test_a_symlink_at_the_final_name_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "managers.pdf").symlink_to(outside)
    write_output(out / "managers.pdf", b"%PDF-new")
    assert outside.read_bytes() == b"keep me"
    assert not (out / "managers.pdf").is_symlink()
    assert (out / "managers.pdf").read_bytes() == b"%PDF-new"


def test_a_dangling_symlink_at_the_final_name_creates_nothing_outside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "attendance.csv").symlink_to(tmp_path / "planted.csv")
    write_output(out / "attendance.csv", b"x")
    assert not (tmp_path / "planted.csv").exists()
    assert (out / "attendance.csv").read_bytes() == b"x"


def test_an_error_in_the_middle_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "courses.csv"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), open_output(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("renderer failed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["courses.csv"]


def test_a_folder_in_the_files_place_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "attendance.csv").mkdir()
    with pytest.raises(OutputError, match=r"cannot write .*attendance\.csv: .*\(a folder"):
        write_output(tmp_path / "attendance.csv", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["attendance.csv"]


def test_a_file_size_limit_mid_write_leaves_no_partial_file(tmp_path: Path) -> None:
    # A real write failure: the kernel refuses bytes past RLIMIT_FSIZE (EFBIG).
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        from reporting.safe_files import OutputError, write_output
        try:
            write_output(Path({str(tmp_path / "big.xlsx")!r}), b"x" * 100_000)
        except OutputError as exc:
            print(exc)
            sys.exit(1)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith(f"cannot write {tmp_path / 'big.xlsx'}: File too large")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real full disk (needs root and mount rights; skipped otherwise)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace')}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_a_full_disk_is_one_line_and_leaves_the_old_file(tiny_fs: Path) -> None:
    target = tiny_fs / "attendance.csv"
    target.write_bytes(b"old report")
    with pytest.raises(OutputError) as caught:
        write_output(target, b"y" * 1_000_000)
    assert str(caught.value) == (
        f"cannot write {target}: No space left on device "
        "(the disk is full; free some space and run again)"
    )
    assert caught.value.exit_code == 1
    assert target.read_bytes() == b"old report"
    assert [p.name for p in tiny_fs.iterdir()] == ["attendance.csv"]


def test_a_read_only_file_system_is_one_line(tmp_path: Path, tiny_fs: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    with pytest.raises(OutputError, match=r"Read-only file system \(the file system is read-only"):
        write_output(tiny_fs / "x.csv", b"x")


def test_a_folder_not_writable_is_one_line(tmp_path: Path) -> None:
    # As another user: root writes anywhere, so the test drops to `nobody` when it can.
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o755)
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from reporting.safe_files import OutputError, write_output
        try:
            write_output(Path({str(folder / "r.pdf")!r}), b"x")
        except OutputError as exc:
            print(exc)
            sys.exit(1)
        """
    )
    preexec = None
    if os.geteuid() == 0:
        tmp_path.chmod(0o755)

        def preexec() -> None:
            os.setgid(65534)
            os.setuid(65534)
    else:
        folder.chmod(0o555)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd="/",
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            preexec_fn=preexec,
        )
    except PermissionError:
        pytest.skip("`nobody` cannot run this Python; root itself writes anywhere")
    if os.geteuid() != 0:
        folder.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert "Permission denied (the folder is not writable" in done.stdout
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "mode"), [("0640", 0o640), ("600", 0o600), ("0o660", 0o660), ("0644", 0o644)]
)
def test_parse_mode_reads_octal_text(text: str, mode: int) -> None:
    assert parse_mode(text) == mode


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (640, "in quotes"),
        ("0755", "execute or special bits"),
        ("4600", "execute or special bits"),
        ("0400", "owner read and write"),
        ("rw-r-----", "not an octal file mode"),
        ("0999", "not an octal file mode"),
    ],
)
def test_parse_mode_refuses_what_is_not_a_data_file_mode(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_mode(value)


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".attendance.csv.{dead_pid}-0a1b2c3d4e5f.tmp"
    legacy = tmp_path / ".2026-09_managers_x.eml.k2j3h4g5.tmp"  # the earlier mkstemp name
    mine = tmp_path / f".courses.csv.{os.getpid()}-aaaaaaaaaaaa.tmp"
    unrelated = tmp_path / "notes.tmp"
    for path in (stale, legacy, mine, unrelated):
        path.write_bytes(b"x")
    removed = remove_stale_temps(tmp_path)
    assert sorted(removed) == sorted([stale, legacy])
    assert mine.exists() and unrelated.exists()
