"""The PySpark peer: a ``local[2]`` session started once, untimed, and stopped afterwards.

Starting the JVM takes seconds that a long-running Spark cluster would not pay per job, so the
benchmark times jobs on a warm session and reports the start-up separately (see
:func:`spark_session`).
"""

from __future__ import annotations

import glob
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DRIVER_MEMORY = "6g"  # local mode runs everything in the driver; 24 GiB machine


def _java_home() -> str | None:
    """A Java 17 home (what Spark 4 is built for) when ``JAVA_HOME`` is not set."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    found = sorted(glob.glob("/usr/lib/jvm/java-17-openjdk-*"))
    return found[0] if found else None


@contextmanager
def spark_session() -> Iterator[tuple[SparkSession, float]]:
    """A ``local[2]`` SparkSession and the seconds its start-up (JVM launch) took."""
    home = _java_home()
    if home:
        os.environ["JAVA_HOME"] = home
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    start = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("lakebed-bench")
        .config("spark.driver.memory", DRIVER_MEMORY)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter() - start
    try:
        yield spark, started
    finally:
        spark.stop()


def csv_to_parquet(spark: SparkSession, folder: Path, out: Path) -> None:
    """What a Spark user writes: read with header and schema inference, write Parquet."""
    frame = spark.read.csv(str(folder), header=True, inferSchema=True)
    frame.write.mode("overwrite").parquet(str(out))


def parquet_rows(folder: Path) -> int:
    """Rows in every Parquet file of a Spark output folder (read from the footers)."""
    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*.parquet"))
