"""WHERE clause → pyiceberg row filter, so the catalog plans only the files that can match.

The filter only prunes files (by partition values and column statistics); DuckDB still applies
the full WHERE clause to every row it reads. A pushed predicate must therefore hold for every row
the query keeps. That is true of the simple, null-rejecting predicates chosen here: comparisons,
IN and BETWEEN of one column of this table against literals, taken from the top-level AND of the
WHERE clause of the SELECT whose FROM/JOIN names the table. Anything else is left out: when
unsure, push nothing (correctness first). Literals are checked against the column's Arrow type
so that pyiceberg reads them exactly as DuckDB does (no lossy number or time conversions).
"""

from __future__ import annotations

import re

import pyarrow as pa
from sqlglot import exp

_OPS: dict[type[exp.Expr], str] = {
    exp.EQ: "=",
    exp.NEQ: "!=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}
_FLIPPED = {"=": "=", "!=": "!=", ">": "<", ">=": "<=", "<": ">", "<=": ">="}
_TIMESTAMP_TYPES = (
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.TIMESTAMPNTZ,
    exp.DataType.Type.TIMESTAMPLTZ,
    exp.DataType.Type.DATETIME,
)
_INT_RE = re.compile(r"^-?\d+$")
_NUM_RE = re.compile(r"^-?\d+(\.\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TS_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?))?$")


def pushdown_filter(table: exp.Table, schema: pa.Schema) -> str | None:
    """A pyiceberg filter string implied by the query's WHERE clause for ``table``, or None."""
    select = _enclosing_select(table)
    if select is None:
        return None
    where = select.args.get("where")
    if not isinstance(where, exp.Where):
        return None
    sole_source = not select.args.get("joins") and not select.args.get("laterals")
    qualifier = (table.alias_or_name or "").lower()
    columns = {field.name.lower(): field for field in schema}
    parts: list[str] = []
    for conjunct in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        rendered = _predicate(conjunct, qualifier, sole_source, table, columns)
        if rendered is not None:
            parts.append(rendered)
    return " and ".join(parts) if parts else None


def has_where(table: exp.Table) -> bool:
    """True when the SELECT that reads ``table`` has a WHERE clause (something to push)."""
    select = _enclosing_select(table)
    return select is not None and isinstance(select.args.get("where"), exp.Where)


def _enclosing_select(table: exp.Table) -> exp.Select | None:
    holder = table.parent
    if isinstance(holder, exp.From | exp.Join):
        select = holder.parent
        if isinstance(select, exp.Select):
            return select
    return None


def _predicate(
    node: exp.Expr,
    qualifier: str,
    sole_source: bool,
    table: exp.Table,
    columns: dict[str, pa.Field],
) -> str | None:
    node = _unparen(node)
    if type(node) in _OPS:
        assert isinstance(node, exp.Binary)
        left, right, op = _unparen(node.left), _unparen(node.right), _OPS[type(node)]
        if not isinstance(left, exp.Column):
            left, right, op = right, left, _FLIPPED[op]
        field = _own_column(left, qualifier, sole_source, table, columns)
        value = _literal(right, field.type) if field is not None else None
        return f"{_ident(field.name)} {op} {value}" if field and value is not None else None
    if isinstance(node, exp.In) and not node.args.get("query") and not node.args.get("unnest"):
        field = _own_column(_unparen(node.this), qualifier, sole_source, table, columns)
        if field is None or not node.expressions:
            return None
        values = [_literal(_unparen(item), field.type) for item in node.expressions]
        if any(v is None for v in values):
            return None
        return f"{_ident(field.name)} in ({', '.join(v for v in values if v is not None)})"
    if isinstance(node, exp.Between) and not node.args.get("symmetric"):
        field = _own_column(_unparen(node.this), qualifier, sole_source, table, columns)
        if field is None:
            return None
        low = _literal(_unparen(node.args["low"]), field.type)
        high = _literal(_unparen(node.args["high"]), field.type)
        if low is None or high is None:
            return None
        name = _ident(field.name)
        return f"{name} >= {low} and {name} <= {high}"
    return None


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _own_column(
    node: exp.Expr,
    qualifier: str,
    sole_source: bool,
    table: exp.Table,
    columns: dict[str, pa.Field],
) -> pa.Field | None:
    """The schema field ``node`` names, if it surely is a column of ``table``."""
    if not isinstance(node, exp.Column) or not isinstance(node.this, exp.Identifier):
        return None
    owner = node.table.lower()
    if owner:
        if owner != qualifier:
            return None
        db = node.args.get("db")
        if db is not None and (table.alias or db.name.lower() != table.db.lower()):
            return None
    elif not sole_source:
        return None
    field = columns.get(node.name.lower())
    if field is None or '"' in field.name or "." in field.name:
        return None
    return field


def _ident(name: str) -> str:
    return f'"{name}"'


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal(node: exp.Expr, typ: pa.DataType) -> str | None:
    """The literal rendered for pyiceberg, or None when it is not a safe match for ``typ``."""
    negative = False
    if isinstance(node, exp.Neg):
        node, negative = _unparen(node.this), True
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        target = node.to
        if target.is_type(exp.DataType.Type.DATE) and pa.types.is_date32(typ):
            node = node.this
        elif target.is_type(*_TIMESTAMP_TYPES) and pa.types.is_timestamp(typ):
            if target.expressions and "." in node.this.name:
                return None  # a precision-limited cast would round the fraction
            node = node.this
        else:
            return None
    if isinstance(node, exp.Boolean):
        return ("true" if node.this else "false") if pa.types.is_boolean(typ) else None
    if not isinstance(node, exp.Literal):
        return None
    text = node.name
    if node.is_string:
        if negative:
            return None
        return _string_literal(text, typ)
    text = ("-" + text) if negative else text
    if pa.types.is_integer(typ) and not pa.types.is_unsigned_integer(typ):
        return text if _INT_RE.match(text) else None
    if pa.types.is_float64(typ) and _NUM_RE.match(text):
        return text if "." in text else text + ".0"
    return None


def _string_literal(text: str, typ: pa.DataType) -> str | None:
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return _quote(text)
    if pa.types.is_date32(typ):
        return _quote(text) if _DATE_RE.match(text) else None
    if pa.types.is_timestamp(typ):
        match = _TS_RE.match(text.strip())
        if not match:
            return None
        value = f"{match.group(1)}T{match.group(2) or '00:00:00'}"
        # The query's connection runs in UTC, so a zone-less literal means UTC there too.
        return _quote(value + "+00:00" if typ.tz else value)
    return None
