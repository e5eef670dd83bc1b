"""Tests of cs231n_lib.layers: every backward pass gradient-checked, plus each layer's contract."""
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from cs231n_lib.gradient_check import eval_numerical_gradient_array, rel_error
from cs231n_lib.layers import (
    affine_backward, affine_forward, batchnorm_backward, batchnorm_backward_alt,
    batchnorm_forward, dropout_backward, dropout_forward, relu_backward, relu_forward,
    sigmoid_backward, sigmoid_forward, tanh_backward, tanh_forward,
)


def away_from_zero(rng, shape, low=0.1):
    """Random values with |x| >= low, so a ReLU check never straddles its kink."""
    return rng.uniform(low, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def test_away_from_zero_keeps_relu_inputs_off_the_kink():
    x = away_from_zero(np.random.default_rng(0), (50, 50))
    assert np.abs(x).min() >= 0.1 and (x > 0).any() and (x < 0).any()


@dataclass
class Layer:
    """A layer under test: forward(*args) -> (out, cache), backward(dout, cache) -> grads."""

    name: str
    forward: Callable
    backward: Callable
    make_args: Callable  # rng, dtype -> tuple of float arrays (the arguments to differentiate)


def _batchnorm_test_mode(x, gamma, beta):
    bn_param = {"mode": "test", "running_mean": np.linspace(-0.5, 0.5, x.shape[1]),
                "running_var": np.linspace(0.5, 2.0, x.shape[1])}
    return batchnorm_forward(x, gamma, beta, bn_param)


def _batchnorm_args(rng, dtype):
    x = 3.0 * rng.standard_normal((5, 4)) + 2.0
    return (x.astype(dtype), rng.uniform(0.5, 1.5, 4).astype(dtype),
            rng.standard_normal(4).astype(dtype))


def _dropout_train(x):
    return dropout_forward(x, {"mode": "train", "keep_prob": 0.6, "seed": 7})


LAYERS = [
    Layer("affine", affine_forward, affine_backward,
          lambda rng, dtype: (rng.standard_normal((3, 2, 3)).astype(dtype),
                              rng.standard_normal((6, 4)).astype(dtype),
                              rng.standard_normal(4).astype(dtype))),
    Layer("relu", relu_forward, relu_backward,
          lambda rng, dtype: (away_from_zero(rng, (4, 5)).astype(dtype),)),
    Layer("sigmoid", sigmoid_forward, sigmoid_backward,
          lambda rng, dtype: (2.0 * rng.standard_normal((4, 5)).astype(dtype),)),
    Layer("tanh", tanh_forward, tanh_backward,
          lambda rng, dtype: (rng.standard_normal((4, 5)).astype(dtype),)),
    Layer("batchnorm", lambda x, g, b: batchnorm_forward(x, g, b, {"mode": "train"}),
          batchnorm_backward, _batchnorm_args),
    Layer("batchnorm_alt", lambda x, g, b: batchnorm_forward(x, g, b, {"mode": "train"}),
          batchnorm_backward_alt, _batchnorm_args),
    Layer("batchnorm_test_mode", _batchnorm_test_mode, batchnorm_backward, _batchnorm_args),
    Layer("dropout", _dropout_train, dropout_backward,
          lambda rng, dtype: (rng.standard_normal((6, 5)).astype(dtype),)),
]


def _as_tuple(grads):
    return grads if isinstance(grads, tuple) else (grads,)


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
def test_backward_matches_numerical_gradient(layer):
    rng = np.random.default_rng(0)
    args = layer.make_args(rng, np.float64)
    out, cache = layer.forward(*args)
    dout = rng.standard_normal(out.shape)
    grads = _as_tuple(layer.backward(dout, cache))
    assert len(grads) == len(args)
    for arg, grad in zip(args, grads):
        assert grad.shape == arg.shape
        numeric = eval_numerical_gradient_array(lambda _: layer.forward(*args)[0], arg, dout)
        assert rel_error(numeric, grad) < 1e-6, layer.name


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
def test_float32_stays_float32(layer):
    rng = np.random.default_rng(1)
    args = layer.make_args(rng, np.float32)
    out, cache = layer.forward(*args)
    grads = _as_tuple(layer.backward(np.ones_like(out), cache))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
def test_inputs_are_not_modified(layer):
    rng = np.random.default_rng(2)
    args = layer.make_args(rng, np.float64)
    originals = [a.copy() for a in args]
    out, cache = layer.forward(*args)
    dout = rng.standard_normal(out.shape)
    dout_original = dout.copy()
    layer.backward(dout, cache)
    assert all(np.array_equal(a, o) for a, o in zip(args, originals))
    assert np.array_equal(dout, dout_original)


# ---------------------------------------------------------------- affine

def test_affine_forward_values_and_shapes():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((12, 5)), rng.standard_normal(5)
    out, cache = affine_forward(x, w, b)
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out, x.reshape(2, 12) @ w + b)
    dx, dw, db = affine_backward(np.ones((2, 5)), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape


def test_affine_cache_is_cs231n_layout():
    """The cache is CS231n's (x, w, b), x in its original shape, so `x, w, b = cache` works."""
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((3, 2, 2)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    _, cache = affine_forward(x, w, b)
    cached_x, cached_w, cached_b = cache
    assert cached_x.shape == x.shape
    assert np.array_equal(cached_x, x) and np.array_equal(cached_w, w) and np.array_equal(cached_b, b)


@pytest.mark.parametrize("shapes", [((2, 5), (4, 3), (3,)), ((2, 4), (4, 3), (4,)),
                                    ((2, 4), (4,), (4,))])
def test_affine_rejects_bad_shapes(shapes):
    x, w, b = (np.zeros(s) for s in shapes)
    with pytest.raises(ValueError):
        affine_forward(x, w, b)


def test_affine_backward_rejects_bad_dout():
    _, cache = affine_forward(np.zeros((2, 4)), np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="dout"):
        affine_backward(np.zeros((2, 4)), cache)


# ---------------------------------------------------------------- non-linearities

def test_activation_values():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(relu_forward(x)[0], [0.0, 0.0, 3.0])
    np.testing.assert_allclose(sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(tanh_forward(x)[0], np.tanh(x))


def test_sigmoid_is_stable_for_large_inputs():
    with np.errstate(all="raise"):
        out, _ = sigmoid_forward(np.array([-1e4, -800.0, 800.0, 1e4]))
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, 1.0])


def test_relu_backward_zero_for_negative_inputs():
    x = np.array([-1.0, 2.0, -3.0, 4.0])
    _, cache = relu_forward(x)
    np.testing.assert_array_equal(relu_backward(np.ones(4), cache), [0.0, 1.0, 0.0, 1.0])


# ---------------------------------------------------------------- batchnorm

@pytest.fixture
def bn_data():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((200, 3)) * np.array([1.0, 5.0, 0.1]) + np.array([4.0, -2.0, 10.0])
    return x, np.ones(3), np.zeros(3)


def test_batchnorm_train_output_is_standardized(bn_data):
    x, gamma, beta = bn_data
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-3)  # eps shifts std slightly


