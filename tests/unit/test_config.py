"""The config loader: every broken file gets one line naming file, line, key and fix;
valid files resolve defaults, paths and periods exactly as DESIGN.md says."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from reporting.check import format_plan
from reporting.config import (
    Config,
    Period,
    ReportSpec,
    Rules,
    SmtpCredentials,
    Threshold,
    format_duration,
    load_config,
    parse_duration,
    parse_period_arg,
    parse_threshold,
    resolve_smtp_credentials,
    resolve_token,
)
from reporting.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).parents[1] / "broken_configs"

# A clock in November 2026, so `last-month` is October 2026 in Europe/Berlin.
NOV = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)

# (file, fragment of the one-line message: file:line: key.path: problem)
CASES = [
    ("yaml_syntax.yaml", ":8: YAML syntax error: while parsing a flow sequence: expected ','"),
    ("yaml_bad_indent.yaml", ":4: YAML syntax error"),
    ("empty_file.yaml", ":1: the config is empty"),
    ("top_level_list.yaml", ":1: the config must be a mapping"),
    ("duplicate_yaml_key.yaml", ":6: rules: duplicate key"),
    (
        "unknown_key_rules.yaml",
        ":6: rules.min_atendance: unknown key (did you mean 'min_attendance'?)",
    ),
    ("unknown_key_top.yaml", ":2: meeting: unknown key (did you mean 'meetings'?)"),
    ("unknown_key_in_list.yaml", ":7: reports[0].format: unknown key (did you mean 'formats'?)"),
    ("unknown_key_no_guess.yaml", ":6: webex.proxy: unknown key (allowed here: base_url,"),
    ("period_unknown_key.yaml", ":4: period.until: unknown key (allowed here: from, to)"),
    ("missing_timezone.yaml", ":1: timezone: required key is missing"),
    (
        "bad_timezone.yaml",
        ":2: timezone: unknown time zone 'Europe/Berlinn' (did you mean 'Europe/Berlin'?",
    ),
    (
        "wrong_type_concurrency.yaml",
        ":3: webex.max_concurrency: expected a whole number, got 'eight'",
    ),
    ("zero_concurrency.yaml", ":3: webex.max_concurrency: must be greater than 0, got 0"),
    ("negative_rate.yaml", ":4: webex.requests_per_minute: must be greater than 0, got -5"),
    ("bad_base_url.yaml", ":3: webex.base_url: not a URL"),
    (
        "token_in_token_env.yaml",
        ":6: webex.token_env: expected the NAME of an environment variable",
    ),
    (
        "bad_duration_words.yaml",
        ":6: rules.late_grace: not a duration: '5 minutes' (write durations like 45m",
    ),
    (
        "bad_duration_bare_number.yaml",
        ":5: rules.early_leave_grace: not a duration: 5 (write durations",
    ),
    (
        "bad_percentage_over.yaml",
        ":5: rules.min_attendance: percentage must be above 0% and at most 100%, got 120%",
    ),
    ("bad_percentage_zero.yaml", ":5: rules.min_attendance: percentage must be above 0%"),
    (
        "bad_threshold_text.yaml",
        ":5: rules.min_attendance: not a percentage or duration: 'most of it'",
    ),
    (
        "bad_period_word.yaml",
        ":2: period: not a period: 'previous-month' (write `last-month`, a month",
    ),
    ("period_reversed.yaml", ":2: period: from 2026-11-01 is not before to 2026-10-01"),
    ("period_bad_date.yaml", ":4: period.to: cannot read '2026-13-01'"),
    ("empty_meetings.yaml", ":3: meetings: no meetings listed"),
    (
        "duplicate_meeting_ids.yaml",
        ":6: meetings[2].id: duplicate meeting id 'abc123' (also at meetings[0])",
    ),
    ("missing_meeting_id.yaml", ":4: meetings[1]: give either id or match"),
    ("match_and_id.yaml", ":4: meetings[0]: give id or match, not both"),
    ("match_nothing.yaml", ":4: meetings[0].match: match selects every meeting"),
    ("match_bad_type.yaml", ":4: meetings[0].match.type: unknown meeting type 'seminar'"),
    ("match_bad_host.yaml", ":4: meetings[0].match.hosts: not an email address: 'trainer'"),
    ("match_unknown_key.yaml", ":4: meetings[0].match.titel: unknown key (did you mean 'title'?)"),
    ("roster_source_typo.yaml", ":4: meetings[0].roster: item 2: roster file not found: "),
    ("missing_roster.yaml", ":4: meetings[0].roster: roster file not found: "),
    ("bad_phone_region.yaml", ":4: roster_phone_region: unknown phone region 'Germany'"),
    ("missing_overrides.yaml", ":4: overrides: overrides file not found: "),
    (
        "sessions_required_word.yaml",
        ":5: rules.sessions_required: expected `all` or a positive whole number, got 'most'",
    ),
    (
        "sessions_required_zero.yaml",
        ":5: rules.sessions_required: expected `all` or a positive whole number, got 0",
    ),
    (
        "duplicate_report_names.yaml",
        ":8: reports[1].name: duplicate report name 'Compliance' (also at reports[0])",
    ),
    ("unsafe_report_name.yaml", ":5: reports[0].name: '../../etc/report' cannot be a file name"),
    ("hidden_report_name.yaml", ":5: reports[0].name: '.hidden' cannot be a file name"),
    ("empty_audience.yaml", ":6: reports[0].audience: audience is empty"),
    ("bad_format.yaml", ":9: reports[0].formats[1]: must be 'pdf' or 'xlsx', got 'docx'"),
    ("formats_not_a_list.yaml", ":7: reports[0].formats: expected a list, got 'pdf'"),
    ("email_smtp_and_outbox.yaml", ":4: email: has both smtp and outbox"),
    ("email_no_transport.yaml", ":4: email: has neither smtp nor outbox"),
    (
        "audience_capital_compliance.yaml",
        ":6: reports[0].audience: 'Compliance' is not the compliance audience",
    ),
    ("audience_typo_compliance.yaml", ":6: reports[0].audience: 'complaince' is not the"),
    (
        "email_to_without_email.yaml",
        ":8: reports[0].email_to: recipients are listed but the config has no `email:`",
    ),
    ("smtp_ssl_and_starttls.yaml", ":6: email.smtp: ssl and starttls are exclusive"),
    ("output_unknown_placeholder.yaml", ":5: output.dir: unknown placeholder {month}"),
]


@pytest.mark.parametrize(("name", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_broken_config_names_file_line_and_key(name: str, fragment: str) -> None:
    path = BROKEN / name
    with pytest.raises(ConfigError) as info:
        load_config(path, now=NOV)
    message = str(info.value)
    assert message.startswith(f"{path}:"), message
    assert f"{name}{fragment}" in message, message
    assert "\n" not in message
    assert info.value.exit_code == 2


def test_every_broken_config_has_a_case() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(name for name, _ in CASES)


def test_a_pasted_token_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(BROKEN / "token_in_token_env.yaml", now=NOV)
    assert "ZjQ5NTk0" not in str(info.value)


def _write(tmp_path: Path, body: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


MINIMAL = textwrap.dedent(
    """\
    timezone: Europe/Berlin
    meetings:
      - id: abc123
    """
)


# --------------------------------------------------------------------------- valid


def test_minimal_config_gets_the_documented_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL), now=NOV)
    assert config.source == tmp_path / "config.yaml"
    assert len(config.config_hash) == 64
    assert config.period.label == "2026-10"
    webex = config.webex
    assert webex.base_url == "https://webexapis.com/v1"
    assert webex.token_env == "WEBEX_TOKEN"
    assert webex.host_email is None
    assert (webex.max_concurrency, webex.requests_per_minute) == (8, 300)
    assert (webex.timeout_seconds, webex.max_retries, webex.retry_after_ceiling_seconds) == (
        30,
        6,
        120,
    )
    assert webex.sandbox_dataset is None
    assert webex.sandbox_role == "compliance"
    assert webex.oauth is None
    assert config.rules.min_attendance == Threshold(percent=Fraction(80))
    assert config.rules.late_grace_seconds == 300
    assert config.rules.early_leave_grace_seconds == 300
    assert config.rules.sessions_required is None
    assert config.roster is None
    assert config.reports == ()
    assert config.output_dir == tmp_path / "reports" / "2026-10"
    assert config.store == tmp_path / ".attendance" / "store.sqlite"
    assert config.email is None
    assert config.templates is None
    assert (config.pdf.page_size, config.pdf.pdfa) == ("A4", False)
    assert config.tz.key == "Europe/Berlin"


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "rosters").mkdir()
    (tmp_path / "rosters" / "everyone.csv").write_text("email\n", encoding="utf-8")
    (tmp_path / "rosters" / "security.csv").write_text("email\n", encoding="utf-8")
    (tmp_path / "my-templates").mkdir()
    path = _write(
        tmp_path,
        """\
        timezone: UTC
        period: {from: 2026-10-01, to: 2026-10-15}
        webex:
          base_url: sandbox
          sandbox_dataset: ../data/set.json
        meetings:
          - id: abc123
            roster: ../rosters/security.csv
          - id: def456
        roster: ../rosters/everyone.csv
        output:
          dir: out/{period}/files
        store: state/store.sqlite
        templates: ../my-templates
        email:
          from: attendance@example.com
          outbox: outbox/
        """,
        name="configs/monthly.yaml",
    )
    config = load_config(path)
    assert config.meetings[0].roster_files == (tmp_path / "rosters" / "security.csv",)
    assert config.meetings[1].roster is None
    assert config.roster == tmp_path / "rosters" / "everyone.csv"
    assert config.webex.sandbox_dataset == tmp_path / "data" / "set.json"
    assert config.output_dir == tmp_path / "configs" / "out" / "2026-10-01_2026-10-15" / "files"
    assert config.store == tmp_path / "configs" / "state" / "store.sqlite"
    assert config.templates == tmp_path / "my-templates"
    assert config.email is not None
    assert config.email.outbox == tmp_path / "configs" / "outbox"


def test_roster_phone_region_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "decisions.csv").write_text("person\n", encoding="utf-8")
    body = MINIMAL + "roster_phone_region: de\noverrides: decisions.csv\n"
    config = load_config(_write(tmp_path, body), now=NOV)
    assert config.roster_phone_region == "DE"
    assert config.overrides == tmp_path / "decisions.csv"
    minimal = load_config(_write(tmp_path, MINIMAL), now=NOV)
    assert (minimal.roster_phone_region, minimal.overrides) == (None, None)


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    store = tmp_path / "elsewhere" / "s.sqlite"
    config = load_config(_write(tmp_path / "cfg", MINIMAL + f"store: {store}\n"), now=NOV)
    assert config.store == store


def test_models_are_frozen(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL), now=NOV)
    with pytest.raises(ValidationError):
        config.timezone = "UTC"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        config.rules.late_grace_seconds = 0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        config.period.label = "x"  # type: ignore[misc]
    assert isinstance(config.meetings, tuple)


def test_full_config_values(tmp_path: Path) -> None:
    config = load_config(
        _write(
            tmp_path,
            """\
            timezone: America/New_York
            period: {from: 2026-10-01, to: 2026-11-01}
            webex:
              host_email: admin@example.com
              max_concurrency: 2
              requests_per_minute: 60
              timeout_seconds: 12.5
              max_retries: 0
              oauth:
                client_id_env: WX_ID
                client_secret_env: WX_SECRET
                refresh_token_env: WX_REFRESH
            meetings:
              - id: 0123
                title: yes
                course: 2026
            rules:
              min_attendance: 1h30m
              late_grace: 0m
              early_leave_grace: 90s
              sessions_required: 3
            reports:
              - name: compliance.v2
                audience: " compliance "
                formats: [XLSX, pdf, xlsx]
                email_to: [a@example.com, a@example.com, b@example.com]
              - name: managers
                audience: summary
                show_devices: true
            pdf: {page_size: letter, pdfa: true}
            email:
              from: attendance@example.com
              max_message_bytes: 1000
              smtp: {host: smtp.example.com, port: 465, ssl: true,
                     username_env: SMTP_USER, password_env: SMTP_PASSWORD}
            """,
        )
    )
    # YAML would read these as 83, True and 2026; they are text.
    entry = config.meetings[0]
    assert (entry.id, entry.title, entry.course) == ("0123", "yes", "2026")
    assert config.period.label == "2026-10"
    assert config.period.start == datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
    assert config.webex.timeout_seconds == 12.5
    assert config.webex.max_retries == 0
    assert config.webex.oauth is not None
    assert config.webex.oauth.refresh_token_env == "WX_REFRESH"
    assert config.rules.min_attendance == Threshold(seconds=5400)
    assert (config.rules.late_grace_seconds, config.rules.early_leave_grace_seconds) == (0, 90)
    assert config.rules.sessions_required == 3
    compliance, managers = config.reports
    assert compliance.audience == "compliance"
    assert compliance.formats == ("xlsx", "pdf")
    assert compliance.email_to == ("a@example.com", "b@example.com")
    assert compliance.show_devices is True
    assert managers.formats == ("pdf",)
    assert managers.show_devices is True
    assert (config.pdf.page_size, config.pdf.pdfa) == ("Letter", True)
    assert config.email is not None
    assert config.email.smtp is not None
    assert (config.email.smtp.ssl, config.email.smtp.starttls) == (True, False)
    assert config.email.max_message_bytes == 1000


def test_show_devices_defaults_to_the_compliance_audience() -> None:
    assert ReportSpec(name="a", audience="compliance").show_devices is True
    assert ReportSpec(name="b", audience="summary").show_devices is False


def test_rules_can_be_built_in_code_with_seconds() -> None:
    rules = Rules(
        min_attendance=Threshold(percent=Fraction(175, 2)),
        late_grace_seconds=0,
        early_leave_grace_seconds=60,
        sessions_required=None,
    )
    assert rules.late_grace_seconds == 0
    assert Threshold(percent=80).percent == Fraction(80)


def test_a_config_stores_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBEX_TOKEN", "secret-token-value-123")
    config = load_config(_write(tmp_path, MINIMAL), now=NOV)
    assert "secret-token-value-123" not in config.model_dump_json()
    assert "secret-token-value-123" not in repr(config)


def test_example_monthly_config_loads() -> None:
    config = load_config(ROOT / "configs" / "example-monthly.yaml", now=NOV)
    assert config.period.label == "2026-10"
    assert config.output_dir == ROOT / "reports" / "2026-10"
    assert [r.name for r in config.reports] == ["compliance", "managers"]
    assert config.email is not None
    assert config.email.smtp is not None
    assert config.email.smtp.password_env == "SMTP_PASSWORD"


def test_demo_config_loads() -> None:
    config = load_config(ROOT / "configs" / "demo.yaml")
    assert config.webex.base_url == "sandbox"
    assert config.period.label == "2026-10"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_internal_fields_cannot_be_written(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":4: config_hash: unknown key"):
        load_config(_write(tmp_path, MINIMAL + "config_hash: abc\n"), now=NOV)


# --------------------------------------------------------------------------- periods


def _berlin_last_month(now: datetime) -> Period:
    return Period.last_month("Europe/Berlin", now)


def test_last_month_is_the_previous_month_in_the_config_zone() -> None:
    # 23:30 UTC on 31 Oct is already 00:30 on 1 Nov in Berlin (CET, after the DST change).
    period = _berlin_last_month(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    assert period.label == "2026-10"
    # October starts in summer time (UTC+2) and ends in winter time (UTC+1).
    assert period.start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert period.display == "October 2026 (Europe/Berlin)"
    # An hour earlier it is still October in Berlin.
    assert _berlin_last_month(datetime(2026, 10, 31, 22, 30, tzinfo=UTC)).label == "2026-09"


def test_last_month_in_january_is_december_of_the_year_before() -> None:
    period = _berlin_last_month(datetime(2027, 1, 1, 0, 30, tzinfo=UTC))
    assert period.label == "2026-12"
    assert period.start == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    # 31 Dec 23:30 UTC is New Year in Berlin already.
    assert _berlin_last_month(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)).label == "2026-12"


def test_march_spans_the_spring_dst_change() -> None:
    period = _berlin_last_month(datetime(2027, 4, 2, tzinfo=UTC))
    assert period.label == "2027-03"
    assert period.end - period.start == (datetime(2027, 4, 1) - datetime(2027, 3, 1)) - (
        datetime(1, 1, 1, 1) - datetime(1, 1, 1)
    )


def test_a_month_can_be_written_as_the_period(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL + "period: 2026-02\n"), now=NOV)
    assert config.period.label == "2026-02"
    assert config.period.start == datetime(2026, 1, 31, 23, 0, tzinfo=UTC)


def test_a_meeting_written_as_a_bare_id_gets_a_hint(tmp_path: Path) -> None:
    body = "timezone: UTC\nmeetings:\n  - abc123\n"
    with pytest.raises(ConfigError, match=r":3: meetings\[0\]: expected a mapping.*- id: <meeting"):
        load_config(_write(tmp_path, body), now=NOV)


def test_between_labels_and_display() -> None:
    period = Period.between(date(2026, 10, 1), date(2026, 10, 15), "Europe/Berlin")
    assert period.label == "2026-10-01_2026-10-15"
    assert period.display == "1 Oct 2026 – 14 Oct 2026 (Europe/Berlin)"
    one_day = Period.between(date(2026, 10, 5), date(2026, 10, 6), "UTC")
    assert one_day.display == "5 Oct 2026 (UTC)"
    assert one_day.contains(datetime(2026, 10, 5, 23, 59, tzinfo=UTC))
    assert not one_day.contains(datetime(2026, 10, 6, tzinfo=UTC))
    # A month that does not start on the 1st is a range, not a month.
    assert Period.between(date(2026, 10, 2), date(2026, 11, 2), "UTC").label == (
        "2026-10-02_2026-11-02"
    )


def test_between_rejects_an_empty_range_naming_the_option() -> None:
    with pytest.raises(ConfigError, match=r"^--from/--to: the period is empty"):
        Period.between(date(2026, 10, 2), date(2026, 10, 2), "UTC")


@pytest.mark.parametrize("value", ["2026-13", "2026-1", "october", "2026-10-01", ""])
def test_parse_period_arg_rejects_non_months(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^--period: .* is not a calendar month \(write"):
        parse_period_arg(value)


def test_period_overrides_are_anchored_in_the_config_zone(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)
    config = load_config(path, period=parse_period_arg("2026-03"), now=NOV)
    assert config.period.label == "2026-03"
    assert config.period.start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert config.output_dir == tmp_path / "reports" / "2026-03"

    config = load_config(path, period=(date(2026, 10, 1), date(2026, 10, 8)), now=NOV)
    assert config.period.label == "2026-10-01_2026-10-08"
    assert config.period.start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)

    with pytest.raises(ConfigError, match=r"^--from/--to: the period is empty"):
        load_config(path, period=(date(2026, 10, 8), date(2026, 10, 1)), now=NOV)


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45m", 2700), ("1h30m", 5400), ("90s", 90), ("5m", 300), ("0m", 0), ("1h 30m", 5400)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "5", "", "m", "1.5h", "30m1h", 5, True])
def test_parse_duration_rejects(text: object) -> None:
    # A ValueError, so it works inside pydantic validators; the fix is in its context.
    with pytest.raises(ValueError, match="not a duration") as info:
        parse_duration(text)
    assert "write durations like 45m, 1h30m or 90s" in str(getattr(info.value, "context", {}))


@given(st.integers(min_value=0, max_value=10**6))
def test_format_duration_round_trips(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80%", Threshold(percent=Fraction(80))),
        ("87.5%", Threshold(percent=Fraction(175, 2))),
        ("100%", Threshold(percent=Fraction(100))),
        ("45m", Threshold(seconds=2700)),
    ],
)
def test_threshold_parsing(text: str, expected: Threshold) -> None:
    assert Threshold.model_validate(text) == expected
    assert parse_threshold(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["0%", "100.5%", "-5%", "80 percent", "%"])
def test_threshold_rejects(text: str) -> None:
    with pytest.raises(ValidationError):
        Threshold.model_validate(text)


# --------------------------------------------------------------------------- secrets


def test_resolve_token(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "webex:\n  token_env: MY_TOKEN\n")
    config = load_config(path, now=NOV)
    assert resolve_token(config, {"MY_TOKEN": " tok \n"}) == "tok"
    with pytest.raises(ConfigError) as info:
        resolve_token(config, {"WEBEX_TOKEN": "wrong one"})
    assert str(info.value).startswith(
        f"environment variable MY_TOKEN is not set (webex.token_env in {path}:5)"
    )


def test_resolve_token_default_key_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)
    with pytest.raises(ConfigError, match=r"WEBEX_TOKEN is not set \(webex.token_env in .*config"):
        resolve_token(load_config(path, now=NOV), {})


def test_sandbox_needs_no_token(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL + "webex: {base_url: sandbox}\n"), now=NOV)
    assert resolve_token(config, {}) is None
    assert resolve_token(config, {"WEBEX_TOKEN": "t"}) == "t"


def test_oauth_refresh_stands_in_for_a_token(tmp_path: Path) -> None:
    body = MINIMAL + textwrap.dedent(
        """\
        webex:
          oauth: {client_id_env: ID, client_secret_env: SECRET, refresh_token_env: REFRESH}
        """
    )
    config = load_config(_write(tmp_path, body), now=NOV)
    assert resolve_token(config, {"ID": "i", "SECRET": "s", "REFRESH": "r"}) is None
    with pytest.raises(ConfigError, match=r"SECRET is not set \(webex.oauth.client_secret_env"):
        resolve_token(config, {"ID": "i"})


def test_resolve_smtp_credentials(tmp_path: Path) -> None:
    body = MINIMAL + textwrap.dedent(
        """\
        email:
          from: a@example.com
          smtp:
            host: smtp.example.com
            username_env: SMTP_USER
            password_env: SMTP_PASSWORD
        """
    )
    path = _write(tmp_path, body)
    config = load_config(path, now=NOV)
    creds = resolve_smtp_credentials(config, {"SMTP_USER": "u", "SMTP_PASSWORD": "hunter2"})
    assert creds == SmtpCredentials("u", "hunter2")
    assert creds is not None
    user, password = creds
    assert (user, password) == ("u", "hunter2")
    assert "hunter2" not in repr(creds)
    with pytest.raises(ConfigError) as info:
        resolve_smtp_credentials(config, {"SMTP_USER": "u"})
    assert str(info.value).startswith(
        f"environment variable SMTP_PASSWORD is not set (email.smtp.password_env in {path}:9)"
    )


def test_no_smtp_login_means_no_credentials(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL), now=NOV)
    assert resolve_smtp_credentials(config, {}) is None


# --------------------------------------------------------------------------- check


def test_format_plan_shows_the_resolved_plan() -> None:
    config = load_config(ROOT / "configs" / "example-monthly.yaml", now=NOV)
    plan = format_plan(config)
    assert "October 2026 (Europe/Berlin), label 2026-10" in plan
    assert "from 2026-10-01 00:00 CEST (UTC+0200) (inclusive)" in plan
    assert "to   2026-11-01 00:00 CET (UTC+0100) (exclusive)" in plan
    for entry in config.meetings:
        assert entry.id in plan
        assert entry.title is not None
        assert entry.title in plan
    assert "at least 80% of the meeting" in plan
    assert (
        "- compliance: audience compliance (full detail, device table); formats pdf, xlsx" in plan
    )
    assert "training-leads@example.com, hr@example.com" in plan
    assert f"output     {config.output_dir}" in plan
    assert f"store      {config.store}" in plan
    assert "SMTP smtp.example.com:587, STARTTLS, login from $SMTP_USER / $SMTP_PASSWORD" in plan


def test_format_plan_without_email_or_reports(tmp_path: Path) -> None:
    plan = format_plan(load_config(_write(tmp_path, MINIMAL), now=NOV))
    assert "email      not configured: nothing is sent" in plan
    assert "reports    none (CSV files only)" in plan
    assert "roster none: attendees only" in plan


def test_config_is_a_pydantic_model() -> None:
    # Other stages type against these names; keep them importable and frozen.
    assert Config.model_config.get("frozen") is True
