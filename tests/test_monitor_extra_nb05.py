"""Tests for the deep-stack helpers of cs231n_lib.monitor added for notebook 05."""
import numpy as np
import pytest

from cs231n_lib import monitor
from cs231n_lib.init import init_weights


def test_forward_activations_by_hand():
    X = np.array([[1.0, -2.0]])
    W1 = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])   # z1 = [1, -2, -1]
    W2 = np.array([[1.0], [1.0], [-1.0]])               # relu: a1 = [1, 0, 0] -> z2 = [1]
    a1, a2 = monitor.forward_activations(X, [W1, W2], "relu")
    np.testing.assert_array_equal(a1, [[1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(a2, [[1.0]])
    lin1, lin2 = monitor.forward_activations(X, [W1, W2], "linear")
    np.testing.assert_array_equal(lin2, [[1.0 - 2.0 + 1.0]])


@pytest.mark.parametrize("activation, f", [
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z))), ("tanh", np.tanh),
    ("relu", lambda z: np.maximum(z, 0)), ("linear", lambda z: z)])
def test_forward_activation_stats_matches_a_plain_loop(activation, f):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 8))
    weights = rng.standard_normal((3, 8, 8)) * 2.0      # an (L, H, H) array works as well
    means, stds, saturated = monitor.forward_activation_stats(X, weights, activation)
    h = X
    for layer, W in enumerate(weights):
        h = f(h @ W)
        assert means[layer] == pytest.approx(h.mean(), rel=1e-12)
        assert stds[layer] == pytest.approx(h.std(), rel=1e-12)
        expected = monitor.activation_stats(h, activation)["saturated_frac"]
        assert saturated[layer] == expected
    assert means.shape == stds.shape == saturated.shape == (3,)


def test_forward_activation_stats_sigmoid_saturates_with_large_weights():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((1000, 100))
    big = [init_weights(1.0, 100, 100, rng) for _ in range(3)]
    small = [init_weights("small", 100, 100, rng) for _ in range(3)]
    _, _, saturated = monitor.forward_activation_stats(X, big, "sigmoid")
    assert np.all(saturated > 0.4)
    means, stds, saturated = monitor.forward_activation_stats(X, small, "sigmoid")
    assert np.all(saturated == 0) and np.all(np.abs(means - 0.5) < 0.01) and np.all(stds < 0.05)


def test_forward_activations_rejects_bad_inputs():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="rows"):
        monitor.forward_activations(X, [np.ones((3, 2)), np.ones((3, 2))], "relu")
    with pytest.raises(ValueError, match="at least one"):
        monitor.forward_activations(X, [], "relu")
    with pytest.raises(ValueError, match="activation"):
        monitor.forward_activations(X, [np.ones((3, 2))], "softplus")
    with pytest.raises(ValueError, match="2-D"):
        monitor.forward_activations(np.ones(3), [np.ones((3, 2))], "relu")
