"""`attendance verify DIR [--trust CA.pem]`: the hashes of the manifest, and when the run was
signed, the manifest's CMS signature and every PDF's PAdES signature.

Decisions:

- A run counts as signed when its manifest says so (``signing``), when
  ``manifest.json.p7s`` is there, or when any PDF it lists carries a signature. Then every
  signature must be there and hold: deleting the ``.p7s`` after editing a CSV and its
  hash fails like a broken signature does. With ``--trust`` an unsigned run fails too:
  an auditor who names a CA expects evidence signed under it.
- Without ``--trust`` the signatures are checked against the signer's own certificate
  only (they were made with its key and nothing was changed since), and the result says
  that the chain was not checked: anybody can make a key, so only ``--trust`` says *who*.
- With ``--trust`` the signer's certificate, and a PDF's time-stamping authority, must
  chain to one of the given certificates (a PEM file may hold several; the option may be
  repeated). Nothing is fetched: no revocation lists, no missing intermediates.
- One run has one signer: signatures by different certificates in one folder fail.
- A PDF's signature must cover the whole file; bytes appended after it fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from reporting.errors import ConfigError
from reporting.manifest import MANIFEST_NAME, MANIFEST_SIGNATURE_NAME, verify_outputs
from reporting.signing import signer_name

__all__ = ["Verification", "load_trust", "verify_run"]

SIGNATURE_NAME = MANIFEST_SIGNATURE_NAME


@dataclass
class Verification:
    """What `verify` found: problems (each naming a file) and what it can vouch for."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Signer:
    name: str
    issuer: str
    fingerprint: str


def load_trust(paths: Sequence[Path]) -> list[x509.Certificate]:
    """The certificates in the ``--trust`` files (PEM, several per file, or one DER)."""
    certs: list[x509.Certificate] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"--trust {path}: cannot be read ({exc.strerror or type(exc).__name__})"
            ) from None
        try:
            if b"-----BEGIN" in data:
                certs.extend(x509.load_pem_x509_certificates(data))
            else:
                certs.append(x509.load_der_x509_certificate(data))
        except ValueError:
            raise ConfigError(
                f"--trust {path}: holds no certificate",
                hint="give the CA certificate in PEM (-----BEGIN CERTIFICATE-----) or DER",
            ) from None
    return certs


def verify_run(out_dir: Path, trust: Sequence[Path] = ()) -> Verification:
    """Check the hashes in ``out_dir/manifest.json`` and, for a signed run, its signatures.

    Raises `ConfigError` for a ``--trust`` file that holds no certificate.
    """
    out_dir = Path(out_dir)
    roots = load_trust(trust)
    result = Verification(problems=verify_outputs(out_dir))
    manifest_path = out_dir / MANIFEST_NAME
    document = _read_json(manifest_path)
    if document is None:
        return result  # verify_outputs said why
    files = document.get("files")
    names = sorted(n for n in files if isinstance(n, str)) if isinstance(files, dict) else []
    pdfs = [n for n in names if n.lower().endswith(".pdf") and (out_dir / n).is_file()]
    trust_label = ", ".join(str(p) for p in trust)

    with _quiet_validation():
        signers: dict[str, _Signer] = {}
        p7s = out_dir / SIGNATURE_NAME
        manifest_signed = p7s.is_file()
        if manifest_signed:
            _check_manifest_signature(manifest_path, p7s, roots, trust_label, result, signers)
        pdf_signed: dict[str, bool] = {}
        for name in pdfs:
            pdf_signed[name] = _check_pdf(out_dir / name, name, roots, trust_label, result, signers)

    claimed = isinstance(document.get("signing"), dict)
    signed = claimed or manifest_signed or any(pdf_signed.values())
    if not signed:
        if roots:
            result.problems.append(
                f"{MANIFEST_NAME}: the run was not signed, so nothing shows it comes from a "
                f"signer trusted by {trust_label}"
            )
        else:
            result.notes.append(
                "not signed: the hashes show the files match the manifest, but nothing "
                "shows who wrote the manifest"
            )
        return result
    if not manifest_signed:
        result.problems.append(
            f"{SIGNATURE_NAME}: missing, yet the run was signed; the manifest cannot be "
            "trusted (it may have been edited)"
        )
    for name, has_signature in pdf_signed.items():
        if not has_signature:
            result.problems.append(f"{name}: not signed, yet the run was signed")
    if len(signers) > 1:
        names_list = "; ".join(f"{s.name!r} ({s.fingerprint[:16]}…)" for s in signers.values())
        result.problems.append(f"the files were signed by different certificates: {names_list}")
    for signer in signers.values():
        result.notes.append(
            f"signed by {signer.name!r}, issued by {signer.issuer!r} "
            f"(certificate SHA-256 {signer.fingerprint})"
        )
    if roots:
        result.notes.append(f"certificate chain checked against {trust_label}")
    else:
        result.notes.append(
            "certificate chain NOT checked: anybody can make a certificate with any name; "
            "give --trust CA.pem to check who signed"
        )
    return result


