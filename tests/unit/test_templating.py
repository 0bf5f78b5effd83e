"""User templates are confined to their folder and run in Jinja's sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.delivery import deliver
from reporting.errors import DeliveryError, RenderError
from reporting.render.pdf import template as pdfmod
from reporting.render.sample import sample_input
from tests.deliver_support import EmailCfg, MemoryLedger, make_report

LEDGER_KEY = "2026-10:abc"
META = {"report_name": "x", "title": "T", "facts": [], "confidential": "c", "compliance": True}


def _html(templates: Path) -> str:
    return pdfmod.render_html(
        sample_input(templates=templates), [], META, first_page=1, total_pages=1
    )


def _deliver(tmp_path: Path, templates: Path) -> None:
    deliver(
        [make_report(tmp_path / "out", "managers", ("m@example.com",))],
        EmailCfg(smtp=None, outbox=tmp_path / "outbox"),
        MemoryLedger(),
        ledger_key=LEDGER_KEY,
        credentials=None,
        templates=templates,
    )


ESCAPES = [
    "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ joiner.__init__.__globals__['os'].system('touch MARKER') }}",
    "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}",
    "{% set x = [] %}{{ x.append(1) }}",
]


@pytest.mark.parametrize("body", ESCAPES)
def test_a_report_template_cannot_reach_python(
    tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "report.html.j2").write_text(body)
    with pytest.raises(RenderError, match=r"report .*: template report\.html\.j2: .*"):
        _html(user)
    assert not (tmp_path / "MARKER").exists()


@pytest.mark.parametrize("body", ESCAPES)
def test_an_email_template_cannot_reach_python(
    tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "email_body.txt.j2").write_text(body)
    with pytest.raises(DeliveryError, match=r"email template email_body\.txt\.j2: "):
        _deliver(tmp_path, user)
    assert not (tmp_path / "MARKER").exists()
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").iterdir())


def test_a_link_out_of_the_templates_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:secret")
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "email_body.txt.j2").symlink_to(secret)
    with pytest.raises(DeliveryError, match=r"is a link to .*passwd, outside its templates"):
        _deliver(tmp_path, user)
    (user / "report.html.j2").symlink_to(secret)
    with pytest.raises(RenderError, match=r"outside its templates folder"):
        _html(user)


def test_an_include_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("root:x:0:0:secret")
    user = tmp_path / "tpl"
    (user / "partials").mkdir(parents=True)
    for name in ("../secret.txt", "partials/../../secret.txt", "/etc/passwd"):
        (user / "report.html.j2").write_text(f'{{% include "{name}" %}}')
        with pytest.raises(RenderError) as caught:
            _html(user)
        assert "secret" not in str(caught.value).replace("secret.txt", "")
        assert "root:x" not in str(caught.value)


def test_a_link_inside_the_folder_is_fine_and_html_is_escaped(tmp_path: Path) -> None:
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "real.html.j2").write_text("{{ title }}|{{ '<b>' }}")
    (user / "report.html.j2").symlink_to(user / "real.html.j2")
    html = pdfmod.render_html(
        sample_input(templates=user),
        [],
        {**META, "title": "<script>x</script>"},
        first_page=1,
        total_pages=1,
    )
    assert html == "&lt;script&gt;x&lt;/script&gt;|&lt;b&gt;"
