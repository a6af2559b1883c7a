"""Nesting, unnesting and reshaping operations, on DuckDB (Spark parity is its own suite)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from lakebed import Lake
from lakebed.transform import Recipe
from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.pipeline import build


def run(data: pa.Table, operation: str, **params: Any) -> pa.Table:
    with DuckDBEngine() as engine:
        engine.load_arrow("input", data)
        built = build(engine, Recipe().add(operation, **params))
        return engine.to_arrow(built.relation)


PEOPLE = pa.table(
    {
        "id": [1, 2, 3],
        "tags": pa.array([["a", "b"], [], None], pa.list_(pa.string())),
        "n": [1, 2, 3],
        "x": [0.5, 1.5, None],
        "addr": pa.array(
            [{"zip": "1", "geo": {"lat": 1.0}}, {"zip": "2", "geo": {"lat": 2.0}}, None],
            pa.struct([("zip", pa.string()), ("geo", pa.struct([("lat", pa.float64())]))]),
        ),
    }
)


def test_unnest_array_keeps_rows_with_empty_or_null_arrays() -> None:
    out = run(PEOPLE, "UNNEST_ARRAY", sourceColumn="tags", targetColumn="tag")
    assert out.select(["id", "tag"]).to_pylist() == [
        {"id": 1, "tag": "a"},
        {"id": 1, "tag": "b"},
        {"id": 2, "tag": None},
        {"id": 3, "tag": None},
    ]
    assert out.column_names == ["id", "tags", "tag", "n", "x", "addr"]


def test_nest_and_unnest_struct_round_trip() -> None:
    nested = run(PEOPLE, "NEST_TO_STRUCT", sourceColumns=["n", "x"], targetColumn="s",
                 removeSourceColumns=True)  # fmt: skip
    assert nested.column("s").to_pylist()[0] == {"n": 1, "x": 0.5}
    assert "n" not in nested.column_names
    flat = run(nested, "UNNEST_STRUCT", sourceColumn="s", removeSourceColumn=True)
    assert flat.column("s.n").to_pylist() == [1, 2, 3]
    assert flat.column("s.x").to_pylist() == [0.5, 1.5, None]


def test_unnest_struct_n_flattens_levels_with_a_delimiter() -> None:
    out = run(PEOPLE, "UNNEST_STRUCT_N", sourceColumns=["addr"], unnestLevel=2, delimiter="_",
              removeSourceColumn=True)  # fmt: skip
    assert out.column_names == ["id", "tags", "n", "x", "addr_zip", "addr_geo_lat"]
    assert out.column("addr_geo_lat").to_pylist() == [1.0, 2.0, None]
    one_level = run(PEOPLE, "UNNEST_STRUCT_N", sourceColumns=["addr"])
    assert pa.types.is_struct(one_level.schema.field("addr.geo").type)


def test_nest_to_array_and_map_cast_to_a_common_type() -> None:
    arr = run(PEOPLE, "NEST_TO_ARRAY", sourceColumns=["n", "x"], targetColumn="v")
    assert arr.column("v").to_pylist() == [[1.0, 0.5], [2.0, 1.5], [3.0, None]]
    mapped = run(PEOPLE, "NEST_TO_MAP", sourceColumns=["n", "x"], targetColumn="m")
    assert dict(mapped.column("m").to_pylist()[0]) == {"n": 1.0, "x": 0.5}


def test_group_by_new_table_and_per_row() -> None:
    data = pa.table({"k": ["a", "b", "a"], "v": [1, 2, 3]})
    options = [
        {"sourceColumnName": "v", "targetColumnName": "total", "functionName": "SUM"},
        {"sourceColumnName": "v", "targetColumnName": "vs", "functionName": "COLLECT_LIST"},
    ]
    grouped = run(data, "GROUP_BY", sourceColumns=["k"], groupByAggFunctionOptions=options)
    assert grouped.to_pylist() == [
        {"k": "a", "total": 4, "vs": [1, 3]},
        {"k": "b", "total": 2, "vs": [2]},
    ]
    per_row = run(data, "GROUP_BY", sourceColumns=["k"], useNewDataFrame=False,
                  groupByAggFunctionOptions=options[:1])  # fmt: skip
    assert per_row.column("total").to_pylist() == [4, 2, 4]


def test_pivot_and_unpivot() -> None:
    data = pa.table({"k": ["a", "b", "a"], "v": [1, 2, 3]})
    pivoted = run(data, "PIVOT", sourceColumn="k", valueColumn="v", aggregateFunction="SUM")
    assert pivoted.to_pylist() == [{"a": 4, "b": 2}]
    long = run(PEOPLE.select(["id", "n", "x"]), "UNPIVOT", sourceColumns=["n", "x"],
               unpivotColumn="what", valueColumn="value")  # fmt: skip
    assert long.to_pylist()[:3] == [
        {"id": 1, "what": "n", "value": 1.0},
        {"id": 1, "what": "x", "value": 0.5},
        {"id": 2, "what": "n", "value": 2.0},
    ]


def test_join_and_union_read_other_lake_tables(lake: Lake) -> None:
    lake.create_table("ref.cities", pa.table({"city": ["Paris", "Rome"], "country": ["FR", "IT"]}))
    recipe = Recipe().add(
        "JOIN",
        joinKeys=[{"key": "city", "value": "city"}],
        joinType="INNER_JOIN",
        leftColumns=["id", "city"],
        rightColumns=["country"],
        secondaryDatasetName="ref.cities",
    )
    out = lake.recipes.apply(recipe, source="raw.people")
    assert isinstance(out, pa.Table)
    assert out.to_pylist()[:3] == [
        {"id": 1, "city": "Paris", "country": "FR"},
        {"id": 4, "city": "Rome", "country": "IT"},
        {"id": 8, "city": "Rome", "country": "IT"},
    ]
    excluded = lake.recipes.apply(
        Recipe().add("JOIN", joinKeys=[{"key": "city", "value": "city"}],
                     joinType="LEFT_EXCLUDING_JOIN", leftColumns=["id", "city"],
                     rightColumns=["country"], secondaryDatasetName="ref.cities"),
        source="raw.people",
    )  # fmt: skip
    assert isinstance(excluded, pa.Table)
    assert set(excluded.column("city").to_pylist()) == {"Berlin", "paris", None, "Madrid", "Oslo"}
    union = lake.recipes.apply(
        Recipe().add("UNION", datasetsColumns=[["city", "id"], ["city", None]],
                     secondaryDatasetNames=["ref.cities"], targetColumnNames=["place", "id"]),
        source="raw.people",
    )  # fmt: skip
    assert isinstance(union, pa.Table)
    assert union.num_rows == 22
    assert union.slice(20).to_pylist() == [
        {"place": "Paris", "id": None},
        {"place": "Rome", "id": None},
    ]
    assert lake.recipes.check(recipe, "raw.people")[-1].names == ["id", "city", "country"]
