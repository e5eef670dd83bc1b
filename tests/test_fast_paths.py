"""The training step's fast paths compute what the plain numpy expressions compute."""
import numpy as np
import pytest

from cs231n_lib import _constants
from cs231n_lib._constants import constant
from cs231n_lib.layers import (
    _batchnorm_train_backward_owned, _batchnorm_train_forward_owned, _column_sums,
    batchnorm_backward_alt, batchnorm_forward,
)
from cs231n_lib.losses import _row_max, _row_sums


def test_constant_is_shared_read_only_and_exact():
    zeros = constant(0.0, (3, 4), np.float32)
    assert zeros is constant(0.0, (3, 4), np.float32)
    assert zeros.dtype == np.float32 and zeros.shape == (3, 4) and not zeros.any()
    assert constant(0.0, (3, 4), np.float64) is not zeros
    assert np.array_equal(constant(1.0, (5,), np.float64), np.ones(5))
    with pytest.raises(ValueError):
        zeros[0, 0] = 1.0  # one caller must not be able to change it for the others


def test_constant_cache_stays_bounded():
    for n in range(100):
        constant(1.0, (n, 1000), np.float64)  # 80 KB more each time
    assert sum(a.nbytes for a in _constants._arrays.values()) <= _constants.MAX_BYTES
    huge = constant(0.0, (_constants.MAX_BYTES // 8,), np.float64)
    assert not huge.any() and not huge.flags.writeable
    assert all(a is not huge for a in _constants._arrays.values())  # made, not kept


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64])
@pytest.mark.parametrize("shape", [(100, 100), (7, 3), (1, 5), (0, 4)])
def test_column_and_row_reductions_match_numpy(dtype, shape):
    a = (np.random.default_rng(0).standard_normal(shape) * 10).astype(dtype)
    # Sums in another order differ by rounding, which scales with the sum of magnitudes.
    eps = {np.float64: 1e-14, np.float32: 1e-6}.get(dtype, 0)
    scale = float(np.abs(a.astype(np.float64)).sum()) + 1.0
    np.testing.assert_allclose(_column_sums(a), a.sum(axis=0), rtol=0, atol=eps * scale)
    np.testing.assert_allclose(_row_sums(a), a.sum(axis=1), rtol=0, atol=eps * scale)
    assert _column_sums(a).dtype == a.sum(axis=0).dtype
    if shape[1]:
        assert np.array_equal(_row_max(a), a.max(axis=1))


def test_row_max_is_not_fooled_by_views():
    a = np.arange(60.0).reshape(6, 10)[::2, 1::3]  # non-contiguous view
    assert np.array_equal(_row_max(a), a.max(axis=1))
    assert np.array_equal(_row_max(np.asfortranarray(a)), a.max(axis=1))


@pytest.mark.parametrize("shape", [(100, 50), (100, 10), (37, 13), (100, 100), (1, 7)])
def test_column_sums_of_equal_columns_are_equal_to_the_bit(shape):
    """Equal columns must give bit-identical sums (zero-init units stay identical, I1).

    BLAS's ones @ a, twice as fast, fails this for most of these shapes."""
    v = np.random.default_rng(1).standard_normal(shape[0])
    sums = _column_sums(np.repeat(v[:, None], shape[1], axis=1))
    assert np.unique(sums).size == 1


# ---------------------------------------------------------------- batchnorm's in-place path

def _bn_inputs(rng, shape, dtype):
    x = (rng.standard_normal(shape) * rng.uniform(0.1, 5, shape[1]) + rng.uniform(-3, 3, shape[1]))
    gamma, beta = rng.uniform(0.5, 2, shape[1]), rng.standard_normal(shape[1])
    return x.astype(dtype), gamma.astype(dtype), beta.astype(dtype)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-4)])
