"""The secrets a run uses, read from the environment here and nowhere else.

A config holds only the *names* of environment variables (``webex.token_env``,
``webex.oauth.*_env``, ``email.smtp.username_env`` / ``password_env``, ``signing.*_env``);
this module reads their values when the run needs them and, when one is missing, names
the variable and the config line that names it. No value shows in a repr.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from reporting.config.schema import Config
from reporting.config.values import SANDBOX
from reporting.errors import ConfigError

__all__ = [
    "OAuthCredentials",
    "SigningSecrets",
    "SmtpCredentials",
    "WebexCredentials",
    "resolve_oauth",
    "resolve_signing",
    "resolve_smtp_credentials",
    "resolve_token",
    "webex_credentials",
]

_OAUTH_KEYS = ("client_id_env", "client_secret_env", "refresh_token_env")


@dataclass(frozen=True)
class SmtpCredentials:
    """The SMTP login read from the environment; the password never shows in a repr.
    Unpacks as ``username, password = credentials``."""

    username: str
    password: str = field(repr=False)

    def __iter__(self) -> Iterator[str]:
        return iter((self.username, self.password))


@dataclass(frozen=True)
class OAuthCredentials:
    """A Webex integration's credentials (``webex.oauth``), as the variables hold them."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)


@dataclass(frozen=True)
class WebexCredentials:
    """What a run authenticates with: an access token, an integration that refreshes one,
    or both (the token is then used until it expires)."""

    token: str | None = field(default=None, repr=False)
    oauth: OAuthCredentials | None = None

    def with_token(self, token: str | None) -> WebexCredentials:
        return WebexCredentials(token, self.oauth)


@dataclass(frozen=True)
class SigningSecrets:
    """Where the PKCS#12 file is (``signing.pkcs12_env``) and its password."""

    path_text: str
    password: str = field(repr=False)


def _environment(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _missing(variable: str, key: str, where: str, hint: str) -> ConfigError:
    return ConfigError(f"environment variable {variable} is not set ({key} in {where})", hint=hint)


def resolve_token(config: Config, env: Mapping[str, str] | None = None) -> str | None:
    """The Webex access token from the environment variable ``webex.token_env``.

    Returns ``None`` (instead of raising) when the variable is unset and a token can be
    had otherwise: with ``base_url: sandbox`` the run mints one for the simulator, and with
    ``webex.oauth`` the client obtains one by refresh (the OAuth variables are checked
    here). Otherwise raises :class:`ConfigError` naming the variable and the key.
    """
    env = _environment(env)
    name = config.webex.token_env
    token = (env.get(name) or "").strip()
    if token:
        return token
    if config.webex.base_url == SANDBOX:
        return None
    if resolve_oauth(config, env) is not None:
        return None
    raise _missing(
        name,
        "webex.token_env",
        config.location("webex", "token_env"),
        f"export {name}=<your Webex access token>, or set webex.token_env to the "
        "variable that holds it",
    )


def resolve_oauth(config: Config, env: Mapping[str, str] | None = None) -> OAuthCredentials | None:
    """The integration of ``webex.oauth``; ``None`` without one. Raises
    :class:`ConfigError` naming the first of its variables that is unset or blank."""
    oauth = config.webex.oauth
    if oauth is None:
        return None
    env = _environment(env)
    values: list[str] = []
    for key in _OAUTH_KEYS:
        variable = getattr(oauth, key)
        # Sent as the variables hold them; only checked for being there at all.
        value = env.get(variable) or ""
        if not value.strip():
            raise _missing(
                variable,
                f"webex.oauth.{key}",
                config.location("webex", "oauth", key),
                f"export {variable}=... with your Webex integration's value",
            )
        values.append(value)
    return OAuthCredentials(values[0], values[1], values[2])


def webex_credentials(config: Config, env: Mapping[str, str] | None = None) -> WebexCredentials:
    """The token and the integration a run's client uses (either may be None in the
    sandbox, which then mints a token; see `reporting.connection`)."""
    env = _environment(env)
    return WebexCredentials(resolve_token(config, env), resolve_oauth(config, env))


def resolve_smtp_credentials(
    config: Config, env: Mapping[str, str] | None = None
) -> SmtpCredentials | None:
    """The SMTP login from ``email.smtp.username_env`` / ``password_env``; ``None`` when no
    SMTP login is configured. Raises :class:`ConfigError` naming a variable that is unset."""
    smtp = config.email.smtp if config.email is not None else None
    if smtp is None or smtp.username_env is None or smtp.password_env is None:
        return None
    env = _environment(env)
    values: list[str] = []
    for key, variable in (("username_env", smtp.username_env), ("password_env", smtp.password_env)):
        value = env.get(variable)
        if not value:
            raise _missing(
                variable,
                f"email.smtp.{key}",
                config.location("email", "smtp", key),
                f"export {variable}=... before the run, or use email.outbox to write .eml files",
            )
        values.append(value)
    return SmtpCredentials(values[0], values[1])


def resolve_signing(config: Config, env: Mapping[str, str] | None = None) -> SigningSecrets | None:
    """The signing key's location and password (``signing:``); ``None`` without
    ``signing:``. Raises :class:`ConfigError` naming a variable that is unset (an empty
    password is a password: a file without one)."""
    signing = config.signing
    if signing is None:
        return None
    env = _environment(env)
    path_text = (env.get(signing.pkcs12_env) or "").strip()
    if not path_text:
        raise _missing(
            signing.pkcs12_env,
            "signing.pkcs12_env",
            config.location("signing", "pkcs12_env"),
            f"export {signing.pkcs12_env}=<path of the PKCS#12 (.p12) file with the "
            "signing key and certificate>, or remove `signing:`",
        )
    password = env.get(signing.password_env)
    if password is None:
        raise _missing(
            signing.password_env,
            "signing.password_env",
            config.location("signing", "password_env"),
            f"export {signing.password_env}=<the PKCS#12 file's password> "
            "(an empty value for a file without one)",
        )
    return SigningSecrets(path_text, password)
