"""Signing a run's outputs: PAdES on every PDF (pyHanko) and a detached CMS signature of
``manifest.json`` (``cryptography``), so that nobody can change a report, or a CSV and its
hash in the manifest, without `attendance verify` noticing.

Decisions:

- The key and certificate come from a PKCS#12 file whose path and password are in two
  environment variables (``signing.pkcs12_env`` / ``signing.password_env``): no secret is
  ever in the config. A relative path is relative to the working directory, like any
  path given in the environment. Every problem with them (a variable unset, a file that
  cannot be read, a wrong password, a certificate that has expired or may not sign) is a
  `ConfigError` (exit 2) raised before anything is fetched, by ``run`` and ``check``.
- PDFs are signed by an incremental update: the rendered bytes stay as they are and the
  signature is appended, so a PDF/A-3b output keeps its output intent, its embedded files
  and its ``pdfaid`` declaration. The signature field is invisible and printable (a
  widget PDF/A accepts); the document information dictionary is kept equal to the XMP
  metadata that pyHanko rewrites, as PDF/A requires.
- PAdES B-B without ``signing.timestamp_url``, B-T with it: the time-stamp of an RFC 3161
  service is part of every PDF signature. A time-stamp that cannot be had fails the run
  (exit 1) before anything is sent: a compliance officer who asked for time-stamped
  evidence must not receive reports without it.
- The manifest's signature is CMS ``SignedData``, detached (``manifest.json.p7s``, DER),
  over the manifest's exact bytes, with the signer's certificate and the chain from the
  PKCS#12 file. It carries no time-stamp (the ``cryptography`` builder cannot add one);
  the PDFs' time-stamps date the run.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from reporting.errors import AttendanceError, ConfigError
from reporting.manifest import MANIFEST_SIGNATURE_NAME

if TYPE_CHECKING:
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko.sign.timestamps import TimeStamper

    from reporting.config import Config, SigningConfig

__all__ = [
    "SigningError",
    "SigningKey",
    "describe_signing",
    "load_signing_key",
    "signer_name",
]

# The name of the invisible signature field every signed PDF carries.
FIELD_NAME = "AttendanceSignature"
# A time-stamping service that does not answer within this fails the run.
TIMESTAMP_TIMEOUT_SECONDS = 30


class SigningError(AttendanceError):
    """A PDF or the manifest could not be signed (e.g. the time-stamping service failed)."""


def signer_name(certificate: x509.Certificate) -> str:
    """The certificate's subject as a person reads it: its common name, else the whole
    subject."""
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if names:
        value = names[0].value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return certificate.subject.rfc4514_string()


@dataclass
class SigningKey:
    """The signer of a run: key, certificate, the chain to embed and the time-stamp URL."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    timestamp_url: str | None = None
    _signer: SimpleSigner | None = field(default=None, init=False, repr=False)
    _timestamper: TimeStamper | None = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return signer_name(self.certificate)

    @property
    def level(self) -> str:
        return "PAdES B-T" if self.timestamp_url else "PAdES B-B"

    def describe(self) -> dict[str, str]:
        """What the manifest records about the signer."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {
            "signer": self.name,
            "certificate_sha256": hashlib.sha256(der).hexdigest(),
            "pdf_signatures": self.level,
            "manifest_signature": MANIFEST_SIGNATURE_NAME,
        }

    # ------------------------------------------------------------------ PDFs

    def sign_pdf(self, data: bytes, *, what: str = "the PDF") -> bytes:
        """`data` with a PAdES signature appended as an incremental update."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.sign import fields, signers
        from pyhanko.sign.timestamps import TimestampRequestError

        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
            _keep_metadata_consistent(writer)
        except PdfError as exc:
            raise SigningError(f"could not sign {what}: not a readable PDF ({exc})") from exc
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason="Training attendance audit",
        )
        try:
            out = signers.sign_pdf(
                writer,
                meta,
                signer=self._pyhanko_signer(),
                timestamper=self._pyhanko_timestamper(),
                new_field_spec=fields.SigFieldSpec(FIELD_NAME, box=None),
            )
        except (TimeoutError, TimestampRequestError, OSError) as exc:
            raise SigningError(
                f"could not sign {what}: no time-stamp from {self.timestamp_url} ({exc})",
                hint="check signing.timestamp_url and that the service is reachable; "
                "nothing was sent",
            ) from exc
        except (PdfError, ValueError) as exc:  # pyHanko's SigningError is a ValueError
            raise SigningError(f"could not sign {what}: {exc}") from exc
        return bytes(out.getvalue())

    def sign_pdf_file(self, path: Path) -> Path:
        """Sign the PDF at `path` in place (the signed file replaces it atomically)."""
        signed = self.sign_pdf(path.read_bytes(), what=path.name)
        _replace(path, signed)
        return path

    # -------------------------------------------------------------- manifest

    def sign_detached(self, data: bytes) -> bytes:
        """A detached CMS SignedData (DER) over `data`."""
        builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
        builder = builder.add_signer(self.certificate, self.key, hashes.SHA256())
        for cert in self.chain:
            builder = builder.add_certificate(cert)
        return builder.sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )

    def sign_manifest(self, manifest: Path) -> Path:
        """Write `manifest.json.p7s` beside `manifest`: its detached signature."""
        target = manifest.with_name(MANIFEST_SIGNATURE_NAME)
        _replace(target, self.sign_detached(manifest.read_bytes()))
        return target

    # --------------------------------------------------------------- helpers

    def _pyhanko_signer(self) -> SimpleSigner:
        if self._signer is None:
            from asn1crypto import keys as asn1_keys
            from asn1crypto import x509 as asn1_x509
            from pyhanko.sign.signers import SimpleSigner
            from pyhanko_certvalidator.registry import SimpleCertificateStore

            der = serialization.Encoding.DER
            key_info = asn1_keys.PrivateKeyInfo.load(
                self.key.private_bytes(
                    der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
            registry.register_multiple(
                [asn1_x509.Certificate.load(c.public_bytes(der)) for c in self.chain]
            )
            self._signer = SimpleSigner(
                signing_cert=asn1_x509.Certificate.load(self.certificate.public_bytes(der)),
                signing_key=key_info,
                cert_registry=registry,
            )
        return self._signer

    def _pyhanko_timestamper(self) -> TimeStamper | None:
        if self.timestamp_url is None:
            return None
        if self._timestamper is None:
            from pyhanko.sign.timestamps import HTTPTimeStamper

            self._timestamper = HTTPTimeStamper(
                self.timestamp_url, timeout=TIMESTAMP_TIMEOUT_SECONDS
            )
        return self._timestamper


def _keep_metadata_consistent(writer: Any) -> None:
    """Make the document information dictionary agree with the XMP pyHanko will write.

    pyHanko rewrites the XMP packet of a PDF that has one (producer ``pyHanko x``, a
    modification date) but appends its name to the info dictionary's producer, and
    copies into XMP only the fields it is given. PDF/A requires every info entry to equal
    its XMP counterpart, so the producer is set to pyHanko's, and the title, creator and
    creation date are handed to pyHanko so that both places carry them.
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.metadata.model import VENDOR

    if "/Metadata" not in writer.root:
        return  # no XMP: pyHanko updates the info dictionary alone
    info_ref = writer._info  # the incremental writer's reference to the existing dictionary
    if info_ref is None:
        return
    info = info_ref.get_object()
    meta = writer.document_meta
    if "/Title" in info:
        meta.title = str(info["/Title"])
    if "/Creator" in info:
        meta.creator = str(info["/Creator"])
    if "/CreationDate" in info:
        try:
            meta.created = generic.parse_pdf_date(str(info["/CreationDate"]))
        except (ValueError, TypeError):
            del info["/CreationDate"]  # an unreadable date would disagree with XMP
    info["/Producer"] = generic.TextStringObject(VENDOR)
    writer.mark_update(info_ref)


def _replace(target: Path, data: bytes) -> None:
    # A crash mid-write must not leave a half-signed file under the final name.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- loading


def load_signing_key(config: Config, env: Mapping[str, str] | None = None) -> SigningKey | None:
    """The run's signer from ``signing:``, or None when the config has no ``signing:``.

    Raises `ConfigError` with one line naming the variable, file or key at fault.
    """
    from reporting.config.secrets import resolve_signing

    secrets = resolve_signing(config, env)
    if secrets is None or config.signing is None:
        return None
    where = config.location("signing")
    path = Path(secrets.path_text).expanduser()
    return _open_pkcs12(path, secrets.password, config.signing, where)


def _open_pkcs12(path: Path, password: str, signing: SigningConfig, where: str) -> SigningKey:
    source = f"{path} (from ${signing.pkcs12_env}, signing: in {where})"
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"cannot read the signing key file {source}: {reason}",
            hint=f"set {signing.pkcs12_env} to the path of a readable .p12 file",
        ) from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            data, password.encode("utf-8") if password else None
        )
    except ValueError:
        if not _looks_like_pkcs12(data):
            raise ConfigError(
                f"the signing key file {source} is not a PKCS#12 file",
                hint="export the key and certificate as .p12, e.g. `openssl pkcs12 -export`",
            ) from None
        raise ConfigError(
            f"wrong password for the signing key file {source}",
            hint=f"{signing.password_env} must hold the password the .p12 file was made with",
        ) from None
    if key is None or cert is None:
        missing = "private key" if key is None else "certificate"
        raise ConfigError(
            f"the signing key file {source} holds no {missing}",
            hint="export the key together with its certificate (and chain) into one .p12",
        )
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        kind = "Ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else type(key).__name__
        if isinstance(key, ed448.Ed448PrivateKey):
            kind = "Ed448"
        raise ConfigError(
            f"the signing key in {source} is {kind}; PDF signatures need an RSA or EC key",
            hint="issue the signing certificate for an RSA (2048+ bits) or EC P-256 key",
        )
    _check_certificate(cert, source)
    chain = tuple(c for c in extra if c != cert)
    return SigningKey(key=key, certificate=cert, chain=chain, timestamp_url=signing.timestamp_url)


def _check_certificate(cert: x509.Certificate, source: str) -> None:
    now = datetime.now(UTC)
    name = signer_name(cert)
    if cert.not_valid_after_utc < now:
        raise ConfigError(
            f"the signing certificate {name!r} in {source} expired on "
            f"{cert.not_valid_after_utc:%Y-%m-%d}",
            hint="renew it; signatures made with it would not verify",
        )
    if cert.not_valid_before_utc > now:
        raise ConfigError(
            f"the signing certificate {name!r} in {source} is valid only from "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            hint="check the machine's clock or wait until then",
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise ConfigError(
            f"the signing certificate {name!r} in {source} may not sign documents "
            "(its key usage has neither digitalSignature nor nonRepudiation)",
            hint="use a document-signing certificate",
        )


def _looks_like_pkcs12(data: bytes) -> bool:
    """Whether `data` parses as a PKCS#12 PFX structure (then the password was wrong)."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        return pfx["version"].native is not None and pfx["auth_safe"]["content_type"] is not None
    except (ValueError, TypeError, KeyError):
        return False


def describe_signing(config: Config) -> str:
    """One line for `attendance check`: what `signing:` will do."""
    signing = config.signing
    if signing is None:
        return "not configured: nothing is signed"
    level = (
        f"PAdES B-T, time-stamps from {signing.timestamp_url}"
        if signing.timestamp_url
        else "PAdES B-B (no time-stamp)"
    )
    return (
        f"{level}; manifest.json.p7s; key from ${signing.pkcs12_env} "
        f"(password ${signing.password_env})"
    )
