"""PDF report: open it again and check the figures, the page numbers and the safety rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from reporting.errors import RenderError
from reporting.render import render_pdf
from reporting.render.pdf import cells, content, layout, pool, template
from reporting.render.pdf import worker as pdf_worker
from reporting.render.sample import sample_input

HOSTILE = [
    '<img src="file:///etc/passwd">Mallory',
    "=cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    "שלום עולם مرحبا",
    "张伟" * 40,
    "😀 Emoji Person",
    "A" * 400,
    "Ctrl\x01\x07char",
]


def _text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def test_pdf_shows_figures_and_page_x_of_y(tmp_path: Path) -> None:
    path = render_pdf(sample_input(), tmp_path / "r.pdf")
    pages = _text(path)
    text = "\n".join(pages)
    assert "Run id run0123456789" in text
    assert "ab" * 32 in text
    assert "Security awareness 1" in text and "meet000_I_00000" in text
    assert "0:55:00" in text  # 3300 s attended
    assert "91.6 %" in text  # 3300 / 3600 rounded down
    # No `required` column: every row is required (as before rule 11).
    assert "Required rows 12: 4 complete, 4 partial, 4 absent, 0 excused" in text
    assert "LATE_JOIN" in text and "DURATION_MISMATCH" in text
    assert "first join was later" in text  # the flag explanation in the appendix
    assert "HTTP 404" in text and "page 2: not JSON" in text
    assert "Confidential" in pages[0]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


def test_summary_audience_has_no_devices_section(tmp_path: Path) -> None:
    inp = sample_input(audience="summary", phone="•••••••0199")
    text = "\n".join(_text(render_pdf(inp, tmp_path / "s.pdf")))
    assert "Phone number" not in text
    digits = re.sub(r"\D", "", text)
    assert "4085550199" not in digits and "555" not in text, "an unmasked number leaked"


def test_hostile_names_stay_text(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    inp = sample_input(meetings=1, names=HOSTILE)
    path = render_pdf(inp, tmp_path / "h.pdf")
    reader = PdfReader(path)
    # CJK and emoji (no such font here) make pypdf interleave NULs; they are not content.
    text = "\n".join(p.extract_text() for p in reader.pages).replace("\x00", "")
    assert '<img src="file:///etc/passwd">Mallory' in text.replace("\n", "")
    assert "<script>alert(1)</script>" in text
    assert "=cmd|' /C calc'!A0" in text
    raw = path.read_bytes()
    assert b"/XObject" not in raw or b"/Subtype /Image" not in raw  # nothing was embedded
    assert b"/EmbeddedFile" not in raw
    assert "root:" not in text


def test_a_one_megabyte_name_is_shortened_and_overprints_nothing(tmp_path: Path) -> None:
    huge = "Overlong" + "x" * 1_000_000
    inp = sample_input(meetings=1, names=["Anna Before", huge, "Zoe After"])
    pages = _text(render_pdf(inp, tmp_path / "long.pdf"))
    text = "\n".join(pages)
    assert "more characters; in full in the CSV]" in text
    assert "Anna Before" in text and "Zoe After" in text  # the rows around it are whole
    assert len(pages) < 10
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page  # every footer is on its page
    kept = max(len(run) for run in re.findall(r"x+", text.replace("\n", "")))
    assert 100 < kept < 5_000


def test_clip_lines_keeps_text_that_fits_and_marks_what_it_cuts() -> None:
    assert layout.clip_lines("Anna Schmidt", 100.0) == "Anna Schmidt"
    many = "\n".join(["line"] * 50)  # short, but fifty lines
    clipped = layout.clip_lines(many, 100.0, max_lines=5)
    assert layout.text_lines(clipped, 100.0) <= 5
    assert clipped.startswith("line\nline") and "more characters" in clipped


def test_url_fetcher_refuses_files_outside_templates(tmp_path: Path) -> None:
    user = tmp_path / "tpl"
    user.mkdir()
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    (user / "report.html.j2").write_text(
        '{% extends "shipped/report.html.j2" %}{% block extra_css %}'
        f'body {{ background: url("{secret.as_uri()}") }}{{% endblock %}}'
        "{% block confidentiality %}Custom footer{% endblock %}"
    )
    # A user template may not pull files from elsewhere: the import is refused, the
    # override of a block still applies.
    job_html = template.render_html(
        sample_input(templates=user),
        [],
        {"report_name": "x", "title": "T", "facts": [], "confidential": "c", "compliance": True},
        first_page=1,
        total_pages=1,
    )
    assert "Custom footer" in job_html
    blocked = pdf_worker.render_part(
        pdf_worker.PartJob(job_html, "file:///", (str(user),), 1, None)
    )[2]
    assert blocked == [secret.as_uri()]


def test_network_and_data_urls_are_refused() -> None:
    from reporting.render.pdf.fetcher import BlockedURLError, SafeURLFetcher

    fetcher = SafeURLFetcher([Path(__file__).parent])
    for url in (
        "http://127.0.0.1:9/x.css",
        "https://example.com/a.png",
        "data:,x",
        "file:///etc/passwd",
        "ftp://example.com/x",
    ):
        with pytest.raises(BlockedURLError):
            fetcher.fetch(url)
    assert fetcher.fetch(Path(__file__).as_uri()).read()


def test_chunked_render_numbers_pages_across_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layout, "CHUNK_ROWS", 60)
    inp = sample_input(meetings=3, people=70)
    pages, _ = content.build_pages(inp)
    assert len(layout.part_ranges(pages)) > 2
    path = render_pdf(inp, tmp_path / "big.pdf")
    texts = _text(path)
    assert len(texts) == len(pages)
    for number, page in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in page
    joined = "\n".join(texts)
    assert joined.count("Person 00069") >= 3
    # A page that continues a meeting's table names the meeting.
    assert "Security awareness 2 — attendance (continued)" in joined


def test_pdfa_variant(tmp_path: Path) -> None:
    path = render_pdf(sample_input(meetings=1, people=3, pdfa=True), tmp_path / "a.pdf")
    root = PdfReader(path).trailer["/Root"]
    assert "/OutputIntents" in root
    assert b"pdfaid:part" in root["/Metadata"].get_object().get_data()


def test_letter_size(tmp_path: Path) -> None:
    path = render_pdf(sample_input(meetings=1, people=3, page_size="Letter"), tmp_path / "l.pdf")
    box = PdfReader(path).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (792, 612)


def test_estimate_is_generous() -> None:
    assert layout.text_lines("", 100) == 1
    assert layout.text_lines("a" * 100, 50) >= 100 * 0.62 * layout.FONT_PT // 50
    assert layout.text_lines("x\ny", 1000) == 2


def test_cover_counts_fetched_instances_and_absentees_flow(tmp_path: Path) -> None:
    from reporting.model import FetchFailure

    inp = sample_input(
        meetings=3,
        people=6,
        failures=[
            FetchFailure("series-1", "meet002_I_00002", "HTTP 500 from Webex"),
            FetchFailure("series-2", None, "series-2: HTTP 404 from Webex"),
        ],
    )
    text = "\n".join(_text(render_pdf(inp, tmp_path / "c.pdf")))
    # Like the CLI: audited = instances whose participants were fetched.
    assert "Meetings 2 audited, 2 could not be fetched" in text
    assert "The participants could not be fetched: HTTP 500 from Webex" in text
    # Absentees: one flowing list per meeting, alphabetical, with e-mail and department.
    assert "Absent (2)" in text
    flat = text.replace("\n", " ").replace("\xa0", " ")
    assert "Person 00002 (p00002@example.com, Dept 2) · Person 00005" in flat
    assert "Group A — 3 people" in text


def test_failing_part_raises_in_the_parent_and_leaves_no_worker() -> None:
    import multiprocessing

    roots = (str(template.templates_dir()),)
    base = template.templates_dir().as_uri() + "/"
    good = pdf_worker.PartJob("<p>part</p>", base, roots, 1, None)
    bad = pdf_worker.PartJob(None, base, roots, 1, None)  # type: ignore[arg-type]
    assert [n for _, n, _ in pool.run_jobs([good, good, good], 3)] == [1, 1, 1]
    with pytest.raises(TypeError, match="source") as info:
        pool.run_jobs([good, bad, good, good], 4)
    # Where it happened in the worker travels with it.
    assert any("in the PDF worker" in note for note in getattr(info.value, "__notes__", []))
    assert multiprocessing.active_children() == []


def test_a_part_that_takes_too_long_fails_naming_it_and_leaves_no_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import multiprocessing

    roots = (str(template.templates_dir()),)
    base = template.templates_dir().as_uri() + "/"
    job = pdf_worker.PartJob("<p>part</p>", base, roots, 1, None)
    monkeypatch.setattr(pool, "PART_SECONDS", 0.0)  # every part is late
    with pytest.raises(RenderError, match=r"PDF part 1 of 2 took over 0 s"):
        pool.run_jobs([job, job], 2)
    assert multiprocessing.active_children() == []


def _nearly_full_page(plan: layout.Planner, room_pt: float) -> None:
    filler = layout.Block("note", {"text": "x"}, plan.capacity - room_pt)
    plan.block(filler, "cover")


def test_a_short_table_that_fits_a_page_moves_there_whole_with_its_heading() -> None:
    plan = layout.Planner("A4")
    _nearly_full_page(plan, room_pt=100)  # room for the heading, the header and ~2 rows
    plan.heading("Courses", "cover", level=2)
    rows = [[f"course-{i}", "1", "10", "0", "9", "90.0 %", "roster r.csv"] for i in range(6)]
    plan.table("courses", cells.COURSE_COLUMNS, rows, "cover")
    first, second = plan.pages
    assert [b.kind for b in first.blocks] == ["note"]
    heading, table = second.blocks
    assert heading.kind == "heading" and isinstance(table, layout.TableBlock)
    assert table.rows == rows and table.caption == ""


def test_a_long_table_is_cut_across_pages_and_names_what_it_continues() -> None:
    plan = layout.Planner("A4")
    _nearly_full_page(plan, room_pt=100)
    rows = [[f"person-{i}", "0:10:00 (50 %)", "09:00:00–09:10:00", "partial"] for i in range(80)]
    plan.table("attendance", cells.ATTENDANCE_COLUMNS, rows, "m1", continued="M1 (continued)")
    tables = [b for page in plan.pages for b in page.blocks if isinstance(b, layout.TableBlock)]
    assert len(tables) >= 2 and tables[0].rows  # it starts on the nearly full page
    assert [r for t in tables for r in t.rows] == rows
    assert all(t.caption == "M1 (continued)" for t in tables[1:])
