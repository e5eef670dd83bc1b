"""Exercises of notebook 08 (hyperparameter search): a validation split, log-uniform sampling,
grid and random search points with the same budget, coarse-to-fine narrowing, and a warning
when the best value sits at the edge of the searched range.

Random outputs (the split, the samples, the random points) are graded by their properties,
never by the exact numbers drawn: sizes, disjointness, a Kolmogorov-Smirnov distance to the
intended distribution, reproducibility for equal seeds. The deterministic exercises
(narrow_range, edge_warning) are compared with the reference. Every known mistake below is
written the way a student would write it (plain numpy, same signature).
"""
import copy
import math

import numpy as np

from cs231n_lib import data, search
from cs231n_lib.exercises._habits import (
    add_signature_habits, results_with_habits, run_with_habits,
)
from cs231n_lib.grading import Case, Exercise, Mistake, fail, register
from cs231n_lib.i18n import N_, tr

NOTEBOOK = "08_hyperparameter_search"

# Kolmogorov-Smirnov threshold: a correct sampler exceeds KS_CONSTANT / sqrt(n) with
# probability about 2 exp(-2 * 3.3**2) ~ 6e-10, so a false alarm practically never happens.
KS_CONSTANT = 3.3


# ----------------------------------------------------------------------------- helpers

_EXERCISE_OF_FUNCTION = {"split_validation": "split_validation", "log_uniform": "log_uniform",
                         "grid_points": "search_points", "random_points": "search_points",
                         "narrow_range": "narrow_range", "edge_warning": "edge_warning"}


def _run(call, fn, *args, **kwargs):
    """Run student code; errors name `call` and carry the exercise's habit hints."""
    name = _EXERCISE_OF_FUNCTION.get(call.split("(")[0], "")
    return run_with_habits(name, call, fn, *args, **kwargs)


def _fail(call, problem, mistake=None):
    fail(f"{call}: {problem}", mistake)


def _float_array(call, name, value):
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(call, tr("{name} should be an array of numbers, got {type}", name=tr(name),
                       type=type(value).__name__))
    return array


def ks_distance(samples, low, high):
    """Kolmogorov-Smirnov distance between samples (n,) and the uniform distribution on [low, high]."""
    if not high > low:
        return 1.0
    x = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    n = x.size
    cdf = np.clip((x - low) / (high - low), 0.0, 1.0)
    above = np.arange(1, n + 1) / n - cdf
    below = cdf - np.arange(n) / n
    return float(max(above.max(), below.max()))


def _ks_threshold(n):
    return KS_CONSTANT / math.sqrt(n)


def _fmt(x):
    return f"{x:g}"


# ----------------------------------------------------------------------------- split_validation

def split_validation_no_shuffle(X, y, val_fraction, rng):
    num_val = round(len(X) * val_fraction)
    return X[:-num_val], y[:-num_val], X[-num_val:], y[-num_val:]


def split_validation_overlapping(X, y, val_fraction, rng):
    num_val = round(len(X) * val_fraction)
    val = rng.permutation(len(X))[:num_val]
    return X, y, X[val], y[val]


def split_validation_separate_shuffles(X, y, val_fraction, rng):
    num_val = round(len(X) * val_fraction)
    X_shuffled = X[rng.permutation(len(X))]
    y_shuffled = y[rng.permutation(len(y))]
    return (X_shuffled[num_val:], y_shuffled[num_val:],
            X_shuffled[:num_val], y_shuffled[:num_val])


def split_validation_global_random(X, y, val_fraction, rng):
    num_val = round(len(X) * val_fraction)
    order = np.random.permutation(len(X))
    return X[order[num_val:]], y[order[num_val:]], X[order[:num_val]], y[order[:num_val]]


NO_SHUFFLE = Mistake(
    "no shuffle before splitting",
    "The data you split are sorted by class (the raw MNIST subset is too). Taking the last "
    "rows as the validation set gives a validation set of only the last classes, which says "
    "nothing about the others. Shuffle first: order = rng.permutation(N), then cut.",
    split_validation_no_shuffle)
OVERLAPPING = Mistake(
    "validation examples also in the training set",
    "The validation examples must be removed from the training set. A model is scored on "
    "examples it has trained on would look better than it is, and hyperparameters chosen by "
    "that score favour memorizing.",
    split_validation_overlapping)
SEPARATE_SHUFFLES = Mistake(
    "X and y shuffled separately",
    "Two calls of rng.permutation give two different orders, so the images and the labels "
    "no longer belong together. Draw one permutation and index both X and y with it.",
    split_validation_separate_shuffles)
GLOBAL_RANDOM = Mistake(
    "global random state instead of rng",
    "np.random.permutation (or np.random.shuffle) uses numpy's global random state, so the "
    "split changes on every run. Use the generator you are given, rng.permutation(N): the "
    "same seed then gives the same split.",
    split_validation_global_random)


