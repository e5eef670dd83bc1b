"""Every registered exercise: the reference passes its own checks, every known mistake fails
them with a message that names the mistake (no notebooks, no nbgrader: fast)."""
import numpy as np
import pytest

from cs231n_lib import grading
from cs231n_lib.course import paths

# The course's own exercises (test modules may register fixture exercises of other notebooks).
NAMES = [name for assignment in paths.assignments()
         for name in grading.exercise_names(notebook=assignment)]
MISTAKES = [(name, i) for name in NAMES
            for i, m in enumerate(grading.get_exercise(name).mistakes) if callable(m.implementation)]


def test_registry_is_not_empty():
    assert NAMES, "no exercises registered in cs231n_lib/exercises/"


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_visible_and_hidden_checks(name):
    exercise = grading.get_exercise(name)
    grading.check(name, *exercise.reference_fns)
    grading.check(name, *exercise.reference_fns, hidden=True)


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_has_a_known_mistake(name):
    assert grading.get_exercise(name).mistakes, f"{name}: list at least one known mistake"


@pytest.mark.parametrize("name,index", MISTAKES)
def test_known_mistake_fails_and_is_named(name, index):
    exercise = grading.get_exercise(name)
    mistake = exercise.mistakes[index]
    fns = list(exercise.reference_fns)
    fns[mistake.replaces] = mistake.implementation
    with pytest.raises(grading.CheckFailure) as info:
        grading.check(name, *fns)
    assert mistake.label in str(info.value), (
        f"{name}: the failure message does not name the mistake {mistake.label!r}:\n{info.value}")


@pytest.mark.parametrize("name", NAMES)
def test_visible_cases_are_deterministic(name):
    exercise = grading.get_exercise(name)
    if exercise.make_case is None:
        pytest.skip("graded by properties (custom_check)")
    first = [exercise.make_case(np.random.default_rng(s)) for s in exercise.visible_seeds]
    again = [exercise.make_case(np.random.default_rng(s)) for s in exercise.visible_seeds]
    for a, b in zip(first, again):
        for x, y in zip(a.args, b.args):
            if isinstance(x, np.ndarray):
                assert np.array_equal(x, y), f"{name}: visible inputs differ between runs"


@pytest.mark.parametrize("name", NAMES)
def test_cases_can_cross_to_a_grading_worker(name):
    """The out-of-kernel grader sends inputs as plain data: arrays, numbers, strings, dicts,
    generators and module-level functions (or partials of them) only — no lambdas."""
    from cs231n_lib.course import bridge
    exercise = grading.get_exercise(name)
    if exercise.make_case is None:
        pytest.skip("graded by properties (custom_check)")
    for seed in exercise.visible_seeds:
        case = exercise.make_case(np.random.default_rng(seed))
        bridge.encode([list(case.args), case.kwargs])


# ----------------------------------------------------------------------------- CS231n habits

def cs231n_svm_loss(x, y):
    """CS231n's svm_loss(x, y): the margin fixed at 1."""
    n = x.shape[0]
    correct = x[np.arange(n), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(n), y] = 0
    dx = (margins > 0).astype(float)
    dx[np.arange(n), y] -= dx.sum(axis=1)
    return margins.sum() / n, dx / n


def cs231n_dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        return x * mask, (dropout_param, mask)
    return x, (dropout_param, None)


def cs231n_dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * mask if dropout_param["mode"] == "train" else dout


def old_layout_affine_backward(dout, cache):
    """Unpacks a cache of four entries: cannot work with (x, w, b)."""
    x_flat, x_shape, w, b = cache
    return (dout @ w.T).reshape(x_shape), x_flat.T @ dout, dout.sum(0)


def bn_forward_direct_keys(x, gamma, beta, bn_param):
    """Reads the running averages without a default (KeyError on the first call)."""
    running_mean, running_var = bn_param["running_mean"], bn_param["running_var"]
    mean, var = x.mean(0), x.var(0)
    bn_param["running_mean"] = 0.9 * running_mean + 0.1 * mean
    bn_param["running_var"] = 0.9 * running_var + 0.1 * var
    x_hat = (x - mean) / np.sqrt(var + 1e-5)
    return gamma * x_hat + beta, (x_hat, gamma)


def ratios_two_args(params, grads):
    return {k: 0.0 for k in params}


@pytest.mark.parametrize("name,fns,expected", [
    ("svm_loss", [cs231n_svm_loss], "svm_loss(scores, y, delta=1.0); CS231n's svm_loss(x, y)"),
    ("dropout", [cs231n_dropout_forward, cs231n_dropout_backward],
     "reads dropout_param['keep_prob'], the probability of KEEPING a unit; CS231n called it p"),
    ("affine_backward", [old_layout_affine_backward], "CS231n's tuple (x, w, b)"),
    ("batchnorm_forward", [bn_forward_direct_keys], "only 'mode' is always there"),
    ("update_to_weight_ratios", [ratios_two_args],
     "update_to_weight_ratios(params, grads, learning_rate)"),
])
def test_cs231n_habit_gets_one_sentence_that_says_what_to_change(name, fns, expected):
    with pytest.raises(grading.CheckFailure) as info:
        grading.check(name, *fns)
    assert expected in str(info.value), str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_names_its_signature_on_a_type_error(name):
    exercise = grading.get_exercise(name)
    habits = [h for h in exercise.habits if h.error == "TypeError"]
    assert habits, f"{name}: no habit for a signature mismatch"
    for fn_name in exercise.function_names:
        assert any(f"{fn_name}(" in h.hint for h in habits), (name, fn_name)


def test_signature_hint_reaches_custom_checks():
    def split_validation(X, y, val_fraction):  # forgot rng
        return X, y, X, y
    with pytest.raises(grading.CheckFailure, match=r"split_validation\(X, y, val_fraction, rng\)"):
        grading.check("split_validation", split_validation)


def test_slip_rate_script_measures_a_family():
    """bench/slip_rates.py: the mean-band checker never slips, the 1e-8 floor is never unfair."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "bench" / "slip_rates.py"
    spec = importlib.util.spec_from_file_location("slip_rates", path)
    slip = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(slip)
    rng = np.random.default_rng(0)
    assert slip.measure("grad_check_report", [slip.report_band_from_mean], 20, 0.0, rng) == (
        True, 0, 20)
    assert slip.measure("rel_error", [slip.rel_error_max_with_floor], 20, 0.0, rng) == (
        False, 20, 20)  # passes the visible cases and all 20 hidden sets
