"""Tests for cs231n_lib.init: the std of every scheme, fan-in, reproducibility, errors."""
import numpy as np
import pytest

from cs231n_lib.init import INIT_SCHEMES, init_std, init_weights

N_IN, N_OUT = 400, 1000  # different, so using fan_out instead of fan_in is caught

TARGET_STD = {
    "small": 0.01,
    "xavier": 1 / np.sqrt(N_IN),
    "glorot": np.sqrt(2 / (N_IN + N_OUT)),
    "he": np.sqrt(2 / N_IN),
    0.5: 0.5,
}


@pytest.mark.parametrize("scheme", list(TARGET_STD))
def test_empirical_std_matches_target(scheme):
    w = init_weights(scheme, N_IN, N_OUT, np.random.default_rng(0))
    assert w.shape == (N_IN, N_OUT)
    assert abs(w.std() / TARGET_STD[scheme] - 1) < 0.03
    assert abs(w.mean()) < 0.03 * TARGET_STD[scheme]


@pytest.mark.parametrize("scheme", list(TARGET_STD))
def test_init_std_values(scheme):
    assert init_std(scheme, N_IN, N_OUT) == pytest.approx(TARGET_STD[scheme])


def test_zeros_are_zeros():
    w = init_weights("zeros", 3, 5, np.random.default_rng(0), dtype=np.float32)
    assert w.shape == (3, 5) and w.dtype == np.float32
    assert not np.any(w)
    assert init_std("zeros", 3, 5) == 0.0


@pytest.mark.parametrize("scheme", ["xavier", "he"])
def test_fan_in_not_fan_out(scheme):
    n_in, n_out = 50, 2000
    std = init_weights(scheme, n_in, n_out, np.random.default_rng(1)).std()
    scale = 1.0 if scheme == "xavier" else np.sqrt(2.0)
    assert abs(std / (scale / np.sqrt(n_in)) - 1) < 0.03
    assert abs(std / (scale / np.sqrt(n_out)) - 1) > 0.5


def test_rng_reproducibility_and_dtype():
    a = init_weights("he", 20, 30, np.random.default_rng(7))
    b = init_weights("he", 20, 30, np.random.default_rng(7))
    c = init_weights("he", 20, 30, np.random.default_rng(8))
    f32 = init_weights("he", 20, 30, np.random.default_rng(7), dtype=np.float32)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert f32.dtype == np.float32
    np.testing.assert_array_equal(f32, a.astype(np.float32))


def test_schemes_tuple():
    assert INIT_SCHEMES == ("zeros", "small", "xavier", "glorot", "he")


def test_unknown_scheme_lists_valid_schemes():
    with pytest.raises(ValueError) as info:
        init_weights("kaiming", 3, 4, np.random.default_rng(0))
    for scheme in INIT_SCHEMES:
        assert scheme in str(info.value)


@pytest.mark.parametrize("std", [0.0, -0.1, float("nan"), float("inf")])
def test_non_positive_std_raises(std):
    with pytest.raises(ValueError, match="std"):
        init_weights(std, 3, 4, np.random.default_rng(0))


@pytest.mark.parametrize("n_in,n_out", [(0, 4), (3, -1), (2.5, 4)])
def test_bad_layer_sizes_raise(n_in, n_out):
    with pytest.raises(ValueError, match="n_"):
        init_weights("he", n_in, n_out, np.random.default_rng(0))


def test_missing_rng_raises():
    with pytest.raises(ValueError, match="rng"):
        init_weights("he", 3, 4, rng=0)
