"""The confusion figure logged to MLflow stays a bounded image however many domains there are."""

from __future__ import annotations

import io

import numpy as np
import pytest

from domain_classifier.tracking.training_run import MAX_INCHES, confusion_figure


@pytest.mark.parametrize("domains", [3, 1000])
def test_figure_is_capped_and_renders(domains):
    import matplotlib.pyplot as plt

    labels = [f"D{i:04d}" for i in range(domains)]
    rng = np.random.default_rng(0)
    actual = rng.choice(labels, 5000)
    predicted = np.where(rng.random(5000) < 0.8, actual, rng.choice(labels, 5000))
    figure = confusion_figure(actual, predicted, labels, "true" if domains > 12 else None)
    try:
        width, height = figure.get_size_inches()
        assert width == height <= MAX_INCHES
        names = [t.get_text() for t in figure.axes[0].get_xticklabels()]
        assert names == (labels if domains == 3 else [])
        png = io.BytesIO()
        figure.savefig(png, format="png")
        assert png.getbuffer().nbytes < 10 * 2**20
    finally:
        plt.close(figure)
