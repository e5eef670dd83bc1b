"""The training step's fast paths compute what the plain numpy expressions compute."""
import numpy as np
import pytest

from cs231n_lib import _constants
from cs231n_lib._constants import constant
from cs231n_lib.layers import _column_sums
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
