"""Exercises of notebook 06 (batch normalization).

- batchnorm_forward: graded over a short sequence of calls (train, train, test) whose bn_param
  carries the running averages; every call compares `out` AND the running averages left in
  bn_param with the reference. The cache is the student's own and is never compared.
- batchnorm_backward / batchnorm_backward_alt: graded together with the student's own forward
  (their cache format is theirs): (dx, dgamma, dbeta) must match the reference and the
  numerical gradient of the student's forward, on a batch of N >= 3 (a batch of one would make
  the gradient check vacuous: see gradient_check.require_batch_of_several).

The known mistakes are written as a student would write them, with only `np`, and return the
cache layout of the notebook's solution (a dict), so tests can paste them into the notebook.
"""
import copy

import numpy as np

from cs231n_lib import gradient_check, layers
from cs231n_lib.exercises._habits import add_signature_habits, hints, key_habit
from cs231n_lib.grading import (
    CheckFailure, Exercise, GradingAbort, Mistake, compare_outputs, exception_name, fail, register,
)
from cs231n_lib.i18n import N_, tr

NOTEBOOK = "06_batch_normalization"
RTOL = 1e-6
ATOL = 1e-10
# Norm-form error against the numerical gradient of the student's own forward (G11: below 1e-7
# is great, about 1e-5 means look again). A correct pair stays below ~3e-7 on these cases.
NUMERIC_TOL = 1e-5
GRAD_NAMES = gradient_check.BATCHNORM_GRAD_NAMES


_fail = fail
_relay = exception_name


# ============================================================================ forward mistakes

def batchnorm_forward_unbiased_variance(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.ones(D))
    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0, ddof=1)  # the sample variance, divided by N - 1
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    centered = x - mean
    std = np.sqrt(var + eps)
    x_hat = centered / std
    out = gamma * x_hat + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    cache = {"x_hat": x_hat, "centered": centered, "var": var, "std": std, "eps": eps,
             "gamma": gamma}
    return out, cache


def batchnorm_forward_eps_outside_sqrt(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.ones(D))
    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    centered = x - mean
    std = np.sqrt(var) + eps
    x_hat = centered / std
    out = gamma * x_hat + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    cache = {"x_hat": x_hat, "centered": centered, "var": var, "std": std, "eps": eps,
             "gamma": gamma}
    return out, cache


def batchnorm_forward_updates_in_test(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.ones(D))
    batch_mean = x.mean(axis=0)
    batch_var = x.var(axis=0)
    running_mean = momentum * running_mean + (1 - momentum) * batch_mean
    running_var = momentum * running_var + (1 - momentum) * batch_var
    if mode == "train":
        mean, var = batch_mean, batch_var
    else:
        mean, var = running_mean, running_var
    centered = x - mean
    std = np.sqrt(var + eps)
    x_hat = centered / std
    out = gamma * x_hat + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    cache = {"x_hat": x_hat, "centered": centered, "var": var, "std": std, "eps": eps,
             "gamma": gamma}
    return out, cache


def batchnorm_forward_momentum_swapped(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.ones(D))
    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var
    else:
        mean, var = running_mean, running_var
    centered = x - mean
    std = np.sqrt(var + eps)
    x_hat = centered / std
    out = gamma * x_hat + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    cache = {"x_hat": x_hat, "centered": centered, "var": var, "std": std, "eps": eps,
             "gamma": gamma}
    return out, cache


def batchnorm_forward_batch_stats_in_test(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.ones(D))
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    if mode == "train":
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    centered = x - mean
    std = np.sqrt(var + eps)
    x_hat = centered / std
    out = gamma * x_hat + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    cache = {"x_hat": x_hat, "centered": centered, "var": var, "std": std, "eps": eps,
             "gamma": gamma}
    return out, cache


def batchnorm_forward_unbiased_running_var(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.ones(D))
    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var * N / (N - 1)
    else:
        mean, var = running_mean, running_var
    centered = x - mean
    std = np.sqrt(var + eps)
    x_hat = centered / std
    out = gamma * x_hat + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    cache = {"x_hat": x_hat, "centered": centered, "var": var, "std": std, "eps": eps,
             "gamma": gamma}
    return out, cache


