"""Invitees (``GET /meetingInvitees``) and registrants (``GET /meetings/{id}/registrants``).

Items come from the API and are untrusted: anything without a usable email is skipped
(it could not be matched to a participant anyway), text fields are kept as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reporting.model import Invitee

APPROVED = "approved"


@dataclass(frozen=True)
class Registrant:
    """One registrant of a webinar series (rule 14): only ``approved`` ones are expected."""

    email: str
    first_name: str | None
    last_name: str | None
    status: str

    @property
    def name(self) -> str | None:
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or None

    @property
    def approved(self) -> bool:
        return self.status == APPROVED


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _email(item: Mapping[str, Any]) -> str | None:
    email = _text(item.get("email"))
    return email if email is not None and "@" in email else None


def invitees_from_items(items: Iterable[Mapping[str, Any]]) -> tuple[Invitee, ...]:
    """One Invitee per email (case-insensitive); panelist / co-host if any item says so."""
    found: dict[str, Invitee] = {}
    for item in items:
        email = _email(item)
        if email is None:
            continue
        invitee = Invitee(
            email=email,
            display_name=_text(item.get("displayName")),
            panelist=item.get("panelist") is True,
            cohost=item.get("coHost") is True,
        )
        earlier = found.get(email.lower())
        if earlier is not None:
            invitee = Invitee(
                earlier.email,
                earlier.display_name or invitee.display_name,
                earlier.panelist or invitee.panelist,
                earlier.cohost or invitee.cohost,
            )
        found[email.lower()] = invitee
    return tuple(found.values())


def registrants_from_items(items: Iterable[Mapping[str, Any]]) -> tuple[Registrant, ...]:
    found: dict[str, Registrant] = {}
    for item in items:
        email = _email(item)
        if email is None:
            continue
        registrant = Registrant(
            email=email,
            first_name=_text(item.get("firstName")),
            last_name=_text(item.get("lastName")),
            status=str(item.get("status") or "").strip().lower(),
        )
        earlier = found.get(email.lower())
        # Registered twice: the approved registration is the one that counts.
        if earlier is None or (registrant.approved and not earlier.approved):
            found[email.lower()] = registrant
    return tuple(found.values())
