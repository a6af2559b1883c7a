"""CSV and TSV, read with pyarrow's streaming CSV reader.

Header: pass ``header=True/False``, or let the reader decide as a Glue crawler does — the first
row is a header when all its cells are short strings and some later row has a non-string cell.
A file with a single all-string row is a header with no data. Without a header, columns are
``col_0, col_1, ...``.

Types: cells are read as strings and typed per column from the first batch (see
:mod:`lakebed.formats._text`), or cast to ``schema=`` when given. A row with the wrong number of
cells, or a cell that does not cast to its column's type in a later batch, goes to
``on_bad_record``; the location ``row N`` counts CSV records from 1 with the header (the line
number, unless a quoted field spans lines).

Options: ``header``, ``delimiter`` (e.g. ``";"``), ``encoding``, ``encoding_errors``.
Encoding: UTF-8 by default; invalid bytes raise a FormatError naming the file. Pass
``encoding=`` for another encoding or ``encoding_errors="replace"`` to read through bad bytes.
"""

from __future__ import annotations

import csv as stdcsv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO, Any, ClassVar

import pyarrow as pa
import pyarrow.csv as pacsv

from lakebed.errors import FormatError
from lakebed.formats._common import empty_batch, peek, report_bad, take_options
from lakebed.formats._text import Recoder, cast_cells, cell_type, decode_head, infer_type, not_utf8
from lakebed.formats.base import DEFAULT_BATCH_ROWS, BadRecord, Format, OnBadRecord

_HEAD_BYTES = 1 << 18
_SAMPLE_ROWS = 200
_MAX_HEADER_CELL = 128
_READ_OPTIONS = {
    "header": None,
    "encoding": "utf-8",
    "encoding_errors": "strict",
    "delimiter": None,
}


class CsvFormat(Format):
    """Comma-separated values."""

    name: ClassVar[str] = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv",)
    content_type: ClassVar[str] = "text/csv"
    delimiter: ClassVar[str] = ","

    def sniff(self, head: bytes) -> float:
        """Confident when rows split into the same number (two or more) of cells."""
        text = _as_text(head)
        if text is None:
            return 0.0
        stripped = text.lstrip()
        if not stripped:
            return 0.0
        rows = _sample_rows(text, self.delimiter, complete_only=True)
        counts = Counter(len(row) for row in rows if row)
        if not counts:
            return 0.0
        width, hits = counts.most_common(1)[0]
        consistency = hits / sum(counts.values())
        if width < 2:
            return 0.2
        score = 0.5 + 0.35 * consistency if consistency >= 0.8 else 0.3 * consistency
        return score * 0.5 if stripped[0] in "{[" else score

    def read(
        self,
        source: IO[bytes],
        *,
        name: str = "<stream>",
        schema: pa.Schema | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        on_bad_record: OnBadRecord | None = None,
        **options: Any,
    ) -> Iterator[pa.RecordBatch]:
        """Batches of the file; see the module docstring for header, types and bad rows."""
        opts = take_options(self.name, options, _READ_OPTIONS)
        if opts["encoding"].lower().replace("_", "-") not in ("utf-8", "utf8") or (
            opts["encoding_errors"] != "strict"
        ):
            source = io.BufferedReader(Recoder(source, opts["encoding"], opts["encoding_errors"]))
        head, source = peek(source, _HEAD_BYTES)
        text = decode_head(head, name)
        truncated = len(head) >= _HEAD_BYTES
        delimiter = opts["delimiter"] or self.delimiter
        rows = _sample_rows(text, delimiter, complete_only=truncated)
        if not rows:
            if schema is not None:
                yield empty_batch(schema)
            return
        header = opts["header"]
        if header is None:
            header = _has_header(rows, schema, complete=not truncated)
        names = _column_names(rows[0], header)
        yield from self._batches(
            source, name, names, header, delimiter, schema, batch_rows, on_bad_record
        )

    def _batches(
        self,
        source: IO[bytes],
        name: str,
        names: list[str],
        header: bool,
        delimiter: str,
        schema: pa.Schema | None,
        batch_rows: int,
        on_bad_record: OnBadRecord | None,
    ) -> Iterator[pa.RecordBatch]:
        invalid: list[BadRecord] = []

        def on_invalid(row: Any) -> str:
            where = f"row {row.number}" if row.number is not None else "a row"
            reason = f"expected {row.expected_columns} cells, found {row.actual_columns}"
            invalid.append(BadRecord(name, where, reason, (row.text or "").encode()))
            return "skip" if on_bad_record is not None else "error"

        target = schema
        seen = 0
        emitted = False
        try:
            reader = pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(
                    column_names=names,
                    skip_rows=1 if header else 0,
                    use_threads=False,
                    block_size=max(1 << 20, min(batch_rows * 64, 1 << 26)),
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter,
                    newlines_in_values=True,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=True,
                    null_values=[""],
                    quoted_strings_can_be_null=False,
                ),
            )
            for raw in reader:
                for record in invalid:
                    report_bad(on_bad_record, record)
                invalid.clear()
                if target is None:
                    target = pa.schema([(n, infer_type(raw.column(n))) for n in names])
                for start in range(0, raw.num_rows, batch_rows):
                    part = raw.slice(start, batch_rows)
                    yield self._typed(part, target, name, seen, on_bad_record)
                    emitted = True
                    seen += part.num_rows
        except pa.ArrowInvalid as exc:
            if invalid:
                report_bad(None, invalid[0])
            if "UTF8" in str(exc) or "UTF-8" in str(exc):
                raise not_utf8(name) from exc
            raise FormatError(f"{name}: cannot parse as {self.name}: {exc}") from exc
        for record in invalid:
            report_bad(on_bad_record, record)
        if not emitted:
            yield empty_batch(target or pa.schema([(n, pa.string()) for n in names]))

    def _typed(
        self,
        raw: pa.RecordBatch,
        target: pa.Schema,
        name: str,
        offset: int,
        on_bad_record: OnBadRecord | None,
    ) -> pa.RecordBatch:
        columns: list[pa.Array] = []
        bad_rows: dict[int, str] = {}
        for field in target:
            idx = raw.schema.get_field_index(field.name)
            if idx < 0:
                columns.append(pa.nulls(raw.num_rows, field.type))
                continue
            column, bad = cast_cells(raw.column(idx), field.type)
            for row, value in bad:
                bad_rows.setdefault(row, f"column {field.name!r}: {value!r} is not {field.type}")
            columns.append(column)
        batch = pa.RecordBatch.from_arrays(columns, schema=target)
        if not bad_rows:
            return batch
        for row, reason in sorted(bad_rows.items()):
            raw_row = ",".join(str(v) for v in raw.slice(row, 1).to_pylist()[0].values())
            where = f"data row {offset + row + 1}"
            report_bad(on_bad_record, BadRecord(name, where, reason, raw_row.encode()))
        keep = pa.array([i not in bad_rows for i in range(batch.num_rows)])
        return batch.filter(keep)

    def write(
        self,
        batches: Iterable[pa.RecordBatch],
        sink: IO[bytes],
        schema: pa.Schema,
        **options: Any,
    ) -> int:
        """Write a header and the rows; nested or binary columns are a FormatError."""
        opts = take_options(self.name, options, {"header": True, "delimiter": None})
        for field in schema:
            if pa.types.is_nested(field.type) or pa.types.is_binary(field.type):
                raise FormatError(
                    f"{self.name} cannot hold column {field.name!r} of type {field.type}",
                    fix="write json, jsonl, parquet, orc or avro, or flatten the column first",
                )
        rows = 0
        write_options = pacsv.WriteOptions(
            include_header=opts["header"], delimiter=opts["delimiter"] or self.delimiter
        )
        with pacsv.CSVWriter(sink, schema, write_options=write_options) as writer:
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
        return rows


