"""Checks specific to the exercises of notebook 01 (gradient checking)."""
import json

import numpy as np
import pytest

from cs231n_lib import grading
from cs231n_lib.course import paths
from cs231n_lib.exercises import nb01_gradient_checking as nb01
from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error


def arithmetic_restore_gradient(f, x, h=1e-5):
    """A correct student version that restores x by arithmetic instead of saving it."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        f_minus = f(x)
        x[i] += h
        grad[i] = (f_plus - f_minus) / 2 / h
    return grad


def vectorized_report(analytic_grad, numeric_grad):
    """A correct checker written differently from the reference (errstate + nan_to_num)."""
    with np.errstate(invalid="ignore"):
        errors = np.abs(analytic_grad - numeric_grad) / np.maximum(abs(analytic_grad),
                                                                   abs(numeric_grad))
    errors = np.nan_to_num(errors, nan=0.0)
    worst = np.unravel_index(errors.argmax(), errors.shape)
    err = errors[worst]
    band = ("wrong" if err > 1e-2 else "uncomfortable" if err > 1e-4
            else "ok only with kinks" if err >= 1e-7 else "good")
    return err, worst, band


@pytest.mark.parametrize("name,fn", [("eval_numerical_gradient", arithmetic_restore_gradient),
                                     ("grad_check_report", vectorized_report)])
def test_correct_variants_pass_many_cases(name, fn):
    # Not flagged for a last-bit change of x, nor for another correct formulation.
    grading.check(name, fn, seeds=range(60))


def test_reference_numerical_gradient_is_accurate_on_the_test_function():
    case = grading.get_exercise("eval_numerical_gradient").make_case(np.random.default_rng(0))
    f, x = case.args
    exact = nb01.smooth_test_gradient(x, f.keywords["c"], f.keywords["v"])
    assert rel_error(eval_numerical_gradient(f, x, **case.kwargs), exact) < 1e-8


def test_grad_check_visible_cases_cover_several_bands():
    exercise = grading.get_exercise("grad_check_report")
    bands = {exercise.reference(*case.args, **case.kwargs)[2]
             for _, case in exercise.cases(exercise.visible_seeds)}
    assert len(bands) >= 3


def test_two_layer_reference_passes_a_gradient_check():
    case = nb01._two_layer_case(np.random.default_rng(3))
    params, X, y = case.args
    _, grads = nb01.two_layer_net_loss(params, X, y, **case.kwargs)
    for name, value in params.items():
        numeric = eval_numerical_gradient(
            lambda _: nb01.two_layer_net_loss(params, X, y, **case.kwargs)[0], value)
        assert rel_error(grads[name], numeric) < 1e-6, name


def test_planted_bug_only_breaks_the_first_layer():
    case = nb01._two_layer_case(np.random.default_rng(4))
    loss, grads = nb01.two_layer_net_loss(*case.args, **case.kwargs)
    bad_loss, bad_grads = nb01.buggy_two_layer_net_loss(*case.args, **case.kwargs)
    assert bad_loss == pytest.approx(loss, rel=1e-12)
    for name in ("W2", "b2"):
        assert rel_error(bad_grads[name], grads[name]) < 1e-10
    for name in ("W1", "b1"):
        assert rel_error(bad_grads[name], grads[name]) > 1e-2


def test_notebook_shows_the_registry_version_of_the_buggy_net():
    nb = json.loads((paths.SOLUTIONS / "01_gradient_checking" / "gradient_checking.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c.get("id") == "buggy_net")
    source = "".join(cell["source"])
    assert "dhidden * (hidden >= 0)" in source
    assert cell["metadata"]["nbgrader"]["locked"]


# ----------------------------------------------------------------------------- the documented domain

def gradient_2d_only(f, x, h=1e-5):
    """Wrong: written for matrices only."""
    grad = np.zeros(x.shape)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            old = x[i, j]
            x[i, j] = old + h
            f_plus = f(x)
            x[i, j] = old - h
            f_minus = f(x)
            x[i, j] = old
            grad[i, j] = (f_plus - f_minus) / (2 * h)
    return grad


def report_from_mean(analytic_grad, numeric_grad):
    """Wrong: picks the band from the mean error."""
    scale = np.maximum(np.abs(analytic_grad), np.abs(numeric_grad))
    errors = np.divide(np.abs(analytic_grad - numeric_grad), scale,
                       out=np.zeros(scale.shape), where=scale > 0)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(errors), errors.shape))
    mean = errors.mean()
    band = ("wrong" if mean > 1e-2 else "uncomfortable" if mean > 1e-4
            else "ok only with kinks" if mean >= 1e-7 else "good")
    return float(errors[worst]), worst, band


def rel_error_max_with_floor(a, b):
    """Correct by the docstring: a 1e-8 floor in the denominator (never reached by the cases)."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b)))))


def cs231n_rel_error(x, y):
    """CS231n's helper, as it is in their notebooks."""
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


@pytest.mark.parametrize("name", ["eval_numerical_gradient", "rel_error", "grad_check_report"])
def test_cases_cover_any_shape(name):
    exercise = grading.get_exercise(name)
    ndims = {exercise.make_case(np.random.default_rng(s)).args[1].ndim for s in range(100)}
    shapes = {exercise.make_case(np.random.default_rng(s)).args[1].shape for s in range(300)}
    assert ndims == {1, 2, 3} and (1,) in shapes
    visible = {exercise.make_case(np.random.default_rng(s)).args[1].ndim
               for s in exercise.visible_seeds}
    assert len(visible) >= 2, "the visible cases should show a shape other than 2-D"


def test_gradient_written_for_matrices_only_fails_the_visible_check():
    with pytest.raises(grading.CheckFailure):
        grading.check("eval_numerical_gradient", gradient_2d_only)


def test_mean_and_max_fall_into_different_bands_unless_good_or_single():
    exercise = grading.get_exercise("grad_check_report")
    separated = 0
    for seed in range(300):
        analytic, numeric = exercise.make_case(np.random.default_rng(seed)).args
        _, _, band = exercise.reference(analytic, numeric)
        mean_band = report_from_mean(analytic, numeric)[2]
        if band != "good" and analytic.size > 1:
            assert mean_band != band, seed
            separated += 1
    assert separated > 0.75 * 300


def test_band_from_the_mean_fails_the_visible_check():
    with pytest.raises(grading.CheckFailure, match="band"):
        grading.check("grad_check_report", report_from_mean)


def test_rel_error_floor_never_changes_the_verdict():
    grading.check("rel_error", rel_error_max_with_floor, seeds=range(500))


def test_cs231n_rel_error_is_named_sum_instead_of_max():
    with pytest.raises(grading.CheckFailure, match="Known mistake: sum instead of max"):
        grading.check("rel_error", cs231n_rel_error)


def test_every_seed_checks_every_band():
    """A checker wrong in one band only fails on every single seed, visible or hidden."""
    exercise = grading.get_exercise("grad_check_report")
    wrong_order = next(m.implementation for m in exercise.mistakes
                       if m.label == "bands tested in the wrong order")
    for seed in range(30):
        with pytest.raises(grading.CheckFailure):
            grading.check("grad_check_report", wrong_order, seeds=[seed])
