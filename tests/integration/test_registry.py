"""A sixth family is one module plus one registry line: training, evaluate, select and loading
pick it up from the registry with no other code change."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from domain_classifier.families import registry
from domain_classifier.models.loading import load_model

# Every setting the plan stage would derive, written: the training command needs no plan file.
SEARCH = {
    "max_trials": 2,
    "num_initial_points": 1,
    "cv_folds": 2,
    "tune_rows": 0,
    "max_train_rows": 0,
}

TOY_MODULE = """
import dataclasses

from sklearn.naive_bayes import ComplementNB

from domain_classifier.families.classical import (TFIDF_FEATURES, SklearnTitleModel,
                                                  classical_trainer)
from domain_classifier.families.family import Family
from domain_classifier.families.tuning import CrossValidatedParams

@dataclasses.dataclass(frozen=True)
class ToyParams(CrossValidatedParams):
    space: dict = dataclasses.field(default_factory=lambda: {"alpha": [0.1, 1.0]})


def build(values, params):
    return ComplementNB(**values)


FAMILY = Family("toy", ToyParams, classical_trainer(build), SklearnTitleModel, TFIDF_FEATURES)
"""


@pytest.fixture
def toy_registered(tmp_path, monkeypatch):
    (tmp_path / "toy_family.py").write_text(TOY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.MODULES, "toy", "toy_family")  # the one registry line
    yield
    sys.modules.pop("toy_family", None)


def invoke(command, args):
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    return result.output


def write_splits(catalogue, split, seed: int):
    """The 90 titles shuffled into 60 train, 15 val and 15 test rows under `split`."""
    split.mkdir()
    shuffled = catalogue.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    for name, part in zip(
        ("train", "val", "test"), (shuffled[:60], shuffled[60:75], shuffled[75:])
    ):
        part.to_parquet(split / f"{name}.parquet")
    return split


def test_a_toy_family_trains_evaluates_and_becomes_champion(
    toy_registered, small_catalogue, tmp_path
):
    from domain_classifier.training import training_command
    from stages import baseline, evaluate, select, tokenize

    split = write_splits(small_catalogue, tmp_path / "split", seed=0)
    params = tmp_path / "params.yaml"
    params.write_text(
        json.dumps(
            {
                "tokenize": {"min_df": 1},
                "evaluate": {"families": ["toy"]},
                "baseline": {},
                "train_toy": {"seed": 3, **SEARCH},
                "mlflow": {"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"},
            }
        )
    )
    features, models = tmp_path / "features", tmp_path / "models"
    invoke(
        tokenize.main,
        ["--params", str(params), "--split-dir", str(split), "--out-dir", str(features)],
    )
    invoke(
        training_command(registry.get("toy")),
        [
            "--params",
            str(params),
            "--features",
            str(features),
            "--out",
            str(models / "toy"),
            "--metrics",
            str(tmp_path / "toy.json"),
            "--trials",
            str(tmp_path / "toy.csv"),
            "--split-dir",
            str(split),
        ],
    )
    reference = tmp_path / "baseline.json"
    invoke(
        baseline.main,
        [
            *("--params", str(params), "--split-dir", str(split)),
            *("--metrics", str(reference), "--out", str(models / "baseline")),
        ],
    )
    invoke(
        evaluate.main,
        [
            "--params",
            str(params),
            "--split-dir",
            str(split),
            "--models-dir",
            str(models),
            "--metrics",
            str(tmp_path / "evaluate.json"),
            "--scores-dir",
            str(tmp_path / "scores"),
            "--plots-dir",
            str(tmp_path / "plots"),
        ],
    )
    evaluation = json.loads((tmp_path / "evaluate.json").read_text())
    assert json.loads((tmp_path / "scores/toy.json").read_text()) == {
        "val_macro_f1": evaluation["toy"]["val"]["macro_f1"],
        "test_macro_f1": evaluation["toy"]["test"]["macro_f1"],
    }
    # The reference row is there, scored on the same val/test rows from its saved model (the
    # same numbers as its own stage's), and the toy family's row says how far it is from it.
    assert evaluation["baseline"]["test"]["rows"] == evaluation["toy"]["test"]["rows"]
    own = json.loads(reference.read_text())
    for part in ("val", "test"):
        assert evaluation["baseline"][part]["macro_f1"] == own[part]["macro_f1"]
        toy = evaluation["toy"][part]
        assert toy["minus_baseline"] == pytest.approx(
            toy["macro_f1"] - evaluation["baseline"][part]["macro_f1"]
        )
        assert toy["minus_baseline_low"] <= toy["minus_baseline_high"]
    invoke(
        select.main,
        [
            "--params",
            str(params),
            "--evaluation",
            str(tmp_path / "evaluate.json"),
            "--models-dir",
            str(models),
            "--metrics",
            str(tmp_path / "champ.json"),
            "--split-dir",
            str(split),
            "--calibration",
            str(tmp_path / "calibration.json"),
            "--plots-dir",
            str(tmp_path / "plots/calibration"),
        ],
    )
    assert json.loads((tmp_path / "champ.json").read_text())["family"] == "toy"
    assert json.loads((tmp_path / "calibration.json").read_text())["calibrated_family"] == "toy"
    assert (tmp_path / "plots/calibration/coverage_precision.csv").is_file()
    champion = load_model(models / "champion")
    assert champion.family == "toy"
    assert champion.predict_proba(["Shampoo Anticaspa 300ml"]).argmax() == champion.labels.index(
        "MLB-SHAMPOOS"
    )


def test_an_unknown_family_is_refused_by_name():
    from domain_classifier.errors import InputError

    with pytest.raises(InputError, match="unknown model family 'nope'"):
        registry.get("nope")


def test_the_svm_stage_makes_its_own_features_from_the_train_titles(small_catalogue, tmp_path):
    from domain_classifier.families.svm import FAMILY as SVM
    from domain_classifier.training import training_command
    from stages import tokenize

    split = write_splits(small_catalogue, tmp_path / "split", seed=1)
    params = tmp_path / "params.yaml"
    section = {"seed": 3, **SEARCH}
    params.write_text(
        json.dumps(
            {
                "tokenize": {"min_df": 1},
                "train_svm": {**section, "char_ngram_range": [3, 4]},
                "mlflow": {"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"},
            }
        )
    )
    features = tmp_path / "features"
    invoke(
        tokenize.main,
        ["--params", str(params), "--split-dir", str(split), "--out-dir", str(features)],
    )
    out = tmp_path / "models" / "svm"
    invoke(
        training_command(SVM),
        [
            *("--params", str(params), "--features", str(features), "--out", str(out)),
            *("--metrics", str(tmp_path / "svm.json"), "--trials", str(tmp_path / "svm.csv")),
            *("--split-dir", str(split)),
        ],
    )
    model = load_model(out)
    # Its vocabulary is its own (char_wb 3-4-grams of the titles), its labels tokenize's.
    assert model.vectorizer.transformer_list[1][1].ngram_range == (3, 4)
    assert model.labels == json.loads((features / "labels" / "labels.json").read_text())
    proba = model.predict_proba(["Shampoo Anticaspa Nova 250ml", "Capinha Silicone iPhone 99"])
    assert [model.labels[i] for i in proba.argmax(axis=1)] == [
        "MLB-SHAMPOOS",
        "MLB-CELLPHONE_COVERS",
    ]
