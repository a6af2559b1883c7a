"""Bad input never crashes a reader and is never silently dropped."""

from __future__ import annotations

import gc
import gzip
import io
import warnings
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lakebed import formats
from lakebed.errors import FormatError

from .conftest import nested_table


def _read(path: Path | io.BytesIO, fmt: str | None = None, **kw: object) -> tuple[pa.Table, list]:
    bad: list[formats.BadRecord] = []
    batches = list(formats.read(path, fmt, on_bad_record=bad.append, **kw))
    if not batches:
        return pa.table({}), bad
    return pa.Table.from_batches(batches), bad


@pytest.mark.parametrize("fmt", ["parquet", "avro", "orc"])
def test_truncated_binary_file_is_a_format_error_naming_it(fmt: str, tmp_path: Path) -> None:
    whole = tmp_path / f"whole.{fmt}"
    formats.write(nested_table(), whole, fmt)
    cut = tmp_path / f"cut.{fmt}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])

    with pytest.raises(FormatError, match=rf"cut\.{fmt}"):
        list(formats.read(cut, fmt))


def test_jsonl_bad_lines_lose_only_themselves(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = ['{"id": 1, "v": "a"}', '{"id": 2, "v": "b"', "[1, 2]", '{"id": 4, "v": "d"}']
    lines += ["", "not json at all", '{"id": 7, "v": "g"}']
    path.write_text("\n".join(lines) + "\n")

    table, bad = _read(path)

    assert table.column("id").to_pylist() == [1, 4, 7]
    assert [b.location for b in bad] == ["line 2", "line 3", "line 6"]
    assert all(b.source == str(path) and b.raw for b in bad)
    non_blank = sum(1 for line in lines if line)
    assert table.num_rows + len(bad) == non_blank


def test_jsonl_bad_line_without_a_callback_raises_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"id": 1}\n{"id": \n{"id": 3}\n')

    with pytest.raises(FormatError, match=r"events\.jsonl.*line 2"):
        list(formats.read(path))


def test_jsonl_conflicting_types_become_json_text(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"id": 1, "v": 5}\n{"id": 2, "v": "five"}\n{"id": 3, "v": [5]}\n')

    table, bad = _read(path)

    assert bad == []
    assert table.column("v").to_pylist() == ["5", "five", "[5]"]


def test_jsonl_new_field_after_the_first_batch_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    path.write_text('{"id": 1}\n{"id": 2}\n{"id": 3, "extra": true}\n')

    table, bad = _read(path, batch_rows=2)

    assert table.column("id").to_pylist() == [1, 2]
    assert [b.location for b in bad] == ["line 3"]
    assert "extra" in bad[0].reason


def test_csv_malformed_rows_go_to_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("id,name\n1,ann\n2\n3,cid\n4,dan,extra\n5,eve\n")

    table, bad = _read(path)

    assert table.to_pylist() == [
        {"id": 1, "name": "ann"},
        {"id": 3, "name": "cid"},
        {"id": 5, "name": "eve"},
    ]
    assert [b.location for b in bad] == ["row 3", "row 5"]
    assert [b.raw for b in bad] == [b"2", b"4,dan,extra"]
    with pytest.raises(FormatError, match=r"rows\.csv.*row 3"):
        list(formats.read(path))


def test_csv_cell_that_does_not_fit_the_schema_is_a_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "typed.csv"
    path.write_text("id,name\n1,ann\nNA,bob\nthree,cid\n4,dan\n")
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])

    table, bad = _read(path, schema=schema)

    assert table.to_pylist() == [
        {"id": 1, "name": "ann"},
        {"id": None, "name": "bob"},  # NA is a missing value
        {"id": 4, "name": "dan"},
    ]
    assert len(bad) == 1 and "'three'" in bad[0].reason


