"""Notebook 08 (hyperparameter search): unusual correct answers and plausible wrong ones.

The search_points answer cell defines grid_points and random_points together.
"""
NOTEBOOK = "08_hyperparameter_search"

GRID = '''def grid_points(low_exps, high_exps, budget):
    low_exps, high_exps = np.asarray(low_exps, float), np.asarray(high_exps, float)
    D = len(low_exps)
    k = 1
    while (k + 1) ** D <= budget:
        k += 1
    axes = [10.0 ** np.linspace(lo, hi, k) for lo, hi in zip(low_exps, high_exps)]
    return np.array(list(itertools.product(*axes)))
'''

RANDOM = '''def random_points(low_exps, high_exps, budget, rng):
    cols = [10.0 ** rng.uniform(lo, hi, budget) for lo, hi in zip(low_exps, high_exps)]
    return np.column_stack(cols)
'''

CORRECT = {
    "split_validation": [
        '''def split_validation(X, y, val_fraction, rng):
    n = len(X)
    n_val = int(round(val_fraction * n))
    order = rng.permutation(n)
    return (np.take(X, order[n_val:], axis=0), np.take(y, order[n_val:]),
            np.take(X, order[:n_val], axis=0), np.take(y, order[:n_val]))
''',
        # Validation rows chosen without replacement, the rest by a boolean mask; a list.
        '''def split_validation(X, y, val_fraction, rng):
    n_val = round(val_fraction * X.shape[0])
    val = rng.choice(X.shape[0], size=n_val, replace=False)
    in_val = np.zeros(X.shape[0], dtype=bool)
    in_val[val] = True
    print(f"{n_val} validation examples")
    return [X[~in_val], y[~in_val], X[val], y[val]]
''',
    ],
    "log_uniform": [
        '''def log_uniform(low_exp, high_exp, size, rng):
    return 10 ** (low_exp + (high_exp - low_exp) * rng.random(size))
''',
        '''import math

def log_uniform(low_exp, high_exp, size, rng):
    return np.exp(math.log(10) * rng.uniform(low_exp, high_exp, size=size))
''',
    ],
    "search_points": [
        "import itertools\n\n\n" + GRID + "\n\n" + RANDOM,
        '''def grid_points(low_exps, high_exps, budget):
    D = len(low_exps)
    k = int(np.floor(budget ** (1.0 / D) + 1e-9))
    axes = [np.logspace(lo, hi, k) for lo, hi in zip(low_exps, high_exps)]
    return np.stack(np.meshgrid(*axes), axis=-1).reshape(-1, D)


def random_points(low_exps, high_exps, budget, rng):
    low, high = np.asarray(low_exps, float), np.asarray(high_exps, float)
    return 10.0 ** (low + (high - low) * rng.random((budget, len(low))))
''',
    ],
    "edge_warning": [
        '''import math

def edge_warning(best_value, low_exp, high_exp, margin=0.1):
    position = (math.log10(best_value) - low_exp) / (high_exp - low_exp)
    if position < margin:
        return "low"
    elif position > 1 - margin:
        return "high"
''',
        '''def edge_warning(best_value, low_exp, high_exp, margin=0.1):
    edge = margin * (high_exp - low_exp)  # in decades
    exponent = np.log10(best_value)
    return "low" if exponent < low_exp + edge else "high" if exponent > high_exp - edge else None
''',
    ],
    "narrow_range": [
        '''import heapq

def narrow_range(trials, param, keep_top, half_width):
    ok = [t for t in trials if t["status"] == "ok"]
    best = heapq.nlargest(keep_top, ok, key=lambda t: t["score"])
    centre = sum(np.log10(t["params"][param]) for t in best) / len(best)
    return (centre - half_width, centre + half_width)
''',
        '''def narrow_range(trials, param, keep_top, half_width):
    ranked = sorted((-t["score"], np.log10(t["params"][param])) for t in trials
                    if t["status"] == "ok")
    exps = [e for _, e in ranked[:keep_top]]
    centre = float(np.mean(exps))
    return [centre - half_width, centre + half_width]
''',
    ],
}

