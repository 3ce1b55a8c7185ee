import numpy as np
import pandas as pd
import pytest

from domain_classifier.errors import InputError
from domain_classifier.families.registry import load_model
from domain_classifier.model_store import predict_labels
from domain_classifier.serving.predict import PredictParams, predict_file


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
