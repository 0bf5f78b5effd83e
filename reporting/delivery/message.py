"""An email as it goes over the wire: one-line headers, one address per recipient, and the
multipart `EmailMessage` (text and HTML bodies, the attachments) built with the SMTP policy.

Nothing from the API can add a header: every header value is reduced to one line (no CR,
LF or other control characters) whatever the template or the meeting titles contain.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path

from reporting.errors import DeliveryError
from reporting.render.formats import for_file

__all__ = ["SUBJECT_MAX_CHARS", "build_message", "header_text", "human_size", "parse_recipients"]

SUBJECT_MAX_CHARS = 200

_SPACES = re.compile(r"\s+")


def header_text(value: str, *, limit: int = SUBJECT_MAX_CHARS) -> str:
    """`value` as a single header line: control and line-break characters become spaces.

    EmailMessage already refuses CR/LF in a header; this keeps a meeting title such as
    ``"Intro\\r\\nBcc: x@evil"`` from failing the delivery, and also removes the Unicode
    line separators and other control characters that some clients render as breaks.
    """
    cleaned = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in value
    )
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


def parse_recipients(report: str, entries: Sequence[str]) -> list[Address]:
    """The report's `email_to` as addresses, one each, duplicates (any case) dropped.

    An entry that is not exactly one plain address (a comma-separated list, a line break,
    no ``@``) is an error naming the report, not something to guess about.
    """
    seen: set[str] = set()
    out: list[Address] = []
    for entry in entries:
        problem = None
        if any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in entry):
            problem = "contains a line break or control character"
        else:
            parsed = getaddresses([entry])
            if len(parsed) != 1 or "@" not in parsed[0][1]:
                problem = "is not a single email address"
        if problem is not None:
            raise DeliveryError(
                f"report {report!r}: recipient {entry!r} {problem}",
                hint="list one address per entry in reports[].email_to",
            )
        display, addr = parsed[0]
        try:
            address = Address(display_name=display, addr_spec=addr)
        except (ValueError, IndexError) as exc:
            raise DeliveryError(
                f"report {report!r}: recipient {entry!r} is not a valid address ({exc})"
            ) from None
        if address.addr_spec.casefold() in seen:
            continue
        seen.add(address.addr_spec.casefold())
        out.append(address)
    return out


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def build_message(
    *,
    from_addr: str,
    to: Sequence[Address],
    subject: str,
    text: str,
    html: str,
    attachments: Sequence[Path],
    headers: Mapping[str, str] | None = None,
    date: datetime,
) -> EmailMessage:
    """A multipart message (text + HTML alternatives, PDFs attached) with the SMTP policy.

    Built with `email.policy.SMTP`, so its serialised size is what goes over the wire
    (CRLF line ends) and any CR/LF left in a header value raises instead of splitting it.
    """
    sender = parse_recipients("email.from", [from_addr])[0]
    msg = EmailMessage(policy=SMTP)
    try:
        msg["From"] = sender
        msg["To"] = list(to)
        msg["Subject"] = header_text(subject)
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = make_msgid(domain=sender.domain or None)
        # RFC 3834: keeps vacation responders from answering a batch job.
        msg["Auto-Submitted"] = "auto-generated"
        for name, value in (headers or {}).items():
            msg[name] = header_text(value)
    except ValueError as exc:  # CR/LF or a malformed value that slipped past the checks
        raise DeliveryError(f"cannot build the email header: {exc}") from None
    msg.set_content(text, subtype="plain", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    for path in attachments:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DeliveryError(f"cannot read attachment {path}: {exc.strerror}") from None
        fmt = for_file(path)
        maintype, _, subtype = (fmt.mime_type if fmt else "application/octet-stream").partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return msg