FORWARD_MISTAKES = [
    Mistake("unbiased variance (ddof=1)",
            "Batch normalization standardizes with the variance of the batch itself, "
            "sum((x - mean)**2) / N, i.e. x.var(axis=0) with the default ddof=0 — not the "
            "sample variance with N - 1 (ddof=1). It is also the biased variance that goes into "
            "running_var.", batchnorm_forward_unbiased_variance),
    Mistake("eps outside the square root",
            "Divide by sqrt(var + eps), not sqrt(var) + eps. eps belongs under the root: it keeps "
            "the division finite when a feature has (nearly) zero variance, and outside it barely "
            "changes anything — features with a small variance come out far too large.",
            batchnorm_forward_eps_outside_sqrt),
    Mistake("running averages updated in test mode",
            "Only training batches may change running_mean and running_var. In test mode use them "
            "as they are and leave bn_param unchanged — otherwise evaluating the model changes "
            "the model, and predictions depend on which test data were seen before.",
            batchnorm_forward_updates_in_test),
    Mistake("momentum applied to the wrong term",
            "momentum is the weight of the OLD running value: running = momentum * running + "
            "(1 - momentum) * batch statistic. With momentum 0.9 your update keeps only 10% of "
            "the history, so the running averages jump around with every batch.",
            batchnorm_forward_momentum_swapped),
    Mistake("batch statistics in test mode",
            "In test mode normalize with running_mean and running_var, not with the mean and "
            "variance of the test batch: a prediction must not depend on which other examples "
            "share its batch (and a batch of one would give x_hat = 0 for every input).",
            batchnorm_forward_batch_stats_in_test),
    Mistake("unbiased variance in the running average",
            "This course (like the CS231n code) keeps the biased batch variance, x.var(axis=0), "
            "in running_var. Rescaling it by N / (N - 1) is PyTorch's convention, not this one.",
            batchnorm_forward_unbiased_running_var),
]


# ============================================================================ forward check

def _forward_plan(rng):
    """gamma, beta and three calls (description, x, bn_param keys) whose state carries over.

    Feature scales range from 1e-3 to 10 (eps matters for the smallest) and feature means are
    far from 0, so the running averages (which start at 0 and 1) differ from batch statistics.
    """
    num_examples, num_features = int(rng.integers(4, 9)), int(rng.integers(3, 7))
    scale = 10.0 ** rng.uniform(-3.0, 1.0, num_features)
    tiny, large = rng.permutation(num_features)[:2]
    scale[tiny], scale[large] = 10.0 ** rng.uniform(-3.0, -2.5), 10.0 ** rng.uniform(0.0, 1.0)
    shift = rng.normal(0.0, 3.0, num_features)
    xs = [shift + scale * rng.standard_normal((num_examples, num_features)) for _ in range(3)]
    gamma = rng.uniform(0.5, 2.0, num_features) * rng.choice([-1.0, 1.0], num_features)
    beta = rng.normal(0.0, 1.0, num_features)
    momentum = float(rng.uniform(0.6, 0.8))
    eps = float(10.0 ** rng.uniform(-4.0, -2.0))
    steps = [
        # No values: str.format would read the dict's braces as a field.
        (N_("train mode, bn_param = {'mode': 'train'} without running averages "
            "(start them at zeros and ones; default eps and momentum)"), xs[0],
         {"mode": "train"}),
        (tr("train mode, momentum={momentum:.3f}, eps={eps:.2e}, running averages from the "
            "call before", momentum=momentum, eps=eps), xs[1],
         {"mode": "train", "momentum": momentum, "eps": eps}),
        (N_("test mode, running averages from the call before"), xs[2], {"mode": "test"}),
    ]
    return gamma, beta, steps


def _forward_step(fn, x, gamma, beta, state, keys):
    """Call fn on copies; return (out, running_mean, running_var) as found afterwards.

    Raises InputChanged when fn changed x, gamma or beta in place.
    """
    bn_param = copy.deepcopy(state)
    bn_param.update(keys)
    given = {"x": x.copy(), "gamma": gamma.copy(), "beta": beta.copy()}
    result = fn(given["x"], given["gamma"], given["beta"], bn_param)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError("batchnorm_forward must return a tuple (out, cache)")
    changed_inputs(given, {"x": x, "gamma": gamma, "beta": beta})
    return result[0], bn_param.get("running_mean"), bn_param.get("running_var"), bn_param


class InputChanged(Exception):
    """A student's function changed one of its array arguments in place."""


def changed_inputs(given, original):
    """Raise InputChanged naming the arrays of `given` that differ from `original`."""
    changed = [name for name, value in given.items()
               if not np.array_equal(value, original[name], equal_nan=True)]
    if changed:
        raise InputChanged(tr("changed {names} in place; compute new arrays instead (e.g. "
                              "x - mean, not x -= mean)", names=" and ".join(changed)))


