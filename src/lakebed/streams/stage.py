"""What happens to each polled record before it is buffered: size check, decode, then
conversion to the table's schema and the partition check, or the window aggregation.

Every failure is kept with its record (raw bytes, partition, position) for the error output;
nothing is dropped. A decoder that raises something other than a
:class:`~lakebed.streams.records.RecordError` is a ``parse`` failure of that record, not of the
stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakebed.streams.buffer import FailedRecord
from lakebed.streams.parts import Converter, Decoder, infer_schema
from lakebed.streams.records import RecordError, StreamRecord

if TYPE_CHECKING:
    from lakebed.streams.partitioning import Partitioner
    from lakebed.streams.windows import WindowAggregator


def _pick(items: list[StreamRecord], errors: list[tuple[int, RecordError]]) -> list[FailedRecord]:
    return [FailedRecord(items[i], e) for i, e in errors]


def _without(
    items: list[StreamRecord], errors: list[tuple[int, RecordError]]
) -> list[StreamRecord]:
    if not errors:
        return items
    gone = {i for i, _ in errors}
    return [r for i, r in enumerate(items) if i not in gone]


class Stage:
    """Turns polled records into buffered rows and failures."""

    def __init__(
        self,
        *,
        decoder: Decoder,
        converter: Converter | None,
        max_record_bytes: int,
        partitioner: Partitioner | None,
        aggregator: WindowAggregator | None,
        make_converter: Callable[[pa.Schema], Converter],
        schema: pa.Schema | None,
        plain_json: bool = False,
        unknown_fields: str = "error",
    ) -> None:
        self.decoder = decoder
        self.converter = converter
        self.max_record_bytes = max_record_bytes
        self.partitioner = partitioner
        self.aggregator = aggregator
        self.make_converter = make_converter
        #: The converter's schema: the table's, or (windows) the records'.
        self.schema = schema
        #: Records are JSON objects with no schema validation: a whole batch may be parsed at
        #: once by Arrow's JSON reader (see :meth:`_parse_batch`).
        self.plain_json = plain_json
        self.unknown_fields = unknown_fields

    def table_schema(self) -> pa.Schema | None:
        """The schema the target table gets, once known."""
        if self.schema is None:
            return None
        if self.aggregator is not None:
            return self.aggregator.output_schema(self.schema)
        return self.schema

    def decode(
        self, records: list[StreamRecord]
    ) -> tuple[list[dict[str, Any]], list[StreamRecord], list[FailedRecord]]:
        rows: list[dict[str, Any]] = []
        kept: list[StreamRecord] = []
        failed: list[FailedRecord] = []
        limit = self.max_record_bytes
        for record in records:
            if len(record.value) > limit:
                reason = f"{len(record.value)} bytes, more than max_record_bytes ({limit})"
                failed.append(FailedRecord(record, RecordError("oversize", reason)))
                continue
            try:
                row = self.decoder.decode(record.value)
            except RecordError as exc:
                failed.append(FailedRecord(record, exc))
                continue
            except Exception as exc:  # a bad record must not stop the stream
                reason = f"{type(exc).__name__}: {exc}"
                failed.append(FailedRecord(record, RecordError("parse", reason)))
                continue
            if not isinstance(row, dict):
                reason = f"a record must decode to an object, not {type(row).__name__}"
                failed.append(FailedRecord(record, RecordError("schema", reason)))
                continue
            rows.append(row)
            kept.append(record)
        return rows, kept, failed

    def _convert(
        self, rows: list[dict[str, Any]], kept: list[StreamRecord]
    ) -> tuple[pa.Table, list[StreamRecord], list[FailedRecord]]:
        if self.converter is None:
            self.schema = infer_schema(rows)
            self.converter = self.make_converter(self.schema)
        table, errors = self.converter.convert(rows)
        return table, _without(kept, errors), _pick(kept, errors)

    def _parse_batch(self, records: list[StreamRecord]) -> pa.Table | None:
        """The whole batch parsed by Arrow's JSON reader into the table's schema, or None when
        any record needs the record-by-record path (which finds and reports the bad ones).

        Arrow parses NDJSON in C++, several times faster than ``json.loads`` per record; a
        batch it accepts has the same values the converter would give, and a batch it
        rejects costs one failed attempt."""
        if not (self.plain_json and self.schema is not None and self.aggregator is None):
            return None
        limit = self.max_record_bytes
        values = [r.value for r in records]
        if any(len(v) > limit or b"\n" in v or b"\r" in v or not v.strip() for v in values):
            return None
        import pyarrow.json as pajson

        loose = pa.schema([f.with_nullable(True) for f in self.schema])
        behaviour = "ignore" if self.unknown_fields == "ignore" else "error"
        try:
            table = pajson.read_json(
                pa.BufferReader(b"\n".join(values)),
                read_options=pajson.ReadOptions(use_threads=False, block_size=1 << 30),
                parse_options=pajson.ParseOptions(
                    explicit_schema=loose, unexpected_field_behavior=behaviour
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
        if table.num_rows != len(records):
            return None
        for field, column in zip(self.schema, table.columns, strict=True):
            if not field.nullable and column.null_count:
                return None
        return table.select(self.schema.names).cast(self.schema)

    def process(self, records: list[StreamRecord]) -> tuple[pa.Table | None, list[FailedRecord]]:
        """Rows for the buffer (None for windowed streams) and the records that failed."""
        fast = self._parse_batch(records)
        if fast is not None:
            return self._placed(fast, records, [])
        rows, kept, failed = self.decode(records)
        if not rows:
            return None, failed
        if self.aggregator is not None:
            if self.converter is not None:  # the records' types are configured
                table, kept, more = self._convert(rows, kept)
                failed += more
                rows = table.to_pylist()
            elif self.schema is None:
                self.schema = infer_schema(rows)
            failed += _pick(kept, self.aggregator.add(rows))
            return None, failed
        table, kept, more = self._convert(rows, kept)
        return self._placed(table, kept, failed + more)

    def _placed(
        self, table: pa.Table, kept: list[StreamRecord], failed: list[FailedRecord]
    ) -> tuple[pa.Table, list[FailedRecord]]:
        """``table`` without the rows no partition can be computed for (they fail)."""
        if self.partitioner:
            unplaced = self.partitioner.unplaceable(table)
            if unplaced:
                failed += _pick(kept, unplaced)
                gone = {i for i, _ in unplaced}
                mask = pa.array([i not in gone for i in range(table.num_rows)])
                table = table.filter(mask)
        return table, failed

    def window_rows(self, emitted: list[dict[str, Any]]) -> pa.Table | None:
        """The closed windows' aggregates as rows of the output schema."""
        schema = self.table_schema()
        if not emitted or schema is None:
            return None
        return pa.Table.from_pylist(emitted, schema=schema)
