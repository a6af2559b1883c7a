"""The Spark engine: recipes on PySpark, for data that outgrows one machine's DuckDB.

Operations write SQL in DuckDB's dialect; this engine translates it with sqlglot (unless it is
:class:`~lakebed.transform.ops.base.Native`) and runs it with ``spark.sql``. The session is
configured so the same SQL means the same thing on both engines: UTC session time zone,
``TIMESTAMP`` meaning a timestamp without time zone (as in DuckDB), ANSI mode off (bad casts give
NULL), lenient date parsing. Starting Spark takes seconds, so one SparkContext is started lazily
and shared by every engine in the process; each engine works in its own session (its own
temporary views and settings) on top of it.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakebed.errors import ConfigError, QueryError
from lakebed.transform.engines.base import ROW_SHIFT, Engine, first_line
from lakebed.transform.engines.spark_types import arrow_schema, quote, schema_ddl
from lakebed.transform.ops.base import ROW, Native

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_lock = threading.Lock()
_shared: SparkSession | None = None
_log_dir: tempfile.TemporaryDirectory[str] | None = None

_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""

SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
"""SQL settings every engine session gets: what makes Spark agree with DuckDB."""

ROW_GROUP_BYTES = 16 << 20
"""Parquet row-group size of the files :meth:`SparkEngine.write_parquet` writes."""


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence pyspark's import-time version warnings (pandas 3 support)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")
        warnings.filterwarnings("ignore", message=".*PySpark.*", category=FutureWarning)
        yield


def shared_session(master: str = "local[2]") -> SparkSession:
    """The process's Spark session, started on first use (Java from the machine)."""
    global _shared, _log_dir
    with _lock:
        if _shared is not None:
            running = _shared.sparkContext.master
            if running != master:
                raise ConfigError(
                    f"this process already runs Spark with master {running!r}, not {master!r}",
                    fix="use one master per process, or pass spark=<your SparkSession>",
                )
            return _shared
        with _quiet():
            from pyspark.sql import SparkSession

            if master.startswith("local"):
                os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            _log_dir = tempfile.TemporaryDirectory(prefix="lakebed-spark-log-")
            log4j = Path(_log_dir.name, "log4j2.properties")
            log4j.write_text(_LOG4J)
            builder = (
                SparkSession.builder.master(master)
                .appName("lakebed")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log4j}")
                .config("spark.sql.shuffle.partitions", "4")
                # local mode runs every task in the driver: its 1 GiB default heap is too small
                # for millions of rows (LAKEBED_SPARK_DRIVER_MEMORY overrides)
                .config("spark.driver.memory", os.environ.get("LAKEBED_SPARK_DRIVER_MEMORY", "4g"))
            )
            for key, value in SESSION_CONF.items():
                builder = builder.config(key, value)
            _shared = builder.getOrCreate()
            _shared.sparkContext.setLogLevel("ERROR")
            # pyspark logs every failed query's Java stack trace; lakebed raises QueryError
            logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
        atexit.register(stop_shared_session)
        return _shared


def stop_shared_session() -> None:
    """Stop the process's Spark session (the next engine starts a new one)."""
    global _shared, _log_dir
    with _lock:
        if _shared is not None:
            _shared.stop()
            _shared = None
        if _log_dir is not None:
            _log_dir.cleanup()
            _log_dir = None


