"""Logging setup: text and JSON output, levels, and that no secret ever reaches a log line."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting import logs
from reporting.logs import REDACTED, RedactingFilter, redact, register_secret, setup_logging

TOKEN = "NmQ5YzYxZGItOWFmNy00ZjQ2LWE0ZDAtWEBEX-TOKEN_abc123"
PASSWORD = "pa55/word+with%odd=chars"
log = logging.getLogger("reporting.test")


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    logs._forget_secrets()
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    saved_levels = {
        name: logging.getLogger(name).level for name in ("reporting", "httpx", "httpcore")
    }
    yield
    for handler in list(root.handlers):
        if handler not in saved[1]:
            root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)
    logs._forget_secrets()


def capture(verbosity: int = 0, fmt: str = "text", secrets: tuple[str, ...] = ()) -> io.StringIO:
    stream = io.StringIO()
    setup_logging(verbosity, fmt, secrets, stream=stream)
    return stream


class Failing(Exception):
    pass


def leak_everywhere() -> None:
    """Log the secrets every way a careless caller could."""
    log.info("token is %s", TOKEN)
    log.info(f"inline token {TOKEN} and password {PASSWORD}")
    log.info("headers: %r", {"Authorization": f"Bearer {TOKEN}"})
    log.warning("login %s:%s failed", "mailer", PASSWORD)
    try:
        raise Failing(f"request with Authorization: Bearer {TOKEN} and password {PASSWORD}")
    except Failing:
        log.exception("request failed")
    try:
        try:
            raise ValueError(PASSWORD)
        except ValueError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError:
        log.error("chained", exc_info=True)
    log.info("stack", stack_info=True, extra={"note": "x"})


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_line_contains_a_secret(fmt: str) -> None:
    stream = capture(fmt=fmt, secrets=(PASSWORD,))
    register_secret(TOKEN)  # registered after setup, as the pipeline does
    leak_everywhere()
    output = stream.getvalue()
    assert TOKEN not in output and PASSWORD not in output
    # Percent-encoded and JSON-escaped forms would leak too.
    assert "pa55%2Fword" not in output
    assert REDACTED in output
    assert "Traceback" in output and "Failing" in output and "wrapped" in output
    assert "Bearer ***" in output


def test_bearer_tokens_are_redacted_even_when_not_registered() -> None:
    stream = capture()
    log.info("GET /meetings Authorization: bearer abc.DEF-123_x~y+z/0==")
    log.info("Bearer\tOTHER-token")
    output = stream.getvalue()
    assert "abc.DEF" not in output and "OTHER-token" not in output
    assert "bearer ***" in output and "Bearer\t***" in output


def test_handlers_after_ours_see_the_redacted_record() -> None:
    capture(secrets=(PASSWORD,))
    later = io.StringIO()
    handler = logging.StreamHandler(later)
    logging.getLogger().addHandler(handler)  # after ours: sees the rewritten record
    try:
        log.info("password=%s", PASSWORD)
    finally:
        logging.getLogger().removeHandler(handler)
    assert later.getvalue() == "password=***\n"


def test_json_lines_are_one_object_each() -> None:
    stream = capture(fmt="json")
    log.info("hello %s", "world")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "hello world"
    assert first["level"] == "INFO" and first["logger"] == "reporting.test"
    assert first["time"].endswith("+00:00")
    assert second["message"] == "failed" and "ValueError: boom" in second["exc"]


def test_text_lines_are_readable() -> None:
    stream = capture()
    log.info("fetched %d meetings", 3)
    line = stream.getvalue().strip()
    assert line.endswith("INFO    reporting.test: fetched 3 meetings")


@pytest.mark.parametrize(
    ("verbosity", "reporting_debug", "http_debug", "http_warning"),
    [(0, False, False, True), (1, True, False, True), (2, True, True, True)],
)
def test_verbosity_levels(
    verbosity: int, reporting_debug: bool, http_debug: bool, http_warning: bool
) -> None:
    stream = capture(verbosity)
    log.debug("reporting-debug")
    log.info("reporting-info")
    logging.getLogger("httpx").debug("httpx-debug")
    logging.getLogger("httpcore.connection").debug("httpcore-debug")
    logging.getLogger("httpx").warning("httpx-warning")
    logging.getLogger("otherlib").info("otherlib-info")
    output = stream.getvalue()
    assert ("reporting-debug" in output) is reporting_debug
    assert "reporting-info" in output
    assert ("httpx-debug" in output) is http_debug
    assert ("httpcore-debug" in output) is http_debug
    assert ("httpx-warning" in output) is http_warning
    assert ("otherlib-info" in output) is (verbosity >= 2)


def test_setup_twice_does_not_duplicate_lines() -> None:
    capture()
    stream = capture()
    log.info("once")
    assert stream.getvalue().count("once") == 1


def test_warnings_go_through_the_filter() -> None:
    stream = capture(secrets=(PASSWORD,))
    warnings.warn(f"library warning mentioning {PASSWORD}", UserWarning, stacklevel=1)
    output = stream.getvalue()
    assert "library warning mentioning ***" in output
    assert PASSWORD not in output


def test_short_or_empty_secrets_are_ignored() -> None:
    register_secret("")
    register_secret(None)
    register_secret("abc")
    assert redact("abc and more") == "abc and more"


def test_a_secret_inside_another_is_replaced_whole() -> None:
    register_secret("abcdef")
    register_secret("abcdefghij")
    assert redact("x abcdefghij y abcdef") == "x *** y ***"


def test_bad_format_arguments_do_not_lose_the_line() -> None:
    # Built by hand: pytest's own capture handler would raise on this record first.
    record = logging.LogRecord(
        "reporting.x", logging.INFO, __file__, 1, "two %s %s", (PASSWORD,), None
    )
    register_secret(PASSWORD)
    assert RedactingFilter().filter(record)
    text = logging.Formatter("%(message)s").format(record)
    assert "two %s %s" in text and PASSWORD not in text and REDACTED in text


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log format"):
        setup_logging(0, "xml", ())


@given(
    prefix=st.text(max_size=20),
    suffix=st.text(max_size=20),
    secret=st.text(
        alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=8, max_size=40
    ),
)
def test_redact_removes_any_registered_secret(prefix: str, suffix: str, secret: str) -> None:
    logs._forget_secrets()
    register_secret(secret)
    assert secret not in redact(prefix + secret + suffix + secret)
