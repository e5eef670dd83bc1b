"""Notebook 06 (batch normalization): unusual correct answers and plausible wrong ones.

The k-th correct forward and backward answers share a cache layout (correct student k gets
both); the wrong backward answers read the cache of the first correct forward, which every
other student has.
"""
NOTEBOOK = "06_batch_normalization"

# CS231n-style forward: a tuple cache (x, x_hat, mean, var, gamma, eps).
FORWARD_TUPLE = '''def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        sample_mean = x.mean(axis=0)
        sample_var = x.var(axis=0)
        x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
        out = gamma * x_hat + beta
        cache = (x, x_hat, sample_mean, sample_var, gamma, eps)
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache
'''

# In-place work on a copy, bn_param.update, a list as the result, a dict cache.
FORWARD_DICT = '''def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    mean_run = bn_param.get("running_mean", np.zeros(D))
    var_run = bn_param.get("running_var", np.ones(D))
    if bn_param["mode"] == "train":
        mu = np.mean(x, axis=0)
        var = np.mean((x - mu) ** 2, axis=0)
        bn_param.update(running_mean=momentum * mean_run + (1 - momentum) * mu,
                        running_var=momentum * var_run + (1 - momentum) * var)
    else:
        mu, var = mean_run, var_run
        bn_param.update(running_mean=mean_run, running_var=var_run)
    inv_std = 1.0 / np.sqrt(var + eps)
    xn = np.array(x, dtype=float, copy=True)
    xn -= mu
    xn *= inv_std
    out = xn * gamma
    out += beta
    return [out, {"xn": xn, "inv_std": inv_std, "gamma": gamma}]
'''

CORRECT = {
    "batchnorm_forward": [FORWARD_TUPLE, FORWARD_DICT],
    "batchnorm_backward": [
        # CS231n's staged graph, reading the tuple cache.
        '''def batchnorm_backward(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    N = dout.shape[0]
    xmu = x - mean
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    dsq = 1.0 / N * np.ones_like(dout) * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)
    dx2 = 1.0 / N * np.ones_like(dout) * dmu
    dx = dx1 + dx2
    return dx, dgamma, dbeta
''',
        # Feature by feature, reading the dict cache.
        '''def batchnorm_backward(dout, cache):
    xn, inv_std, gamma = cache["xn"], cache["inv_std"], cache["gamma"]
    N, D = dout.shape
    dx, dgamma, dbeta = np.zeros((N, D)), np.zeros(D), np.zeros(D)
    for j in range(D):
        g = dout[:, j]
        dbeta[j] = g.sum()
        dgamma[j] = (g * xn[:, j]).sum()
        dxn = g * gamma[j]
        dx[:, j] = inv_std[j] * (dxn - dxn.mean() - xn[:, j] * (dxn * xn[:, j]).mean())
    return [dx, dgamma, dbeta]
''',
    ],
    "batchnorm_backward_alt": [
        '''def batchnorm_backward_alt(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(x_hat * dout, axis=0)
    dx = (gamma / np.sqrt(var + eps) / N) * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
''',
        '''def batchnorm_backward_alt(dout, cache):
    xn, inv_std, gamma = cache["xn"], cache["inv_std"], cache["gamma"]
    dbeta = dout.sum(0)
    dgamma = np.einsum("nd,nd->d", dout, xn)
    dx = gamma * inv_std * (dout - dout.mean(0) - xn * (dout * xn).mean(0))
    return dx, dgamma, dbeta
''',
    ],
}

