"""Layers as pairs `out, cache = *_forward(...)` and `grads = *_backward(dout, cache)`.

Forward functions never modify their inputs; backward functions return new arrays. Only shapes are
validated (cheap), so the training step stays matmul-bound. Arrays keep their dtype.
"""
import math

import numpy as np

from cs231n_lib._validate import (
    as_array, require_choice, require_min_ndim, require_ndim, require_same_shape,
)

MODES = ("train", "test")

try:  # np.einsum minus its Python wrapper (~1 us a call), for the batchnorm fast path below
    from numpy._core.multiarray import c_einsum as _einsum
except ImportError:  # another numpy layout: the public function, same results
    _einsum = np.einsum


# ---------------------------------------------------------------- affine

def affine_forward(x, w, b):
    """Fully connected layer out = x.reshape(N, D) @ w + b.

    x: (N, d1, ..., dk) with D = d1*...*dk; w: (D, M); b: (M,). Returns out (N, M) and the
    cache (x, w, b), CS231n's layout (x in its original shape).
    """
    x, w, b = as_array("x", x), as_array("w", w), as_array("b", b)
    require_min_ndim("x", x, 1)
    require_ndim("w", w, 2)
    x_flat = x.reshape(x.shape[0], math.prod(x.shape[1:]))  # not -1: N may be 0
    if x_flat.shape[1] != w.shape[0] or b.shape != (w.shape[1],):
        raise ValueError(f"affine_forward: x with {x_flat.shape[1]} features per row, w {w.shape} "
                         f"and b {b.shape} do not fit (need w (D, M), b (M,))")
    out = x_flat @ w
    out += b  # in place: saves one (N, M) temporary
    return out, (x, w, b)


def _column_sums(a):
    """a.sum(axis=0) (the bias gradient) without the ndarray method's Python wrapper.

    Not the faster BLAS product ones @ a: its kernels round some columns differently from
    others, so hidden units that start identical (zero init) would no longer get
    bit-identical bias gradients (tests/test_fast_paths.py checks this).
    """
    if a.ndim == 2 and a.dtype.kind == "f" and a.flags.c_contiguous:
        # einsum adds the rows in order like np.add.reduce does for a C-ordered array (the
        # same bits), minus ~1 us of overhead at 100 x 100.
        return _einsum("ij->j", a)
    return np.add.reduce(a, axis=0)


def _affine_forward_flat(x_flat, w, b):
    """affine_forward without checks, for a model whose (N, D) input and parameters fit."""
    out = x_flat @ w
    out += b
    return out, (x_flat, w, b)


def _flat(x):
    """x as (N, D): a view, N may be 0."""
    return x if x.ndim == 2 else x.reshape(x.shape[0], math.prod(x.shape[1:]))


def _affine_backward_unchecked(dout, cache, bias_grad=True):
    """affine_backward without the shape check, for dout the caller knows to fit the cache.

    bias_grad=False returns only dx and dw (for a layer whose bias gradient is known to be 0).
    """
    x, w, _ = cache
    # OpenBLAS multiplies by a transposed right operand ~25% slower than by a plain one (for
    # 100x100 layers), more than a transposed copy of w costs: copy w.T, then multiply.
    dx = dout @ np.ascontiguousarray(w.T)
    if dx.shape != x.shape:
        dx = dx.reshape(x.shape)
    if not bias_grad:
        return dx, _flat(x).T @ dout
    return dx, _flat(x).T @ dout, _column_sums(dout)


def affine_param_grads(dout, cache):
    """Gradients of an affine layer's parameters only: (dw (D, M), db (M,)); dout: (N, M).

    The first layer of a network needs no dx, and skipping it saves a whole matmul.
    """
    return _affine_weight_grad(dout, cache), _column_sums(dout)


def _affine_weight_grad(dout, cache):
    """dw of affine_param_grads alone (for a layer whose bias gradient is known to be 0)."""
    x_flat = _flat(cache[0])
    # (dout.T @ x).T equals x.T @ dout but streams x row by row: ~12% faster when x is a
    # fresh input batch that is not in cache. dw comes out Fortran-ordered (same values).
    return (dout.T @ x_flat).T


