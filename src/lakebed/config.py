"""Typed lake configuration, resolved once at the edge and passed down.

Precedence, highest first: explicit arguments, environment variables (``LAKEBED_*``), then a
``lakebed.toml`` file (``LAKEBED_CONFIG`` names it; otherwise ``./lakebed.toml`` if present).
Unknown keys are errors, so a typo fails loudly instead of being ignored.

Environment names: ``LAKEBED_LAKE`` (or ``LAKEBED_ROOT``) and ``LAKEBED_CATALOG`` for the top
level, ``LAKEBED_<SECTION>_<KEY>`` for a section, e.g. ``LAKEBED_S3_ENDPOINT_URL``.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from lakebed.errors import ConfigError

CONFIG_FILE_NAME = "lakebed.toml"
DEFAULT_ROOT = "./lake"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class S3Config(_Section):
    """Connection to an S3-compatible store; unset values fall back to the AWS defaults."""

    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    #: Path-style addressing (``http://host/bucket/key``), what most self-hosted stores want.
    path_style: bool = True
    #: Objects at or above this size are uploaded in concurrent parts.
    multipart_threshold_mb: int = 64
    multipart_chunk_mb: int = 16
    max_concurrency: int = 8


class QueryConfig(_Section):
    """SQL engine settings."""

    dialect: str = "duckdb"
    memory_limit: str | None = None
    threads: int | None = None


class LakeConfig(_Section):
    """Everything needed to open a lake."""

    #: Storage root: a local folder, ``file://`` URL or ``s3://bucket/prefix``.
    root: str = DEFAULT_ROOT
    #: Catalog database URL (``sqlite:///path`` or ``postgresql://...``); default: SQLite
    #: inside a local lake, or under ``~/.lakebed`` for an object-store lake.
    catalog: str | None = None
    s3: S3Config = S3Config()
    query: QueryConfig = QueryConfig()

    @field_validator("root")
    @classmethod
    def _root_scheme(cls, value: str) -> str:
        if "://" in value and not value.startswith(("file://", "s3://")):
            raise ValueError(f"unsupported storage URL {value!r}; use a folder or s3://bucket")
        return value

    @property
    def is_local(self) -> bool:
        return not self.root.startswith("s3://")

    @property
    def local_root(self) -> Path:
        """The root folder of a local lake, absolute."""
        return Path(self.root.removeprefix("file://")).expanduser().resolve()

    def catalog_url(self) -> str:
        """The catalog URL in force, defaulting to a SQLite file next to the data."""
        if self.catalog:
            return self.catalog
        if self.is_local:
            return f"sqlite:///{self.local_root / '_catalog' / 'catalog.db'}"
        digest = hashlib.sha256(self.root.encode()).hexdigest()[:12]
        return f"sqlite:///{Path.home() / '.lakebed' / 'catalogs' / (digest + '.db')}"


_TOP_LEVEL_ENV = {"LAKEBED_LAKE": "root", "LAKEBED_ROOT": "root", "LAKEBED_CATALOG": "catalog"}
_SECTIONS: dict[str, type[_Section]] = {"s3": S3Config, "query": QueryConfig}


def validation_problems(exc: ValidationError, root: str) -> str:
    """A pydantic error as one line: ``field.path: message; ...`` (``root`` for the model;
    a validator's message without pydantic's "Value error, " in front)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or root}: "
        + str(err["msg"]).removeprefix("Value error, ")
        for err in exc.errors()
    )


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, key in _TOP_LEVEL_ENV.items():
        if env.get(name):
            values[key] = env[name]
    for section, model in _SECTIONS.items():
        prefix = f"LAKEBED_{section.upper()}_"
        for field in model.model_fields:
            name = prefix + field.upper()
            if env.get(name):
                values.setdefault(section, {})[field] = env[name]
    return values


def _from_file(path: Path | None, env: Mapping[str, str]) -> dict[str, Any]:
    if path is None:
        named = env.get("LAKEBED_CONFIG")
        path = Path(named) if named else Path(CONFIG_FILE_NAME)
        if not named and not path.exists():
            return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist", fix="create it or unset LAKEBED_CONFIG"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if value is None:
            continue
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def resolve_config(
    root: str | os.PathLike[str] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> LakeConfig:
    """Build the configuration from arguments, then environment, then the config file."""
    env = os.environ if env is None else env
    values = _from_file(Path(config_file) if config_file else None, env)
    values = _merge(values, _from_env(env))
    arguments = dict(overrides)
    if root is not None:
        arguments["root"] = os.fspath(root)
    values = _merge(values, arguments)
    try:
        return LakeConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid lakebed configuration: {validation_problems(exc, 'config')}",
            fix="check the key names and values in arguments, LAKEBED_* variables and lakebed.toml",
        ) from None
