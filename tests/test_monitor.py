"""Tests for cs231n_lib.monitor: ratios, activation/gradient statistics, loss-curve diagnosis."""
import numpy as np
import pytest

from cs231n_lib import monitor
from cs231n_lib.monitor import LOSS_DIAGNOSES, diagnose_loss_curve, synthetic_loss_curve


def test_update_to_weight_ratio_by_hand():
    w = np.array([[3.0, 4.0]])                      # ||w|| = 5
    update = np.array([[0.003, -0.004]])            # ||update|| = 0.005
    assert monitor.update_to_weight_ratio(w, update) == pytest.approx(1e-3)


def test_update_to_weight_ratio_zero_weights_and_bad_shapes():
    assert monitor.update_to_weight_ratio(np.zeros(3), np.ones(3)) == np.inf
    assert monitor.update_to_weight_ratio(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        monitor.update_to_weight_ratio(np.ones(3), np.ones(4))


def test_activation_stats_sigmoid():
    # 4 examples x 2 units; unit 1 is constant (dead), 3 of 8 entries are saturated
    a = np.array([[0.005, 0.5], [0.995, 0.5], [0.5, 0.5], [0.999, 0.5]])
    stats = monitor.activation_stats(a, "sigmoid")
    assert stats["saturated_frac"] == pytest.approx(3 / 8)
    assert stats["dead_frac"] == pytest.approx(1 / 2)
    assert stats["mean"] == pytest.approx(a.mean())
    assert stats["std"] == pytest.approx(a.std())


def test_activation_stats_tanh():
    a = np.array([[-0.995, 0.2, 0.0], [0.999, -0.2, 0.0], [0.5, 0.1, 0.0]])
    stats = monitor.activation_stats(a, "tanh")
    assert stats["saturated_frac"] == pytest.approx(2 / 9)
    assert stats["dead_frac"] == pytest.approx(1 / 3)


def test_activation_stats_relu():
    # unit 0 is zero for every example (dead); unit 1 is zero for one example only (alive)
    a = np.array([[0.0, 0.0, 2.0], [0.0, 1.0, 3.0], [0.0, 5.0, 0.5]])
    stats = monitor.activation_stats(a, "relu")
    assert stats["saturated_frac"] == 0.0
    assert stats["dead_frac"] == pytest.approx(1 / 3)


def test_activation_stats_errors():
    with pytest.raises(ValueError, match="activation"):
        monitor.activation_stats(np.ones((2, 2)), "gelu")
    with pytest.raises(ValueError, match="2"):
        monitor.activation_stats(np.ones(4), "relu")


def test_layer_stats():
    rng = np.random.default_rng(0)
    acts = [np.maximum(rng.standard_normal((50, 8)), 0), np.zeros((50, 4))]
    stats = monitor.layer_stats(acts, "relu")
    assert [s["layer"] for s in stats] == [1, 2]
    assert stats[1]["dead_frac"] == 1.0
    assert stats[0] == {"layer": 1, **monitor.activation_stats(acts[0], "relu")}
    mixed = monitor.layer_stats(acts, ["relu", "tanh"])
    assert mixed[1]["dead_frac"] == 1.0
    with pytest.raises(ValueError, match="one activation name per layer"):
        monitor.layer_stats(acts, ["relu"])


def test_gradient_stats():
    grads = {"W1": np.array([[3.0, -4.0]]), "b1": np.zeros(2)}
    stats = monitor.gradient_stats(grads)
    assert stats["W1"] == pytest.approx({"mean": -0.5, "std": 3.5, "norm": 5.0})
    assert stats["b1"] == {"mean": 0.0, "std": 0.0, "norm": 0.0}
    with pytest.raises(ValueError, match="dict"):
        monitor.gradient_stats([np.ones(2)])


def test_count_distinct_units():
    rng = np.random.default_rng(0)
    column = rng.standard_normal(784)
    equal = np.repeat(column[:, None], 50, axis=1)
    assert monitor.count_distinct_units(equal) == 1
    nearly = equal.copy()
    nearly[0, 7] = np.nextafter(nearly[0, 7], np.inf)  # one ulp: round-off, not learning
    assert monitor.count_distinct_units(nearly) == 1
    assert np.unique(nearly, axis=1).shape[1] == 2  # what an exact count would say
    two = equal.copy()
    two[:, 10:] *= 1.001
    assert monitor.count_distinct_units(two) == 2
    assert monitor.count_distinct_units(rng.standard_normal((20, 30))) == 30
    assert monitor.count_distinct_units(np.zeros((5, 4))) == 1
    assert monitor.count_distinct_units(np.zeros((5, 0))) == 0
    with pytest.raises(ValueError, match="2-D"):
        monitor.count_distinct_units(column)
    with pytest.raises(ValueError, match="rel_tol"):
        monitor.count_distinct_units(equal, rel_tol=0)


@pytest.mark.parametrize("num_points,min_correct", [(100, 38), (50, 38), (300, 38)])
@pytest.mark.parametrize("kind", LOSS_DIAGNOSES)
def test_diagnosis_of_synthetic_curves(kind, num_points, min_correct):
    correct = sum(
        diagnose_loss_curve(synthetic_loss_curve(kind, np.random.default_rng(seed), num_points))
        == kind for seed in range(40))
    assert correct >= min_correct, f"{kind}: {correct}/40 at {num_points} points"


def clean_curve(kind, n=100):
    """Noise-free textbook curves, one per diagnosis."""
    t = np.linspace(0, 1, n)
    if kind == "diverging":
        return 2.3 * np.exp(3 * t)
    if kind == "lr too low":
        return 2.3 - 0.8 * t
    if kind == "lr too high":
        return 1.2 + 1.1 * np.exp(-t / 0.05)
    if kind == "bad initialization":
        return 2.3 - 1.8 / (1 + np.exp(-(t - 0.5) / 0.02))
    return 0.2 + 1.2 * np.exp(-t / 0.05) + 0.9 * (1 - t)  # good


@pytest.mark.parametrize("kind", LOSS_DIAGNOSES)
def test_diagnosis_of_clean_curves(kind):
    assert diagnose_loss_curve(clean_curve(kind)) == kind


def test_diagnosis_edge_cases():
    assert diagnose_loss_curve([2.3] * 9 + [np.nan] + [2.3] * 10) == "diverging"
    assert diagnose_loss_curve([2.3] * 19 + [np.inf]) == "diverging"
    assert diagnose_loss_curve(np.full(50, 2.3)) == "lr too low"   # no progress at all
    assert diagnose_loss_curve(list(np.linspace(2.3, 1.5, 10))) == "lr too low"  # shortest


@pytest.mark.parametrize("bad", [[2.3] * 9, [], np.ones((10, 2))])
def test_diagnosis_rejects_short_or_non_1d_curves(bad):
    with pytest.raises(ValueError, match="losses"):
        diagnose_loss_curve(bad)


def test_synthetic_curves_shape_and_reproducibility():
    for kind in LOSS_DIAGNOSES:
        a = synthetic_loss_curve(kind, np.random.default_rng(3), num_points=64)
        b = synthetic_loss_curve(kind, np.random.default_rng(3), num_points=64)
        assert a.shape == (64,)
        np.testing.assert_array_equal(a, b)


def test_synthetic_curve_errors():
    with pytest.raises(ValueError, match="kind"):
        synthetic_loss_curve("overfitting", np.random.default_rng(0))
    with pytest.raises(ValueError, match="num_points"):
        synthetic_loss_curve("good", np.random.default_rng(0), num_points=5)
    with pytest.raises(ValueError, match="rng"):
        synthetic_loss_curve("good", 0)
