"""Notebook 05 (weight initialization): unusual correct answers and plausible wrong ones."""
NOTEBOOK = "05_weight_initialization"

_STATS_PREFIX = '''def forward_activation_stats(X, weights, activation):
    means, stds, saturated = [], [], []
    a = X
'''

CORRECT = {
    "init_weights": [
        '''def init_weights(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out), dtype=float)
    std = {"small": lambda: 0.01, "xavier": lambda: n_in ** -0.5,
           "glorot": lambda: (2 / (n_in + n_out)) ** 0.5, "he": lambda: (2 / n_in) ** 0.5}[scheme]()
    return rng.normal(0.0, std, size=(n_in, n_out))
''',
        # float32 weights, an if-chain, a print.
        '''def init_weights(scheme, n_in, n_out, rng):
    shape = (n_in, n_out)
    if scheme == "zeros":
        W = np.zeros(shape)
    elif scheme == "small":
        W = 0.01 * rng.standard_normal(shape)
    elif scheme == "xavier":
        W = rng.standard_normal(shape) / np.sqrt(n_in)
    elif scheme == "glorot":
        W = rng.standard_normal(shape) * np.sqrt(2.0 / (n_in + n_out))
    elif scheme == "he":
        W = rng.standard_normal(shape) * np.sqrt(2.0) / np.sqrt(n_in)
    else:
        raise ValueError(scheme)
    return W.astype(np.float32)

print(init_weights("he", 3, 2, np.random.default_rng(0)).dtype)
''',
    ],
    "forward_activation_stats": [
        # Lists as results, a helper for the non-linearity.
        '''def activate(z, activation):
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return z * (z > 0)
    return z


''' + _STATS_PREFIX + '''    for l in range(len(weights)):
        a = activate(a @ weights[l], activation)
        means.append(float(a.mean()))
        stds.append(float(np.sqrt(np.mean((a - a.mean()) ** 2))))
        if activation == "sigmoid":
            saturated.append(float(np.count_nonzero((a < 0.01) | (a > 0.99)) / a.size))
        elif activation == "tanh":
            saturated.append(float(np.count_nonzero(np.abs(a) > 0.99) / a.size))
        else:
            saturated.append(0.0)
    return np.array(means), np.array(stds), np.array(saturated)
''',
        # The sigmoid through tanh, np.dot, arrays filled in place.
        '''def forward_activation_stats(X, weights, activation):
    f = {"sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)), "tanh": np.tanh,
         "relu": lambda z: np.maximum(0.0, z), "linear": lambda z: z}[activation]
    L = len(weights)
    means, stds, saturated = np.zeros(L), np.zeros(L), np.zeros(L)
    a = X
    for l, W in enumerate(weights):
        a = f(np.dot(a, W))
        means[l], stds[l] = a.mean(), a.std()
        if activation == "sigmoid":
            saturated[l] = np.mean(np.logical_or(a < 0.01, a > 0.99))
        elif activation == "tanh":
            saturated[l] = np.mean(np.abs(a) > 0.99)
    return means, stds, saturated
''',
    ],
}

WRONG = {
    "init_weights": [
        '''def init_weights(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    std = {"small": 0.01, "xavier": 1 / np.sqrt(n_in + n_out),
           "glorot": np.sqrt(2 / (n_in + n_out)), "he": np.sqrt(2 / n_in)}[scheme]
    return std * rng.standard_normal((n_in, n_out))
''',
        '''def init_weights(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    std = {"small": 0.01, "xavier": 1 / np.sqrt(n_in),
           "glorot": np.sqrt(2 / (n_in + n_out)), "he": np.sqrt(2 / (n_in + n_out))}[scheme]
    return std * rng.standard_normal((n_in, n_out))
''',
        '''def init_weights(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    std = {"small": 0.1, "xavier": 1 / np.sqrt(n_in),
           "glorot": np.sqrt(2 / (n_in + n_out)), "he": np.sqrt(2 / n_in)}[scheme]
    return std * rng.standard_normal((n_in, n_out))
''',
    ],
    "forward_activation_stats": [
        # tanh saturation at 0.9.
        _STATS_PREFIX + '''    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
         "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}[activation]
    for W in weights:
        a = f(a @ W)
        means.append(a.mean())
        stds.append(a.std())
        if activation == "sigmoid":
            saturated.append(np.mean((a < 0.01) | (a > 0.99)))
        elif activation == "tanh":
            saturated.append(np.mean(np.abs(a) > 0.9))
        else:
            saturated.append(0.0)
    return np.array(means), np.array(stds), np.array(saturated)
''',
        # Mean of |a|.
        _STATS_PREFIX + '''    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
         "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}[activation]
    for W in weights:
        a = f(a @ W)
        means.append(np.abs(a).mean())
        stds.append(a.std())
        if activation == "sigmoid":
            saturated.append(np.mean((a < 0.01) | (a > 0.99)))
        elif activation == "tanh":
            saturated.append(np.mean(np.abs(a) > 0.99))
        else:
            saturated.append(0.0)
    return np.array(means), np.array(stds), np.array(saturated)
''',
        # The non-linearity before the product.
        _STATS_PREFIX + '''    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
         "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}[activation]
    for W in weights:
        a = f(a) @ W
        means.append(a.mean())
        stds.append(a.std())
        if activation == "sigmoid":
            saturated.append(np.mean((a < 0.01) | (a > 0.99)))
        elif activation == "tanh":
            saturated.append(np.mean(np.abs(a) > 0.99))
        else:
            saturated.append(0.0)
    return np.array(means), np.array(stds), np.array(saturated)
''',
    ],
}

NEEDS_MECHANISM = {
    # Lists of floats where the docstring says arrays of shape (L,).
    "forward_activation_stats": [
        CORRECT["forward_activation_stats"][0].replace(
            "return np.array(means), np.array(stds), np.array(saturated)",
            "return means, stds, saturated"),
    ],
}
