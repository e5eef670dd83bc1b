"""Tests of the cs231n_lib.search additions for notebook 08 (hyperparameter search)."""
import functools
import itertools
import math

import numpy as np
import pytest

from cs231n_lib import search
from cs231n_lib.data import get_mnist_data


@pytest.mark.parametrize("budget,num_dims,k", [
    (9, 2, 3), (10, 2, 3), (8, 2, 2), (64, 3, 4), (63, 3, 3), (125, 3, 5), (1, 2, 1),
    (7, 1, 7), (1000, 3, 10),
])
def test_points_per_axis_is_the_exact_integer_root(budget, num_dims, k):
    assert search.points_per_axis(budget, num_dims) == k


def test_grid_points_cover_every_combination_in_log_space():
    low, high = np.array([-4.0, -6.0]), np.array([0.0, -1.0])
    points = search.grid_points(low, high, 10)
    assert points.shape == (9, 2)
    xs, ys = np.logspace(-4, 0, 3), np.logspace(-6, -1, 3)
    expected = np.array(list(itertools.product(xs, ys)))
    np.testing.assert_allclose(points, expected, rtol=1e-12)


def test_grid_points_rejects_bad_ranges():
    with pytest.raises(ValueError, match="low < high"):
        search.grid_points([-1.0, -2.0], [-3.0, 0.0], 9)
    with pytest.raises(ValueError, match="same non-zero length"):
        search.grid_points([-1.0], [0.0, 1.0], 9)
    with pytest.raises(ValueError, match="budget"):
        search.grid_points([-1.0], [0.0], 0)


def test_random_points_are_log_uniform_independent_and_reproducible():
    low, high = np.array([-5.0, -3.0]), np.array([-1.0, 0.0])
    points = search.random_points(low, high, 5000, np.random.default_rng(0))
    assert points.shape == (5000, 2)
    exps = np.log10(points)
    assert np.all(exps >= low) and np.all(exps <= high)
    for j in range(2):
        u = np.sort((exps[:, j] - low[j]) / (high[j] - low[j]))
        assert np.max(np.abs(u - np.arange(1, 5001) / 5000)) < 0.03
        assert np.unique(points[:, j]).size == 5000
    assert abs(np.corrcoef(exps, rowvar=False)[0, 1]) < 0.1
    again = search.random_points(low, high, 5000, np.random.default_rng(0))
    np.testing.assert_array_equal(points, again)


def _trial(lr, reg, score, status="ok"):
    return {"params": {"learning_rate": lr, "reg": reg}, "score": score, "status": status,
            "seed": 0}


def test_narrow_range_centres_on_the_log_mean_of_the_best_ok_trials():
    trials = [_trial(1e-1, 1e-3, 0.9), _trial(1e-3, 1e-5, 0.8), _trial(1e-5, 1e-2, 0.1),
              _trial(1.0, 1e-4, float("nan"), "diverged"), _trial(1e-4, 1e-6, 0.3)]
    low, high = search.narrow_range(trials, "learning_rate", keep_top=2, half_width=0.5)
    assert (low, high) == pytest.approx((-2.5, -1.5))
    low, high = search.narrow_range(trials, "reg", keep_top=3, half_width=1.0)
    assert (low, high) == pytest.approx((np.mean([-3, -5, -6]) - 1, np.mean([-3, -5, -6]) + 1))
    with pytest.raises(ValueError, match="no trial has status 'ok'"):
        search.narrow_range(trials[3:4], "reg", 1, 1.0)


@pytest.mark.parametrize("position", np.linspace(0.001, 0.999, 37))
def test_edge_warning_agrees_with_edge_of_range_warning(position):
    low, high = -5.0, -1.0
    value = 10.0 ** (low + position * (high - low))
    side = search.edge_warning(value, low, high, margin=0.15)
    messages = search.edge_of_range_warning({"lr": value}, {"lr": ("log", low, high)},
                                            margin=0.15)
    if side is None:
        assert messages == []
    else:
        assert len(messages) == 1 and {"low": "downward", "high": "upward"}[side] in messages[0]


def test_edge_warning_sides_and_log_scale():
    assert search.edge_warning(2e-5, -5, -1) == "low"
    assert search.edge_warning(9e-2, -5, -1) == "high"
    assert search.edge_warning(1e-3, -5, -1) is None   # the middle in log space
    with pytest.raises(ValueError):
        search.edge_warning(0.0, -5, -1)


def test_variance_explained():
    rng = np.random.default_rng(0)
    exps = rng.uniform(-5, 0, 400)
    assert search.variance_explained(exps, exps + 0.01 * rng.standard_normal(400)) > 0.9
    assert search.variance_explained(exps, rng.standard_normal(400)) < 0.05
    assert search.variance_explained(exps, np.ones(400)) == 0.0
    scores = np.where(np.arange(400) % 7 == 0, np.nan, exps)
    assert 0.9 < search.variance_explained(exps, scores) <= 1.0
    with pytest.raises(ValueError, match="same length"):
        search.variance_explained(exps, exps[:10])


def test_lopsided_objective_peaks_at_the_peak_and_favours_the_first_axis():
    f = functools.partial(search.lopsided_objective, peak_exps=[-2.0, -3.0])
    assert f(np.array([[1e-2, 1e-3]]))[0] == pytest.approx(1.05)
    off_first = f(np.array([[1e-1, 1e-3]]))[0]
    off_second = f(np.array([[1e-2, 1e-2]]))[0]
    assert off_first < 0.1 < 1.0 < off_second


@pytest.fixture(scope="module")
def tiny_data():
    data = get_mnist_data(num_train=300, num_val=100, num_test=100, seed=0, dtype=np.float32)
    return data


def test_classifier_objective_records_runs_and_reports_divergence(tiny_data):
    objective = search.ClassifierObjective(tiny_data, hidden_dims=[20],
                                           extra_sets={"test": (tiny_data["X_test"],
                                                                tiny_data["y_test"])})
    good = search.run_trial(objective, {"learning_rate": 0.05, "reg": 1e-4}, seed=1,
                            num_epochs=2)
    bad = search.run_trial(objective, {"learning_rate": 50.0, "reg": 1e-4}, seed=1, num_epochs=2)
    assert good["status"] == "ok" and 0.3 < good["score"] <= 1.0
    assert bad["status"] == "diverged" and math.isnan(bad["score"])
    first, second = objective.records
    assert first["iterations_run"] == first["iterations_planned"] == 6
    assert first["accuracy"]["val"] == pytest.approx(good["score"])
    assert first["correct"]["test"].shape == (100,)
    assert first["accuracy"]["test"] == pytest.approx(first["correct"]["test"].mean())
    assert second["aborted"] and second["iterations_run"] < second["iterations_planned"]
    assert second["accuracy"] == {} and len(second["loss_history"]) == second["iterations_run"]
    again = search.ClassifierObjective(tiny_data, hidden_dims=[20])
    assert again({"learning_rate": 0.05, "reg": 1e-4}, 1, num_epochs=2) == good["score"]
