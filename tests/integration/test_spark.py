"""The Spark engine (`predict.engine: spark`): the registered champion scored by MLflow's
spark_udf gives what the local engine gives, bad input gets the same one-line errors, and a
failed job leaves the previous output in place.

One SparkSession (local[2]) serves every test here; the engine reuses an active session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from domain_classifier.data.tables import iter_table
from domain_classifier.demo.generator import generate_batch
from domain_classifier.errors import InputError
from domain_classifier.models.loading import load_model
from domain_classifier.params import load_section
from domain_classifier.serving.predict import PredictParams, predict_file
from tests.support.data import ROOT

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None, reason="no Java runtime for Spark (make java)"
)

ROWS = 3000
PREDICTIONS = (
    ["predicted_domain", "probability"]
    + [f"top{r}_{what}" for r in (1, 2, 3) for what in ("domain", "probability")]
    + ["needs_review"]
)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory, calibrated_sgd_dir):
    """A params file whose MLflow store holds calibrated_sgd_dir as `dc-spark@champion`."""
    import mlflow
    from mlflow import MlflowClient

    from domain_classifier.models.pyfunc import log_title_model
    from domain_classifier.tracking.runs import connect

    root = tmp_path_factory.mktemp("spark")
    params = {
        "mlflow": {"tracking_uri": f"sqlite:///{root}/mlflow.db", "registered_model": "dc-spark"},
        "predict": {
            "input": str(root / "batch.parquet"),
            "output": str(root / "scored.parquet"),
            "engine": "spark",
            "chunk_rows": 700,
            "spark": {"master": "local[2]", "driver_memory": "1g"},
        },
    }
    (params_file := root / "params.yaml").write_text(yaml.safe_dump(params))
    # Module-scoped, so set up before the per-test guard in conftest: a store another module's
    # fixture exported would otherwise win over this params file's.
    saved = os.environ.pop("MLFLOW_TRACKING_URI", None)
    assert connect(params_file) is not None
    with mlflow.start_run():
        version = mlflow.register_model(log_title_model(calibrated_sgd_dir), "dc-spark").version
    MlflowClient().set_registered_model_alias("dc-spark", "champion", version)
    # mlflow.set_tracking_uri exports the URI; the engine must find the store by its params.
    if saved is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = saved
    return root, params_file


@pytest.fixture(scope="module")
def batch(store) -> Path:
    """Demo titles with null, empty and whitespace titles among them, in several row groups."""
    root, _ = store
    generate_batch(root / "demo.parquet", ROWS, seed=5)
    frame = pd.read_parquet(root / "demo.parquet")
    frame["title"] = frame["title"].astype(object)
    frame.loc[frame.index[::97], "title"] = None
    frame.loc[frame.index[5::131], "title"] = ""
    frame.loc[frame.index[7::173], "title"] = "   "
    frame.to_parquet(root / "batch.parquet", index=False, row_group_size=1000)
    return root / "batch.parquet"


def read_scored(path: Path) -> pd.DataFrame:
    """A scored table, file or folder of parts, as the monitor reads it; in item order."""
    frame = pd.concat(iter_table(path, 1000), ignore_index=True)
    return frame.sort_values("item_id", ignore_index=True)


def assert_same_predictions(spark_out: pd.DataFrame, local_out: pd.DataFrame) -> None:
    assert spark_out["item_id"].tolist() == local_out["item_id"].tolist()
    for column in PREDICTIONS:
        left, right = spark_out[column], local_out[column]
        assert left.isna().tolist() == right.isna().tolist(), column
        if column.endswith("domain") or column == "needs_review":
            assert left.dropna().tolist() == right.dropna().tolist(), column
        else:
            np.testing.assert_allclose(left.dropna(), right.dropna(), rtol=0, atol=1e-6)


def test_spark_engine_equals_the_local_engine_row_for_row(spark, store, batch, calibrated_sgd_dir):
    from domain_classifier.serving.spark import predict_on_spark

    root, params_file = store
    params = load_section(PredictParams, "predict", params_file)
    Path(params.output).write_bytes(b"the local engine's output file, replaced by a folder")
    stats = predict_on_spark("models:/dc-spark@champion", params, params_file)
    local = root / "local.parquet"
    local_params = PredictParams(input=str(batch), output=str(local))
    local_stats = predict_file(load_model(calibrated_sgd_dir), local_params)

    source = pd.read_parquet(batch).sort_values("item_id", ignore_index=True)
    spark_out, local_out = read_scored(Path(params.output)), read_scored(local)
    assert len(spark_out) == ROWS and stats["rows"] == ROWS
    assert stats["blank_titles"] == int(local_out["predicted_domain"].isna().sum()) > 0
    # needs_review from the champion's calibration: some titles filed, some reviewed.
    assert 0 < stats["auto_filed"] == local_stats["auto_filed"] < ROWS - stats["blank_titles"]
    assert list(spark_out.columns) == list(source.columns) + PREDICTIONS
    pd.testing.assert_frame_equal(spark_out[source.columns], source, check_dtype=False)
    assert_same_predictions(spark_out, local_out)
    assert len(list(Path(params.output).glob("part-*.parquet"))) >= 2  # one task per core

    # CSV input (every column a string, an empty field null) scores the same titles.
    source.to_csv(root / "batch.csv", index=False)
    csv_params = PredictParams(
        input=str(root / "batch.csv"), output=str(root / "from_csv.parquet"), engine="spark"
    )
    predict_on_spark("models:/dc-spark@champion", csv_params, params_file)
    from_csv = read_scored(root / "from_csv.parquet")
    titles = source["title"].mask(source["title"] == "")
    assert from_csv["title"].isna().tolist() == titles.isna().tolist()
    assert from_csv["title"].dropna().tolist() == titles.dropna().tolist()
    assert_same_predictions(from_csv, local_out)


def test_failed_job_leaves_the_previous_output_in_place(spark, store, batch):
    from domain_classifier.serving.spark import predict_on_spark

    root, params_file = store
    parts = root / "parts"
    parts.mkdir()
    shutil.copy(batch, parts / "part-00000.parquet")
    (parts / "part-00001.parquet").write_bytes(b"not a parquet file, written by a broken job")
    output = root / "kept.parquet"
    output.mkdir()
    (output / "part-00000.parquet").write_bytes(b"previous good output")
    params = PredictParams(input=str(parts), output=str(output), engine="spark")
    with pytest.raises(InputError) as failure:
        predict_on_spark("models:/dc-spark@champion", params, params_file)
    message = str(failure.value)
    assert message.startswith(f"{parts}: Spark job failed: ") and "\n" not in message
    assert [p.name for p in output.iterdir()] == ["part-00000.parquet"]
    assert (output / "part-00000.parquet").read_bytes() == b"previous good output"
    assert not [p for p in root.iterdir() if p.name.startswith(".kept.parquet.")]


def test_spark_submit_runs_the_stage_as_the_readme_shows(store, batch):
    """The README's cluster form, on local[1]: the launcher file by path, the project on
    PYTHONPATH, spark-submit's --master winning over predict.spark.master."""
    root, params_file = store
    output = root / "submitted.parquet"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(PYTHONPATH=str(ROOT), PYSPARK_DRIVER_PYTHON=sys.executable)
    env.update(PYSPARK_PYTHON=sys.executable)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "spark-submit"), "--master", "local[1]"]
        + ["domain_classifier/serving/spark_submit.py", "--params", str(params_file)]
        + ["--output", str(output), "--trust"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"scored {ROWS} rows" in done.stdout
    scored = read_scored(output)
    assert len(scored) == ROWS
    assert scored["item_id"].tolist() == sorted(pd.read_parquet(batch)["item_id"])
    # local[1]: one core, so the engine spreads the batch over one task (partitions: 0).
    assert len(list(output.glob("part-*.parquet"))) == 1


def cli_error(params_file: Path, engine: str, table: Path, model: str) -> str:
    """Run the predict stage as a user does; its stderr, which must be its only output."""
    params = yaml.safe_load(params_file.read_text())
    params["predict"].update(input=str(table), engine=engine)
    (changed := table.parent / f"params_{engine}.yaml").write_text(yaml.safe_dump(params))
    done = subprocess.run(
        # --trust: the test model is no dvc.lock output; the input is what is checked here.
        [sys.executable, "-m", "stages.predict", "--params", str(changed), "--model", model]
        + ["--trust"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stderr


@pytest.mark.parametrize("case", ["missing column", "no rows", "missing file"])
def test_bad_input_gets_the_local_engines_one_line_error(store, saved_sgd_dir, tmp_path, case):
    _, params_file = store
    table = tmp_path / "in.parquet"
    if case == "missing column":
        pd.DataFrame({"name": ["Shampoo 400ml"]}).to_parquet(table)
    elif case == "no rows":
        pd.DataFrame({"title": pd.Series([], dtype=str)}).to_parquet(table)
    local = cli_error(params_file, "local", table, str(saved_sgd_dir))
    on_spark = cli_error(params_file, "spark", table, "models:/dc-spark@champion")
    assert on_spark == local
    assert on_spark.startswith(f"Error: {table}: ") and on_spark.count("\n") == 1
