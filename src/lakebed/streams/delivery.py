"""The delivery loop: read, decode, convert, buffer, and deliver exactly once.

One iteration polls the source, then for each record: size check (``oversize``), decode
(``parse``/``schema``), windows (``late``) or conversion to the table's schema
(``conversion``/``schema``) and the partition check (``partition``). Good rows are buffered as
Arrow, failures with their raw bytes. When the buffer is due (size or interval, whichever
first), one delivery:

1. commits the failures to the error output, with the positions in that snapshot's summary
   (skipping failures already there: see :mod:`lakebed.streams.errors_output`);
2. commits the rows to the target table in one snapshot whose summary (and, in the same
   commit, table properties) carries the positions per partition and, for windowed streams,
   the window state (:mod:`lakebed.streams.offsets`);
3. only then acknowledges the positions to the source.

A crash anywhere leaves the table at a committed snapshot; on restart the stream reads the
positions back and the source resumes after them, so every record lands once. A failed commit
is retried with backoff (checking first whether it landed after all); nothing is acknowledged
before its commit. A source that cannot be reached is retried with backoff while the loop keeps
delivering what it buffered; the status says ``source unreachable: ...``. Stopping (the
``stop`` event, SIGTERM in a stream process) delivers what is buffered, then returns.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from lakebed.catalog import Table
from lakebed.errors import ConfigError, LakebedError
from lakebed.streams.buffer import Buffer, FailedRecord
from lakebed.streams.errors_output import ErrorOutput
from lakebed.streams.metrics import StreamMetrics, StreamStatus
from lakebed.streams.offsets import (
    checkpoint_properties,
    landed,
    merge_positions,
    read_checkpoint,
)
from lakebed.streams.partitioning import Partitioner
from lakebed.streams.parts import (
    Converter,
    configured_schema,
    make_aggregator,
    make_converter,
    make_stream_decoder,
)
from lakebed.streams.records import Position, StreamRecord
from lakebed.streams.stage import Stage

if TYPE_CHECKING:
    from lakebed.lake import Lake
    from lakebed.streams.config import StreamConfig
    from lakebed.streams.sources.base import StreamSource

POLL_RECORDS = 5000
POLL_TIMEOUT_S = 0.25
LAG_EVERY_S = 2.0
MAX_BACKOFF_S = 30.0
#: Commit attempts made after a stop was asked for, before giving up (nothing is acknowledged).
ATTEMPTS_WHEN_STOPPING = 3

Until = Callable[[StreamStatus], bool]


@dataclass
class Delivery:
    """One batch on its way into the lake, kept unchanged across commit retries."""

    batch_id: str
    positions: dict[str, Position]
    advanced: dict[str, Position]
    rows: pa.Table | None
    failed: list[FailedRecord]
    window_state: bytes | None
    times_ms: list[int]


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): doubling from 0.2 s, capped."""
    return float(min(MAX_BACKOFF_S, 0.2 * 2 ** min(attempt - 1, 10)))


