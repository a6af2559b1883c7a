"""SQL that must differ between DuckDB and Spark, written once.

Operations build their SELECT in DuckDB's dialect. Where a function has no faithful sqlglot
translation (date parsing, list lambdas, exact percentiles), :meth:`Dual.pick` takes both
spellings: on DuckDB it returns the DuckDB one; on Spark it leaves a marker that
:meth:`Dual.done` swaps for the Spark spelling after transpiling the rest, and returns
:class:`~lakebed.transform.ops.base.Native` SQL. Arguments given to ``pick`` are DuckDB
expressions; the Spark template receives them transpiled.
"""

from __future__ import annotations

from typing import Any

from lakebed.transform.ops.base import Ctx, Native, literal

_MARK = "__lb_native_{}__"


def _to_spark(sql: str) -> str:
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def _expr_to_spark(expr: str) -> str:
    out = _to_spark(f"SELECT {expr}")
    return out[len("SELECT ") :]


class Dual:
    """Collects Spark-only fragments while an operation writes DuckDB SQL."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.spark = ctx.dialect == "spark"
        self._frags: list[str] = []

    def pick(self, duck: str, spark: str, *args: str) -> str:
        """``duck`` on DuckDB, ``spark`` on Spark; ``{0}``, ``{1}``... are ``args`` (DuckDB
        expressions, transpiled for the Spark template)."""
        if not self.spark:
            return "(" + duck.format(*args) + ")"
        text = spark.format(*(_expr_to_spark(a) for a in args))
        self._frags.append(text)
        return literal(_MARK.format(len(self._frags) - 1))

    def done(self, sql: str) -> str:
        """The finished statement for the context's dialect."""
        if not self.spark:
            return sql
        out = _to_spark(sql)
        for i in reversed(range(len(self._frags))):
            out = out.replace(literal(_MARK.format(i)), "(" + self._frags[i] + ")")
        return Native(out)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a fitting query written in DuckDB's dialect (with picks); rows as dicts."""
        return self.ctx.query(self.done(sql)).to_pylist()


def num(value: float | int | None) -> str:
    """A number as a DOUBLE literal both engines read alike (NULL for None)."""
    if value is None:
        return "CAST(NULL AS DOUBLE)"
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        text = "NaN" if number != number else ("Infinity" if number > 0 else "-Infinity")
        return f"CAST('{text}' AS DOUBLE)"
    return f"CAST({number!r} AS DOUBLE)"


def spark_lit(text: str) -> str:
    """A Spark SQL string literal (Spark escapes quotes with backslashes, not by doubling)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