def affine_backward(dout, cache):
    """Backward pass of affine_forward. dout: (N, M); cache: (x, w, b) from affine_forward.

    Returns dx (x's shape), dw (D, M), db (M,).
    """
    x, w, _ = cache
    if dout.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dout must have the output's shape {(x.shape[0], w.shape[1])}, "
                         f"got {dout.shape}")
    dx = (dout @ w.T).reshape(x.shape)
    dw, db = affine_param_grads(dout, cache)
    return dx, dw, db


# ---------------------------------------------------------------- non-linearities

def relu_forward(x):
    """Rectified linear unit max(0, x), elementwise. x: any shape. Returns out, cache."""
    x = as_array("x", x)
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    """Backward pass of relu_forward. dout: x's shape. Returns dx (x's shape).

    The derivative at exactly 0 is taken as 0 (a kink: avoid it in gradient checks).
    """
    x = cache
    require_same_shape("dout", dout, "x", x)
    return dout * (x > 0)


def sigmoid_forward(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), elementwise. x: any shape. Returns out, cache."""
    x = as_array("x", x)
    # The tanh form never overflows, unlike exp(-x) for very negative x.
    out = np.tanh(x * 0.5)
    out += 1.0
    out *= 0.5
    return out, out


def sigmoid_backward(dout, cache):
    """Backward pass of sigmoid_forward: dout * s * (1 - s). dout: x's shape. Returns dx."""
    s = cache
    require_same_shape("dout", dout, "sigmoid output", s)
    return dout * (s * (1.0 - s))


def tanh_forward(x):
    """Hyperbolic tangent, elementwise. x: any shape. Returns out (x's shape), cache."""
    x = as_array("x", x)
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """Backward pass of tanh_forward: dout * (1 - tanh(x)^2). dout: x's shape. Returns dx."""
    t = cache
    require_same_shape("dout", dout, "tanh output", t)
    return dout * (1.0 - t * t)


# ---------------------------------------------------------------- batch normalization

