"""How often does a known family of wrong answers slip through the hidden cases?

For every registered exercise this grades, in process, each known wrong family: every
registered Mistake, the families the fair-grades issue names (below), and the wrong answers of
the fairness suite (tests/fairness/nbNN.py). A grading draws HIDDEN_CASES fresh seeds, as the
grader does; a family slips when it passes all of them. The visible cases are reported on
their own: the grader runs them too, so a family they catch never scores.

    .venv/bin/python bench/slip_rates.py                 # all exercises, 500 gradings each
    .venv/bin/python bench/slip_rates.py --exercise grad_check_report --gradings 2000

Correct-but-unusual answers are measured the same way (their column is the chance of a
wrong verdict): the fairness suite's correct answers and a rel_error with a 1e-8 floor.
"""
import argparse
import contextlib
import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from cs231n_lib import grading  # noqa: E402


# ----------------------------------------------------------------------------- named families

def gradient_2d_only(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            old = x[i, j]
            x[i, j] = old + h
            fp = f(x)
            x[i, j] = old - h
            fm = f(x)
            x[i, j] = old
            grad[i, j] = (fp - fm) / (2 * h)
    return grad


def _errors(a, n):
    scale = np.maximum(np.abs(a), np.abs(n))
    return np.divide(np.abs(a - n), scale, out=np.zeros(np.shape(scale)), where=scale > 0)


def _band(err):
    return ("wrong" if err > 1e-2 else "uncomfortable" if err > 1e-4
            else "ok only with kinks" if err >= 1e-7 else "good")


def report_band_from_mean(analytic_grad, numeric_grad):
    errors = _errors(analytic_grad, numeric_grad)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(errors), errors.shape))
    return float(errors[worst]), worst, _band(errors.mean())


def report_2d_only(analytic_grad, numeric_grad):
    errors = _errors(analytic_grad, numeric_grad)
    i, j = np.unravel_index(np.argmax(errors), errors.shape)
    return float(errors[i, j]), (int(i), int(j)), _band(errors[i, j])


def rel_error_max_with_floor(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b)))))


def ratios_scaling_grads_in_place(params, grads, learning_rate):
    out = {}
    for name, w in params.items():
        grads[name] *= learning_rate
        out[name] = float(np.linalg.norm(grads[name]) / np.linalg.norm(w))
    return out


def l2_scaling_weights_in_place(params, reg):
    penalty, grads = 0.0, {}
    for name, W in params.items():
        if name.startswith("W"):
            penalty += 0.5 * reg * float(np.sum(W * W))
            W *= reg
            grads[name] = W
        else:
            grads[name] = np.zeros_like(W)
    return penalty, grads


def batchnorm_forward_centering_x(x, gamma, beta, bn_param):
    from cs231n_lib.layers import batchnorm_forward
    out, cache = batchnorm_forward(x.copy(), gamma, beta, bn_param)
    x -= x.mean(axis=0)
    return out, cache


def should_abort_nan_only(losses, initial_loss=None, factor=3.0):
    start = losses[0] if initial_loss is None else initial_loss
    return bool(np.isnan(losses[-1]) or losses[-1] > factor * start)


def adam_t_from_one(w, dw, config=None):
    from cs231n_lib.exercises.nb04_optimizers import adam_t_starts_at_1
    return adam_t_starts_at_1(w, dw, config)


NAMED = {  # exercise -> [(family, replaced function index, implementation, expected verdict)]
    "eval_numerical_gradient": [("written for 2-D arrays only", 0, gradient_2d_only, "fail")],
    "grad_check_report": [("band from the mean error", 0, report_band_from_mean, "fail"),
                          ("written for 2-D arrays only", 0, report_2d_only, "fail")],
    "rel_error": [("CORRECT: max with a 1e-8 floor", 0, rel_error_max_with_floor, "pass")],
    "update_to_weight_ratios": [("scales grads in place (arrays in a dict)", 0,
                                 ratios_scaling_grads_in_place, "fail")],
    "l2_penalty": [("scales W in place (arrays in a dict)", 0, l2_scaling_weights_in_place,
                    "fail")],
    "batchnorm_forward": [("centres x in place", 0, batchnorm_forward_centering_x, "fail")],
    "should_abort": [("-inf ignored (nan only)", 0, should_abort_nan_only, "fail")],
    "adam": [("config.setdefault('t', 1)", 0, adam_t_from_one, "fail")],
}


