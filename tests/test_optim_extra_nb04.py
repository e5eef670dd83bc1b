"""Tests for optim.optimize_function (added for notebook 04)."""
import numpy as np
import pytest

from cs231n_lib import data, optim


def test_sgd_path_matches_hand_iteration_on_the_bowl():
    run = optim.optimize_function(data.bowl, data.BOWL_START, "sgd", {"learning_rate": 0.5},
                                  num_steps=3)
    x, y = data.BOWL_START
    expected = [(x * 0.95 ** t, y * 0.0 ** t) for t in range(4)]   # factors 1 - 0.5*0.1, 1 - 0.5*2
    np.testing.assert_allclose(run.points, expected, atol=1e-12)
    assert run.values.shape == (4,) and run.gradients.shape == (3, 2) and len(run.configs) == 3
    np.testing.assert_allclose(run.values, data.bowl(run.points)[0])


def test_configs_are_snapshots_and_the_callers_config_is_untouched():
    config = {"learning_rate": 0.1, "momentum": 0.9}
    run = optim.optimize_function(data.bowl, data.BOWL_START, "sgd_momentum", config,
                                  num_steps=5)
    assert config == {"learning_rate": 0.1, "momentum": 0.9}
    velocity = run.state("velocity")
    assert velocity.shape == (5, 2)
    np.testing.assert_allclose(np.diff(run.points, axis=0), velocity)  # next_w = w + v


def test_noise_needs_rng_and_is_reproducible():
    with pytest.raises(ValueError, match="rng"):
        optim.optimize_function(data.bowl, data.BOWL_START, "sgd", num_steps=2, grad_noise_std=1.0)
    a = optim.optimize_function(data.bowl, data.BOWL_START, "sgd", num_steps=5,
                                grad_noise_std=1.0, rng=3)
    b = optim.optimize_function(data.bowl, data.BOWL_START, "sgd", num_steps=5,
                                grad_noise_std=1.0, rng=3)
    np.testing.assert_array_equal(a.points, b.points)
    clean = data.bowl(a.points[:-1])[1]
    assert not np.allclose(a.gradients, clean)


def test_elementwise_1d_function_and_early_stop_on_divergence():
    run = optim.optimize_function(data.steep_then_gentle, np.array([-5.0]), "adagrad",
                                  {"learning_rate": 0.5}, num_steps=10)
    assert run.points.shape == (11, 1) and run.values.shape == (11,)
    with np.errstate(all="ignore"):
        diverged = optim.optimize_function(data.bowl, data.BOWL_START, "sgd",
                                           {"learning_rate": 1e200}, num_steps=50)
    assert diverged.points.shape[0] < 51
    assert not np.all(np.isfinite(diverged.points[-1]))


@pytest.mark.parametrize("kwargs", [{"num_steps": -1}, {"num_steps": 2.5},
                                    {"grad_noise_std": -1.0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        optim.optimize_function(data.bowl, data.BOWL_START, "sgd", **kwargs)


def test_unknown_rule_raises():
    with pytest.raises(ValueError, match="update rule"):
        optim.optimize_function(data.bowl, data.BOWL_START, "sgdd")
