"""Database and table names: parsing ``"db.table"``, validation, and "did you mean" hints.

Names are kept to SQL-friendly identifiers (letters, digits, underscore; not starting with a
digit) so that every table can be named in a query without quoting.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from lakebed.errors import ConfigError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def safe_name(text: str) -> str:
    """A valid lakebed name derived from ``text`` (for callers naming tables after folders)."""
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", text.strip()).strip("_").lower()
    if not cleaned:
        return "unnamed"
    return f"_{cleaned}" if cleaned[0].isdigit() else cleaned


def check_name(name: str, what: str) -> str:
    """Return ``name`` when it is a valid database or table name, else raise ConfigError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        suggestion = safe_name(str(name))
        raise ConfigError(
            f"invalid {what} name {name!r}: use letters, digits and underscores, "
            "not starting with a digit",
            fix=f"call it {suggestion!r}",
        )
    return name


@dataclass(frozen=True, order=True)
class TableRef:
    """A parsed table identifier: ``TableRef.parse("sales.orders")``."""

    database: str
    name: str

    @classmethod
    def parse(cls, ident: str | TableRef) -> TableRef:
        """Split and validate ``"db.table"``; ConfigError names a malformed identifier."""
        if isinstance(ident, TableRef):
            return ident
        parts = ident.split(".") if isinstance(ident, str) else []
        if len(parts) != 2:
            raise ConfigError(
                f"invalid table identifier {ident!r}: expected 'database.table'",
                fix="name tables as <database>.<table>, e.g. 'web.clicks'",
            )
        return cls(check_name(parts[0], "database"), check_name(parts[1], "table"))

    def __str__(self) -> str:
        return f"{self.database}.{self.name}"


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` candidates that look like ``word`` (case-insensitive)."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` or an empty string when nothing is close."""
    hits = close_matches(word, candidates)
    if not hits:
        return ""
    return "; did you mean " + " or ".join(repr(h) for h in hits) + "?"
