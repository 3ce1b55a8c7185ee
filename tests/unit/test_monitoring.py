"""Drift monitoring: named shifts are caught and named, unshifted batches pass, bad input is named.

The reference is a quick SGD model trained on a 20k-row demo catalogue; batches come from
the demo generator, scored by the real predict code.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from domain_classifier.data.split import SplitParams, split_catalogue
from domain_classifier.data.tables import write_json
from domain_classifier.demo.generator import generate_batch, generate_catalogue
from domain_classifier.errors import InputError
from domain_classifier.evaluation.metrics import summary_metrics
from domain_classifier.families.registry import load_model
from domain_classifier.features import files
from domain_classifier.features.tokenize import TokenizeParams, build_vocabulary
from domain_classifier.model_store import predict_labels, save_model
from domain_classifier.monitoring import statistics as drift
from domain_classifier.monitoring.batch import summarize_batch
from domain_classifier.monitoring.checks import compare, run_monitor
from domain_classifier.monitoring.params import MonitorParams, ReferencePaths
from domain_classifier.monitoring.reference import build_reference
from domain_classifier.monitoring.report import metrics, render_report
from domain_classifier.params import parse_dataclass
from domain_classifier.serving.predict import PredictParams, predict_file
from tests.support.models import train_sgd_model

BATCH_ROWS = 4000
# Smaller samples keep 20+ monitored batches fast; the thresholds are the defaults.
PARAMS = MonitorParams(sample_size=2000, bootstrap_samples=500)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Splits, vocabulary, a saved champion and its test metrics, as the pipeline writes them."""
    root = tmp_path_factory.mktemp("monitor")
    generate_catalogue(root / "catalogue.parquet", 20000, seed=3)
    splits, _ = split_catalogue(pd.read_parquet(root / "catalogue.parquet"), SplitParams())
    (root / "split").mkdir()
    for name, frame in splits.items():
        frame.to_parquet(root / "split" / f"{name}.parquet")
    tokenize = TokenizeParams(word_max_features=5000, char_max_features=8000)
    train = splits["train"]
    save_model(train_sgd_model(train, tokenize), root / "champion")
    model = load_model(root / "champion")
    features = root / "features" / files.SEQUENCES
    features.mkdir(parents=True)
    files.write_sequences(
        features,
        build_vocabulary(train["title"], tokenize),
        tokenize.text,
        tokenize.sequence_length,
        {},
    )
    test = splits["test"]
    test_f1 = summary_metrics(test["domain"], predict_labels(model, test["title"].tolist()))
    write_json({"family": "sgd", "test_macro_f1": test_f1["macro_f1"]}, root / "champion.json")
    paths = ReferencePaths(
        str(root / "split"), str(features / "vocabulary.json"), str(root / "champion.json")
    )
    reference = build_reference(model, paths, tokenize.normalizer, PARAMS)
    return SimpleNamespace(
        root=root, model=model, paths=paths, normalizer=tokenize.normalizer, reference=reference
    )


def scored_batch(
    project, seed: int, shift: str = "none", rows: int = BATCH_ROWS, with_labels: bool = True
) -> Path:
    labelled = "labelled" if with_labels else "unlabelled"
    raw = project.root / f"batch_{shift}_{seed}_{rows}_{labelled}.parquet"
    scored = raw.with_name(f"scored_{raw.name}")
    if not scored.exists():
        generate_batch(raw, rows, seed, shift=shift, with_labels=with_labels)
        predict_file(project.model, PredictParams(input=str(raw), output=str(scored)))
    return scored


def monitor(project, path: Path, params: MonitorParams = PARAMS):
    batch = summarize_batch(path, "title", project.reference, project.normalizer, params)
    return compare(project.reference, batch, params)


def reference_args(project) -> list[str]:
    return [
        "--model",
        str(project.root / "champion"),
        "--split-dir",
        project.paths.split_dir,
        "--features",
        str(project.root / "features"),
        "--champion-metrics",
        project.paths.champion_metrics,
    ]


def flagged(result) -> set[str]:
    return {c.name for c in result.checks if c.drift}


# ---------------------------------------------------------------------------
# Named shifts are detected, and the reasons name the right kind of drift.
# ---------------------------------------------------------------------------


