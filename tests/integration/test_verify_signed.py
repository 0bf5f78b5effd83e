"""`attendance verify` on a signed run: it passes and names the signer; editing a CSV and
recomputing its hash in the manifest fails on the manifest's signature; changing one byte
of a PDF fails naming that PDF; `--trust` checks the chain (and says when it did not)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import yaml

from reporting.webex.sandbox import SandboxServer
from tests.pipeline_support import config_meetings, dataset_file, run_cli, write_config
from tests.signing_support import Pki, timestamp_server

TOKEN = "verify-signed-token"
REPORTS = (
    {
        "name": "compliance",
        "audience": "compliance",
        "formats": ["pdf", "xlsx"],
        "email_to": ["compliance@example.com"],
    },
    {"name": "managers", "audience": "summary", "formats": ["pdf"]},
)
MEETINGS, PEOPLE = 2, 8


def _signed_config(folder: Path, base_url: str, signing: dict[str, object]) -> Path:
    config = write_config(
        folder,
        base_url=base_url,
        meetings=config_meetings(MEETINGS, PEOPLE),
        reports=REPORTS,
        email=True,
    )
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["signing"] = signing
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def signed_run(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One B-T signed run (time-stamps from a loopback responder); its folder."""
    folder = tmp_path_factory.mktemp("signed-run")
    dataset = dataset_file(folder, meetings=MEETINGS, participants=PEOPLE)
    with (
        SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox,
        timestamp_server(pki) as (url, answered),
    ):
        config = _signed_config(folder, sandbox.base_url, {"timestamp_url": url})
        result = run_cli("run", str(config), token=TOKEN, env=pki.env())
        assert result.exit_code == 0, result.output
        assert len(answered) >= 2  # one time-stamp per PDF at least
    yield folder


