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
from domain_classifier.features import files
from domain_classifier.features.tokenize import TokenizeParams, build_vocabulary
from domain_classifier.models.loading import load_model
from domain_classifier.models.saved import predict_labels, save_model
from domain_classifier.monitoring import statistics as drift
from domain_classifier.monitoring.batch import summarize_batch
from domain_classifier.monitoring.checks import compare, run_monitor
from domain_classifier.monitoring.history import COLUMNS, append_history, history_row
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
    # Each domain is classified as well as before: a new mix is not concept drift.
    assert not result.drift_by_kind()["concept"], result.reasons


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
    assert result.drift_by_kind() == {
        "data": True,
        "output": False,
        "performance": False,
        "concept": False,
    }


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
    assert {"prior_corrected_accuracy_change", "domain_f1_drops"} <= flagged(result)
    drops = next(c for c in result.checks if c.name == "domain_f1_drops").details["domains"]
    assert set(drops) == set(swap)
    # The estimate cannot see it (titles and confidence are unchanged): only labels can.
    assert result.drift_by_kind() == {
        "data": False,
        "output": False,
        "performance": False,
        "concept": True,
    }


# ---------------------------------------------------------------------------
# A change of domain mix is output drift, never concept drift; a real drop still fires.
# Batches are cut from five unshifted ones (the false-alarm test's) as campaigns would.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool(project):
    return pd.concat(
        [pd.read_parquet(scored_batch(project, 100 + seed)) for seed in range(5)],
        ignore_index=True,
    )


def cut(project, pool, name: str) -> Path:
    counts = pool["domain"].value_counts()
    rng = np.random.default_rng(0)
    if name == "one_domain":
        frame = pool[pool["domain"] == counts.index[0]]
    elif name == "half_the_domains":
        half = rng.choice(counts.index, len(counts) // 2, replace=False)
        frame = pool[pool["domain"].isin(half)].head(BATCH_ROWS)
    else:  # a Zipf re-weighting over a shuffled ranking of the domains
        rank = dict(zip(rng.permutation(counts.index), range(1, len(counts) + 1)))
        weight = 1 / pool["domain"].map(rank).to_numpy() ** 1.2
        frame = pool.iloc[np.sort(rng.choice(len(pool), BATCH_ROWS, False, weight / weight.sum()))]
    frame.to_parquet(path := project.root / f"cut_{name}.parquet")
    return path


@pytest.mark.parametrize("name", ["one_domain", "half_the_domains", "zipf"])
def test_a_new_domain_mix_is_not_concept_drift(project, pool, name):
    result = monitor(project, cut(project, pool, name))
    assert result.drift_by_kind()["output"] and not result.drift_by_kind()["concept"]
    perf = result.performance
    # Every domain compared is a domain the batch has, and the estimate knows which.
    assert (result.per_domain["compared"] <= (result.per_domain["support"] >= 30)).all()
    assert abs(perf.estimate.accuracy - perf.real_accuracy) < 0.04
    assert abs(perf.estimate.macro_f1 - perf.real_macro_f1) < 0.05
    assert "estimated_accuracy" not in flagged(result)


def test_one_domain_relabelled_as_its_sibling_is_concept_drift(project, pool):
    frame = pool.head(BATCH_ROWS).copy()
    frame["domain"] = frame["domain"].replace({"MLB-HAIR_DRYERS": "MLB-HAIR_STRAIGHTENERS"})
    frame.to_parquet(path := project.root / "flipped.parquet")
    result = monitor(project, path)
    drops = next(c for c in result.checks if c.name == "domain_f1_drops").details["domains"]
    assert set(drops) == {"MLB-HAIR_STRAIGHTENERS"}
    assert result.drift_by_kind()["concept"] and not result.drift_by_kind()["output"]


# ---------------------------------------------------------------------------
# Performance estimated without labels.
# ---------------------------------------------------------------------------


def test_estimate_is_the_same_with_or_without_labels_and_near_the_real_figure(project):
    labelled = monitor(project, scored_batch(project, 6))
    unlabelled = monitor(project, scored_batch(project, 6, with_labels=False))
    est = unlabelled.performance.estimate
    assert est.accuracy == labelled.performance.estimate.accuracy
    assert unlabelled.performance.real_accuracy is None
    low, high = unlabelled.performance.accuracy_interval
    assert low < labelled.performance.real_accuracy < high
    assert abs(est.macro_f1 - labelled.performance.real_macro_f1) < 0.03
    assert not unlabelled.retrain_recommended, unlabelled.reasons


def test_a_drop_the_model_can_see_is_estimated_without_labels(project):
    # An unseen domain: the model is unsure and wrong on 30% of rows, labels or not.
    result = monitor(project, scored_batch(project, 3, "unseen_domain", with_labels=False))
    check = next(c for c in result.checks if c.name == "estimated_accuracy")
    assert check.drift and check.details["ci_high"] < check.details["baseline"] - 0.1
    assert any(r.startswith("performance drift (estimated_accuracy)") for r in result.reasons)


def test_estimate_from_a_sample_of_a_large_batch(project):
    params = dataclasses.replace(PARAMS, estimate_rows=1000)
    full = monitor(project, scored_batch(project, 6)).performance
    sampled = monitor(project, scored_batch(project, 6), params).performance
    assert sampled.estimate.sampled_rows == 1000 and full.estimate.sampled_rows == BATCH_ROWS
    assert abs(sampled.estimate.accuracy - full.estimate.accuracy) < 0.02
    assert sampled.accuracy_interval[1] - sampled.accuracy_interval[0] > (
        full.accuracy_interval[1] - full.accuracy_interval[0]
    )


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
        "performance": {"estimated_accuracy"},
        "concept": {"unseen_label_share", "prior_corrected_accuracy_change", "domain_f1_drops"},
    }
    assert first["checks"]["data"]["unseen_token_share"]["drift"] is True
    assert all(reason.split(" ")[0] in first["drift"] for reason in first["reasons"])
    performance = first["performance"]
    assert performance["real_accuracy"] is not None
    assert performance["estimated_accuracy_low"] < performance["estimated_accuracy"]
    json.dumps(first, allow_nan=False)