def test_batchnorm_gamma_beta_set_std_and_mean(bn_data):
    x, _, _ = bn_data
    gamma, beta = np.array([0.5, 2.0, 3.0]), np.array([-1.0, 0.0, 7.0])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-3)


def test_batchnorm_running_averages_follow_momentum(bn_data):
    x, gamma, beta = bn_data
    momentum = 0.8
    bn_param = {"mode": "train", "momentum": momentum}
    batchnorm_forward(x, gamma, beta, bn_param)
    mean, var = x.mean(axis=0), x.var(axis=0)  # biased variance
    np.testing.assert_allclose(bn_param["running_mean"], (1 - momentum) * mean)
    np.testing.assert_allclose(bn_param["running_var"], momentum * 1.0 + (1 - momentum) * var)
    x2 = 2 * x + 1
    expected_mean = momentum * bn_param["running_mean"] + (1 - momentum) * x2.mean(axis=0)
    expected_var = momentum * bn_param["running_var"] + (1 - momentum) * x2.var(axis=0)
    batchnorm_forward(x2, gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], expected_mean)
    np.testing.assert_allclose(bn_param["running_var"], expected_var)


def test_batchnorm_running_averages_converge_to_population_stats(bn_data):
    x, gamma, beta = bn_data
    bn_param = {"mode": "train"}
    for _ in range(200):
        batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], x.var(axis=0))


def test_batchnorm_test_mode_uses_running_stats_and_keeps_them(bn_data):
    x, _, _ = bn_data
    gamma, beta = np.array([0.5, 2.0, 3.0]), np.array([-1.0, 0.0, 7.0])
    running_mean, running_var = np.array([1.0, 2.0, 3.0]), np.array([4.0, 0.25, 1.0])
    bn_param = {"mode": "test", "running_mean": running_mean, "running_var": running_var,
                "eps": 1e-5}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta)
    assert bn_param["running_mean"] is running_mean and bn_param["running_var"] is running_var
    np.testing.assert_array_equal(running_mean, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(running_var, [4.0, 0.25, 1.0])


def test_batchnorm_train_does_not_modify_old_running_arrays(bn_data):
    x, gamma, beta = bn_data
    old_mean = np.zeros(3)
    bn_param = {"mode": "train", "running_mean": old_mean}
    batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_array_equal(old_mean, 0.0)


def test_batchnorm_creates_running_stats_in_x_dtype():
    bn_param = {"mode": "test"}
    x = np.ones((2, 3), dtype=np.float32)
    batchnorm_forward(x, np.ones(3, np.float32), np.zeros(3, np.float32), bn_param)
    assert bn_param["running_mean"].dtype == np.float32
    np.testing.assert_array_equal(bn_param["running_mean"], 0.0)
    np.testing.assert_array_equal(bn_param["running_var"], 1.0)


@pytest.mark.parametrize("scale, shift", [(3.0, 0.0), (0.5, -4.0), (10.0, 100.0)])
def test_batchnorm_train_output_invariant_to_affine_input_change(bn_data, scale, shift):
    x, _, _ = bn_data
    gamma, beta = np.array([0.5, 2.0, 3.0]), np.array([-1.0, 0.0, 7.0])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 1e-12})
    moved = scale * x + shift
    out_moved, _ = batchnorm_forward(moved, gamma, beta, {"mode": "train", "eps": 1e-12})
    np.testing.assert_allclose(out_moved, out, atol=1e-7)


