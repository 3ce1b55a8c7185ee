import io
import os
import time

import numpy as np
import pandas as pd
import pytest

from domain_classifier.errors import InputError
from domain_classifier.families.classical import SklearnTitleModel
from domain_classifier.models.loading import load_model
from domain_classifier.models.saved import predict_labels
from domain_classifier.progress import RowProgress
from domain_classifier.serving.predict import (
    ChunkScorer,
    PredictParams,
    predict_file,
    resolve_workers,
)


@pytest.fixture(scope="module")
def model(saved_sgd_dir):
    return load_model(saved_sgd_dir)


def test_saved_model_predicts_raw_titles(model):
    assert predict_labels(model, ["SHAMPOO ANTICASPA 400ML", "capinha iphone 15"]).tolist() == [
        "MLB-SHAMPOOS",
        "MLB-CELLPHONE_COVERS",
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_one_output_row_per_input_row_in_order_with_ids(model, tmp_path, suffix):
    batch = pd.DataFrame(
        {
            "item_id": [f"id{i}" for i in range(7)],
            "title": [
                "Shampoo Marca 300ml",
                "Capinha iPhone",
                None,
                "  ",
                "Liquidificador 220v",
                "Shampoo",
                "Capinha",
            ],
        }
    )
    src, out = tmp_path / f"batch{suffix}", tmp_path / f"out{suffix}"
    batch.to_parquet(src) if suffix == ".parquet" else batch.to_csv(src, index=False)
    stats = predict_file(
        model, PredictParams(input=str(src), output=str(out), top_k=2, chunk_rows=3)
    )
    scored = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert stats["rows"] == 7 and stats["blank_titles"] == 2
    assert scored["item_id"].tolist() == batch["item_id"].tolist()
    assert scored["predicted_domain"].tolist()[:2] == ["MLB-SHAMPOOS", "MLB-CELLPHONE_COVERS"]
    assert scored["predicted_domain"].isna().tolist() == [
        False,
        False,
        True,
        True,
        False,
        False,
        False,
    ]
    known = scored.dropna(subset=["predicted_domain"])
    assert (known["top1_probability"] >= known["top2_probability"]).all()
    assert np.allclose(known["probability"], known["top1_probability"])
    assert "top3_domain" not in scored


def test_missing_column_fails_without_leaving_output(model, tmp_path):
    src, out = tmp_path / "batch.csv", tmp_path / "out.csv"
    pd.DataFrame({"name": ["x"]}).to_csv(src, index=False)
    with pytest.raises(InputError, match="no column 'title'"):
        predict_file(model, PredictParams(input=str(src), output=str(out)))
    assert list(tmp_path.iterdir()) == [src]


def test_existing_output_survives_a_failed_run(model, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    with pytest.raises(InputError, match="file not found"):
        predict_file(model, PredictParams(input=str(tmp_path / "nope.csv"), output=str(out)))
    assert out.read_text() == "previous results\n"


def test_engines_can_take_turns_on_one_output_path(model, tmp_path):
    """The local engine's file replaces the Spark engine's folder of parts."""
    src, out = tmp_path / "batch.csv", tmp_path / "out.parquet"
    pd.DataFrame({"title": ["Shampoo Anticaspa 400ml"]}).to_csv(src, index=False)
    out.mkdir()
    (out / "part-00000.parquet").write_bytes(b"the spark engine's output")
    predict_file(model, PredictParams(input=str(src), output=str(out)))
    assert pd.read_parquet(out)["predicted_domain"].tolist() == ["MLB-SHAMPOOS"]


def test_bad_predict_params_are_named():
    from domain_classifier.params import parse_dataclass

    with pytest.raises(InputError, match="predict.top_k"):
        parse_dataclass(PredictParams, {"input": "a.csv", "output": "b.csv", "top_k": 0}, "predict")
    with pytest.raises(InputError, match="predict.output"):
        parse_dataclass(PredictParams, {"input": "a.csv", "output": "b.json"}, "predict")


def read_csv_as_text(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_every_input_column_is_copied_as_it_is(model, tmp_path):
    src, out = tmp_path / "batch.csv", tmp_path / "out.csv"
    src.write_text("title,country,code\nShampoo 300ml,NA,007\nNA,N/A,#N/A\nnull,,1.50\n")
    predict_file(model, PredictParams(input=str(src), output=str(out), top_k=1))
    scored = read_csv_as_text(out)
    assert scored[["title", "country", "code"]].equals(read_csv_as_text(src))
    # "NA" and "null" are titles like any other: they are scored, not taken as missing.
    assert (scored["predicted_domain"] != "").all()


def test_csv_output_defuses_spreadsheet_formulas_unless_turned_off(model, tmp_path):
    titles = ["=1+2 Shampoo", "+cmd|' /C calc'!A0", "-2 Capinha", "@SUM(A1)", "Shampoo"]
    src = tmp_path / "batch.parquet"
    pd.DataFrame({"title": titles}).to_parquet(src)
    for guard, expected in ((True, ["'" + t for t in titles[:4]] + titles[4:]), (False, titles)):
        out = tmp_path / f"out_{guard}.csv"
        predict_file(model, PredictParams(str(src), str(out), csv_formula_guard=guard))
        assert read_csv_as_text(out)["title"].tolist() == expected
    parquet_out = tmp_path / "out.parquet"
    predict_file(model, PredictParams(str(src), str(parquet_out)))
    assert pd.read_parquet(parquet_out)["title"].tolist() == titles


@pytest.mark.parametrize(
    "column, message",
    [
        (pd.Series([1, 2]), "column 'title' holds integer values, not text"),
        (pd.Series([1.5, None]), "column 'title' holds floating values, not text"),
        (pd.Series([b"a", b"b"]), "column 'title' holds bytes values, not text"),
    ],
)
def test_a_title_column_that_is_not_text_is_one_clear_error(model, tmp_path, column, message):
    src, out = tmp_path / "batch.parquet", tmp_path / "out.csv"
    pd.DataFrame({"title": column}).to_parquet(src)
    with pytest.raises(InputError, match=message):
        predict_file(model, PredictParams(str(src), str(out)))
    assert not out.exists()


def test_categorical_titles_are_scored_as_text(model, tmp_path):
    src, out = tmp_path / "batch.parquet", tmp_path / "out.parquet"
    titles = pd.Series(["Shampoo Marca 300ml", "Capinha iPhone"], dtype="category")
    pd.DataFrame({"title": titles}).to_parquet(src)
    predict_file(model, PredictParams(str(src), str(out)))
    assert pd.read_parquet(out)["predicted_domain"].tolist() == [
        "MLB-SHAMPOOS",
        "MLB-CELLPHONE_COVERS",
    ]


def test_input_columns_are_never_overwritten(model, tmp_path):
    src, out = tmp_path / "batch.csv", tmp_path / "out.csv"
    src.write_text("title,probability\nShampoo,high\n")
    with pytest.raises(InputError, match="has column.s. 'probability', which predict writes"):
        predict_file(model, PredictParams(str(src), str(out)))
    assert not out.exists()


def test_an_undecodable_title_names_its_row(model, tmp_path):
    src, out = tmp_path / "batch.csv", tmp_path / "out.csv"
    src.write_bytes(b"title\nShampoo\nJos\xe9 Lojas\n")
    with pytest.raises(InputError, match=r"column 'title', data row 2: not valid UTF-8"):
        predict_file(model, PredictParams(str(src), str(out)))
    assert not out.exists()


def test_a_truncated_model_file_is_one_clear_error(saved_sgd_dir, tmp_path):
    import shutil

    damaged = tmp_path / "model"
    shutil.copytree(saved_sgd_dir, damaged)
    biggest = max(damaged.iterdir(), key=lambda p: p.stat().st_size)
    biggest.write_bytes(biggest.read_bytes()[: biggest.stat().st_size // 2])
    with pytest.raises(InputError, match=rf"^{damaged}") as info:
        load_model(damaged)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "changes,where",
    [
        ({"engine": "gpu"}, r"param 'predict\.engine' must be one of local, spark"),
        ({"engine": "spark", "output": "b.csv"}, r"param 'predict\.output' must be a \.parquet"),
        ({"spark": {"driver_memory": "lots"}}, r"param 'predict\.spark\.driver_memory' must be"),
        ({"spark": {"master": " "}}, r"param 'predict\.spark\.master' must not be empty"),
        ({"spark": {"partitions": -1}}, r"param 'predict\.spark\.partitions' must be >= 0"),
        ({"spark": {"cores": 2}}, r"unknown param 'predict\.spark\.cores'"),
    ],
)
def test_bad_engine_params_are_named_in_one_line(changes, where):
    from domain_classifier.params import parse_dataclass

    with pytest.raises(InputError, match=f"^{where}") as failure:
        parse_dataclass(
            PredictParams, {"input": "a.csv", "output": "b.parquet", **changes}, "predict"
        )
    assert "\n" not in str(failure.value)


def test_two_workers_write_what_one_process_writes(model, tmp_path):
    titles = ["Shampoo Marca 300ml", "Capinha iPhone", None, " ", "Liquidificador 220v", "Batom"]
    batch = pd.DataFrame({"item_id": range(3000), "title": titles * 500})
    src = tmp_path / "batch.parquet"
    batch.to_parquet(src)
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.parquet"
        predict_file(model, PredictParams(str(src), str(out), chunk_rows=250, workers=workers))
        outputs[workers] = pd.read_parquet(out)
    assert outputs[2]["item_id"].tolist() == list(range(3000))
    pd.testing.assert_frame_equal(outputs[1], outputs[2], check_exact=True)


def test_only_fork_safe_models_are_spread_over_workers(model):
    assert model.fork_safe and ChunkScorer(model, 3, workers=2).workers == 2
    tree = SklearnTitleModel("hgb", model.vectorizer, model.classifier, model.labels)
    assert not tree.fork_safe and ChunkScorer(tree, 3, workers=2).workers == 1
    assert ChunkScorer(model, 3, workers=0).workers == resolve_workers(0) >= 1


def test_negative_workers_are_refused():
    with pytest.raises(InputError, match="predict.workers"):
        PredictParams("in.csv", "out.csv", workers=-1).check("predict")


class _DiesInWorkers:
    """A fork-safe model whose worker processes die, as under the kernel's OOM killer."""

    fork_safe, family, labels = True, "sgd", ["a", "b"]

    def __init__(self):
        self.parent = os.getpid()

    def predict_proba(self, titles):
        if os.getpid() != self.parent:
            os._exit(9)
        return np.tile([0.4, 0.6], (len(titles), 1))


def test_a_worker_that_dies_is_one_clear_error_not_a_hang(tmp_path):
    src, out = tmp_path / "batch.csv", tmp_path / "out.csv"
    pd.DataFrame({"title": ["x"] * 40}).to_csv(src, index=False)
    params = PredictParams(str(src), str(out), chunk_rows=10, workers=2)
    with pytest.raises(InputError, match="predict worker process died.*predict.chunk_rows"):
        predict_file(_DiesInWorkers(), params)
    assert not out.exists()


class _Slow:
    """A fork-safe model that takes a while per chunk."""

    fork_safe, family, labels = True, "sgd", ["a", "b"]

    def predict_proba(self, titles):
        time.sleep(0.05)
        return np.tile([0.4, 0.6], (len(titles), 1))


def test_scored_chunks_go_out_while_reading_goes_on():
    """Before, a chunk left only when four were in flight or reading had ended, so a batch of
    a few chunks showed all its progress at the end."""
    events = []

    def chunks():
        for i in range(3):
            if i == 2:
                time.sleep(1)  # the first two are scored by now
            events.append(f"read {i}")
            yield pd.DataFrame({"title": ["x"]}), np.array([False]), ["x"]
        events.append("end of input")

    with ChunkScorer(_Slow(), 1, workers=2) as scorer:
        for _ in scorer.ranked(chunks()):
            events.append("scored")
    assert events[3:5] == ["scored", "scored"]
    assert events[5:] == ["end of input", "scored"]


def test_the_bar_ends_on_the_rate_the_summary_gives():
    stream = io.StringIO()
    stream.isatty = lambda: True
    progress = RowProgress(total=300, stream=stream)
    for _ in range(3):
        progress.advance(100)
    seconds = progress.finish()
    last = stream.getvalue().split("\r")[-1]
    assert "300/300" in last
    assert f"{300 / seconds:,.0f} rows/s" in last


def test_without_a_terminal_progress_is_log_lines(caplog):
    stream = io.StringIO()
    with caplog.at_level("INFO", logger="domain_classifier.progress"):
        progress = RowProgress(total=200, stream=stream)
        progress.advance(100)
        progress.finish()
    assert stream.getvalue() == ""
    assert caplog.messages == ["scored 100 rows of 200 (50%)"]


def test_an_unknown_total_shows_the_count_so_far():
    stream = io.StringIO()
    stream.isatty = lambda: True
    progress = RowProgress(total=None, stream=stream)
    progress.advance(1500)
    progress.finish()
    assert "scoring 1.50k rows [" in stream.getvalue().split("\r")[-1]