def test_new_brands_is_data_drift_in_the_vocabulary(project):
    result = monitor(project, scored_batch(project, 1, "new_brands"))
    assert result.retrain_recommended
    assert {"unseen_token_share", "classifier_auc"} <= flagged(result)
    assert not flagged(result) & {"predicted_domain_psi", "predicted_domain_js"}
    assert any(r.startswith("data drift (unseen_token_share)") for r in result.reasons)
    # The invented brands are among the unknown tokens the report lists.
    report = render_report(result)
    listed = report[report.index("Most frequent tokens") : report.index("## Output drift")]
    brands = {"olluma", "zelthar", "tarvik", "pyxon", "velmora", "kastrel", "quorra", "lumexa"}
    assert len({line.split(" | ")[0].strip("| ") for line in listed.splitlines()} & brands) >= 3


def test_domain_mix_is_output_drift(project):
    result = monitor(project, scored_batch(project, 2, "domain_mix"))
    assert {"predicted_domain_psi", "predicted_domain_js"} <= flagged(result)
    assert result.drift_by_kind()["output"]
    # Every title is still a familiar kind of title: nothing new in the vocabulary.
    assert "unseen_token_share" not in flagged(result)
    assert "unseen_label_share" not in flagged(result)


def test_unseen_domain_is_reported_as_new_domains_in_the_labels(project):
    result = monitor(project, scored_batch(project, 3, "unseen_domain"))
    assert {"unseen_label_share", "unseen_token_share", "low_confidence_share"} <= flagged(result)
    unseen = next(c for c in result.checks if c.name == "unseen_label_share")
    assert 0.25 < unseen.value < 0.35  # the generator makes 30% pet supplies
    assert all(d not in project.model.labels for d in unseen.details["domains"])
    assert any(
        r.startswith("concept drift (unseen_label_share)") and "never saw" in r
        for r in result.reasons
    )


def test_unseen_domain_without_labels_is_still_caught(project):
    path = scored_batch(project, 3, "unseen_domain", with_labels=False)
    result = monitor(project, path)
    assert {"unseen_token_share", "low_confidence_share"} <= flagged(result)
    assert not result.drift_by_kind()["concept"] and result.per_domain is None
    assert any("concept drift not checked" in note for note in result.notes)


def test_language_switch_is_data_drift_only(project):
    result = monitor(project, scored_batch(project, 4, "language_switch"))
    assert {"token_js_distance", "char_ngram_js_distance", "classifier_auc"} <= flagged(result)
    # Spanish titles were in training: no new words and the model still copes.
    assert result.drift_by_kind() == {"data": True, "output": False, "concept": False}


def test_a_real_drop_in_quality_is_concept_drift(project):
    """Swap two sibling domains' labels: same titles, but the title-domain relation changed."""
    path = scored_batch(project, 5)
    frame = pd.read_parquet(path)
    swap = {
        "MLB-HAIR_CONDITIONERS": "MLB-HAIR_TREATMENTS",
        "MLB-HAIR_TREATMENTS": "MLB-HAIR_CONDITIONERS",
    }
    frame["domain"] = frame["domain"].replace(swap)
    frame.to_parquet(changed := path.with_name("relabelled.parquet"))
    result = monitor(project, changed)
    assert {"macro_f1_change", "domain_f1_drops"} <= flagged(result)
    drops = next(c for c in result.checks if c.name == "domain_f1_drops").details["domains"]
    assert set(drops) == set(swap)
    assert result.drift_by_kind() == {"data": False, "output": False, "concept": True}


# ---------------------------------------------------------------------------
# False alarms.
# ---------------------------------------------------------------------------


def test_unshifted_batches_pass_over_20_seeds(project):
    results = [monitor(project, scored_batch(project, 100 + seed)) for seed in range(20)]
    alarms = [sorted(flagged(r)) for r in results if r.retrain_recommended]
    assert len(alarms) / len(results) <= 0.05, alarms


def test_unshifted_small_batch_passes(project):
    # Few rows make every distance noisy; the significance gates must hold them back.
    result = monitor(project, scored_batch(project, 200, rows=300))
    assert not result.retrain_recommended, result.reasons


# ---------------------------------------------------------------------------
# Outputs and the stage.
# ---------------------------------------------------------------------------


