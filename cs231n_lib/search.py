"""Hyperparameter search: log-uniform sampling, random and grid search, coarse-to-fine
narrowing, and a warning when the best value sits at the edge of the searched range.

A search space is a dict name -> spec, where spec is one of
- ('log', low_exp, high_exp): 10**uniform(low_exp, high_exp), for scale-type values (lr, reg);
- ('linear', low, high):      uniform(low, high);
- ('choice', [v1, v2, ...]):  one of the listed values, uniformly.

An objective is a function objective(params, seed) -> score (higher is better), where
params is a dict name -> value and seed an int that makes the trial reproducible. A trial
whose score is not finite, or whose objective raises FloatingPointError, is 'diverged'.

A trial is a dict {'params': dict, 'score': float (nan when diverged),
'status': 'ok' | 'diverged', 'seed': int}; coarse_to_fine adds 'stage'.
"""
import itertools
import math
import numbers

import numpy as np

from cs231n_lib._validate import require_choice, require_positive

SPEC_KINDS = ("log", "linear", "choice")
TRIAL_STATUSES = ("ok", "diverged")


def log_uniform(low_exp, high_exp, size=None, rng=None):
    """10**u with u ~ uniform(low_exp, high_exp); a float, or an array of shape `size`.

    rng: numpy.random.Generator (a fresh unseeded one when None).
    """
    _require_range("log_uniform", low_exp, high_exp)
    if rng is None:
        rng = np.random.default_rng()
    return 10.0 ** rng.uniform(low_exp, high_exp, size)


def _is_number(value):
    """True for a real, non-boolean number."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _require_range(name, low, high):
    """Raise unless low < high are finite numbers."""
    numbers_ok = _is_number(low) and _is_number(high)
    if not numbers_ok or not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{name}: range bounds must be finite numbers, got ({low!r}, {high!r})")
    if not low < high:
        raise ValueError(f"{name}: range needs low < high, got ({low!r}, {high!r})")


def validate_space(space):
    """Raise ValueError unless `space` is a valid search space (see the module docstring)."""
    if not isinstance(space, dict) or not space:
        raise ValueError(f"space must be a non-empty dict name -> spec, got {space!r}")
    for name, spec in space.items():
        if not isinstance(spec, (tuple, list)) or not spec:
            raise ValueError(f"space[{name!r}] must be a tuple like ('log', -5, -1), got {spec!r}")
        require_choice(f"kind of space[{name!r}]", spec[0], SPEC_KINDS)
        if spec[0] == "choice":
            if len(spec) != 2 or not isinstance(spec[1], (list, tuple)) or not spec[1]:
                raise ValueError(f"space[{name!r}] must be ('choice', [values...]) with at "
                                 f"least one value, got {spec!r}")
        else:
            if len(spec) != 3:
                raise ValueError(f"space[{name!r}] must be ({spec[0]!r}, low, high), got {spec!r}")
            _require_range(f"space[{name!r}]", spec[1], spec[2])
    return space


def sample_params(space, rng):
    """One random point of `space`: dict name -> value. rng: numpy.random.Generator."""
    validate_space(space)
    params = {}
    for name, spec in space.items():
        if spec[0] == "log":
            params[name] = float(log_uniform(spec[1], spec[2], rng=rng))
        elif spec[0] == "linear":
            params[name] = float(rng.uniform(spec[1], spec[2]))
        else:
            params[name] = spec[1][int(rng.integers(len(spec[1])))]
    return params


def _require_seed(seed):
    """Raise unless `seed` is a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _seed_streams(seed, num_trials):
    """A Generator for sampling parameters and `num_trials` independent int trial seeds."""
    _require_seed(seed)
    # Two spawned children, so parameter draws and trial seeds never share random bits.
    sample_seq, trial_seq = np.random.SeedSequence(int(seed)).spawn(2)
    trial_seeds = [int(s) for s in trial_seq.generate_state(num_trials)] if num_trials else []
    return np.random.default_rng(sample_seq), trial_seeds