def _require_mode(param, owner):
    """Return param['mode'], raising a clear error when it is missing or unknown."""
    if "mode" not in param:
        raise ValueError(f"{owner} must contain 'mode' ('train' or 'test'), "
                         f"got keys {sorted(param)}")
    return require_choice("mode", param["mode"], MODES)


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization: standardize each feature over the batch, then scale and shift it.

    x: (N, D); gamma, beta: (D,). bn_param: 'mode' ('train'|'test'), 'eps' (1e-5), 'momentum'
    (0.9, weight of the old running value), 'running_mean'/'running_var' ((D,), created as
    zeros/ones when absent and replaced by updated arrays in train mode).
    Returns out (N, D) and a cache.
    """
    x, gamma, beta = as_array("x", x), as_array("gamma", gamma), as_array("beta", beta)
    require_ndim("x", x, 2)
    num_features = x.shape[1]
    if gamma.shape != (num_features,) or beta.shape != (num_features,):
        raise ValueError(f"gamma and beta must have shape ({num_features},) to match x {x.shape}, "
                         f"got {gamma.shape} and {beta.shape}")
    mode = _require_mode(bn_param, "bn_param")
    # Python floats keep float32 arrays float32 (numpy scalars would promote them).
    eps = float(bn_param.get("eps", 1e-5))
    momentum = float(bn_param.get("momentum", 0.9))
    running_mean = bn_param.get("running_mean")
    running_var = bn_param.get("running_var")
    if running_mean is None:
        running_mean = np.zeros(num_features, dtype=x.dtype)
    if running_var is None:
        running_var = np.ones(num_features, dtype=x.dtype)

    if mode == "train":
        if x.shape[0] < 2:
            raise ValueError(f"batchnorm in train mode needs a batch of at least 2, "
                             f"got x {x.shape}")
        mean = x.mean(axis=0)
        centered = x - mean
        var = np.einsum("ij,ij->j", centered, centered) / x.shape[0]  # biased (1/N) variance
        std = np.sqrt(var + eps)
        # New arrays (not in-place updates), so callers holding the old ones see no change.
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        var = running_var.astype(x.dtype, copy=False)
        centered = x - running_mean.astype(x.dtype, copy=False)
        std = np.sqrt(var + eps)
    inv_std = 1.0 / std
    x_hat = centered * inv_std
    out = x_hat * gamma
    out += beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    cache = {"mode": mode, "x_hat": x_hat, "centered": centered, "var": var, "std": std,
             "inv_std": inv_std, "eps": eps, "gamma": gamma}
    return out, cache


def _batchnorm_test_backward(dout, cache):
    """Backward pass in test mode, where mean and variance are constants."""
    dgamma = np.einsum("ij,ij->j", dout, cache["x_hat"])
    dbeta = dout.sum(axis=0)
    dx = dout * (cache["gamma"] * cache["inv_std"])
    return dx, dgamma, dbeta


def batchnorm_backward(dout, cache):
    """Backward pass of batchnorm_forward, one node of the computation graph at a time.

    dout: (N, D). Returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    require_same_shape("dout", dout, "x_hat", cache["x_hat"])
    if cache["mode"] == "test":
        return _batchnorm_test_backward(dout, cache)
    n = dout.shape[0]
    x_hat, centered, var, std = cache["x_hat"], cache["centered"], cache["var"], cache["std"]
    inv_std, eps, gamma = cache["inv_std"], cache["eps"], cache["gamma"]
    # out = gamma * x_hat + beta
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    # x_hat = centered * inv_std
    dinv_std = (dx_hat * centered).sum(axis=0)
    dcentered = dx_hat * inv_std
    # inv_std = 1 / std;  std = sqrt(var + eps)
    dstd = -dinv_std / std**2
    dvar = 0.5 * dstd / np.sqrt(var + eps)
    # var = mean(centered**2, axis=0)
    dcentered += 2.0 * centered * (dvar / n)
    # centered = x - mean;  mean = mean(x, axis=0)
    dmean = -dcentered.sum(axis=0)
    dx = dcentered + dmean / n
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batchnorm_forward in simplified closed form.

    dx = gamma / (N std) * (N dout - sum(dout) - x_hat * sum(dout * x_hat)), sums over the batch.
    dout: (N, D). Returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    require_same_shape("dout", dout, "x_hat", cache["x_hat"])
    if cache["mode"] == "test":
        return _batchnorm_test_backward(dout, cache)
    n = dout.shape[0]
    x_hat = cache["x_hat"]
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("ij,ij->j", dout, x_hat)
    scale = cache["gamma"] * cache["inv_std"]
    dx = x_hat * (dgamma / n)
    np.subtract(dout, dx, out=dx)
    dx -= dbeta / n
    dx *= scale
    return dx, dgamma, dbeta


# The model's training step calls the two functions below instead of the public pair above.
# Every pass over an (N, D) array costs about as much as the small ops together (~3 us for
# 100 x 100 float64; ~5 us when a (D,) vector is broadcast over the rows), so they make as
# few passes as they can: the forward centers x in place and never forms x_hat
# (out = centered * (gamma / std) + beta), the backward overwrites dout. Only numpy's
# reductions over axis 0 are used, never BLAS (ones @ a): those treat every column alike,
# so equal columns (zero-init units) stay bit-identical; see tests/test_fast_paths.py.

