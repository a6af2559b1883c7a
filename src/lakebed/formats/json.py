"""JSON (one document: an object or an array of objects) and JSON Lines (one object per line).

Objects become rows, nested objects structs and arrays lists. Types are inferred (from the
whole document for JSON, from the first batch for JSON Lines) unless ``schema=`` is given; a
field whose values disagree in type (``1`` here, ``"x"`` there) becomes a string holding the
JSON text, so nothing is lost. JSON Lines is streamed line by line: a line that does not parse,
is not an object or does not fit the schema loses only that line, reported as ``line N``.
Writers emit ISO 8601 for dates and times, decimals as strings and bytes as base64.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any, ClassVar

import pyarrow as pa

from lakebed.errors import FormatError
from lakebed.formats._common import (
    batched,
    empty_batch,
    infer_schema,
    report_bad,
    rows_to_batch,
    take_options,
)
from lakebed.formats._text import decode_head
from lakebed.formats.base import DEFAULT_BATCH_ROWS, BadRecord, Format, OnBadRecord

Row = tuple[str, bytes, dict[str, Any]]


class JsonLinesFormat(Format):
    """JSON Lines: one object per line, streamed."""

    name: ClassVar[str] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson")
    content_type: ClassVar[str] = "application/jsonlines"

    def sniff(self, head: bytes) -> float:
        """Confident when the complete lines of ``head`` each hold one JSON object."""
        kind = _shape(head)
        return {"lines": 0.95, "one-line": 0.8, "document": 0.1}.get(kind, 0.0)

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
        """Batches of the objects, one per line; a bad line goes to ``on_bad_record``."""
        take_options(self.name, options, {})
        target = schema
        emitted = False
        for chunk in batched(_lines(source, name, on_bad_record), batch_rows):
            if target is None:
                target = infer_schema(row for _, _, row in chunk)
            yield rows_to_batch(chunk, target, name, on_bad_record, _stringifier(target))
            emitted = True
        if not emitted and target is not None:
            yield empty_batch(target)

    def write(
        self,
        batches: Iterable[pa.RecordBatch],
        sink: IO[bytes],
        schema: pa.Schema,
        **options: Any,
    ) -> int:
        """One JSON object per line."""
        take_options(self.name, options, {})
        rows = 0
        for batch in batches:
            for row in batch.to_pylist():
                sink.write(_dumps(row) + b"\n")
                rows += 1
        return rows


class JsonFormat(Format):
    """One JSON document: an object (one row) or an array of objects (one row each)."""

    name: ClassVar[str] = "json"
    extensions: ClassVar[tuple[str, ...]] = (".json",)
    content_type: ClassVar[str] = "application/json"

    def sniff(self, head: bytes) -> float:
        """Confident for an array or a (possibly multi-line) object."""
        kind = _shape(head)
        return {"array": 0.95, "document": 0.9, "one-line": 0.85, "lines": 0.3}.get(kind, 0.0)

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
        """Batches of the document's objects (the document is parsed whole)."""
        take_options(self.name, options, {})
        data = source.read()
        try:
            document = json.loads(data)
        except UnicodeDecodeError as exc:
            report_bad(
                on_bad_record, BadRecord(name, f"byte {exc.start}", "not UTF-8", data[:1024])
            )
            return
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            report_bad(on_bad_record, BadRecord(name, where, f"invalid JSON: {exc.msg}", b""))
            return
        if isinstance(document, dict):
            document = [document]
        if not isinstance(document, list):
            raise FormatError(
                f"{name}: the JSON document is a {type(document).__name__}, "
                "not an object or an array of objects",
                fix="wrap the records in an array, or read the file as another format",
            )
        rows: list[Row] = []
        for index, item in enumerate(document):
            if isinstance(item, dict):
                rows.append((f"element {index}", b"", item))
            else:
                reason = f"element is a {type(item).__name__}, not an object"
                report_bad(on_bad_record, BadRecord(name, f"element {index}", reason, _dumps(item)))
        target = schema if schema is not None else infer_schema(row for _, _, row in rows)
        prepare = _stringifier(target)
        emitted = False
        for chunk in batched(rows, batch_rows):
            yield rows_to_batch(chunk, target, name, on_bad_record, prepare)
            emitted = True
        if not emitted:
            yield empty_batch(target)

    def write(
        self,
        batches: Iterable[pa.RecordBatch],
        sink: IO[bytes],
        schema: pa.Schema,
        **options: Any,
    ) -> int:
        """An array of objects, one per line, written as the batches come."""
        take_options(self.name, options, {})
        rows = 0
        sink.write(b"[")
        for batch in batches:
            for row in batch.to_pylist():
                sink.write((b",\n" if rows else b"\n") + _dumps(row))
                rows += 1
        sink.write(b"\n]\n")
        return rows


def _lines(source: IO[bytes], name: str, on_bad_record: OnBadRecord | None) -> Iterator[Row]:
    for number, line in enumerate(source, start=1):
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            value = json.loads(line)
        except UnicodeDecodeError:
            report_bad(on_bad_record, BadRecord(name, where, "not UTF-8", line))
            continue
        except json.JSONDecodeError as exc:
            report_bad(on_bad_record, BadRecord(name, where, f"invalid JSON: {exc.msg}", line))
            continue
        if not isinstance(value, dict):
            reason = f"a {type(value).__name__}, not a JSON object"
            report_bad(on_bad_record, BadRecord(name, where, reason, line))
            continue
        yield where, line, value


def _stringifier(schema: pa.Schema) -> Any:
    """A row function turning non-string values of string fields into their JSON text."""
    text_fields = [f.name for f in schema if pa.types.is_string(f.type)]
    if not text_fields:
        return None

    def prepare(row: dict[str, Any]) -> dict[str, Any]:
        for key in text_fields:
            value = row.get(key)
            if value is not None and not isinstance(value, str):
                row[key] = json.dumps(value, ensure_ascii=False)
        return row

    return prepare


def _shape(head: bytes) -> str:
    """How ``head`` looks: "array", "lines", "one-line", "document" or "" (not JSON)."""
    if b"\x00" in head:
        return ""
    try:
        text = decode_head(head, "<head>").lstrip()
    except FormatError:
        return ""
    if text.startswith("["):
        return "array" if text[1:].lstrip()[:1] in ("{", "]", "") else ""
    if not text.startswith("{"):
        return ""
    if "\n" not in text.rstrip():
        return "one-line"  # one line, possibly longer than the head: either format fits
    lines = [line for line in text.splitlines() if line.strip()]
    complete = lines if text.endswith("\n") else lines[:-1] or lines[:1]
    sample = complete[:50]
    parsed = sum(1 for line in sample if _is_object(line))
    if parsed == 0:
        return "document"
    if len(lines) == 1:
        return "one-line"
    # JSON Lines when most lines are objects on their own (a few bad lines are allowed).
    return "lines" if parsed >= 2 and parsed * 2 >= len(sample) else "document"


def _is_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=_default).encode("utf-8")


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
