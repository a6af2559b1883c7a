"""Reading job files (YAML or JSON) into checked :class:`~lakebed.jobs.model.Job` s.

Every problem is one :class:`~lakebed.errors.ConfigError` naming the file, the key (as a path,
``trigger.poll``) and the fix, so a typo fails when the file is loaded, not hours later when
the schedule fires. ``${VAR}`` in any string is replaced by the environment variable ``VAR``
(``${VAR:-default}`` gives a default; ``$${`` is a literal ``${``), so passwords stay out of
files.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lakebed.errors import ConfigError, LakebedError, NotFoundError
from lakebed.ingest.options import IngestOptions
from lakebed.jobs.cron import CronExpr
from lakebed.jobs.model import STEPS, Job, Trigger

JOB_KEYS = ("name", "source", "into", "schedule", "trigger", "after")
_ENV = re.compile(r"\$(\$?)\{([^}]*)\}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_job(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Job:
    """Read and check the job file at ``path`` (``.yaml``, ``.yml`` or ``.json``)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(
            f"job file {str(file)!r} does not exist", fix="pass the path of a .yaml job file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read job file {str(file)!r}: {exc}") from None
    data = _parse_text(text, str(file))
    return parse_job(data, origin=str(file), env=env, path=file)


def _parse_text(text: str, origin: str) -> Any:
    if origin.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"job file {origin!r} is not valid JSON: {exc.msg} at line {exc.lineno}",
                fix="check the JSON syntax near that line",
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(
            f"job file {origin!r} is not valid YAML{where}: {problem}",
            fix="check indentation and quoting near that line; quote values that start with "
            "* or @, e.g. schedule: '*/15 * * * *'",
        ) from None


def parse_job(
    data: Any,
    *,
    origin: str = "<job>",
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> Job:
    """Check an already-parsed job mapping; ``origin`` names it in error messages."""
    if data is None:
        raise ConfigError(
            f"job file {origin!r} is empty",
            fix="write at least 'name: ...', 'source: ...' and 'into: ...'",
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"job file {origin!r} must be a mapping of keys to values, not {type(data).__name__}",
            fix="start the file with 'name: ...', 'source: ...', 'into: ...'",
        )
    data = _substitute(data, os.environ if env is None else env, origin, "")
    for key in data:
        if not isinstance(key, str):
            raise ConfigError(f"job file {origin!r}: key {key!r} is not a string")
    job_part = {k: v for k, v in data.items() if k in JOB_KEYS}
    option_part = {k: v for k, v in data.items() if k not in JOB_KEYS}
    _check_unknown(option_part, origin)
    for required in ("name", "source", "into"):
        if required not in job_part:
            raise ConfigError(
                f"job file {origin!r} has no {required!r}",
                fix=f"add '{required}: ...' (every job needs name, source and into)",
            )
    options = _build_options(option_part, origin)
    if isinstance(job_part.get("schedule"), str):
        try:
            job_part["schedule"] = CronExpr.parse(job_part["schedule"])
        except ConfigError as exc:
            message = f"job file {origin!r}, schedule: {exc.message}"
            raise ConfigError(message, fix=exc.fix) from None
    try:
        return Job(**job_part, options=options, path=path)
    except ValidationError as exc:
        raise _validation_error(exc, origin) from None


def _substitute(value: Any, env: Mapping[str, str], origin: str, where: str) -> Any:
    if isinstance(value, str):
        return _expand(value, env, origin, where)
    if isinstance(value, list):
        return [_substitute(v, env, origin, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            k: _substitute(v, env, origin, f"{where}.{k}" if where else str(k))
            for k, v in value.items()
        }
    return value


def _expand(text: str, env: Mapping[str, str], origin: str, where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):  # $${...} is a literal ${...}
            return match.group(0)[1:]
        name, sep, default = match.group(2).partition(":-")
        if not _ENV_NAME.match(name):
            raise ConfigError(
                f"job file {origin!r}, {where}: ${{{match.group(2)}}} is not a variable name",
                fix="write ${NAME} with letters, digits and underscores, or $${ for a literal",
            )
        if name in env:
            return env[name]
        if sep:
            return default
        raise ConfigError(
            f"job file {origin!r}, {where}: environment variable {name} is not set",
            fix=f"export {name}=... before running, or write ${{{name}:-default}}",
        )

    return _ENV.sub(replace, text)


def _check_unknown(options: Mapping[str, Any], origin: str) -> None:
    known = [*JOB_KEYS, *IngestOptions.model_fields]
    for key in options:
        if key not in IngestOptions.model_fields:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"job file {origin!r}: unknown key {key!r}",
                fix=f"{hint}job keys are {', '.join(JOB_KEYS)}; any other key must be an "
                f"ingest option: {', '.join(IngestOptions.model_fields)}",
            )


def _build_options(options: Mapping[str, Any], origin: str) -> IngestOptions:
    # IngestOptions.build's checks, with the errors worded for a job file
    try:
        return IngestOptions(**options)
    except ValidationError as exc:
        raise _validation_error(exc, origin) from None


def _validation_error(exc: ValidationError, origin: str) -> ConfigError:
    problems = []
    fix = None
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, LakebedError):
            message, fix = cause.message, fix or cause.fix
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return ConfigError(f"job file {origin!r}: {'; '.join(problems)}", fix=fix or _fix_for(exc))


def _fix_for(exc: ValidationError) -> str:
    first = exc.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else ""
    fixes = {
        "name": "use lower-case letters, digits, '_' and '-' for the job name",
        "into": "name the target table as database.table, e.g. shop.orders",
        "after": f"after takes a list of: {', '.join(STEPS)}",
        "trigger": f"trigger takes {', '.join(Trigger.model_fields)}, e.g. "
        "{new_files: s3://bucket/incoming/, poll: 30s}",
        "schedule": "write a cron expression such as '*/15 * * * *' or '@hourly'",
    }
    if key in fixes:
        return fixes[key]
    return "see docs/jobs.md for job keys and `lakebed ingest --help` for the ingest options"