def _batchnorm_train_forward_owned(x, gamma, beta, bn_param, bias=None):
    """batchnorm_forward in train mode for a caller that owns x (it is overwritten).

    No checks: x (N, D) with N >= 2, gamma and beta (D,) of x's dtype, as the model ensures.
    Returns out (N, D) and the cache (centered, inv_std, gamma * inv_std) that
    _batchnorm_train_backward_owned consumes; bn_param gets new running arrays, as in
    batchnorm_forward.

    bias (D,): x is an affine output x @ w whose bias the caller did not add. The mean
    subtraction cancels a bias, so out is batchnorm_forward(x + bias, ...)'s to round-off
    (the same bits when bias is 0); the running mean is that of x + bias, as the test mode,
    which adds the bias, needs.
    """
    n = float(x.shape[0])  # a Python int operand costs numpy a slow conversion per call
    eps = float(bn_param.get("eps", 1e-5))
    momentum = float(bn_param.get("momentum", 0.9))
    # Column sums of a C-ordered array: einsum adds the rows in order like np.add.reduce (the
    # same bits, so mean is x.mean(axis=0)'s) and is ~20% faster at 100 x 100.
    mean = _einsum("ij->j", x)
    mean /= n
    centered = np.subtract(x, mean, out=x)
    var = _einsum("ij,ij->j", centered, centered)
    var /= n
    inv_std = var + eps
    np.sqrt(inv_std, out=inv_std)
    np.divide(1.0, inv_std, out=inv_std)
    scale = gamma * inv_std
    out = centered * scale  # = x_hat * gamma, one pass instead of two
    out += beta
    running_mean = bn_param.get("running_mean")
    running_var = bn_param.get("running_var")
    # New arrays (not in-place updates), so callers holding the old ones see no change;
    # missing ones start as zeros and ones, as in batchnorm_forward.
    new_mean = (mean if bias is None else mean + bias) * (1 - momentum)
    if running_mean is not None:
        new_mean += momentum * running_mean
    new_var = var * (1 - momentum)
    new_var += momentum if running_var is None else momentum * running_var
    bn_param["running_mean"] = new_mean
    bn_param["running_var"] = new_var
    return out, (centered, inv_std, scale)


def _batchnorm_train_backward_owned(dout, cache):
    """batchnorm_backward_alt for the cache of _batchnorm_train_forward_owned.

    Overwrites dout and the cache's centered array: call it once per forward pass.
    Returns dx (dout's array), dgamma, dbeta.
    """
    centered, inv_std, scale = cache
    n = float(dout.shape[0])
    dbeta = _einsum("ij->j", dout)  # np.add.reduce(dout, axis=0), see the forward
    dgamma = _einsum("ij,ij->j", dout, centered)
    dgamma *= inv_std  # sum(dout * x_hat), as x_hat = centered * inv_std
    # dx = gamma * inv_std * (dout - dbeta / n - x_hat * dgamma / n)
    x_hat_term = np.multiply(centered, inv_std * dgamma / n, out=centered)
    dx = np.subtract(dout, x_hat_term, out=dout)
    dx -= dbeta / n
    dx *= scale
    return dx, dgamma, dbeta


# ---------------------------------------------------------------- dropout

def _check_keep_prob(keep_prob):
    """Raise unless 0 < keep_prob <= 1 (keep_prob is the probability of KEEPING a unit)."""
    if not isinstance(keep_prob, (int, float, np.floating, np.integer)) or not 0 < keep_prob <= 1:
        raise ValueError(f"keep_prob (probability of keeping a unit) must lie in (0, 1], "
                         f"got {keep_prob!r}")
    return keep_prob


def dropout_forward(x, dropout_param):
    """Inverted dropout: keep each unit with probability keep_prob, scale kept ones by 1/keep_prob.

    x: any shape. dropout_param: 'keep_prob' in (0, 1], 'mode' ('train'|'test'), 'seed' (int or
    None; the mask comes from np.random.default_rng(seed), so a fixed seed gives a fixed mask;
    a Generator passed as seed is used as is and advances).
    Test mode and keep_prob == 1 return x unchanged. Returns out (x's shape) and
    cache = (dropout_param, mask) with mask a bool array of x's shape (None when not used).
    """
    x = as_array("x", x)
    if "keep_prob" not in dropout_param:
        raise ValueError(f"dropout_param must contain 'keep_prob', "
                         f"got keys {sorted(dropout_param)}")
    keep_prob = _check_keep_prob(dropout_param["keep_prob"])
    mode = _require_mode(dropout_param, "dropout_param")
    if mode == "test" or keep_prob == 1:
        return x, (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    # float32 uniforms are cheaper and precise enough for a Bernoulli mask.
    mask = rng.random(x.shape, dtype=np.float32) < keep_prob
    out = x * mask
    out /= float(keep_prob)
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    """Backward pass of dropout_forward with the same mask. dout: x's shape. Returns dx."""
    _, mask = cache
    if mask is None:
        return dout
    require_same_shape("dout", dout, "mask", mask)
    dx = dout * mask
    dx /= float(cache[0]["keep_prob"])
    return dx
