"""The main job: the quickstart builds, crawls, converts and queries the demo lake, and every
malformed record of the generated dataset is accounted for in the quarantine."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

import lakebed
from lakebed.demo.dataset import generate
from lakebed.demo.quickstart import run_quickstart


def test_generated_dataset_is_messy_multi_format_and_seeded(tmp_path: Path) -> None:
    first = generate(tmp_path / "a")
    second = generate(tmp_path / "b")
    suffixes = {p.name.split(".", 1)[1] for p in first.files}
    assert suffixes == {"jsonl", "jsonl.gz", "csv", "avro", "parquet", "png"}
    assert first.bad_json_lines == 15
    assert first.malformed_csv_rows == 10
    for a, b in zip(first.files, second.files, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_quickstart_end_to_end(tmp_path: Path) -> None:
    lake = lakebed.open(tmp_path / "demo-lake", env={})
    shown: dict[str, pa.Table] = {}
    report = run_quickstart(lake, say=lambda _line: None, show=shown.__setitem__)

    assert sorted(lake.tables("shop")) == [
        "shop._quarantine",
        "shop.clickstream",
        "shop.customers",
        "shop.inventory",
        "shop.products",
        "shop.transactions",
    ]
    counts = lake.sql(
        "SELECT (SELECT count(*) FROM shop.transactions) AS transactions, "
        "(SELECT count(*) FROM shop.clickstream) AS clicks, "
        "(SELECT count(*) FROM shop.customers) AS customers"
    ).to_pylist()[0]
    assert counts == {"transactions": 12_500, "clicks": 19_985, "customers": 2_000}

    # Every malformed CSV row and truncated JSON line is in the quarantine, with its reason.
    quarantined = lake.sql(
        "SELECT target, count(*) AS n FROM shop._quarantine GROUP BY target ORDER BY target"
    ).to_pylist()
    assert quarantined == [
        {"target": "shop.clickstream", "n": 15},
        {"target": "shop.transactions", "n": 10},
    ]
    step = next(s for s in report.steps if s["step"].startswith("convert"))
    assert step["quarantined_records"] == 25

    revenue = shown["Revenue by product category (transactions x products)"]
    assert revenue.num_rows == 6
    travel = next(s for s in report.steps if s["step"] == "time travel")
    assert (travel["now"], travel["then"]) == (301, 300)
    assert any(title.startswith("S3 Select-style") for title in shown)

    # The app database: 301 SKUs loaded, then only the 5 updated and 3 new rows merged.
    loaded = next(s for s in report.steps if s["step"].startswith("ingest app database"))
    assert (loaded["first_rows"], loaded["second_rows"], loaded["table_rows"]) == (301, 8, 304)

    # The feature recipe: published fitted, applied, then split by customer with no overlap.
    features = next(s for s in report.steps if s["step"].startswith("recipe: features"))
    assert features["version"] == 1 and features["rows"] == 12_500
    assert sum(features["splits"].values()) == 12_500
    customers = [
        set(lake.sql(f"SELECT DISTINCT customer_id FROM ml.purchases_{name}").column(0).to_pylist())
        for name in ("train", "validation", "test")
    ]
    assert not (customers[0] & customers[1] or customers[0] & customers[2])
    assert "country_US" in lake.table("ml.purchases").schema.names
    fitted = lake.recipes.get("purchase-features")
    assert fitted.fitted_on == "shop.transactions" and fitted.fitted
