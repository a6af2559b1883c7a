"""A messy folder of raw files, a local store over it and a SQLite catalog."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebed.catalog import Catalog
from lakebed.storage import ObjectStore, open_store


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def write_parquet(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def build_messy(root: Path) -> Path:
    """The folder a data scientist points the crawler at (see each file's comment)."""
    raw = root / "raw"
    # JSON Lines clickstream in plain year/month folders; the later month widens `duration`
    # from integers to floats and adds `referrer`.
    write_jsonl(
        raw / "clickstream/2024/01/part-0.jsonl",
        [{"user_id": i, "page": f"/p{i}", "duration": i * 10} for i in range(5)],
    )
    write_jsonl(
        raw / "clickstream/2024/02/part-0.jsonl",
        [
            {"user_id": 7, "page": "/home", "duration": 2.5, "referrer": "ads"},
            {"user_id": 8, "page": "/cart", "duration": 1, "referrer": None},
        ],
    )
    # CSV partitioned by date; the second day has a malformed row (an extra cell).
    write_text(
        raw / "sales/date=2024-01-01/sales.csv",
        "order_id,amount,country\n1,10,DE\n2,20,FR\n3,30,DE\n",
    )
    write_text(
        raw / "sales/date=2024-01-02/sales.csv",
        "order_id,amount,country\n4,12.5,US\n5,7,DE,oops\n6,8.25,FR\n",
    )
    # Avro users.
    users = raw / "users/users.avro"
    users.parent.mkdir(parents=True)
    schema = {
        "type": "record",
        "name": "User",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": "string"},
            {"name": "age", "type": ["null", "int"]},
        ],
    }
    with users.open("wb") as out:
        fastavro.writer(out, schema, [{"id": i, "name": f"u{i}", "age": 20 + i} for i in range(4)])
    # Parquet metrics in two files: int32 then int64 values.
    write_parquet(
        raw / "metrics/a.parquet",
        pa.table({"name": ["cpu", "mem"], "value": pa.array([1, 2], pa.int32())}),
    )
    write_parquet(
        raw / "metrics/b.parquet",
        pa.table({"name": ["disk"], "value": pa.array([3], pa.int64())}),
    )
    # gzip JSON Lines.
    logs = raw / "logs/app.jsonl.gz"
    logs.parent.mkdir(parents=True)
    body = "".join(json.dumps({"level": "INFO", "msg": f"m{i}", "n": i}) + "\n" for i in range(3))
    logs.write_bytes(gzip.compress(body.encode()))
    # CSV with a .txt extension.
    write_text(raw / "exports/export.txt", "sku,qty,price\nA1,3,9.99\nB2,1,19.5\n")
    # A truncated Parquet file, binary garbage named .csv, a JPEG.
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": list(range(100))}), buf)
    write_bytes(raw / "broken/bad.parquet", buf.getvalue()[:60])
    write_bytes(raw / "garbage/noise.csv", bytes(range(256)) * 8)
    write_bytes(raw / "images/cat.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200)
    return raw


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """The messy folder (``<tmp>/data/raw``)."""
    return build_messy(tmp_path / "data")


@pytest.fixture
def store(messy: Path) -> ObjectStore:
    """A local store rooted at the folder above ``raw``."""
    return open_store(messy.parent)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}", (tmp_path / "warehouse").as_uri())
    yield cat
    cat.close()
