"""Fitting source rows to the table: schema changes by policy, bad values to the quarantine.

Per batch, :func:`schema_changes` compares the rows' schema with the table's:

- a new column is added (policy ``evolve``) or is an error (``strict``);
- a type Iceberg can widen in place (int → long, float → double, more decimal precision) is
  widened (``evolve``) or is an error (``strict``);
- a type that fits (narrower ints, strings of dates...) is cast;
- any other type is *incompatible*: with ``on_incompatible="error"`` the load stops with a
  :class:`SchemaError`; with ``"quarantine"`` each value is cast on its own and the rows whose
  values cannot be stored go to the quarantine with the column, the value and the reason.

Finding the bad rows bisects the batch (casting halves until single rows fail), so a batch of a
million rows with three bad values costs a few dozen casts, not a million.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from lakebed.catalog.schema import _fits, _is_widening, normalize_schema
from lakebed.errors import SchemaError
from lakebed.formats.base import BadRecord

#: Turns a row number of a part into a location for the quarantine ("row 17", "id=42").
Locator = Callable[[pa.RecordBatch, int], str]


@dataclass
class Changes:
    """How a batch's schema differs from the table's."""

    add: list[pa.Field] = field(default_factory=list)
    widen: dict[str, pa.DataType] = field(default_factory=dict)
    #: Columns whose values must be cast one by one (the type neither fits nor widens).
    incompatible: dict[str, pa.DataType] = field(default_factory=dict)

    @property
    def evolves(self) -> bool:
        return bool(self.add or self.widen)

    def describe(self) -> list[str]:
        return [f"added column {f.name} ({f.type})" for f in self.add] + [
            f"widened column {n} to {t}" for n, t in self.widen.items()
        ]


def schema_changes(
    table: pa.Schema, data: pa.Schema, *, ident: str, source: str, policy: str, on_incompatible: str
) -> Changes:
    """Compare ``data`` (from ``source``) with the ``table`` schema, applying the policies."""
    changes = Changes()
    by_lower = {name.lower(): name for name in table.names}
    for incoming in normalize_schema(data):
        name = incoming.name
        if name not in table.names:
            if name.lower() in by_lower:
                raise SchemaError(
                    f"column {name!r} of {source} differs only by case from column "
                    f"{by_lower[name.lower()]!r} of table {ident}",
                    fix=f"rename it to {by_lower[name.lower()]!r} at the source",
                )
            if policy == "strict":
                raise SchemaError(
                    f"{source} has column {name!r}, which table {ident} lacks (schema policy "
                    "'strict')",
                    fix="add the column to the table, or load with schema_policy='evolve'",
                )
            changes.add.append(pa.field(name, incoming.type, nullable=True))
            continue
        current = table.field(name).type
        if _fits(incoming.type, current) or incoming.type.equals(current):
            continue
        if _is_widening(current, incoming.type):
            if policy == "strict":
                raise SchemaError(
                    f"column {name!r} of table {ident} is {current} but {source} has "
                    f"{incoming.type} (schema policy 'strict')",
                    fix="widen the column first, or load with schema_policy='evolve'",
                )
            changes.widen[name] = incoming.type
            continue
        changes.incompatible[name] = incoming.type
    return changes


def _bad_positions(values: pa.Array, target: pa.DataType, first: int = 0) -> list[int]:
    """Positions (offset by ``first``) of the values of ``values`` that cannot cast to
    ``target``; bisects, so a few bad values among many cost few casts."""
    try:
        pc.cast(values, options=pc.CastOptions(target, allow_time_truncate=True))
        return []
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    if len(values) == 1:
        return [first]
    half = len(values) // 2
    return _bad_positions(values.slice(0, half), target, first) + _bad_positions(
        values.slice(half), target, first + half
    )


def raw_row(batch: pa.RecordBatch, row: int) -> bytes:
    """One row as JSON bytes, for the quarantine's ``raw``."""
    values = {name: batch.column(i)[row].as_py() for i, name in enumerate(batch.schema.names)}
    return json.dumps(values, default=str, ensure_ascii=False).encode()


def split_bad_values(
    batch: pa.RecordBatch,
    target: pa.Schema,
    columns: Sequence[str],
    *,
    ident: str,
    source: str,
    on_incompatible: str,
    locate: Locator,
) -> tuple[pa.RecordBatch, list[BadRecord]]:
    """``batch`` without the rows whose ``columns`` cannot be stored as ``target`` has them,
    and those rows as bad records (or a SchemaError, when ``on_incompatible="error"``)."""
    reasons: dict[int, str] = {}
    for name in columns:
        if name not in batch.schema.names:
            continue
        values = batch.column(name)
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        wanted = target.field(name).type
        for row in _bad_positions(values, wanted):
            value = values[row].as_py()
            reason = f"column {name!r}: {value!r} cannot be stored as {wanted}"
            if on_incompatible == "error":
                raise SchemaError(
                    f"{source}, {locate(batch, row)}: {reason} (table {ident} has "
                    f"{wanted}, the source {batch.schema.field(name).type})",
                    fix="clean the source, or load with on_incompatible='quarantine' to set such "
                    "rows aside",
                )
            reasons.setdefault(row, reason)
    if not reasons:
        return batch, []
    bad = [
        BadRecord(source, locate(batch, row), reason, raw_row(batch, row))
        for row, reason in sorted(reasons.items())
    ]
    keep = pa.array([i not in reasons for i in range(batch.num_rows)])
    return batch.filter(keep), bad


def without_null_keys(
    batch: pa.RecordBatch, keys: Sequence[str], source: str, locate: Locator
) -> tuple[pa.RecordBatch, list[BadRecord]]:
    """``batch`` without rows lacking a key value (a merge cannot place them), and those."""
    mask = None
    for key in keys:
        valid = pc.is_valid(batch.column(key))
        mask = valid if mask is None else pc.and_(mask, valid)
    if mask is None or pc.all(mask).as_py():
        return batch, []
    reason = f"key column(s) {', '.join(keys)}: null, so the row cannot be merged"
    bad = [
        BadRecord(source, locate(batch, i), reason, raw_row(batch, i))
        for i, ok in enumerate(mask.to_pylist())
        if not ok
    ]
    return batch.filter(mask), bad


#: The CDC operations a change row may carry (in any case): insert, update, delete.
CDC_OPS = ("I", "U", "D")


def without_bad_ops(
    batch: pa.RecordBatch, op_column: str, source: str, locate: Locator
) -> tuple[pa.RecordBatch, list[BadRecord]]:
    """``batch`` without change rows whose operation is not I, U or D (any case), and those:
    an unknown or missing operation is not guessed to be an upsert."""
    ops = batch.column(op_column)
    if not pa.types.is_string(ops.type) and not pa.types.is_large_string(ops.type):
        ops = ops.cast(pa.string())
    upper = pc.utf8_upper(ops)
    known = pc.fill_null(pc.is_in(upper, value_set=pa.array(CDC_OPS)), False)
    if pc.all(known).as_py():
        return batch, []
    bad = []
    for i, ok in enumerate(known.to_pylist()):
        if not ok:
            value = ops[i].as_py()
            what = "is null" if value is None else f"is {value!r}"
            reason = f"operation column {op_column!r} {what}, not one of I, U, D"
            bad.append(BadRecord(source, locate(batch, i), reason, raw_row(batch, i)))
    return batch.filter(known), bad
