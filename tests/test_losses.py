"""Tests of cs231n_lib.losses: values, gradients, numerical stability and input validation."""
import math

import numpy as np
import pytest

from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.losses import softmax_loss, svm_loss

LOSSES = [softmax_loss, svm_loss]


def random_problem(seed, num_samples=6, num_classes=5, scale=1.0):
    rng = np.random.default_rng(seed)
    scores = scale * rng.standard_normal((num_samples, num_classes))
    return scores, rng.integers(num_classes, size=num_samples)


@pytest.mark.parametrize("loss_fn", LOSSES, ids=lambda f: f.__name__)
def test_gradient_matches_numerical_gradient(loss_fn):
    scores, y = random_problem(0)
    _, dscores = loss_fn(scores, y)
    numeric = eval_numerical_gradient(lambda s: loss_fn(s, y)[0], scores)
    assert dscores.shape == scores.shape
    assert rel_error(numeric, dscores) < 1e-6


@pytest.mark.parametrize("loss_fn", LOSSES, ids=lambda f: f.__name__)
def test_inputs_not_modified_and_float32_kept(loss_fn):
    scores, y = random_problem(1)
    scores = scores.astype(np.float32)
    original = scores.copy()
    loss, dscores = loss_fn(scores, y)
    assert np.array_equal(scores, original)
    assert dscores.dtype == np.float32
    assert isinstance(loss, float)


def test_softmax_initial_loss_is_log_num_classes():
    """Small random scores give a uniform softmax: loss ~ ln(10) = 2.303 (S1)."""
    scores, y = random_problem(2, num_samples=500, num_classes=10, scale=1e-3)
    loss, _ = softmax_loss(scores, y)
    assert loss == pytest.approx(math.log(10), abs=1e-2)


def test_softmax_values_against_direct_formula():
    scores, y = random_problem(3)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss, dscores = softmax_loss(scores, y)
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(6), y])), rel=1e-12)
    one_hot = np.eye(5)[y]
    np.testing.assert_allclose(dscores, (probs - one_hot) / 6, rtol=1e-10, atol=1e-15)


def test_softmax_is_stable_for_large_scores():
    scores, y = random_problem(4, scale=1e3)
    scores[0, :] = 1e3  # ties at a huge value
    # exp of very negative numbers underflows to 0, which is harmless; overflow is not.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dscores = softmax_loss(scores, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    shifted_loss, _ = softmax_loss(scores - 1e3, y)  # softmax is shift-invariant per row
    assert loss == pytest.approx(shifted_loss, rel=1e-12)


def test_softmax_gradient_rows_sum_to_zero():
    scores, y = random_problem(5)
    _, dscores = softmax_loss(scores, y)
    np.testing.assert_allclose(dscores.sum(axis=1), 0.0, atol=1e-15)


@pytest.mark.parametrize("num_classes", [2, 3, 10])
def test_svm_loss_of_zero_scores_is_num_classes_minus_one(num_classes):
    loss, _ = svm_loss(np.zeros((4, num_classes)), np.arange(4) % num_classes)
    assert loss == pytest.approx(num_classes - 1)


def test_svm_values_by_hand():
    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    y = np.array([0, 1, 2])
    loss, dscores = svm_loss(scores, y)
    # The classic CS231n example: per-example losses 2.9, 0, 12.9.
    assert loss == pytest.approx((2.9 + 0.0 + 12.9) / 3)
    expected = np.array([[-1, 1, 0], [0, 0, 0], [1, 1, -2]]) / 3
    np.testing.assert_allclose(dscores, expected)


def test_svm_delta():
    loss, _ = svm_loss(np.zeros((2, 4)), np.array([0, 3]), delta=2.5)
    assert loss == pytest.approx(3 * 2.5)


def test_svm_is_stable_for_large_scores():
    scores, y = random_problem(6, scale=1e3)
    loss, dscores = svm_loss(scores, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))


@pytest.mark.parametrize("loss_fn", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("scores, y, match", [
    (np.zeros(5), np.zeros(5, dtype=int), "scores must be 2-D"),
    (np.zeros((2, 3, 4)), np.zeros(2, dtype=int), "scores must be 2-D"),
    (np.zeros((4, 3)), np.zeros(3, dtype=int), r"y must have shape \(4,\)"),
    (np.zeros((4, 3)), np.zeros((4, 1), dtype=int), r"y must have shape \(4,\)"),
    (np.zeros((2, 3)), np.array([0, 3]), r"labels must lie in \[0, 3\)"),
    (np.zeros((2, 3)), np.array([-1, 0]), r"labels must lie in \[0, 3\)"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), "integer class labels"),
    (np.zeros((0, 3)), np.zeros(0, dtype=int), "at least one"),
])
def test_bad_input_raises_clear_value_error(loss_fn, scores, y, match):
    with pytest.raises(ValueError, match=match):
        loss_fn(scores, y)
