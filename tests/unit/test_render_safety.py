from __future__ import annotations

from reporting.render.safety import neutralise_csv, safe_filename, strip_controls


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd") == "etc-passwd"
    assert safe_filename("Café Über 2026") == "Cafe-Uber-2026"
    assert safe_filename("CON") == "report"
    assert safe_filename("—") == "report"
    assert len(safe_filename("x" * 500)) == 80


def test_text_rules() -> None:
    assert strip_controls("a\x00b\tc\nd\x1f") == "ab\tc\nd"
    assert neutralise_csv("\rx") == "'\rx" and neutralise_csv("ok") == "ok"


def test_page_header_text_is_escaped_for_css_once_not_for_html_too() -> None:
    from reporting.render.pdf.template import environment

    env = environment(None)
    template = env.from_string("{% filter css_string %}{{ t }}{% endfilter %}|{{ t|css_string }}")
    out = template.render(t='R&D "Q" <b>')
    # In <style>, entities are not decoded: `&` must stay `&`; quotes and < > are CSS escapes.
    assert out == "R&D \\22 Q\\22  \\3c b\\3e |R&D \\22 Q\\22  \\3c b\\3e "
    assert "&amp;" not in out and "<b>" not in out