WRONG = {
    "split_validation": [
        # Validation rows drawn with replacement.
        '''def split_validation(X, y, val_fraction, rng):
    n_val = round(val_fraction * len(X))
    val = rng.integers(0, len(X), n_val)
    train = np.setdiff1d(np.arange(len(X)), val)
    return X[train], y[train], X[val], y[val]
''',
        # sklearn's order of the results.
        '''def split_validation(X, y, val_fraction, rng):
    n_val = round(val_fraction * len(X))
    order = rng.permutation(len(X))
    return X[order[n_val:]], X[order[:n_val]], y[order[n_val:]], y[order[:n_val]]
''',
        # Shuffles the caller's arrays in place.
        '''def split_validation(X, y, val_fraction, rng):
    n_val = round(val_fraction * len(X))
    order = rng.permutation(len(X))
    X[:] = X[order]
    y[:] = y[order]
    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]
''',
    ],
    "log_uniform": [
        '''def log_uniform(low_exp, high_exp, size, rng):
    return rng.uniform(low_exp, high_exp, size)
''',
        '''def log_uniform(low_exp, high_exp, size, rng):
    return 2.0 ** rng.uniform(low_exp, high_exp, size)
''',
        '''def log_uniform(low_exp, high_exp, size, rng):
    return 10.0 ** rng.uniform(low_exp, high_exp)
''',
    ],
    "search_points": [
        # int() of a floating-point root (64 ** (1/3) = 3.999...).
        "import itertools\n\n\n" + GRID.replace(
            "    k = 1\n    while (k + 1) ** D <= budget:\n        k += 1\n",
            "    k = int(budget ** (1 / D))\n") + "\n\n" + RANDOM,
        # The grid leaves out the upper end.
        "import itertools\n\n\n" + GRID.replace("np.linspace(lo, hi, k)",
                                               "np.linspace(lo, hi, k, endpoint=False)")
        + "\n\n" + RANDOM,
        # Random points as (D, budget).
        "import itertools\n\n\n" + GRID + "\n\n" + RANDOM.replace("np.column_stack(cols)",
                                                                "np.array(cols)"),
    ],
    "edge_warning": [
        '''def edge_warning(best_value, low_exp, high_exp, margin=0.1):
    position = (np.log10(best_value) - low_exp) / (high_exp - low_exp)
    if position < margin:
        return "low"
    if position > 1 - margin:
        return "high"
    return False
''',
        '''def edge_warning(best_value, low_exp, high_exp, margin=0.1):
    position = (np.log10(best_value) - low_exp) / (high_exp - low_exp)
    if position < 0.1:
        return "low"
    if position > 0.9:
        return "high"
    return None
''',
        '''def edge_warning(best_value, low_exp, high_exp, margin=0.1):
    position = (np.log(best_value) - low_exp) / (high_exp - low_exp)
    if position < margin:
        return "low"
    if position > 1 - margin:
        return "high"
    return None
''',
    ],
    "narrow_range": [
        '''def narrow_range(trials, param, keep_top, half_width):
    ok = sorted((t for t in trials if t["status"] == "ok"), key=lambda t: -t["score"])
    centre = np.mean([np.log10(t["params"][param]) for t in ok[:keep_top]])
    return centre - half_width / 2, centre + half_width / 2
''',
        '''def narrow_range(trials, param, keep_top, half_width):
    ok = sorted((t for t in trials if t["status"] == "ok"), key=lambda t: -t["score"])
    centre = np.mean([np.log10(t["params"][param]) for t in ok[:keep_top + 1]])
    return centre - half_width, centre + half_width
''',
        '''def narrow_range(trials, param, keep_top, half_width):
    ok = sorted((t for t in trials if t["status"] == "ok"), key=lambda t: -t["score"])
    centre = np.mean([np.log10(t["params"][param]) for t in ok[:keep_top]])
    return 10 ** (centre - half_width), 10 ** (centre + half_width)
''',
    ],
}

NEEDS_MECHANISM = {
    # The split as a namedtuple.
    "split_validation": [
        '''from collections import namedtuple

Split = namedtuple("Split", "X_train y_train X_val y_val")


def split_validation(X, y, val_fraction, rng):
    n_val = round(val_fraction * len(X))
    order = rng.permutation(len(X))
    return Split(X[order[n_val:]], y[order[n_val:]], X[order[:n_val]], y[order[:n_val]])
''',
    ],
}
