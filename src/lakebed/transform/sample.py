"""A small, messy sample table: the data every operation's examples run on.

``lakebed recipe list-operations --examples`` shows each operation on it, and the engine parity
suite runs every example on DuckDB and Spark and compares. It has what cleaning steps meet in
real data: padded and mixed-case text, blanks, nulls, outliers, messy dates, emails and phone
numbers, JSON text, lists and structs, duplicates.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

_NAMES = [
    "  alice SMITH", "Bob jones ", "carol", None, "Dave O'Neil", "eve", "", "Frank",
    "grace hopper", "Heidi", "alice SMITH", "ivan", "Judy", "mallory", "Niaj", "olivia",
    "Peggy", "rupert", "Sybil", "trent",
]  # fmt: skip
_CITIES = ["Paris", "Berlin", "paris", "Rome", None, "Berlin", "Madrid", "Rome", "Paris", "Oslo"]
_DATES = [
    "2024-01-15", "2024/02/20", "15.03.2024", "not a date", None, "2024-04-01", "2024-13-45",
    "2023-12-31", "2024-05-05", "2024-06-30",
]  # fmt: skip
_PHONES = ["+1 (555) 123-4567", "555.987.6543", "12345", None, "+44 20 7946 0958"]


def sample_table() -> pa.Table:
    """Twenty rows with the columns the operation examples use."""
    n = len(_NAMES)
    base = dt.datetime(2024, 3, 1, 8, 30)
    prices = [
        10.5, 12.0, None, 11.25, 9.99, 10.0, 250.0, 11.5, 10.75, -3.0,
        10.5, 12.5, 9.5, None, 11.0, 10.25, 13.0, 9.75, 10.0, 11.75,
    ]  # fmt: skip
    return pa.table(
        {
            "id": pa.array(range(1, n + 1), pa.int64()),
            "name": pa.array(_NAMES, pa.string()),
            "city": pa.array([_CITIES[i % len(_CITIES)] for i in range(n)], pa.string()),
            "email": pa.array(
                [
                    f"user{i}@example.com" if i % 4 else (None if i % 8 == 0 else "bad-email")
                    for i in range(n)
                ],
                pa.string(),
            ),
            "phone": pa.array([_PHONES[i % len(_PHONES)] for i in range(n)], pa.string()),
            "price": pa.array(prices, pa.float64()),
            "qty": pa.array([(i * 7) % 5 if i % 6 else None for i in range(n)], pa.int64()),
            "category": pa.array([["a", "b", "c", "b"][i % 4] for i in range(n)], pa.string()),
            "label": pa.array([i % 3 == 0 for i in range(n)], pa.bool_()),
            "signup": pa.array([_DATES[i % len(_DATES)] for i in range(n)], pa.string()),
            "ts": pa.array(
                [base + dt.timedelta(hours=13 * i, minutes=7 * i) for i in range(n)],
                pa.timestamp("us"),
            ),
            "day": pa.array(
                [dt.date(2024, 1, 1) + dt.timedelta(days=11 * i) for i in range(n)], pa.date32()
            ),
            "notes": pa.array(
                [
                    "Great product!! 5/5",
                    "bad: broke in 2 days",
                    "ok",
                    None,
                    "  spaced   out  ",
                    "visit https://shop.example.com/p?id=42&ref=mail",
                    "tab\tand #hashtag",
                    "café ünïcode",
                    "ALL CAPS TEXT",
                    "12,345.67",
                    "192.168.1.20",
                    "a,b;c|d",
                    "[1, 2, 3]",
                    '{"k": "v"}',
                    "repeat repeat repeat",
                    "x",
                    "   ",
                    "end.",
                    "Mixed Case Words Here",
                    "last one",
                ],
                pa.string(),
            ),
            "tags": pa.array(
                [["red", "blue"], [], None, ["green"], ["red"]] * (n // 5), pa.list_(pa.string())
            ),
            "address": pa.array(
                [
                    {"street": f"{i} Main St", "zip": f"{10000 + i}", "geo": {"lat": i * 1.5}}
                    for i in range(n)
                ],
                pa.struct(
                    [
                        ("street", pa.string()),
                        ("zip", pa.string()),
                        ("geo", pa.struct([("lat", pa.float64())])),
                    ]
                ),
            ),
            "payload": pa.array(
                [f'{{"a": {i}, "b": {{"c": "v{i}"}}, "list": [{i}, {i + 1}]}}' for i in range(n)],
                pa.string(),
            ),
        }
    )