def test_csv_quoted_fields_span_lines(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text('id,note\n1,"first\nsecond"\n2,plain\n')

    table, bad = _read(path)

    assert bad == []
    assert table.column("note").to_pylist() == ["first\nsecond", "plain"]


def test_header_only_csv_has_columns_and_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("id,name,city\n")

    table, _ = _read(path)

    assert table.num_rows == 0
    assert table.schema == pa.schema([(n, pa.string()) for n in ("id", "name", "city")])
    assert formats.read_schema(path).names == ["id", "name", "city"]


def test_csv_without_header_gets_numbered_columns(tmp_path: Path) -> None:
    path = tmp_path / "noheader.csv"
    path.write_text("1,ann,2.5\n2,bob,3.0\n")

    table, _ = _read(path)

    assert table.column_names == ["col_0", "col_1", "col_2"]
    assert table.column("col_2").type == pa.float64()


def test_csv_header_option_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "strings.csv"
    path.write_text("name,city\nann,oslo\n")  # all strings: detection says no header

    assert _read(path)[0].num_rows == 2
    assert _read(path, header=True)[0].to_pylist() == [{"name": "ann", "city": "oslo"}]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json"])
def test_empty_file_reads_as_nothing(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"empty.{fmt}"
    path.write_bytes(b"")

    if fmt == "json":
        with pytest.raises(FormatError, match=r"empty\.json"):
            list(formats.read(path, fmt))
        return
    table, bad = _read(path, fmt)
    assert table.num_rows == 0 and bad == []


def test_empty_file_of_unknown_kind_cannot_be_detected(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match="empty"):
        list(formats.read(path))


def test_non_utf8_csv(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,price\ncafé,1.5\nnaïve,2\n".encode("latin-1"))

    with pytest.raises(FormatError, match=r"latin\.csv.*UTF-8") as err:
        list(formats.read(path))
    assert "encoding=" in str(err.value)

    table, _ = _read(path, encoding="latin-1")
    assert table.column("name").to_pylist() == ["café", "naïve"]
    replaced, _ = _read(path, encoding_errors="replace")
    assert replaced.column("name").to_pylist() == ["caf\ufffd", "na\ufffdve"]


def test_non_utf8_deep_in_a_large_csv(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    body = b"".join(b"%d,word\n" % i for i in range(200_000))
    path.write_bytes(b"id,text\n" + body + b"9,caf\xe9\n")

    with pytest.raises(FormatError, match=r"late\.csv.*UTF-8"):
        list(formats.read(path))


def test_json_document_that_is_not_records(tmp_path: Path) -> None:
    path = tmp_path / "scalar.json"
    path.write_text("[1, 2]")
    table, bad = _read(path, "json")
    assert table.num_rows == 0 and [b.location for b in bad] == ["element 0", "element 1"]

    path.write_text('"just a string"')
    with pytest.raises(FormatError, match=r"scalar\.json.*not an object"):
        list(formats.read(path, "json"))


def test_recordio_bad_magic_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.rec"
    record = bytes.fromhex("0a160a0676616c756573120c120a0a080000803f00000040")
    path.write_bytes(bytes.fromhex("0a23d7ce18000000") + record + b"NOTMAGIC")

    table, bad = _read(path, "recordio")

    assert table.to_pylist() == [{"features": [1.0, 2.0]}]
    assert [b.location for b in bad] == ["record 2 (byte 32)"]
    assert "bad magic" in bad[0].reason


def test_csv_cell_that_breaks_the_inferred_type_later_is_a_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "drift.csv"
    rows = [f"{i},w{i}" for i in range(150_000)]  # > 1 MiB: types come from the first block
    rows[140_000] = "oops,w140000"
    path.write_text("id,word\n" + "\n".join(rows) + "\n")

    table, bad = _read(path, batch_rows=10_000)

    assert table.schema.field("id").type == pa.int64()
    assert table.num_rows == 149_999
    assert [b.location for b in bad] == ["data row 140001"]
    assert "'oops'" in bad[0].reason and bad[0].raw == b"oops,w140000"


class _OneWayStream(io.RawIOBase):
    """A stream that cannot seek (a socket, a pipe, an HTTP body)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("fmt", ["parquet", "orc"])
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("call", ["read", "read_schema"])
def test_corrupt_footer_stream_is_a_format_error_and_leaks_no_file(
    fmt: str, gzipped: bool, call: str, tmp_path: Path
) -> None:
    whole = tmp_path / f"whole.{fmt}"
    formats.write(nested_table(), whole, fmt)
    data = whole.read_bytes()
    corrupt = data[:8] + b"\x00" * 64 + data[-40:]  # magic, garbage, a footer that lies
    stream = _OneWayStream(gzip.compress(corrupt) if gzipped else corrupt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(FormatError, match=fmt):
            if call == "read":
                list(formats.read(stream, fmt))
            else:
                formats.read_schema(stream, fmt)
        gc.collect()  # an unclosed temporary copy would warn when collected
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
