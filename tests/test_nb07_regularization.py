"""Checks specific to notebook 07's graders: other correct dropouts pass, other bugs are caught."""
import re

import numpy as np
import pytest

from cs231n_lib import grading, layers

SEEDS = [0, 1, 2, 11, 12]


# ----------------------------------------------------------------------------- correct variants

def dropout_forward_global_seed(x, dropout_param):
    # The legacy global generator, seeded from the given seed: also deterministic per seed.
    if dropout_param["mode"] == "test":
        return x, {"mask": None}
    np.random.seed(dropout_param.get("seed"))
    mask = (np.random.rand(*x.shape) < dropout_param["keep_prob"]) / dropout_param["keep_prob"]
    return x * mask, {"mask": mask}


def dropout_backward_global_seed(dout, cache):
    return dout if cache["mask"] is None else dout * cache["mask"]


@pytest.mark.parametrize("fns", [
    (layers.dropout_forward, layers.dropout_backward),
    (dropout_forward_global_seed, dropout_backward_global_seed),
])
def test_other_correct_dropouts_pass(fns):
    grading.check("dropout", *fns, seeds=SEEDS)


# ----------------------------------------------------------------------------- bugs

_LAST_MASK = {}


def dropout_forward_global_mask(x, dropout_param):
    out, (param, mask) = layers.dropout_forward(x, dropout_param)
    _LAST_MASK["mask"] = mask
    return out, param


def dropout_backward_global_mask(dout, cache):
    mask = _LAST_MASK["mask"]
    return dout if mask is None else dout * mask / cache["keep_prob"]


def dropout_backward_unscaled(dout, cache):
    _, mask = cache
    return dout if mask is None else dout * mask


def dropout_forward_ignores_seed(x, dropout_param):
    return layers.dropout_forward(x, {**dropout_param, "seed": None})


def dropout_forward_fixed_mask(x, dropout_param):
    return layers.dropout_forward(x, {**dropout_param, "seed": 0})


def dropout_forward_in_place(x, dropout_param):
    out, cache = layers.dropout_forward(x, dropout_param)
    x[...] = out
    return x, cache


def dropout_forward_times_keep_prob(x, dropout_param):
    out, cache = layers.dropout_forward(x, dropout_param)
    return out * dropout_param["keep_prob"] ** 2, cache


@pytest.mark.parametrize("fns,expected", [
    ((dropout_forward_global_mask, dropout_backward_global_mask), "LATER forward call"),
    ((layers.dropout_forward, dropout_backward_unscaled), "dout / keep_prob"),
    ((dropout_forward_ignores_seed, layers.dropout_backward), "same seed gave different"),
    ((dropout_forward_fixed_mask, layers.dropout_backward), "different seeds dropped exactly"),
    ((dropout_forward_in_place, layers.dropout_backward), "changed x in place"),
    ((dropout_forward_times_keep_prob, layers.dropout_backward), "instead of dividing"),
    ((lambda x, p: x, layers.dropout_backward), "pair (out, cache)"),
])
def test_dropout_bugs_fail_with_a_message_that_says_why(fns, expected):
    with pytest.raises(grading.CheckFailure, match=re.escape(expected)):
        grading.check("dropout", *fns, seeds=[0])


def test_l2_penalty_visible_cases_include_batchnorm_parameters():
    exercise = grading.get_exercise("l2_penalty")
    keys = [set(exercise.make_case(np.random.default_rng(seed)).args[0])
            for seed in exercise.visible_seeds]
    assert any("gamma1" in k for k in keys) and any("gamma1" not in k for k in keys)


def test_l2_penalty_that_skips_only_biases_fails_on_gamma():
    def skips_only_b(params, reg):
        grads = {k: np.zeros_like(v) if k.startswith("b") else reg * v
                 for k, v in params.items()}
        penalty = sum(0.5 * reg * np.sum(v ** 2)
                      for k, v in params.items() if not k.startswith("b"))
        return penalty, grads
    with pytest.raises(grading.CheckFailure):
        grading.check("l2_penalty", skips_only_b)
