"""How data schemas fit tables: normalisation and merge rules (pure functions)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakebed.catalog.schema import conform, normalize_schema, plan_merge
from lakebed.errors import SchemaError

TABLE = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("score", pa.float32()),
        ("price", pa.decimal128(10, 2)),
        ("name", pa.string()),
    ]
)


def test_normalize_maps_to_types_iceberg_stores() -> None:
    schema = pa.schema(
        [
            ("a", pa.uint8()),
            ("b", pa.uint64()),
            ("c", pa.float16()),
            ("d", pa.large_list(pa.large_string())),
            ("e", pa.time64("ns")),
            ("f", pa.date64()),
            ("g", pa.struct([("x", pa.int16())])),
            ("h", pa.large_binary()),
        ]
    )
    assert normalize_schema(schema) == pa.schema(
        [
            ("a", pa.int32()),
            ("b", pa.int64()),
            ("c", pa.float32()),
            ("d", pa.list_(pa.string())),
            ("e", pa.time64("us")),
            ("f", pa.date32()),
            ("g", pa.struct([("x", pa.int32())])),
            ("h", pa.binary()),
        ]
    )


def test_unsupported_types_name_the_column() -> None:
    with pytest.raises(SchemaError, match=r"'span'.*duration"):
        normalize_schema(pa.schema([("span", pa.duration("s"))]))
    with pytest.raises(SchemaError, match=r"'huge'.*38 digits"):
        normalize_schema(pa.schema([("huge", pa.decimal256(50, 2))]))
    with pytest.raises(SchemaError, match="differ only by case"):
        normalize_schema(pa.schema([("a", pa.int64()), ("A", pa.int64())]))


def test_merge_plan_adds_and_widens() -> None:
    data = pa.schema(
        [
            ("id", pa.int32()),  # narrower: cast up, the table keeps int64
            ("score", pa.float64()),  # wider: the table column widens
            ("price", pa.decimal128(12, 2)),  # more precision: widens
            ("tag", pa.string()),  # new: added as nullable
        ]
    )
    plan = plan_merge(TABLE, data, "db.t")
    assert plan.widen == {"score": pa.float64(), "price": pa.decimal128(12, 2)}
    assert [(f.name, f.nullable) for f in plan.add] == [("tag", True)]
    assert plan.target.names == ["id", "score", "price", "name", "tag"]


@pytest.mark.parametrize(
    ("column", "arrow_type"),
    [
        ("id", pa.string()),
        ("id", pa.float64()),
        ("name", pa.int64()),
        ("price", pa.decimal128(12, 4)),
    ],
)
def test_incompatible_changes_name_the_column(column: str, arrow_type: pa.DataType) -> None:
    with pytest.raises(SchemaError, match=f"column '{column}' of table db.t") as err:
        plan_merge(TABLE, pa.schema([(column, arrow_type)]), "db.t")
    assert err.value.fix and column in err.value.fix


def test_conform_fills_casts_and_checks_required() -> None:
    data = pa.table({"name": ["a", "b"], "id": pa.array([1, 2], pa.int32())})
    out = conform(data, TABLE, "db.t")
    assert out.schema == TABLE
    assert out.column("score").to_pylist() == [None, None]
    assert out.column("id").to_pylist() == [1, 2]
    with pytest.raises(SchemaError, match="lacks column 'id'"):
        conform(pa.table({"name": ["a"]}), TABLE, "db.t")
    with pytest.raises(SchemaError, match="'id' has 1 null"):
        conform(pa.table({"id": pa.array([1, None], pa.int64())}), TABLE, "db.t")
    overflow = pa.table({"id": pa.array([2**63], pa.uint64())})
    with pytest.raises(SchemaError, match="'id' cannot be stored"):
        conform(overflow, TABLE, "db.t")
