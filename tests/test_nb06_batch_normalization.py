"""Checks specific to notebook 06's exercises: the backward checker refuses a batch of one
(there the gradient check is vacuous) and the forward checker grades the bn_param state."""
import numpy as np
import pytest

from cs231n_lib import grading
from cs231n_lib.exercises import nb06_batch_normalization as nb06
from cs231n_lib.gradient_check import eval_numerical_gradient_array
from cs231n_lib.layers import batchnorm_backward, batchnorm_backward_alt, batchnorm_forward


def _unguarded_forward(x, gamma, beta, bn_param):
    """A student's train-mode forward without any batch-size check (dict cache)."""
    mean, var = x.mean(axis=0), x.var(axis=0)
    std = np.sqrt(var + bn_param.get("eps", 1e-5))
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, {"x_hat": x_hat, "std": std, "gamma": gamma}


def _zero_dx_backward(dout, cache):
    """Wrong for every batch of two or more: dx is always 0."""
    return np.zeros_like(dout), (dout * cache["x_hat"]).sum(0), dout.sum(0)


def _never_called(*args, **kwargs):
    raise AssertionError("the checker called a student function on a batch of one")


def test_a_batch_of_one_makes_the_gradient_check_vacuous():
    """Why the checker refuses N == 1: there even a backward returning dx = 0 looks right."""
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.normal(size=(1, 4)), rng.uniform(0.5, 2, 4), rng.normal(size=4)
    dout = rng.normal(size=(1, 4))
    out, cache = _unguarded_forward(x, gamma, beta, {"mode": "train"})
    assert np.allclose(cache["x_hat"], 0.0) and np.allclose(out, beta)
    numeric = eval_numerical_gradient_array(
        lambda v: _unguarded_forward(v, gamma, beta, {"mode": "train"})[0], x.copy(), dout)
    assert np.allclose(numeric, 0.0)
    assert np.allclose(_zero_dx_backward(dout, cache)[0], numeric)  # the wrong dx "passes"
    numeric_dgamma = eval_numerical_gradient_array(
        lambda g: _unguarded_forward(x, g, beta, {"mode": "train"})[0], gamma.copy(), dout)
    assert np.allclose(numeric_dgamma, 0.0)  # dgamma is not checked either


@pytest.mark.parametrize("name,reference_backward,mistakes", [
    ("batchnorm_backward", batchnorm_backward, nb06.BACKWARD_MISTAKES),
    ("batchnorm_backward_alt", batchnorm_backward_alt, nb06.BACKWARD_ALT_MISTAKES),
])
def test_backward_checker_rejects_a_batch_of_one(name, reference_backward, mistakes):
    rng = np.random.default_rng(1)
    x, gamma, beta = rng.normal(size=(1, 3)), np.ones(3), np.zeros(3)
    dout = rng.normal(size=(1, 3))
    with pytest.raises(ValueError, match="batch of one"):
        nb06.check_backward_on(name, reference_backward, mistakes, _never_called, _never_called,
                               x, gamma, beta, dout)


@pytest.mark.parametrize("name", ["batchnorm_backward", "batchnorm_backward_alt"])
def test_backward_checker_fails_a_zero_dx_that_would_pass_on_one_example(name):
    with pytest.raises(grading.CheckFailure, match="dx differs"):
        grading.check(name, _unguarded_forward, _zero_dx_backward)


def test_backward_cases_always_have_several_examples():
    sizes = {nb06._backward_case(np.random.default_rng(seed))[0].shape[0] for seed in range(500)}
    assert min(sizes) >= 3


def test_backward_checker_accepts_any_cache_layout():
    """The cache is the student's own: a tuple works as well as the reference's dict."""
    def forward(x, gamma, beta, bn_param):
        out, cache = batchnorm_forward(x, gamma, beta, bn_param)
        return out, (cache["x_hat"], cache["inv_std"], gamma)

    def backward(dout, cache):
        x_hat, inv_std, gamma = cache
        dgamma, dbeta = (dout * x_hat).sum(0), dout.sum(0)
        dx = gamma * inv_std * (dout - dbeta / len(dout) - x_hat * dgamma / len(dout))
        return dx, dgamma, dbeta

    grading.check("batchnorm_backward", forward, backward)
    grading.check("batchnorm_backward_alt", forward, backward, hidden=True)


