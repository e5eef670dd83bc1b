"""First-order update rules: SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam.

Every rule has the CS231n signature ``next_w, config = rule(w, dw, config=None)``:

- w: current weights, an array of any shape;
- dw: gradient of the loss with respect to w, same shape as w;
- config: dict of hyperparameters and optimizer state (velocity, caches, step count).
  Missing hyperparameters are filled in with ``config.setdefault``; missing state
  starts at zero. The same dict object is updated and returned.

No rule modifies ``w`` or ``dw``: ``next_w`` is always a new array, and state arrays in
``config`` are replaced rather than updated in place. ``next_w`` has the floating dtype
of ``w`` (float32 stays float32).
"""
import math

import numpy as np

from cs231n_lib._validate import require_choice, require_positive, require_same_shape


def _start(w, dw, config, learning_rate):
    """Check shapes, create the config dict if needed and fill in the learning rate."""
    require_same_shape("w", w, "dw", dw)
    if config is None:
        config = {}
    config.setdefault("learning_rate", learning_rate)
    require_positive("learning_rate", config["learning_rate"])
    return config


def _keep_dtype(w, next_w):
    """Return next_w in w's floating dtype (a float64 hyperparameter must not upcast float32)."""
    w_dtype = np.asarray(w).dtype
    if np.issubdtype(w_dtype, np.floating):
        return next_w.astype(w_dtype, copy=False)
    return next_w