def test_report_is_self_contained_markdown(project):
    report = render_report(monitor(project, scored_batch(project, 2, "domain_mix")))
    assert report.startswith("# Drift monitoring report")
    assert "**Retraining recommended.**" in report
    assert "## Performance" in report and "| accuracy |" in report
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
        "--history",
        str(tmp_path / "history.csv"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "retrain recommended" in result.output and "concept drift" in result.output
    assert "estimated accuracy" in result.output
    assert json.loads((tmp_path / "m.json").read_text())["retrain_recommended"] is True
    assert (tmp_path / "r.md").read_text().startswith("# Drift monitoring report")
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["run"].tolist() == [1] and "concept:unseen_label_share" in history["fired"][0]
    # The same batch again replaces its row; nothing half-written is left beside it.
    assert CliRunner().invoke(main, args).exit_code == 0
    assert pd.read_csv(tmp_path / "history.csv").equals(history)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.csv",
        "m.json",
        "params.yaml",
        "r.md",
    ]


def test_history_adds_new_batches_and_replaces_a_repeated_one(project, tmp_path):
    path = tmp_path / "history.csv"
    rows = {}
    for seed in (7, 8, 7):
        batch = scored_batch(project, seed, rows=300)
        rows[seed] = history_row(monitor(project, batch), batch)
        history = append_history(path, rows[seed])
    assert history["run"].tolist() == [1, 2]
    assert history["batch_id"].tolist() == [rows[7]["batch_id"], rows[8]["batch_id"]]
    written = pd.read_csv(path)
    assert list(written.columns) == list(COLUMNS) and len(written) == 2
    assert written["estimated_accuracy"].between(0, 1).all()
    assert written["real_accuracy"].notna().all() and written["fired"].isna().all()


