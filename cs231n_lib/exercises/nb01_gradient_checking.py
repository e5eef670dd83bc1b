"""Exercises of notebook 01 (gradient checking): the centered numerical gradient, rel_error,
a gradient checker with error bands, affine_backward, and fixing a planted backward-pass bug.

Every known mistake below is written the way a student would write it (plain numpy, same
signature); the checker names it when a student's output equals its output.
"""
import functools

import numpy as np

from cs231n_lib import gradient_check, layers
from cs231n_lib.exercises._habits import add_signature_habits, unpack_habit
from cs231n_lib.grading import Case, Exercise, Mistake, check_case, register
from cs231n_lib.models import FullyConnectedNet

NOTEBOOK = "01_gradient_checking"


# ----------------------------------------------------------------------------- test functions

def smooth_test_function(x, c, v):
    """f(x) = sum(c * exp(x)) + (v . x)^2 / 2: smooth and not separable. x, c, v: same shape.

    The coupling term makes every partial derivative depend on all of x, so a gradient routine
    that forgets to restore x after perturbing it gives visibly different numbers.
    """
    return float(np.sum(c * np.exp(x)) + 0.5 * np.sum(v * x) ** 2)


def smooth_test_gradient(x, c, v):
    """Exact gradient of smooth_test_function, x's shape."""
    return c * np.exp(x) + v * np.sum(v * x)


# x on a grid of 2^-12 and h a power of two: x + h, x - h and even (x + h) - 2h + h are exact,
# so a student who restores x by arithmetic instead of saving the old value is not flagged
# for a change in the last bit.
def _on_grid(x):
    return np.round(x * 4096.0) / 4096.0


def _power_of_two_step(rng):
    return 2.0 ** -int(rng.integers(14, 18))  # 6.1e-5 ... 7.6e-6


