"""Where a built message goes: an SMTP server, or a folder of `.eml` files (the outbox).

Both report, per message, which envelope recipients were refused; everything else counts
as accepted. Errors that end the session (cannot connect, TLS, login) raise
`DeliveryError`; errors that only concern one message (sender or data refused) raise
`MessageRejected`, so the caller can go on with the other reports.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol

from reporting.errors import DeliveryError
from reporting.protocols import SmtpConfigLike
from reporting.safe_files import OutputError, write_output

__all__ = [
    "MessageRejected",
    "OutboxTransport",
    "SendResult",
    "SmtpConfigLike",
    "SmtpTransport",
    "Transport",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    detail: str  # where it went: "smtp.example.com:587" or the .eml path
    refused: dict[str, str] = field(default_factory=dict)  # envelope address → reply


class MessageRejected(Exception):
    """The server refused this one message (sender, size or content); the session lives on."""


class Transport(Protocol):
    def size_limit(self) -> int | None: ...
    def send(self, msg: EmailMessage, sender: str, recipients: Sequence[str]) -> SendResult: ...
    def close(self) -> None: ...
    def __enter__(self) -> Transport: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


class SmtpTransport:
    """One SMTP session for the whole run, opened on first use."""

    def __init__(
        self,
        config: SmtpConfigLike,
        credentials: tuple[str, str] | None,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if credentials is not None and not (config.ssl or config.starttls):
            raise DeliveryError(
                f"refusing to send the SMTP password to {config.host}:{config.port} "
                "over an unencrypted connection",
                hint="set email.smtp.starttls: true (port 587) or email.smtp.ssl: true (port 465)",
            )
        self._config = config
        self._credentials = credentials
        self._context = ssl_context
        self._smtp: smtplib.SMTP | None = None
        self.where = f"{config.host}:{config.port}"

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _session(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        cfg = self._config
        context = self._context or ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        step = "connect to"
        try:
            if cfg.ssl:
                smtp = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=context
                )
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
                if cfg.starttls:
                    step = "start TLS with"
                    smtp.ehlo()
                    smtp.starttls(context=context)
            smtp.ehlo()
            if self._credentials is not None:
                step = "log in to"
                user, password = self._credentials
                smtp.login(user, password)
        except smtplib.SMTPNotSupportedError as exc:
            self._abandon(smtp)
            what = "STARTTLS" if step == "start TLS with" else "AUTH"
            raise DeliveryError(
                f"the SMTP server {self.where} does not offer {what}",
                hint="check email.smtp.starttls / ssl and the port",
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            self._abandon(smtp)
            raise DeliveryError(
                f"the SMTP server {self.where} rejected the login: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}",
                hint="check the variables named by email.smtp.username_env / password_env",
            ) from None
        except ssl.SSLCertVerificationError as exc:
            self._abandon(smtp)
            raise DeliveryError(
                f"cannot {step} the SMTP server {self.where}: its TLS certificate is not "
                f"trusted ({exc.verify_message})",
                hint="for a private CA, point SSL_CERT_FILE at its certificate",
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._abandon(smtp)
            raise DeliveryError(
                f"cannot {step} the SMTP server {self.where}: {exc}",
                hint="check email.smtp.host, port, and whether it wants STARTTLS (587) "
                "or implicit TLS (465, ssl: true)",
            ) from None
        log.debug("SMTP session open with %s", self.where)
        return smtp

    @staticmethod
    def _abandon(smtp: smtplib.SMTP | None) -> None:
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def size_limit(self) -> int | None:
        """The server's advertised SIZE (RFC 1870), if any."""
        smtp = self._session()
        raw = smtp.esmtp_features.get("size", "").strip()
        return int(raw) if raw.isdigit() and int(raw) > 0 else None

    def send(self, msg: EmailMessage, sender: str, recipients: Sequence[str]) -> SendResult:
        smtp = self._session()
        try:
            refused = smtp.send_message(msg, from_addr=sender, to_addrs=list(recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        except smtplib.SMTPSenderRefused as exc:
            raise MessageRejected(
                f"the server refused the sender {sender}: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPDataError as exc:
            raise MessageRejected(
                f"the server refused the message: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._abandon(self._smtp)
            self._smtp = None
            raise DeliveryError(f"the SMTP session with {self.where} failed: {exc}") from None
        return SendResult(
            detail=self.where,
            refused={addr: _reply(code, text) for addr, (code, text) in refused.items()},
        )

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._abandon(smtp)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class OutboxTransport:
    """Writes each message as an `.eml` file that another system picks up and sends.

    Files appear atomically (written under a temporary name, then renamed), so a watcher
    never picks up half a message.
    """

    def __init__(self, folder: Path, *, prefix: str = "") -> None:
        self._folder = Path(folder)
        self._prefix = _UNSAFE_NAME.sub("_", prefix).strip("._")

    def __enter__(self) -> OutboxTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def size_limit(self) -> int | None:
        return None

    def send(self, msg: EmailMessage, sender: str, recipients: Sequence[str]) -> SendResult:
        report = _UNSAFE_NAME.sub("_", str(msg.get("X-Attendance-Report", "report"))).strip("._")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        stem = "_".join(part for part in (self._prefix, report or "report", stamp) if part)
        target = self._folder / f"{stem}.eml"
        try:
            write_output(target, msg.as_bytes())
        except OutputError as exc:
            raise DeliveryError(
                f"cannot write to the outbox {self._folder}: {exc.message}", hint=exc.hint
            ) from None
        return SendResult(detail=f"outbox:{target}")

    def close(self) -> None:
        return None
