"""Dates on both engines: parsing messy date text and formatting with DataBrew patterns.

**Parsing policy.** Text is trimmed, then tried against these layouts in order; the first one
whose shape matches (digit counts exactly as shown) and that names a real date wins:

1. ``2024-01-15 13:45:30`` and ``2024-01-15T13:45:30``
2. ``2024-01-15 13:45``
3. ``2024-01-15``
4. ``2024/01/15``
5. ``15.01.2024`` (day first)
6. ``01/15/2024`` (month first, US)
7. ``15-01-2024`` (day first)
8. ``20240115``

Anything else (``not a date``, ``2024-13-45``, ``2024-02-30``) is NULL: invalid dates never
fail a job. DuckDB uses ``try_strptime``, Spark ``try_to_timestamp`` (timestamps without time
zone); the shape check in front makes both accept exactly the same strings.

**Formats** (``dateTimeFormat``) follow DataBrew: ``yyyy`` year, ``yy`` two-digit year, ``mm``
month, ``dd`` day, ``HH`` hour (00-23), ``MM`` minute, ``SS`` second; any other character is
copied as is. The default is ``yyyy-mm-dd HH:MM:SS``.
"""

from __future__ import annotations

from lakebed.transform.ops._dual import Dual, spark_lit
from lakebed.transform.ops.base import Ctx, literal, quote

D2 = "[0-9]{2}"
D4 = "[0-9]{4}"
LAYOUTS: tuple[tuple[str, str, str], ...] = (
    (f"{D4}-{D2}-{D2} {D2}:{D2}:{D2}", "%Y-%m-%d %H:%M:%S", "yyyy-MM-dd HH:mm:ss"),
    (f"{D4}-{D2}-{D2}T{D2}:{D2}:{D2}", "%Y-%m-%dT%H:%M:%S", "yyyy-MM-dd'T'HH:mm:ss"),
    (f"{D4}-{D2}-{D2} {D2}:{D2}", "%Y-%m-%d %H:%M", "yyyy-MM-dd HH:mm"),
    (f"{D4}-{D2}-{D2}", "%Y-%m-%d", "yyyy-MM-dd"),
    (f"{D4}/{D2}/{D2}", "%Y/%m/%d", "yyyy/MM/dd"),
    (f"{D2}\\.{D2}\\.{D4}", "%d.%m.%Y", "dd.MM.yyyy"),
    (f"{D2}/{D2}/{D4}", "%m/%d/%Y", "MM/dd/yyyy"),
    (f"{D2}-{D2}-{D4}", "%d-%m-%Y", "dd-MM-yyyy"),
    ("[0-9]{8}", "%Y%m%d", "yyyyMMdd"),
)
DEFAULT_FORMAT = "yyyy-mm-dd HH:MM:SS"
_TOKENS = (
    ("yyyy", "%Y", "yyyy"),
    ("yy", "%y", "yy"),
    ("mm", "%m", "MM"),
    ("dd", "%d", "dd"),
    ("HH", "%H", "HH"),
    ("MM", "%M", "mm"),
    ("SS", "%S", "ss"),
)


def parse_text(d: Dual, text: str) -> str:
    """A TIMESTAMP from the text expression ``text`` per the parsing policy (NULL if none)."""
    s = f"trim({text})"
    tries = []
    for shape, duck, spark in LAYOUTS:
        parsed = d.pick(
            f"try_strptime({{0}}, {literal(duck)})",
            f"CAST(try_to_timestamp({{0}}, {spark_lit(spark)}) AS TIMESTAMP_NTZ)",
            s,
        )
        tries.append(
            f"CASE WHEN regexp_matches({s}, {literal('^' + shape + '$')}) THEN {parsed} END"
        )
    return f"coalesce({', '.join(tries)})"


def to_timestamp(d: Dual, ctx: Ctx, col: str) -> str:
    """Column ``col`` (text, date or timestamp) as a TIMESTAMP; unparseable text is NULL."""
    if ctx.is_temporal(col):
        return d.pick("CAST({0} AS TIMESTAMP)", "CAST({0} AS TIMESTAMP_NTZ)", quote(col))
    return parse_text(d, f"CAST({quote(col)} AS VARCHAR)")


def value_timestamp(d: Dual, raw: str) -> str:
    """A literal date text as a TIMESTAMP (NULL when it does not parse)."""
    return parse_text(d, literal(raw))


def translate(fmt: str) -> tuple[str, str]:
    """A DataBrew ``dateTimeFormat`` as (DuckDB strftime, Spark date_format) patterns."""
    duck: list[str] = []
    spark: list[str] = []
    literal_run: list[str] = []

    def flush() -> None:
        if literal_run:
            text = "".join(literal_run)
            spark.append(
                "'" + text.replace("'", "''") + "'"
                if any(c.isalpha() for c in text)
                else text.replace("'", "''")
            )
            literal_run.clear()

    i = 0
    while i < len(fmt):
        for token, dk, sp in _TOKENS:
            if fmt.startswith(token, i):
                flush()
                duck.append(dk)
                spark.append(sp)
                i += len(token)
                break
        else:
            ch = fmt[i]
            duck.append("%%" if ch == "%" else ch)
            literal_run.append(ch)
            i += 1
    flush()
    return "".join(duck), "".join(spark)


def format_ts(d: Dual, ts: str, fmt: str | None) -> str:
    """The TIMESTAMP expression ``ts`` as text in DataBrew format ``fmt`` (default if None)."""
    duck, spark = translate(fmt or DEFAULT_FORMAT)
    return d.pick(
        f"strftime({{0}}, {literal(duck)})", f"date_format({{0}}, {spark_lit(spark)})", ts
    )