@pytest.mark.parametrize("shape", [(100, 100), (2, 5), (37, 13)])
@pytest.mark.parametrize("bn_param", [
    {}, {"momentum": 0.7, "eps": 1e-3}, {"running_mean": "given", "running_var": "given"},
])
def test_batchnorm_owned_path_matches_public_pair(dtype, rtol, shape, bn_param):
    """The model's in-place batchnorm computes what batchnorm_forward/_backward_alt compute."""
    rng = np.random.default_rng(shape[0])
    x, gamma, beta = _bn_inputs(rng, shape, dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    if "running_mean" in bn_param:
        bn_param = dict(bn_param, running_mean=rng.standard_normal(shape[1]).astype(dtype),
                        running_var=rng.uniform(1, 2, shape[1]).astype(dtype))
    public_param, owned_param = dict(bn_param, mode="train"), dict(bn_param, mode="train")
    out, cache = batchnorm_forward(x, gamma, beta, public_param)
    grads = batchnorm_backward_alt(dout, cache)
    x_owned, dout_owned = x.copy(), dout.copy()
    out_owned, cache_owned = _batchnorm_train_forward_owned(x_owned, gamma, beta, owned_param)
    grads_owned = _batchnorm_train_backward_owned(dout_owned, cache_owned)
    assert out_owned.dtype == dtype and all(g.dtype == dtype for g in grads_owned)
    scale = np.abs(out).max()
    np.testing.assert_allclose(out_owned, out, rtol=0, atol=rtol * scale)
    for name, got, want in zip(("dx", "dgamma", "dbeta"), grads_owned, grads):
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * np.abs(want).max(),
                                   err_msg=name)
    for key in ("running_mean", "running_var"):  # the same formulas, so the same bits
        assert owned_param[key].dtype == dtype
        np.testing.assert_array_equal(owned_param[key], public_param[key])
        if key in bn_param:
            assert owned_param[key] is not bn_param[key]  # a new array, the old one unchanged


@pytest.mark.parametrize("shape", [(100, 100), (100, 10), (37, 13)])
def test_batchnorm_owned_path_keeps_equal_columns_equal_to_the_bit(shape):
    """Equal input columns (zero-init units, I1) give bit-identical outputs and gradients."""
    rng = np.random.default_rng(2)
    x = np.repeat(rng.standard_normal((shape[0], 1)) * 3 + 1, shape[1], axis=1)
    dout = np.repeat(rng.standard_normal((shape[0], 1)), shape[1], axis=1)
    gamma, beta = np.full(shape[1], 1.5), np.full(shape[1], -0.5)
    out, cache = _batchnorm_train_forward_owned(x, gamma, beta, {"mode": "train"})
    for name, array in [("out", out), *zip(("dx", "dgamma", "dbeta"),
                                            _batchnorm_train_backward_owned(dout, cache))]:
        columns = array.reshape(array.shape[0] if array.ndim == 2 else 1, -1)
        assert np.all(columns == columns[:, :1]), f"{name}: columns differ"


def test_model_batchnorm_falls_back_to_the_public_layer_for_unusual_parameters():
    """gamma/beta replaced by lists train like the arrays (through batchnorm_forward's checks)."""
    from cs231n_lib.models import FullyConnectedNet
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((20, 6)), rng.integers(3, size=20)
    model = FullyConnectedNet([5, 4], input_dim=6, num_classes=3, normalization="batchnorm",
                              seed=0)
    loss, grads = model.loss(X, y)
    model.params["gamma1"] = model.params["gamma1"].tolist()
    model.params["beta2"] = model.params["beta2"].tolist()
    loss_lists, grads_lists = model.loss(X, y)
    assert loss_lists == pytest.approx(loss, rel=1e-12)
    for name, grad in grads.items():
        np.testing.assert_allclose(grads_lists[name], grad, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    model.params["gamma1"] = [1.0, 2.0]
    with pytest.raises(ValueError, match="gamma and beta must have shape"):
        model.loss(X, y)


def test_column_sums_of_c_ordered_floats_have_the_bits_of_add_reduce():
    """_column_sums takes einsum for C-ordered float arrays: it must add the rows in the same
    order as np.add.reduce (the public affine_backward's db keeps its bits)."""
    rng = np.random.default_rng(4)
    for dtype in (np.float64, np.float32, np.float16):
        for shape in [(100, 100), (100, 10), (37, 13), (1, 5), (2, 784), (500, 7)]:
            a = (rng.standard_normal(shape) * 10).astype(dtype)
            assert np.array_equal(_column_sums(a), np.add.reduce(a, axis=0)), (dtype, shape)
            assert _column_sums(a).dtype == dtype


# ---------------------------------------------------------------- affine + batchnorm in the model

def _public_batchnorm():
    """The library's batchnorm pair wrapped, so that the model takes the public path."""
    from cs231n_lib.layers import batchnorm_backward_alt as backward, batchnorm_forward as forward
    return (lambda *args: forward(*args)), (lambda *args: backward(*args))


def _bn_model(dtype, bias_std=0.0, seed=0):
    from cs231n_lib.models import FullyConnectedNet
    model = FullyConnectedNet([30, 20, 15], input_dim=12, num_classes=7,
                              normalization="batchnorm", dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed + 1)
    for i in (1, 2, 3, 4):
        b = model.params[f"b{i}"]
        model.params[f"b{i}"] = (bias_std * rng.standard_normal(b.shape)).astype(dtype)
    return model


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-4)])
@pytest.mark.parametrize("bias_std", [0.0, 3.0])
def test_model_affine_batchnorm_matches_the_public_layers(dtype, rtol, bias_std):
    """The model's training pass skips the bias that batchnorm cancels: the same loss, gradients
    and running averages as the public layers to round-off, and a bias gradient of exact zeros
    where the public layers give round-off (the exact gradient is 0)."""
    from cs231n_lib.models import layer_functions
    rng = np.random.default_rng(5)
    X = (rng.standard_normal((40, 12)) * 2 + 1).astype(dtype)
    y = rng.integers(7, size=40)
    fast, public = _bn_model(dtype, bias_std), _bn_model(dtype, bias_std)
    for _ in range(2):  # the second pass starts from the running averages of the first
        loss, grads = fast.loss(X, y)
        with layer_functions(batchnorm=_public_batchnorm()):
            loss_public, grads_public = public.loss(X, y)
        assert loss == pytest.approx(loss_public, rel=rtol)
        assert grads.keys() == grads_public.keys()
        for name, want in grads_public.items():
            got = grads[name]
            assert got.dtype == want.dtype == dtype and got.shape == want.shape, name
            if name in ("b1", "b2", "b3"):  # the layers that feed batchnorm
                assert not got.any(), name
                scale = np.abs(grads[f"W{name[1:]}"]).max()
                np.testing.assert_allclose(want, 0, atol=rtol * scale, err_msg=name)
            else:
                np.testing.assert_allclose(got, want, rtol=0, atol=rtol * np.abs(want).max(),
                                           err_msg=name)
        for bn, bn_public in zip(fast.bn_params, public.bn_params):
            for key in ("running_mean", "running_var"):
                assert bn[key].dtype == dtype
                np.testing.assert_allclose(bn[key], bn_public[key], rtol=0,
                                           atol=rtol * (np.abs(bn_public[key]).max() + 1))
    # test mode runs the public layers for both and adds the bias: the same scores
    np.testing.assert_allclose(fast.loss(X), public.loss(X), rtol=0,
                               atol=rtol * np.abs(public.loss(X)).max())