# --------------------------------------------------------------------------- manifest


def _check_manifest_signature(
    manifest: Path,
    p7s: Path,
    roots: list[x509.Certificate],
    trust_label: str,
    result: Verification,
    signers: dict[str, _Signer],
) -> None:
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    try:
        info = cms.ContentInfo.load(p7s.read_bytes())
        if info["content_type"].native != "signed_data":
            raise ValueError("not CMS SignedData")
        signed_data = info["content"]
        if signed_data["encap_content_info"]["content"].native is not None:
            raise ValueError("not a detached signature")
        status = asyncio.run(
            async_validate_detached_cms(
                manifest.read_bytes(),
                signed_data,
                signer_validation_context=_context(roots),
                key_usage_settings=_key_usage(),
            )
        )
    except Exception as exc:
        result.problems.append(
            f"{SIGNATURE_NAME}: the manifest's signature cannot be read ({_short(exc)})"
        )
        return
    signer = _signer_of(status.signing_cert)
    signers.setdefault(signer.fingerprint, signer)
    if not status.intact:
        result.problems.append(
            f"{SIGNATURE_NAME}: the manifest's signature does not match {MANIFEST_NAME}: the "
            "manifest was changed after the run signed it"
        )
    elif not status.valid:
        result.problems.append(f"{SIGNATURE_NAME}: the manifest's signature is not valid")
    elif roots and not status.trusted:
        result.problems.append(
            f"{SIGNATURE_NAME}: the manifest's signer {signer.name!r} is not trusted by "
            f"{trust_label}"
        )


# --------------------------------------------------------------------------- PDFs


def _check_pdf(
    path: Path,
    name: str,
    roots: list[x509.Certificate],
    trust_label: str,
    result: Verification,
    signers: dict[str, _Signer],
) -> bool:
    """Check every signature in the PDF; False when it has none."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        reader = PdfFileReader(io.BytesIO(path.read_bytes()), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:
        result.problems.append(f"{name}: its signature cannot be read ({_short(exc)})")
        return True  # whatever it was, it is not an unsigned PDF of an unsigned run
    for sig in embedded:
        try:
            status = validate_pdf_signature(
                sig, _context(roots), key_usage_settings=_key_usage(), skip_diff=True
            )
        except Exception as exc:
            result.problems.append(f"{name}: its signature cannot be checked ({_short(exc)})")
            continue
        signer = _signer_of(status.signing_cert)
        signers.setdefault(signer.fingerprint, signer)
        if not status.intact:
            result.problems.append(
                f"{name}: its signature does not match its content: the PDF was changed "
                "after it was signed"
            )
            continue
        if not status.valid:
            result.problems.append(f"{name}: its signature is not valid")
            continue
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            result.problems.append(f"{name}: content was added after its signature")
        if roots and not status.trusted:
            result.problems.append(
                f"{name}: its signer {signer.name!r} is not trusted by {trust_label}"
            )
        stamp = status.timestamp_validity
        if stamp is not None:
            tsa = _signer_of(stamp.signing_cert).name
            if not (stamp.intact and stamp.valid):
                result.problems.append(f"{name}: its time-stamp by {tsa!r} is not valid")
            elif roots and not stamp.trusted:
                result.problems.append(
                    f"{name}: its time-stamp authority {tsa!r} is not trusted by {trust_label}"
                )
    return bool(embedded)


# --------------------------------------------------------------------------- helpers


def _context(roots: list[x509.Certificate]) -> Any:
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    der = serialization.Encoding.DER
    # No fetching: verify must work offline and never reach the network.
    return ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(c.public_bytes(der)) for c in roots],
        allow_fetching=False,
    )


def _key_usage() -> Any:
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    # Either usage marks a certificate meant to sign documents (pyHanko's default asks for
    # nonRepudiation alone).
    return KeyUsageConstraints(
        key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
    )


def _signer_of(asn1_cert: Any) -> _Signer:
    cert = x509.load_der_x509_certificate(asn1_cert.dump())
    issuer = cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    issuer_name = str(issuer[0].value) if issuer else cert.issuer.rfc4514_string()
    fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return _Signer(name=signer_name(cert), issuer=issuer_name, fingerprint=fingerprint)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


@contextmanager
def _quiet_validation() -> Iterator[None]:
    """pyHanko logs a traceback for every chain it cannot build (always, without
    ``--trust``); the verdict is in the result, so those logs are held back."""
    loggers = [logging.getLogger(n) for n in ("pyhanko", "pyhanko_certvalidator")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
