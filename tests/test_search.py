"""Tests for cs231n_lib.search: sampling, random/grid search, coarse-to-fine, edge warnings."""
import itertools
import math

import numpy as np
import pytest

from cs231n_lib import search

SPACE = {"lr": ("log", -6, 0), "reg": ("log", -5, 0)}


def bowl_objective(params, seed):
    """Higher is better; best at lr = 1e-3 (matters most) and reg = 1e-2."""
    return -(math.log10(params["lr"]) + 3) ** 2 - 0.25 * (math.log10(params["reg"]) + 2) ** 2


def noisy_objective(params, seed):
    """A score that depends on the trial seed, to check each trial is reproducible alone."""
    return params["x"] + np.random.default_rng(seed).normal()


def test_log_uniform_is_uniform_in_log10():
    samples = search.log_uniform(-5, -1, size=20000, rng=np.random.default_rng(0))
    exps = np.sort(np.log10(samples))
    assert exps.min() >= -5 and exps.max() <= -1
    empirical = np.arange(1, exps.size + 1) / exps.size
    uniform_cdf = (exps + 5) / 4
    assert np.max(np.abs(empirical - uniform_cdf)) < 0.02


def test_log_uniform_scalar_and_reproducible():
    a = search.log_uniform(-3, 0, rng=np.random.default_rng(5))
    b = search.log_uniform(-3, 0, rng=np.random.default_rng(5))
    assert isinstance(a, float) and a == b and 1e-3 <= a <= 1
    with pytest.raises(ValueError, match="low < high"):
        search.log_uniform(-1, -3)


def test_sample_params_ranges_and_reproducibility():
    space = {"lr": ("log", -4, -2), "keep_prob": ("linear", 0.5, 1.0),
             "hidden": ("choice", [50, 100, 200])}
    params = search.sample_params(space, np.random.default_rng(0))
    assert set(params) == set(space)
    assert 1e-4 <= params["lr"] <= 1e-2
    assert 0.5 <= params["keep_prob"] <= 1.0
    assert params["hidden"] in (50, 100, 200)
    assert params == search.sample_params(space, np.random.default_rng(0))


@pytest.mark.parametrize("space", [
    {},
    {"lr": ("log", -1, -3)},                # low > high
    {"lr": ("log", -3, -3)},                # empty range
    {"lr": ("log", -3)},                    # missing bound
    {"lr": ("exp", -3, -1)},                # unknown kind
    {"lr": ("linear", 0, float("inf"))},    # infinite bound
    {"lr": ("linear", "a", 1)},             # not a number
    {"act": ("choice", [])},                # no values
    {"act": ("choice", "relu")},            # not a list
    {"lr": -3},                             # not a tuple
    [("lr", ("log", -3, -1))],              # not a dict
])
def test_invalid_space_raises(space):
    with pytest.raises(ValueError):
        search.validate_space(space)
    with pytest.raises(ValueError):
        search.random_search(bowl_objective, space, num_trials=2, seed=0)


def test_random_search_trials_and_reproducibility():
    space = {"x": ("linear", 0.0, 1.0)}
    trials = search.random_search(noisy_objective, space, num_trials=8, seed=3)
    again = search.random_search(noisy_objective, space, num_trials=8, seed=3)
    other = search.random_search(noisy_objective, space, num_trials=8, seed=4)
    assert len(trials) == 8
    assert all(set(t) == {"params", "score", "status", "seed"} for t in trials)
    assert trials == again
    assert [t["params"] for t in trials] != [t["params"] for t in other]
    assert len({t["seed"] for t in trials}) == 8
    # every trial can be re-run alone from its own params and seed
    for t in trials:
        assert noisy_objective(t["params"], t["seed"]) == t["score"]


def test_diverged_trials():
    def objective(params, seed):
        if params["lr"] > 1e-2:
            raise FloatingPointError("overflow")
        if params["lr"] > 1e-3:
            return float("nan")
        return 1.0

    trials = search.grid_search(objective, {"lr": [1e-4, 5e-3, 0.1]})
    assert [t["status"] for t in trials] == ["ok", "diverged", "diverged"]
    assert trials[0]["score"] == 1.0
    assert all(math.isnan(t["score"]) for t in trials[1:])
    assert search.best_trial(trials) is trials[0]


def test_other_exceptions_propagate():
    def objective(params, seed):
        raise KeyError("bug in the objective")

    with pytest.raises(KeyError):
        search.random_search(objective, SPACE, num_trials=1)


def test_best_trial():
    trials = [{"params": {}, "score": s, "status": st, "seed": 0}
              for s, st in [(0.2, "ok"), (float("nan"), "diverged"), (0.7, "ok"), (0.5, "ok")]]
    assert search.best_trial(trials)["score"] == 0.7
    with pytest.raises(ValueError, match="finite"):
        search.best_trial([trials[1]])
    with pytest.raises(ValueError, match="finite"):
        search.best_trial([])