def sgd(w, dw, config=None):
    """Vanilla SGD: next_w = w - learning_rate * dw. w, dw: same shape.

    config: learning_rate (default 1e-2).
    """
    if (type(w) is np.ndarray and type(dw) is np.ndarray and w.dtype == dw.dtype
            and w.dtype.kind == "f" and w.shape == dw.shape and config is not None
            and "learning_rate" in config):
        # Fast path for the training loop (float arrays of one dtype): one allocation instead
        # of two, with the same bits as w - lr * dw (negation and w + (-a) are exact).
        lr = config["learning_rate"]
        if not (type(lr) is float and 0.0 < lr < math.inf):  # cheap check for the common case
            require_positive("learning_rate", lr)
        next_w = dw * (-lr)
        next_w += w
        if next_w.dtype != w.dtype:  # a numpy float64 lr promotes float32: cast back
            next_w = next_w.astype(w.dtype)
        return next_w, config
    config = _start(w, dw, config, 1e-2)
    next_w = w - config["learning_rate"] * dw
    return _keep_dtype(w, next_w), config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum: v = momentum * v - learning_rate * dw; next_w = w + v. w, dw: same shape.

    config: learning_rate (1e-2), momentum (0.9), velocity (array like w, starts at 0).
    """
    config = _start(w, dw, config, 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity")
    if v is None:
        v = np.zeros_like(w)
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return _keep_dtype(w, w + v), config


def nesterov_momentum(w, dw, config=None):
    """Nesterov momentum in the change-of-variables form. w, dw: same shape.

    With w the look-ahead point: v_prev = v; v = momentum * v - learning_rate * dw;
    next_w = w - momentum * v_prev + (1 + momentum) * v.
    config: learning_rate (1e-2), momentum (0.9), velocity (array like w, starts at 0).
    """
    config = _start(w, dw, config, 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v_prev = config.get("velocity")
    if v_prev is None:
        v_prev = np.zeros_like(w)
    v = mu * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    next_w = w - mu * v_prev + (1 + mu) * v
    return _keep_dtype(w, next_w), config


def adagrad(w, dw, config=None):
    """AdaGrad: cache += dw**2; next_w = w - learning_rate * dw / (sqrt(cache) + epsilon).

    w, dw: same shape. config: learning_rate (1e-2), epsilon (1e-7),
    cache (array like w, the running sum of squared gradients, starts at 0).
    """
    config = _start(w, dw, config, 1e-2)
    config.setdefault("epsilon", 1e-7)
    cache = config.get("cache")
    if cache is None:
        cache = np.zeros_like(w)
    cache = cache + dw * dw
    config["cache"] = cache
    # epsilon keeps the step finite for parameters that have never received a gradient.
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return _keep_dtype(w, next_w), config


def rmsprop(w, dw, config=None):
    """RMSProp: cache = decay_rate * cache + (1 - decay_rate) * dw**2; step as in AdaGrad.

    w, dw: same shape. config: learning_rate (1e-2), decay_rate (0.99), epsilon (1e-8),
    cache (array like w, leaky average of squared gradients, starts at 0).
    """
    config = _start(w, dw, config, 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    decay = config["decay_rate"]
    cache = config.get("cache")
    if cache is None:
        cache = np.zeros_like(w)
    cache = decay * cache + (1 - decay) * (dw * dw)
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return _keep_dtype(w, next_w), config


def adam(w, dw, config=None):
    """Adam: momentum (m) + RMSProp (v) with bias correction. w, dw: same shape.

    t += 1; m = beta1*m + (1-beta1)*dw; v = beta2*v + (1-beta2)*dw**2;
    next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon) with
    m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t).
    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
    m, v (arrays like w, start at 0), t (step count, starts at 0).
    """
    config = _start(w, dw, config, 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    beta1, beta2 = config["beta1"], config["beta2"]
    m = config.get("m")
    if m is None:
        m = np.zeros_like(w)
    v = config.get("v")
    if v is None:
        v = np.zeros_like(w)
    t = config["t"] + 1
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * (dw * dw)
    # m and v start at zero, so early on they underestimate the moments; dividing by
    # (1 - beta**t) removes that bias.
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["m"], config["v"], config["t"] = m, v, t
    return _keep_dtype(w, next_w), config


UPDATE_RULES = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "nesterov_momentum": nesterov_momentum,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}


def get_update_rule(name_or_callable):
    """Return the update rule called `name_or_callable`, or the callable itself."""
    if callable(name_or_callable):
        return name_or_callable
    require_choice("update rule", name_or_callable, tuple(UPDATE_RULES))
    return UPDATE_RULES[name_or_callable]


# ----------------------------------------------------------------------------- toy problems

class OptimizationPath:
    """What `optimize_function` saw: the visited points, losses, gradients and optimizer states.

    points: (num_steps + 1, *shape) — the start, then the point after each step.
    values: (num_steps + 1,) — the loss at each point (sum of f's values, so f may be elementwise).
    gradients: (num_steps, *shape) — the gradient each step used (noise included).
    configs: list of num_steps snapshots (deep copies) of the config after each step.
    """

    def __init__(self, points, values, gradients, configs):
        self.points, self.values, self.gradients, self.configs = points, values, gradients, configs

    def state(self, key):
        """Optimizer state `key` ('cache', 'velocity', 'm', ...) after each step: (num_steps, *shape)."""
        return np.array([config[key] for config in self.configs])


def optimize_function(f, start, update_rule, config=None, num_steps=50, grad_noise_std=0.0,
                      rng=None):
    """Run an update rule on a toy loss f, e.g. `data.bowl` or `data.saddle`; returns an OptimizationPath.

    f: point (*shape) -> (value, gradient (*shape)); values are summed into one loss.
    start: the first point (*shape). update_rule: a name or a rule (see `get_update_rule`).
    config: the rule's hyperparameters; the caller's dict is not changed.
    grad_noise_std: std of Gaussian noise added to every gradient (a stand-in for mini-batch
    noise); needs `rng`, a numpy Generator (or a seed).
    The run stops early (shorter arrays) when the point stops being finite.
    """
    import copy  # local: keeps the module's import light

    rule = get_update_rule(update_rule)
    if not isinstance(num_steps, (int, np.integer)) or num_steps < 0:
        raise ValueError(f"num_steps must be an int >= 0, got {num_steps!r}")
    if grad_noise_std < 0 or not np.isfinite(grad_noise_std):
        raise ValueError(f"grad_noise_std must be a finite number >= 0, got {grad_noise_std!r}")
    if grad_noise_std > 0:
        if rng is None:
            raise ValueError("grad_noise_std > 0 needs rng (a numpy Generator or a seed)")
        rng = np.random.default_rng(rng)
    w = np.array(start, dtype=np.float64)
    config = copy.deepcopy(config) if config is not None else {}
    points, values, gradients, configs = [w], [], [], []
    for _ in range(num_steps):
        value, dw = f(w)
        values.append(float(np.sum(value)))
        dw = np.asarray(dw, dtype=np.float64)
        if grad_noise_std > 0:
            dw = dw + grad_noise_std * rng.standard_normal(dw.shape)
        w, config = rule(w, dw, config)
        points.append(w)
        gradients.append(dw)
        configs.append(copy.deepcopy(config))
        if not np.all(np.isfinite(w)):
            break
    values.append(float(np.sum(f(w)[0])))
    return OptimizationPath(np.array(points), np.array(values),
                            np.array(gradients).reshape((len(gradients),) + w.shape), configs)
