"""The config file: YAML → validated, frozen models; every error names file, line and key.

What users write is documented in DESIGN.md ("The config"); the models also accept the
keys the architecture adds (see each model's docstring). Loading (`loader`) happens in
three passes so that every problem can be reported as ``file:line: key.path: problem
(how to fix)``:

1. PyYAML composes the node tree (`yaml_reader`); the line of every mapping key and
   sequence item is recorded under its key path (``("meetings", 0, "roster")``).
2. The node tree is checked against the keys the models accept (`keys`), so an unknown
   key gets a "did you mean" hint and the exact line before pydantic sees anything.
3. Pydantic validates (`schema`, `rules`, `entries`, `period`: the models, the only place
   a default is written); each error's ``loc`` is a key path, looked up in the line table.

Secrets never enter a config: only the *names* of environment variables do. The values are
read at run time by `secrets`, the one module that reads them.

Every public name is importable from ``reporting.config`` itself.
"""

from __future__ import annotations

from reporting.config.entries import MatchSpec, MeetingEntry, ReportSpec
from reporting.config.loader import load_config
from reporting.config.period import Period, parse_period_arg
from reporting.config.rules import Rules, Threshold, parse_threshold
from reporting.config.schema import (
    Config,
    EmailConfig,
    OAuthConfig,
    PdfOptions,
    SigningConfig,
    SmtpConfig,
    WebexConfig,
)
from reporting.config.secrets import (
    OAuthCredentials,
    SmtpCredentials,
    WebexCredentials,
    resolve_oauth,
    resolve_smtp_credentials,
    resolve_token,
    webex_credentials,
)
from reporting.config.values import (
    COMPLIANCE,
    DEFAULT_BASE_URL,
    SANDBOX,
    format_duration,
    parse_duration,
)

__all__ = [
    "COMPLIANCE",
    "DEFAULT_BASE_URL",
    "SANDBOX",
    "Config",
    "EmailConfig",
    "MatchSpec",
    "MeetingEntry",
    "OAuthConfig",
    "OAuthCredentials",
    "PdfOptions",
    "Period",
    "ReportSpec",
    "Rules",
    "SigningConfig",
    "SmtpConfig",
    "SmtpCredentials",
    "Threshold",
    "WebexConfig",
    "WebexCredentials",
    "format_duration",
    "load_config",
    "parse_duration",
    "parse_period_arg",
    "parse_threshold",
    "resolve_oauth",
    "resolve_smtp_credentials",
    "resolve_token",
    "webex_credentials",
]