def test_model_affine_batchnorm_is_bitwise_the_public_forward_when_the_bias_is_zero():
    """With b = 0 (its init) skipping b changes no bit of the forward pass."""
    from cs231n_lib.models import layer_functions
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((25, 12)), rng.integers(7, size=25)
    fast, public = _bn_model(np.float64), _bn_model(np.float64)
    loss, _ = fast.loss(X, y)
    with layer_functions(batchnorm=_public_batchnorm()):
        loss_public, _ = public.loss(X, y)
    assert loss == loss_public
    for h, h_public in zip(fast.last_activations, public.last_activations):
        np.testing.assert_array_equal(h, h_public)
    for bn, bn_public in zip(fast.bn_params, public.bn_params):
        np.testing.assert_array_equal(bn["running_mean"], bn_public["running_mean"])


def test_model_affine_batchnorm_keeps_equal_units_equal_to_the_bit():
    """Hidden units with equal weights (zero-init-like symmetry) get bit-identical gradients."""
    from cs231n_lib.models import FullyConnectedNet
    rng = np.random.default_rng(7)
    model = FullyConnectedNet([16, 16], input_dim=9, num_classes=4, normalization="batchnorm",
                              seed=0)
    # Equal units: equal incoming weights (columns), equal outgoing weights (rows).
    model.params["W1"] = np.repeat(rng.standard_normal((9, 1)), 16, axis=1)
    model.params["W2"] = np.full((16, 16), rng.standard_normal())
    model.params["W3"] = np.repeat(rng.standard_normal((1, 4)), 16, axis=0)
    X, y = rng.standard_normal((30, 9)), rng.integers(4, size=30)
    _, grads = model.loss(X, y)
    for name in ("W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2"):
        columns = grads[name].reshape(-1, grads[name].shape[-1])
        assert np.all(columns == columns[:, :1]), f"{name}: columns differ"
    assert np.abs(grads["W1"]).max() > 0  # not trivially equal


def test_model_affine_batchnorm_takes_the_public_path_for_unusual_parameters():
    """A bias of another dtype, a batch of one in train mode or a swapped-in batchnorm: the
    bias is added and its gradient computed as before."""
    from cs231n_lib.models import layer_functions
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((20, 12)), rng.integers(7, size=20)
    model = _bn_model(np.float64, bias_std=1.0)
    model.params["b2"] = model.params["b2"].astype(np.float32)
    _, grads = model.loss(X, y)
    assert not grads["b1"].any() and grads["b2"].dtype == np.float64
    with layer_functions(batchnorm=_public_batchnorm()):
        _, grads = model.loss(X, y)
    assert grads["b1"].any()  # the public path's round-off
    with pytest.raises(ValueError, match="batch of at least 2"):
        model.loss(X[:1], y[:1])
