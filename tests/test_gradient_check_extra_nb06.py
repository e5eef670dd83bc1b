"""Tests of the batchnorm gradient check added for notebook 06 (gradient_check.batchnorm_grad_check)."""
import numpy as np
import pytest

from cs231n_lib.gradient_check import (
    BatchnormGradCheck, batchnorm_grad_check, require_batch_of_several,
)
from cs231n_lib.layers import batchnorm_backward, batchnorm_backward_alt, batchnorm_forward


def _inputs(rng, num_examples=5, num_features=4):
    x = rng.normal(2.0, 3.0, (num_examples, num_features))
    gamma = rng.uniform(0.5, 2.0, num_features)
    beta = rng.standard_normal(num_features)
    dout = rng.standard_normal((num_examples, num_features))
    return x, gamma, beta, dout


def _backward_without_mean_term(dout, cache):
    return dout * cache["gamma"] * cache["inv_std"], (dout * cache["x_hat"]).sum(0), dout.sum(0)


@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
def test_reference_pair_passes(backward):
    report = batchnorm_grad_check(batchnorm_forward, backward, *_inputs(np.random.default_rng(0)))
    assert isinstance(report, BatchnormGradCheck)
    assert report.max_norm_error < 1e-7
    assert set(report.rel_errors) == {"dx", "dgamma", "dbeta"}
    assert report.warnings == []


def test_wrong_backward_is_flagged():
    report = batchnorm_grad_check(batchnorm_forward, _backward_without_mean_term,
                                  *_inputs(np.random.default_rng(1)))
    assert report.norm_errors["dx"] > 1e-2
    assert report.band == "wrong"
    assert report.norm_errors["dgamma"] < 1e-7  # only dx is wrong


def test_batch_of_one_is_rejected():
    x, gamma, beta, dout = _inputs(np.random.default_rng(2), num_examples=1)
    with pytest.raises(ValueError, match="batch of one"):
        batchnorm_grad_check(batchnorm_forward, batchnorm_backward, x, gamma, beta, dout)
    with pytest.raises(ValueError, match="at least 2 examples"):
        require_batch_of_several(x)


def test_batch_of_two_warns():
    report = batchnorm_grad_check(batchnorm_forward, batchnorm_backward,
                                  *_inputs(np.random.default_rng(3), num_examples=2))
    assert any("N = 2" in w for w in report.warnings)


def test_inputs_are_not_modified_and_each_call_gets_fresh_bn_param():
    x, gamma, beta, dout = _inputs(np.random.default_rng(4))
    originals = [a.copy() for a in (x, gamma, beta, dout)]
    seen = []

    def forward(x_, gamma_, beta_, bn_param):
        seen.append(sorted(bn_param))
        return batchnorm_forward(x_, gamma_, beta_, bn_param)

    bn_param = {"eps": 1e-3}
    batchnorm_grad_check(forward, batchnorm_backward, x, gamma, beta, dout, bn_param=bn_param)
    assert all(np.array_equal(a, b) for a, b in zip((x, gamma, beta, dout), originals))
    assert bn_param == {"eps": 1e-3}
    assert all(keys == ["eps", "mode"] for keys in seen)  # no running averages carried over


def test_wrong_gradient_shapes_and_test_mode_are_rejected():
    x, gamma, beta, dout = _inputs(np.random.default_rng(5))

    def unsummed(dout_, cache):
        return batchnorm_backward(dout_, cache)[0], dout_ * cache["x_hat"], dout_

    with pytest.raises(ValueError, match="dgamma of shape"):
        batchnorm_grad_check(batchnorm_forward, unsummed, x, gamma, beta, dout)
    with pytest.raises(ValueError, match="train mode only"):
        batchnorm_grad_check(batchnorm_forward, batchnorm_backward, x, gamma, beta, dout,
                             bn_param={"mode": "test"})
