"""Numerical gradients and the tools to compare them with analytic ones (lecture 01)."""
from dataclasses import dataclass, field

import numpy as np

from cs231n_lib._validate import as_array, require_positive, require_same_shape

# Upper limits of the error bands (G3), from worst to best.
ERROR_BANDS = ("wrong", "uncomfortable", "ok only with kinks", "good")
_WRONG_ABOVE = 1e-2
_UNCOMFORTABLE_ABOVE = 1e-4
_GOOD_BELOW = 1e-7

# Losses this small lose most of their significant digits in f(x+h) - f(x-h) (G5).
_TINY_LOSS = 1e-6


def _require_float_array(name, x):
    """Raise unless x is a floating-point ndarray (it is perturbed in place)."""
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{name} must be a floating-point numpy array "
                         f"(it is perturbed in place), got {got}")


def _centered_difference(f, x, index, h):
    """Return (f(x + h e_i), f(x - h e_i)) with x[index] restored afterwards, even if f raises."""
    old = x[index]
    try:
        x[index] = old + h
        f_plus = f(x)
        # Copy: f may return (a view of) a buffer that the next call overwrites.
        f_plus = np.array(f_plus, copy=True)
        x[index] = old - h
        f_minus = np.array(f(x), copy=True)
    finally:
        x[index] = old
    return f_plus, f_minus


def eval_numerical_gradient(f, x, h=1e-5, verbose=False):
    """Centered-difference gradient of a scalar function f at x.

    x: float array of any shape, perturbed in place one element at a time and restored.
    Returns grad of x's shape in float64: grad[i] = (f(x + h e_i) - f(x - h e_i)) / 2h.
    """
    _require_float_array("x", x)
    require_positive("h", h)
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        f_plus, f_minus = _centered_difference(f, x, index, h)
        grad[index] = (float(f_plus) - float(f_minus)) / (2 * h)
        if verbose:
            print(index, grad[index])
    return grad


def eval_numerical_gradient_array(f, x, dout, h=1e-5):
    """Centered-difference gradient of sum(f(x) * dout) for an array-valued f.

    x: float array of any shape (perturbed in place and restored); dout: upstream gradient of
    f(x)'s shape. Returns grad of x's shape in float64.
    """
    _require_float_array("x", x)
    require_positive("h", h)
    dout = as_array("dout", dout)
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        f_plus, f_minus = _centered_difference(f, x, index, h)
        require_same_shape("f(x)", f_plus, "dout", dout)
        grad[index] = np.sum((f_plus.astype(np.float64) - f_minus) * dout) / (2 * h)
    return grad


def forward_difference_gradient(f, x, h=1e-5):
    """One-sided gradient (f(x + h e_i) - f(x)) / h of a scalar f, less accurate (G1 demo).

    x: float array of any shape (perturbed in place and restored). Returns grad of x's shape.
    """
    _require_float_array("x", x)
    require_positive("h", h)
    f_x = float(f(x))
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        old = x[index]
        try:
            x[index] = old + h
            f_plus = float(f(x))
        finally:
            x[index] = old
        grad[index] = (f_plus - f_x) / h
    return grad


def _elementwise_rel_error(a, b):
    """|a - b| / max(|a|, |b|) per element, 0 where both are 0. a, b: same shape."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    require_same_shape("a", a, "b", b)
    scale = np.maximum(np.abs(a), np.abs(b))
    diff = np.abs(a - b)
    # Both zero means both agree exactly; avoid 0/0 there.
    return np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)


def rel_error(a, b):
    """Largest elementwise relative error |a - b| / max(|a|, |b|) (0 where both are 0).

    a, b: arrays of the same shape (or scalars). Returns a float (nan if any input is nan).
    """
    errors = _elementwise_rel_error(a, b)
    if errors.size == 0:
        return 0.0
    return float(np.max(errors))


def norm_rel_error(a, b, eps=1e-7):
    """Relative error of whole gradients: ||a - b||_2 / (||a||_2 + ||b||_2 + eps) (G11).

    a, b: arrays of the same shape. Returns a float.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    require_same_shape("a", a, "b", b)
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + eps))


def error_band(err):
    """Name the band of a relative error: 'wrong', 'uncomfortable', 'ok only with kinks', 'good'."""
    err = float(err)
    if not err <= _WRONG_ABOVE:  # also catches nan
        return "wrong"
    if err > _UNCOMFORTABLE_ABOVE:
        return "uncomfortable"
    if err >= _GOOD_BELOW:
        return "ok only with kinks"
    return "good"


