"""Notebook 01 (gradient checking): unusual correct answers and plausible wrong ones."""
NOTEBOOK = "01_gradient_checking"

CORRECT = {
    "eval_numerical_gradient": [
        # CS231n's own version: np.nditer, a verbose flag, prints in the cell.
        '''def eval_numerical_gradient(f, x, h=1e-5, verbose=False):
    fx = f(x)  # evaluated once, as CS231n does (unused by the centered formula)
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        x[ix] = oldval
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad

print("eval_numerical_gradient defined")
''',
        # Works on a copy through a flat view, with a helper; restores by arithmetic.
        '''def _bump(flat, i, amount):
    flat[i] = flat[i] + amount


def eval_numerical_gradient(f, x, h=1e-5):
    work = x.copy()
    flat = work.reshape(-1)  # a view of work
    grad = np.empty(x.size)
    for i in range(x.size):
        _bump(flat, i, h)
        up = f(work)
        _bump(flat, i, -2 * h)
        down = f(work)
        _bump(flat, i, h)
        grad[i] = (up - down) / (2.0 * h)
    return grad.reshape(x.shape)
''',
    ],
    "rel_error": [
        '''def rel_error(a, b):
    """Loop over the elements with plain Python floats."""
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    worst = 0.0
    for u, v in zip(a, b):
        scale = max(abs(u), abs(v))
        if scale > 0:
            worst = max(worst, abs(u - v) / scale)
    return worst
''',
        '''import warnings

def rel_error(a, b):
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore")
        errors = np.abs(np.subtract(a, b)) / np.maximum(np.abs(a), np.abs(b))
    return float(np.nanmax(np.nan_to_num(errors, nan=0.0), initial=0.0))
''',
    ],
    "grad_check_report": [
        # Loops, a helper for the band, and a list instead of a tuple as the result.
        '''def band_of(err):
    for limit, name in ((1e-2, "wrong"), (1e-4, "uncomfortable")):
        if err > limit:
            return name
    return "ok only with kinks" if err >= 1e-7 else "good"


def grad_check_report(analytic_grad, numeric_grad):
    worst, worst_index = -1.0, None
    for index in np.ndindex(np.shape(analytic_grad)):
        a, n = float(analytic_grad[index]), float(numeric_grad[index])
        scale = max(abs(a), abs(n))
        err = abs(a - n) / scale if scale else 0.0
        if err > worst:
            worst, worst_index = err, index
    return [worst, tuple(worst_index), band_of(worst)]
''',
        '''def grad_check_report(analytic_grad, numeric_grad):
    a = np.asarray(analytic_grad, dtype=float)
    n = np.asarray(numeric_grad, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        errors = np.nan_to_num(np.abs(a - n) / np.maximum(np.abs(a), np.abs(n)), nan=0.0)
    k = errors.argmax()
    index = np.unravel_index(k, errors.shape)
    err = errors.flat[k]
    bands = ["good", "ok only with kinks", "uncomfortable", "wrong"]
    level = int(err >= 1e-7) + int(err > 1e-4) + int(err > 1e-2)
    return err, tuple(int(i) for i in index), bands[level]
''',
    ],
    "affine_backward": [
        # CS231n, as written there.
        '''def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db
''',
        # One example at a time; a list as the result.
        '''def affine_backward(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    dx = np.zeros(x.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(b.shape)
    for i in range(n):
        xi = x[i].ravel()
        dx[i] = (w @ dout[i]).reshape(x.shape[1:])
        dw += np.outer(xi, dout[i])
        db += dout[i]
    return [dx, dw, db]
''',
    ],
    "two_layer_net_loss": [
        # Helper layers, np.where for the ReLU, a print.
        '''def _affine(x, w, b):
    return x @ w + b


def _softmax_log_probs(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    n = len(X)
    z = _affine(X, W1, b1)
    h = np.where(z > 0, z, 0.0)
    log_p = _softmax_log_probs(_affine(h, W2, b2))
    loss = -log_p[np.arange(n), y].mean() + reg / 2 * ((W1 ** 2).sum() + (W2 ** 2).sum())
    d = np.exp(log_p)
    d[np.arange(n), y] -= 1
    d /= n
    dh = d @ W2.T
    dz = np.where(z > 0, dh, 0.0)
    return loss, {"W1": X.T @ dz + reg * W1, "b1": dz.sum(0),
                  "W2": h.T @ d + reg * W2, "b2": d.sum(0)}

print("fixed")
''',
        # The buggy function fixed by masking with the activation (> 0 is the same set).
        '''def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    rows = np.arange(X.shape[0])
    hidden = np.maximum(X @ W1 + b1, 0.0)
    scores = hidden @ W2 + b2
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[rows, y])) + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[rows, y] -= 1.0
    dscores /= X.shape[0]
    grads = {"W2": hidden.T @ dscores + reg * W2, "b2": dscores.sum(axis=0)}
    dhidden_in = (dscores @ W2.T) * (hidden > 0)
    grads["W1"] = X.T @ dhidden_in + reg * W1
    grads["b1"] = dhidden_in.sum(axis=0)
    return float(loss), grads
''',
    ],
}

