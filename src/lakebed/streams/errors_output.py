"""The error output: every record a stream could not deliver, with its raw bytes and reason.

Failed records go to the Iceberg table ``<db>._stream_errors`` (or the stream's
``errors_table``), partitioned by ``stream`` and ``kind``, so the failure kind is in the path
(``.../data/stream=orders/kind=parse/...``) as in Firehose's error prefix:

=================  ==========================================================================
``stream``         the delivery stream
``kind``           parse / schema / conversion / oversize / partition / late
``reason``         why, in words
``target``         the table the record was bound for
``partition``      the source partition (``orders/3``, a Redis stream key, ``http``)
``position``       its position there (offset, entry id, sequence number), as text
``key``            the record's key, when the source has one
``raw``            the record's bytes exactly as they came
``preview``        the first bytes as UTF-8 text (for reading in SQL)
``source_time``    when the source accepted it, when known
``errored_at``     when the stream met it
=================  ==========================================================================

Order, for nothing lost and nothing doubled: a delivery first commits its failed records here,
in one snapshot whose summary carries the stream's positions (as the data commit will), then
commits its rows and positions to the target table. A crash between the two leaves the error
output *ahead*: on restart the stream replays from the target's positions, and
:meth:`ErrorOutput.fresh` drops the failures at or before the error output's own positions,
which are already here. (Two tables cannot share an Iceberg commit; this order makes the error
commit idempotent instead.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pyarrow as pa

from lakebed.catalog import Catalog, Table
from lakebed.errors import AlreadyExistsError, ConfigError, LakebedError
from lakebed.streams.buffer import FailedRecord
from lakebed.streams.offsets import (
    is_after,
    landed,
    merge_positions,
    plain_properties,
    read_checkpoint,
)
from lakebed.streams.records import Position

PREVIEW_BYTES = 1024

SCHEMA = pa.schema(
    [
        pa.field("stream", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("target", pa.string()),
        pa.field("partition", pa.string()),
        pa.field("position", pa.string()),
        pa.field("key", pa.binary()),
        pa.field("raw", pa.binary()),
        pa.field("preview", pa.string()),
        pa.field("source_time", pa.timestamp("ms", tz="UTC")),
        pa.field("errored_at", pa.timestamp("us", tz="UTC")),
    ]
)


class ErrorOutput:
    """The error output of one stream."""

    def __init__(self, catalog: Catalog, ident: str, *, stream: str, target: str) -> None:
        self.catalog = catalog
        self.ident = ident
        self.stream = stream
        self.target = target
        self._table: Table | None = None
        #: Positions up to which this stream's failures are already in the table.
        self.written: dict[str, Position] = {}

    def load(self) -> None:
        """Read how far the failures already written go (at start, and after a failure)."""
        self.written = read_checkpoint(self._existing(), self.stream).positions

    def forget_table(self) -> None:
        """Load the table afresh next time (after a failure: it may have been replaced)."""
        self._table = None

    def _existing(self) -> Table | None:
        if self._table is None and self.catalog.table_exists(self.ident):
            found = self.catalog.load_table(self.ident)
            if not isinstance(found, Table):
                raise ConfigError(
                    f"{self.ident} is an external table; a stream's error output must be an "
                    "Iceberg table",
                    fix="drop it, or set the stream's errors_table to another name",
                )
            self._table = found
        return self._table

    def _create(self) -> Table:
        table = self._existing()
        if table is not None:
            return table
        database = self.ident.split(".", 1)[0]
        self.catalog.create_database(database, exist_ok=True)
        try:
            self._table = self.catalog.create_table(
                self.ident,
                SCHEMA,
                partition_by=["stream", "kind"],
                description="records delivery streams could not deliver, with their reasons",
                exist_ok=True,
            )
        except AlreadyExistsError:
            self._table = None  # created by another stream at the same moment
            table = self._existing()
            assert table is not None
            return table
        return self._table

    def fresh(self, failed: Sequence[FailedRecord]) -> list[FailedRecord]:
        """The failures not yet in the table (those after its positions)."""
        return [
            f for f in failed if is_after(f.record.position, self.written.get(f.record.partition))
        ]

    def write(
        self,
        failed: Sequence[FailedRecord],
        positions: Mapping[str, Position],
        batch_id: str,
        *,
        retry: bool = True,
    ) -> int:
        """Commit ``failed`` (those not yet written) in one snapshot carrying ``positions``
        (never behind what was written before: a restarted stream may not have read every
        partition yet); returns how many were written. Safe to call again after an ambiguous
        failure (``retry``: then whether an earlier attempt landed is checked first)."""
        todo = self.fresh(failed)
        if not todo:
            return 0
        mark = merge_positions(dict(self.written), positions)
        table = self._create()
        if not (retry and landed(table, self.stream, batch_id)):
            rows = self._rows(todo)
            try:
                table.append(rows, properties=plain_properties(self.stream, mark, batch_id))
            except LakebedError:
                if not landed(table, self.stream, batch_id):
                    raise
        self.written = mark
        return len(todo)

    def _rows(self, failed: Sequence[FailedRecord]) -> pa.Table:
        now = datetime.now(UTC)
        count = len(failed)
        return pa.table(
            {
                "stream": pa.array([self.stream] * count, pa.string()),
                "kind": [f.error.kind for f in failed],
                "reason": [f.error.reason for f in failed],
                "target": pa.array([self.target] * count, pa.string()),
                "partition": [f.record.partition for f in failed],
                "position": [str(f.record.position) for f in failed],
                "key": pa.array([f.record.key for f in failed], pa.binary()),
                "raw": pa.array([f.record.value for f in failed], pa.binary()),
                "preview": [
                    f.record.value[:PREVIEW_BYTES].decode("utf-8", errors="replace") for f in failed
                ],
                "source_time": pa.array(
                    [f.record.timestamp_ms for f in failed], pa.timestamp("ms", tz="UTC")
                ),
                "errored_at": pa.array([now] * count, pa.timestamp("us", tz="UTC")),
            },
            schema=SCHEMA,
        )
