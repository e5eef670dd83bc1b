"""Exercises of notebook 07 (regularization): the L2 penalty and inverted dropout.

`l2_penalty` is compared with the reference on random parameter dicts. Dropout is random, so
`dropout_forward` and `dropout_backward` are graded together by properties of their outputs
(never by the exact mask): what a kept entry holds, how many are kept, that a seed fixes the
mask, that test mode is the identity and that backward reuses the forward mask.
"""
import math

import numpy as np

from cs231n_lib import layers, losses
from cs231n_lib.exercises._habits import (
    add_signature_habits, results_with_habits, run_with_habits,
)
from cs231n_lib.grading import Case, Exercise, Habit, Mistake, fail, register
from cs231n_lib.i18n import tr

NOTEBOOK = "07_regularization"


# ----------------------------------------------------------------------------- L2 penalty

def _l2_case(rng):
    """A parameter dict of a 2-4 layer net (biases non-zero, sometimes batchnorm's gamma/beta)."""
    num_layers = int(rng.integers(2, 5))
    dims = [int(d) for d in rng.integers(2, 7, size=num_layers + 1)]
    with_batchnorm = bool(rng.random() < 0.5)
    params = {}
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        params[f"W{i}"] = rng.standard_normal((n_in, n_out)) * rng.uniform(0.1, 2.0)
        params[f"b{i}"] = rng.standard_normal(n_out) * 0.5
        if with_batchnorm and i < num_layers:
            params[f"gamma{i}"] = 1.0 + 0.3 * rng.standard_normal(n_out)
            params[f"beta{i}"] = 0.3 * rng.standard_normal(n_out)
    reg = float(10 ** rng.uniform(-2, 0.5))
    return Case((params, reg))


def l2_penalty_on_biases_too(params, reg):
    penalty = 0.0
    grads = {}
    for name, value in params.items():
        penalty += 0.5 * reg * np.sum(value ** 2)
        grads[name] = reg * value
    return penalty, grads


def l2_penalty_without_half(params, reg):
    penalty = 0.0
    grads = {}
    for name, value in params.items():
        if name.startswith("W"):
            penalty += reg * np.sum(value ** 2)
            grads[name] = 2 * reg * value
        else:
            grads[name] = np.zeros_like(value)
    return penalty, grads


def l2_penalty_norm_not_squared(params, reg):
    penalty = 0.0
    grads = {}
    for name, value in params.items():
        if name.startswith("W"):
            penalty += 0.5 * reg * np.linalg.norm(value)
            grads[name] = reg * value
        else:
            grads[name] = np.zeros_like(value)
    return penalty, grads


register(Exercise(
    name="l2_penalty", notebook=NOTEBOOK, reference=losses.l2_penalty, make_case=_l2_case,
    output_names=("penalty", "grads"), rtol=1e-9,
    mistakes=[
        Mistake("penalty on the biases too",
                "Weight decay penalizes only the weight matrices (keys starting with 'W'). "
                "Biases (and batchnorm's gamma/beta) do not multiply the inputs, so shrinking "
                "them does not make the function smoother; their gradient entries must be "
                "zeros.", l2_penalty_on_biases_too),
        Mistake("missing 1/2 in the penalty",
                "The penalty is reg/2 * sum(W**2): the 1/2 is there so that its gradient is "
                "simply reg * W. Without it the penalty is twice as large and the gradient "
                "2 * reg * W.", l2_penalty_without_half),
        Mistake("norm instead of squared norm",
                "np.linalg.norm(W) is the square root of sum(W**2). The L2 penalty uses the "
                "squared norm, sum(W**2), whose gradient is proportional to W.",
                l2_penalty_norm_not_squared),
    ],
))


# ----------------------------------------------------------------------------- dropout

def dropout_forward_not_inverted(x, dropout_param):
    keep_prob = dropout_param["keep_prob"]
    if dropout_param["mode"] == "test":
        return x * keep_prob, (dropout_param, None)
    mask = np.random.default_rng(dropout_param.get("seed")).random(x.shape) < keep_prob
    return x * mask, (dropout_param, mask)


