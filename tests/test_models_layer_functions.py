"""models.layer_functions: FullyConnectedNet trains with other batchnorm / dropout functions."""
import numpy as np
import pytest

from cs231n_lib import layers, models


def _counting(fn, calls, key):
    def wrapped(*args, **kwargs):
        calls[key] += 1
        return fn(*args, **kwargs)
    return wrapped


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((6, 5)), rng.integers(0, 3, 6)


def test_batchnorm_and_dropout_functions_are_used_inside_the_block_only():
    calls = {"bn_f": 0, "bn_b": 0, "do_f": 0, "do_b": 0}
    bn = (_counting(layers.batchnorm_forward, calls, "bn_f"),
          _counting(layers.batchnorm_backward_alt, calls, "bn_b"))
    do = (_counting(layers.dropout_forward, calls, "do_f"),
          _counting(layers.dropout_backward, calls, "do_b"))
    X, y = _batch()
    model = models.FullyConnectedNet([4, 4], input_dim=5, num_classes=3,
                                     normalization="batchnorm", keep_prob=0.5, seed=1)
    with models.layer_functions(batchnorm=bn, dropout=do):
        loss_inside, grads_inside = model.loss(X, y)
    assert calls == {"bn_f": 2, "bn_b": 2, "do_f": 2, "do_b": 2}
    model.loss(X, y)
    assert calls == {"bn_f": 2, "bn_b": 2, "do_f": 2, "do_b": 2}, "swap not undone"
    assert np.isfinite(loss_inside) and set(grads_inside) == set(model.params)


def test_other_functions_change_the_result_and_errors_restore_the_library():
    X, y = _batch()

    def doubling_forward(x, gamma, beta, bn_param):
        out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
        return 2 * out, cache

    model = models.FullyConnectedNet([4], input_dim=5, num_classes=3, normalization="batchnorm",
                                     seed=1)
    plain = model.loss(X)
    with models.layer_functions(batchnorm=(doubling_forward, layers.batchnorm_backward_alt)):
        assert not np.allclose(model.loss(X), plain)
        with pytest.raises(ZeroDivisionError):
            with models.layer_functions(batchnorm=(lambda *a: 1 / 0, lambda *a: None)):
                model.loss(X)
        assert not np.allclose(model.loss(X), plain)  # the outer swap is back
    np.testing.assert_array_equal(model.loss(X), plain)


def test_bad_pairs_are_refused():
    with pytest.raises(ValueError, match="pair of functions"):
        with models.layer_functions(batchnorm=layers.batchnorm_forward):
            pass
