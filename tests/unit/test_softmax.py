"""The softmax solver of the sgd family: it learns, it is deterministic, it refuses bad params."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from domain_classifier.families.softmax import SoftmaxRegression


@pytest.fixture(scope="module")
def blobs():
    """Four classes, each lighting up its own block of sparse columns, plus noise columns."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 50)
    dense = rng.random((200, 40)) * (rng.random((200, 40)) < 0.1)
    dense[np.arange(200)[:, None], (y * 5)[:, None] + np.arange(5)] += 1.0
    return scipy.sparse.csr_matrix(dense, dtype=np.float32), np.array(list("abcd"))[y]


SMALL = dict(batch_size=16, learning_rate=0.05, epochs=10)


def test_learns_separable_classes_with_their_own_labels(blobs):
    X, y = blobs
    model = SoftmaxRegression(**SMALL).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (200, 4) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert list(model.classes_) == list("abcd")
    assert (model.predict(X) == y).mean() > 0.95


def test_same_seed_same_weights_and_the_seed_matters(blobs):
    X, y = blobs
    first, again = (SoftmaxRegression(**SMALL, random_state=3).fit(X, y) for _ in range(2))
    assert first.coef_.tobytes() == again.coef_.tobytes()
    assert first.intercept_.tobytes() == again.intercept_.tobytes()
    other = SoftmaxRegression(**SMALL, random_state=4).fit(X, y)
    assert first.coef_.tobytes() != other.coef_.tobytes()


def test_a_batch_larger_than_train_is_one_step_per_epoch(blobs):
    X, y = blobs
    model = SoftmaxRegression(batch_size=10_000, learning_rate=0.01, epochs=30).fit(X, y)
    assert (model.predict(X) == y).mean() > 0.9


@pytest.mark.parametrize(
    "bad",
    [{"epochs": 0}, {"batch_size": 1}, {"learning_rate": 0.0}, {"alpha": -1.0}],
)
def test_impossible_params_are_refused(blobs, bad):
    X, y = blobs
    with pytest.raises(ValueError, match=next(iter(bad))):
        SoftmaxRegression(**bad).fit(X, y)


def reference_fit(X, codes, classes, alpha, learning_rate, epochs, batch_size, random_state):
    """Textbook AdaGrad on dense float64 weights: shrink all, then each weight steps by its
    gradient over the root of its summed squared gradients."""
    X = X.toarray().astype(np.float64)
    coef, intercept = np.zeros((X.shape[1], classes)), np.zeros(classes)
    squares, intercept_squares = np.zeros_like(coef), np.zeros_like(intercept)
    rng = np.random.default_rng(random_state)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(order), batch_size):
            rows = np.sort(order[start : start + batch_size])
            scores = X[rows] @ coef + intercept
            error = np.exp(scores - scores.max(axis=1, keepdims=True))
            error /= error.sum(axis=1, keepdims=True)
            error[np.arange(len(rows)), codes[rows]] -= 1
            gradient, intercept_gradient = X[rows].T @ error, error.sum(axis=0)
            squares += gradient**2
            intercept_squares += intercept_gradient**2
            coef *= 1 - learning_rate * alpha * len(rows)
            coef -= learning_rate * gradient / (np.sqrt(squares) + 1e-8)
            intercept -= learning_rate * intercept_gradient / (np.sqrt(intercept_squares) + 1e-8)
    return coef, intercept


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_weights_are_the_textbook_update(blobs, alpha):
    """The solver shrinks lazily, writes only the columns a batch uses, on two threads each
    owning half of them; alpha=1 shrinks the weights by 0.68 a batch, so they are also
    rescaled twice on the way."""
    X, y = blobs
    params = dict(learning_rate=0.02, epochs=3, batch_size=16, random_state=5)
    model = SoftmaxRegression(alpha=alpha, **params).fit(X, y)
    coef, intercept = reference_fit(X, np.unique(y, return_inverse=True)[1], 4, alpha, **params)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(model.intercept_, intercept, rtol=1e-3, atol=1e-5)


def test_an_l2_shrink_that_would_flip_the_weights_is_refused(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="learning_rate \\* alpha \\* batch_size"):
        SoftmaxRegression(alpha=1.0, learning_rate=0.1, batch_size=16).fit(X, y)