def test_batchnorm_backward_and_alt_agree():
    rng = np.random.default_rng(5)
    x, gamma, beta = _batchnorm_args(rng, np.float64)
    x = np.vstack([x, 5 * rng.standard_normal((20, 4))])
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = rng.standard_normal(x.shape)
    for graph, alt in zip(batchnorm_backward(dout, cache), batchnorm_backward_alt(dout, cache)):
        assert rel_error(graph, alt) < 1e-9


@pytest.mark.parametrize("bn_param, match", [
    ({}, "mode"), ({"mode": "eval"}, "mode"),
])
def test_batchnorm_rejects_bad_mode(bn_param, match):
    with pytest.raises(ValueError, match=match):
        batchnorm_forward(np.zeros((2, 3)), np.ones(3), np.zeros(3), bn_param)


def test_batchnorm_rejects_bad_shapes():
    with pytest.raises(ValueError, match="gamma"):
        batchnorm_forward(np.zeros((2, 3)), np.ones(4), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match="2-D"):
        batchnorm_forward(np.zeros(3), np.ones(3), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match="at least 2"):
        batchnorm_forward(np.zeros((1, 3)), np.ones(3), np.zeros(3), {"mode": "train"})


# ---------------------------------------------------------------- dropout

def test_dropout_keep_prob_one_is_identity():
    x = np.random.default_rng(6).standard_normal((10, 10))
    out, cache = dropout_forward(x, {"mode": "train", "keep_prob": 1.0, "seed": 0})
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(dropout_backward(x, cache), x)


def test_dropout_test_mode_is_identity():
    x = np.random.default_rng(7).standard_normal((10, 10))
    out, cache = dropout_forward(x, {"mode": "test", "keep_prob": 0.3})
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(dropout_backward(x, cache), x)


@pytest.mark.parametrize("keep_prob", [0.25, 0.5, 0.9])
def test_inverted_dropout_preserves_the_mean(keep_prob):
    x = np.full((500, 400), 3.0)
    out, (_, mask) = dropout_forward(x, {"mode": "train", "keep_prob": keep_prob, "seed": 1})
    assert abs(mask.mean() - keep_prob) < 0.01
    assert abs(out.mean() - 3.0) < 0.05
    assert set(np.unique(out)) <= {0.0, 3.0 / keep_prob}


def test_dropout_backward_uses_the_same_mask():
    rng = np.random.default_rng(8)
    x = rng.uniform(1.0, 2.0, (30, 20))  # no zeros, so out == 0 exactly where dropped
    out, cache = dropout_forward(x, {"mode": "train", "keep_prob": 0.5, "seed": 3})
    dout = rng.standard_normal(x.shape)
    dx = dropout_backward(dout, cache)
    kept = out != 0
    np.testing.assert_array_equal(dx[~kept], 0.0)
    np.testing.assert_allclose(dx[kept], dout[kept] / 0.5)


def test_dropout_same_seed_same_mask():
    x = np.ones((20, 20))
    param = {"mode": "train", "keep_prob": 0.5, "seed": 11}
    out_a, _ = dropout_forward(x, param)
    out_b, _ = dropout_forward(x, dict(param))
    out_c, _ = dropout_forward(x, dict(param, seed=12))
    np.testing.assert_array_equal(out_a, out_b)
    assert not np.array_equal(out_a, out_c)


@pytest.mark.parametrize("dropout_param", [
    {"mode": "train", "keep_prob": 0.0}, {"mode": "train", "keep_prob": 1.5},
    {"mode": "train", "keep_prob": -0.2}, {"mode": "train"}, {"keep_prob": 0.5},
    {"mode": "predict", "keep_prob": 0.5},
])
def test_dropout_rejects_bad_params(dropout_param):
    with pytest.raises(ValueError):
        dropout_forward(np.ones(3), dropout_param)
