"""Read-only constant arrays (zeros, ones) that the training step reuses between calls.

Why they exist: on numpy 2.x, np.maximum(x, 0.0) takes about twice as long as
np.maximum(x, zeros) with a zeros array of x's shape (a scalar operand misses the SIMD
loop), and the row sums p.sum(axis=1) of (100, 10) class probabilities about twice as long
as the BLAS product p @ ones. Allocating those arrays on every call would cost what they
save, so they are kept here by (value, shape, dtype) and made read-only so that no caller
can change them for the others.
"""
import threading

import numpy as np

MAX_BYTES = 32 * 2**20  # all cached arrays together; a model needs a few hundred KB
_arrays = {}
_lock = threading.Lock()  # misses may come from several threads (e.g. a parallel search)


def constant(value, shape, dtype):
    """A read-only array of `shape` and `dtype` filled with `value`, shared between callers.

    Arrays larger than a quarter of MAX_BYTES are made afresh on every call (not kept).
    """
    key = (value, shape, np.dtype(dtype))
    array = _arrays.get(key)
    if array is None:
        array = np.full(shape, value, dtype)
        array.flags.writeable = False
        if array.nbytes <= MAX_BYTES // 4:
            with _lock:
                if sum(a.nbytes for a in _arrays.values()) + array.nbytes > MAX_BYTES:
                    _arrays.clear()  # callers hold their own references: dropping ours is safe
                _arrays[key] = array
    return array
