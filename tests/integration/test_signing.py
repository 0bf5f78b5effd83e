"""Signing: the `signing:` config, PAdES on PDFs (PDF/A kept), B-T through a loopback
RFC 3161 responder, and the key problems a user can make, each one line with exit 2."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter

from reporting.config import load_config
from reporting.errors import ConfigError
from reporting.render import render_pdf
from reporting.render.sample import sample_input
from reporting.signing import SigningError, SigningKey, load_signing_key
from tests.pipeline_support import run_cli
from tests.signing_support import (
    PASSWORD,
    Pki,
    issue,
    make_ca,
    timestamp_server,
    write_pkcs12,
)

MINIMAL = {
    "timezone": "UTC",
    "period": "2026-10",
    "meetings": [{"id": "abc"}],
}


def _config(folder: Path, signing: object, **extra: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "audit.yaml"
    document = {**MINIMAL, **extra}
    if signing is not ...:
        document["signing"] = signing
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _key(pki: Pki, timestamp_url: str | None = None) -> SigningKey:
    key = load_signing_key(
        load_config(
            _config(pki.folder / "cfg", {"timestamp_url": timestamp_url} if timestamp_url else {})
        ),
        pki.env(),
    )
    assert key is not None
    return key


def _validation_context(pki: Pki) -> ValidationContext:
    ca = asn1_x509.Certificate.load(pki.ca_cert.public_bytes(serialization.Encoding.DER))
    return ValidationContext(trust_roots=[ca], allow_fetching=False)


def _xmp(reader: PdfReader) -> str:
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")


# --------------------------------------------------------------------------- config


def test_signing_section_defaults_and_absence(tmp_path: Path) -> None:
    assert load_config(_config(tmp_path, ...)).signing is None
    signing = load_config(_config(tmp_path, {})).signing
    assert signing is not None
    assert (signing.pkcs12_env, signing.password_env, signing.timestamp_url) == (
        "ATTENDANCE_SIGNING_P12",
        "ATTENDANCE_SIGNING_PASSWORD",
        None,
    )
    assert load_signing_key(load_config(_config(tmp_path, ...)), {}) is None


@pytest.mark.parametrize(
    ("signing", "expected"),
    [
        ({"timestamp_url": "ftp://tsa.example"}, "expected an http:// or https:// URL"),
        ({"pkcs12_env": "/home/me/key.p12"}, "expected the NAME of an environment variable"),
        ({"password": "secret"}, "password"),
    ],
)
def test_bad_signing_keys_are_config_errors(tmp_path: Path, signing: object, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, signing))
    message = str(caught.value)
    assert expected in message
    assert "audit.yaml:" in message and "signing" in message


# --------------------------------------------------------------------------- key problems


def _key_error(pki: Pki, env: dict[str, str], signing: object = None) -> str:
    config = load_config(_config(pki.folder / "cfg", signing if signing is not None else {}))
    with pytest.raises(ConfigError) as caught:
        load_signing_key(config, env)
    assert caught.value.exit_code == 2
    text = str(caught.value)
    assert "\n" not in text
    assert PASSWORD not in text
    return text


def test_missing_variables_name_the_variable_and_the_config_line(pki: Pki) -> None:
    text = _key_error(pki, {})
    assert "ATTENDANCE_SIGNING_P12 is not set" in text and "audit.yaml:" in text
    text = _key_error(pki, {"ATTENDANCE_SIGNING_P12": str(pki.p12)})
    assert "ATTENDANCE_SIGNING_PASSWORD is not set" in text
    text = _key_error(
        pki, {"MY_P12": str(pki.p12)}, {"pkcs12_env": "MY_P12", "password_env": "MY_PW"}
    )
    assert "MY_PW is not set" in text and "signing.password_env" in text


def test_unreadable_wrong_and_foreign_files(pki: Pki, tmp_path: Path) -> None:
    env = pki.env()
    text = _key_error(pki, {**env, "ATTENDANCE_SIGNING_P12": str(tmp_path / "nope.p12")})
    assert "cannot read the signing key file" in text and "nope.p12" in text
    text = _key_error(pki, {**env, "ATTENDANCE_SIGNING_PASSWORD": "wrong"})
    assert "wrong password" in text and "signer.p12" in text
    junk = tmp_path / "junk.p12"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot really\n")
    text = _key_error(pki, {**env, "ATTENDANCE_SIGNING_P12": str(junk)})
    assert "is not a PKCS#12 file" in text


def test_expired_and_non_signing_certificates_are_refused(pki: Pki, tmp_path: Path) -> None:
    ca_key, ca_cert = make_ca()
    key, expired = issue(ca_key, ca_cert, "Old Signer", starts_in_days=-30, valid_days=10)
    old = write_pkcs12(tmp_path / "old.p12", key, expired, [ca_cert])
    text = _key_error(pki, {**pki.env(), "ATTENDANCE_SIGNING_P12": str(old)})
    assert "'Old Signer'" in text and "expired on" in text
    key, no_sign = issue(ca_key, ca_cert, "Encrypt Only", sign_docs=False)
    enc = write_pkcs12(tmp_path / "enc.p12", key, no_sign, [ca_cert])
    text = _key_error(pki, {**pki.env(), "ATTENDANCE_SIGNING_P12": str(enc)})
    assert "may not sign documents" in text


def test_a_p12_without_password_opens_with_an_empty_variable(tmp_path: Path) -> None:
    ca_key, ca_cert = make_ca()
    key, cert = issue(ca_key, ca_cert, "No Password")
    p12 = write_pkcs12(tmp_path / "open.p12", key, cert, [ca_cert], password="")
    config = load_config(_config(tmp_path, {}))
    env = {"ATTENDANCE_SIGNING_P12": str(p12), "ATTENDANCE_SIGNING_PASSWORD": ""}
    signing_key = load_signing_key(config, env)
    assert signing_key is not None and signing_key.name == "No Password"


def test_check_and_run_refuse_a_wrong_password_with_exit_2(pki: Pki) -> None:
    config = _config(pki.folder / "cli", {}, store="store.sqlite")
    env = {**pki.env(), "ATTENDANCE_SIGNING_PASSWORD": "wrong", "WEBEX_TOKEN": "t"}
    for command in ("check", "run"):
        result = run_cli(command, str(config), env=env)
        assert result.exit_code == 2, result.output
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "wrong password for the signing key file" in errors[0]
        assert "Traceback" not in result.output
    # `run` stopped before it opened the store or asked Webex anything.
    assert not (pki.folder / "cli" / "store.sqlite").exists()
    ok = run_cli("check", str(config), env={**pki.env(), "WEBEX_TOKEN": "t"})
    assert ok.exit_code == 0, ok.output
    assert "signing    PAdES B-B (no time-stamp)" in ok.stdout


# --------------------------------------------------------------------------- PDFs


def test_a_signed_pdf_validates_with_pyhanko(pki: Pki, tmp_path: Path) -> None:
    path = render_pdf(sample_input(meetings=1, people=3), tmp_path / "r.pdf")
    unsigned = path.read_bytes()
    _key(pki).sign_pdf_file(path)
    signed = path.read_bytes()
    assert signed.startswith(unsigned)  # an incremental update: the rendered bytes are kept

    reader = PdfFileReader(io.BytesIO(signed))
    (embedded,) = reader.embedded_signatures
    status = validate_pdf_signature(embedded, _validation_context(pki))
    assert status.bottom_line, status.pretty_print_details()
    assert status.signing_cert.subject.native["common_name"] == pki.signer_name
    assert status.timestamp_validity is None  # B-B
    assert "/ETSI.CAdES.detached" in str(embedded.sig_object["/SubFilter"])
    # Still an ordinary PDF to pypdf, text and all.
    assert "Run id run0123456789" in PdfReader(path).pages[0].extract_text()


def test_signed_pdfa_keeps_declaration_intent_and_embedded_files(pki: Pki, tmp_path: Path) -> None:
    path = render_pdf(sample_input(meetings=1, people=3, pdfa=True), tmp_path / "a.pdf")
    # PDF/A-3 exists to carry files: give this one a CSV to keep.
    writer = PdfWriter(clone_from=PdfReader(path))
    writer.add_attachment("attendance.csv", b"name,attended\nAda,3300\n")
    with path.open("wb") as handle:
        writer.write(handle)
    _key(pki).sign_pdf_file(path)

    reader = PdfReader(path)
    root = reader.trailer["/Root"]
    xmp = _xmp(reader)
    assert re.search(r'pdfaid:part="3"', xmp) and re.search(r'pdfaid:conformance="B"', xmp)
    assert "/OutputIntents" in root
    assert reader.attachments == {"attendance.csv": [b"name,attended\nAda,3300\n"]}
    # PDF/A: every info entry equals its XMP counterpart.
    info = reader.trailer["/Info"].get_object()
    assert f'pdf:Producer="{info["/Producer"]}"' in xmp
    assert f'xmp:CreatorTool="{info["/Creator"]}"' in xmp
    assert str(info["/Title"]) in xmp
    # The signature widget is one PDF/A allows: invisible, printable.
    field = root["/AcroForm"]["/Fields"][0].get_object()
    assert int(field["/F"]) & 4 and [float(v) for v in field["/Rect"]] == [0, 0, 0, 0]

    (embedded,) = PdfFileReader(io.BytesIO(path.read_bytes())).embedded_signatures
    assert validate_pdf_signature(embedded, _validation_context(pki)).bottom_line


def test_a_creation_date_in_the_info_dictionary_is_carried_into_xmp(
    pki: Pki, tmp_path: Path
) -> None:
    path = render_pdf(sample_input(meetings=1, people=3, pdfa=True), tmp_path / "j.pdf")
    # As the join of a report rendered in parts sets it.
    writer = PdfWriter(clone_from=PdfReader(path))
    writer.add_metadata({"/CreationDate": "D:20261102080000Z"})
    with path.open("wb") as handle:
        writer.write(handle)
    _key(pki).sign_pdf_file(path)
    reader = PdfReader(path)
    info = reader.trailer["/Info"].get_object()
    assert info["/CreationDate"] == "D:20261102080000Z"
    assert 'xmp:CreateDate="2026-11-02T08:00:00+00:00"' in _xmp(reader)
    assert f'pdf:Producer="{info["/Producer"]}"' in _xmp(reader)


def test_b_t_carries_a_time_stamp_from_the_loopback_responder(pki: Pki, tmp_path: Path) -> None:
    path = render_pdf(sample_input(meetings=1, people=3), tmp_path / "t.pdf")
    with timestamp_server(pki) as (url, answered):
        _key(pki, url).sign_pdf_file(path)
    assert answered, "the responder was never asked"
    (embedded,) = PdfFileReader(io.BytesIO(path.read_bytes())).embedded_signatures
    status = validate_pdf_signature(embedded, _validation_context(pki))
    assert status.bottom_line, status.pretty_print_details()
    stamp = status.timestamp_validity
    assert stamp is not None and stamp.intact and stamp.valid and stamp.trusted
    assert stamp.signing_cert.subject.native["common_name"] == "Attendance Test TSA"


def test_a_time_stamping_service_that_does_not_answer_fails_signing(
    pki: Pki, tmp_path: Path
) -> None:
    from tests.pipeline_support import unused_port

    url = f"http://127.0.0.1:{unused_port()}/tsa"
    path = render_pdf(sample_input(meetings=1, people=3), tmp_path / "t.pdf")
    with pytest.raises(SigningError) as caught:
        _key(pki, url).sign_pdf_file(path)
    assert url in str(caught.value) and "t.pdf" in str(caught.value)
    assert caught.value.exit_code == 1