def any_shape(rng, min_size=1, kinds=None):
    """A shape as the docstrings' "any shape" promises: 1-D, (1,), 2-D or 3-D.

    2-D, the shape of most examples, has probability 0.2 only, so code written for matrices
    alone (x[i, j] loops, x.shape[1]) meets another shape in almost every set of cases.
    """
    weights = {"1d": 0.35, "single": 0.1, "2d": 0.2, "3d": 0.35}
    kinds = kinds or tuple(weights)
    total = sum(weights[k] for k in kinds)
    kind = rng.choice(kinds, p=[weights[k] / total for k in kinds])
    if kind == "single" and min_size <= 1:
        return (1,)
    if kind == "2d":
        rows = int(rng.integers(2, 5))
        low = max(2, -(-min_size // rows))  # rows * cols >= min_size
        return (rows, int(rng.integers(low, max(low + 1, 6))))
    if kind == "3d":
        return tuple(int(n) for n in rng.integers(2, 4, size=3))
    return (int(rng.integers(max(2, min_size), 13)),)


def _smooth_problem(rng, kinds=None):
    """A point x of any shape and f = smooth_test_function(., c, v) (a partial: sendable)."""
    shape = any_shape(rng, kinds=kinds)
    x = _on_grid(rng.uniform(0.2, 1.5, size=shape))
    c = rng.uniform(1.0, 2.0, size=shape)
    v = rng.uniform(0.5, 1.0, size=shape)
    return functools.partial(smooth_test_function, c=c, v=v), x


# ----------------------------------------------------------------------------- eval_numerical_gradient

def _numerical_gradient_case(rng, kinds=None):
    f, x = _smooth_problem(rng, kinds)
    return Case((f, x), {"h": _power_of_two_step(rng)})


def _check_low_and_high_dimensional(rng, student_fn):
    """custom_check: per seed, an x of 1-D or shape (1,) and an x of 2-D or 3-D, so code
    written for one kind of shape fails every set of hidden cases."""
    seed = int(rng.integers(2**31))
    for offset, kinds in enumerate((("1d", "single"), ("2d", "3d"))):
        case = _numerical_gradient_case(np.random.default_rng(seed + offset), kinds)
        check_case(_EVAL_NUMERICAL_GRADIENT, student_fn, case, seed + offset)


def numerical_gradient_forward_difference(f, x, h=1e-5):
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - fx) / h
        x[i] = old
    return grad


def numerical_gradient_not_restored(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        f_minus = f(x)
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_divided_by_h(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / h
    return grad


_EVAL_NUMERICAL_GRADIENT = register(Exercise(
    name="eval_numerical_gradient", notebook=NOTEBOOK,
    reference=gradient_check.eval_numerical_gradient,
    make_case=_numerical_gradient_case, custom_check=_check_low_and_high_dimensional,
    rtol=1e-7,
    visible_seeds=(0, 1, 2),  # each: a 1-D or (1,) x, then a 2-D or 3-D x
    mistakes=[
        Mistake("forward instead of centered difference",
                "(f(x+h) - f(x)) / h has an error proportional to h; the centered "
                "(f(x+h) - f(x-h)) / 2h cancels that term and is off only by about h^2.",
                numerical_gradient_forward_difference),
        Mistake("x not restored after perturbing it",
                "After evaluating f(x+h) and f(x-h), put the original value back "
                "(x[i] = old). Otherwise every later element is differentiated at a shifted "
                "point, and the caller's x is left changed.",
                numerical_gradient_not_restored),
        Mistake("divided by h instead of 2h",
                "The two evaluation points x-h and x+h are 2h apart, so the difference "
                "quotient divides by 2h; dividing by h doubles every component.",
                numerical_gradient_divided_by_h),
    ],
))


# ----------------------------------------------------------------------------- rel_error

def _rel_error_case(rng):
    """a, b of any shape; every non-zero entry is at least 1e-7 in size.

    So a floor such as CS231n's np.maximum(1e-8, ...) in the denominator (which the docstring
    does not forbid) never changes the result, while values still span nine decades. The
    largest error, eps, sits at two entries, once with |b| > |a| and once with |a| > |b|: a
    denominator of |a| alone (or |b| alone) gives eps there instead of eps / (1 + eps).
    """
    shape = any_shape(rng)
    signs = rng.choice([-1.0, 1.0], size=shape)
    a = signs * 10.0 ** (rng.uniform(-6, 2) + rng.uniform(-1, 0, size=shape))
    b = a * (1 + rng.uniform(-2e-3, 2e-3, size=shape))
    eps = rng.uniform(4e-3, 6e-3)
    # The largest entry comes last: the largest errors sit at smaller entries, so dividing
    # the largest difference by the largest value (one scale for all) cannot match them.
    largest = int(np.argmax(np.abs(a)))
    order = [int(i) for i in rng.permutation(a.size) if i != largest] + [largest]
    b.flat[order[0]] = a.flat[order[0]] * (1 + eps)
    if a.size > 1:
        a.flat[order[1]] = b.flat[order[1]] * (1 + eps)
    if a.size > 2:  # both zero: the relative error there is defined as 0 (G2)
        a.flat[order[2]] = b.flat[order[2]] = 0.0
    return Case((a, b))


def rel_error_plain_difference(a, b):
    return np.max(np.abs(a - b))


def rel_error_cs231n(a, b):
    return np.max(np.abs(a - b) / (np.maximum(1e-8, np.abs(a) + np.abs(b))))


def rel_error_sum_denominator(a, b):
    return np.max(np.abs(a - b) / (np.abs(a) + np.abs(b)))


_SUM_INSTEAD_OF_MAX = (
    "sum instead of max in the denominator",
    "The notes' relative error divides by max(|a|, |b|), not |a| + |b| (which halves the "
    "error when a ≈ b); CS231n's rel_error helper, np.maximum(1e-8, |a| + |b|), is that "
    "other formula.")

register(Exercise(
    name="rel_error", notebook=NOTEBOOK, reference=gradient_check.rel_error,
    make_case=_rel_error_case, rtol=1e-9,
    visible_seeds=(2, 4, 0),  # shapes (3,), (3, 3, 3), (3, 3)
    mistakes=[
        Mistake("absolute instead of relative error",
                "Divide |a - b| by max(|a|, |b|): a difference of 1e-4 is tiny for values "
                "near 1 and huge for values near 1e-5.", rel_error_plain_difference),
        Mistake(*_SUM_INSTEAD_OF_MAX, rel_error_cs231n),
        Mistake(*_SUM_INSTEAD_OF_MAX, rel_error_sum_denominator),
    ],
))


# ----------------------------------------------------------------------------- grad_check_report

# Each band's lower edge (log10) and the probability of choosing it. The worst error lies just
# above its band's lower edge (by a factor 10**0.05 ... 10**0.5) and every other error is at
# most a tenth of it, so with 6 or more elements the MEAN error falls into a lower band than
# the max: a checker that picks the band from the mean fails (except in 'good', the lowest).
_BAND_EDGES = ((-2.0, 0.3), (-4.0, 0.3), (-7.0, 0.3), (-9.0, 0.1))


def _grad_check_case(rng):
    """A case whose worst error lies in a band drawn with the weights of _BAND_EDGES."""
    edges, weights = zip(*_BAND_EDGES)
    return _grad_check_case_in_band(rng, int(rng.choice(len(edges), p=weights)))


def _check_every_band(rng, student_fn):
    """custom_check: one case per band on every seed (in random order), so a checker that is
    wrong in one band only cannot pass a set of hidden cases that happens to miss it."""
    exercise = _GRAD_CHECK_REPORT
    seed = int(rng.integers(2**31))
    for offset, band in enumerate(rng.permutation(len(_BAND_EDGES))):
        case_rng = np.random.default_rng(seed + offset)
        check_case(exercise, student_fn, _grad_check_case_in_band(case_rng, int(band)),
                   seed + offset)


def _grad_check_case_in_band(rng, band):
    """A numerical gradient (any shape) and an analytic one with a known worst element.

    One element is off by a relative `level`, the others by 10**-3 ... 10**-1 times that; one
    other element is 0 in both (a dead unit: its error is 0, not nan). Magnitudes span four
    decades, so absolute and relative errors rank elements differently.
    """
    shape = (1,) if rng.random() < 0.1 else any_shape(rng, min_size=6)
    numeric = rng.choice([-1.0, 1.0], size=shape) * 10 ** rng.uniform(-3, 1, size=shape)
    positions = rng.choice(numeric.size, size=min(2, numeric.size), replace=False)
    worst, *zero = (tuple(int(k) for k in np.unravel_index(i, shape)) for i in positions)
    level = 10 ** (_BAND_EDGES[band][0] + rng.uniform(0.05, 0.5))
    delta = rng.choice([-1.0, 1.0], size=shape) * level * 10 ** rng.uniform(-3, -1, size=shape)
    delta[worst] = level * rng.choice([-1.0, 1.0])
    analytic = numeric * (1 + delta)
    for index in zero:
        numeric[index] = analytic[index] = 0.0
    return Case((analytic, numeric))


def grad_check_argmin(analytic_grad, numeric_grad):
    scale = np.maximum(np.abs(analytic_grad), np.abs(numeric_grad))
    diff = np.abs(analytic_grad - numeric_grad)
    errors = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    worst = np.unravel_index(np.argmin(errors), errors.shape)
    err = float(errors.max())
    if err > 1e-2:
        band = "wrong"
    elif err > 1e-4:
        band = "uncomfortable"
    elif err >= 1e-7:
        band = "ok only with kinks"
    else:
        band = "good"
    return err, tuple(int(i) for i in worst), band


def grad_check_bands_wrong_order(analytic_grad, numeric_grad):
    scale = np.maximum(np.abs(analytic_grad), np.abs(numeric_grad))
    diff = np.abs(analytic_grad - numeric_grad)
    errors = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    worst = np.unravel_index(np.argmax(errors), errors.shape)
    err = float(errors[worst])
    if err > 1e-2:
        band = "wrong"
    elif err < 1e-2:
        band = "uncomfortable"
    elif err < 1e-4:
        band = "ok only with kinks"
    else:
        band = "good"
    return err, tuple(int(i) for i in worst), band


def grad_check_absolute_error(analytic_grad, numeric_grad):
    errors = np.abs(analytic_grad - numeric_grad)
    worst = np.unravel_index(np.argmax(errors), errors.shape)
    err = float(errors[worst])
    if err > 1e-2:
        band = "wrong"
    elif err > 1e-4:
        band = "uncomfortable"
    elif err >= 1e-7:
        band = "ok only with kinks"
    else:
        band = "good"
    return err, tuple(int(i) for i in worst), band


def grad_check_flat_index(analytic_grad, numeric_grad):
    scale = np.maximum(np.abs(analytic_grad), np.abs(numeric_grad))
    diff = np.abs(analytic_grad - numeric_grad)
    errors = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    worst = int(np.argmax(errors))
    err = float(errors.flat[worst])
    if err > 1e-2:
        band = "wrong"
    elif err > 1e-4:
        band = "uncomfortable"
    elif err >= 1e-7:
        band = "ok only with kinks"
    else:
        band = "good"
    return err, worst, band


def grad_check_zero_over_zero(analytic_grad, numeric_grad):
    errors = np.abs(analytic_grad - numeric_grad) / np.maximum(np.abs(analytic_grad),
                                                               np.abs(numeric_grad))
    worst = np.unravel_index(np.argmax(errors), errors.shape)
    err = float(errors[worst])
    if err > 1e-2:
        band = "wrong"
    elif err > 1e-4:
        band = "uncomfortable"
    elif err >= 1e-7:
        band = "ok only with kinks"
    else:
        band = "good"
    return err, tuple(int(i) for i in worst), band


_GRAD_CHECK_REPORT = register(Exercise(
    name="grad_check_report", notebook=NOTEBOOK, reference=gradient_check.grad_check_report,
    make_case=_grad_check_case, custom_check=_check_every_band,
    output_names=("max_rel_error", "worst_index", "band"),
    rtol=1e-9, visible_seeds=(0, 1, 2),  # each seed: one case per band
    mistakes=[
        Mistake("index of the smallest error",
                "worst_index must point at the element with the LARGEST relative error "
                "(np.argmax), the one you need to look at.", grad_check_argmin),
        Mistake("bands tested in the wrong order",
                "With if/elif, every error below 1e-2 stops at the first 'err < 1e-2' test. "
                "Test from the top down: > 1e-2 wrong, > 1e-4 uncomfortable, >= 1e-7 ok only "
                "with kinks, else good.", grad_check_bands_wrong_order),
        Mistake("absolute instead of relative errors",
                "Rank and report |a - n| / max(|a|, |n|) per element, not |a - n|: the bands "
                "are thresholds on the relative error.", grad_check_absolute_error),
        Mistake("flat index instead of an index tuple",
                "np.argmax returns a position in the flattened array; convert it with "
                "np.unravel_index(k, shape) and return a tuple of ints.",
                grad_check_flat_index),
        Mistake("0/0 where both gradients are zero",
                "Where analytic and numerical values are both exactly 0 (a dead unit, an unused "
                "weight) they agree: their error is 0. Dividing gives nan, and np.argmax / "
                "np.max then report that nan as the worst element.", grad_check_zero_over_zero),
    ],
))


# ----------------------------------------------------------------------------- affine_backward

def _affine_case(rng):
    """x (N, d1, d2) so dx must be reshaped; w (D, M) with M != D so a transposed dw shows.

    The cache is affine_forward's, CS231n's (x, w, b)."""
    n, d1, d2 = (int(k) for k in rng.integers(2, 5, size=3))
    dim = d1 * d2
    m = int(rng.integers(2, 7))
    if m == dim:
        m += 1
    x = rng.standard_normal((n, d1, d2))
    w = rng.standard_normal((dim, m))
    b = rng.standard_normal(m)
    _, cache = layers.affine_forward(x, w, b)
    return Case((rng.standard_normal((n, m)), cache))


def affine_backward_db_not_summed(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout
    return dx, dw, db


def affine_backward_dw_transposed(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x.reshape(x.shape[0], -1)
    db = dout.sum(axis=0)
    return dx, dw, db


def affine_backward_dx_not_reshaped(dout, cache):
    x, w, b = cache
    dx = dout @ w.T
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


register(Exercise(
    name="affine_backward", notebook=NOTEBOOK, reference=layers.affine_backward,
    make_case=_affine_case, output_names=("dx", "dw", "db"), rtol=1e-7,
    mistakes=[
        Mistake("db not summed over the batch",
                "b is added to every row of the output, so its gradient collects dout from "
                "all N examples: db = dout.sum(axis=0), shape (M,).",
                affine_backward_db_not_summed),
        Mistake("dw transposed",
                "dw must have w's shape (D, M): dw = x_flat.T @ dout, not dout.T @ x_flat "
                "(x_flat = x.reshape(N, D)).",
                affine_backward_dw_transposed),
        Mistake("dx not reshaped to x's shape",
                "The forward pass flattened x to (N, D); give dx back x's original shape "
                "with .reshape(x.shape).", affine_backward_dx_not_reshaped),
    ],
    habits=(unpack_habit("The cache from affine_forward",
                         "CS231n's tuple (x, w, b): x in its original shape (N, d1, ..., dk), "
                         "w of shape (D, M), b of shape (M,); unpack it as x, w, b = cache"),),
))


# ----------------------------------------------------------------------------- two_layer_net_loss

def buggy_two_layer_net_loss(params, X, y, reg=0.0):
    """Softmax loss of affine - ReLU - affine plus reg/2 * (sum W1^2 + sum W2^2), with gradients.

    params: dict with W1 (D, H), b1 (H,), W2 (H, C), b2 (C,); X: (N, D); y: (N,) labels in
    [0, C). Returns loss (float) and grads (dict with the keys and shapes of params).
    WARNING: one line of the backward pass has a bug.
    """
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    num_examples = X.shape[0]
    rows = np.arange(num_examples)

    # Forward pass.
    hidden_in = X @ W1 + b1                      # (N, H)
    hidden = np.maximum(hidden_in, 0.0)          # (N, H)
    scores = hidden @ W2 + b2                    # (N, C)
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    data_loss = -np.mean(np.log(probs[rows, y]))
    loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

    # Backward pass.
    dscores = probs.copy()
    dscores[rows, y] -= 1.0
    dscores /= num_examples
    grads = {}
    grads["W2"] = hidden.T @ dscores + reg * W2
    grads["b2"] = dscores.sum(axis=0)
    dhidden = dscores @ W2.T
    dhidden_in = dhidden * (hidden >= 0)
    grads["W1"] = X.T @ dhidden_in + reg * W1
    grads["b1"] = dhidden_in.sum(axis=0)
    return float(loss), grads


def two_layer_net_loss(params, X, y, reg=0.0):
    """Reference: the same network as buggy_two_layer_net_loss, computed by FullyConnectedNet.

    params: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,); X: (N, D); y: (N,). Returns loss, grads.
    """
    dim, hidden = params["W1"].shape
    model = FullyConnectedNet([hidden], input_dim=dim, num_classes=params["W2"].shape[1],
                              activation="relu", reg=reg, seed=0)
    model.params = {name: np.array(params[name], dtype=np.float64)
                    for name in ("W1", "b1", "W2", "b2")}
    return model.loss(X, y)


def _two_layer_case(rng):
    """A small net where some hidden units are off (negative input) for some examples."""
    n, dim, hidden, classes = (int(rng.integers(3, 7)), int(rng.integers(4, 9)),
                               int(rng.integers(5, 11)), int(rng.integers(3, 6)))
    params = {"W1": rng.standard_normal((dim, hidden)) / np.sqrt(dim),
              "b1": rng.standard_normal(hidden) * 0.5,
              "W2": rng.standard_normal((hidden, classes)) / np.sqrt(hidden),
              "b2": rng.standard_normal(classes) * 0.1}
    X = rng.standard_normal((n, dim))
    y = rng.integers(classes, size=n)
    return Case((params, X, y), {"reg": float(rng.uniform(0.05, 0.5))})


def two_layer_relu_backward_clipped(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    num_examples = X.shape[0]
    rows = np.arange(num_examples)
    hidden_in = X @ W1 + b1
    hidden = np.maximum(hidden_in, 0.0)
    scores = hidden @ W2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[rows, y])) + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[rows, y] -= 1.0
    dscores /= num_examples
    grads = {"W2": hidden.T @ dscores + reg * W2, "b2": dscores.sum(axis=0)}
    dhidden = dscores @ W2.T
    dhidden_in = np.maximum(dhidden, 0.0)
    grads["W1"] = X.T @ dhidden_in + reg * W1
    grads["b1"] = dhidden_in.sum(axis=0)
    return float(loss), grads


def two_layer_relu_backward_times_activation(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    num_examples = X.shape[0]
    rows = np.arange(num_examples)
    hidden_in = X @ W1 + b1
    hidden = np.maximum(hidden_in, 0.0)
    scores = hidden @ W2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[rows, y])) + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[rows, y] -= 1.0
    dscores /= num_examples
    grads = {"W2": hidden.T @ dscores + reg * W2, "b2": dscores.sum(axis=0)}
    dhidden = dscores @ W2.T
    dhidden_in = dhidden * hidden
    grads["W1"] = X.T @ dhidden_in + reg * W1
    grads["b1"] = dhidden_in.sum(axis=0)
    return float(loss), grads


register(Exercise(
    name="two_layer_net_loss", notebook=NOTEBOOK, reference=two_layer_net_loss,
    make_case=_two_layer_case, output_names=("loss", "grads"), rtol=1e-6,
    mistakes=[
        Mistake("the planted bug is still there",
                "Your function gives exactly the numbers of buggy_two_layer_net_loss. Check "
                "each parameter separately: the ones whose check fails tell you which part of "
                "the backward pass to read.", buggy_two_layer_net_loss),
        Mistake("ReLU backward clips the gradient",
                "np.maximum(dhidden, 0) keeps positive gradients, but ReLU passes the upstream "
                "gradient through exactly where its INPUT was positive: "
                "dhidden * (hidden_in > 0).", two_layer_relu_backward_clipped),
        Mistake("ReLU backward multiplies by the activation",
                "The local derivative of max(0, z) is 1 where z > 0 and 0 elsewhere, not the "
                "activation value itself: use the 0/1 mask (hidden_in > 0).",
                two_layer_relu_backward_times_activation),
    ],
))


add_signature_habits(NOTEBOOK)