def _split_input(rng):
    """Class-sorted labels (like the raw MNIST subset) and X whose rows can be told apart."""
    num_classes = int(rng.integers(3, 8))
    per_class = int(rng.integers(20, 50))
    num = num_classes * per_class
    y = np.repeat(np.arange(num_classes), per_class)
    shape = (num, int(rng.integers(2, 6)))
    if rng.random() < 0.5:
        shape = (num, int(rng.integers(2, 4)), int(rng.integers(2, 4)))
    X = rng.standard_normal(shape)
    val_fraction = float(rng.choice([0.2, 0.2, 0.25, 0.3]))
    return X, y, val_fraction


def _row_indices(call, name, X_part, X, lookup):
    """Index into X of every row of X_part (CheckFailure when a row is not one of X's)."""
    indices = []
    rows_of_X = X.reshape(X.shape[0], -1)
    for i, row in enumerate(X_part.reshape(X_part.shape[0], -1)):
        index = lookup.get(float(row[0]))
        if index is None or not np.array_equal(row, rows_of_X[index]):
            _fail(call, tr("row {i} of {name} is not a row of X: return rows of X itself, not "
                           "modified or new ones", i=i, name=name))
        indices.append(index)
    return np.array(indices, dtype=np.int64)


def _split_once(split_validation, X, y, val_fraction, seed):
    call = (f"split_validation(X{X.shape}, y{y.shape}, val_fraction={val_fraction}, "
            f"rng=np.random.default_rng({seed}))")
    X_copy, y_copy = X.copy(), y.copy()
    result = _run(call, split_validation, X_copy, y_copy, val_fraction,
                  np.random.default_rng(seed))
    if not isinstance(result, (tuple, list)) or len(result) != 4:
        _fail(call, tr("should return four arrays (X_train, y_train, X_val, y_val)"))
    if not (np.array_equal(X_copy, X) and np.array_equal(y_copy, y)):
        _fail(call, tr("changed X or y in place (e.g. rng.shuffle(X)); index with a permutation "
                       "instead, which makes new arrays"))
    parts = [_float_array(call, name, value) for name, value in
             zip(("X_train", "y_train", "X_val", "y_val"), result)]
    for name, part, like in (("X_train", parts[0], X), ("X_val", parts[2], X)):
        if part.ndim != X.ndim or part.shape[1:] != X.shape[1:]:
            _fail(call, tr("{name} has shape {part_shape}; its rows should have X's row shape "
                           "{row_shape}", name=name, part_shape=part.shape, row_shape=X.shape[1:]))
    for x_name, x_part, y_name, y_part in (("X_train", parts[0], "y_train", parts[1]),
                                           ("X_val", parts[2], "y_val", parts[3])):
        if y_part.shape != (x_part.shape[0],):
            _fail(call, tr("{y_name} has shape {y_part_shape}, expected ({rows},): one label "
                           "per row of {x_name}", y_name=y_name, y_part_shape=y_part.shape,
                           rows=x_part.shape[0], x_name=x_name))
    return call, parts


def check_split_validation(rng, split_validation):
    """Grade a validation split by its properties on one class-sorted data set."""
    X, y, val_fraction = _split_input(rng)
    num = X.shape[0]
    keys = X.reshape(num, -1)[:, 0]
    lookup = {float(k): i for i, k in enumerate(keys)}
    seed = int(rng.integers(2**31))
    call, (X_train, y_train, X_val, y_val) = _split_once(split_validation, X, y, val_fraction,
                                                         seed)
    train = _row_indices(call, "X_train", X_train, X, lookup)
    val = _row_indices(call, "X_val", X_val, X, lookup)
    for name, labels, index in (("y_train", y_train, train), ("y_val", y_val, val)):
        if not np.array_equal(labels, y[index]):
            wrong = float(np.mean(labels != y[index]))
            _fail(call, tr("{wrong:.0%} of the labels in {name} do not belong to their rows of "
                           "X: every row must keep its own label", wrong=wrong, name=name),
                  SEPARATE_SHUFFLES)
    if np.intersect1d(train, val).size:
        shared = np.intersect1d(train, val).size
        _fail(call, tr("{shared} examples are in both the training and the validation set",
                       shared=shared),
              OVERLAPPING)
    if np.unique(train).size != train.size or np.unique(val).size != val.size:
        _fail(call, tr("an example appears twice in the same part; every example belongs to "
                       "exactly one part (sample without replacement: rng.permutation)"))
    if train.size + val.size != num:
        _fail(call, tr("the two parts hold {train_size} + {val_size} examples, but X has {num}: "
                       "every example must go to exactly one part", train_size=train.size,
                       val_size=val.size, num=num))
    if abs(val.size - val_fraction * num) >= 1:
        _fail(call, tr("the validation set has {val_size} examples; val_fraction = "
                       "{val_fraction} of {num} examples is {expected}", val_size=val.size,
                       val_fraction=val_fraction, num=num, expected=round(val_fraction * num)))
    sorted_val = np.sort(val)
    if (np.array_equal(sorted_val, np.arange(num - val.size, num))
            or np.array_equal(sorted_val, np.arange(val.size))):
        _fail(call, tr("the validation set is a block of consecutive rows, holding only the "
                       "classes {val_classes} of {classes}",
                       val_classes=sorted(set(y[val].tolist())), classes=sorted(set(y.tolist()))),
              NO_SHUFFLE)
    if np.unique(y[val]).size < 2:
        _fail(call, tr("the validation set holds a single class of the class-sorted data: "
                       "shuffle before you split"), NO_SHUFFLE)
    _, again = _split_once(split_validation, X, y, val_fraction, seed)
    if not np.array_equal(again[2], X_val):
        _fail(call, tr("two calls with generators of the same seed gave different splits: draw "
                       "the permutation from rng"), GLOBAL_RANDOM)
    _, other = _split_once(split_validation, X, y, val_fraction, seed + 1)
    if np.array_equal(np.sort(other[3]), np.sort(y_val)) and np.array_equal(other[2], X_val):
        _fail(call, tr("generators with different seeds gave the same split: draw the "
                       "permutation from the rng you are given, not from a fixed seed"))