def dropout_backward_new_mask(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "test" or mask is None:
        return dout
    keep_prob = dropout_param["keep_prob"]
    mask = np.random.default_rng().random(dout.shape) < keep_prob
    return dout * mask / keep_prob


def dropout_forward_also_in_test(x, dropout_param):
    keep_prob = dropout_param["keep_prob"]
    mask = np.random.default_rng(dropout_param.get("seed")).random(x.shape) < keep_prob
    return x * mask / keep_prob, (dropout_param, mask)


def dropout_forward_keep_as_drop(x, dropout_param):
    drop_prob = dropout_param["keep_prob"]
    if dropout_param["mode"] == "test":
        return x, (dropout_param, None)
    mask = np.random.default_rng(dropout_param.get("seed")).random(x.shape) >= drop_prob
    return x * mask / (1 - drop_prob), (dropout_param, mask)


def _run(call, fn, *args, **kwargs):
    return run_with_habits("dropout", call, fn, *args, **kwargs)


NOT_INVERTED = Mistake(
    "non-inverted dropout",
    "Inverted dropout divides the kept units by keep_prob during training, so each unit's "
    "expected value stays the same and test mode can return x unchanged. Multiplying only by "
    "the mask (and scaling by keep_prob at test time) is the original, non-inverted form.",
    dropout_forward_not_inverted, replaces=0)
MASK_REGENERATED = Mistake(
    "mask regenerated in backward",
    "dropout_backward must use the mask the forward pass drew (keep it in the cache): a unit "
    "that was dropped had no effect on the loss, so its gradient is exactly 0, and a kept "
    "unit's gradient is dout / keep_prob.",
    dropout_backward_new_mask, replaces=1)
ACTIVE_IN_TEST = Mistake(
    "dropout active in test mode",
    "At test time every unit is used: with mode 'test' dropout_forward must return x "
    "unchanged (inverted dropout already did the scaling during training).",
    dropout_forward_also_in_test, replaces=0)
KEEP_AS_DROP = Mistake(
    "keep_prob used as the drop probability",
    "keep_prob is the probability of KEEPING a unit: keep it where a uniform number is below "
    "keep_prob, and divide the kept units by keep_prob (not by 1 - keep_prob).",
    dropout_forward_keep_as_drop, replaces=0)

# A fraction measured on n independent units may differ from its probability by this many
# binomial standard deviations before the check calls it wrong (a false alarm ~1e-9).
NUM_STD = 6.0


def _fail(call, problem, mistake=None):
    fail(f"{call}: {problem}", mistake)


def _as_float_array(call, name, value, shape):
    try:
        value = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(call, tr("{name} should be an array of numbers, got {type}", name=name,
                       type=type(value).__name__))
    if value.shape != shape:
        _fail(call, tr("{name} has shape {shape}, expected {expected} (the shape of the input)",
                       name=name, shape=value.shape, expected=shape))
    return value


def _forward_call(x, keep_prob, mode, seed):
    return (f"dropout_forward(x{x.shape}, {{'keep_prob': {keep_prob}, 'mode': {mode!r}, "
            f"'seed': {seed}}})")


def _forward(dropout_forward, x, keep_prob, mode, seed):
    """(out as a float array, cache, call text) of the student's forward on a copy of x."""
    call = _forward_call(x, keep_prob, mode, seed)
    x_copy = x.copy()
    result = _run(call, dropout_forward, x_copy, {"keep_prob": keep_prob, "mode": mode,
                                                  "seed": seed})
    return _forward_result(call, x, x_copy, result)


def _forwards(dropout_forward, x, specs):
    """_forward for each (keep_prob, mode, seed) of specs, in order, the calls made as one
    batch (in the grader one message); each result is checked when it is reached, so the
    first problem is the one calls made one at a time would meet."""
    texts = [_forward_call(x, *spec) for spec in specs]
    copies = [x.copy() for _ in specs]
    calls = [((x_copy, {"keep_prob": keep_prob, "mode": mode, "seed": seed}), {})
             for x_copy, (keep_prob, mode, seed) in zip(copies, specs)]
    results = results_with_habits("dropout", texts, dropout_forward, calls)
    for call, x_copy, result in zip(texts, copies, results):
        yield _forward_result(call, x, x_copy, result)


def _forward_result(call, x, x_copy, result):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        _fail(call, tr("should return a pair (out, cache)"))
    if not np.array_equal(x_copy, x):
        _fail(call, tr("changed x in place; return a new array instead"))
    return _as_float_array(call, "out", result[0], x.shape), result[1], call


def _close(a, b):
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-12))


