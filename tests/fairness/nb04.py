"""Notebook 04 (optimizers): unusual correct answers and plausible wrong ones.

The answer cells replace the whole function, including the lines the release gives.
"""
NOTEBOOK = "04_optimizers"


def _rule(name, defaults, body, head=""):
    """Source of an update rule `name` whose config gets `defaults`, then runs `body`."""
    lines = [head + f"def {name}(w, dw, config=None):",
             "    config = {} if config is None else config"]
    lines += [f"    config.setdefault({k!r}, {v!r})" for k, v in defaults]
    return "\n".join(lines) + "\n" + body


SGD = [("learning_rate", 1e-2)]
MOMENTUM = SGD + [("momentum", 0.9)]
ADAGRAD = SGD + [("epsilon", 1e-7)]
RMSPROP = SGD + [("decay_rate", 0.99), ("epsilon", 1e-8)]
ADAM = [("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8), ("t", 0)]

CORRECT = {
    "sgd": [
        # In-place on a copy (CS231n updated w itself).
        _rule("sgd", SGD, '''    next_w = w.copy()
    next_w -= config["learning_rate"] * dw
    return next_w, config
'''),
        _rule("sgd", SGD, '''    return np.subtract(w, np.multiply(config["learning_rate"], dw)), config
'''),
    ],
    "sgd_momentum": [
        # CS231n's code, as written there.
        _rule("sgd_momentum", MOMENTUM, '''    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config
'''),
        # Element by element; a list as the result.
        _rule("sgd_momentum", MOMENTUM, '''    v = np.array(config.get("velocity", np.zeros(w.shape)), dtype=float)
    next_w = np.array(w, dtype=float)
    for i in np.ndindex(w.shape):
        v[i] = config["momentum"] * v[i] - config["learning_rate"] * dw[i]
        next_w[i] += v[i]
    config["velocity"] = v
    return [next_w, config]
'''),
    ],
    "nesterov_momentum": [
        _rule("nesterov_momentum", MOMENTUM, '''    mu, lr = config["momentum"], config["learning_rate"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - lr * dw
    config["velocity"] = v
    return w - mu * v_prev + (1 + mu) * v, config
'''),
        # Another formula for the same step: w + mu * v_new - lr * dw.
        _rule("nesterov_momentum", MOMENTUM, '''    mu, lr = config["momentum"], config["learning_rate"]
    v = mu * config.get("velocity", np.zeros_like(w)) - lr * dw
    config["velocity"] = v
    return w + mu * v - lr * dw, config
'''),
    ],
    "adagrad": [
        _rule("adagrad", ADAGRAD, '''    config["cache"] = config.get("cache", np.zeros_like(w)) + np.square(dw)
    step = config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    return w - step, config
'''),
        _rule("adagrad", ADAGRAD, '''    cache = np.copy(config.get("cache", np.zeros(w.shape)))
    cache += dw ** 2
    denominator = cache ** 0.5
    denominator += config["epsilon"]
    config["cache"] = cache
    return w - config["learning_rate"] * (dw / denominator), config
''', head="print('AdaGrad')\n\n"),
    ],
    "rmsprop": [
        # CS231n's code.
        _rule("rmsprop", RMSPROP, '''    cache = config.get("cache", np.zeros_like(w))
    cache = config["decay_rate"] * cache + (1 - config["decay_rate"]) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache
    return next_w, config
'''),
        # The leaky average written as an interpolation.
        _rule("rmsprop", RMSPROP, '''    old = config.get("cache", np.zeros_like(w))
    cache = old + (1 - config["decay_rate"]) * (dw * dw - old)
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''),
    ],
    "adam": [
        # CS231n's code.
        _rule("adam", ADAM, '''    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    config["t"] += 1
    t = config["t"]
    beta1, beta2, eps = config["beta1"], config["beta2"], config["epsilon"]
    m = beta1 * m + (1 - beta1) * dw
    mt = m / (1 - beta1**t)
    v = beta2 * v + (1 - beta2) * (dw**2)
    vt = v / (1 - beta2**t)
    next_w = w - config["learning_rate"] * mt / (np.sqrt(vt) + eps)
    config["m"], config["v"] = m, v
    return next_w, config
'''),
        # A helper for the bias correction, np.power.
        '''def corrected(moment, beta, t):
    return moment / (1.0 - np.power(beta, t))


def adam(w, dw, config=None):
    if config is None:
        config = {}
    for key, value in {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999,
                       "epsilon": 1e-8, "t": 0}.items():
        config.setdefault(key, value)
    t = config["t"] + 1
    m = config["beta1"] * config.get("m", 0.0) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", 0.0) + (1 - config["beta2"]) * np.power(dw, 2)
    config.update(m=m, v=v, t=t)
    step = corrected(m, config["beta1"], t) / (np.sqrt(corrected(v, config["beta2"], t))
                                               + config["epsilon"])
    return w - config["learning_rate"] * step, config
''',
    ],
}

WRONG = {
    "sgd": [
        _rule("sgd", SGD, "    return w - dw, config\n"),
        _rule("sgd", [("learning_rate", 1e-3)],
              '    return w - config["learning_rate"] * dw, config\n'),
        _rule("sgd", SGD, '    return w - config["learning_rate"] * np.sign(dw), config\n'),
    ],
    "sgd_momentum": [
        # A fresh velocity starts at the gradient.
        _rule("sgd_momentum", MOMENTUM, '''    v = config.get("velocity", dw)
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
'''),
        # Another convention for the stored velocity.
        _rule("sgd_momentum", MOMENTUM, '''    u = config.get("velocity", np.zeros_like(w))
    u = config["momentum"] * u - dw
    config["velocity"] = u
    return w + config["learning_rate"] * u, config
'''),
        _rule("sgd_momentum", SGD + [("momentum", 0.99)], '''    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
'''),
    ],
    "nesterov_momentum": [
        _rule("nesterov_momentum", MOMENTUM, '''    mu = config["momentum"]
    v = mu * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + mu * v, config
'''),
        _rule("nesterov_momentum", MOMENTUM, '''    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w - mu * v_prev + mu * v, config
'''),
        _rule("nesterov_momentum", MOMENTUM, '''    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - config["learning_rate"] * dw
    config["velocity"] = v_prev
    return w - mu * v_prev + (1 + mu) * v, config
'''),
    ],
    "adagrad": [
        _rule("adagrad", ADAGRAD, '''    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config
'''),
        _rule("adagrad", ADAGRAD, '''    cache = config.get("cache", np.zeros_like(w)) + np.abs(dw)
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''),
        _rule("adagrad", ADAGRAD, '''    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (cache + config["epsilon"]), config
'''),
    ],
    "rmsprop": [
        _rule("rmsprop", RMSPROP, '''    cache = config["decay_rate"] * config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''),
        _rule("rmsprop", RMSPROP, '''    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config
'''),
        _rule("rmsprop", SGD + [("decay_rate", 0.9), ("epsilon", 1e-8)], '''    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''),
    ],
    "adam": [
        # v of the gradient, not of its square.
        _rule("adam", ADAM, '''    t = config["t"] + 1
    m = config["beta1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta2"]) * dw
    config.update(m=m, v=v, t=t)
    m_hat, v_hat = m / (1 - config["beta1"]**t), v / (1 - config["beta2"]**t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(np.abs(v_hat)) + config["epsilon"]), config
'''),
        # Stores the corrected moments in config.
        _rule("adam", ADAM, '''    t = config["t"] + 1
    m = config["beta1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta2"]) * dw**2
    m_hat, v_hat = m / (1 - config["beta1"]**t), v / (1 - config["beta2"]**t)
    config.update(m=m_hat, v=v_hat, t=t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config
'''),
        # Bias correction with the wrong betas (beta2 for m, beta1 for v).
        _rule("adam", ADAM, '''    t = config["t"] + 1
    m = config["beta1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta2"]) * dw**2
    config.update(m=m, v=v, t=t)
    m_hat, v_hat = m / (1 - config["beta2"]**t), v / (1 - config["beta1"]**t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config
'''),
    ],
}
