"""Checks of what a user gives a database source: its URL and its query.

Done when the source is built, before any connection, so a typo fails at once.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from lakebed.errors import ConfigError, QueryError

_SQLGLOT_DIALECTS = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
_FIX_URL = (
    "give a SQLAlchemy URL such as postgresql://user:pass@host:5432/db, "
    "mysql://user:pass@host:3306/db or sqlite:///path/to/file.db"
)


def parse_url(url: str) -> sa.URL:
    """``url`` as a SQLAlchemy URL whose dialect is installed, or a :class:`ConfigError`."""
    try:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "postgres":  # the libpq spelling SQLAlchemy dropped
            parsed = parsed.set(drivername=parsed.drivername.replace("postgres", "postgresql", 1))
        parsed.get_dialect()
    except sa.exc.NoSuchModuleError as exc:
        scheme = url.split("://", 1)[0]
        raise ConfigError(
            f"unsupported database URL scheme {scheme!r} in {url.split('@')[-1]!r}",
            fix="use postgresql://, mysql://, mariadb:// or sqlite:/// "
            "(or install the SQLAlchemy dialect for that database)",
        ) from exc
    except sa.exc.ArgumentError as exc:
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
        raise ConfigError(f"{shown!r} is not a database URL: {exc}", fix=_FIX_URL) from exc
    return parsed


def check_query(query: str, backend: str) -> str:
    """``query`` without a trailing semicolon, if it is one SELECT; else a :class:`QueryError`."""
    import sqlglot
    from sqlglot import exp

    text = query.strip().rstrip(";").strip()
    try:
        statements = [s for s in sqlglot.parse(text, read=_SQLGLOT_DIALECTS.get(backend)) if s]
        ok = len(statements) == 1 and isinstance(statements[0], exp.Query)
    except sqlglot.errors.SqlglotError:  # SQL sqlglot does not know; the database will judge
        ok = bool(re.match(r"(?is)^(select|with)\b", text)) and ";" not in text
    if not ok:
        raise QueryError(
            f"the query for a database load must be a single SELECT, not {_short(text)!r}",
            fix="give one SELECT statement (no INSERT/UPDATE/DDL, no second statement)",
        )
    return text


def _short(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
