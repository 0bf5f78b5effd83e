"""Phone numbers are masked for every audience but compliance (rule 9)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from reporting.attendance import compute, mask_phone, mask_result
from reporting.attendance.masking import mask_key, mask_name
from reporting.model import Instance, InstanceRecords
from tests.attendance_reference import Rules

T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


def result():  # type: ignore[no-untyped-def]
    inst = Instance(
        id="m",
        entry_index=0,
        entry_id="m",
        course="c",
        title="t",
        series_id=None,
        start=T0,
        end=T0.replace(hour=10),
        state="ended",
        host_email=None,
    )
    records = (
        {
            "displayName": "+1 (408) 555-0199",
            "devices": [
                {
                    "joinedTime": "2026-10-05T09:00:00Z",
                    "leftTime": "2026-10-05T10:00:00Z",
                    "phoneNumber": "+1 (408) 555-0199",
                }
            ],
        },
        {
            "displayName": "+49 30 1234567",
            "devices": [{"joinedTime": "2026-10-05T09:00:00Z", "leftTime": "2026-10-05T10:00:00Z"}],
        },
        {
            "email": "ann@x.com",
            "displayName": "Ann 2nd",
            "devices": [{"joinedTime": "2026-10-05T09:00:00Z", "leftTime": "2026-10-05T10:00:00Z"}],
        },
    )
    return compute([InstanceRecords(inst, records)], Rules(), {}, datetime(2026, 11, 1, tzinfo=UTC))


def test_mask_phone_keeps_last_four_digits() -> None:
    assert mask_phone("+1 (408) 555-0199") == "•••••••0199"
    assert mask_phone("14085550199") == "•••••••0199"
    assert mask_phone("0199") == "••••"  # four digits or fewer: all hidden


def test_compliance_sees_everything_unchanged() -> None:
    r = result()
    seen = mask_result(r, "compliance")
    assert seen.attendance is r.attendance and seen.courses is r.courses
    assert seen.devices.equals(r.devices)
    assert "tel:14085550199" in r.attendance["person_key"].tolist()


def test_other_audiences_see_masked_numbers_keys_and_phone_names() -> None:
    masked = mask_result(result(), "summary")
    a = masked.attendance
    assert set(a["person_key"]) == {"tel:•••••••0199", "name:•••••••4567", "ann@x.com"}
    assert set(a["display_name"]) == {"•••••••0199", "•••••••4567", "Ann 2nd"}
    assert masked.devices["phone_number"].dropna().tolist() == ["•••••••0199"]
    assert set(masked.courses["person_key"]) == set(a["person_key"])
    assert set(masked.devices["person_key"]) == set(a["person_key"])
    assert masked.attendance["display_name"].dtype == result().attendance["display_name"].dtype
    assert not any(
        "555" in str(v)
        for v in pd.concat([a.astype(str), masked.devices.astype(str)]).to_numpy().ravel()
    )


def test_phone_numbers_inside_names_are_masked_where_they_stand() -> None:
    assert mask_name("+49 (30) 123-4567") == "•••••••4567"
    assert mask_name("Call-in 14085550100") == "Call-in •••••••0100"
    assert mask_name("Tel. 030/5550199 (mobile)") == "Tel. ••••••0199 (mobile)"
    assert mask_key("name:call-in 14085550100") == "name:call-in •••••••0100"
    # Short numbers are not phone numbers worth hiding; names without digits are kept.
    assert mask_name("Ann 2nd") == "Ann 2nd"
    assert mask_name("Room 1234") == "Room 1234"
    assert mask_key("ann@x.com") == "ann@x.com"
