"""FullyConnectedNet: an MLP with a choice of activation, init, batchnorm, dropout and L2."""
import contextlib
import math
import numbers

import numpy as np

from cs231n_lib._constants import constant
from cs231n_lib._validate import as_array, require_choice
from cs231n_lib.init import init_std, init_weights
from cs231n_lib.layers import (
    _affine_backward_unchecked, _affine_forward_flat, _affine_weight_grad,
    _batchnorm_train_backward_owned, _batchnorm_train_forward_owned, affine_forward,
    affine_param_grads, batchnorm_backward_alt, batchnorm_forward, dropout_backward,
    dropout_forward, sigmoid_backward, tanh_backward,
)
from cs231n_lib.losses import softmax_loss

ACTIVATIONS = ("relu", "sigmoid", "tanh")
NORMALIZATIONS = (None, "batchnorm")


def _relu_forward_inplace(x):
    """ReLU that overwrites x (a fresh array we own); the output doubles as the backward cache."""
    np.maximum(x, constant(0.0, x.shape, x.dtype), out=x)  # see _constants: 2x the speed of 0.0
    return x, x  # relu_backward masks with cache > 0, the same as x > 0 before clamping


def _sigmoid_forward_inplace(x):
    """Sigmoid that overwrites x (a fresh array we own); see layers.sigmoid_forward."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x, x


def _tanh_forward_inplace(x):
    """tanh that overwrites x (a fresh array we own)."""
    np.tanh(x, out=x)
    return x, x


def _relu_backward_inplace(dout, cache):
    """relu_backward that overwrites dout (an intermediate gradient the model owns)."""
    return np.multiply(dout, cache > 0, out=dout)


# The model owns every pre-activation array and every intermediate gradient dh, so it may use
# in-place functions; the caches are those of cs231n_lib.layers.
_ACTIVATION_FUNCTIONS = {
    "relu": (_relu_forward_inplace, _relu_backward_inplace),
    "sigmoid": (_sigmoid_forward_inplace, sigmoid_backward),
    "tanh": (_tanh_forward_inplace, tanh_backward),
}


def _affine(h, w, b):
    """Affine layer for the model's (N, D) activations: skips the checks when w and b fit h.

    Anything unusual (parameters replaced by lists or by arrays of the wrong shape) goes
    through the public affine_forward, which converts or raises its clear ValueError.
    """
    if (type(w) is np.ndarray and type(b) is np.ndarray and w.ndim == 2 and b.ndim == 1
            and w.shape[0] == h.shape[1] and b.shape[0] == w.shape[1]):
        return _affine_forward_flat(h, w, b)
    return affine_forward(h, w, b)


def _library_batchnorm():
    """True unless layer_functions() swapped in other batchnorm layers (a student's): the
    in-place fast path below is the library's own and must not stand in for them."""
    return (batchnorm_forward is _LIBRARY_BATCHNORM[0]
            and batchnorm_backward_alt is _LIBRARY_BATCHNORM[1])


def _batchnorm(a, gamma, beta, bn_param):
    """Batchnorm of the model's fresh affine output a (N, D), which it may overwrite.

    Training with parameters that fit takes the in-place path of cs231n_lib.layers (fewer passes
    over a); anything else (test mode, a batch of one, parameters replaced by lists or by arrays
    of another shape or dtype) goes through the public batchnorm_forward, which converts or
    raises its clear ValueError. The cache's type tells the backward pass which path ran.
    """
    if (_library_batchnorm() and bn_param["mode"] == "train" and a.shape[0] >= 2
            and type(gamma) is np.ndarray and type(beta) is np.ndarray
            and gamma.shape == beta.shape == a.shape[1:]
            and gamma.dtype == beta.dtype == a.dtype):
        return _batchnorm_train_forward_owned(a, gamma, beta, bn_param)
    return batchnorm_forward(a, gamma, beta, bn_param)


def _affine_batchnorm_fits(h, w, b, gamma, beta, bn_param):
    """True when a training pass may run affine + batchnorm as h @ w and the in-place batchnorm
    without adding the bias b: the library's batchnorm in train mode, a batch of at least 2,
    and w, b, gamma, beta arrays of h's dtype and of the shapes that fit h.

    The mean subtraction of batchnorm cancels the bias, so adding it only adds round-off, and
    its gradient (the column sums of batchnorm's dx) is 0 up to round-off: the model returns
    exact zeros for it, so b keeps its value (its init, 0) under training, while the public path
    would let it drift by round-off (~1e-17). The running mean still includes b (test mode,
    through the public layers, adds it). Anything else takes _affine and _batchnorm.
    """
    dtype = h.dtype
    return (bn_param["mode"] == "train" and h.shape[0] >= 2 and _library_batchnorm()
            and type(w) is np.ndarray and type(b) is np.ndarray
            and type(gamma) is np.ndarray and type(beta) is np.ndarray
            and w.ndim == 2 and w.shape[0] == h.shape[1]
            and b.shape == gamma.shape == beta.shape == w.shape[1:]
            and w.dtype == b.dtype == gamma.dtype == beta.dtype == dtype)


def _batchnorm_backward(dout, cache):
    """Backward pass of _batchnorm; dout is an intermediate gradient the model owns."""
    if _library_batchnorm() and type(cache) is tuple:  # the in-place path's cache
        return _batchnorm_train_backward_owned(dout, cache)
    return batchnorm_backward_alt(dout, cache)


def _require_dim(name, value):
    """Raise unless value is a positive integer (a layer width)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _require_keep_prob(keep_prob):
    """Raise unless 0 < keep_prob <= 1 (the probability of keeping a unit)."""
    if (isinstance(keep_prob, bool) or not isinstance(keep_prob, numbers.Real)
            or not 0 < keep_prob <= 1):
        raise ValueError(f"keep_prob (probability of keeping a unit) must lie in (0, 1], "
                         f"got {keep_prob!r}")
    return float(keep_prob)


class FullyConnectedNet:
    """MLP: {affine - [batchnorm] - activation - [dropout]} x (L-1) - affine - softmax loss.

    hidden_dims: list of hidden-layer widths (may be empty: softmax regression).
    input_dim: D, features per example (inputs of shape (N, D) or (N, d1, ..., dk) with
    d1*...*dk = D); num_classes: C. activation: 'relu' | 'sigmoid' | 'tanh'. init: a scheme of
    cs231n_lib.init ('zeros', 'small', 'xavier', 'glorot', 'he') or a positive float std.
    normalization: None | 'batchnorm'. keep_prob: probability of keeping a hidden unit in
    dropout (1.0 = no dropout). reg: L2 strength; the loss adds reg/2 * sum(W**2) over weights
    only. dtype: float dtype of params, activations and scores. seed: makes init and dropout
    masks reproducible.

    Attributes: params (W1, b1, ..., WL, bL, plus gamma{i}, beta{i} for batchnorm layers),
    bn_params (one dict per hidden layer with batchnorm), dropout_param ('mode', 'keep_prob',
    'seed'), last_activations. Dropout masks: with dropout_param['seed'] None (the default) each
    training pass draws fresh masks from a generator seeded from `seed`, so a seeded model trains
    reproducibly; set dropout_param['seed'] to an int to reuse the same masks on every pass
    (needed for a gradient check of the whole model).
    """

    def __init__(self, hidden_dims, input_dim=784, num_classes=10, activation="relu", init="he",
                 normalization=None, keep_prob=1.0, reg=0.0, dtype=np.float64, seed=None):
        hidden_dims = [_require_dim(f"hidden_dims[{i}]", h) for i, h in enumerate(hidden_dims)]
        dims = [_require_dim("input_dim", input_dim), *hidden_dims,
                _require_dim("num_classes", num_classes)]
        self.activation = require_choice("activation", activation, ACTIVATIONS)
        self.normalization = require_choice("normalization", normalization, NORMALIZATIONS)
        init_std(init, dims[0], dims[1])  # validates the scheme name or std before any work
        self.init = init
        self.keep_prob = _require_keep_prob(keep_prob)
        if isinstance(reg, bool) or not isinstance(reg, numbers.Real) or not 0 <= reg < np.inf:
            raise ValueError(f"reg must be a finite number >= 0, got {reg!r}")
        self.reg = float(reg)
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise ValueError(f"dtype must be a floating-point type, got {self.dtype}")
        self.input_dim = dims[0]
        self.num_classes = dims[-1]
        self.num_layers = len(dims) - 1
        self.seed = seed

        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = init_weights(self.init, n_in, n_out, rng, dtype=self.dtype)
            self.params[f"b{i}"] = np.zeros(n_out, dtype=self.dtype)
            if self.normalization == "batchnorm" and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(n_out, dtype=self.dtype)
                self.params[f"beta{i}"] = np.zeros(n_out, dtype=self.dtype)
        self.bn_params = ([{"mode": "train"} for _ in hidden_dims]
                          if self.normalization == "batchnorm" else [])
        self.dropout_param = {"mode": "train", "keep_prob": self.keep_prob, "seed": None}
        # Derived from the model seed after the weights were drawn: same seed, same masks.
        self._dropout_rng = np.random.default_rng(rng.integers(2**63))
        self.last_activations = []

    @property
    def use_dropout(self):
        """Whether training passes apply dropout (read from dropout_param, which may be edited)."""
        return self.dropout_param["keep_prob"] < 1.0

    def _as_input(self, X):
        """X as a (N, D) array in the model's dtype (no copy when it already is one)."""
        X = as_array("X", X)
        if X.ndim < 2 or math.prod(X.shape[1:]) != self.input_dim:
            raise ValueError(f"X must have shape (N, {self.input_dim}) (or (N, d1, ..., dk) with "
                             f"d1*...*dk = {self.input_dim}), got {X.shape}")
        if X.ndim != 2:
            X = X.reshape(X.shape[0], self.input_dim)
        return X.astype(self.dtype, copy=False)

    def _dropout_seed(self, layer):
        """Seed for the dropout mask of hidden layer `layer` in this training pass."""
        fixed = self.dropout_param.get("seed")
        if fixed is None:
            return self._dropout_rng  # default_rng passes a Generator through: fresh masks
        return [fixed, layer]  # a fixed, layer-specific mask on every pass

    def _forward(self, X, mode):
        """Scores (N, C) and the per-layer caches for the backward pass."""
        self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode
        activation_forward = _ACTIVATION_FUNCTIONS[self.activation][0]
        use_dropout = mode == "train" and self.use_dropout
        params = self.params
        h = X
        caches = []
        self.last_activations = []
        batchnorm = self.normalization == "batchnorm"
        for i in range(1, self.num_layers):
            w, b = params[f"W{i}"], params[f"b{i}"]
            bn_cache, bias_skipped = None, False
            if batchnorm:
                gamma, beta = params[f"gamma{i}"], params[f"beta{i}"]
                bn_param = self.bn_params[i - 1]
                bias_skipped = _affine_batchnorm_fits(h, w, b, gamma, beta, bn_param)
                if bias_skipped:  # see _affine_batchnorm_fits: batchnorm cancels the bias
                    affine_cache = (h, w, b)
                    a, bn_cache = _batchnorm_train_forward_owned(h @ w, gamma, beta, bn_param,
                                                                 bias=b)
                else:
                    a, affine_cache = _affine(h, w, b)
                    a, bn_cache = _batchnorm(a, gamma, beta, bn_param)
            else:
                a, affine_cache = _affine(h, w, b)
            h, activation_cache = activation_forward(a)
            self.last_activations.append(h)
            dropout_cache = None
            if use_dropout:
                layer_param = dict(self.dropout_param, seed=self._dropout_seed(i))
                h, dropout_cache = dropout_forward(h, layer_param)
            caches.append((affine_cache, bn_cache, activation_cache, dropout_cache,
                           bias_skipped))
        L = self.num_layers
        scores, affine_cache = _affine(h, params[f"W{L}"], params[f"b{L}"])
        caches.append(affine_cache)
        return scores, caches

    def loss(self, X, y=None):
        """Class scores (y None, test mode) or (loss, grads) (train mode).

        X: (N, D) or (N, d1, ..., dk); y: (N,) integer labels in [0, C).
        Returns scores (N, C), or loss (float, data loss + reg/2 * sum of W**2) and grads
        (dict with the keys and shapes of params).
        """
        X = self._as_input(X)
        if y is None:
            return self._forward(X, "test")[0]
        scores, caches = self._forward(X, "train")
        loss, dscores = softmax_loss(scores, y)

        activation_backward = _ACTIVATION_FUNCTIONS[self.activation][1]
        params, reg, L = self.params, self.reg, self.num_layers
        grads = {}
        if L == 1:
            grads["W1"], grads["b1"] = affine_param_grads(dscores, caches[-1])
        else:
            dh, grads[f"W{L}"], grads[f"b{L}"] = _affine_backward_unchecked(dscores, caches[-1])
        for i in range(L - 1, 0, -1):
            (affine_cache, bn_cache, activation_cache, dropout_cache,
             bias_skipped) = caches[i - 1]
            if dropout_cache is not None:
                dh = dropout_backward(dh, dropout_cache)
            dh = activation_backward(dh, activation_cache)
            if bias_skipped:  # the cache of _batchnorm_train_forward_owned
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = _batchnorm_train_backward_owned(
                    dh, bn_cache)
            elif bn_cache is not None:
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = _batchnorm_backward(dh, bn_cache)
            if bias_skipped:  # batchnorm cancels the bias: its gradient is 0 (round-off)
                if i == 1:
                    grads["W1"] = _affine_weight_grad(dh, affine_cache)
                else:
                    dh, grads[f"W{i}"] = _affine_backward_unchecked(dh, affine_cache,
                                                                    bias_grad=False)
                w = affine_cache[1]
                grads[f"b{i}"] = np.zeros(w.shape[1], dtype=w.dtype)
            elif i == 1:  # the input needs no gradient: skip the dx matmul
                grads["W1"], grads["b1"] = affine_param_grads(dh, affine_cache)
            else:
                dh, grads[f"W{i}"], grads[f"b{i}"] = _affine_backward_unchecked(dh, affine_cache)

        if reg > 0:
            for i in range(1, L + 1):
                W = params[f"W{i}"]
                W_flat = W.ravel()
                loss += 0.5 * reg * float(np.dot(W_flat, W_flat))
                grads[f"W{i}"] += reg * W  # dW is a fresh matmul result: safe to update
        return loss, grads

    def predict(self, X, batch_size=None):
        """Predicted labels (N,) for X (N, D) in test mode, in batches of batch_size (None: all)."""
        X = self._as_input(X)
        num_samples = X.shape[0]
        batch_size = max(num_samples, 1) if batch_size is None else _require_dim("batch_size",
                                                                                  batch_size)
        return np.concatenate([np.argmax(self.loss(X[start:start + batch_size]), axis=1)
                               for start in range(0, max(num_samples, 1), batch_size)])


# The module-level names FullyConnectedNet calls for each swappable layer (see _forward/loss).
_LIBRARY_BATCHNORM = (batchnorm_forward, batchnorm_backward_alt)
_SWAPPABLE_LAYERS = {"batchnorm": ("batchnorm_forward", "batchnorm_backward_alt"),
                     "dropout": ("dropout_forward", "dropout_backward")}


@contextlib.contextmanager
def layer_functions(batchnorm=None, dropout=None):
    """Within the `with` block, FullyConnectedNet runs the given layer functions.

    batchnorm: (forward, backward) with the API of layers.batchnorm_forward and
        layers.batchnorm_backward_alt, e.g. a student's own pair (the backward pass reads the
        cache of that forward pass); dropout: (forward, backward) like layers.dropout_forward /
        dropout_backward. None keeps the library's. The experiments of notebooks 06 and 07
        train with the student's layers this way. Not thread-safe: the swap is module-wide and
        undone when the block ends, also after an error.
    """
    swaps = {}
    for kind, pair in (("batchnorm", batchnorm), ("dropout", dropout)):
        if pair is None:
            continue
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(map(callable, pair))):
            raise ValueError(f"{kind} must be a (forward, backward) pair of functions, got {pair!r}")
        swaps.update(zip(_SWAPPABLE_LAYERS[kind], pair))
    module = globals()
    saved = {name: module[name] for name in swaps}
    module.update(swaps)
    try:
        yield
    finally:
        module.update(saved)
