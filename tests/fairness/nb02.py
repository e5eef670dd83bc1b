"""Notebook 02 (sanity checks): unusual correct answers and plausible wrong ones."""
NOTEBOOK = "02_sanity_checks"

CORRECT = {
    "softmax_loss": [
        # One row at a time, log-sum-exp by hand; a list as the result.
        '''import math

def softmax_loss(scores, y):
    n, c = scores.shape
    loss = 0.0
    dscores = np.zeros((n, c))
    for i in range(n):
        row = scores[i] - max(scores[i])
        log_norm = math.log(sum(math.exp(v) for v in row))
        loss -= row[y[i]] - log_norm
        dscores[i] = np.exp(row - log_norm)
        dscores[i, y[i]] -= 1
    return [loss / n, dscores / n]
''',
        # In-place work on a copy, a one-hot matrix, a print.
        '''def softmax_loss(scores, y):
    s = scores.copy()
    s -= s.max(axis=1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=1, keepdims=True)
    onehot = np.eye(scores.shape[1])[y]
    loss = -np.sum(onehot * np.log(np.where(onehot > 0, s, 1.0))) / len(y)
    return loss, (s - onehot) / len(y)

print("softmax_loss ready")
''',
    ],
    "svm_loss": [
        # CS231n's naive loops, with the margin as a parameter.
        '''def svm_loss(scores, y, delta=1.0):
    num_train, num_classes = scores.shape
    loss = 0.0
    dscores = np.zeros_like(scores, dtype=float)
    for i in range(num_train):
        correct = scores[i, y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[i, j] - correct + delta
            if margin > 0:
                loss += margin
                dscores[i, j] += 1
                dscores[i, y[i]] -= 1
    return loss / num_train, dscores / num_train
''',
        '''def svm_loss(scores, y, delta=1.0):
    n = len(y)
    correct = np.take_along_axis(scores, y[:, None], axis=1)
    margins = np.where(np.arange(scores.shape[1]) == y[:, None], 0.0,
                       np.clip(scores - correct + delta, 0, None))
    positive = (margins > 0).astype(float)
    positive[np.arange(n), y] = -positive.sum(axis=1)
    return [margins.sum() / n, positive / n]
''',
    ],
    "normalize": [
        '''def normalize(X_train, X_val, X_test):
    mu = np.mean(X_train, axis=0)
    sigma = np.std(X_train - mu)  # the centred values have mean 0: the same std
    return tuple((X - mu) / sigma for X in (X_train, X_val, X_test))
''',
        # In-place on copies; a list as the result.
        '''def _stats(X):
    mu = X.sum(axis=0) / X.shape[0]
    return mu, float(np.sqrt(((X - mu) ** 2).sum() / X.size))


def normalize(X_train, X_val, X_test):
    mu, sigma = _stats(X_train)
    out = []
    for X in (X_train, X_val, X_test):
        Z = np.array(X, dtype=np.float64, copy=True)
        Z -= mu
        Z /= sigma
        out.append(Z)
    return out
''',
    ],
    "expected_initial_loss": [
        '''def expected_initial_loss(num_classes, loss="softmax", delta=1.0):
    if loss == "svm":
        return sum(delta for _ in range(num_classes - 1))
    return -np.log(1.0 / num_classes)
''',
        '''import math

def expected_initial_loss(num_classes, loss="softmax", delta=1.0):
    formulas = {"softmax": lambda: math.log(num_classes),
                "svm": lambda: delta * (num_classes - 1)}
    return formulas[loss]()
''',
    ],
}

WRONG = {
    "softmax_loss": [
        '''def softmax_loss(scores, y):
    n = len(y)
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    d = p.copy()
    d[np.arange(n), y] -= 1
    return -np.mean(np.log(p[np.arange(n), y])), -d / n
''',
        '''def softmax_loss(scores, y):
    n = len(y)
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    d = p.copy()
    d[np.arange(n), y] -= 1
    return -np.mean(np.log10(p[np.arange(n), y])), d / n
''',
        # Softmax over the wrong axis.
        '''def softmax_loss(scores, y):
    n = len(y)
    shifted = scores - scores.max(axis=0, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=0, keepdims=True)
    d = p.copy()
    d[np.arange(n), y] -= 1
    return -np.mean(np.log(p[np.arange(n), y])), d / n
''',
    ],
    "svm_loss": [
        '''def svm_loss(scores, y, delta=1.0):
    n = len(y)
    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None] + delta)
    margins[np.arange(n), y] = 0
    d = (margins >= 0).astype(float)
    d[np.arange(n), y] = -(margins > 0).sum(axis=1)
    return margins.sum() / n, d / n
''',
        '''def svm_loss(scores, y, delta=1.0):
    n = len(y)
    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0
    d = (margins > 0).astype(float)
    d[np.arange(n), y] = -d.sum(axis=1)
    return margins.sum() / n, d / n
''',
        '''def svm_loss(scores, y, delta=1.0):
    n = len(y)
    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None] + delta)
    margins[np.arange(n), y] = 0
    d = (margins > 0).astype(float)
    d[np.arange(n), y] = d.sum(axis=1)
    return margins.sum() / n, d / n
''',
    ],
    "normalize": [
        '''def normalize(X_train, X_val, X_test):
    mu = X_train.mean(axis=0)
    sigma = np.std(X_train - mu, ddof=1)
    return (X_train - mu) / sigma, (X_val - mu) / sigma, (X_test - mu) / sigma
''',
        '''def normalize(X_train, X_val, X_test):
    mu = X_train.mean()
    sigma = np.std(X_train - mu)
    return (X_train - mu) / sigma, (X_val - mu) / sigma, (X_test - mu) / sigma
''',
        '''def normalize(X_train, X_val, X_test):
    mu = X_train.mean(axis=0)
    scale = np.abs(X_train - mu).max()
    return (X_train - mu) / scale, (X_val - mu) / scale, (X_test - mu) / scale
''',
    ],
    "expected_initial_loss": [
        '''def expected_initial_loss(num_classes, loss="softmax", delta=1.0):
    if loss == "softmax":
        return np.log(1.0 / num_classes)
    return (num_classes - 1) * delta
''',
        '''def expected_initial_loss(num_classes, loss="softmax", delta=1.0):
    if loss == "softmax":
        return 1.0 / num_classes
    return (num_classes - 1) * delta
''',
        '''def expected_initial_loss(num_classes, loss="softmax", delta=1.0):
    if loss == "softmax":
        return float(np.log(num_classes))
    return (num_classes - 1) * delta / num_classes
''',
    ],
}