class TsvFormat(CsvFormat):
    """Tab-separated values."""

    name: ClassVar[str] = "tsv"
    extensions: ClassVar[tuple[str, ...]] = (".tsv", ".tab")
    content_type: ClassVar[str] = "text/tab-separated-values"
    delimiter: ClassVar[str] = "\t"


def _as_text(head: bytes) -> str | None:
    """``head`` as text if it looks like text; a few non-UTF-8 bytes (latin-1 data) are fine."""
    if b"\x00" in head:
        return None
    text = head.decode("utf-8", errors="replace")
    if not text:
        return text
    odd = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\r\n\f"))
    return text if odd <= max(3, len(text) // 50) else None


def _sample_rows(text: str, delimiter: str, *, complete_only: bool) -> list[list[str]]:
    if complete_only and not text.endswith("\n") and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    reader = stdcsv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= _SAMPLE_ROWS:
                break
    except stdcsv.Error:
        pass
    return rows


def _has_header(rows: list[list[str]], schema: pa.Schema | None, *, complete: bool) -> bool:
    first = rows[0]
    if schema is not None:
        return [cell.strip() for cell in first] == [n for n in schema.names][: len(first)]
    if not all(cell.strip() and len(cell) <= _MAX_HEADER_CELL for cell in first):
        return False
    if any(cell_type(cell) != pa.string() for cell in first):
        return False
    if len(rows) == 1:
        return complete
    return any(cell and cell_type(cell) != pa.string() for row in rows[1:] for cell in row)


def _column_names(first: list[str], header: bool) -> list[str]:
    if not header:
        return [f"col_{i}" for i in range(len(first))]
    names: list[str] = []
    for i, cell in enumerate(first):
        base = cell.strip() or f"col_{i}"
        candidate, n = base, 1
        while candidate in names:
            candidate, n = f"{base}_{n}", n + 1
        names.append(candidate)
    return names
