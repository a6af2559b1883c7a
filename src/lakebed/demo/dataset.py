"""A realistic, messy, multi-format raw dataset for the quickstart and the tests.

An online shop's raw exports, the way they arrive in a real lake:

```
clickstream/2026/11/<dd>/events-<n>.jsonl[.gz]   JSON Lines, plain date folders, a few bad lines
transactions/date=2026-11-<dd>/part-0.csv        CSV partitioned by date, some malformed rows
customers/customers.avro                         Avro (deflate), nested address struct
products/products.parquet                        Parquet product catalog
images/products/<sku>.png                        product images (unstructured)
```
Everything is seeded: the same ``seed`` writes byte-identical files.
"""

from __future__ import annotations

import gzip
import json
import random
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

CATEGORIES = ["shoes", "jackets", "bags", "hats", "socks", "watches"]
COUNTRIES = ["DE", "FR", "US", "GB", "ES", "IT", "NL", "PL"]
EVENTS = ["view", "view", "view", "add_to_cart", "search", "purchase"]


@dataclass
class DemoDataset:
    """What was generated, for the quickstart's report and for tests."""

    root: Path
    files: list[Path] = field(default_factory=list)
    bad_json_lines: int = 0
    malformed_csv_rows: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def generate(
    root: Path, *, seed: int = 7, days: int = 5, customers: int = 2000, products: int = 300
) -> DemoDataset:
    """Write the demo raw dataset under ``root`` (created if missing)."""
    rng = random.Random(seed)
    out = DemoDataset(root=root)
    start = date(2026, 11, 1)
    skus = [f"SKU-{i:05d}" for i in range(products)]
    _products(out, rng, skus)
    _customers(out, rng, customers)
    for day in range(days):
        when = start + timedelta(days=day)
        _clickstream(out, rng, when, customers, skus, compressed=(day % 2 == 1))
        _transactions(out, rng, when, customers, skus)
    _images(out, rng, skus[:12])
    return out


def _write(out: DemoDataset, relative: str, data: bytes) -> Path:
    path = out.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    out.files.append(path)
    return path


def _clickstream(
    out: DemoDataset,
    rng: random.Random,
    day: date,
    customers: int,
    skus: list[str],
    *,
    compressed: bool,
) -> None:
    lines = []
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for i in range(4000):
        event = {
            "event_id": f"{day:%Y%m%d}-{i:06d}",
            "ts": (base + timedelta(seconds=rng.randint(0, 86_399))).isoformat(),
            "customer_id": rng.randint(1, customers),
            "event": rng.choice(EVENTS),
            "sku": rng.choice(skus),
            "device": {
                "type": rng.choice(["mobile", "desktop", "tablet"]),
                "os": rng.choice(["ios", "android", "windows", "macos", "linux"]),
            },
            "tags": rng.sample(["sale", "new", "promo", "email", "ad"], k=rng.randint(0, 2)),
        }
        if rng.random() < 0.1:
            event["referrer"] = rng.choice(["google", "newsletter", "instagram"])
        lines.append(json.dumps(event))
    for position in rng.sample(range(len(lines)), 3):  # truncated writes from a flaky producer
        lines[position] = lines[position][: len(lines[position]) // 2]
        out.bad_json_lines += 1
    data = ("\n".join(lines) + "\n").encode()
    folder = f"clickstream/{day:%Y/%m/%d}"
    if compressed:
        _write(out, f"{folder}/events-0.jsonl.gz", gzip.compress(data, mtime=0))
    else:
        _write(out, f"{folder}/events-0.jsonl", data)
    out.rows["clickstream"] = out.rows.get("clickstream", 0) + len(lines) - 3


def _transactions(
    out: DemoDataset, rng: random.Random, day: date, customers: int, skus: list[str]
) -> None:
    rows = ["transaction_id,ts,customer_id,sku,quantity,unit_price,currency,country"]
    for i in range(2500):
        ts = datetime(day.year, day.month, day.day, rng.randint(0, 23), rng.randint(0, 59))
        price = round(rng.lognormvariate(3.5, 0.6), 2)
        rows.append(
            f"T{day:%Y%m%d}{i:05d},{ts:%Y-%m-%d %H:%M:%S},{rng.randint(1, customers)},"
            f"{rng.choice(skus)},{rng.randint(1, 4)},{price},EUR,{rng.choice(COUNTRIES)}"
        )
    # Malformed rows: a missing field, and an extra one from an unquoted comma.
    rows.insert(100, f"T{day:%Y%m%d}BAD1,{day} 10:00:00,17,SKU-00001,2")
    rows.insert(200, f"T{day:%Y%m%d}BAD2,{day} 11:00:00,18,SKU-00002,1,19.99,EUR,DE,extra")
    out.malformed_csv_rows += 2
    _write(out, f"transactions/date={day}/part-0.csv", ("\n".join(rows) + "\n").encode())
    out.rows["transactions"] = out.rows.get("transactions", 0) + 2500


def _customers(out: DemoDataset, rng: random.Random, count: int) -> None:
    import fastavro

    schema = {
        "type": "record",
        "name": "Customer",
        "fields": [
            {"name": "customer_id", "type": "long"},
            {"name": "name", "type": "string"},
            {"name": "email", "type": ["null", "string"]},
            {"name": "signup_date", "type": {"type": "int", "logicalType": "date"}},
            {"name": "country", "type": "string"},
            {
                "name": "address",
                "type": {
                    "type": "record",
                    "name": "Address",
                    "fields": [
                        {"name": "city", "type": "string"},
                        {"name": "postcode", "type": "string"},
                    ],
                },
            },
        ],
    }
    first = ["Ada", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
    last = ["Meyer", "Dubois", "Smith", "Kowalski", "García", "Rossi", "de Vries", "Tanaka"]
    records = []
    for cid in range(1, count + 1):
        name = f"{rng.choice(first)} {rng.choice(last)}"
        email = None if rng.random() < 0.05 else f"user{cid}@example.com"
        records.append(
            {
                "customer_id": cid,
                "name": name,
                "email": email,
                "signup_date": date(2024, 1, 1) + timedelta(days=rng.randint(0, 1000)),
                "country": rng.choice(COUNTRIES),
                "address": {
                    "city": rng.choice(["Berlin", "Paris", "Austin", "Leeds"]),
                    "postcode": f"{rng.randint(10000, 99999)}",
                },
            }
        )
    path = out.root / "customers" / "customers.avro"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        fastavro.writer(
            handle,
            fastavro.parse_schema(schema),
            records,
            codec="deflate",
            sync_marker=rng.randbytes(16),  # seeded, so the file is reproducible
        )
    out.files.append(path)
    out.rows["customers"] = count


def _products(out: DemoDataset, rng: random.Random, skus: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "sku": skus,
            "title": [
                f"{rng.choice(['Classic', 'Trail', 'Urban', 'Aero'])} {rng.choice(CATEGORIES)[:-1]}"
                for _ in skus
            ],
            "category": [rng.choice(CATEGORIES) for _ in skus],
            "list_price": [round(rng.uniform(5, 250), 2) for _ in skus],
            "in_stock": [rng.random() > 0.1 for _ in skus],
            "image_key": [f"images/products/{sku}.png" for sku in skus],
        }
    )
    path = out.root / "products" / "products.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    out.files.append(path)
    out.rows["products"] = len(skus)


def _images(out: DemoDataset, rng: random.Random, skus: list[str]) -> None:
    for sku in skus:
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        _write(out, f"images/products/{sku}.png", _png(32, 32, colour))


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG, written by hand to avoid an imaging dependency for 12 thumbnails."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