def run_trial(objective, params, seed, **kwargs):
    """Evaluate objective(params, seed, **kwargs) into a trial dict.

    A non-finite score or a FloatingPointError makes the trial 'diverged' with score nan.
    """
    try:
        score = float(objective(dict(params), seed, **kwargs))
    except FloatingPointError:
        score = float("nan")
    status = "ok" if math.isfinite(score) else "diverged"
    if status == "diverged":
        score = float("nan")
    return {"params": dict(params), "score": score, "status": status, "seed": int(seed)}


def _require_count(name, value):
    """Raise unless `value` is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def random_search(objective, space, num_trials, seed=0, **objective_kwargs):
    """`num_trials` trials at random points of `space`; returns the list of trial dicts.

    objective_kwargs are passed on to every objective call (e.g. num_epochs).
    """
    validate_space(space)
    _require_count("num_trials", num_trials)
    rng, trial_seeds = _seed_streams(seed, num_trials)
    trials = []
    for trial_seed in trial_seeds:
        params = sample_params(space, rng)
        trials.append(run_trial(objective, params, trial_seed, **objective_kwargs))
    return trials


def grid_search(objective, grid, seed=0, **objective_kwargs):
    """One trial per point of the cartesian product of `grid` (dict name -> list of values).

    Points are visited in itertools.product order of the dict's keys; returns the trials.
    """
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a non-empty dict name -> list of values, got {grid!r}")
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"grid[{name!r}] must be a non-empty list of values, got {values!r}")
    names = list(grid)
    points = list(itertools.product(*(list(grid[name]) for name in names)))
    _, trial_seeds = _seed_streams(seed, len(points))
    return [run_trial(objective, dict(zip(names, point)), trial_seed, **objective_kwargs)
            for point, trial_seed in zip(points, trial_seeds)]


def best_trial(trials):
    """The trial with the highest score among those with status 'ok'."""
    ok = [t for t in trials if t["status"] == "ok"]
    if not ok:
        raise ValueError(f"no trial finished with a finite score (got {len(trials)} trials, "
                         "all diverged or none run)")
    return max(ok, key=lambda t: t["score"])


def _to_axis(spec, value):
    """Position of `value` on the axis a range is uniform on (log10 for 'log')."""
    if spec[0] == "log":
        if value <= 0:
            raise ValueError(f"a value in a log range must be > 0, got {value!r}")
        return math.log10(value)
    return float(value)


def narrow_space(space, trials, shrink=0.5, top_k=3):
    """A narrower space centred on the `top_k` best 'ok' trials of `trials`.

    For every 'log'/'linear' parameter the new range is centred on the midpoint of the top
    trials' values (log10 for 'log'); its width is `shrink` times the old width, widened if
    needed to hold all top values, and slid to stay inside the old range. 'choice' specs are
    kept as they are.
    """
    validate_space(space)
    if not 0 < shrink <= 1:
        raise ValueError(f"shrink must be in (0, 1], got {shrink!r}")
    _require_count("top_k", top_k)
    ok = sorted((t for t in trials if t["status"] == "ok"), key=lambda t: t["score"], reverse=True)
    if not ok:
        raise ValueError("cannot narrow the space: no trial finished with a finite score")
    top = ok[:top_k]
    narrowed = {}
    for name, spec in space.items():
        if spec[0] == "choice":
            narrowed[name] = spec
            continue
        low, high = float(spec[1]), float(spec[2])
        values = [_to_axis(spec, t["params"][name]) for t in top]
        centre = (min(values) + max(values)) / 2
        width = min(high - low, max(shrink * (high - low), max(values) - min(values)))
        new_low = min(max(centre - width / 2, low), high - width)
        narrowed[name] = (spec[0], new_low, new_low + width)
    return narrowed


def coarse_to_fine(objective, space, num_stages=2, trials_per_stage=10, shrink=0.5, seed=0,
                   stage_kwargs=None, top_k=3):
    """Random search in `num_stages` stages, each on a space narrowed around the top trials
    of the stage before (see narrow_space).

    stage_kwargs: None or a list with one dict per stage of extra keyword arguments for the
    objective, e.g. [{'num_epochs': 1}, {'num_epochs': 5}] for a short coarse stage and a
    longer fine one. Returns (trials, stage_spaces): all trials, each with a 'stage' key
    (0-based), and the space searched in each stage.
    """
    validate_space(space)
    _require_count("num_stages", num_stages)
    _require_count("trials_per_stage", trials_per_stage)
    _require_seed(seed)
    if stage_kwargs is None:
        stage_kwargs = [{}] * num_stages
    if len(stage_kwargs) != num_stages:
        raise ValueError(f"stage_kwargs needs one dict per stage ({num_stages}), "
                         f"got {len(stage_kwargs)}")
    stage_seeds = np.random.SeedSequence(int(seed)).generate_state(num_stages)
    trials, stage_spaces = [], []
    stage_space = space
    for stage in range(num_stages):
        if stage > 0:
            stage_space = narrow_space(stage_space, stage_trials, shrink, top_k)
        stage_spaces.append(stage_space)
        stage_trials = random_search(objective, stage_space, trials_per_stage,
                                     seed=int(stage_seeds[stage]), **stage_kwargs[stage])
        for trial in stage_trials:
            trial["stage"] = stage
        trials.extend(stage_trials)
    return trials, stage_spaces


def edge_of_range_warning(trials_or_params, space, margin=0.1):
    """Warnings (list of str) for best values in the outer `margin` of their range.

    trials_or_params: a list of trials (the best one is used), one trial dict, or a params
    dict. Positions are measured in log10 for 'log' ranges. An empty list means no warning.
    """
    validate_space(space)
    require_positive("margin", margin)
    if margin >= 0.5:
        raise ValueError(f"margin must be below 0.5 (a fraction of the range), got {margin!r}")
    if isinstance(trials_or_params, dict):
        is_trial = "params" in trials_or_params and "status" in trials_or_params
        params = trials_or_params["params"] if is_trial else trials_or_params
    else:
        params = best_trial(list(trials_or_params))["params"]
    warnings = []
    for name, spec in space.items():
        if spec[0] == "choice" or name not in params:
            continue
        low, high = float(spec[1]), float(spec[2])
        position = (_to_axis(spec, params[name]) - low) / (high - low)
        scale = " (log10)" if spec[0] == "log" else ""
        bounds = f"[{low:g}, {high:g}]{scale}"
        if position < margin:
            warnings.append(f"best {name}={params[name]:.3g} lies in the lowest {margin:.0%} of "
                            f"its range {bounds}; widen the range downward (lower the low end)")
        elif position > 1 - margin:
            warnings.append(f"best {name}={params[name]:.3g} lies in the highest {margin:.0%} of "
                            f"its range {bounds}; widen the range upward (raise the high end)")
    return warnings


# ----------------------------------------------------------------------------- notebook 08
# Array-based building blocks (the exercises of notebook 08) and helpers for its experiments.

def _exponent_bounds(low_exps, high_exps):
    """low_exps, high_exps as float arrays (D,) with low < high everywhere."""
    low = np.atleast_1d(np.asarray(low_exps, dtype=np.float64))
    high = np.atleast_1d(np.asarray(high_exps, dtype=np.float64))
    if low.ndim != 1 or low.shape != high.shape or low.size == 0:
        raise ValueError(f"low_exps and high_exps must be 1-D of the same non-zero length, "
                         f"got shapes {low.shape} and {high.shape}")
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low < high)):
        raise ValueError(f"every range needs finite low < high, got low_exps {low.tolist()} "
                         f"and high_exps {high.tolist()}")
    return low, high


def points_per_axis(budget, num_dims):
    """The largest k with k**num_dims <= budget: a full grid's values per hyperparameter."""
    _require_count("budget", budget)
    _require_count("num_dims", num_dims)
    k = max(int(round(budget ** (1.0 / num_dims))), 1)
    while k ** num_dims > budget:  # float roots can land just above or below an integer
        k -= 1
    while (k + 1) ** num_dims <= budget:
        k += 1
    return k