@pytest.fixture
def run_copy(signed_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(signed_run / "out", out)
    return out


def _verify(out: Path, *trust: Path) -> tuple[int, str, str]:
    args = ["verify", str(out)]
    for path in trust:
        args += ["--trust", str(path)]
    result = run_cli(*args)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_a_signed_run_verifies_and_names_its_signer(signed_run: Path, pki: Pki) -> None:
    out = signed_run / "out"
    assert (out / "manifest.json.p7s").is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["signing"]["signer"] == pki.signer_name
    assert manifest["signing"]["pdf_signatures"] == "PAdES B-T"

    code, stdout, stderr = _verify(out)
    assert code == 0, stderr
    assert f"signed by '{pki.signer_name}', issued by 'Attendance Test CA'" in stdout
    assert "certificate chain NOT checked" in stdout and "--trust" in stdout
    assert "OK: every output" in stdout

    code, stdout, stderr = _verify(out, pki.ca_pem)
    assert code == 0, stderr
    assert f"certificate chain checked against {pki.ca_pem}" in stdout


def test_the_emailed_pdf_is_the_signed_file(signed_run: Path) -> None:
    (eml,) = (signed_run / "outbox").glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert attached["compliance.pdf"] == (signed_run / "out" / "compliance.pdf").read_bytes()
    assert b"/ETSI.CAdES.detached" in attached["compliance.pdf"]


def test_another_ca_fails_every_signature(run_copy: Path, pki: Pki) -> None:
    code, _, stderr = _verify(run_copy, pki.other_ca_pem)
    assert code == 1
    assert f"manifest.json.p7s: the manifest's signer '{pki.signer_name}' is not trusted" in stderr
    assert f"compliance.pdf: its signer '{pki.signer_name}' is not trusted" in stderr
    assert f"managers.pdf: its signer '{pki.signer_name}' is not trusted" in stderr
    # The TSA chains to the test CA, not to the other one.
    assert "compliance.pdf: its time-stamp authority 'Attendance Test TSA' is not trusted" in stderr


def test_a_csv_edited_with_its_hash_recomputed_fails_on_the_manifest_signature(
    run_copy: Path, pki: Pki
) -> None:
    csv = run_copy / "attendance.csv"
    csv.write_bytes(csv.read_bytes().replace(b"false", b"true", 1))
    manifest_path = run_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"]["attendance.csv"] = {
        "bytes": csv.stat().st_size,
        "sha256": hashlib.sha256(csv.read_bytes()).hexdigest(),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")

    for trust in ((), (pki.ca_pem,)):
        code, _, stderr = _verify(run_copy, *trust)
        assert code == 1
        lines = stderr.strip().splitlines()
        assert lines == [
            "FAILED: manifest.json.p7s: the manifest's signature does not match "
            "manifest.json: the manifest was changed after the run signed it"
        ]


def test_removing_the_manifest_signature_as_well_still_fails(run_copy: Path) -> None:
    manifest_path = run_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["signing"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    (run_copy / "manifest.json.p7s").unlink()
    code, _, stderr = _verify(run_copy)
    assert code == 1
    assert "FAILED: manifest.json.p7s: missing, yet the run was signed" in stderr


@pytest.mark.parametrize("where", [0.5, 0.1, -300])
def test_one_changed_byte_of_a_pdf_fails_naming_that_pdf(run_copy: Path, where: float) -> None:
    pdf = run_copy / "managers.pdf"
    data = bytearray(pdf.read_bytes())
    index = int(len(data) * where) if where > 0 else len(data) + int(where)
    data[index] ^= 0x01
    pdf.write_bytes(bytes(data))
    code, _, stderr = _verify(run_copy)
    assert code == 1
    failed = [line for line in stderr.splitlines() if line.startswith("FAILED: ")]
    assert failed and all(line.startswith("FAILED: managers.pdf: ") for line in failed), failed
    # Beyond the hash: the PDF's own signature says it was changed (or cannot be read).
    assert any("signature" in line for line in failed), failed


def test_a_pdf_with_bytes_appended_after_its_signature_fails(run_copy: Path) -> None:
    from pypdf import PdfWriter

    pdf = run_copy / "compliance.pdf"
    writer = PdfWriter(pdf, incremental=True)
    writer.add_metadata({"/Subject": "edited"})
    with pdf.open("wb") as handle:
        writer.write(handle)
    code, _, stderr = _verify(run_copy)
    assert code == 1
    assert "FAILED: compliance.pdf: content was added after its signature" in stderr


def test_an_unsigned_run_passes_with_a_note_and_fails_with_trust(pki: Pki, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    from reporting.manifest import write_manifest
    from tests.unit.test_manifest import RUN  # a run description the manifest tests use

    (out / "attendance.csv").write_text("a,b\n", encoding="utf-8")
    write_manifest(
        out,
        run=RUN,
        meetings_fetched=[],
        meetings_failed=[],
        row_counts={},
        files=[out / "attendance.csv"],
    )
    code, stdout, _ = _verify(out)
    assert code == 0 and "not signed" in stdout
    code, _, stderr = _verify(out, pki.ca_pem)
    assert code == 1 and "manifest.json: the run was not signed" in stderr


def test_a_trust_file_without_a_certificate_is_exit_2(run_copy: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("hello\n", encoding="utf-8")
    code, _, stderr = _verify(run_copy, bogus)
    assert code == 2
    assert (
        stderr.strip() == f"error: --trust {bogus}: holds no certificate (give the CA "
        "certificate in PEM (-----BEGIN CERTIFICATE-----) or DER)"
    )


def test_a_time_stamping_service_that_does_not_answer_fails_the_run_before_sending(
    pki: Pki, tmp_path: Path
) -> None:
    from tests.pipeline_support import unused_port

    url = f"http://127.0.0.1:{unused_port()}/tsa"
    dataset = dataset_file(tmp_path, meetings=MEETINGS, participants=PEOPLE)
    with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox:
        config = _signed_config(tmp_path, sandbox.base_url, {"timestamp_url": url})
        result = run_cli("run", str(config), token=TOKEN, env=pki.env())
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert line.startswith("error: could not sign compliance.pdf: no time-stamp from " + url)
    assert "nothing was sent" in line
    assert not list((tmp_path / "outbox").glob("*.eml"))
    assert not (tmp_path / "out" / "manifest.json").exists()
