"""Training recipes graded on held-out digits: the data a recipe gets, and how its model is scored.

A recipe is a function `train_best_model(data, rng, time_budget_s)` (notebook 09). It receives
raw MNIST pixels (uint8 0..255, shape (N, 784)) of the *development* digits only, and returns
its trained model as plain data, a "model spec" (see `model_spec`):

    {"hidden_dims": [256], "activation": "relu", "params": {"W1": ..., "b1": ..., ...},
     "mean": array (784,), "std": float}

where `mean` and `std` are the preprocessing the recipe trained with: the scorer computes
(X_raw - mean) / std before the network's forward pass. Plain data, because the grader runs
the recipe in the student's sandboxed process and scores the model in its own.

Held-out digits: 1,000 of the 5,000 embedded digits (100 per class, fixed by HELDOUT_SEED) are
set aside here. `development_data` and `recipe_data` never contain them, and notebook 09 babysits
its runs on development digits only, so the held-out score measures a model on digits no
recipe and no experiment of the course has trained or chosen hyperparameters on. (They are in
the embedded file, so a recipe that deliberately loads that file could see them; the grader
does not pass them.)
"""
import math

import numpy as np

from cs231n_lib.data import load_mnist_subset
from cs231n_lib.i18n import tr
from cs231n_lib.models import ACTIVATIONS, FullyConnectedNet

__all__ = ["HELDOUT_PER_CLASS", "HELDOUT_SEED", "development_data", "heldout_data",
           "recipe_data", "model_spec", "model_from_spec", "spec_accuracy"]

HELDOUT_PER_CLASS = 100
HELDOUT_SEED = 9_2017          # fixed: the same held-out digits for every student, every year
NUM_RECIPE_VAL = 500
_SPEC_KEYS = ("hidden_dims", "activation", "params", "mean", "std")


def _heldout_mask(labels):
    """True for the HELDOUT_PER_CLASS held-out digits of every class (fixed choice)."""
    rng = np.random.default_rng(HELDOUT_SEED)
    mask = np.zeros(labels.shape[0], dtype=bool)
    for digit in np.unique(labels):
        rows = np.flatnonzero(labels == digit)
        mask[rng.choice(rows, size=HELDOUT_PER_CLASS, replace=False)] = True
    return mask


def _split(heldout):
    images, labels = load_mnist_subset()
    X = images.reshape(images.shape[0], -1).astype(np.float64)
    mask = _heldout_mask(labels)
    keep = mask if heldout else ~mask
    return X[keep], labels[keep]


def development_data():
    """The 4,000 development digits: X (4000, 784) raw 0..255 floats, y (4000,) int64, by class."""
    return _split(heldout=False)


def heldout_data():
    """The 1,000 held-out digits (100 per class): X (1000, 784) raw floats, y (1000,) int64."""
    return _split(heldout=True)


def recipe_data(seed=0):
    """What a recipe receives: shuffled development digits as X_train (3500, 784), y_train,
    X_val (500, 784), y_val; raw pixels as uint8 0..255 (compact: the grader sends them to the
    student's process), not standardized."""
    X, y = development_data()
    X = X.astype(np.uint8)
    order = np.random.default_rng(seed).permutation(X.shape[0])
    val, train = order[:NUM_RECIPE_VAL], order[NUM_RECIPE_VAL:]
    return {"X_train": X[train], "y_train": y[train], "X_val": X[val], "y_val": y[val]}


def model_spec(model, mean, std):
    """The plain-data spec of a trained FullyConnectedNet without batchnorm or dropout at test
    time, with the preprocessing (X - mean) / std it was trained with (mean (D,), std float)."""
    if getattr(model, "normalization", None) is not None:
        raise ValueError("model_spec supports networks without batchnorm (normalization=None)")
    hidden = [model.params[f"W{i}"].shape[1] for i in range(1, model.num_layers)]
    return {"hidden_dims": hidden, "activation": model.activation,
            "params": {name: np.array(w, dtype=np.float64) for name, w in model.params.items()},
            "mean": np.array(mean, dtype=np.float64), "std": float(std)}