def test_metrics_are_deterministic_and_name_every_check(project):
    path = scored_batch(project, 1, "new_brands")
    first = metrics(monitor(project, path))
    chunked = metrics(monitor(project, path, dataclasses.replace(PARAMS, chunk_rows=700)))
    assert first == chunked  # chunking changes neither the sample nor any figure
    assert first["retrain_recommended"] is True and first["drift"]["data"] is True
    assert {kind: set(checks) for kind, checks in first["checks"].items()} == {
        "data": {
            "title_length_psi",
            "unseen_token_share",
            "token_js_distance",
            "char_ngram_js_distance",
            "classifier_auc",
        },
        "output": {"predicted_domain_psi", "predicted_domain_js", "low_confidence_share"},
        "concept": {"unseen_label_share", "macro_f1_change", "domain_f1_drops"},
    }
    assert first["checks"]["data"]["unseen_token_share"]["drift"] is True
    assert all(reason.split(" ")[0] in ("data", "output", "concept") for reason in first["reasons"])
    json.dumps(first, allow_nan=False)


def test_report_is_self_contained_markdown(project):
    report = render_report(monitor(project, scored_batch(project, 2, "domain_mix")))
    assert report.startswith("# Drift monitoring report")
    assert "**Retraining recommended.**" in report
    assert report.count("data:image/svg+xml;base64,") == 3
    assert "http" not in report.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_stage_writes_metrics_and_report(project, tmp_path):
    from stages.monitor import main

    params = {
        "monitor": {"sample_size": 1000, "bootstrap_samples": 200},
        "predict": {
            "input": "unused.parquet",
            "output": str(scored_batch(project, 3, "unseen_domain")),
        },
        "tokenize": {"word_max_features": 5000, "char_max_features": 8000},
    }
    (params_file := tmp_path / "params.yaml").write_text(json.dumps(params))
    args = [
        "--params",
        str(params_file),
        *reference_args(project),
        "--metrics",
        str(tmp_path / "m.json"),
        "--report",
        str(tmp_path / "r.md"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "retrain recommended" in result.output and "concept drift" in result.output
    assert json.loads((tmp_path / "m.json").read_text())["retrain_recommended"] is True
    assert (tmp_path / "r.md").read_text().startswith("# Drift monitoring report")


# ---------------------------------------------------------------------------
# Bad input: one clear line, no crash.
# ---------------------------------------------------------------------------


def test_stage_turns_bad_input_into_one_line(project, tmp_path):
    from stages.monitor import main

    path = tmp_path / "scored.parquet"
    pd.read_parquet(scored_batch(project, 5)).drop(columns="title").to_parquet(path)
    params = {
        "monitor": {},
        "predict": {"input": "in.parquet", "output": str(path)},
        "tokenize": {},
    }
    (params_file := tmp_path / "params.yaml").write_text(json.dumps(params))
    result = CliRunner().invoke(
        main,
        [
            "--params",
            str(params_file),
            *reference_args(project),
            "--metrics",
            str(tmp_path / "m.json"),
        ],
    )
    assert result.exit_code == 1 and not (tmp_path / "m.json").exists()
    assert result.output.strip().splitlines() == [
        f"Error: {path}: no column 'title' (columns: item_id, domain, language, "
        "predicted_domain, probability, top1_domain, top1_probability, top2_domain, "
        "top2_probability, top3_domain, top3_probability)"
    ]


def test_batch_without_title_column_is_named(project, tmp_path):
    path = tmp_path / "scored.parquet"
    pd.read_parquet(scored_batch(project, 5)).rename(columns={"title": "name"}).to_parquet(path)
    with pytest.raises(InputError, match=r"scored.parquet: no column 'title'"):
        monitor(project, path)


def test_batch_that_was_not_scored_is_named(project, tmp_path):
    path = tmp_path / "raw.csv"
    pd.DataFrame({"title": ["Shampoo Elseve 400ml"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="no column 'predicted_domain'; monitor reads the output"):
        monitor(project, path)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_empty_batch_is_named(project, tmp_path, suffix):
    empty = pd.read_parquet(scored_batch(project, 5)).head(0)
    path = tmp_path / f"empty{suffix}"
    empty.to_parquet(path) if suffix == ".parquet" else empty.to_csv(path, index=False)
    with pytest.raises(InputError, match="table has no rows|file is empty"):
        monitor(project, path)


def test_all_blank_titles_are_named(project, tmp_path):
    path = tmp_path / "blank.parquet"
    frame = pd.read_parquet(scored_batch(project, 5)).head(10)
    frame["title"], frame["predicted_domain"], frame["probability"] = "  ", None, np.nan
    frame.to_parquet(path)
    with pytest.raises(InputError, match="all 10 titles are null or blank"):
        monitor(project, path)


def test_predictions_from_another_model_are_named(project, tmp_path):
    path = tmp_path / "other.parquet"
    frame = pd.read_parquet(scored_batch(project, 5))
    frame.loc[3, "predicted_domain"] = "MLB-SURFBOARDS"
    frame.to_parquet(path)
    with pytest.raises(InputError, match="'MLB-SURFBOARDS' is not a domain of the champion"):
        monitor(project, path)


def test_unknown_labels_are_reported_not_fatal(project, tmp_path):
    path = tmp_path / "labels.parquet"
    frame = pd.read_parquet(scored_batch(project, 5))
    frame.loc[:199, "domain"] = "MLB-SURFBOARDS"
    frame.loc[200:209, "domain"] = None
    frame.to_parquet(path)
    result = monitor(project, path)
    unseen = next(c for c in result.checks if c.name == "unseen_label_share")
    assert unseen.drift and unseen.details == {"rows": 200, "domains": {"MLB-SURFBOARDS": 200}}
    assert result.batch.labelled == BATCH_ROWS - 10
    assert any("MLB-SURFBOARDS (200)" in r for r in result.reasons)


def test_blank_titles_are_left_out_and_noted(project, tmp_path):
    path = tmp_path / "some_blank.parquet"
    frame = pd.read_parquet(scored_batch(project, 5))
    frame.loc[:9, ["title", "predicted_domain"]] = None
    frame.to_parquet(path)
    result = monitor(project, path)
    assert result.batch.blank == 10 and result.batch.scored == BATCH_ROWS - 10
    assert any("10 of 4000 titles are null or blank" in note for note in result.notes)


def test_missing_reference_files_are_named(project, tmp_path):
    paths = dataclasses.replace(project.paths, vocabulary=str(tmp_path / "nope.json"))
    with pytest.raises(InputError, match="nope.json: file not found"):
        run_monitor(scored_batch(project, 5), project.model, paths, project.normalizer, PARAMS)


@pytest.mark.parametrize(
    "raw, where",
    [
        ({"p_value": 0}, "monitor.p_value"),
        ({"max_classifier_auc": 0.4}, "monitor.max_classifier_auc"),
        ({"sample_size": 10}, "monitor.sample_size"),
        ({"max_domain_psi": -1}, "monitor.max_domain_psi"),
        ({"max_psi": 0.2}, "monitor.max_psi"),
    ],
)
def test_bad_params_are_named(raw, where):
    with pytest.raises(InputError, match=where.replace(".", r"\.")):
        parse_dataclass(MonitorParams, raw, "monitor")


# ---------------------------------------------------------------------------
# The statistics themselves.
# ---------------------------------------------------------------------------


def test_distances_are_zero_for_equal_distributions_and_grow_with_change():
    same = np.array([50, 30, 20])
    assert drift.psi(same, same * 3) == pytest.approx(0)
    assert drift.js_distance(same, same * 3) == pytest.approx(0)
    assert drift.psi(same, [20, 30, 50]) > drift.psi(same, [45, 30, 25]) > 0
    assert drift.chi_square(same * 100, [2000, 3000, 5000])[1] < 1e-6


def test_macro_f1_matches_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    true, pred = rng.integers(0, 4, 300), rng.integers(0, 5, 300)
    confusion = np.bincount(true * 5 + pred, minlength=25).reshape(5, 5)
    assert drift.macro_f1(confusion) == pytest.approx(f1_score(true, pred, average="macro"))


def test_bootstrap_interval_covers_no_change_and_excludes_a_real_drop():
    good = np.diag([300, 300, 300]) + 10
    same = drift.bootstrap_f1_change(good, good, 500, (0.95, 0.95), seed=1)
    assert same["macro"][0] < 0 < same["macro"][1]
    worse = drift.bootstrap_f1_change(good + 60, good, 500, (0.95, 0.95), seed=1)
    assert worse["macro"][1] < 0


def test_bottom_k_sample_is_uniform_and_independent_of_chunking():
    one = drift.BottomKSample(100, seed=5)
    one.add(list(range(10000)))
    many = drift.BottomKSample(100, seed=5)
    for start in range(0, 10000, 333):
        many.add(list(range(start, min(start + 333, 10000))))
    assert one.values() == many.values()
    assert math.isclose(np.mean(one.values()), 5000, rel_tol=0.15)