register(Exercise(
    name="split_validation", notebook=NOTEBOOK, custom_check=check_split_validation,
    reference_fns=(data.split_validation,),
    mistakes=[NO_SHUFFLE, OVERLAPPING, SEPARATE_SHUFFLES, GLOBAL_RANDOM],
))


# ----------------------------------------------------------------------------- log_uniform

def log_uniform_linear(low_exp, high_exp, size, rng):
    return rng.uniform(10.0 ** low_exp, 10.0 ** high_exp, size)


def log_uniform_natural_exp(low_exp, high_exp, size, rng):
    return np.exp(rng.uniform(low_exp, high_exp, size))


def log_uniform_wrong_width(low_exp, high_exp, size, rng):
    return 10.0 ** (low_exp + high_exp * rng.random(size))


def log_uniform_global_random(low_exp, high_exp, size, rng):
    return 10.0 ** np.random.uniform(low_exp, high_exp, size)


LINEAR = Mistake(
    "uniform in linear space",
    "rng.uniform(10**low_exp, 10**high_exp) spreads the samples evenly over the values, so "
    "almost all of them land in the top decade (between 10**(high_exp-1) and 10**high_exp) "
    "and the small values are never tried. Draw the exponent uniformly and raise 10 to it: "
    "10 ** rng.uniform(low_exp, high_exp, size).",
    log_uniform_linear)
NATURAL_EXP = Mistake(
    "natural exp instead of 10**",
    "np.exp(u) is e**u, not 10**u: with exponents in [low_exp, high_exp] the values land in "
    "[e**low_exp, e**high_exp], a different (and narrower) range. low_exp and high_exp are "
    "powers of ten: use 10 ** u.",
    log_uniform_natural_exp)
WRONG_WIDTH = Mistake(
    "exponent range low_exp + high_exp * u",
    "A uniform number on [a, b] is a + (b - a) * u with u uniform on [0, 1]; "
    "low_exp + high_exp * u covers [low_exp, low_exp + high_exp] instead. Simplest: "
    "rng.uniform(low_exp, high_exp, size).",
    log_uniform_wrong_width)
LOG_GLOBAL = Mistake(
    "global random state instead of rng",
    "np.random.uniform uses numpy's global random state and ignores the generator you are "
    "given, so a search is not reproducible. Call rng.uniform(...).",
    log_uniform_global_random)


