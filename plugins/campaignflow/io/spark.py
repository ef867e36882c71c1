"""The Spark session every job shares, and reading committed lake partitions into Spark."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
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


@cache
def get_spark() -> SparkSession:
    """A local Spark session (``CAMPAIGNFLOW_SPARK_MASTER`` overrides local[*])."""
    major = java_major_version()
    if major is None or major < 17:
        raise RuntimeError(
            f"Spark 4 needs Java 17+, found {major or 'no java'}: install openjdk-17-jre-headless or set JAVA_HOME"
        )
    from pyspark.sql import SparkSession

    master = os.environ.get("CAMPAIGNFLOW_SPARK_MASTER", "local[2]")
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # in-process: no need for a routable address
    builder = (
        SparkSession.builder.appName("campaignflow")
        .master(master)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("CAMPAIGNFLOW_SHUFFLE_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", os.environ.get("CAMPAIGNFLOW_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    log.info("spark %s started (%s)", spark.version, spark.sparkContext.master)
    return spark


def read_table(lake: Lake, dataset: Dataset, start: str | None = None, end: str | None = None) -> DataFrame | None:
    """Committed partitions of a dataset in [start, end] as one DataFrame with a string ``dt``."""
    dates = lake.committed_dates(dataset, start, end)
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
    jvm = get_spark().sparkContext._jvm
    assert jvm is not None  # a classic (not Connect) session has a JVM gateway
    try:
        jvm.java.lang.Class.forName("org.apache.hadoop.fs.s3a.S3AFileSystem")
    except Exception as err:  # py4j wraps ClassNotFoundException
        raise SparkCannotReadLake(
            f"the lake is {lake.uri} but this Spark has no s3a filesystem (hadoop-aws jars) to read it"
        ) from err


def write_partition(
    lake: Lake, ref: PartitionRef, frame: DataFrame, meta: dict[str, object] | None = None, sort_by: str = "customer_id"
) -> dict[str, object]:
    """Write a Spark frame as one sorted file (deterministic bytes for the same rows) and commit it."""
    staged = lake.stage(ref)
    out = frame.orderBy(sort_by).coalesce(1).cache()
    count = out.count()
    out.write.mode("overwrite").parquet(lake.staging_dir(staged))
    out.unpersist()
    return lake.commit(ref, staged, count, meta)