def _spec_problem(spec, input_dim=784, num_classes=10):
    """Why `spec` is not a usable model spec (one sentence), or None."""
    if not isinstance(spec, dict):
        return tr("it should return a dict (see recipes.model_spec), got {type}",
                  type=type(spec).__name__)
    missing = [k for k in _SPEC_KEYS if k not in spec]
    if missing:
        return tr("the returned dict lacks {missing}; it has {keys}", missing=", ".join(missing),
                  keys=sorted(spec))
    hidden = spec["hidden_dims"]
    if not isinstance(hidden, (list, tuple)) or not all(
            isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h > 0 for h in hidden):
        return tr("hidden_dims should be a list of positive ints, got {hidden!r}", hidden=hidden)
    if spec["activation"] not in ACTIVATIONS:
        return tr("activation should be one of {choices}, got {activation!r}",
                  choices=ACTIVATIONS, activation=spec["activation"])
    dims = [input_dim, *[int(h) for h in hidden], num_classes]
    params = spec["params"]
    if not isinstance(params, dict):
        return tr("params should be a dict name -> array, got {type}",
                  type=type(params).__name__)
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        for name, shape in ((f"W{i}", (n_in, n_out)), (f"b{i}", (n_out,))):
            value = params.get(name)
            if not isinstance(value, np.ndarray) or value.shape != shape:
                got = getattr(value, "shape", type(value).__name__)
                return tr("params[{name!r}] should be an array of shape {shape}, got {got}",
                          name=name, shape=shape, got=got)
            if not np.all(np.isfinite(value)):
                return tr("params[{name!r}] holds nan or inf (did training diverge?)", name=name)
    mean = spec["mean"]
    if not isinstance(mean, np.ndarray) or mean.shape != (input_dim,) or not np.all(np.isfinite(mean)):
        return tr("mean should be a finite array of shape ({input_dim},), got {got!r}",
                  input_dim=input_dim, got=getattr(mean, "shape", mean))
    std = spec["std"]
    if (isinstance(std, bool) or not isinstance(std, (int, float, np.number))
            or not math.isfinite(std) or std <= 0):
        return tr("std should be one finite number > 0 (the Standardizer's), got {std!r}",
                  std=std)
    return None


def model_from_spec(spec):
    """(FullyConnectedNet with the spec's params, mean, std); ValueError saying what is wrong."""
    problem = _spec_problem(spec)
    if problem:
        raise ValueError(problem)
    model = FullyConnectedNet([int(h) for h in spec["hidden_dims"]],
                              activation=spec["activation"], seed=0)
    for name in model.params:
        model.params[name] = np.asarray(spec["params"][name], dtype=np.float64)
    return model, np.asarray(spec["mean"], dtype=np.float64), float(spec["std"])


def spec_accuracy(spec, X_raw, y, mean=None, std=None):
    """Accuracy of the spec's model on raw pixels X_raw (N, 784), labels y (N,).

    mean/std (optional) replace the spec's own preprocessing, e.g. statistics fitted on the
    recipe's training data, to tell a bad network from a bad preprocessing."""
    model, spec_mean, spec_std = model_from_spec(spec)
    mean = spec_mean if mean is None else mean
    std = spec_std if std is None else std
    with np.errstate(all="ignore"):
        predictions = model.predict((np.asarray(X_raw, dtype=np.float64) - mean) / std,
                                    batch_size=500)
    return float(np.mean(predictions == np.asarray(y)))


# ----------------------------------------------------------------------------- reference recipe

MIN_EPOCHS, MAX_EPOCHS = 4, 12
BUDGET_SHARE = 0.5     # plan to use half the budget: the rest covers a slower or busier machine


def _seconds_per_epoch(model, X, y, batch_size):
    """Time a few training steps' forward/backward passes; estimate one epoch (with evaluation)."""
    import time
    steps = 3
    start = time.perf_counter()
    for i in range(steps):
        model.loss(X[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size])
    per_step = (time.perf_counter() - start) / steps
    # An update costs about as much again as a forward/backward pass; evaluation adds ~20%.
    return 2.4 * per_step * max(X.shape[0] // batch_size, 1)


def train_best_model(data, rng, time_budget_s):
    """The course's recipe: standardize with training statistics, a 128-unit ReLU net with He
    init and L2 1e-3, SGD+momentum 0.05 with cosine decay, as many epochs (4 to 12) as half the
    budget allows; the params of the epoch with the best validation accuracy. Returns a spec.

    Four epochs already reach 0.93 on the held-out digits; more add about a point."""
    import time
    from cs231n_lib.data import Standardizer
    from cs231n_lib.schedules import cosine_decay, schedule_for
    from cs231n_lib.solver import Solver
    start = time.perf_counter()
    scaler = Standardizer().fit(data["X_train"])
    prepared = {key: scaler.transform(value) if key.startswith("X_") else value
                for key, value in data.items()}
    model = FullyConnectedNet([128], reg=1e-3, seed=int(rng.integers(2**31)))
    seconds = _seconds_per_epoch(model, prepared["X_train"], prepared["y_train"], 100)
    left = BUDGET_SHARE * time_budget_s - (time.perf_counter() - start)
    num_epochs = int(min(MAX_EPOCHS, max(MIN_EPOCHS, left // seconds)))
    Solver(model, prepared, update_rule="sgd_momentum", optim_config={"learning_rate": 0.05},
           lr_schedule=schedule_for(cosine_decay, 0.05, num_epochs=num_epochs),
           num_epochs=num_epochs, batch_size=100, seed=int(rng.integers(2**31))).train()
    return model_spec(model, scaler.mean_, scaler.std_)
