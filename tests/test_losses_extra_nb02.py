"""Tests of losses.expected_initial_loss (added for notebook 02)."""
import math

import numpy as np
import pytest

from cs231n_lib.losses import expected_initial_loss, softmax_loss, svm_loss


def test_values_for_ten_classes():
    assert expected_initial_loss(10) == pytest.approx(math.log(10))
    assert expected_initial_loss(10, loss="svm") == 9.0
    assert expected_initial_loss(10, loss="svm", delta=0.5) == 4.5


@pytest.mark.parametrize("num_classes", [2, 3, 10, 57])
def test_matches_the_losses_at_equal_scores(num_classes):
    # Equal scores are what a tiny random init gives; the losses must agree with the formula.
    rng = np.random.default_rng(num_classes)
    scores = np.zeros((7, num_classes))
    y = rng.integers(num_classes, size=7)
    assert softmax_loss(scores, y)[0] == pytest.approx(expected_initial_loss(num_classes))
    assert svm_loss(scores, y, delta=1.5)[0] == pytest.approx(
        expected_initial_loss(num_classes, loss="svm", delta=1.5))


@pytest.mark.parametrize("kwargs", [
    {"num_classes": 1}, {"num_classes": 2.0}, {"num_classes": True},
    {"num_classes": 10, "loss": "hinge"}, {"num_classes": 10, "loss": "svm", "delta": 0.0},
])
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        expected_initial_loss(**kwargs)