def _train_specs(keep_prob, seed):
    """The forward calls of _check_train_forward, then of _check_identity_cases, in order."""
    return [(keep_prob, "train", seed), (keep_prob, "train", seed),
            (keep_prob, "train", seed + 1), (keep_prob, "train", None),
            (keep_prob, "train", None), (keep_prob, "test", 1), (1.0, "train", 1)]


def _check_train_forward(forwards, x, keep_prob):
    """Kept fraction, values of kept entries, preserved mean, and the seed's effect.

    forwards: the results of the forward calls of _train_specs (see _forwards)."""
    out, _, call = next(forwards)
    n = x.size
    kept = out != 0  # x has no zeros, so a zero in out is a dropped unit
    fraction = float(kept.mean())
    tolerance = NUM_STD * math.sqrt(keep_prob * (1 - keep_prob) / n) + 1e-3
    if fraction == 1.0:
        _fail(call, tr("dropped no unit at all in train mode; keep each unit with probability "
                       "keep_prob"))
    if abs(fraction - (1 - keep_prob)) <= tolerance:
        _fail(call, tr("kept {fraction:.3f} of the units, close to 1 - keep_prob = "
                       "{drop:.2f} instead of keep_prob = {keep_prob}", fraction=fraction,
                       drop=1 - keep_prob, keep_prob=keep_prob), KEEP_AS_DROP)
    if abs(fraction - keep_prob) > tolerance:
        _fail(call, tr("kept {fraction:.3f} of the units; with keep_prob = {keep_prob} about "
                       "{keep_prob} (± {tolerance:.3f}) of them should be kept",
                       fraction=fraction, keep_prob=keep_prob, tolerance=tolerance))
    ratio = out[kept] / x[kept]
    if not _close(ratio, 1 / keep_prob):
        if _close(ratio, 1.0):
            mistake = NOT_INVERTED
        elif _close(ratio, 1 / (1 - keep_prob)):
            mistake = KEEP_AS_DROP
        else:
            mistake = None
        hint = (tr(" (multiplied by keep_prob instead of dividing?)")
                if _close(ratio, keep_prob) else "")
        _fail(call, tr("a kept entry should be x / keep_prob = {scale:.4g} * x, but out / x "
                       "ranges from {low:.4g} to {high:.4g} on the kept entries{hint}",
                       scale=1 / keep_prob, low=ratio.min(), high=ratio.max(), hint=hint),
              mistake)
    # The scaling makes out an unbiased estimate of x: compare the means within a few stds.
    std_of_mean = math.sqrt(float(np.sum(x * x)) * (1 / keep_prob - 1)) / n
    if abs(out.mean() - x.mean()) > NUM_STD * std_of_mean + 1e-12:
        _fail(call, tr("mean(out) = {out_mean:.4f} but mean(x) = {x_mean:.4f}: inverted "
                       "dropout keeps the expected value of every unit", out_mean=out.mean(),
                       x_mean=x.mean()))
    again, _, _ = next(forwards)
    if not np.array_equal(again, out):
        _fail(call, tr("two calls with the same seed gave different outputs; draw the mask "
                       "from np.random.default_rng(dropout_param['seed'])"))
    other, _, _ = next(forwards)
    if np.array_equal(other != 0, kept):
        _fail(call, tr("calls with different seeds dropped exactly the same units; draw the "
                       "mask from np.random.default_rng(dropout_param['seed'])"))
    first, _, _ = next(forwards)
    second, _, call_none = next(forwards)
    if np.array_equal(first != 0, second != 0):
        _fail(call_none, tr("two training passes with seed None dropped exactly the same "
                            "units; every forward pass must draw a new random mask"))


def _check_identity_cases(forwards, x, keep_prob):
    """Test mode and keep_prob = 1 must return x unchanged (the last two of _train_specs)."""
    out, _, call = next(forwards)
    if not _close(out, x):
        if np.any(out == 0):
            mistake = ACTIVE_IN_TEST
        elif _close(out, x * keep_prob):
            mistake = NOT_INVERTED
        else:
            mistake = None
        _fail(call, tr("in test mode every unit is used and nothing is scaled: out must equal "
                       "x"), mistake)
    out, _, call = next(forwards)
    if not _close(out, x):
        _fail(call, tr("with keep_prob = 1 no unit is dropped and nothing is scaled: out must "
                       "equal x"))


