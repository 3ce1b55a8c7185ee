"""Batch scoring on Apache Spark (`predict.engine: spark`) with the registered champion.

The rows are scored by MLflow's `spark_udf` around the same pyfunc `make serve` serves, which
ranks with the local engine's `score_chunk`: both engines write the same columns and values.
Bad input is refused before any JVM starts (same messages as the local engine), and the
output folder replaces the previous one only once the whole job has succeeded.
pyspark is imported inside functions only: the local engine never loads it.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

from domain_classifier.data.tables import atomic_dir, check_columns, iter_table, table_format
from domain_classifier.errors import InputError
from domain_classifier.models.saved import read_meta
from domain_classifier.models.scoring import REVIEW_COLUMN
from domain_classifier.serving.predict import PredictParams, SparkParams, batch_stats

SCORES = "__scores"
# The line of a Spark or Python error that says what went wrong (the first is often generic).
_ERROR_LINE = re.compile(r"^(\[[A-Z_.]+\]|[\w.]*(Error|Exception): )")


def predict_on_spark(model_uri: str, params: PredictParams, params_file) -> dict:
    """Score params.input into the Parquet folder params.output with the MLflow model at
    `model_uri` (tracking store from `params_file`); rows, blank titles, rows per second,
    and the seconds Spark took to start. Uses the active SparkSession if there is one."""
    start = time.perf_counter()
    check_input(params.input, params.text_column)
    # Imported once the input is known good: loading MLflow prints warnings of its own.
    from domain_classifier.models.calibrated import saved_review_threshold
    from domain_classifier.models.fetch import download_model
    from domain_classifier.models.pyfunc import ARTIFACT

    with tempfile.TemporaryDirectory(prefix="spark-model-") as tmp:
        # One local copy of the URI: the driver reads the labels (how many top-k columns
        # there are) from it, and Spark ships it to the executors.
        model_path = download_model(model_uri, params_file, tmp)
        try:
            labels = read_meta(artifact_dir(model_path, ARTIFACT))["labels"]
            threshold = saved_review_threshold(
                artifact_dir(model_path, ARTIFACT), params.review_precision
            )
        except Exception:  # a model directory, or a model not logged by this project
            raise InputError(
                f"{model_uri}: not a title model logged to MLflow by this project "
                "(the spark engine scores an MLflow model URI such as models:/<name>@champion)"
            ) from None
        spark, own, startup = session(params.spark)
        try:
            k = min(params.top_k, len(labels))
            rows, blanks, filed = score_folder(spark, model_path, params, k, threshold)
        finally:
            if own:
                spark.stop()
    filed = None if threshold is None else filed
    stats = batch_stats(params.input, rows, blanks, time.perf_counter() - start, filed)
    return {**stats, "startup_seconds": startup}


def artifact_dir(model_path: Path, name: str) -> Path:
    """Where a pyfunc model keeps the artifact logged as `name` (its MLmodel says)."""
    from mlflow.models import Model

    flavor = Model.load(str(model_path)).flavors["python_function"]
    return model_path / flavor["artifacts"][name]["path"]


def check_input(path: str, text_column: str) -> None:
    """The local engine's checks, on the first rows only: readable, has the column, not empty."""
    for chunk in iter_table(path, 1):
        check_columns(chunk.columns, [text_column], path)
        if len(chunk):
            return
    raise InputError(f"{path}: table has no rows")


def session(settings: SparkParams):
    """(session, whether we started it, start-up seconds); an active session is reused."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False, 0.0
    start = time.perf_counter()
    # Local workers run this interpreter; on a cluster, PYSPARK_PYTHON names the executors'.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("domain-classifier predict").config(
        "spark.ui.showConsoleProgress", "false"
    )
    # Under spark-submit (it hands Python its JVM's port) the command line has chosen the
    # master and the driver's memory already; the params would silently override them.
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = (
            builder.master(settings.master)
            .config("spark.driver.memory", settings.driver_memory)
            .config("spark.ui.enabled", "false")
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark, True, time.perf_counter() - start


def score_folder(
    spark, model_path: Path, params: PredictParams, k: int, threshold: float | None = None
) -> tuple[int, int, int]:
    """Run the job into a staging folder that replaces params.output only on success;
    (rows, null or blank titles, rows auto-filed: needs_review false)."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        with atomic_dir(params.output) as staging:
            scored = with_review(scored_frame(spark, model_path, params, k), threshold)
            scored.write.mode("overwrite").parquet(str(staging))
            return output_counts(spark, staging)
    except (PySparkException, Py4JJavaError) as exc:
        raise InputError(f"{params.input}: Spark job failed: {_reason(exc)}") from None


