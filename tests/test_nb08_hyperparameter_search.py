"""Checks specific to notebook 08's graders: other correct answers pass, other bugs are caught."""
import itertools
import re

import numpy as np
import pytest

from cs231n_lib import grading, search
from cs231n_lib.data import split_validation

SEEDS = [0, 1, 2, 11, 12, 13]


# ----------------------------------------------------------------------------- correct variants

def split_validation_with_choice(X, y, val_fraction, rng):
    num_val = int(val_fraction * len(X))                 # floor instead of round: also fine
    val = rng.choice(len(X), size=num_val, replace=False)
    train = np.setdiff1d(np.arange(len(X)), val)         # training rows left in order
    return X[train], y[train], X[val], y[val]


def log_uniform_by_hand(low_exp, high_exp, size, rng):
    return np.power(10.0, low_exp + (high_exp - low_exp) * rng.random(size))


def grid_points_product(low_exps, high_exps, budget):
    num_dims = len(low_exps)
    k = 1
    while (k + 1) ** num_dims <= budget:
        k += 1
    axes = [np.logspace(lo, hi, k) for lo, hi in zip(low_exps, high_exps)]
    return np.array(list(itertools.product(*axes)))[::-1]   # any row order


def random_points_by_column(low_exps, high_exps, budget, rng):
    columns = [log_uniform_by_hand(lo, hi, budget, rng) for lo, hi in zip(low_exps, high_exps)]
    return np.stack(columns, axis=1)


def edge_warning_with_log_of_bounds(best_value, low_exp, high_exp, margin=0.1):
    low, high = np.log10(10.0 ** low_exp), np.log10(10.0 ** high_exp)
    position = (np.log10(best_value) - low) / (high - low)
    return "low" if position < margin else "high" if position > 1 - margin else None


@pytest.mark.parametrize("name,fns", [
    ("split_validation", (split_validation,)),
    ("split_validation", (split_validation_with_choice,)),
    ("log_uniform", (log_uniform_by_hand,)),
    ("search_points", (grid_points_product, random_points_by_column)),
    ("search_points", (search.grid_points, search.random_points)),
    ("edge_warning", (edge_warning_with_log_of_bounds,)),
])
def test_other_correct_answers_pass(name, fns):
    grading.check(name, *fns, seeds=SEEDS)


# ----------------------------------------------------------------------------- other bugs

def split_validation_in_place(X, y, val_fraction, rng):
    order = rng.permutation(len(X))
    X[:], y[:] = X[order], y[order]
    num_val = round(val_fraction * len(X))
    return X[num_val:], y[num_val:], X[:num_val], y[:num_val]


def split_validation_fixed_seed(X, y, val_fraction, rng):
    order = np.random.default_rng(0).permutation(len(X))
    num_val = round(val_fraction * len(X))
    return X[order[num_val:]], y[order[num_val:]], X[order[:num_val]], y[order[:num_val]]


def grid_points_float_root(low_exps, high_exps, budget):
    k = int(budget ** (1 / len(low_exps)))
    axes = [np.logspace(lo, hi, k) for lo, hi in zip(low_exps, high_exps)]
    return np.array(list(itertools.product(*axes)))


def edge_warning_sentence(best_value, low_exp, high_exp, margin=0.1):
    side = search.edge_warning(best_value, low_exp, high_exp, margin)
    return None if side is None else f"widen the {side} end"


@pytest.mark.parametrize("name,fns,message", [
    ("split_validation", (split_validation_in_place,), "in place"),
    ("split_validation", (split_validation_fixed_seed,), "different seeds gave the same split"),
    ("search_points", (grid_points_float_root, search.random_points),
     "in floating point, so int() of it can be one too small"),
    ("edge_warning", (edge_warning_sentence,), "return exactly 'low', 'high' or None"),
])
def test_other_bugs_fail_with_a_useful_message(name, fns, message):
    with pytest.raises(grading.CheckFailure, match=re.escape(message)):
        grading.check(name, *fns)


def test_failures_name_the_call_and_the_expected_answer():
    with pytest.raises(grading.CheckFailure) as info:
        grading.check("narrow_range", lambda trials, param, keep_top, half_width: (0.0, 1.0))
    assert "narrow_range(trials (" in str(info.value) and "expected (" in str(info.value)
