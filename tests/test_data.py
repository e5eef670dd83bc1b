"""Tests for cs231n_lib.data: embedded MNIST, splits, standardization, CIFAR-10, 2-D problems."""
import pickle

import numpy as np
import pytest

from cs231n_lib import data


def centered_gradient(f, point, h=1e-6):
    """Centered finite-difference gradient of a scalar f at a (2,) point."""
    grad = np.zeros(2)
    for i in range(2):
        step = np.zeros(2)
        step[i] = h
        grad[i] = (f(point + step) - f(point - step)) / (2 * h)
    return grad


def rows_as_set(X):
    """Rows of a 2-D array as a set of bytes, for disjointness checks."""
    return {row.tobytes() for row in np.ascontiguousarray(X)}


# ----------------------------------------------------------------------------- MNIST subset

def test_mnist_subset_shapes_dtypes_and_counts():
    X, y = data.load_mnist_subset()
    assert X.shape == (5000, 28, 28) and X.dtype == np.uint8
    assert y.shape == (5000,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [500] * 10
    assert X.min() == 0 and X.max() == 255


def test_mnist_subset_missing_file_names_path_and_fix(tmp_path):
    missing = tmp_path / "nowhere" / "mnist_5k.npz"
    with pytest.raises(FileNotFoundError, match="convert_mnist_5k.py") as info:
        data.load_mnist_subset(missing)
    assert str(missing) in str(info.value)


@pytest.mark.parametrize("content", [b"not a zip file at all", b"PK\x03\x04truncated"])
def test_mnist_subset_corrupt_file_is_a_clear_error(tmp_path, content):
    corrupt = tmp_path / "mnist_5k.npz"
    corrupt.write_bytes(content)
    with pytest.raises(ValueError, match="convert_mnist_5k.py") as info:
        data.load_mnist_subset(corrupt)
    assert str(corrupt) in str(info.value)


def test_mnist_subset_wrong_arrays_are_rejected(tmp_path):
    no_labels = tmp_path / "no_labels.npz"
    np.savez_compressed(no_labels, images=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="unreadable or incomplete"):
        data.load_mnist_subset(no_labels)
    wrong_shape = tmp_path / "wrong_shape.npz"
    np.savez_compressed(wrong_shape, images=np.zeros((3, 32, 32), np.uint8),
                        labels=np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="unexpected arrays"):
        data.load_mnist_subset(wrong_shape)


# ----------------------------------------------------------------------------- splitting

def sorted_toy_data(num=200, num_classes=10):
    """Class-sorted data like the MNIST subset; X[i] = [i, i] identifies each example."""
    X = np.repeat(np.arange(num, dtype=np.float64)[:, None], 2, axis=1)
    y = np.repeat(np.arange(num_classes), num // num_classes)
    return X, y


def test_split_sizes_disjoint_and_complete():
    X, y = sorted_toy_data()
    X_tr, y_tr, X_va, y_va, X_te, y_te = data.train_val_test_split(
        X, y, 0.2, 0.1, np.random.default_rng(0))
    assert (len(X_tr), len(X_va), len(X_te)) == (140, 40, 20)
    ids = [set(part[:, 0].astype(int)) for part in (X_tr, X_va, X_te)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert set().union(*ids) == set(range(200))
    # Labels travel with their examples: example i has label i // 20.
    for part_X, part_y in ((X_tr, y_tr), (X_va, y_va), (X_te, y_te)):
        np.testing.assert_array_equal(part_X[:, 0].astype(int) // 20, part_y)


def test_split_shuffles_class_sorted_data():
    X, y = data.load_mnist_subset()
    _, y_train, *_ = data.train_val_test_split(X, y, 0.1, 0.1, np.random.default_rng(0))
    assert len(np.unique(y_train[:50])) > 1


def test_split_is_seeded_and_leaves_inputs_alone():
    X, y = sorted_toy_data()
    X_before, y_before = X.copy(), y.copy()
    first = data.train_val_test_split(X, y, 0.2, 0.2, np.random.default_rng(5))
    second = data.train_val_test_split(X, y, 0.2, 0.2, np.random.default_rng(5))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("val_fraction, test_fraction", [
    (0.0, 0.2), (0.2, 0.0), (-0.1, 0.2), (1.0, 0.1), (0.5, 0.5), (0.7, 0.4)])
def test_split_rejects_bad_fractions(val_fraction, test_fraction):
    X, y = sorted_toy_data()
    with pytest.raises(ValueError, match="fraction"):
        data.train_val_test_split(X, y, val_fraction, test_fraction, np.random.default_rng(0))


def test_split_rejects_empty_splits_mismatch_and_missing_rng():
    X, y = sorted_toy_data()
    with pytest.raises(ValueError, match="non-empty"):
        data.train_val_test_split(X[:4], y[:4], 0.1, 0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="same number of examples"):
        data.train_val_test_split(X, y[:-1], 0.2, 0.2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        data.train_val_test_split(X, y, 0.2, 0.2, None)


# ----------------------------------------------------------------------------- Standardizer

def test_standardizer_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_train = rng.normal(3.0, 2.0, size=(500, 4))
    X_val = rng.normal(5.0, 2.0, size=(100, 4))  # shifted: must NOT come out centred
    scaler = data.Standardizer().fit(X_train)
    train_out, val_out = scaler.transform(X_train), scaler.transform(X_val)
    np.testing.assert_allclose(train_out.mean(axis=0), 0.0, atol=1e-12)
    assert train_out.std() == pytest.approx(1.0)
    np.testing.assert_allclose(val_out, (X_val - X_train.mean(axis=0)) / scaler.std_)
    assert val_out.mean() > 0.5


def test_standardizer_global_std_keeps_relative_scale_and_dtype():
    X = np.zeros((10, 3), dtype=np.float32)
    X[:, 0] = np.arange(10)
    X[0, 1] = 1.0  # an almost-constant "border pixel" must not blow up
    out = data.Standardizer().fit_transform(X)
    assert out.dtype == np.float32
    assert np.abs(out[:, 1]).max() < np.abs(out[:, 0]).max()
    np.testing.assert_array_equal(out[:, 2], 0.0)  # constant feature: centred, not divided by 0
    assert data.Standardizer().fit_transform(X.astype(np.uint8)).dtype == np.float64


def test_standardizer_rejects_misuse():
    with pytest.raises(ValueError, match="not fitted"):
        data.Standardizer().transform(np.zeros((2, 3)))
    scaler = data.Standardizer().fit(np.ones((4, 3)))
    with pytest.raises(ValueError, match="per-example shape"):
        scaler.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="zero examples"):
        data.Standardizer().fit(np.zeros((0, 3)))


# ----------------------------------------------------------------------------- get_mnist_data

def test_get_mnist_data_shapes_disjoint_and_normalized_with_train_stats():
    split = data.get_mnist_data(num_train=1000, num_val=200, num_test=300, seed=1)
    for name, num in (("train", 1000), ("val", 200), ("test", 300)):
        assert split[f"X_{name}"].shape == (num, 784) and split[f"X_{name}"].dtype == np.float64
        assert split[f"y_{name}"].shape == (num,) and split[f"y_{name}"].dtype == np.int64
    assert len(np.unique(split["y_train"][:50])) > 1
    raw = data.get_mnist_data(num_train=1000, num_val=200, num_test=300, seed=1, normalize=False)
    assert raw["mean"] is None and raw["std"] is None
    np.testing.assert_array_equal(raw["y_val"], split["y_val"])
    train_sets = rows_as_set(raw["X_train"])
    assert not train_sets & rows_as_set(raw["X_val"])
    assert not train_sets & rows_as_set(raw["X_test"])
    np.testing.assert_allclose(split["mean"], raw["X_train"].mean(axis=0))
    np.testing.assert_allclose(split["X_val"], (raw["X_val"] - split["mean"]) / split["std"])
    assert abs(split["X_train"].mean()) < 1e-12
    assert split["X_val"].mean() != pytest.approx(0.0, abs=1e-12)


def test_get_mnist_data_options_and_seeding():
    small = data.get_mnist_data(50, 10, 0, seed=3, flatten=False, dtype=np.float32)
    assert small["X_train"].shape == (50, 28, 28) and small["X_train"].dtype == np.float32
    assert small["X_test"].shape == (0, 28, 28) and small["mean"].shape == (28, 28)
    again = data.get_mnist_data(50, 10, 0, seed=3, flatten=False, dtype=np.float32)
    np.testing.assert_array_equal(small["X_train"], again["X_train"])
    other = data.get_mnist_data(50, 10, 0, seed=4)
    assert not np.array_equal(small["y_train"], other["y_train"])


@pytest.mark.parametrize("kwargs", [
    {"num_train": 0}, {"num_val": -1}, {"num_train": 4000, "num_val": 600, "num_test": 500},
    {"num_test": 2.5}, {"dtype": np.int32}])
def test_get_mnist_data_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        data.get_mnist_data(**kwargs)


# ----------------------------------------------------------------------------- CIFAR-10

def write_cifar_batch(path, num, rng):
    """Write a fake batch in the real format (a pickled dict, bytes keys); return (rows, labels)."""
    rows = rng.integers(0, 256, size=(num, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=num).tolist()  # the real batches store a list of ints
    with open(path, "wb") as handle:
        pickle.dump({b"batch_label": b"fake", b"data": rows, b"labels": labels,
                     b"filenames": [b"x.png"] * num}, handle, protocol=2)
    return rows, labels


def write_tiny_cifar(folder, rng):
    """Five training batches of 2 images and a test batch of 3; returns the written rows/labels."""
    folder.mkdir(parents=True, exist_ok=True)
    train = [write_cifar_batch(folder / f"data_batch_{i}", 2, rng) for i in range(1, 6)]
    test = write_cifar_batch(folder / "test_batch", 3, rng)
    return train, test


def test_load_cifar10_reads_the_python_batches(tmp_path):
    train, (test_rows, test_labels) = write_tiny_cifar(tmp_path / "cifar-10-batches-py",
                                                       np.random.default_rng(0))
    X_train, y_train, X_test, y_test = data.load_cifar10(tmp_path / "cifar-10-batches-py")
    assert X_train.shape == (10, 32, 32, 3) and X_train.dtype == np.uint8
    assert X_test.shape == (3, 32, 32, 3) and y_test.dtype == np.int64
    np.testing.assert_array_equal(y_train, sum((labels for _, labels in train), []))
    np.testing.assert_array_equal(y_test, test_labels)
    # A row is the red plane, then green, then blue, each 32x32 row-major.
    image, row = X_test[2], test_rows[2]
    for channel in range(3):
        for r, c in ((0, 0), (5, 17), (31, 31)):
            assert image[r, c, channel] == row[channel * 1024 + r * 32 + c]
    # The parent folder of cifar-10-batches-py works too.
    np.testing.assert_array_equal(data.load_cifar10(tmp_path)[0], X_train)


def test_load_cifar10_missing_files_are_listed(tmp_path):
    write_tiny_cifar(tmp_path, np.random.default_rng(0))
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3") as info:
        data.load_cifar10(tmp_path)
    assert "test_batch" in str(info.value)  # the full list of expected files is given
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        data.load_cifar10(tmp_path / "empty")


def test_load_cifar10_rejects_a_malformed_batch(tmp_path):
    write_tiny_cifar(tmp_path, np.random.default_rng(0))
    with open(tmp_path / "test_batch", "wb") as handle:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, handle)
    with pytest.raises(ValueError, match="3072"):
        data.load_cifar10(tmp_path)


# ----------------------------------------------------------------------------- 2-D problems

@pytest.mark.parametrize("problem", [data.bowl, data.saddle])
def test_2d_gradients_match_finite_differences(problem):
    rng = np.random.default_rng(0)
    points = [np.array(data.BOWL_START), np.array(data.SADDLE_START)] + list(
        rng.normal(scale=3.0, size=(5, 2)))
    for point in points:
        value, grad = problem(point)
        assert np.ndim(value) == 0 and grad.shape == (2,)
        numeric = centered_gradient(lambda p: problem(p)[0], point)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_2d_problems_values_and_batches():
    assert data.BOWL_START == (-7.0, 2.0)
    value, grad = data.bowl(data.BOWL_START)
    assert value == pytest.approx(49 / 20 + 4)
    np.testing.assert_allclose(grad, [-0.7, 4.0])
    assert data.saddle([0, 0])[0] == 0.0
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-2, 2, 3)), axis=-1)
    values, grads = data.saddle(grid)
    assert values.shape == (3, 4) and grads.shape == (3, 4, 2)
    np.testing.assert_allclose(values[1, 2], data.saddle(grid[1, 2])[0])


@pytest.mark.parametrize("problem", [data.bowl, data.saddle])
@pytest.mark.parametrize("bad", [np.zeros(3), np.float64(1.0), np.zeros((4, 1))])
def test_2d_problems_reject_wrong_shapes(problem, bad):
    with pytest.raises(ValueError, match="shape"):
        problem(bad)


def test_make_spirals_shapes_labels_and_seeding():
    X, y = data.make_spirals(100, 3, np.random.default_rng(0))
    assert X.shape == (300, 2) and X.dtype == np.float64
    assert y.shape == (300,) and y.dtype == np.int64 and np.bincount(y).tolist() == [100] * 3
    assert np.all(np.linalg.norm(X, axis=1) <= 1.0 + 1e-12)
    X_again, _ = data.make_spirals(100, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(X, X_again)
    X_other, _ = data.make_spirals(100, 3, np.random.default_rng(1))
    assert not np.array_equal(X, X_other)
    X_clean, _ = data.make_spirals(100, 3, np.random.default_rng(7), noise=0.0)
    np.testing.assert_array_equal(X_clean, data.make_spirals(100, 3, np.random.default_rng(8),
                                                             noise=0.0)[0])


@pytest.mark.parametrize("args, kwargs", [
    ((0, 3, 0), {}), ((10, 0, 0), {}), ((10.5, 3, 0), {}), ((10, 3, 0), {"noise": -1.0}),
    ((10, 3, None), {})])
def test_make_spirals_rejects_bad_arguments(args, kwargs):
    with pytest.raises(ValueError):
        data.make_spirals(*args, **kwargs)
