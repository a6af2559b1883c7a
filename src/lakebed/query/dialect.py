"""Parsing and transpiling SQL dialects with sqlglot, and time-travel clauses.

Users write Athena, Trino, Spark or DuckDB SQL; DuckDB runs it. sqlglot parses the text in the
user's dialect into one syntax tree, lakebed rewrites table references in that tree, and sqlglot
writes it back out as DuckDB SQL. DuckDB has no ``FOR VERSION AS OF`` clause, so time travel is
lifted out of the tree here and answered by the catalog instead.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from lakebed.errors import QueryError
from lakebed.query.sources import helper_connection

_PLACEHOLDER = "__lakebed_cte_"
#: Longer statements (INSERT ... VALUES with many rows) are parsed every time, not kept.
_CACHED_QUERY_CHARS = 20_000

#: Dialects users may write in; the key is what callers pass, the value sqlglot's name.
DIALECTS: dict[str, str] = {
    "duckdb": "duckdb",
    "athena": "athena",
    "trino": "trino",
    "presto": "presto",
    "spark": "spark",
    "ansi": "",
}


def sqlglot_dialect(dialect: str) -> str:
    """sqlglot's name for ``dialect``; ConfigError-style QueryError for an unknown one."""
    key = dialect.lower()
    if key not in DIALECTS:
        raise QueryError(
            f"unknown SQL dialect {dialect!r}",
            fix=f"use one of: {', '.join(sorted(DIALECTS))}",
        )
    return DIALECTS[key]


def parse(query: str, dialect: str = "duckdb") -> exp.Expr:
    """Parse exactly one SQL statement written in ``dialect``; a tree the caller may change.

    Raises QueryError carrying the parser's message and the line/column where it failed.
    Trees of recent queries are kept (a parse is a pure function of the text), so running the
    same text again costs a copy instead of a parse.
    """
    read = sqlglot_dialect(dialect)
    if not query or not query.strip():
        raise QueryError("the SQL query is empty", fix="pass a statement such as SELECT 1")
    if len(query) > _CACHED_QUERY_CHARS:
        return _parse_one(query, read, dialect)
    return _parse_cached(query, read, dialect).copy()


def _parse_one(query: str, read: str, dialect: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(query, read=read or None) if s is not None]
    except ParseError as err:
        raise QueryError(_describe_parse_error(err, query), fix=_fix_for(dialect)) from err
    except SqlglotError as err:
        raise QueryError(f"invalid SQL: {err}", fix=_fix_for(dialect)) from err
    if not statements:
        raise QueryError("the SQL query is empty", fix="pass a statement such as SELECT 1")
    if len(statements) > 1:
        raise QueryError(
            f"expected one SQL statement, got {len(statements)}",
            fix="run each statement in its own call",
        )
    return statements[0]


_parse_cached = functools.lru_cache(maxsize=256)(_parse_one)


def _fix_for(dialect: str) -> str:
    return f"correct the SQL at that position (parsed as the {dialect!r} dialect)"


def _describe_parse_error(err: ParseError, query: str) -> str:
    details = err.errors[0] if err.errors else {}
    description = details.get("description") or str(err).splitlines()[0]
    line, col = details.get("line"), details.get("col")
    if line is None or col is None:
        return f"invalid SQL: {description}"
    text_lines = query.splitlines() or [query]
    near = text_lines[line - 1].strip() if 0 < line <= len(text_lines) else ""
    where = f"line {line}, column {col}"
    return f"invalid SQL at {where}: {description}" + (f" (near: {near!r})" if near else "")


def to_duckdb(tree: exp.Expr, ctes: Mapping[str, str] | None = None) -> str:
    """The tree as DuckDB SQL, with ``ctes`` (name → SELECT text) defined before its own.

    Each CTE is written ``NOT MATERIALIZED``, so DuckDB inlines it and pushes the query's
    filters and projections into it. The texts go in after generation (behind placeholders),
    so sqlglot never parses them; a tree that cannot hold a WITH raises QueryError.
    """
    placeholders: dict[str, str] = {}
    if ctes:
        if not isinstance(tree, exp.Query):
            raise QueryError(
                f"cannot name the tables read by a {type(tree).__name__} statement",
                fix="write the statement as a SELECT",
            )
        defined = []
        for index, (name, sql) in enumerate(ctes.items()):
            marker = f"{_PLACEHOLDER}{index}"
            placeholders[f"(SELECT 1 AS {marker})"] = f"({sql})"
            defined.append(
                exp.CTE(
                    this=exp.select(exp.alias_(exp.Literal.number(1), marker)),
                    alias=exp.TableAlias(this=exp.to_identifier(name, quoted=True)),
                    materialized=False,
                )
            )
        existing = tree.args.get("with_")
        if existing is None:
            tree.set("with_", exp.With(expressions=defined))
        else:
            existing.set("expressions", [*defined, *existing.expressions])
    try:
        text = tree.sql(dialect="duckdb")
    except SqlglotError as err:
        raise QueryError(
            f"cannot translate the query to DuckDB SQL: {err}",
            fix="rewrite the unsupported part, or pass dialect='duckdb' with DuckDB syntax",
        ) from err
    for placeholder, sql in placeholders.items():
        if text.count(placeholder) != 1:  # pragma: no cover - sqlglot changed its output
            raise QueryError(f"internal error: cannot place {placeholder} in {text!r}")
        text = text.replace(placeholder, sql)
    return text