def _backward(dropout_backward, dout, cache, forward_call):
    call = tr("dropout_backward(dout{shape}, cache) after {forward_call}", shape=dout.shape,
              forward_call=forward_call)
    dout_copy = dout.copy()
    dx = _run(call, dropout_backward, dout_copy, cache)
    if not np.array_equal(dout_copy, dout):
        _fail(call, tr("changed dout in place; return a new array instead"))
    return _as_float_array(call, "dx", dx, dout.shape), call


def _check_backward(dropout_forward, dropout_backward, x, keep_prob, rng):
    """dx = dout * mask / keep_prob with the forward pass's own mask; identity in test mode."""
    dout = rng.standard_normal(x.shape)
    # seed None: a backward that draws the mask again gets a different one.
    out, cache, forward_call = _forward(dropout_forward, x, keep_prob, "train", None)
    later, _, _ = _forward(dropout_forward, x, keep_prob, "train", None)  # must not interfere
    dx, call = _backward(dropout_backward, dout, cache, forward_call)
    kept = out != 0
    expected = np.where(kept, dout / keep_prob, 0.0)
    if not _close(dx, expected):
        nonzero = dx != 0
        if not np.any(~nonzero):
            _fail(call, tr("dx has no zeros, but the gradient of every dropped unit is 0"))
        if np.array_equal(nonzero, kept):
            ratio = dx[kept] / dout[kept]
            mistake = KEEP_AS_DROP if _close(ratio, 1 / (1 - keep_prob)) else None
            _fail(call, tr("dx is zero in the right places, but a kept unit's gradient should "
                           "be dout / keep_prob = {scale:.4g} * dout; dx / dout ranges from "
                           "{low:.4g} to {high:.4g}", scale=1 / keep_prob, low=ratio.min(),
                           high=ratio.max()), mistake)
        if np.array_equal(nonzero, later != 0):
            _fail(call, tr("dx used the mask of a LATER forward call, not the one in its cache "
                           "(is the mask kept in a global variable?)"), MASK_REGENERATED)
        agree = float(np.mean(nonzero == kept))
        _fail(call, tr("the zeros of dx should be exactly where the forward pass dropped units; "
                       "they agree on only {agree:.1%} of the entries", agree=agree),
              MASK_REGENERATED)
    _, cache, forward_call = _forward(dropout_forward, x, keep_prob, "test", None)
    dx, call = _backward(dropout_backward, dout, cache, forward_call)
    if not _close(dx, dout):
        _fail(call, tr("in test mode dropout is the identity, so dx must equal dout"))


def _dropout_input(rng):
    """Positive x of 2 or 3 dimensions with 10k-25k entries, and keep_prob away from 0.5."""
    if rng.random() < 0.5:
        shape = (int(rng.integers(80, 160)), int(rng.integers(120, 160)))
    else:
        shape = (int(rng.integers(8, 16)), int(rng.integers(20, 30)), int(rng.integers(60, 80)))
    x = rng.uniform(0.5, 2.0, size=shape)
    # Far from 0.5, so that keep_prob and 1 - keep_prob give clearly different kept fractions.
    low, high = rng.uniform(0.25, 0.4), rng.uniform(0.6, 0.85)
    keep_prob = round(float(low if rng.random() < 0.5 else high), 2)
    return x, keep_prob


def check_dropout(rng, dropout_forward, dropout_backward):
    """Grade inverted dropout by the properties of its outputs, on one random input."""
    x, keep_prob = _dropout_input(rng)
    forwards = _forwards(dropout_forward, x, _train_specs(keep_prob, int(rng.integers(2**31))))
    _check_train_forward(forwards, x, keep_prob)
    _check_identity_cases(forwards, x, keep_prob)
    _check_backward(dropout_forward, dropout_backward, x, keep_prob, rng)


register(Exercise(
    name="dropout", notebook=NOTEBOOK, custom_check=check_dropout,
    reference_fns=(layers.dropout_forward, layers.dropout_backward),
    mistakes=[NOT_INVERTED, MASK_REGENERATED, ACTIVE_IN_TEST, KEEP_AS_DROP],
    habits=(Habit("KeyError", r"^'p'$",
                  "This notebook's dropout reads dropout_param['keep_prob'], the probability of "
                  "KEEPING a unit; CS231n called it p (and its older versions used p for the "
                  "probability of dropping one)."),
            Habit("KeyError", r"^'(mode|seed)'$",
                  "dropout_param holds 'keep_prob' and 'mode' and may lack 'seed': read it "
                  "with dropout_param.get('seed')."),),
))


add_signature_habits(NOTEBOOK)