def _reference_states(gamma, beta, steps):
    """bn_param before each call (the reference's), and the reference's results."""
    states, results, state = [], [], {}
    for _, x, keys in steps:
        states.append(state)
        out, mean, var, state = _forward_step(layers.batchnorm_forward, x, gamma, beta, state,
                                              keys)
        results.append((out, mean, var))
    return states, results


def _quiet_results(fn, gamma, beta, steps, states):
    """A known mistake's results on every call, or None if it fails on these inputs."""
    try:
        with np.errstate(all="ignore"):
            return [_forward_step(fn, x, gamma, beta, state, keys)[:3]
                    for (_, x, keys), state in zip(steps, states)]
    except Exception:
        return None


def _forward_mistake(student_results, gamma, beta, steps, states):
    for mistake in FORWARD_MISTAKES:
        wrong = _quiet_results(mistake.implementation, gamma, beta, steps, states)
        if wrong is not None and compare_outputs(student_results, wrong, RTOL, ATOL) is None:
            return mistake
    return None


STATE_NAMES = ("out", "bn_param['running_mean']", "bn_param['running_var']")


def _forward_call(x_shape, i, calls, what):
    return tr("batchnorm_forward(x {shape}, gamma, beta, bn_param), call {i} of {calls} "
              "({what})", shape=x_shape, i=i, calls=calls, what=tr(what))


def check_batchnorm_forward(rng, forward):
    """Three calls (train, train, test); each compares out and the running averages."""
    gamma, beta, steps = _forward_plan(rng)
    states, expected = _reference_states(gamma, beta, steps)
    x_shape = steps[0][1].shape
    student = []
    for i, ((what, x, keys), state) in enumerate(zip(steps, states), start=1):
        call = _forward_call(x_shape, i, len(steps), what)
        try:
            out, mean, var, _ = _forward_step(forward, x, gamma, beta, state, keys)
        except InputChanged as exc:
            _fail(tr("{call}: your function {problem}", call=call, problem=exc))
        except (NotImplementedError, GradingAbort):
            raise
        except Exception as exc:
            raise CheckFailure(tr("{call} raised {error}: {message}", call=call,
                                  error=_relay(exc), message=exc)
                               + hints("batchnorm_forward", exc)) from exc
        if mean is None or var is None:
            _fail(call + tr(": after the call bn_param has no 'running_mean'/'running_var'. "
                            "Store the (updated) running averages back into bn_param, e.g. "
                            "bn_param['running_mean'] = running_mean."))
        student.append((out, mean, var))
    for i, ((what, _, keys), state, got, want) in enumerate(
            zip(steps, states, student, expected), start=1):
        problem = compare_outputs(got, want, RTOL, ATOL, names=STATE_NAMES)
        if problem is None:
            continue
        call = _forward_call(x_shape, i, len(steps), what)
        message = f"{call}: {problem}."
        mistake = _forward_mistake(student, gamma, beta, steps, states)
        if mistake is None and keys["mode"] == "test" and (
                compare_outputs(got[1:], (state["running_mean"], state["running_var"]),
                                RTOL, ATOL) is not None):
            message += "\n" + tr("Hint: test mode must leave the running averages unchanged.")
        _fail(message, mistake)


BN_PARAM_HABIT = key_habit(
    "bn_param", ("mode", "eps", "momentum", "running_mean", "running_var"),
    "only 'mode' is always there (the first call has no running averages yet): read the "
    "others with bn_param.get(key, default), running averages starting at zeros and ones")

register(Exercise(
    name="batchnorm_forward", notebook=NOTEBOOK, reference=layers.batchnorm_forward,
    custom_check=check_batchnorm_forward, mistakes=FORWARD_MISTAKES, rtol=RTOL,
    habits=(BN_PARAM_HABIT,),
))


# ============================================================================ backward mistakes
# They read the cache of the notebook's solution (a dict), which the reference's cache also has.

