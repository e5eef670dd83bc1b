"""Tests of cs231n_lib.losses.l2_penalty (added for notebook 07)."""
import numpy as np
import pytest

from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.losses import l2_penalty
from cs231n_lib.models import FullyConnectedNet


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(3),
            "gamma1": rng.standard_normal(3), "beta1": rng.standard_normal(3),
            "W2": rng.standard_normal((3, 2)), "b2": rng.standard_normal(2)}


def test_penalty_is_half_reg_times_squared_weights_only():
    params = _params()
    penalty, grads = l2_penalty(params, 0.3)
    expected = 0.15 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert isinstance(penalty, float)
    assert penalty == pytest.approx(expected, rel=1e-12)
    assert set(grads) == set(params)
    for name in ("b1", "gamma1", "beta1", "b2"):
        assert np.array_equal(grads[name], np.zeros_like(params[name]))


@pytest.mark.parametrize("name", ["W1", "W2"])
def test_gradient_matches_numerical_gradient(name):
    params = _params(1)
    _, grads = l2_penalty(params, 0.7)

    def penalty_of(w):
        return l2_penalty({**params, name: w}, 0.7)[0]

    numeric = eval_numerical_gradient(penalty_of, params[name].copy())
    assert rel_error(numeric, grads[name]) < 1e-8


def test_inputs_not_modified_and_zero_reg_gives_zero():
    params = _params(2)
    before = {k: v.copy() for k, v in params.items()}
    penalty, grads = l2_penalty(params, 0.0)
    assert penalty == 0.0
    assert all(np.array_equal(params[k], before[k]) for k in params)
    assert all(not np.any(g) for g in grads.values())


def test_matches_the_models_penalty():
    X = np.random.default_rng(3).standard_normal((5, 6))
    y = np.array([0, 1, 2, 1, 0])
    plain = FullyConnectedNet([4, 4], input_dim=6, num_classes=3, seed=0)
    decayed = FullyConnectedNet([4, 4], input_dim=6, num_classes=3, reg=0.5, seed=0)
    loss_plain, grads_plain = plain.loss(X, y)
    loss_decayed, grads_decayed = decayed.loss(X, y)
    penalty, grads = l2_penalty(plain.params, 0.5)
    assert loss_decayed == pytest.approx(loss_plain + penalty, rel=1e-12)
    for name in grads:
        assert np.allclose(grads_decayed[name], grads_plain[name] + grads[name])


@pytest.mark.parametrize("reg", [-0.1, np.inf, True, "0.1"])
def test_bad_reg_raises(reg):
    with pytest.raises(ValueError, match="reg"):
        l2_penalty(_params(), reg)