def grid_points(low_exps, high_exps, budget):
    """A full grid in log space that fits the budget: values of shape (k**D, D).

    low_exps, high_exps: (D,) log10 bounds of the D hyperparameters. k = points_per_axis(budget, D)
    values per hyperparameter, 10**linspace(low, high, k) (both ends included); every
    combination once, rows in itertools.product order (the last hyperparameter varies fastest).
    """
    low, high = _exponent_bounds(low_exps, high_exps)
    k = points_per_axis(budget, low.size)
    axes = [10.0 ** np.linspace(lo, hi, k) for lo, hi in zip(low, high)]
    return np.array(list(itertools.product(*axes)), dtype=np.float64).reshape(-1, low.size)


def random_points(low_exps, high_exps, budget, rng):
    """`budget` random points, every coordinate log-uniform in its range: values (budget, D).

    low_exps, high_exps: (D,) log10 bounds. Each coordinate of each point is drawn on its own,
    10**uniform(low, high), so every hyperparameter gets `budget` different values.
    rng: numpy.random.Generator.
    """
    low, high = _exponent_bounds(low_exps, high_exps)
    _require_count("budget", budget)
    return 10.0 ** rng.uniform(low, high, size=(budget, low.size))


def narrow_range(trials, param, keep_top, half_width):
    """New log10 range (low_exp, high_exp) centred on the best trials, for a finer search.

    trials: list of trial dicts {'params': {name: value}, 'score': float, 'status': str};
    only trials with status 'ok' count. The centre is the mean of log10(params[param]) over the
    `keep_top` highest-scoring trials (the log of their geometric mean); the new range reaches
    `half_width` decades either side of it.
    """
    _require_count("keep_top", keep_top)
    require_positive("half_width", half_width)
    ok = [t for t in trials if t["status"] == "ok"]
    if not ok:
        raise ValueError("cannot narrow the range: no trial has status 'ok'")
    top = sorted(ok, key=lambda t: t["score"], reverse=True)[:keep_top]
    centre = float(np.mean([math.log10(t["params"][param]) for t in top]))
    return centre - half_width, centre + half_width


