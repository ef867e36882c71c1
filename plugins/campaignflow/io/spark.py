"""The Spark session every job shares, and reading committed lake partitions into Spark."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from functools import cache
from typing import TYPE_CHECKING

from campaignflow.errors import SparkCannotReadLake
from campaignflow.io.lake import Dataset, Lake, PartitionRef
from campaignflow.io.storage import S3Store

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


def java_major_version() -> int | None:
    """Major version of the ``java`` on PATH (or JAVA_HOME), None if there is none."""
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    try:
        version = out.split('"')[1]
    except IndexError:
        return None
    head = version.split(".")[0]
    return int(version.split(".")[1]) if head == "1" else int(head)


CODEGEN_CACHE_ENTRIES = "2000"
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": os.environ.get("CAMPAIGNFLOW_SHUFFLE_PARTITIONS", "4"),
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Compiled query classes kept for reuse (static: set when a session or server starts). One date's
    # feature and segment jobs compile ~185 classes, almost all the same every date, but Spark keeps
    # 100: each date compiled them all again. With room for them a date compiles ~6 (its literals),
    # and a date's features took 8 s instead of 15 s (20 k customers, warm JVM, one process). Classes
    # are not shared between Spark Connect sessions: each Airflow task (a new session) compiles again.
    "spark.sql.codegen.cache.maxEntries": CODEGEN_CACHE_ENTRIES,
}
# Session settings a Connect client may change on a shared server (the rest is fixed at its start).
_RUNTIME_CONF = (
    "spark.sql.session.timeZone",
    "spark.sql.shuffle.partitions",
    "spark.sql.parquet.outputTimestampType",
    "spark.sql.sources.partitionColumnTypeInference.enabled",
)


def check_java() -> None:
    major = java_major_version()
    if major is None or major < 17:
        raise RuntimeError(
            f"Spark 4 needs Java 17+, found {major or 'no java'}: install openjdk-17-jre-headless or set JAVA_HOME"
        )


def get_spark() -> SparkSession:
    """The Spark session of the engine ``CAMPAIGNFLOW_SPARK`` selects (see :mod:`.spark_engine`)."""
    from campaignflow.io.spark_engine import configured_engine

    engine = configured_engine()
    return _session(engine.remote, engine.master)


@cache
def _session(remote: str | None, master: str | None) -> SparkSession:
    from pyspark.sql import SparkSession

    started = time.monotonic()
    if remote:
        spark = SparkSession.builder.remote(remote).getOrCreate()
        for key in _RUNTIME_CONF:
            spark.conf.set(key, SESSION_CONF[key])
    else:
        check_java()
        assert master is not None
        if master.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # in-process: no need for a routable address
        builder = SparkSession.builder.appName("campaignflow").master(master)
        for key, value in SESSION_CONF.items():
            builder = builder.config(key, value)
        builder = builder.config("spark.driver.memory", os.environ.get("CAMPAIGNFLOW_SPARK_DRIVER_MEMORY", "2g"))
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("WARN")
    log.info("spark %s attached (%s) in %.1f s", spark.version, remote or master, time.monotonic() - started)
    return spark


def is_connect(spark: SparkSession) -> bool:
    return type(spark).__module__.startswith("pyspark.sql.connect")


def read_table(lake: Lake, dataset: Dataset, start: str | None = None, end: str | None = None) -> DataFrame | None:
    """Committed partitions of a dataset in [start, end] as one DataFrame with a string ``dt``."""
    return read_dates(lake, dataset, lake.committed_dates(dataset, start, end))


def read_dates(lake: Lake, dataset: Dataset, dates: list[str]) -> DataFrame | None:
    """The given committed partitions of a dataset as one DataFrame with a string ``dt``; None for none."""
    if not dates:
        return None
    spark = get_spark()
    check_spark_can_read(lake)
    files = lake.spark_files(dataset.at(d) for d in dates)
    return spark.read.option("basePath", lake.store.spark_path(dataset.key)).parquet(*files)


def check_spark_can_read(lake: Lake) -> None:
    """Fail at once, not after minutes of retries, when Spark has no filesystem for an s3:// lake.

    Raises:
        SparkCannotReadLake: the lake is on S3 and the s3a filesystem (hadoop-aws jars) is absent.
    """
    if not isinstance(lake.store, S3Store):
        return
    spark = get_spark()
    if is_connect(spark):
        return  # the server's classpath is the deployment's business; it reports a missing filesystem itself
    jvm = spark.sparkContext._jvm
    assert jvm is not None  # a classic (not Connect) session has a JVM gateway
    try:
        jvm.java.lang.Class.forName("org.apache.hadoop.fs.s3a.S3AFileSystem")
    except Exception as err:  # py4j wraps ClassNotFoundException
        raise SparkCannotReadLake(
            f"the lake is {lake.uri} but this Spark has no s3a filesystem (hadoop-aws jars) to read it"
        ) from err


def stage_frame(lake: Lake, ref: PartitionRef, frame: DataFrame, sort_by: str = "customer_id") -> tuple[str, int]:
    """Write a Spark frame as one sorted file (deterministic bytes) under a fresh staging prefix."""
    staged = lake.stage(ref)
    out = frame.orderBy(sort_by).coalesce(1).cache()
    count = out.count()
    out.write.mode("overwrite").parquet(lake.staging_dir(staged))
    out.unpersist()
    return staged, count


def write_partition(
    lake: Lake, ref: PartitionRef, frame: DataFrame, meta: dict[str, object] | None = None, sort_by: str = "customer_id"
) -> dict[str, object]:
    """Stage a Spark frame (:func:`stage_frame`) and commit it."""
    staged, count = stage_frame(lake, ref, frame, sort_by)
    return lake.commit(ref, staged, count, meta)


def write_partitions(
    lake: Lake,
    dataset: Dataset,
    frame: DataFrame,
    dates: list[str],
    meta: dict[str, dict[str, object]] | None = None,
    sort_by: tuple[str, ...] = ("customer_id",),
) -> dict[str, int]:
    """Write a frame with a ``dt`` column as one committed partition per date, in one Spark job
    (:func:`stage_partitions`). Returns the row count per date."""
    batch, staged = stage_partitions(lake, dataset, frame, dates, sort_by)
    for dt, (source, count) in staged.items():
        lake.commit(dataset.at(dt), source, count, (meta or {}).get(dt))
    lake.store.delete_prefix(batch)
    return {dt: count for dt, (_, count) in staged.items()}


def stage_partitions(
    lake: Lake, dataset: Dataset, frame: DataFrame, dates: list[str], sort_by: tuple[str, ...] = ("customer_id",)
) -> tuple[str, dict[str, tuple[str, int]]]:
    """Stage a frame with a ``dt`` column as one partition per date, in one Spark job: the batch's
    staging prefix (delete it when done) and, per date, the staged prefix to commit and its rows.

    Each date's rows go to one sorted file (deterministic bytes); a date without rows gets an
    empty file with the frame's schema.
    """
    from pyspark.sql import functions as F

    batch = lake.stage(dataset.at("batch"))
    out = frame.where(F.col("dt").isin(dates)).repartition("dt").sortWithinPartitions("dt", *sort_by).cache()
    counts = {row["dt"]: int(row["count"]) for row in out.groupBy("dt").count().collect()}
    out.write.mode("overwrite").partitionBy("dt").parquet(lake.staging_dir(batch))
    empty = [d for d in dates if d not in counts]
    if empty:
        out.drop("dt").limit(0).coalesce(1).write.mode("overwrite").parquet(lake.staging_dir(f"{batch}/empty"))
    staged = {}
    for dt in dates:
        source = f"{batch}/dt={dt}"
        if dt not in counts:  # the empty file is copied to each empty date
            for key in lake.store.list_keys(f"{batch}/empty"):
                lake.store.write_bytes(f"{batch}/e-{dt}/{key.rsplit('/', 1)[-1]}", lake.store.read_bytes(key))
            source = f"{batch}/e-{dt}"
        staged[dt] = (source, counts.get(dt, 0))
    out.unpersist()
    return batch, staged
