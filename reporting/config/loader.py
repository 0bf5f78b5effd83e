"""`load_config`: a config file → a validated `Config`, every error as
``file:line: key.path: problem`` with a hint (exit 2)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError

from reporting.config.keys import accepted_keys, check_keys
from reporting.config.period import Period
from reporting.config.schema import Config
from reporting.config.values import Loc, LocatedError, key_path, line_for, show_value
from reporting.config.yaml_reader import MAX_CONFIG_BYTES, check_characters, parse_yaml
from reporting.errors import ConfigError


def load_config(
    path: Path | str,
    *,
    period: Period | tuple[date, date] | None = None,
    now: datetime | None = None,
) -> Config:
    """Read, validate and resolve the config at ``path``.

    ``period`` overrides the file's ``period`` (from ``--period`` via
    :func:`parse_period_arg`, or a ``(from, to)`` date pair from ``--from/--to``); either
    way its calendar dates are anchored at midnight in the config's ``timezone``. ``now``
    is the clock for ``last-month`` (default: the current time). Raises
    :class:`ConfigError` with ``file:line: key.path: problem (how to fix)``.
    """
    display = str(path)
    source = Path(path).expanduser().absolute()
    try:
        if source.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{display}: the config is {source.stat().st_size} bytes, more than a "
                f"config can be ({MAX_CONFIG_BYTES // 1024} KiB)",
                hint="is this the right file?",
            )
        raw = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{display}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{display}: cannot read the config ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{display}: the config is not UTF-8 text (byte {exc.start})",
            hint="save the file as UTF-8",
        ) from None

    check_characters(text, display)
    data, lines = parse_yaml(text, display)
    check_keys(data.node, accepted_keys(), (), lines, display)

    context = {
        "base": source.parent,
        "now": now,
        "period_override": period,
        "check_files": True,
        "yaml": True,
    }
    payload = {**data.value, "source": source, "config_hash": hashlib.sha256(raw).hexdigest()}
    try:
        config = Config.model_validate(payload, context=context)
    except LocatedError as exc:
        raise _located(display, lines, exc.loc, exc.problem, exc.hint) from None
    except ValidationError as exc:
        raise _from_validation(exc, display, lines) from None
    except ConfigError as exc:
        # Period.between on an override: the message already names the option.
        raise exc from None
    config._display = display
    config._lines = lines
    return config


def _located(
    display: str, lines: dict[Loc, int], loc: Loc, problem: str, hint: str | None
) -> ConfigError:
    line = line_for(loc, lines) or 1
    return ConfigError(f"{display}:{line}: {key_path(loc)}: {problem}", hint=hint or None)


# Pydantic error types → the words a config author understands.
_TYPE_WORDS = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
}


def _from_validation(exc: ValidationError, display: str, lines: dict[Loc, int]) -> ConfigError:
    errors = exc.errors(include_url=False)
    # Report the problem nearest the top of the file: fixing top-down is how people work.
    first = min(
        enumerate(errors),
        key=lambda pair: (line_for(tuple(pair[1]["loc"]), lines) or 0, pair[0]),
    )[1]
    loc: Loc = tuple(first["loc"])
    kind = first["type"]
    ctx = first.get("ctx") or {}
    value = first.get("input")
    secret_ish = any(isinstance(p, str) and p.endswith("_env") for p in loc)
    shown = "" if secret_ish else f", got {show_value(value)}"
    hint: str | None = None
    if kind == "config":
        problem, hint = str(ctx.get("message")), str(ctx.get("hint") or "") or None
    elif kind == "missing":
        problem = "required key is missing"
        hint = _MISSING_HINTS.get(str(loc[-1]) if loc else "")
    elif kind in _TYPE_WORDS:
        problem = _TYPE_WORDS[kind] + shown
        if kind in ("tuple_type", "list_type"):
            hint = "write [a, b] or one `- item` per line"
        elif loc[:1] == ("meetings",) and len(loc) == 2:
            hint = "write each entry as `- id: <meeting id>`"
    elif kind == "greater_than":
        problem = f"must be greater than {ctx.get('gt')}{shown}"
    elif kind == "greater_than_equal":
        problem = f"must be at least {ctx.get('ge')}{shown}"
    elif kind == "less_than_equal":
        problem = f"must be at most {ctx.get('le')}{shown}"
    elif kind == "literal_error":
        problem = f"must be {ctx.get('expected')}{shown}"
    elif kind == "extra_forbidden":
        problem = "unknown key"
    elif kind == "value_error":
        problem = str(first["msg"]).removeprefix("Value error, ")
    else:
        problem = str(first["msg"])
    return _located(display, lines, loc, problem, hint)


_MISSING_HINTS = {
    "timezone": "add e.g. timezone: Europe/Berlin",
    "meetings": "add a meetings: list with at least one `- id: <meeting id>`",
    "id": "every meetings entry needs `id: <meeting id>` or `match:`",
    "name": "every report needs `name:` (the file stem of its outputs)",
    "audience": "every report needs `audience:` (compliance, or e.g. summary)",
    "from": "add from: attendance@example.com",
    "host": "add host: smtp.example.com",
}