def crosses_kink(x, h, kink=0.0):
    """True where the interval [x - h, x + h] straddles the kink (numerical gradient unreliable).

    x: array of any shape. Returns a bool array of x's shape.
    """
    x = as_array("x", x)
    require_positive("h", h)
    return np.abs(x - kink) < h


@dataclass
class GradCheckReport:
    """Outcome of grad_check: the worst elementwise relative error, where, its band, and advice."""

    max_rel_error: float
    worst_index: tuple
    band: str
    numeric_grad: np.ndarray = field(repr=False)
    warnings: list = field(default_factory=list)

    def __str__(self):
        text = (f"max relative error {self.max_rel_error:.3e} at index {self.worst_index} "
                f"({self.band})")
        return "\n".join([text] + [f"warning: {w}" for w in self.warnings])


def _dtype_warnings(x, analytic_grad):
    """Warnings for low-precision inputs, which give large errors even when correct (G4)."""
    warnings = []
    for name, array in (("x", x), ("analytic_grad", analytic_grad)):
        if array.dtype in (np.float16, np.float32):
            warnings.append(f"{name} is {array.dtype}: round-off swamps the centered difference; "
                            "use float64 for gradient checks")
    return warnings


def grad_check(f, x, analytic_grad, h=1e-5):
    """Compare analytic_grad with the centered numerical gradient of scalar f at x.

    x: float array of any shape (perturbed in place and restored); analytic_grad: x's shape.
    Returns a GradCheckReport.
    """
    _require_float_array("x", x)
    analytic_grad = as_array("analytic_grad", analytic_grad)
    require_same_shape("x", x, "analytic_grad", analytic_grad)
    warnings = _dtype_warnings(x, analytic_grad)
    f_x = float(f(x))
    if f_x != 0 and abs(f_x) < _TINY_LOSS:
        warnings.append(f"f(x) = {f_x:.1e} is tiny: differences lose their digits; "
                        "scale the loss to about 1.0")
    numeric = eval_numerical_gradient(f, x, h=h)
    errors = _elementwise_rel_error(analytic_grad, numeric)
    if errors.size == 0:
        return GradCheckReport(0.0, (), error_band(0.0), numeric, warnings)
    # nanargmax would skip nan; a nan error is the worst error there is.
    flat_worst = int(np.argmax(np.where(np.isnan(errors), np.inf, errors)))
    worst_index = tuple(int(i) for i in np.unravel_index(flat_worst, errors.shape))
    max_error = float(errors[worst_index])
    return GradCheckReport(max_error, worst_index, error_band(max_error), numeric, warnings)


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=0):
    """Relative errors at num_checks random elements (cheap check for large arrays).

    x: float array (perturbed in place and restored); analytic_grad: x's shape.
    Returns a float64 array of shape (num_checks,).
    """
    _require_float_array("x", x)
    analytic_grad = as_array("analytic_grad", analytic_grad)
    require_same_shape("x", x, "analytic_grad", analytic_grad)
    require_positive("num_checks", num_checks)
    require_positive("h", h)
    rng = np.random.default_rng(seed)
    errors = np.empty(int(num_checks), dtype=np.float64)
    for k in range(int(num_checks)):
        index = tuple(int(rng.integers(n)) for n in x.shape)
        f_plus, f_minus = _centered_difference(f, x, index, h)
        numeric = (float(f_plus) - float(f_minus)) / (2 * h)
        errors[k] = rel_error(analytic_grad[index], numeric)
    return errors


def grad_check_report(analytic_grad, numeric_grad):
    """The checker of notebook 01 as plain values: (max_rel_error, worst_index, band).

    analytic_grad, numeric_grad: arrays of the same shape. Returns the largest elementwise
    relative error |a - n| / max(|a|, |n|) (0 where both are 0; a float), its index (a tuple of
    ints, one per axis) and its band (one of ERROR_BANDS).
    """
    errors = _elementwise_rel_error(analytic_grad, numeric_grad)
    if errors.size == 0:
        return 0.0, (), error_band(0.0)
    # argmax would stop at the first nan anyway; make that explicit: nan is the worst error.
    flat_worst = int(np.argmax(np.where(np.isnan(errors), np.inf, errors)))
    worst_index = tuple(int(i) for i in np.unravel_index(flat_worst, errors.shape))
    max_error = float(errors[worst_index])
    return max_error, worst_index, error_band(max_error)