def edge_warning(best_value, low_exp, high_exp, margin=0.1):
    """'low' or 'high' when best_value lies in the outer `margin` of its log10 range, else None.

    The position is measured on the log10 axis as a fraction of the range:
    (log10(best_value) - low_exp) / (high_exp - low_exp); below margin -> 'low' (widen the
    range downward), above 1 - margin -> 'high' (widen it upward). Same rule as
    edge_of_range_warning for one 'log' hyperparameter.
    """
    _require_range("edge_warning", low_exp, high_exp)
    if best_value <= 0:
        raise ValueError(f"best_value must be > 0 on a log range, got {best_value!r}")
    position = (math.log10(best_value) - low_exp) / (high_exp - low_exp)
    if position < margin:
        return "low"
    if position > 1 - margin:
        return "high"
    return None


def variance_explained(exponents, scores, num_bins=4):
    """Share of the variance of `scores` (N,) explained by binning `exponents` (N,).

    The exponents are cut into `num_bins` bins holding equal numbers of trials; the score's
    between-bin variance over its total variance (eta squared, in [0, 1]) measures how much
    that hyperparameter alone decides the outcome. Non-finite scores are left out.
    """
    exponents = np.asarray(exponents, dtype=np.float64).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if exponents.shape != scores.shape:
        raise ValueError(f"exponents and scores must have the same length, "
                         f"got {exponents.shape[0]} and {scores.shape[0]}")
    _require_count("num_bins", num_bins)
    keep = np.isfinite(scores) & np.isfinite(exponents)
    exponents, scores = exponents[keep], scores[keep]
    if scores.size < num_bins:
        raise ValueError(f"need at least num_bins={num_bins} finite scores, got {scores.size}")
    total = float(np.sum((scores - scores.mean()) ** 2))
    if total == 0:
        return 0.0
    bins = np.array_split(np.argsort(exponents, kind="stable"), num_bins)
    between = sum(len(b) * (scores[b].mean() - scores.mean()) ** 2 for b in bins)
    return float(between / total)