class SparkEngine(Engine):
    """Runs recipe steps as Spark temporary views (each engine in its own Spark session).

    ``master`` picks the process-wide SparkContext (``local[2]`` by default; every engine in a
    process shares it). ``shuffle_partitions`` sizes sorts and aggregations: small for small
    data, about the cores x 2-3 for large jobs. ``conf`` adds SQL settings to this engine's
    session; ``spark`` uses an existing session (a cluster) instead of the shared local one.
    """

    dialect = "spark"

    def __init__(
        self,
        *,
        master: str = "local[2]",
        shuffle_partitions: int = 4,
        conf: Mapping[str, str] | None = None,
        spark: SparkSession | None = None,
        temp_directory: str | None = None,
    ) -> None:
        base = spark if spark is not None else shared_session(master)
        with _quiet():
            self.spark: SparkSession = base.newSession()
            for key, value in {
                **SESSION_CONF,
                "spark.sql.shuffle.partitions": str(shuffle_partitions),
                **(conf or {}),
            }.items():
                self.spark.conf.set(key, value)
        self._tmp: str | None = tempfile.mkdtemp(prefix="lakebed-spark-", dir=temp_directory)
        self._views: set[str] = set()
        self._seq = 0
        self._cached: list[DataFrame] = []

    # -- loading --------------------------------------------------------------------------------
    def load_files(self, name: str, files: Sequence[str], schema: pa.Schema) -> None:
        if not files:
            self.load_arrow(name, schema.empty_table())
            return
        from pyspark.sql import functions as F

        jvm, hadoop = self._hadoop()
        index: list[Any] = []
        for i, file in enumerate(files):
            path = jvm.org.apache.hadoop.fs.Path(file)
            uri = str(path.getFileSystem(hadoop).makeQualified(path).toUri().toString())
            # Spark reports local files as file:/path (no empty authority)
            index += [F.lit(uri.replace("file:///", "file:/", 1)), F.lit(i)]
        with self._errors():
            df = self.spark.read.schema(schema_ddl(schema)).parquet(*files)
            file_index = F.element_at(F.create_map(*index), F.col("_metadata.file_path"))
            row = F.shiftleft(file_index.cast("bigint"), ROW_SHIFT) + F.col("_metadata.row_index")
            df = df.select(*[F.col(quote(f.name)) for f in schema], row.alias(ROW))
            self._register(name, df)

    def load_arrow(self, name: str, data: pa.Table) -> None:
        assert self._tmp is not None, "the engine is closed"
        self._seq += 1
        path = os.path.join(self._tmp, f"arrow-{self._seq}.parquet")
        rows = pa.array(range(data.num_rows), pa.int64())
        table = data.append_column(ROW, rows)
        pq.write_table(table, path, coerce_timestamps="us", allow_truncated_timestamps=True)
        ddl = schema_ddl(table.schema)
        with self._errors():
            self._register(name, self.spark.read.schema(ddl).parquet(path))

    # -- SQL ------------------------------------------------------------------------------------
    def create_view(self, name: str, sql: str) -> None:
        with self._errors():
            self._register(name, self.spark.sql(self._translate(sql)))

    def query(self, sql: str) -> pa.Table:
        with self._errors():
            df = self.spark.sql(self._translate(sql))
            return self._arrow(df)

    def schema(self, name: str) -> pa.Schema:
        with self._errors():
            return self._schema(self._df(name))

    def materialize(
        self, name: str, columns: Sequence[str] | None = None, *, sort: bool = True
    ) -> str:
        """Cache the relation (memory, spilling to disk) under a new view name. Spark keeps
        no row order between partitions, so ``sort`` changes nothing: output is sorted."""
        self._seq += 1
        cached = f"materialized_{self._seq}"
        with self._errors():
            df = self._df(name)
            if columns is not None:
                df = df.select(ROW, *(quote(c) for c in columns))
            df = df.persist()
            df.count()  # compute it now, once
            self._register(cached, df)
            self._cached.append(df)
        return cached

    def drop(self, name: str) -> None:
        with self._errors():
            self._df(name).unpersist()
            self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    # -- output ---------------------------------------------------------------------------------
    def to_arrow(self, name: str) -> pa.Table:
        """Relation ``name`` in row order as one Arrow table, collected in memory (previews).

        Sorted after collecting, which saves Spark a shuffle for the small results this is for.
        """
        with self._errors():
            table = self._arrow(self._df(name))
        return table.sort_by(ROW).drop_columns([ROW])

    def batches(
        self,
        name: str,
        batch_rows: int = 65_536,
        *,
        in_order: bool = False,
        exclude: str | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The rows in row order, in bounded memory: Spark writes them to temporary Parquet
        files, which are then read back one batch at a time (always sorted: Spark keeps no
        order between partitions)."""
        assert self._tmp is not None, "the engine is closed"
        self._seq += 1
        directory = os.path.join(self._tmp, f"out-{self._seq}")
        schema = self._schema(self._df(name))
        schema = pa.schema([f for f in schema if f.name != ROW])
        try:
            for file in self.write_parquet(name, directory, exclude=exclude):
                with pq.ParquetFile(file) as reader:
                    for batch in reader.iter_batches(batch_size=batch_rows):
                        yield batch.cast(schema)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def write_parquet(self, name: str, directory: str, *, exclude: str | None = None) -> list[str]:
        """Let Spark write relation ``name`` (without the row-order column) as Parquet files
        into ``directory`` (which must not exist); the files in row order, each ordered.

        Row groups are kept to :data:`ROW_GROUP_BYTES`, so reading a file back batch by batch
        (:meth:`batches`) holds one small row group at a time, not Spark's 128 MiB ones."""
        with self._errors():
            df = self._df(name)
            if exclude is not None:
                df = df.join(self._df(exclude).select(ROW), on=ROW, how="left_anti")
            df = df.orderBy(ROW).drop(ROW)
            writer = df.write.mode("errorifexists")
            writer.option("parquet.block.size", ROW_GROUP_BYTES).parquet(directory)
            jvm, hadoop = self._hadoop()
            path = jvm.org.apache.hadoop.fs.Path(directory)
            listing = path.getFileSystem(hadoop).listStatus(path)
            names = sorted(
                str(status.getPath().getName())
                for status in listing
                if str(status.getPath().getName()).startswith("part-")
            )
        return [f"{directory.rstrip('/')}/{n}" for n in names]

    def close(self) -> None:
        for df in self._cached:
            df.unpersist()
        self._cached.clear()
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        self._views.clear()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- helpers --------------------------------------------------------------------------------
    def _df(self, name: str) -> DataFrame:
        return self.spark.table(quote(name))

    def _hadoop(self) -> tuple[Any, Any]:
        """The JVM gateway and the Hadoop configuration (to resolve paths as Spark does)."""
        context: Any = self.spark.sparkContext
        return context._jvm, context._jsc.hadoopConfiguration()

    def _register(self, name: str, df: DataFrame) -> None:
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def _schema(self, df: DataFrame) -> pa.Schema:
        zone = self.spark.conf.get("spark.sql.session.timeZone") or "UTC"
        return arrow_schema(df.schema.jsonValue(), zone)

    def _arrow(self, df: DataFrame) -> pa.Table:
        schema = self._schema(df)
        with _quiet():
            table = df.toArrow()
        return table.rename_columns(schema.names).cast(schema)

    def _translate(self, sql: str) -> str:
        if isinstance(sql, Native):
            return str(sql)
        import sqlglot

        try:
            return ";\n".join(sqlglot.transpile(sql, read="duckdb", write="spark"))
        except sqlglot.errors.SqlglotError as exc:
            raise QueryError(
                f"cannot translate SQL to Spark: {first_line(exc)}",
                fix="write the step's SQL for Spark and return it as Native when dialect is spark",
            ) from exc

    @contextmanager
    def _errors(self) -> Iterator[None]:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        try:
            with _quiet():
                yield
        except PySparkException as exc:
            raise QueryError(f"Spark cannot run: {first_line(exc)}") from exc
        except Py4JJavaError as exc:  # Java errors pyspark does not translate (I/O, Hadoop)
            cause = exc.java_exception.toString() if exc.java_exception is not None else exc
            raise QueryError(f"Spark failed: {first_line(Exception(str(cause)))}") from exc