def _log_uniform_distribution_problem(call, samples, low, high):
    """None if samples look like 10**uniform(low, high), else (problem, known mistake or None)."""
    n = samples.size
    threshold = _ks_threshold(n)
    if np.any(~np.isfinite(samples)) or np.any(samples <= 0):
        return tr("some samples are not finite positive numbers"), None
    exps = np.log10(samples)
    in_range = exps.min() >= low - 1e-9 and exps.max() <= high + 1e-9
    distance = ks_distance(exps, low, high)
    if in_range and distance <= threshold:
        return None
    if ks_distance(samples, 10.0 ** low, 10.0 ** high) <= threshold:
        return (tr("the samples are uniform between 10**{low} and 10**{high}: {top:.0%} of "
                   "them lie in the top decade", low=_fmt(low), high=_fmt(high),
                   top=np.mean(exps > high - 1)), LINEAR)
    if ks_distance(np.log(samples), low, high) <= threshold:
        return (tr("log10 of the samples lies in [{smallest:.3f}, {largest:.3f}], not in "
                   "[{low}, {high}]", smallest=exps.min(), largest=exps.max(), low=_fmt(low),
                   high=_fmt(high)), NATURAL_EXP)
    a, b = sorted((low, low + high))
    if ks_distance(exps, a, b) <= threshold:
        return (tr("log10 of the samples is uniform on [{a}, {b}] instead of [{low}, {high}]",
                   a=_fmt(a), b=_fmt(b), low=_fmt(low), high=_fmt(high)), WRONG_WIDTH)
    if not in_range:
        return (tr("log10 of the samples ranges over [{smallest:.3f}, {largest:.3f}], outside "
                   "[{low}, {high}]", smallest=exps.min(), largest=exps.max(), low=_fmt(low),
                   high=_fmt(high)), None)
    return (tr("log10 of the samples is not uniform on [{low}, {high}]: the largest gap "
               "between its empirical CDF and the uniform CDF is {distance:.3f} (a correct "
               "sampler stays below {threshold:.3f} with {n} samples)", low=_fmt(low),
               high=_fmt(high), distance=distance, threshold=threshold, n=n), None)


def _log_uniform_call(log_uniform, low, high, size, seed):
    call = f"log_uniform({_fmt(low)}, {_fmt(high)}, {size!r}, rng=np.random.default_rng({seed}))"
    out = _run(call, log_uniform, low, high, size, np.random.default_rng(seed))
    out = _float_array(call, N_("the result"), out)
    expected_shape = (size,) if isinstance(size, int) else tuple(size)
    if out.shape != expected_shape:
        _fail(call, tr("returned shape {out_shape}, expected {expected_shape} (the shape `size` "
                       "asks for)", out_shape=out.shape, expected_shape=expected_shape))
    return call, out


