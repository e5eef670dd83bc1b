"""Notebook 07 (regularization): unusual correct answers and plausible wrong ones.

The dropout answer cell defines dropout_forward and dropout_backward together.
"""
NOTEBOOK = "07_regularization"

_CORRECT_BACKWARD = '''

def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train" and mask is not None:
        return dout * mask
    return dout
'''

# CS231n's dropout adapted to keep_prob and the seeded generator: the scaled mask is cached.
DROPOUT_CS231N = '''def dropout_forward(x, dropout_param):
    p, mode = dropout_param["keep_prob"], dropout_param["mode"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = None
    if mode == "train":
        mask = (rng.random(x.shape) < p) / p
        out = x * mask
    elif mode == "test":
        out = x
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache
''' + _CORRECT_BACKWARD

CORRECT = {
    "l2_penalty": [
        '''def l2_penalty(params, reg):
    penalty, grads = 0.0, {}
    for name, value in params.items():
        if name.startswith("W"):
            flat = value.ravel()
            penalty += 0.5 * reg * float(np.dot(flat, flat))
            g = value.copy()
            g *= reg
            grads[name] = g
        else:
            grads[name] = np.zeros(value.shape)
    return penalty, grads
''',
        '''def is_weight(name):
    return name[0] == "W"


def l2_penalty(params, reg):
    weights = [k for k in params if is_weight(k)]
    penalty = reg / 2 * sum(np.sum(np.square(params[k])) for k in weights)
    grads = {k: (reg * v if is_weight(k) else 0 * v) for k, v in params.items()}
    return [penalty, grads]

print("L2 ready")
''',
    ],
    "dropout": [
        DROPOUT_CS231N,
        # binomial draws, a dict cache, np.where, a copy in test mode.
        '''def dropout_forward(x, dropout_param):
    keep = dropout_param["keep_prob"]
    if dropout_param["mode"] == "test":
        return x.copy(), {"mode": "test"}
    rng = np.random.default_rng(dropout_param.get("seed"))
    kept = rng.binomial(1, keep, size=x.shape).astype(bool)
    return np.where(kept, x / keep, 0.0), {"mode": "train", "kept": kept, "keep": keep}


def dropout_backward(dout, cache):
    if cache["mode"] == "test":
        return dout.copy()
    return np.where(cache["kept"], dout / cache["keep"], 0.0)
''',
    ],
}

WRONG = {
    "l2_penalty": [
        # No gradient entries for the biases.
        '''def l2_penalty(params, reg):
    weights = {k: v for k, v in params.items() if k.startswith("W")}
    penalty = 0.5 * reg * sum(np.sum(w * w) for w in weights.values())
    return penalty, {k: reg * w for k, w in weights.items()}
''',
        '''def l2_penalty(params, reg):
    penalty, grads = 0.0, {}
    for k, v in params.items():
        if k.startswith("W"):
            penalty += 0.5 * reg * np.sum(v * v)
            grads[k] = 0.5 * reg * v
        else:
            grads[k] = np.zeros_like(v)
    return penalty, grads
''',
        '''def l2_penalty(params, reg):
    penalty, grads = 0.0, {}
    for k, v in params.items():
        if k.startswith("W"):
            penalty += 0.5 * reg * np.mean(v * v)
            grads[k] = reg * v
        else:
            grads[k] = np.zeros_like(v)
    return penalty, grads
''',
    ],
    "dropout": [
        # The gradient is not scaled by 1 / keep_prob.
        '''def dropout_forward(x, dropout_param):
    keep = dropout_param["keep_prob"]
    if dropout_param["mode"] == "test":
        return x, (dropout_param, None)
    mask = np.random.default_rng(dropout_param.get("seed")).random(x.shape) < keep
    return x * mask / keep, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout if mask is None else dout * mask
''',
        # The seed is ignored.
        '''def dropout_forward(x, dropout_param):
    keep = dropout_param["keep_prob"]
    if dropout_param["mode"] == "test":
        return x, (dropout_param, None)
    mask = (np.random.default_rng().random(x.shape) < keep) / keep
    return x * mask, (dropout_param, mask)
''' + _CORRECT_BACKWARD,
        # One mask drawn once and reused by every call.
        '''_mask = {}

def dropout_forward(x, dropout_param):
    keep = dropout_param["keep_prob"]
    if dropout_param["mode"] == "test":
        return x, (dropout_param, None)
    if x.shape not in _mask:
        _mask[x.shape] = (np.random.default_rng(dropout_param.get("seed")).random(x.shape) < keep) / keep
    return x * _mask[x.shape], (dropout_param, _mask[x.shape])
''' + _CORRECT_BACKWARD,
    ],
}

NEEDS_MECHANISM = {
    # A namedtuple cache; sys.exit() after the definitions.
    "dropout": [
        '''import sys
from collections import namedtuple

DropoutCache = namedtuple("DropoutCache", "mode mask")


def dropout_forward(x, dropout_param):
    keep = dropout_param["keep_prob"]
    if dropout_param["mode"] == "test":
        return x, DropoutCache("test", None)
    mask = (np.random.default_rng(dropout_param.get("seed")).random(x.shape) < keep) / keep
    return x * mask, DropoutCache("train", mask)


def dropout_backward(dout, cache):
    return dout if cache.mode == "test" else dout * cache.mask

sys.exit()
''',
    ],
}

WRONG_NEEDS_MECHANISM = {
    # Scales the caller's weights in place (arrays inside a dict).
    "l2_penalty": [
        '''def l2_penalty(params, reg):
    penalty, grads = 0.0, {}
    for k, W in params.items():
        if k.startswith("W"):
            penalty += 0.5 * reg * np.sum(W * W)
            W *= reg
            grads[k] = W
        else:
            grads[k] = np.zeros_like(W)
    return penalty, grads
''',
    ],
}
