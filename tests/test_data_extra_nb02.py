"""Tests of data.standardize_splits (added for notebook 02)."""
import numpy as np
import pytest

from cs231n_lib.data import Standardizer, get_mnist_data, standardize_splits


def test_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_train = rng.uniform(0, 255, size=(50, 6))
    X_val = rng.uniform(100, 255, size=(9, 6))  # a shifted split must stay shifted
    X_train_n, X_val_n = standardize_splits(X_train, X_val)
    mean = X_train.mean(axis=0)
    std = np.sqrt(np.mean((X_train - mean) ** 2))
    np.testing.assert_allclose(X_train_n, (X_train - mean) / std)
    np.testing.assert_allclose(X_val_n, (X_val - mean) / std)
    assert X_val_n.mean() > 0.5
    np.testing.assert_allclose(X_train_n.mean(axis=0), 0, atol=1e-12)
    assert X_train_n.std() == pytest.approx(1.0)


def test_agrees_with_get_mnist_data_and_keeps_inputs():
    raw = get_mnist_data(num_train=300, num_val=50, num_test=50, normalize=False)
    std = get_mnist_data(num_train=300, num_val=50, num_test=50, normalize=True)
    before = raw["X_val"].copy()
    out = standardize_splits(raw["X_train"], raw["X_val"], raw["X_test"])
    assert len(out) == 3
    for name, X in zip(("X_train", "X_val", "X_test"), out):
        np.testing.assert_allclose(X, std[name])
    np.testing.assert_array_equal(raw["X_val"], before)


def test_constant_features_do_not_divide_by_zero():
    X_train = np.zeros((5, 3))
    X_train[:, 1] = np.arange(5)
    (out,) = standardize_splits(X_train)
    assert np.all(np.isfinite(out)) and np.all(out[:, [0, 2]] == 0)
    assert isinstance(Standardizer().fit(X_train).std_, float)
