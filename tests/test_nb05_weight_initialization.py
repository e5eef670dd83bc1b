"""Checks specific to notebook 05: the init_weights grader judges distributions, not values."""
import numpy as np
import pytest

from cs231n_lib import grading

STDS = {"small": lambda n_in, n_out: 0.01, "xavier": lambda n_in, n_out: 1 / np.sqrt(n_in),
        "glorot": lambda n_in, n_out: np.sqrt(2 / (n_in + n_out)),
        "he": lambda n_in, n_out: np.sqrt(2 / n_in)}


def init_with_normal(scheme, n_in, n_out, rng):
    """Correct, but draws with rng.normal in float32: other numbers, same distribution."""
    if scheme == "zeros":
        return np.zeros((n_in, n_out), dtype=np.float32)
    std = STDS[scheme](n_in, n_out)
    return rng.normal(0.0, std, size=(n_in, n_out)).astype(np.float32)


def init_column_by_column(scheme, n_in, n_out, rng):
    """Correct, drawing one column at a time (a different order of random calls)."""
    W = np.zeros((n_in, n_out))
    if scheme != "zeros":
        for j in range(n_out):
            W[:, j] = STDS[scheme](n_in, n_out) * rng.standard_normal(n_in)
    return W


def init_xavier_is_glorot(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    std = np.sqrt(2 / (n_in + n_out)) if scheme == "xavier" else STDS[scheme](n_in, n_out)
    return std * rng.standard_normal((n_in, n_out))


def init_small_positive(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    if scheme == "small":
        return 0.01 * rng.random((n_in, n_out))
    return STDS[scheme](n_in, n_out) * rng.standard_normal((n_in, n_out))


def init_almost_zeros(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return 1e-12 * rng.standard_normal((n_in, n_out))
    return STDS[scheme](n_in, n_out) * rng.standard_normal((n_in, n_out))


@pytest.mark.parametrize("fn", [init_with_normal, init_column_by_column])
def test_correct_initializers_that_draw_differently_pass(fn):
    grading.check("init_weights", fn)
    grading.check("init_weights", fn, seeds=range(10, 16))


@pytest.mark.parametrize("fn, words", [
    (init_xavier_is_glorot, "expected 1/sqrt(n_in)"),
    (init_small_positive, "mean 0"),
    (init_almost_zeros, "exactly 0"),
])
def test_wrong_initializers_fail_with_a_reason(fn, words):
    with pytest.raises(grading.CheckFailure, match="init_weights") as info:
        grading.check("init_weights", fn)
    assert words in str(info.value)


def test_not_implemented_reaches_the_grader():
    def stub(scheme, n_in, n_out, rng):
        raise NotImplementedError
    with pytest.raises(NotImplementedError):
        grading.check("init_weights", stub)
