"""No non-compliance output shows the full digits of a phone number, whatever its shape.

Shapes drawn: any separators (ASCII and Unicode spaces, underscores, dashes, dots,
slashes, brackets), digits of other scripts (fullwidth, Arabic-Indic, Devanagari,
mathematical bold), the number alone, inside a name, or as an email's local part, and
control characters around it. The end-to-end test runs the pipeline on such names,
emails and device numbers and searches every output a non-compliance audience gets:
the CSVs, the PDF's text, every workbook cell, the email bodies and the attached PDF.
"""

from __future__ import annotations

import copy
import email
import email.policy
import io
import json
import unicodedata
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from reporting.attendance.masking import mask_key, mask_phone, mask_text
from reporting.webex.sandbox import generate_dataset, save_dataset
from tests.pipeline_support import config_meetings, run_cli, write_config

SEPARATORS = [" ", "_", "-", ".", "/", "–", "—", "\u00a0", "\u2009", "\u3000", "·", ")(", " - ",
              "\t", "\u2011", "\uff0d", ",", "*"]  # fmt: skip
SCRIPTS = {
    "ascii": "0123456789",
    "fullwidth": "０１２３４５６７８９",
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "devanagari": "०१२३४५६७८९",
    "math-bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
}
CONTROLS = ["", "\x00", "\x1b[31m", "\x07", "\u202e", "\x85"]


@st.composite
def phone_shapes(draw: st.DrawFn) -> tuple[str, str]:
    """(the number's digits, the text it appears in)."""
    # Five different digits at least: a number like 000000000 would be "found" in any
    # run of zeros an id or a count happens to have.
    digits = draw(st.text("0123456789", min_size=9, max_size=15).filter(lambda d: len(set(d)) >= 5))
    script = SCRIPTS[draw(st.sampled_from(sorted(SCRIPTS)))]
    written = [script[int(d)] for d in digits]
    out: list[str] = []
    for i, char in enumerate(written):
        if i and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(SEPARATORS)))
        out.append(char)
    number = draw(st.sampled_from(["", "+", "+(", "("])) + "".join(out)
    control = draw(st.sampled_from(CONTROLS))
    where = draw(st.sampled_from(["alone", "name", "email", "key"]))
    if where == "name":
        number = f"Call-in {control}{number} (mobile)"
    elif where == "email":
        number = f"{''.join(written)}@pstn.example.com"
    elif where == "key":
        number = f"name:dial {number}"
    return digits, number


def digits_seen(text: str) -> str:
    """The decimal digits a reader sees in ``text``, in order, as ASCII."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.decimal(c)) for c in folded if unicodedata.decimal(c, None) is not None
    )


@settings(max_examples=400, deadline=None)
@given(phone_shapes())
def test_no_shape_keeps_the_full_digits(shape: tuple[str, str]) -> None:
    digits, text = shape
    for masked in (mask_text(text), mask_key(text), mask_phone(text)):
        assert digits not in digits_seen(masked), (text, masked)
    # The last four stay readable (rule 9) where the number stands alone.
    assert digits_seen(mask_phone(text)).endswith(digits[-4:])


def test_dates_times_and_short_numbers_are_kept() -> None:
    assert mask_text("Reviewed 2026-10-06 at 09:30:00") == "Reviewed 2026-10-06 at 09:30:00"
    assert mask_text("Room 1234, floor 2") == "Room 1234, floor 2"
    assert mask_text("408_555_0177") == "••••••0177"
    assert mask_text("４０８５５５０１６６") == "••••••0166"
    assert mask_text("14085550122@pstn.example.com") == "•••••••0122@pstn.example.com"
    assert mask_key("id:123456789") == "id:123456789"


# -- end to end -----------------------------------------------------------------------

REPORTS = (
    {"name": "managers", "audience": "summary", "formats": ["pdf", "xlsx"],
     "email_to": ["lead@example.com"]},
)  # fmt: skip


def _hostile_dataset(shapes: list[tuple[str, str]]) -> dict[str, Any]:
    """The generated dataset with one participant record per shape made hostile."""
    data = copy.deepcopy(generate_dataset(2, 5, 11))
    ended = [m["id"] for m in data["meetings"] if m.get("state") == "ended"]
    records = [r for instance in ended for r in data["participants"].get(instance, [])]
    records = [r for r in records if not r.get("host")]
    assert len(records) >= len(shapes)
    for index, ((_digits, text), record) in enumerate(zip(shapes, records, strict=False)):
        if "@" in text:
            record["email"] = text
            record["displayName"] = f"Caller {index}"
        else:
            record.pop("email", None)
            record["displayName"] = text
        for device in record.get("devices", []):
            device["callType"] = "callIn"
            device["audioType"] = "pstn"
            device["phoneNumber"] = text.split("@")[0]
        if index == 0:
            # A field of the wrong type: the record's data-quality note names it by its
            # display name, in every report's data-quality section.
            record["joinedTime"] = 12345
    return data


def _output_texts(folder: Path) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    out = folder / "out"
    for path in sorted(out.iterdir()):
        if path.suffix == ".csv":
            texts.append((path.name, path.read_text(encoding="utf-8")))
        elif path.suffix == ".pdf":
            texts.append((path.name, _pdf_text(path.read_bytes())))
        elif path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            for sheet in book.worksheets:
                for row in sheet.iter_rows(values_only=True):
                    texts.append((f"{path.name}!{sheet.title}", " | ".join(map(str, row))))
    for eml in sorted((folder / "outbox").glob("*.eml")):
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        texts.append((eml.name, str(message["Subject"])))
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            if part.get_content_type() == "application/pdf":
                texts.append((f"{eml.name}:{part.get_filename()}", _pdf_text(payload)))
            else:
                texts.append((f"{eml.name}:{part.get_content_type()}", payload.decode()))
    return texts


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(phone_shapes(), min_size=3, max_size=4))
def test_no_non_compliance_output_shows_a_drawn_number(
    tmp_path_factory: Any, shapes: list[tuple[str, str]]
) -> None:
    folder = tmp_path_factory.mktemp("hostile")
    dataset = folder / "dataset.json"
    save_dataset(_hostile_dataset(shapes), dataset)
    config = write_config(
        folder,
        base_url="sandbox",
        meetings=config_meetings(2, 5),
        sandbox_dataset=dataset,
        reports=REPORTS,
        email=True,
    )
    result = run_cli("run", str(config))
    assert result.exit_code == 0, result.output
    texts = _output_texts(folder)
    assert {name.split("!")[0].split(":")[0] for name, _ in texts} >= {
        "attendance.csv", "devices.csv", "courses.csv", "managers.pdf", "managers.xlsx",
    }  # fmt: skip
    assert any(name.endswith(".eml:managers.pdf") for name, _ in texts)
    for name, text in texts:
        for line in text.splitlines():
            seen = digits_seen(line)
            for digits, shape in shapes:
                assert digits not in seen, f"{shape!r} shows in full in {name}: {line!r}"
        assert not any(c in text for c in "\x00\x07\x1b\u202e"), name
    # The callers are there, masked: their last four digits show somewhere.
    csv_digits = digits_seen(next(t for n, t in texts if n == "attendance.csv"))
    assert all(digits[-4:] in csv_digits for digits, _ in shapes)


def test_the_hostile_dataset_is_valid_json(tmp_path: Path) -> None:
    data = _hostile_dataset([("4085550177", "408_555_0177")])
    assert json.loads(json.dumps(data)) == data