class DeliveryStream:
    """Runs one stream in this process until stopped (see the module docstring)."""

    def __init__(
        self,
        lake: Lake,
        config: StreamConfig,
        state_dir: Path,
        *,
        poll_records: int = POLL_RECORDS,
        poll_timeout: float = POLL_TIMEOUT_S,
    ) -> None:
        self.lake = lake
        self.config = config
        self.name = config.name
        self.ident = config.into
        self.state_dir = state_dir
        self.poll_records = poll_records
        self.poll_timeout = poll_timeout
        self.metrics = StreamMetrics(config.name, state_dir)
        self.buffer = Buffer(config.buffer_size_bytes, config.buffer_interval_s)
        self.errors = ErrorOutput(
            lake.catalog, config.errors_ident, stream=config.name, target=config.into
        )
        self.partitioner = Partitioner(config.partition_by)
        self.aggregator = make_aggregator(config)
        self.table: Table | None = None
        self.stage: Stage | None = None
        self.positions: dict[str, Position] = {}
        self.stop = threading.Event()

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None, until: Until | None = None) -> StreamStatus:
        """Deliver until ``stop`` is set or ``until(status)`` is true; returns the status."""
        self.stop = stop or threading.Event()
        try:
            stage = self.stage = self._prepare()
            source = self._open_source()
            if source is None:
                return self._finish("stopped")
            try:
                self._loop(source, stage, until)
            finally:
                source.close()
        except BaseException as exc:
            self._finish(f"failed: {exc}")
            raise
        return self._finish("stopped")

    def _finish(self, state: str) -> StreamStatus:
        self.metrics.set_state(state)
        self.metrics.set_buffer(self.buffer.records, self.buffer.bytes)
        self.metrics.save(force=True, running=False)
        return self.metrics.status

    def _prepare(self) -> Stage:
        """Load the table and the checkpoint; build decoder, converter and windows."""
        self.table = self._existing_table()
        checkpoint = read_checkpoint(self.table, self.name)
        self.positions = dict(checkpoint.positions)
        self.metrics.status.positions = dict(self.positions)
        if self.aggregator is not None and checkpoint.window_state is not None:
            self.aggregator.restore(checkpoint.window_state)
        self.errors.load()
        given = configured_schema(self.config)
        schema = given
        if self.aggregator is None and self.table is not None:
            schema = self.table.schema
        stage = Stage(
            decoder=make_stream_decoder(self.config, self.lake),
            converter=None if schema is None else self._converter(schema),
            max_record_bytes=self.config.max_record_bytes,
            partitioner=self.partitioner if self.aggregator is None else None,
            aggregator=self.aggregator,
            make_converter=self._converter,
            schema=schema,
            plain_json=self.config.format == "json"
            and not self.config.schema_subject
            and not self.config.schema_text,
            unknown_fields=self.config.unknown_fields,
        )
        target = stage.table_schema()
        if self.table is None and target is not None:
            self.table = self._create_table(target)
        return stage

    def _converter(self, schema: pa.Schema) -> Converter:
        return make_converter(schema, self.config.unknown_fields)

    def _open_source(self) -> StreamSource | None:
        """The source, opened after the committed positions; retried while unreachable."""
        attempt = 0
        while not self.stop.is_set():
            source = self.config.source.open_source(self.name, self.state_dir)  # type: ignore[attr-defined]
            try:
                source.open(dict(self.positions))
                self.metrics.set_state("running")
                self.metrics.save(force=True)
                return source
            except LakebedError as exc:
                source.close()
                if isinstance(exc, ConfigError):
                    raise
                attempt += 1
                self._unreachable(exc, attempt)
        return None

    def _unreachable(self, exc: Exception, attempt: int, cap: float | None = None) -> None:
        """Report the source down and wait (not past when the buffer is due: what was read
        before still goes in on time)."""
        self.metrics.set_state(f"source unreachable: {exc}")
        self.metrics.save(force=attempt == 1)
        wait = backoff(attempt)
        self.stop.wait(wait if cap is None else min(wait, cap))

    def _loop(self, source: StreamSource, stage: Stage, until: Until | None) -> None:
        failures = 0
        lag_at = 0.0
        while not self.stop.is_set():
            wait = self.buffer.seconds_until_due()
            timeout = self.poll_timeout if wait is None else min(self.poll_timeout, wait)
            try:
                records = source.poll(self.poll_records, timeout)
                if failures:
                    failures = 0
                    self.metrics.set_state("running")
            except (LakebedError, OSError) as exc:
                failures += 1
                records = []
                self._unreachable(exc, failures, self.buffer.seconds_until_due())
            while records:  # deliver at the size hint, even inside a large poll
                records = self._take(records, stage)
                if self.buffer.due():
                    self._deliver(source, stage)
            if self.buffer.due():
                self._deliver(source, stage)
            if time.monotonic() - lag_at >= LAG_EVERY_S:
                lag_at = time.monotonic()
                self._lag(source)
            self.metrics.set_buffer(self.buffer.records, self.buffer.bytes)
            self.metrics.save()
            if until is not None and until(self.metrics.status):
                break
        self._deliver(source, stage)  # graceful stop: what is buffered goes in

    def _lag(self, source: StreamSource) -> None:
        with contextlib.suppress(Exception):  # best effort: the next poll reports trouble
            self.metrics.set_lag(source.lag())

    def _take(self, records: list[StreamRecord], stage: Stage) -> list[StreamRecord]:
        """Buffer records up to the size hint; returns those that did not fit."""
        room, total, cut = self.buffer.size_bytes - self.buffer.bytes, 0, len(records)
        for index, record in enumerate(records):
            total += len(record.value)
            if total >= room:
                cut = index + 1
                break
        records, rest = records[:cut], records[cut:]
        polled_ms = int(time.time() * 1000)
        self.metrics.polled(len(records), total)  # the loop summed exactly the kept records
        rows, failed = stage.process(records)
        if self.table is None:
            target = stage.table_schema()
            if target is not None:
                self.table = self._create_table(target)
        self.metrics.errored(f.error.kind for f in failed)
        self.buffer.add(records, rows, failed, polled_ms=polled_ms)
        return rest

    # -- delivery ---------------------------------------------------------------------------

    def _deliver(self, source: StreamSource, stage: Stage) -> None:
        if self.buffer.empty:
            return
        positions = merge_positions(dict(self.positions), self.buffer.positions)
        rows: pa.Table | None
        window_state = None
        if self.aggregator is not None:
            emitted = self.aggregator.emit()
            window_state = self.aggregator.state()
            rows = stage.window_rows(emitted)
        else:
            rows = self.buffer.rows_table(self.table.schema) if self.table is not None else None
        delivery = Delivery(
            batch_id=uuid.uuid4().hex,
            positions=positions,
            advanced=dict(self.buffer.positions),
            rows=rows,
            failed=list(self.buffer.failed),
            window_state=window_state,
            times_ms=list(self.buffer.times_ms),
        )
        snapshot_id, committed = self._commit_with_retries(delivery)
        self.buffer.clear()
        if not committed:
            return  # no table to commit positions to: the records are read again on restart
        self.positions = positions
        try:
            source.acknowledge(delivery.advanced)
        except Exception as exc:  # the commit stands; the source catches up on the next ack
            self.metrics.set_state(f"running (acknowledge failed: {exc})")
        else:
            if self.metrics.status.state.startswith("running (acknowledge failed"):
                self.metrics.set_state("running")
        self.metrics.committed(
            snapshot_id=snapshot_id,
            records=0 if rows is None else rows.num_rows,
            errors=len(delivery.failed),
            positions=positions,
            times_ms=delivery.times_ms,
        )

    def _commit_with_retries(self, delivery: Delivery) -> tuple[int | None, bool]:
        attempt = 0
        while True:
            try:
                result = self._commit(delivery, retry=attempt > 0)
                if attempt:
                    self.metrics.set_state("running")
                return result
            except Exception as exc:  # any failure: retry, never ack
                attempt += 1
                self.table = None  # load afresh: it may have been dropped and created again
                self.errors.forget_table()
                self.metrics.set_state(f"commit failing: {exc}")
                self.metrics.save(force=True)
                if self.stop.is_set() and attempt >= ATTEMPTS_WHEN_STOPPING:
                    raise
                if self.stop.is_set():
                    time.sleep(min(backoff(attempt), 2.0))
                else:
                    self.stop.wait(backoff(attempt))

    def _commit(self, delivery: Delivery, *, retry: bool = False) -> tuple[int | None, bool]:
        """Commit the failures, then the rows; a ``retry`` first checks whether an earlier,
        ambiguous attempt landed (a first attempt's fresh batch id cannot have)."""
        self.errors.write(delivery.failed, delivery.positions, delivery.batch_id, retry=retry)
        table = self.table = self.table or self._resolve_table()
        if table is None:
            return None, False
        if not (retry and landed(table, self.name, delivery.batch_id)):
            summary, props = checkpoint_properties(
                table, self.name, delivery.positions, delivery.batch_id, delivery.window_state
            )
            schema = delivery.rows.schema if delivery.rows is not None else table.schema
            try:
                with table.begin_write(schema) as pending:
                    if delivery.rows is not None and delivery.rows.num_rows:
                        pending.write(delivery.rows)
                    pending.commit(summary, table_properties=props)
            except LakebedError:
                if not landed(table, self.name, delivery.batch_id):
                    raise
        current = table.current_snapshot()
        return (None if current is None else current.snapshot_id), True

    # -- the table --------------------------------------------------------------------------

    def _resolve_table(self) -> Table | None:
        """The target table: loaded, or created once its schema is known (None till then)."""
        table = self._existing_table()
        if table is None and self.stage is not None:
            schema = self.stage.table_schema()
            if schema is not None:
                table = self._create_table(schema)
        return table

    def _existing_table(self) -> Table | None:
        catalog = self.lake.catalog
        if not catalog.table_exists(self.ident):
            return None
        table = catalog.load_table(self.ident)
        if not isinstance(table, Table):
            raise ConfigError(
                f"{self.ident} is an external table; streams deliver into Iceberg tables",
                fix="deliver into another table, or drop the external table first",
            )
        self.partitioner.check_table(table.partition_by, self.ident)
        return table

    def _create_table(self, schema: pa.Schema) -> Table:
        existing = self._existing_table()
        if existing is not None:
            return existing
        catalog = self.lake.catalog
        catalog.create_database(self.config.table.database, exist_ok=True)
        return catalog.create_table(
            self.ident,
            schema,
            partition_by=self.config.partition_by,
            description=self.config.description or f"delivered by stream {self.name}",
            exist_ok=True,
        )
