"""The HTTP API in process: health, catalog listing, SQL, and errors mapped to status codes."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

import lakebed
from lakebed.server import create_app


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    lake = lakebed.open(tmp_path / "lake", env={})
    lake.create_table(
        "shop.orders",
        pa.table(
            {"order_id": [1, 2, 3], "country": ["DE", "FR", "DE"], "amount": [10.0, 5.5, 2.5]}
        ),
        description="orders from the web shop",
    )
    return TestClient(create_app(lake))


def test_health_and_catalog(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok"
    assert client.get("/databases").json() == ["shop"]
    assert client.get("/databases/shop/tables").json() == ["shop.orders"]
    table = client.get("/tables/shop.orders").json()
    assert table["description"] == "orders from the web shop"
    assert table["rows"] == 3


def test_sql_as_json_csv_and_parquet(client: TestClient) -> None:
    query = (
        "SELECT country, sum(amount) AS total FROM shop.orders GROUP BY country ORDER BY country"
    )
    body = client.post("/sql", json={"query": query}).json()
    assert body["rows"] == [{"country": "DE", "total": 12.5}, {"country": "FR", "total": 5.5}]
    assert [c["name"] for c in body["columns"]] == ["country", "total"]

    csv = client.post("/sql", json={"query": query, "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[1] == '"DE",12.5'

    parquet = client.post("/sql", json={"query": query, "format": "parquet", "limit": 1})
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == 1


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "error"),
    [
        ("get", "/tables/shop.missing", None, 404, "NotFoundError"),
        ("get", "/databases/nope/tables", None, 404, "NotFoundError"),
        ("post", "/sql", {"query": "SELECT FROM WHERE"}, 400, "QueryError"),
        ("post", "/sql", {"query": "DROP TABLE shop.orders"}, 400, "QueryError"),
    ],
)
def test_errors_map_to_status_codes(
    client: TestClient, method: str, path: str, payload: dict | None, status: int, error: str
) -> None:
    response = client.request(method, path, json=payload)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert body["message"]
    assert body["fix"]


def test_unknown_request_fields_are_rejected(client: TestClient) -> None:
    response = client.post("/sql", json={"query": "SELECT 1", "dialekt": "athena"})
    assert response.status_code == 422


def test_ingest_runs_and_bookmarks(client: TestClient, tmp_path: Path) -> None:
    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "a.csv").write_text("order_id,country,amount\n4,IT,7.5\n5,DE,1.0\n")
    body = {"source": str(folder), "into": "shop.orders", "options": {"incremental": True}}
    report = client.post("/ingest", json=body).json()
    assert report["status"] == "succeeded" and report["rows_written"] == 2
    assert client.post("/ingest", json=body).json()["status"] == "nothing-new"
    runs = client.get("/runs", params={"table": "shop.orders"}).json()
    assert [r["status"] for r in runs] == ["nothing-new", "succeeded"]
    [bookmark] = client.get("/tables/shop.orders/bookmarks").json()
    assert bookmark["summary"] == "1 file(s) loaded"
    bad = client.post("/ingest", json={**body, "options": {"mode": "merge"}})
    assert bad.status_code == 400 and "needs keys" in bad.json()["message"]
    assert client.get("/tables/shop.nope/bookmarks").status_code == 404