def test_history_keeps_rows_it_cannot_recompute(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("run,batch_id,estimated_accuracy,note\n4,abc,0.9,kept\n")
    history = append_history(path, {"batch_id": "def", "estimated_accuracy": 0.8})
    assert history["run"].tolist() == [4, 5] and history["note"].tolist()[0] == "kept"
    path.write_text("run,batch_id\nfirst,abc\n")
    with pytest.raises(InputError, match="history.csv: column 'run' must hold whole numbers"):
        append_history(path, {"batch_id": "def"})


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
        f"Error: {path}: no column 'title' (columns: 'item_id', 'domain', 'language', "
        "'predicted_domain', 'probability', 'top1_domain', 'top1_probability', 'top2_domain', "
        "'top2_probability', 'top3_domain', 'top3_probability', 'needs_review')"
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
        ({"estimate_rows": 10}, "monitor.estimate_rows"),
        ({"min_domain_support": 0}, "monitor.min_domain_support"),
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
    good, everything = np.diag([300, 300, 300]) + 10, np.ones(3, bool)
    prior = np.array([0.5, 0.3, 0.2])
    same = drift.prior_corrected_change(good, good, everything, prior, 500, (0.95, 0.95), 1)
    assert same["accuracy_interval"][0] < 0 < same["accuracy_interval"][1]
    worse = drift.prior_corrected_change(good + 60, good, everything, prior, 500, (0.95, 0.95), 1)
    assert worse["accuracy_interval"][1] < 0 and (worse["f1_intervals"][:, 1] < 0).all()


def test_prior_correction_ignores_the_mix_and_absent_domains():
    test = np.array([[90, 10, 0], [5, 80, 15], [0, 10, 90]])
    # Ten times the first domain, the same second one, none of the third.
    batch = np.array([[900, 100, 0], [5, 80, 15], [0, 0, 0]])
    present, prior = np.array([True, True, False]), np.array([0.5, 0.3, 0.2])
    assert drift.prior_corrected(batch, present, prior)[0] == pytest.approx(
        drift.prior_corrected(test, present, prior)[0]
    )
    np.testing.assert_allclose(
        drift.prior_corrected(batch, present, prior)[1],
        drift.prior_corrected(test, present, prior)[1],
    )


def test_bottom_k_sample_is_uniform_and_independent_of_chunking():
    one = drift.BottomKSample(100, seed=5)
    one.add(list(range(10000)))
    many = drift.BottomKSample(100, seed=5)
    for start in range(0, 10000, 333):
        many.add(list(range(start, min(start + 333, 10000))))
    assert one.values() == many.values()
    assert math.isclose(np.mean(one.values()), 5000, rel_tol=0.15)


def test_stage_reads_a_folder_of_part_files_as_it_reads_the_file(project, tmp_path):
    """The Spark engine's output: part files, read in name order, beside Spark's _SUCCESS
    marker and hidden .crc checksums, which are not data."""
    from stages.monitor import main

    scored = scored_batch(project, 4)
    frame = pd.read_parquet(scored)
    folder = tmp_path / "scored.parquet"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_parquet(folder / f"part-{i:05d}-c0ffee.snappy.parquet", index=False)
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / ".part-00000-c0ffee.snappy.parquet.crc").write_bytes(b"\x00checksum")
    figures = {}
    for name, batch in (("file", scored), ("folder", folder)):
        params = {
            "monitor": {"sample_size": 1000, "bootstrap_samples": 200},
            "predict": {"input": "unused.parquet", "output": str(batch)},
            "tokenize": {"word_max_features": 5000, "char_max_features": 8000},
        }
        (params_file := tmp_path / f"params_{name}.yaml").write_text(json.dumps(params))
        args = ["--params", str(params_file), *reference_args(project)]
        args += ["--metrics", str(tmp_path / f"{name}.json"), "--report", str(tmp_path / "r.md")]
        result = CliRunner().invoke(main, [*args, "--history", str(tmp_path / "history.csv")])
        assert result.exit_code == 0, result.output
        figures[name] = json.loads((tmp_path / f"{name}.json").read_text())
    assert figures["folder"] == figures["file"]
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["batch"].tolist() == [str(scored), str(folder)]
    assert history["rows"].tolist() == [len(frame), len(frame)]