def scored_frame(spark, model_path: Path, params: PredictParams, k: int):
    """Every input column (a same-named prediction column is replaced) plus the predictions."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    from domain_classifier.models.pyfunc import output_schema

    # One Arrow batch handed to the model holds at most chunk_rows titles, as locally.
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(params.chunk_rows))
    frame = spread(spark, read_frame(spark, params.input), params.spark.partitions)
    names = [name for name, _ in output_schema(k)]
    kinds = {"string": StringType(), "double": DoubleType()}
    result = StructType([StructField(n, kinds[t]) for n, t in output_schema(k)])
    udf = mlflow.pyfunc.spark_udf(
        spark, str(model_path), result_type=result, env_manager="local", params={"top_k": k}
    )
    kept = [_col(c) for c in frame.columns if c not in (*names, REVIEW_COLUMN)]
    scored = frame.withColumn(SCORES, udf(_col(params.text_column)))
    return scored.select(*kept, *[_unscored_as_null(F.col(SCORES), n) for n in names])


def with_review(frame, threshold: float | None):
    """The local engine's needs_review (predict.flag_review): probability below `threshold`,
    null for an unscored title or when there is no threshold."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType

    if threshold is None:
        return frame.withColumn(REVIEW_COLUMN, F.lit(None).cast(BooleanType()))
    probability = F.col("probability")
    flag = F.when(probability.isNull(), F.lit(None)).otherwise(probability < F.lit(threshold))
    return frame.withColumn(REVIEW_COLUMN, flag)


def _unscored_as_null(scores, name: str):
    """A prediction field, null where the title was not scored. MLflow casts a struct's
    string fields with `astype(str)`, so a null domain arrives as the text "None" or "<NA>";
    the scorer's NaN probability for the same rank survives and says which rows those are."""
    from pyspark.sql import functions as F

    rank = name.replace("predicted_domain", "probability").replace("_domain", "_probability")
    unscored = F.isnan(scores[rank]) | scores[rank].isNull()
    return F.when(unscored, F.lit(None)).otherwise(scores[name]).alias(name)


def read_frame(spark, path: str):
    """Parquet, or CSV read as the local engine reads it: header, every column a string,
    only an empty field is null; a malformed row fails the job instead of becoming nulls."""
    location = str(Path(path).resolve())
    if table_format(path) == ".parquet":
        return spark.read.parquet(location)
    return spark.read.csv(
        location,
        header=True,
        inferSchema=False,
        nullValue="",
        encoding="UTF-8",
        escape='"',
        multiLine=True,
        mode="FAILFAST",
    )


def spread(spark, frame, partitions: int):
    """A batch read as one split would use one core: give it `partitions` tasks, or
    (partitions 0) at least one per core."""
    have = frame.rdd.getNumPartitions()
    want = partitions or max(have, spark.sparkContext.defaultParallelism)
    return frame if want == have else frame.repartition(want)


def output_counts(spark, folder: Path) -> tuple[int, int, int]:
    from pyspark.sql import functions as F

    row = (
        spark.read.parquet(str(folder))
        .select(
            F.count("*"),
            F.count_if(F.col("predicted_domain").isNull()),
            F.count_if(~F.col(REVIEW_COLUMN)),
        )
        .first()
    )
    return int(row[0]), int(row[1]), int(row[2])


def _col(name: str):
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _reason(exc: Exception) -> str:
    """One line saying why a Spark job failed, out of a multi-line Java or Python trace."""
    java = getattr(exc, "java_exception", None)
    lines = [line.strip() for line in str(java if java is not None else exc).splitlines()]
    lines = [line for line in lines if line]
    telling = [line for line in lines if _ERROR_LINE.match(line)]
    return ((telling or lines or [type(exc).__name__])[0])[:300]