@dataclass(frozen=True)
class TimeTravel:
    """Which snapshot a table reference asks for: an id, a point in time, or neither."""

    snapshot_id: int | None = None
    as_of: datetime | None = None


def pop_time_travel(table: exp.Table) -> TimeTravel:
    """Remove a ``FOR VERSION/TIMESTAMP AS OF`` clause from ``table`` and return what it asked.

    sqlglot parses Trino/Athena ``FOR VERSION AS OF 123``, ``FOR TIMESTAMP AS OF TIMESTAMP
    '...'`` (and ``FOR SYSTEM_TIME``/``SYSTEM_VERSION``) and Spark ``VERSION AS OF`` /
    ``TIMESTAMP AS OF`` into one ``Version`` node.
    """
    version = table.args.get("version")
    if not isinstance(version, exp.Version):
        return TimeTravel()
    table.set("version", None)
    name = table.sql()
    kind = str(version.args.get("kind") or "").upper()
    if kind != "AS OF":
        raise QueryError(
            f"time travel {kind or 'clause'!s} on {name} is not supported",
            fix="use FOR VERSION AS OF <snapshot id> or FOR TIMESTAMP AS OF TIMESTAMP '...'",
        )
    what = str(version.this).upper()
    value = version.args.get("expression")
    if not isinstance(value, exp.Expr):
        raise QueryError(f"time travel on {name} has no value", fix="add the snapshot id")
    if "VERSION" in what:
        return TimeTravel(snapshot_id=_snapshot_id(value, name))
    if "TIMESTAMP" in what or "TIME" in what:
        return TimeTravel(as_of=evaluate_timestamp(value, name))
    raise QueryError(
        f"unknown time travel kind {what!r} on {name}",
        fix="use FOR VERSION AS OF or FOR TIMESTAMP AS OF",
    )


def _snapshot_id(value: exp.Expr, name: str) -> int:
    text = value.name if isinstance(value, exp.Literal) else value.sql()
    if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal):
        text = "-" + value.this.name
    try:
        return int(text)
    except ValueError:
        raise QueryError(
            f"snapshot id {value.sql()!r} on {name} is not an integer",
            fix="use FOR VERSION AS OF <snapshot id>, an id from the table's snapshots()",
        ) from None


def evaluate_timestamp(value: exp.Expr, name: str) -> datetime:
    """Evaluate a timestamp expression (a literal, or e.g. ``now() - INTERVAL '1' DAY``) in UTC.

    DuckDB evaluates it, so every form its SQL accepts works; a value without a zone is UTC.
    """
    literal = value.this if isinstance(value, exp.Cast) else value
    if isinstance(literal, exp.Literal) and literal.is_string:
        quick = _parse_timestamp(literal.name)
        if quick is not None:
            return quick
        value = exp.cast(literal, exp.DataType.build("timestamp"))
    sql = f"SELECT epoch_us(CAST({value.sql(dialect='duckdb')} AS TIMESTAMPTZ))"
    con = helper_connection()
    try:
        row = con.execute(sql).fetchone()
    except duckdb.Error as err:
        raise QueryError(
            f"cannot read the time travel timestamp {value.sql()!r} on {name}: {err}",
            fix="write it as TIMESTAMP 'YYYY-MM-DD HH:MM:SS' (UTC)",
        ) from err
    finally:
        con.close()
    if row is None or row[0] is None:
        raise QueryError(f"the time travel timestamp on {name} is NULL", fix="give a timestamp")
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(row[0]))


def _parse_timestamp(text: str) -> datetime | None:
    """An ISO timestamp (``UTC``/``Z``/offset suffix or none, meaning UTC); None otherwise."""
    cleaned = text.strip()
    if cleaned.upper().endswith(" UTC"):
        cleaned = cleaned[:-4].strip()
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