def check_log_uniform(rng, log_uniform):
    """Grade a log-uniform sampler by the distribution of log10 of many samples."""
    # high_exp stays at or below -0.5, so that low_exp + high_exp * u is a clearly wrong range.
    low = round(float(rng.uniform(-7.5, -4)), 1)
    high = round(low + float(rng.uniform(2, 3.5)), 1)
    seed = int(rng.integers(2**31))
    rows = int(rng.integers(80, 120))
    size = (rows, 20000 // rows)
    call, out = _log_uniform_call(log_uniform, low, high, size, seed)
    problem = _log_uniform_distribution_problem(call, out, low, high)
    if problem is not None:
        _fail(call, problem[0], problem[1])
    small = int(rng.integers(3, 10))
    _log_uniform_call(log_uniform, low, high, small, seed)
    _, again = _log_uniform_call(log_uniform, low, high, size, seed)
    if not np.array_equal(again, out):
        _fail(call, tr("two calls with generators of the same seed gave different samples"),
              LOG_GLOBAL)
    _, other = _log_uniform_call(log_uniform, low, high, size, seed + 1)
    if np.array_equal(other, out):
        _fail(call, tr("generators with different seeds gave the same samples: draw from the rng "
                       "you are given"))


register(Exercise(
    name="log_uniform", notebook=NOTEBOOK, custom_check=check_log_uniform,
    reference_fns=(search.log_uniform,),
    mistakes=[LINEAR, NATURAL_EXP, WRONG_WIDTH, LOG_GLOBAL],
))


# ----------------------------------------------------------------------------- grid and random points

def grid_points_linear(low_exps, high_exps, budget):
    low, high = np.asarray(low_exps, dtype=float), np.asarray(high_exps, dtype=float)
    k = int(round(budget ** (1 / len(low))))
    while k ** len(low) > budget:
        k -= 1
    axes = [np.linspace(10.0 ** lo, 10.0 ** hi, k) for lo, hi in zip(low, high)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def grid_points_budget_per_axis(low_exps, high_exps, budget):
    low, high = np.asarray(low_exps, dtype=float), np.asarray(high_exps, dtype=float)
    axes = [np.logspace(lo, hi, budget) for lo, hi in zip(low, high)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def random_points_on_a_grid(low_exps, high_exps, budget, rng):
    low, high = np.asarray(low_exps, dtype=float), np.asarray(high_exps, dtype=float)
    k = int(round(budget ** (1 / len(low))))
    while k ** len(low) > budget:
        k -= 1
    axes = [10.0 ** rng.uniform(lo, hi, k) for lo, hi in zip(low, high)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def random_points_same_draw(low_exps, high_exps, budget, rng):
    low, high = np.asarray(low_exps, dtype=float), np.asarray(high_exps, dtype=float)
    u = rng.random((budget, 1))
    return 10.0 ** (low + u * (high - low))


def random_points_linear(low_exps, high_exps, budget, rng):
    low, high = np.asarray(low_exps, dtype=float), np.asarray(high_exps, dtype=float)
    return rng.uniform(10.0 ** low, 10.0 ** high, size=(budget, len(low)))


GRID_LINEAR = Mistake(
    "grid spaced linearly",
    "np.linspace(10**low, 10**high, k) puts the grid values at equal distances in value, so "
    "all but the first one sit near the top of the range. For scale-type hyperparameters "
    "space them evenly in the exponent: 10 ** np.linspace(low, high, k) (np.logspace).",
    grid_points_linear, replaces=0)
GRID_PER_AXIS = Mistake(
    "budget used per axis",
    "The budget is the TOTAL number of trials. A grid with k values per hyperparameter has "
    "k**D points, so k is the largest integer with k**D <= budget (3 values each for a "
    "budget of 9 and two hyperparameters), not the budget itself.",
    grid_points_budget_per_axis, replaces=0)
RANDOM_GRID = Mistake(
    "random values on a grid",
    "Drawing k random values per hyperparameter and taking all their combinations is still "
    "a grid: each hyperparameter gets only k different values. Random search draws every "
    "coordinate of every point on its own, so each hyperparameter gets `budget` different "
    "values; that is its advantage.",
    random_points_on_a_grid, replaces=1)
SAME_DRAW = Mistake(
    "same random draw for every hyperparameter",
    "One uniform number per point, shared by all coordinates, puts every point on the "
    "diagonal of the search box: a large learning rate always comes with a large reg. Draw "
    "an independent exponent for each coordinate: rng.uniform(low_exps, high_exps, "
    "size=(budget, D)).",
    random_points_same_draw, replaces=1)
RANDOM_LINEAR = Mistake(
    "uniform in linear space",
    "rng.uniform(10**low, 10**high) spreads the points evenly over the values, so almost all "
    "of them land in the top decade of every range. Draw the exponents uniformly and raise "
    "10 to them.",
    random_points_linear, replaces=1)


def _rows_sorted(points):
    return points[np.lexsort(points.T[::-1])]


def _same_points(a, b):
    return a.shape == b.shape and np.allclose(_rows_sorted(a), _rows_sorted(b), rtol=1e-9,
                                              atol=0.0)


def _check_grid(grid_points, low, high, budget):
    call = f"grid_points({low.tolist()}, {high.tolist()}, budget={budget})"
    out = _float_array(call, N_("the result"), _run(call, grid_points, low.copy(), high.copy(),
                                                budget))
    expected = search.grid_points(low, high, budget)
    k, num_dims = search.points_per_axis(budget, low.size), low.size
    if out.ndim != 2 or out.shape[1] != num_dims:
        _fail(call, tr("returned shape {out_shape}, expected (number of points, {num_dims}): one "
                       "row per point, one column per hyperparameter", out_shape=out.shape,
                       num_dims=num_dims))
    if out.shape[0] > budget:
        mistake = GRID_PER_AXIS if out.shape[0] == budget ** num_dims else None
        _fail(call, tr("returned {points} points, more than the budget of {budget} (a grid of "
                       "{k} values per hyperparameter has {k}**{num_dims} = {grid_size} points)",
                       points=out.shape[0], budget=budget, k=k, num_dims=num_dims,
                       grid_size=k ** num_dims), mistake)
    if out.shape[0] != expected.shape[0]:
        hint = ""
        if out.shape[0] == (k - 1) ** num_dims:
            hint = tr("; note that {budget} ** (1/{num_dims}) = {root!r} in floating point, "
                      "so int() of it can be one too small", budget=budget, num_dims=num_dims,
                      root=budget ** (1 / num_dims))
        _fail(call, tr("returned {points} points; the largest full grid within the budget has "
                       "{k} values per hyperparameter, {grid_size} points{hint}",
                       points=out.shape[0], k=k, grid_size=k ** num_dims, hint=hint))
    if _same_points(out, expected):
        return
    mistake = GRID_LINEAR if _same_points(out, grid_points_linear(low, high, budget)) else None
    for j in range(num_dims):
        got = np.unique(out[:, j])
        want = np.unique(expected[:, j])
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=0.0):
            _fail(call, tr("the values of hyperparameter {j} should be {want} (10 ** "
                           "linspace(low, high, {k}), both ends included), got {got}", j=j,
                           want=np.array2string(want, precision=4), k=k,
                           got=np.array2string(got, precision=4)),
                  mistake)
    _fail(call, tr("every combination of the per-hyperparameter values must appear exactly "
                   "once"), mistake)


def _random_call(random_points, low, high, budget, seed):
    call = (f"random_points({low.tolist()}, {high.tolist()}, budget={budget}, "
            f"rng=np.random.default_rng({seed}))")
    out = _run(call, random_points, low.copy(), high.copy(), budget, np.random.default_rng(seed))
    return call, _float_array(call, N_("the result"), out)


def _check_random(random_points, low, high, budget, seed):
    num_dims = low.size
    call, out = _random_call(random_points, low, high, budget, seed)
    if out.ndim == 2 and out.shape[1] == num_dims and out.shape[0] > 0:
        distinct = min(np.unique(out[:, j]).size for j in range(num_dims))
        if distinct < out.shape[0]:
            mistake = RANDOM_GRID if distinct ** num_dims == out.shape[0] else None
            _fail(call, tr("a hyperparameter takes only {distinct} different values over {points} "
                           "points: draw every coordinate of every point on its own",
                           distinct=distinct, points=out.shape[0]), mistake)
    if out.shape != (budget, num_dims):
        _fail(call, tr("returned shape {out_shape}, expected ({budget}, {num_dims}): `budget` "
                       "points, one column per hyperparameter", out_shape=out.shape,
                       budget=budget, num_dims=num_dims))
    many = 4000
    big_call, big = _random_call(random_points, low, high, many, seed)
    if big.shape != (many, num_dims) or np.any(~np.isfinite(big)) or np.any(big <= 0):
        _fail(big_call, tr("should return {many} points of positive values, shape ({many}, "
                           "{num_dims})", many=many, num_dims=num_dims))
    exps = np.log10(big)
    for j in range(num_dims):
        if ks_distance(big[:, j], 10.0 ** low[j], 10.0 ** high[j]) <= _ks_threshold(many):
            _fail(big_call, tr("hyperparameter {j} is uniform in its values, not in their "
                               "exponents", j=j), RANDOM_LINEAR)
        if exps[:, j].min() < low[j] - 1e-9 or exps[:, j].max() > high[j] + 1e-9:
            _fail(big_call, tr("hyperparameter {j} leaves its range [10**{low}, 10**{high}]",
                               j=j, low=_fmt(low[j]), high=_fmt(high[j])))
        distance = ks_distance(exps[:, j], low[j], high[j])
        if distance > _ks_threshold(many):
            _fail(big_call, tr("log10 of hyperparameter {j} is not uniform on [{low}, {high}] "
                               "(KS distance {distance:.3f})", j=j, low=_fmt(low[j]),
                               high=_fmt(high[j]), distance=distance))
    unit = (exps - low) / (high - low)
    correlation = np.corrcoef(unit, rowvar=False)
    off_diagonal = np.abs(correlation[~np.eye(num_dims, dtype=bool)]).max()
    if off_diagonal > 0.2:
        mistake = SAME_DRAW if off_diagonal > 0.999 else None
        _fail(big_call, tr("the coordinates of a point are correlated (correlation "
                           "{off_diagonal:.3f} between the exponents of two hyperparameters): "
                           "draw them independently", off_diagonal=off_diagonal), mistake)
    _, again = _random_call(random_points, low, high, budget, seed)
    if not np.array_equal(again, out):
        _fail(call, tr("two calls with generators of the same seed gave different points: draw "
                       "them from rng"))
    _, other = _random_call(random_points, low, high, budget, seed + 1)
    if np.array_equal(other, out):
        _fail(call, tr("generators with different seeds gave the same points: draw them from the "
                       "rng you are given"))


def _search_ranges(rng, num_dims):
    low = np.round(rng.uniform(-6, -1, size=num_dims), 1)
    high = np.round(low + rng.uniform(1.5, 5, size=num_dims), 1)
    return low, high


def check_search_points(rng, grid_points, random_points):
    """Grade grid_points (against the reference, in any row order) and random_points (by properties)."""
    num_dims = int(rng.integers(2, 4))
    low, high = _search_ranges(rng, num_dims)
    budget = int(rng.integers(2 ** num_dims + 1, 50))
    _check_grid(grid_points, low, high, budget)
    # A perfect cube: 64 ** (1/3) is 3.9999999999999996 in floating point.
    low3, high3 = _search_ranges(rng, 3)
    _check_grid(grid_points, low3, high3, int(rng.choice([64, 125])))
    _check_random(random_points, low, high, budget, int(rng.integers(2**31)))


register(Exercise(
    name="search_points", notebook=NOTEBOOK, custom_check=check_search_points,
    reference_fns=(search.grid_points, search.random_points),
    mistakes=[GRID_LINEAR, GRID_PER_AXIS, RANDOM_GRID, SAME_DRAW, RANDOM_LINEAR],
))


# ----------------------------------------------------------------------------- narrow_range

def _trials_case(rng):
    """8-15 search trials (two of them diverged), the parameter to narrow, keep_top, half_width."""
    num = int(rng.integers(8, 16))
    trials = []
    diverged = set(rng.choice(num, size=2, replace=False).tolist())
    for i in range(num):
        params = {"learning_rate": float(10 ** rng.uniform(-5, 0)),
                  "reg": float(10 ** rng.uniform(-6, -1))}
        if i in diverged:
            trials.append({"params": params, "score": float("nan"), "status": "diverged",
                           "seed": int(rng.integers(2**31))})
        else:
            trials.append({"params": params, "score": float(rng.uniform(0.1, 0.95)),
                           "status": "ok", "seed": int(rng.integers(2**31))})
    param = str(rng.choice(["learning_rate", "reg"]))
    keep_top = int(rng.integers(2, 5))
    half_width = round(float(rng.uniform(0.5, 1.5)), 2)
    return Case((trials, param, keep_top, half_width))


def narrow_range_linear(trials, param, keep_top, half_width):
    ok = [t for t in trials if t["status"] == "ok"]
    top = sorted(ok, key=lambda t: t["score"], reverse=True)[:keep_top]
    centre = np.log10(np.mean([t["params"][param] for t in top]))
    return centre - half_width, centre + half_width


def narrow_range_worst(trials, param, keep_top, half_width):
    ok = [t for t in trials if t["status"] == "ok"]
    top = sorted(ok, key=lambda t: t["score"])[:keep_top]
    centre = np.mean([np.log10(t["params"][param]) for t in top])
    return centre - half_width, centre + half_width


def narrow_range_natural_log(trials, param, keep_top, half_width):
    ok = [t for t in trials if t["status"] == "ok"]
    top = sorted(ok, key=lambda t: t["score"], reverse=True)[:keep_top]
    centre = np.mean([np.log(t["params"][param]) for t in top])
    return centre - half_width, centre + half_width


def narrow_range_all_trials(trials, param, keep_top, half_width):
    ok = [t for t in trials if t["status"] == "ok"]
    centre = np.mean([np.log10(t["params"][param]) for t in ok])
    return centre - half_width, centre + half_width


NARROW_MISTAKES = [
    Mistake("narrowing in linear space",
            "log10 of the mean of the values is not the mean of their exponents: the "
            "arithmetic mean of 1e-1 and 1e-4 is about 0.05, so the centre lands just "
            "below the largest value. Take log10 of each value first, then average.",
            narrow_range_linear),
    Mistake("kept the worst trials",
            "Sort by score from highest to lowest (reverse=True) before keeping the "
            "first keep_top trials: the new range should surround the best ones.",
            narrow_range_worst),
    Mistake("natural log instead of log10",
            "The range bounds are exponents of 10, so the centre must be an average of "
            "np.log10 of the values; np.log gives exponents of e, 2.3 times larger.",
            narrow_range_natural_log),
    Mistake("keep_top ignored",
            "Average only over the keep_top best trials: the poor trials of a coarse "
            "search pull the centre away from the good region.",
            narrow_range_all_trials),
]


def _as_range(call, value):
    """A student's (low_exp, high_exp) as two floats."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        _fail(call, tr("should return a pair (low_exp, high_exp), got {type}",
                       type=type(value).__name__))
    pair = _float_array(call, "(low_exp, high_exp)", list(value))
    if pair.shape != (2,):
        _fail(call, tr("low_exp and high_exp should be single numbers"))
    return pair


def check_narrow_range(rng, narrow_range):
    """Compare narrow_range with the reference on one list of trials; name known mistakes."""
    trials, param, keep_top, half_width = _trials_case(rng).args
    num_diverged = sum(t["status"] != "ok" for t in trials)
    call = (f"narrow_range(trials ({len(trials)} trials, {num_diverged} diverged), {param!r}, "
            f"keep_top={keep_top}, half_width={half_width})")
    got = _as_range(call, _run(call, narrow_range, copy.deepcopy(trials), param, keep_top,
                               half_width))
    expected = np.array(search.narrow_range(trials, param, keep_top, half_width))
    if np.allclose(got, expected, rtol=1e-9, atol=1e-12):
        return
    mistake = next((m for m in NARROW_MISTAKES
                    if np.allclose(got, m.implementation(trials, param, keep_top, half_width),
                                   rtol=1e-9, atol=1e-12)), None)
    ok = sorted((t for t in trials if t["status"] == "ok"), key=lambda t: -t["score"])
    best = ", ".join(f"{t['params'][param]:.3g} (score {t['score']:.3f})" for t in ok[:keep_top])
    _fail(call, tr("returned ({got_low:.4f}, {got_high:.4f}), expected ({low:.4f}, "
                   "{high:.4f}). The {keep_top} best 'ok' trials have {param} = {best}; the "
                   "centre is the mean of their log10 values, {centre:.4f}", got_low=got[0],
                   got_high=got[1], low=expected[0], high=expected[1], keep_top=keep_top,
                   param=param, best=best, centre=np.mean(expected)),
          mistake)


register(Exercise(
    name="narrow_range", notebook=NOTEBOOK, custom_check=check_narrow_range,
    reference_fns=(search.narrow_range,), mistakes=NARROW_MISTAKES,
))


# ----------------------------------------------------------------------------- edge_warning

def edge_warning_linear(best_value, low_exp, high_exp, margin=0.1):
    low, high = 10.0 ** low_exp, 10.0 ** high_exp
    position = (best_value - low) / (high - low)
    if position < margin:
        return "low"
    if position > 1 - margin:
        return "high"
    return None


def edge_warning_swapped(best_value, low_exp, high_exp, margin=0.1):
    position = (np.log10(best_value) - low_exp) / (high_exp - low_exp)
    if position < margin:
        return "high"
    if position > 1 - margin:
        return "low"
    return None


def edge_warning_margin_in_decades(best_value, low_exp, high_exp, margin=0.1):
    exponent = np.log10(best_value)
    if exponent - low_exp < margin:
        return "low"
    if high_exp - exponent < margin:
        return "high"
    return None


EDGE_LINEAR = Mistake(
    "checking in linear space",
    "The range was searched in log space, so 'near the edge' must be measured on the log10 "
    "axis: position = (log10(best_value) - low_exp) / (high_exp - low_exp). In linear "
    "values almost the whole range is squeezed against the low end.",
    edge_warning_linear)
EDGE_SWAPPED = Mistake(
    "wrong side named",
    "A best value near low_exp calls for extending the range downward: return 'low'; near "
    "high_exp return 'high'.",
    edge_warning_swapped)
EDGE_DECADES = Mistake(
    "margin taken in decades, not as a fraction of the range",
    "margin is a fraction of the range's width: with a range of 4 decades and margin 0.1, "
    "the outer 0.4 decades at each end count as the edge. Divide the distance from low_exp "
    "by (high_exp - low_exp) before comparing it with margin.",
    edge_warning_margin_in_decades)
EDGE_MISTAKES = [EDGE_LINEAR, EDGE_SWAPPED, EDGE_DECADES]


def _answer_text(value):
    return "None" if value is None else repr(value)


def check_edge_warning(rng, edge_warning):
    """Grade edge_warning on values across one log range: both edges, the middle, near-misses."""
    low = round(float(rng.uniform(-7, -2)), 1)
    high = round(low + float(rng.uniform(2, 6)), 1)
    # Never 0.1, the default (checked by the last call): a margin argument that is ignored
    # must show on every seed.
    margin = float(rng.choice([0.15, 0.2, 0.25]))
    width = high - low
    positions = [0.3 * margin, 0.75 * margin, 0.5, 1.0 - 0.75 * margin, 1.0 - 0.3 * margin,
                 float(rng.uniform(2 * margin, 1 - 2 * margin))]
    calls = [(10.0 ** (low + p * width), margin) for p in positions]
    calls.append((10.0 ** (low + 0.96 * width), None))  # the default margin, 0.1
    got, expected = [], []
    arguments = [(value, low, high) if m is None else (value, low, high, m) for value, m in calls]
    texts = [", ".join(f"{a:.4g}" for a in args) for args in arguments]
    # One batch (in the grader one message); the answers are checked in call order.
    answers = results_with_habits(_EXERCISE_OF_FUNCTION["edge_warning"],
                                  [f"edge_warning({text})" for text in texts], edge_warning,
                                  [(args, {}) for args in arguments])
    for args, text, answer in zip(arguments, texts, answers):
        if answer is not None and answer not in ("low", "high"):
            _fail(f"edge_warning({text})", tr("returned {answer!r}; return exactly 'low', 'high' "
                                              "or None", answer=answer))
        got.append(answer)
        expected.append(search.edge_warning(*args))
    if got == expected:
        return
    mistake = None
    for candidate in EDGE_MISTAKES:
        if [candidate.implementation(*((v, low, high) if m is None else (v, low, high, m)))
                for v, m in calls] == got:
            mistake = candidate
            break
    i = next(i for i, (g, e) in enumerate(zip(got, expected)) if g != e)
    value, m = calls[i]
    position = (math.log10(value) - low) / width
    margin_text = tr("the default margin 0.1") if m is None else f"margin={m:g}"
    _fail(f"edge_warning({value:.4g}, {_fmt(low)}, {_fmt(high)}"
          + ("" if m is None else f", {m:g}") + ")",
          tr("returned {answer}, expected {expected}: log10({value:.4g}) = {log_value:.3f} "
             "sits at {position:.1%} of the range [{low}, {high}] ({margin_text})",
             answer=_answer_text(got[i]), expected=_answer_text(expected[i]), value=value,
             log_value=math.log10(value), position=position, low=_fmt(low), high=_fmt(high),
             margin_text=margin_text), mistake)


register(Exercise(
    name="edge_warning", notebook=NOTEBOOK, custom_check=check_edge_warning,
    reference_fns=(search.edge_warning,), mistakes=EDGE_MISTAKES,
))


add_signature_habits(NOTEBOOK)
