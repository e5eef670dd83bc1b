"""Classification losses with their gradients: `loss, dscores = *_loss(scores, y)`."""
import numpy as np

from cs231n_lib._validate import as_array, require_labels, require_ndim


def _validate(scores, y):
    """Check scores (N, C) and integer labels y (N,) in [0, C); return both as arrays."""
    scores = as_array("scores", scores)
    require_ndim("scores", scores, 2)
    if scores.shape[0] == 0 or scores.shape[1] == 0:
        raise ValueError(f"scores must hold at least one example and one class, got {scores.shape}")
    y = require_labels(y, scores.shape[0], scores.shape[1])
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    return scores, y


def softmax_loss(scores, y):
    """Mean cross-entropy of the softmax of scores, and its gradient.

    scores: (N, C) class scores; y: (N,) integer labels in [0, C).
    Returns loss (float) and dscores (N, C) in scores' dtype.
    """
    scores, y = _validate(scores, y)
    n = scores.shape[0]
    rows = np.arange(n)
    # Subtracting the row max leaves the softmax unchanged and keeps exp() from overflowing.
    shifted = scores - scores.max(axis=1, keepdims=True)
    correct = shifted[rows, y]
    probs = np.exp(shifted, out=shifted)
    sums = probs.sum(axis=1)
    loss = float(np.mean(np.log(sums) - correct))
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