# ----------------------------------------------------------------------------- families

def _exec_cells(module, cell, source, base=0):
    """The namespace of a notebook whose answer cells are the base-th correct ones + `source`
    (as in the fairness suite: correct answer k comes with the other correct answers k)."""
    namespace = {"np": np, "__name__": "student"}
    with contextlib.redirect_stdout(io.StringIO()):
        for other, sources in module.CORRECT.items():
            if other != cell:
                exec(sources[min(base, len(sources) - 1)], namespace)
        try:
            exec(source, namespace)
        except SystemExit:
            pass
    return namespace


def fairness_families(exercise):
    """(family, functions, expected) from the fairness suite's answers for this exercise."""
    import importlib
    try:
        module = importlib.import_module(f"fairness.nb{exercise.notebook[:2]}")
    except ImportError:
        return []
    found = []
    for table, verdict in (("WRONG", "fail"), ("CORRECT", "pass")):
        for cell, sources in getattr(module, table, {}).items():
            if cell != exercise.answer_cell:  # only the exercise's own answer cell
                continue
            for k, source in enumerate(sources, start=1):
                namespace = _exec_cells(module, cell, source, k - 1 if verdict == "pass" else 0)
                fns = [namespace.get(n) for n in exercise.function_names]
                if all(callable(f) for f in fns):
                    label = f"fairness {table.lower()} {cell} #{k}"
                    found.append((("CORRECT: " if verdict == "pass" else "") + label, fns,
                                  verdict))
    return found


def families(exercise):
    out = []
    for mistake in exercise.mistakes:
        if callable(mistake.implementation):
            fns = list(exercise.reference_fns)
            fns[mistake.replaces] = mistake.implementation
            out.append((f"registered: {mistake.label}", fns, "fail"))
    for label, index, fn, verdict in NAMED.get(exercise.name, []):
        fns = list(exercise.reference_fns)
        fns[index] = fn
        out.append((f"issue: {label}", fns, verdict))
    return out + fairness_families(exercise)


# ----------------------------------------------------------------------------- measuring

def passes(name, fns, seeds):
    with warnings.catch_warnings(), np.errstate(all="ignore"), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            grading.check(name, *fns, seeds=list(seeds))
            return True
        except (grading.CheckFailure, NotImplementedError):
            return False
        except Exception:  # a crash inside our own family code counts as caught
            return False


def measure(name, fns, gradings, seconds, rng):
    """(caught by visible, wrong verdicts / gradings run, gradings run)."""
    exercise = grading.get_exercise(name)
    visible = not passes(name, fns, exercise.visible_seeds)
    slipped, run, start = 0, 0, time.perf_counter()
    while run < gradings and (run < 20 or time.perf_counter() - start < seconds):
        seeds = rng.integers(0, 2**32, size=grading.HIDDEN_CASES, dtype=np.uint64)
        slipped += passes(name, fns, [int(s) for s in seeds])
        run += 1
    return visible, slipped, run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gradings", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="time budget per family (at least 20 gradings each)")
    parser.add_argument("--exercise", action="append", help="only these exercises")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(20261206)
    names = args.exercise or grading.exercise_names()
    print("| exercise | family | visible catches | P(hidden cases give the wrong verdict) |")
    print("|---|---|---|---|")
    for name in names:
        for label, fns, verdict in families(grading.get_exercise(name)):
            visible, wrong, run = measure(name, fns, args.gradings, args.seconds, rng)
            if verdict == "pass":  # a correct answer: a wrong verdict is a failure
                visible_text = "FAILS (unfair)" if visible else "passes"
                wrong = run - wrong
            else:
                visible_text = "yes" if visible else "no"
            print(f"| {name} | {label} | {visible_text} | {wrong}/{run} = {wrong / run:.3f} |",
                  flush=True)


if __name__ == "__main__":
    main()