# Reading of the norm-form error of norm_rel_error (G11), from best to worst.
NORM_ERROR_VERDICTS = ("great", "look again", "bug")
_NORM_GREAT_BELOW = 1e-7
_NORM_BUG_ABOVE = 1e-3


def norm_error_verdict(err):
    """Read a norm-form relative error: 'great' below 1e-7, 'bug' above 1e-3, else 'look again'."""
    err = float(err)
    if not err <= _NORM_BUG_ABOVE:  # also catches nan
        return "bug"
    if err < _NORM_GREAT_BELOW:
        return "great"
    return "look again"


# ----------------------------------------------------------------- batch normalization (nb06)

BATCHNORM_GRAD_NAMES = ("dx", "dgamma", "dbeta")


@dataclass
class BatchnormGradCheck:
    """Analytic vs centered numerical gradients of a batchnorm layer in train mode.

    analytic, numeric: dicts with 'dx' (N, D), 'dgamma' (D,) and 'dbeta' (D,);
    rel_errors: the largest elementwise relative error of each; norm_errors: the norm form
    (norm_rel_error, G11) of each, robust to entries that are nearly 0 (dx sums to 0 over the
    batch, so some of its entries are tiny); warnings: list[str].
    """

    analytic: dict = field(repr=False)
    numeric: dict = field(repr=False)
    rel_errors: dict
    norm_errors: dict
    warnings: list = field(default_factory=list)

    @property
    def max_rel_error(self):
        return max(self.rel_errors.values())

    @property
    def band(self):
        return error_band(self.max_rel_error)

    @property
    def max_norm_error(self):
        return max(self.norm_errors.values())

    def __str__(self):
        errors = ", ".join(f"{name} {err:.2e}" for name, err in self.rel_errors.items())
        norms = ", ".join(f"{name} {err:.2e}" for name, err in self.norm_errors.items())
        text = (f"max elementwise relative errors: {errors} ({self.band})\n"
                f"norm-form relative errors: {norms}")
        return "\n".join([text] + [f"warning: {w}" for w in self.warnings])


def require_batch_of_several(x, purpose="a batchnorm gradient check"):
    """Raise unless x (N, D) holds at least two examples; a batch of one makes the check vacuous.

    With N = 1 every feature equals its own batch mean: x_hat = 0, the output is beta whatever x
    and gamma are, and the true dx and dgamma are 0 — so a backward pass returning zeros would pass.
    """
    x = as_array("x", x)
    if x.ndim != 2:
        raise ValueError(f"{purpose} needs x of shape (N, D), got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(
            f"{purpose} needs a batch of at least 2 examples, got x of shape {x.shape}: with a "
            "batch of one every feature equals its batch mean, so x_hat = 0, out = beta whatever "
            "x and gamma are, and the true dx and dgamma are 0 — a backward pass returning zeros "
            "would pass (use N >= 3)")
    return x


