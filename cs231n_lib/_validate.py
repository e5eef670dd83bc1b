"""Input validation shared by the library: clear ValueErrors instead of numpy tracebacks."""
import numpy as np


def as_array(name, value):
    """Return `value` as an ndarray, or raise a ValueError naming the argument."""
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises many types here
        raise ValueError(f"{name} must be array-like, got {type(value).__name__}") from exc


def require_ndim(name, array, ndim):
    """Raise unless `array` has exactly `ndim` dimensions."""
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")


def require_min_ndim(name, array, ndim):
    """Raise unless `array` has at least `ndim` dimensions."""
    if array.ndim < ndim:
        raise ValueError(f"{name} must have at least {ndim} dimensions, got shape {array.shape}")


def require_same_shape(name_a, a, name_b, b):
    """Raise unless two arrays have the same shape."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"{name_a} and {name_b} must have the same shape, "
                         f"got {np.shape(a)} and {np.shape(b)}")


def require_labels(y, num_samples, num_classes):
    """Validate integer class labels of shape (N,) with values in [0, C)."""
    y = as_array("y", y)
    if y.ndim != 1 or y.shape[0] != num_samples:
        raise ValueError(f"y must have shape ({num_samples},) to match the scores, got {y.shape}")
    if y.dtype.kind not in "iu":  # signed or unsigned integers
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
    # np.minimum.reduce is y.min() without the method's Python wrapper (a hot path).
    if y.size and (np.minimum.reduce(y) < 0 or np.maximum.reduce(y) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), "
                         f"got values from {y.min()} to {y.max()}")
    return y


def require_choice(name, value, choices):
    """Raise unless `value` is one of `choices`, listing the valid ones."""
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"unknown {name} {value!r}; choose one of: {valid}")
    return value


def require_positive(name, value):
    """Raise unless `value` is a finite number > 0."""
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value
