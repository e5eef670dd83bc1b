"""Classification losses with their gradients: `loss, dscores = *_loss(scores, y)`."""
import numpy as np

from cs231n_lib._constants import constant
from cs231n_lib._validate import (
    as_array, require_choice, require_labels, require_ndim, require_positive,
)


def _validate(scores, y):
    """Check scores (N, C) and integer labels y (N,) in [0, C); return both as arrays."""
    scores = as_array("scores", scores)
    require_ndim("scores", scores, 2)
    if scores.shape[0] == 0 or scores.shape[1] == 0:
        raise ValueError(f"scores must hold at least one example and one class, got {scores.shape}")
    y = require_labels(y, scores.shape[0], scores.shape[1])
    if scores.dtype.kind != "f":  # not a float dtype (np.issubdtype is ~10x slower)
        scores = scores.astype(np.float64)
    return scores, y


def _row_max(a):
    """a.max(axis=1) of a 2-D array with few columns, e.g. (100, 10) class scores.

    numpy reduces short rows one at a time; reducing the rows of a transposed copy runs
    down whole columns instead and is about twice as fast, copy included.
    """
    return np.maximum.reduce(np.ascontiguousarray(a.T), axis=0)


def _row_sums(a):
    """a.sum(axis=1) of a 2-D array: a BLAS product with ones for float32/64 (~2x faster)."""
    if a.dtype.char in "fd":
        return a @ constant(1.0, (a.shape[1],), a.dtype)
    return np.add.reduce(a, axis=1)


def softmax_loss(scores, y):
    """Mean cross-entropy of the softmax of scores, and its gradient.

    scores: (N, C) class scores; y: (N,) integer labels in [0, C).
    Returns loss (float) and dscores (N, C) in scores' dtype.
    """
    scores, y = _validate(scores, y)
    n = scores.shape[0]
    rows = np.arange(n)
    # Subtracting the row max leaves the softmax unchanged and keeps exp() from overflowing.
    shifted = scores - _row_max(scores)[:, None]
    correct = shifted[rows, y]
    probs = np.exp(shifted, out=shifted)
    sums = _row_sums(probs)
    terms = np.log(sums) - correct
    # sum / n is what np.mean computes, minus its overhead (mean sums float16 in float32).
    loss = float(np.add.reduce(terms) / n if terms.dtype.itemsize >= 4 else np.mean(terms))
    # dscores = (softmax - one_hot) / N, built in the probs buffer.
    probs *= (1.0 / (n * sums))[:, None]
    probs[rows, y] -= 1.0 / n
    return loss, probs


def svm_loss(scores, y, delta=1.0):
    """Mean multiclass hinge loss sum_{j != y} max(0, s_j - s_y + delta), and its gradient.

    scores: (N, C) class scores; y: (N,) integer labels in [0, C).
    Returns loss (float) and dscores (N, C) in scores' dtype.
    """
    scores, y = _validate(scores, y)
    n = scores.shape[0]
    rows = np.arange(n)
    margins = scores - scores[rows, y][:, None]
    margins += delta
    margins[rows, y] = 0  # the correct class is not part of the sum
    np.maximum(margins, 0, out=margins)
    loss = float(margins.sum() / n)
    # Each violated margin adds +1 to its class and -1 to the correct class.
    dscores = (margins > 0).astype(margins.dtype)
    dscores[rows, y] = -dscores.sum(axis=1)
    dscores *= 1.0 / n
    return loss, dscores


INITIAL_LOSS_KINDS = ("softmax", "svm")


def expected_initial_loss(num_classes, loss="softmax", delta=1.0):
    """The loss to expect at a tiny random init, when all C class scores are almost equal.

    softmax: every class gets probability 1/C, so the loss is -ln(1/C) = ln C.
    svm: each of the C-1 wrong classes has margin s_j - s_y + delta = delta, so (C-1)*delta.
    Returns a float.
    """
    if (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
            or num_classes < 2):
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    require_choice("loss", loss, INITIAL_LOSS_KINDS)
    if loss == "softmax":
        return float(np.log(num_classes))
    require_positive("delta", delta)
    return float((num_classes - 1) * delta)


def l2_penalty(params, reg):
    """L2 weight decay: penalty reg/2 * sum of W**2 over the weights, and its gradient.

    params: dict name -> array; the weights are the entries whose name starts with "W"
    (W1, W2, ...); every other entry (biases b1, ..., batchnorm gamma/beta) is not penalized.
    reg: strength lambda >= 0. Returns penalty (float) and grads, a dict with the keys and
    shapes of params: reg * W for each weight, zeros for the other entries.
    """
    if (isinstance(reg, bool) or not isinstance(reg, (int, float, np.integer, np.floating))
            or not 0 <= reg < np.inf):
        raise ValueError(f"reg must be a finite number >= 0, got {reg!r}")
    penalty = 0.0
    grads = {}
    for name, value in params.items():
        value = as_array(name, value)
        if name.startswith("W"):
            flat = value.ravel()
            # The 1/2 makes the gradient reg * W instead of 2 * reg * W.
            penalty += 0.5 * reg * float(np.dot(flat, flat))
            grads[name] = reg * value
        else:
            grads[name] = np.zeros_like(value)
    return penalty, grads
