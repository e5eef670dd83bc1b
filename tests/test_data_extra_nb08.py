"""Tests of cs231n_lib.data.split_validation (added for notebook 08)."""
import numpy as np
import pytest

from cs231n_lib.data import split_validation


def test_split_is_a_shuffled_disjoint_cover_with_labels_kept():
    X = np.arange(200, dtype=np.float64).reshape(100, 2)
    y = np.repeat(np.arange(5), 20)                  # sorted by class
    X_train, y_train, X_val, y_val = split_validation(X, y, 0.2, np.random.default_rng(0))
    assert X_train.shape == (80, 2) and X_val.shape == (20, 2)
    rows = np.concatenate([X_train[:, 0], X_val[:, 0]]) // 2
    assert sorted(rows.tolist()) == list(range(100))
    np.testing.assert_array_equal(y_val, y[(X_val[:, 0] // 2).astype(int)])
    assert np.unique(y_val).size > 1                 # not the tail of the sorted data


def test_same_seed_same_split_and_int_seed_accepted():
    X, y = np.random.default_rng(1).standard_normal((50, 3)), np.arange(50)
    a = split_validation(X, y, 0.3, np.random.default_rng(4))
    b = split_validation(X, y, 0.3, 4)
    for part_a, part_b in zip(a, b):
        np.testing.assert_array_equal(part_a, part_b)
    assert len(a[3]) == 15


@pytest.mark.parametrize("fraction", [0.0, 1.0, 0.001, 0.999])
def test_bad_fractions_raise(fraction):
    with pytest.raises(ValueError):
        split_validation(np.zeros((10, 2)), np.zeros(10, dtype=int), fraction,
                         np.random.default_rng(0))