def test_backward_checker_names_a_mistake_whatever_the_cache_layout():
    def forward(x, gamma, beta, bn_param):
        out, cache = batchnorm_forward(x, gamma, beta, bn_param)
        return out, (cache["x_hat"], cache["inv_std"], gamma)

    def backward(dout, cache):  # mean and variance treated as constants
        x_hat, inv_std, gamma = cache
        return dout * gamma * inv_std, (dout * x_hat).sum(0), dout.sum(0)

    with pytest.raises(grading.CheckFailure, match="missing the mean term"):
        grading.check("batchnorm_backward", forward, backward)


def test_backward_checker_blames_an_inconsistent_pair():
    """Backward equal to the reference but forward wrong: the numerical check notices."""
    def forward(x, gamma, beta, bn_param):
        out, cache = batchnorm_forward(x, gamma, beta, bn_param)
        return 2 * out, cache

    with pytest.raises(grading.CheckFailure, match="numerical gradient"):
        grading.check("batchnorm_backward", forward, batchnorm_backward)


def test_forward_checker_requires_running_averages_in_bn_param():
    def forward(x, gamma, beta, bn_param):
        return batchnorm_forward(x, gamma, beta, dict(bn_param))  # updates a copy only

    with pytest.raises(grading.CheckFailure, match="no 'running_mean'"):
        grading.check("batchnorm_forward", forward)


def test_forward_checker_compares_running_averages_not_only_out():
    def forward(x, gamma, beta, bn_param):  # right outputs, running averages never move
        before = {k: bn_param.get(k) for k in ("running_mean", "running_var")}
        out, cache = batchnorm_forward(x, gamma, beta, bn_param)
        D = x.shape[1]
        bn_param["running_mean"] = np.zeros(D) if before["running_mean"] is None else before["running_mean"]
        bn_param["running_var"] = np.ones(D) if before["running_var"] is None else before["running_var"]
        return out, cache

    with pytest.raises(grading.CheckFailure, match=r"bn_param\['running_mean'\] differs"):
        grading.check("batchnorm_forward", forward)


def test_forward_checker_accepts_in_place_running_updates():
    """CS231n-style code that updates the running arrays in place is fine."""
    def forward(x, gamma, beta, bn_param):
        D = x.shape[1]
        running_mean = bn_param.setdefault("running_mean", np.zeros(D))
        running_var = bn_param.setdefault("running_var", np.ones(D))
        momentum, eps = bn_param.get("momentum", 0.9), bn_param.get("eps", 1e-5)
        if bn_param["mode"] == "train":
            mean, var = x.mean(0), x.var(0)
            running_mean *= momentum
            running_mean += (1 - momentum) * mean
            running_var *= momentum
            running_var += (1 - momentum) * var
        else:
            mean, var = running_mean, running_var
        return gamma * (x - mean) / np.sqrt(var + eps) + beta, None

    grading.check("batchnorm_forward", forward)
    grading.check("batchnorm_forward", forward, hidden=True)


def test_forward_checker_hints_when_test_mode_changes_the_state():
    def forward(x, gamma, beta, bn_param):
        out, cache = batchnorm_forward(x, gamma, beta, bn_param)
        if bn_param["mode"] == "test":
            bn_param["running_mean"] = bn_param["running_mean"] + 1.0
        return out, cache

    with pytest.raises(grading.CheckFailure, match="must leave the running averages unchanged"):
        grading.check("batchnorm_forward", forward)


def _forward_changing_x(x, gamma, beta, bn_param):
    """Correct numbers, but centres x in place."""
    out, cache = batchnorm_forward(x.copy(), gamma, beta, bn_param)
    x -= x.mean(axis=0)
    return out, cache


def test_forward_that_changes_x_in_place_is_named_and_backward_is_not_blamed():
    with pytest.raises(grading.CheckFailure, match="changed x in place"):
        grading.check("batchnorm_forward", _forward_changing_x)
    with pytest.raises(grading.CheckFailure, match="batchnorm_forward changed x in place"):
        grading.check("batchnorm_backward", _forward_changing_x, batchnorm_backward)
