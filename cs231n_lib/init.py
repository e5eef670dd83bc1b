"""Weight initialization: zeros, small random, Xavier, Glorot and He.

Every random scheme draws W ~ N(0, std**2) with std chosen from the layer's fan-in
(and fan-out for Glorot):

- 'zeros':  std 0 (every hidden unit stays identical: symmetry is never broken);
- 'small':  std 0.01;
- 'xavier': std 1 / sqrt(n_in);
- 'glorot': std sqrt(2 / (n_in + n_out));
- 'he':     std sqrt(2 / n_in) (for ReLU, which zeroes half of its inputs);
- a positive number: that std.
"""
import numbers

import numpy as np

from cs231n_lib._validate import require_choice, require_positive

INIT_SCHEMES = ("zeros", "small", "xavier", "glorot", "he")


def _require_fan(name, value):
    """Raise unless `value` is a positive integer (a layer width)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def init_std(scheme, n_in, n_out):
    """Standard deviation of the weights of an (n_in, n_out) layer under `scheme`."""
    _require_fan("n_in", n_in)
    _require_fan("n_out", n_out)
    if isinstance(scheme, numbers.Real) and not isinstance(scheme, bool):
        return float(require_positive("std", scheme))
    if not isinstance(scheme, str):
        raise ValueError(f"scheme must be one of {INIT_SCHEMES} or a positive std, "
                         f"got {scheme!r}")
    require_choice("init scheme", scheme, INIT_SCHEMES)
    if scheme == "zeros":
        return 0.0
    if scheme == "small":
        return 0.01
    if scheme == "xavier":
        return float(1.0 / np.sqrt(n_in))
    if scheme == "glorot":
        return float(np.sqrt(2.0 / (n_in + n_out)))
    return float(np.sqrt(2.0 / n_in))  # 'he'


def init_weights(scheme, n_in, n_out, rng, dtype=np.float64):
    """Weight matrix W of shape (n_in, n_out) drawn from N(0, init_std(scheme, n_in, n_out)**2).

    rng: a numpy.random.Generator (unused for 'zeros'). The draw is made in float64 and then
    cast to `dtype`, so the same rng state gives the same weights in every dtype.
    """
    std = init_std(scheme, n_in, n_out)
    if std == 0.0:
        return np.zeros((n_in, n_out), dtype=dtype)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return (std * rng.standard_normal((n_in, n_out))).astype(dtype, copy=False)