WRONG = {
    "batchnorm_forward": [
        # Normalized across the features of each example (layer norm).
        FORWARD_TUPLE.replace("sample_mean = x.mean(axis=0)", "sample_mean = x.mean(axis=1, keepdims=True)")
                     .replace("sample_var = x.var(axis=0)", "sample_var = x.var(axis=1, keepdims=True)")
                     .replace("(1 - momentum) * sample_mean", "(1 - momentum) * sample_mean.mean()")
                     .replace("(1 - momentum) * sample_var", "(1 - momentum) * sample_var.mean()"),
        # The running variance tracks the standard deviation.
        FORWARD_TUPLE.replace("(1 - momentum) * sample_var", "(1 - momentum) * np.sqrt(sample_var)"),
        # A different default momentum.
        FORWARD_TUPLE.replace('bn_param.get("momentum", 0.9)', 'bn_param.get("momentum", 0.99)'),
    ],
    "batchnorm_backward": [
        # dgamma and dbeta swapped.
        '''def batchnorm_backward(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    N = dout.shape[0]
    dgamma, dbeta = dout.sum(0), (dout * x_hat).sum(0)
    dx = gamma / np.sqrt(var + eps) * (dout - dout.mean(0) - x_hat * (dout * x_hat).mean(0))
    return dx, dgamma, dbeta
''',
        # Only the mean term of dx.
        '''def batchnorm_backward(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    dgamma, dbeta = (dout * x_hat).sum(0), dout.sum(0)
    dx = gamma / np.sqrt(var + eps) * (dout - dout.mean(0))
    return dx, dgamma, dbeta
''',
        # eps left out of the standard deviation.
        '''def batchnorm_backward(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    dgamma, dbeta = (dout * x_hat).sum(0), dout.sum(0)
    dx = gamma / np.sqrt(var) * (dout - dout.mean(0) - x_hat * (dout * x_hat).mean(0))
    return dx, dgamma, dbeta
''',
    ],
    "batchnorm_backward_alt": [
        '''def batchnorm_backward_alt(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    N = dout.shape[0]
    dbeta, dgamma = dout.sum(0), (x_hat * dout).sum(0)
    dx = (1 / np.sqrt(var + eps) / N) * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
''',
        '''def batchnorm_backward_alt(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    N = dout.shape[0]
    dbeta, dgamma = dout.sum(0), (x * dout).sum(0)
    dx = (gamma / np.sqrt(var + eps) / N) * (N * dout - dbeta - x_hat * (x_hat * dout).sum(0))
    return dx, dgamma, dbeta
''',
        '''def batchnorm_backward_alt(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    N = dout.shape[0]
    dbeta, dgamma = dout.sum(0), (x_hat * dout).sum(0)
    dx = (gamma / np.sqrt(var + eps) / N) * (N * dout - dbeta + x_hat * dgamma)
    return dx, dgamma, dbeta
''',
    ],
}

_NAMEDTUPLE = '''from collections import namedtuple

BNCache = namedtuple("BNCache", "x_hat inv_std gamma")


''' + FORWARD_DICT.replace('[out, {"xn": xn, "inv_std": inv_std, "gamma": gamma}]',
                           '(out, BNCache(xn, inv_std, gamma))')

NEEDS_MECHANISM = {
    # The docstring leaves the cache's contents to the student: a namedtuple, a dataclass.
    "batchnorm_forward": [
        _NAMEDTUPLE,
        '''from dataclasses import dataclass


@dataclass
class Saved:
    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray


''' + FORWARD_DICT.replace('[out, {"xn": xn, "inv_std": inv_std, "gamma": gamma}]',
                           '(out, Saved(xn, inv_std, gamma))'),
    ],
    "batchnorm_backward": [
        '''def batchnorm_backward(dout, cache):
    dbeta = dout.sum(0)
    dgamma = (dout * cache.x_hat).sum(0)
    dxn = dout * cache.gamma
    dx = cache.inv_std * (dxn - dxn.mean(0) - cache.x_hat * (dxn * cache.x_hat).mean(0))
    return dx, dgamma, dbeta
''',
    ] * 2,
    "batchnorm_backward_alt": [
        '''def batchnorm_backward_alt(dout, cache):
    x_hat, inv_std, gamma = cache.x_hat, cache.inv_std, cache.gamma
    dx = gamma * inv_std * (dout - dout.mean(0) - x_hat * (dout * x_hat).mean(0))
    return dx, (dout * x_hat).sum(0), dout.sum(0)
''',
    ] * 2,
}

WRONG_NEEDS_MECHANISM = {}