def lopsided_objective(points, peak_exps, widths=(0.25, 0.25), weights=(1.0, 0.05)):
    """Synthetic score of 2-D points (N, 2) where the first hyperparameter matters far more.

    points: hyperparameter values (N, 2), looked at in log10. The score is a sum of one
    Gaussian bump per hyperparameter, centred on peak_exps (2,) with std `widths` (decades)
    and heights `weights`: with the defaults, the first one decides 95% of the score.
    Returns scores (N,) in [0, sum(weights)].
    """
    exps = np.log10(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    bumps = np.exp(-0.5 * ((exps - np.asarray(peak_exps)) / np.asarray(widths)) ** 2)
    return bumps @ np.asarray(weights, dtype=np.float64)


class ClassifierObjective:
    """Search objective: train a FullyConnectedNet with the trial's hyperparameters on `data`.

    objective(params, seed, num_epochs=1) -> the best validation accuracy of the run, or nan
    when the Solver aborted a diverging run (run_trial then marks the trial 'diverged').
    params: {'learning_rate': float, 'reg': float}. The model is seeded with `seed`, so a
    trial is reproducible on its own.

    data: dict with X_train, y_train, X_val, y_val (see Solver); extra_sets: optional dict
    name -> (X, y) measured after training (never used to choose anything by the search).
    Every call appends a record to `records`: params, seed, num_epochs, val_acc, aborted,
    iterations_run, iterations_planned, loss_history (the mini-batch losses), accuracy (dict
    set name -> accuracy, with 'val') and correct (dict set name -> bool array (N,) of
    correctly classified examples); accuracy and correct stay empty for an aborted run.
    """

    def __init__(self, data, hidden_dims=(100,), update_rule="sgd_momentum", batch_size=100,
                 abort_factor=3.0, extra_sets=None, dtype=np.float32):
        self.data = data
        self.hidden_dims = list(hidden_dims)
        self.update_rule = update_rule
        self.batch_size = batch_size
        self.abort_factor = abort_factor
        self.extra_sets = dict(extra_sets or {})
        self.dtype = dtype
        self.records = []

    def __call__(self, params, seed, num_epochs=1):
        from cs231n_lib.models import FullyConnectedNet
        from cs231n_lib.solver import Solver
        model = FullyConnectedNet(self.hidden_dims, reg=float(params["reg"]), seed=seed,
                                  dtype=self.dtype)
        solver = Solver(model, self.data, update_rule=self.update_rule,
                        optim_config={"learning_rate": float(params["learning_rate"])},
                        batch_size=self.batch_size, num_epochs=num_epochs,
                        num_train_samples=1000, seed=seed, abort_factor=self.abort_factor)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run overflows
            solver.train()
        record = {"params": dict(params), "seed": int(seed), "num_epochs": num_epochs,
                  "aborted": solver.aborted, "iterations_run": len(solver.loss_history),
                  "iterations_planned": solver.num_iterations,
                  "loss_history": list(solver.loss_history), "accuracy": {}, "correct": {}}
        if not solver.aborted:
            sets = {"val": (self.data["X_val"], self.data["y_val"]), **self.extra_sets}
            for name, (X, y) in sets.items():
                correct = model.predict(X) == y
                record["correct"][name] = correct
                record["accuracy"][name] = float(correct.mean())
        record["val_acc"] = float("nan") if solver.aborted else float(solver.best_val_acc)
        self.records.append(record)
        return record["val_acc"]
