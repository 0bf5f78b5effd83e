"""The config's models: the root `Config` and its sections (``webex``, ``email``, ``pdf``,
``signing``). With `reporting.config.rules` and `reporting.config.entries` these are the
only place a setting's default is written; everything else reads it from a model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from reporting.config.entries import MeetingEntry, ReportSpec, roster_path
from reporting.config.period import Period, parse_period
from reporting.config.rules import Rules
from reporting.config.values import (
    COMPLIANCE,
    DEFAULT_BASE_URL,
    MODEL_CONFIG,
    SANDBOX,
    Loc,
    LocatedError,
    PositiveFloat,
    PositiveInt,
    StrictBool,
    StrictStr,
    checks_files,
    context_of,
    email_address,
    env_name,
    existing_file,
    invalid,
    line_for,
    resolve_path,
    show_value,
    suggest,
    zone_names,
)
from reporting.safe_files import DEFAULT_MODE, parse_mode


class OAuthConfig(BaseModel):
    """``webex.oauth``: refresh the access token with an integration's credentials. Each
    key is the NAME of the environment variable holding the value."""

    model_config = MODEL_CONFIG

    client_id_env: str
    client_secret_env: str
    refresh_token_env: str

    @field_validator("client_id_env", "client_secret_env", "refresh_token_env", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return env_name(value)


class WebexConfig(BaseModel):
    """``webex``: where and how to call the API.

    Beyond DESIGN.md: ``timeout_seconds`` (per request, default 30), ``max_retries``
    (default 6), ``retry_after_ceiling_seconds`` (longest ``Retry-After`` honoured,
    default 120), ``sandbox_dataset`` / ``sandbox_role`` (with ``base_url: sandbox``: the
    dataset file for the bundled simulator and the role of the minted token — ``admin``,
    ``compliance`` or ``host:EMAIL``), and ``oauth`` (see :class:`OAuthConfig`).
    """

    model_config = MODEL_CONFIG

    base_url: str = DEFAULT_BASE_URL
    token_env: str = "WEBEX_TOKEN"  # noqa: S105 - a variable name, not a secret
    host_email: str | None = None
    max_concurrency: PositiveInt = 8
    requests_per_minute: PositiveInt = 300
    timeout_seconds: PositiveFloat = 30.0
    max_retries: Annotated[int, Strict(), Field(ge=0)] = 6
    retry_after_ceiling_seconds: PositiveFloat = 120.0
    sandbox_dataset: Path | None = None
    sandbox_role: str = COMPLIANCE
    oauth: OAuthConfig | None = None

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() == SANDBOX:
            return SANDBOX
        if isinstance(value, str) and re.match(r"^https?://[^\s/]+", value.strip()):
            return value.strip().rstrip("/")
        raise invalid(
            f"not a URL: {show_value(value)}",
            f"use {DEFAULT_BASE_URL} or `sandbox` for the bundled simulator",
        )

    @field_validator("token_env", mode="before")
    @classmethod
    def _token_env(cls, value: Any) -> Any:
        return env_name(value)

    @field_validator("host_email", mode="before")
    @classmethod
    def _host_email(cls, value: Any) -> Any:
        return None if value is None else email_address(value)

    @field_validator("sandbox_dataset", mode="before")
    @classmethod
    def _dataset(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else resolve_path(value, info, "dataset")

    @field_validator("sandbox_role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> Any:
        if isinstance(value, str):
            role = value.strip()
            if role in ("admin", COMPLIANCE):
                return role
            if role.startswith("host:"):
                email_address(role[len("host:") :])
                return role
        raise invalid(
            f"unknown sandbox role {show_value(value)}", "use admin, compliance or host:EMAIL"
        )


class SmtpConfig(BaseModel):
    """``email.smtp``. ``username_env`` / ``password_env`` name environment variables
    (both or neither). Beyond DESIGN.md: ``ssl`` (implicit TLS, usually port 465; not
    together with ``starttls``) and ``timeout_seconds`` (default 30)."""

    model_config = MODEL_CONFIG

    host: StrictStr
    port: Annotated[int, Strict(), Field(gt=0, le=65535)] = 587
    starttls: StrictBool = True
    ssl: StrictBool = False
    username_env: str | None = None
    password_env: str | None = None
    timeout_seconds: PositiveFloat = 30.0

    @field_validator("username_env", "password_env", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return env_name(value, required=False)

    @model_validator(mode="before")
    @classmethod
    def _implicit_tls(cls, data: Any) -> Any:
        # `ssl: true` alone means implicit TLS; starttls then defaults off rather than
        # making the user write `starttls: false` to avoid the conflict below.
        if isinstance(data, dict) and data.get("ssl") is True and "starttls" not in data:
            return {**data, "starttls": False}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise invalid("ssl and starttls are exclusive", "ssl: true for port 465, else starttls")
        if (self.username_env is None) != (self.password_env is None):
            raise invalid(
                "give both username_env and password_env, or neither",
                "they name the environment variables holding the SMTP login",
            )
        return self


class EmailConfig(BaseModel):
    """``email``: absent means nothing is sent. Exactly one of ``smtp`` (send) or
    ``outbox`` (a folder for ``.eml`` files, resolved against the config's folder).
    Beyond DESIGN.md: ``max_message_bytes`` (default 10 MiB): a message larger than this is
    not sent; the run fails with an error naming the report, before any server bounces it.
    ``corrections``: what a rerun does for a recipient whose report's content changed
    since it was emailed: ``send`` it as a correction (default) or ``hold`` (report only)."""

    model_config = MODEL_CONFIG

    from_addr: str = Field(alias="from")
    smtp: SmtpConfig | None = None
    outbox: Path | None = None
    max_message_bytes: PositiveInt = 10 * 1024 * 1024
    corrections: Literal["send", "hold"] = "send"

    @field_validator("from_addr", mode="before")
    @classmethod
    def _from(cls, value: Any) -> Any:
        return email_address(value, allow_display_name=True)

    @field_validator("outbox", mode="before")
    @classmethod
    def _outbox(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else resolve_path(value, info, "outbox folder")

    @model_validator(mode="after")
    def _one_transport(self) -> EmailConfig:
        if (self.smtp is None) == (self.outbox is None):
            problem = "both smtp and outbox" if self.smtp else "neither smtp nor outbox"
            raise invalid(
                f"has {problem}",
                "give smtp: {host: ...} to send, or outbox: outbox/ to write .eml files",
            )
        return self


class PdfOptions(BaseModel):
    """``pdf`` (beyond DESIGN.md): ``page_size`` ``A4`` (default) or ``Letter``; ``pdfa``
    for archival PDF/A-3b output."""

    model_config = MODEL_CONFIG

    page_size: Literal["A4", "Letter"] = "A4"
    pdfa: StrictBool = False

    @field_validator("page_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        sizes = {"a4": "A4", "letter": "Letter"}
        if isinstance(value, str) and value.strip().lower() in sizes:
            return sizes[value.strip().lower()]
        raise invalid(f"unknown page size {show_value(value)}", "use A4 or Letter")


class SigningConfig(BaseModel):
    """``signing``: absent means nothing is signed. ``pkcs12_env`` / ``password_env`` name
    the environment variables holding the PKCS#12 file's path and its password (read by
    `reporting.signing.load_signing_key`); ``timestamp_url`` an RFC 3161 time-stamping
    service for PAdES B-T, else B-B."""

    model_config = MODEL_CONFIG

    pkcs12_env: str = "ATTENDANCE_SIGNING_P12"
    password_env: str = "ATTENDANCE_SIGNING_PASSWORD"  # noqa: S105 - a variable name
    timestamp_url: str | None = None

    @field_validator("pkcs12_env", "password_env", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return env_name(value)

    @field_validator("timestamp_url", mode="before")
    @classmethod
    def _timestamp_url(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and re.match(r"^https?://[^\s/?#]+[^\s]*$", value.strip()):
            return value.strip()
        raise invalid(
            f"expected an http:// or https:// URL, got {show_value(value)}",
            "the address of an RFC 3161 time-stamping service, or leave it out",
        )


class Config(BaseModel):
    """A validated config; every relative path is already absolute (resolved against
    the config file's folder) and ``output_dir`` has ``{period}`` substituted.

    Top-level keys beyond DESIGN.md: ``templates`` (a folder whose files override the
    shipped templates) and ``pdf`` (see :class:`PdfOptions`). ``period`` defaults to
    ``last-month``, ``output.dir`` to ``reports/{period}`` and ``store`` to
    ``.attendance/store.sqlite``.
    """

    model_config = MODEL_CONFIG

    source: Path
    config_hash: str
    timezone: str
    period: Period = Field(default="last-month", validate_default=True)  # type: ignore[assignment]
    webex: WebexConfig = Field(default_factory=WebexConfig)
    meetings: tuple[MeetingEntry, ...]
    rules: Rules = Field(default_factory=Rules)
    roster: Path | None = None
    roster_phone_region: str | None = None  # rule 12: reads national-form roster phones
    overrides: Path | None = None  # rule 13: the reviewers' decisions (CSV)
    reports: tuple[ReportSpec, ...] = ()
    output_dir: Path = Field(Path("reports/{period}"), alias="output", validate_default=True)
    # `output.mode` in the file (moved here by `_output_mode`): the mode of every output.
    output_mode: int = DEFAULT_MODE
    email: EmailConfig | None = None
    store: Path = Field(Path(".attendance/store.sqlite"), validate_default=True)
    templates: Path | None = None
    pdf: PdfOptions = Field(default_factory=PdfOptions)
    signing: SigningConfig | None = None

    # file:line of each key path, for messages raised after loading (resolve_token).
    _display: str = PrivateAttr(default="")
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def location(self, *keys: str | int) -> str:
        """``configs/x.yaml:7`` for a key path such as ``("webex", "token_env")``; the
        nearest enclosing key's line when the key itself was left to its default."""
        display = self._display or str(self.source)
        line = line_for(tuple(keys), self._lines)
        return f"{display}:{line}" if line else display

    @model_validator(mode="after")
    def _recipients_need_email(self) -> Config:
        if self.email is None:
            for index, spec in enumerate(self.reports):
                if spec.email_to:
                    raise LocatedError(
                        ("reports", index, "email_to"),
                        "recipients are listed but the config has no `email:` section, so "
                        "nothing would be sent",
                        "add email: with from: and smtp: (or outbox: folder/), or remove email_to",
                    )
        return self

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return ZoneInfo(value.strip()).key
            except (ZoneInfoNotFoundError, ValueError):
                pass
        guess = suggest(str(value), zone_names())
        raise invalid(
            f"unknown time zone {show_value(value)}",
            (f"did you mean {guess!r}? " if guess else "")
            + "use an IANA name such as Europe/Berlin",
        )

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any, info: ValidationInfo) -> Any:
        ctx = context_of(info)
        # A broken timezone is reported on its own line; still check the period's shape.
        zone = ZoneInfo(info.data.get("timezone", "UTC"))
        parsed = parse_period(value, zone, ctx.get("now"))
        override = ctx.get("period_override")
        if isinstance(override, Period):
            return override.in_zone(zone, option="--period")
        if isinstance(override, tuple):
            return Period.between(override[0], override[1], zone, option="--from/--to")
        return parsed

    @field_validator("meetings", mode="before")
    @classmethod
    def _meetings(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)) and not value:
            raise invalid("no meetings listed", "add at least one entry: - id: <meeting id>")
        if isinstance(value, (list, tuple)):
            _no_duplicates(value, "meetings", "id", "meeting id", casefold=False)
        return value

    @field_validator("roster", mode="before")
    @classmethod
    def _roster(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else roster_path(value, info)

    @field_validator("roster_phone_region", mode="before")
    @classmethod
    def _phone_region(cls, value: Any) -> Any:
        from reporting.phones import is_region

        if value is None:
            return None
        if isinstance(value, str) and is_region(value.strip().upper()):
            return value.strip().upper()
        raise invalid(
            f"unknown phone region {show_value(value)}",
            "use the ISO 3166 code of the roster numbers' country, such as DE or US",
        )

    @field_validator("overrides", mode="before")
    @classmethod
    def _overrides(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        return existing_file(value, info, "overrides file", "overrides file")

    @field_validator("reports", mode="before")
    @classmethod
    def _reports(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            # Case-insensitive: on macOS / Windows two names differing in case are one file.
            _no_duplicates(value, "reports", "name", "report name", casefold=True)
        return value

    @model_validator(mode="before")
    @classmethod
    def _output_mode(cls, data: Any) -> Any:
        output = data.get("output") if isinstance(data, dict) else None
        if not isinstance(output, dict) or "mode" not in output:
            return data
        try:
            mode = parse_mode(output["mode"])
        except ValueError as exc:
            raise LocatedError(("output", "mode"), str(exc), 'e.g. mode: "0640"') from None
        rest = {key: value for key, value in output.items() if key != "mode"}
        return {**data, "output": rest, "output_mode": mode}

    @field_validator("output_dir", mode="before")
    @classmethod
    def _output(cls, value: Any, info: ValidationInfo) -> Any:
        where: Loc = ("output",)
        if isinstance(value, dict):
            where = ("output", "dir")
            value = value.get("dir", "reports/{period}")
            if not isinstance(value, str) or not value.strip():
                raise LocatedError(where, f"expected a folder path, got {show_value(value)}")
        elif not isinstance(value, Path):
            raise invalid(
                f"expected a mapping, got {show_value(value)}",
                "write output: {dir: reports/{period}}",
            )
        text = str(value)
        period = info.data.get("period")
        label = period.label if isinstance(period, Period) else "period"
        text = text.replace("{period}", label)
        stray = re.search(r"\{[^}]*\}", text)
        if stray:
            raise LocatedError(
                where, f"unknown placeholder {stray.group(0)}", "only {period} is substituted"
            )
        return resolve_path(text, info, "output folder")

    @field_validator("store", mode="before")
    @classmethod
    def _store(cls, value: Any, info: ValidationInfo) -> Any:
        return resolve_path(value, info, "store file")

    @field_validator("templates", mode="before")
    @classmethod
    def _templates(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        path = resolve_path(value, info, "templates folder")
        if checks_files(info) and not path.is_dir():
            raise invalid(
                f"templates folder not found: {path}",
                "the path is relative to the config file's folder; leave `templates` out "
                "to use the shipped templates",
            )
        return path


def _no_duplicates(items: Any, list_key: str, key: str, what: str, *, casefold: bool) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        raw = item.get(key) if isinstance(item, dict) else getattr(item, key, None)
        if not isinstance(raw, str):
            continue
        norm = raw.strip().casefold() if casefold else raw.strip()
        if norm in seen:
            raise LocatedError(
                (list_key, index, key),
                f"duplicate {what} {raw.strip()!r} (also at {list_key}[{seen[norm]}])",
                "each entry must be unique; remove or rename one",
            )
        seen[norm] = index