def test_grid_covers_cartesian_product():
    grid = {"lr": [1e-4, 1e-3, 1e-2], "reg": [0.0, 0.1], "act": ["relu", "tanh"]}
    trials = search.grid_search(lambda p, s: 0.0, grid, seed=1)
    assert len(trials) == 3 * 2 * 2
    seen = {(t["params"]["lr"], t["params"]["reg"], t["params"]["act"]) for t in trials}
    assert seen == set(itertools.product(*grid.values()))
    assert len({t["seed"] for t in trials}) == len(trials)
    with pytest.raises(ValueError, match="non-empty"):
        search.grid_search(lambda p, s: 0.0, {"lr": []})


def test_objective_kwargs_are_passed():
    seen = []

    def objective(params, seed, num_epochs):
        seen.append(num_epochs)
        return 0.0

    search.random_search(objective, SPACE, num_trials=2, seed=0, num_epochs=3)
    assert seen == [3, 3]


def test_coarse_to_fine_narrows_around_optimum():
    trials, spaces = search.coarse_to_fine(bowl_objective, SPACE, num_stages=3,
                                           trials_per_stage=15, shrink=0.5, seed=0)
    assert len(trials) == 45 and len(spaces) == 3
    assert [t["stage"] for t in trials] == [0] * 15 + [1] * 15 + [2] * 15
    assert spaces[0] == SPACE
    widths = [s["lr"][2] - s["lr"][1] for s in spaces]
    assert widths[0] > widths[1] > widths[2]
    _, low, high = spaces[-1]["lr"]
    assert low <= -3 <= high                   # the final lr range still holds 1e-3
    best_by_stage = [search.best_trial([t for t in trials if t["stage"] == k])["score"]
                     for k in range(3)]
    assert best_by_stage[-1] > best_by_stage[0]
    assert abs(math.log10(search.best_trial(trials)["params"]["lr"]) + 3) < 0.25


def test_coarse_to_fine_stage_kwargs_and_reproducibility():
    epochs = []

    def objective(params, seed, num_epochs):
        epochs.append(num_epochs)
        return bowl_objective(params, seed)

    kwargs = [{"num_epochs": 1}, {"num_epochs": 5}]
    trials, _ = search.coarse_to_fine(objective, SPACE, trials_per_stage=4, seed=2,
                                      stage_kwargs=kwargs)
    assert epochs == [1] * 4 + [5] * 4
    again, _ = search.coarse_to_fine(objective, SPACE, trials_per_stage=4, seed=2,
                                     stage_kwargs=kwargs)
    assert trials == again
    with pytest.raises(ValueError, match="one dict per stage"):
        search.coarse_to_fine(objective, SPACE, num_stages=2, stage_kwargs=[{}])


def test_narrow_space_keeps_choices_and_stays_inside():
    space = {"lr": ("log", -6, 0), "act": ("choice", ["relu", "tanh"])}
    trials = [{"params": {"lr": 10.0 ** -5.9, "act": "relu"}, "score": 1.0, "status": "ok",
               "seed": 0}]
    narrowed = search.narrow_space(space, trials, shrink=0.5)
    assert narrowed["act"] == space["act"]
    assert narrowed["lr"] == ("log", -6.0, -3.0)  # slid to stay inside the old range


@pytest.mark.parametrize("kind,low,high,value,side", [
    ("log", -6, -1, 10.0 ** -5.9, "downward"),
    ("log", -6, -1, 10.0 ** -1.2, "upward"),
    ("linear", 0.0, 1.0, 0.02, "downward"),
    ("linear", 0.0, 1.0, 0.95, "upward"),
])
def test_edge_warning_fires_at_the_edge(kind, low, high, value, side):
    space = {"lr": (kind, low, high), "act": ("choice", ["relu"])}
    warnings = search.edge_of_range_warning({"lr": value, "act": "relu"}, space)
    assert len(warnings) == 1
    assert "lr" in warnings[0] and side in warnings[0]


def test_edge_warning_silent_in_the_middle_and_uses_log_space():
    space = {"lr": ("log", -3, -1), "keep_prob": ("linear", 0.5, 1.0)}
    assert search.edge_of_range_warning({"lr": 1e-2, "keep_prob": 0.75}, space) == []
    # 2e-3 is 15% along the log10 axis (no warning), but 0.5% along a linear axis
    assert search.edge_of_range_warning({"lr": 2e-3, "keep_prob": 0.75}, space) == []


def test_edge_warning_from_trials():
    space = {"lr": ("log", -6, -5), "reg": ("log", -5, 0)}
    trials = search.grid_search(bowl_objective, {"lr": [1e-6, 1e-5], "reg": [1e-2]})
    warnings = search.edge_of_range_warning(trials, space)
    assert len(warnings) == 1 and "upward" in warnings[0]     # best lr = 1e-5, the top end
    assert search.edge_of_range_warning(search.best_trial(trials), space) == warnings
    with pytest.raises(ValueError, match="margin"):
        search.edge_of_range_warning(trials, space, margin=0.6)