WRONG = {
    "eval_numerical_gradient": [
        # Written for matrices only.
        '''def eval_numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            old = x[i, j]
            x[i, j] = old + h
            fp = f(x)
            x[i, j] = old - h
            fm = f(x)
            x[i, j] = old
            grad[i, j] = (fp - fm) / (2 * h)
    return grad
''',
        # Perturbs the whole array at once (a directional derivative).
        '''def eval_numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        grad[index] = (f(x + h) - f(x - h)) / (2 * h)
    return grad
''',
        # Loops over the first axis only.
        '''def eval_numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for i in range(len(x)):
        old = flat[i]
        flat[i] = old + h
        fp = f(x)
        flat[i] = old - h
        fm = f(x)
        flat[i] = old
        g[i] = (fp - fm) / (2 * h)
    return grad
''',
    ],
    "rel_error": [
        '''def rel_error(a, b):
    scale = np.maximum(np.abs(a), np.abs(b))
    return float(np.mean(np.divide(np.abs(a - b), scale, out=np.zeros(np.shape(a)),
                                   where=scale > 0)))
''',
        '''def rel_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.divide(np.abs(a - b), np.abs(a), out=np.zeros(a.shape),
                                  where=a != 0)))
''',
        '''def rel_error(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.maximum(np.abs(a), np.abs(b))))
''',
    ],
    "grad_check_report": [
        # The band from the mean error.
        '''def grad_check_report(analytic_grad, numeric_grad):
    scale = np.maximum(np.abs(analytic_grad), np.abs(numeric_grad))
    errors = np.divide(np.abs(analytic_grad - numeric_grad), scale,
                       out=np.zeros(np.shape(scale)), where=scale > 0)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(errors), errors.shape))
    mean = errors.mean()
    band = ("wrong" if mean > 1e-2 else "uncomfortable" if mean > 1e-4
            else "ok only with kinks" if mean >= 1e-7 else "good")
    return float(errors[worst]), worst, band
''',
        # Written for matrices only.
        '''def grad_check_report(analytic_grad, numeric_grad):
    scale = np.maximum(np.abs(analytic_grad), np.abs(numeric_grad))
    errors = np.divide(np.abs(analytic_grad - numeric_grad), scale,
                       out=np.zeros(np.shape(scale)), where=scale > 0)
    i, j = np.unravel_index(np.argmax(errors), errors.shape)
    err = float(errors[i, j])
    band = ("wrong" if err > 1e-2 else "uncomfortable" if err > 1e-4
            else "ok only with kinks" if err >= 1e-7 else "good")
    return err, (int(i), int(j)), band
''',
        # 'good' below 1e-6 instead of 1e-7.
        '''def grad_check_report(analytic_grad, numeric_grad):
    scale = np.maximum(np.abs(analytic_grad), np.abs(numeric_grad))
    errors = np.divide(np.abs(analytic_grad - numeric_grad), scale,
                       out=np.zeros(np.shape(scale)), where=scale > 0)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(errors), errors.shape))
    err = float(errors[worst])
    band = ("wrong" if err > 1e-2 else "uncomfortable" if err > 1e-4
            else "ok only with kinks" if err >= 1e-6 else "good")
    return err, worst, band
''',
    ],
    "affine_backward": [
        '''def affine_backward(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout.mean(axis=0)
''',
        '''def affine_backward(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    return (dout @ w.T).reshape(x.shape), x.reshape(n, -1).T @ dout / n, dout.sum(axis=0)
''',
        '''def affine_backward(dout, cache):
    x, w, b = cache
    dw = x.reshape(x.shape[0], -1).T @ dout + w  # "regularization"
    return (dout @ w.T).reshape(x.shape), dw, dout.sum(axis=0)
''',
    ],
    "two_layer_net_loss": [
        # reg forgotten in dW1.
        '''def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    rows = np.arange(X.shape[0])
    z = X @ W1 + b1
    h = np.maximum(z, 0)
    s = h @ W2 + b2
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[rows, y]).mean() + 0.5 * reg * ((W1 ** 2).sum() + (W2 ** 2).sum())
    d = p.copy()
    d[rows, y] -= 1
    d /= len(X)
    dz = (d @ W2.T) * (z > 0)
    return loss, {"W1": X.T @ dz, "b1": dz.sum(0), "W2": h.T @ d + reg * W2, "b2": d.sum(0)}
''',
        # reg without the 1/2.
        '''def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    rows = np.arange(X.shape[0])
    z = X @ W1 + b1
    h = np.maximum(z, 0)
    s = h @ W2 + b2
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[rows, y]).mean() + reg * ((W1 ** 2).sum() + (W2 ** 2).sum())
    d = p.copy()
    d[rows, y] -= 1
    d /= len(X)
    dz = (d @ W2.T) * (z > 0)
    return loss, {"W1": X.T @ dz + 2 * reg * W1, "b1": dz.sum(0),
                  "W2": h.T @ d + 2 * reg * W2, "b2": d.sum(0)}
''',
        # db1 averaged instead of summed.
        '''def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    rows = np.arange(X.shape[0])
    z = X @ W1 + b1
    h = np.maximum(z, 0)
    s = h @ W2 + b2
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[rows, y]).mean() + 0.5 * reg * ((W1 ** 2).sum() + (W2 ** 2).sum())
    d = p.copy()
    d[rows, y] -= 1
    d /= len(X)
    dz = (d @ W2.T) * (z > 0)
    return loss, {"W1": X.T @ dz + reg * W1, "b1": dz.mean(0), "W2": h.T @ d + reg * W2,
                  "b2": d.sum(0)}
''',
    ],
}

NEEDS_MECHANISM = {
    # sys.exit() after the definition: plain nbgrader keeps the points.
    "rel_error": [
        '''import sys

def rel_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(a), np.abs(b))
    errors = np.divide(np.abs(a - b), scale, out=np.zeros(a.shape), where=scale > 0)
    return float(errors.max()) if errors.size else 0.0

sys.exit("done with this cell")
''',
    ],
    # A namedtuple as the result.
    "grad_check_report": [
        '''from collections import namedtuple

Report = namedtuple("Report", "max_rel_error worst_index band")


def grad_check_report(analytic_grad, numeric_grad):
    a = np.asarray(analytic_grad, dtype=float)
    n = np.asarray(numeric_grad, dtype=float)
    scale = np.maximum(np.abs(a), np.abs(n))
    errors = np.divide(np.abs(a - n), scale, out=np.zeros(a.shape), where=scale > 0)
    index = tuple(int(i) for i in np.unravel_index(errors.argmax(), errors.shape))
    err = float(errors[index])
    band = ("wrong" if err > 1e-2 else "uncomfortable" if err > 1e-4
            else "ok only with kinks" if err >= 1e-7 else "good")
    return Report(err, index, band)
''',
    ],
}