def batchnorm_grad_check(forward, backward, x, gamma, beta, dout, bn_param=None, h=1e-5):
    """Gradient check of a batchnorm forward/backward pair in train mode.

    forward(x, gamma, beta, bn_param) -> (out, cache) and backward(dout, cache) ->
    (dx, dgamma, dbeta) are the pair under test (e.g. a student's own, whatever its cache).
    x: (N, D) float with N >= 2 (a batch of one raises ValueError, see
    require_batch_of_several); gamma, beta: (D,); dout: (N, D), the upstream gradient.
    bn_param: extra keys such as 'eps'; mode is always 'train' and every forward call gets a
    fresh copy, so running averages never leak between calls. Inputs are not modified.
    Returns a BatchnormGradCheck (analytic vs numerical dx, dgamma, dbeta).
    """
    import copy  # local: keeps the module's imports as they were

    x = require_batch_of_several(np.array(x, copy=True))
    gamma, beta = np.array(gamma, copy=True), np.array(beta, copy=True)
    for name, array in (("x", x), ("gamma", gamma), ("beta", beta)):
        _require_float_array(name, array)
    num_features = x.shape[1]
    if gamma.shape != (num_features,) or beta.shape != (num_features,):
        raise ValueError(f"gamma and beta must have shape ({num_features},) to match x {x.shape}, "
                         f"got {gamma.shape} and {beta.shape}")
    dout = as_array("dout", dout)
    require_same_shape("dout", dout, "x", x)
    params = dict(bn_param or {})
    if params.setdefault("mode", "train") != "train":
        raise ValueError(f"batchnorm_grad_check checks train mode only, got mode {params['mode']!r}")

    def out_of(x_, gamma_, beta_):
        return forward(x_, gamma_, beta_, copy.deepcopy(params))[0]

    _, cache = forward(x.copy(), gamma.copy(), beta.copy(), copy.deepcopy(params))
    grads = backward(dout.copy(), cache)
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        raise ValueError("backward must return a tuple (dx, dgamma, dbeta)")
    analytic = {name: np.asarray(g) for name, g in zip(BATCHNORM_GRAD_NAMES, grads)}
    for name, like in zip(BATCHNORM_GRAD_NAMES, (x, gamma, beta)):
        if analytic[name].shape != like.shape:
            raise ValueError(f"backward returned {name} of shape {analytic[name].shape}, "
                             f"expected {like.shape}")
    if _batched(forward):
        numeric = _batched_numeric(forward, params, x, gamma, beta, dout, h)
    else:
        numeric = {
            "dx": eval_numerical_gradient_array(lambda v: out_of(v, gamma, beta), x, dout, h),
            "dgamma": eval_numerical_gradient_array(lambda v: out_of(x, v, beta), gamma, dout, h),
            "dbeta": eval_numerical_gradient_array(lambda v: out_of(x, gamma, v), beta, dout, h),
        }
    rel_errors = {name: rel_error(analytic[name], numeric[name]) for name in BATCHNORM_GRAD_NAMES}
    norm_errors = {name: norm_rel_error(analytic[name], numeric[name])
                   for name in BATCHNORM_GRAD_NAMES}
    warnings = _dtype_warnings(x, analytic["dx"])
    if x.shape[0] == 2:
        warnings.append("with N = 2 every x_hat is about +-1 whatever x is, so dx is nearly 0 "
                        "and the check says little about it; use N >= 3")
    return BatchnormGradCheck(analytic, numeric, rel_errors, norm_errors, warnings)


def _batched(forward):
    """Whether forward is a graded student's function behind the check's boundary, whose calls
    can be made as one batch (cs231n_lib.boundary.call_many; in the grader one message instead
    of a round trip per call). Any other function is called one call after the other, exactly
    as eval_numerical_gradient_array does."""
    from cs231n_lib import boundary  # local: keeps the module's imports as they were
    return isinstance(forward, (boundary.LocalFunction, boundary.Guard)) or getattr(
        forward, "runs_in_worker", False)


def _batched_numeric(forward, params, x, gamma, beta, dout, h):
    """batchnorm_grad_check's numerical dx, dgamma and dbeta, equal to those of
    eval_numerical_gradient_array (the same inputs, in the same order, the same arithmetic),
    with every forward call made in one batch. Each call gets its own copies of x, gamma, beta
    (the batch's calls must not share arrays) and of bn_param; the results are checked in call
    order, so an error is raised where eval_numerical_gradient_array would raise it."""
    import copy  # local: keeps the module's imports as they were
    from cs231n_lib import boundary

    _require_float_array("x", x)
    require_positive("h", h)
    dout = as_array("dout", dout)
    inputs = (x, gamma, beta)
    calls = []
    for position, array in enumerate(inputs):
        for index in np.ndindex(array.shape):
            old = array[index]
            for value in (old + h, old - h):    # f(x + h e_i), then f(x - h e_i)
                args = [a.copy() for a in inputs]
                args[position][index] = value
                calls.append(((*args, copy.deepcopy(params)), {}))
    results = boundary.call_many(forward, calls)
    numeric = {}
    for name, array in zip(BATCHNORM_GRAD_NAMES, inputs):
        grad = np.zeros(array.shape, dtype=np.float64)
        for index in np.ndindex(array.shape):
            f_plus = np.array(next(results)[0], copy=True)
            f_minus = np.array(next(results)[0], copy=True)
            require_same_shape("f(x)", f_plus, "dout", dout)
            grad[index] = np.sum((f_plus.astype(np.float64) - f_minus) * dout) / (2 * h)
        numeric[name] = grad
    return numeric