def batchnorm_backward_unsummed_params(dout, cache):
    x_hat, centered, std, gamma = cache["x_hat"], cache["centered"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dbeta = dout
    dgamma = dout * x_hat
    dx_hat = dout * gamma
    dcentered = dx_hat / std
    dstd = -np.sum(dx_hat * centered, axis=0) / std**2
    dvar = dstd / (2 * std)
    dcentered += 2 * centered * dvar / N
    dmean = -np.sum(dcentered, axis=0)
    dx = dcentered + dmean / N
    return dx, dgamma, dbeta


def batchnorm_backward_no_mean_term(dout, cache):
    x_hat, std, gamma = cache["x_hat"], cache["std"], cache["gamma"]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dx = dx_hat / std  # mean and variance treated as constants
    return dx, dgamma, dbeta


def batchnorm_backward_unbiased_var(dout, cache):
    x_hat, centered, std, gamma = cache["x_hat"], cache["centered"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dcentered = dx_hat / std
    dstd = -np.sum(dx_hat * centered, axis=0) / std**2
    dvar = dstd / (2 * std)
    dcentered += 2 * centered * dvar / (N - 1)
    dmean = -np.sum(dcentered, axis=0)
    dx = dcentered + dmean / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt_unsummed_params(dout, cache):
    x_hat, std, gamma = cache["x_hat"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dbeta = dout
    dgamma = dout * x_hat
    dx = gamma / (N * std) * (N * dout - dout.sum(axis=0) - x_hat * (dout * x_hat).sum(axis=0))
    return dx, dgamma, dbeta


def batchnorm_backward_alt_no_mean_term(dout, cache):
    x_hat, std, gamma = cache["x_hat"], cache["std"], cache["gamma"]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma * dout / std
    return dx, dgamma, dbeta


def batchnorm_backward_alt_unbiased_var(dout, cache):
    x_hat, std, gamma = cache["x_hat"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma / std * (dout - dout.mean(axis=0) - x_hat * (dout * x_hat).sum(axis=0) / (N - 1))
    return dx, dgamma, dbeta


_UNSUMMED = ("dgamma/dbeta not summed over the batch",
             "gamma and beta are shared by all N examples, so their gradients add up over the "
             "batch: dbeta = dout.sum(axis=0), dgamma = (dout * x_hat).sum(axis=0), both of "
             "shape (D,) like gamma and beta.")
_NO_MEAN = ("missing the mean term in dx (mean and variance treated as constants)",
            "The batch mean and variance are computed from x, so every x[i] also moves the "
            "output of every other example of the batch. dx needs those paths too: "
            "dx = gamma / std * (dout - mean(dout) - x_hat * mean(dout * x_hat)), means over the "
            "batch.")
_UNBIASED = ("biased/unbiased variance mismatch",
             "The forward pass divides the sum of squares by N (biased variance), so the "
             "backward pass must use d var / d x_i = 2 (x_i - mean) / N, not / (N - 1).")

BACKWARD_MISTAKES = [
    Mistake(*_UNSUMMED, batchnorm_backward_unsummed_params, replaces=1),
    Mistake(*_NO_MEAN, batchnorm_backward_no_mean_term, replaces=1),
    Mistake(*_UNBIASED, batchnorm_backward_unbiased_var, replaces=1),
]
BACKWARD_ALT_MISTAKES = [
    Mistake(*_UNSUMMED, batchnorm_backward_alt_unsummed_params, replaces=1),
    Mistake(*_NO_MEAN, batchnorm_backward_alt_no_mean_term, replaces=1),
    Mistake(*_UNBIASED, batchnorm_backward_alt_unbiased_var, replaces=1),
]


# ============================================================================ backward checks

def _backward_case(rng):
    """x (N, D) with N >= 3 (N = 1 is vacuous, N = 2 nearly so), gamma, beta, dout."""
    num_examples, num_features = int(rng.integers(3, 9)), int(rng.integers(3, 7))
    scale = 10.0 ** rng.uniform(-1.0, 1.0, num_features)
    x = rng.normal(0.0, 3.0, num_features) + scale * rng.standard_normal(
        (num_examples, num_features))
    gamma = rng.uniform(0.5, 2.0, num_features) * rng.choice([-1.0, 1.0], num_features)
    beta = rng.normal(0.0, 1.0, num_features)
    dout = rng.standard_normal((num_examples, num_features))
    return x, gamma, beta, dout


def _backward_mistake(mistakes, grads, dout, caches):
    """The first known mistake whose gradients equal the student's, on any of the caches."""
    for mistake in mistakes:
        for cache in caches:
            try:
                with np.errstate(all="ignore"):
                    wrong = mistake.implementation(dout.copy(), copy.deepcopy(cache))
            except Exception:  # e.g. the student's cache has another layout
                continue
            if compare_outputs(grads, wrong, RTOL, ATOL, names=GRAD_NAMES) is None:
                return mistake
    return None


def _numeric_summary(forward, backward, x, gamma, beta, dout):
    """The gradient check of the student's pair as text, or why it could not run."""
    try:
        report = gradient_check.batchnorm_grad_check(forward, backward, x, gamma, beta, dout)
    except (NotImplementedError, GradingAbort):
        raise
    except Exception as exc:
        return None, tr("The numerical gradient check could not run: {problem}", problem=exc)
    errors = ", ".join(f"{name} {err:.1e}" for name, err in report.norm_errors.items())
    return report, tr("Against the numerical gradient of your own batchnorm_forward the "
                      "norm-form relative errors are: {errors} (below {tolerance:.0e} passes).",
                      errors=errors, tolerance=NUMERIC_TOL)


def check_backward_on(name, reference_backward, mistakes, forward, backward,
                      x, gamma, beta, dout):
    """Grade the student's forward + backward pair on one case (x must hold N >= 2 examples)."""
    gradient_check.require_batch_of_several(x, f"the {name} check")
    call = tr("{name}(dout {dout_shape}, cache) with the cache of your batchnorm_forward"
              "(x {x_shape}, gamma, beta, {mode})", name=name, dout_shape=dout.shape,
              x_shape=x.shape, mode="{'mode': 'train'}")
    try:
        given = {"x": x.copy(), "gamma": gamma.copy(), "beta": beta.copy()}
        result = forward(given["x"], given["gamma"], given["beta"], {"mode": "train"})
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError("batchnorm_forward must return a tuple (out, cache)")
        out, cache = result
        changed_inputs(given, {"x": x, "gamma": gamma, "beta": beta})
    except InputChanged as exc:
        raise CheckFailure(tr("{call}: your batchnorm_forward {problem}; pass "
                              "test_batchnorm_forward first — the backward pass is graded with "
                              "it", call=call, problem=exc))
    except (NotImplementedError, GradingAbort):
        raise
    except Exception as exc:
        raise CheckFailure(tr("{call}: your batchnorm_forward raised {error}: {message}",
                              call=call, error=_relay(exc), message=exc)
                           + hints("batchnorm_forward", exc)) from exc
    try:
        given_dout = dout.copy()
        grads = backward(given_dout, copy.deepcopy(cache))
        changed_inputs({"dout": given_dout}, {"dout": dout})
    except InputChanged as exc:
        raise CheckFailure(tr("{call}: your {name} {problem}", call=call, name=name,
                              problem=exc))
    except (NotImplementedError, GradingAbort):
        raise
    except Exception as exc:
        raise CheckFailure(tr("{call} raised {error}: {message}", call=call, error=_relay(exc),
                              message=exc) + hints(name, exc)) from exc
    ref_out, ref_cache = layers.batchnorm_forward(x.copy(), gamma.copy(), beta.copy(),
                                                  {"mode": "train"})
    expected = reference_backward(dout.copy(), ref_cache)
    problem = compare_outputs(grads, expected, RTOL, ATOL, names=GRAD_NAMES)
    report, numeric_text = _numeric_summary(forward, backward, x, gamma, beta, dout)
    if problem is None:
        if report is None or report.max_norm_error > NUMERIC_TOL:
            _fail(tr("{call}: your gradients equal the reference's, but they do not agree "
                     "with the numerical gradient of your batchnorm_forward. {numeric}",
                     call=call, numeric=numeric_text))
        return
    message = f"{call}: {problem}."
    forward_problem = compare_outputs(out, ref_out, RTOL, ATOL)
    if forward_problem is not None:
        message += "\n" + tr("Your batchnorm_forward is wrong too (its out differs from the "
                             "reference): pass test_batchnorm_forward first — the backward pass "
                             "is graded with it.")
    message += "\n" + numeric_text
    _fail(message, _backward_mistake(mistakes, grads, dout, [cache, ref_cache]))


def _backward_checker(name, reference_backward, mistakes):
    def check(rng, forward, backward):
        check_backward_on(name, reference_backward, mistakes, forward, backward,
                          *_backward_case(rng))
    check.__name__ = f"check_{name}"
    return check


register(Exercise(
    name="batchnorm_backward", notebook=NOTEBOOK,
    custom_check=_backward_checker("batchnorm_backward", layers.batchnorm_backward,
                                   BACKWARD_MISTAKES),
    reference_fns=(layers.batchnorm_forward, layers.batchnorm_backward),
    mistakes=BACKWARD_MISTAKES, rtol=RTOL, output_names=GRAD_NAMES, habits=(BN_PARAM_HABIT,),
))

register(Exercise(
    name="batchnorm_backward_alt", notebook=NOTEBOOK,
    custom_check=_backward_checker("batchnorm_backward_alt", layers.batchnorm_backward_alt,
                                   BACKWARD_ALT_MISTAKES),
    reference_fns=(layers.batchnorm_forward, layers.batchnorm_backward_alt),
    mistakes=BACKWARD_ALT_MISTAKES, rtol=RTOL, output_names=GRAD_NAMES,
    habits=(BN_PARAM_HABIT,),
))


add_signature_habits(NOTEBOOK)
