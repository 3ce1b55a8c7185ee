"""Calibration maths (ECE, temperature, the needs_review threshold) and needs_review in predict."""

import numpy as np
import pandas as pd
import pytest

from domain_classifier.evaluation import calibration
from domain_classifier.evaluation.calibration import (
    coverage_curve,
    expected_calibration_error,
    fit_temperature,
)
from domain_classifier.models import calibrated
from domain_classifier.models.calibrated import review_threshold, scale
from domain_classifier.models.loading import load_model
from domain_classifier.models.scoring import flag_review
from domain_classifier.serving.predict import PredictParams, predict_file


def test_ece_is_zero_when_confidence_matches_accuracy_and_the_gap_otherwise():
    confidence = np.full(10, 0.8)
    assert expected_calibration_error(confidence, np.arange(10) < 8) == pytest.approx(0.0)
    # All right at 0.6 confidence: under-confident by 0.4 in the one occupied bin.
    assert expected_calibration_error(np.full(4, 0.6), np.ones(4, bool)) == pytest.approx(0.4)
    # Two bins, row-weighted: 3 rows off by 0.1 (0.9 vs 1.0), 1 row off by 0.3 (0.3 vs 0).
    confidence, correct = np.array([0.9, 0.9, 0.9, 0.3]), np.array([1, 1, 1, 0], bool)
    assert expected_calibration_error(confidence, correct) == pytest.approx((0.3 + 0.3) / 4)


def test_temperature_recovers_the_scale_that_made_the_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 5)) * 3
    truth = softmax_rows(logits)
    actual = np.array([rng.choice(5, p=p) for p in truth])
    overconfident = softmax_rows(logits * 2.5)  # as if the model's scores were 2.5x too sharp
    temperature = fit_temperature(overconfident, actual)
    assert temperature == pytest.approx(2.5, rel=0.1)
    calibrated = scale(overconfident, temperature)
    assert (calibrated.argmax(axis=1) == overconfident.argmax(axis=1)).all()
    before = expected_calibration_error(overconfident.max(1), overconfident.argmax(1) == actual)
    after = expected_calibration_error(calibrated.max(1), calibrated.argmax(1) == actual)
    assert after < 0.03 < before


def softmax_rows(logits):
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_threshold_is_the_largest_coverage_reaching_the_precision():
    confidence = np.array([0.99, 0.95, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 1, 1, 0, 1, 1, 0], bool)
    curve = coverage_curve(confidence, correct)
    # Equal confidences are filed together: 0.95 appears once, covering 3 of 7.
    assert curve["threshold"].tolist() == [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
    assert curve["coverage"].tolist() == pytest.approx([1 / 7, 3 / 7, 4 / 7, 5 / 7, 6 / 7, 1])
    assert review_threshold(curve, 1.0) == 0.95
    # Precision is not monotone: 5/6 at 0.7 beats 4/5 at 0.8, so 0.7 is the answer for 0.8.
    assert review_threshold(curve, 0.8) == 0.7
    assert review_threshold(curve, 0.5) == 0.6
    assert review_threshold(coverage_curve(np.array([0.9]), np.array([False])), 0.9) == np.inf


def test_needs_review_below_the_threshold_null_for_blank_titles_or_no_calibration():
    scored = pd.DataFrame({"probability": [0.99, 0.5, np.nan, 0.7]})
    assert flag_review(scored, 0.7)["needs_review"].tolist() == [False, True, pd.NA, False]
    assert flag_review(scored, None)["needs_review"].isna().all()


def test_predict_adds_needs_review_from_the_champions_calibration(
    calibrated_sgd_dir, saved_sgd_dir, tmp_path
):
    model = load_model(calibrated_sgd_dir)
    batch = pd.DataFrame(
        {"title": ["Shampoo Anticaspa 300ml", "Capinha Liquidificador", None, "xyz"]}
    )
    batch.to_parquet(src := tmp_path / "batch.parquet")
    params = PredictParams(input=str(src), output=str(tmp_path / "out.parquet"))
    stats = predict_file(model, params)
    scored = pd.read_parquet(params.output)
    threshold = model.review_threshold(params.review_precision)
    expected = [None if pd.isna(p) else bool(p < threshold) for p in scored["probability"]]
    assert [None if pd.isna(v) else bool(v) for v in scored["needs_review"]] == expected
    assert stats["auto_filed"] == expected.count(False)
    # The champion's probabilities are its family's, tempered; the ranking is the same.
    titles = batch["title"][[0, 1, 3]].tolist()
    raw = load_model(saved_sgd_dir).predict_proba(titles)
    np.testing.assert_allclose(model.predict_proba(titles), scale(raw, model.temperature))


@pytest.mark.parametrize("dtype", ["f8", "f4"])
def test_chunked_scaling_and_fit_equal_the_whole_matrix_formulas(dtype):
    """scale and fit_temperature work CHUNK_ROWS rows at a time (memory at 1,000 domains);
    on more rows than that they give exactly what the one-matrix formulas give."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax, softmax

    rng = np.random.default_rng(0)
    rows = 2 * calibrated.CHUNK_ROWS + 5
    proba = rng.dirichlet(np.full(20, 0.3), rows).astype(dtype)
    actual = rng.integers(0, 20, rows)
    logits = np.log(np.clip(proba, calibrated.EPSILON, 1.0))
    whole = softmax(logits / 1.7, axis=1)
    assert calibrated.scale(proba, 1.7).dtype == whole.dtype
    assert calibrated.scale(proba, 1.7).tobytes() == whole.tobytes()

    def nll(log_t):
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[np.arange(rows), actual].mean())

    bounds = calibration.LOG_TEMPERATURE_BOUNDS
    expected = np.exp(minimize_scalar(nll, bounds=bounds, method="bounded").x)
    assert calibration.fit_temperature(proba, actual) == float(expected)
