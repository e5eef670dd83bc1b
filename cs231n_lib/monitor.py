"""Monitoring a training run: update/weight ratios, activation and gradient statistics,
and a rule-based diagnosis of loss curves (with synthetic curves to test it on)."""
import numpy as np

from cs231n_lib._validate import (as_array, require_choice, require_min_ndim, require_ndim,
                                  require_positive)

ACTIVATIONS = ("relu", "sigmoid", "tanh", "linear")
LOSS_DIAGNOSES = ("diverging", "lr too low", "lr too high", "bad initialization", "good")
MIN_CURVE_POINTS = 10

# A unit whose output varies less than this over a batch carries no information.
_DEAD_STD = 1e-8


def update_to_weight_ratio(w, update):
    """||update|| / ||w|| (Frobenius norms) for a parameter w and its update, same shape.

    Around 1e-3 is healthy; much lower suggests a too-low learning rate, much higher a
    too-high one. When ||w|| is 0 the ratio is inf (0.0 if the update is 0 as well).
    """
    w = as_array("w", w)
    update = as_array("update", update)
    if w.shape != update.shape:
        raise ValueError(f"w and update must have the same shape, got {w.shape} and {update.shape}")
    w_norm = float(np.linalg.norm(w))
    update_norm = float(np.linalg.norm(update))
    if w_norm == 0.0:
        return 0.0 if update_norm == 0.0 else float("inf")
    return update_norm / w_norm


def activation_stats(a, activation):
    """Summary of one layer's activations a of shape (N, H) (N examples, H units; extra
    trailing axes are flattened into units).

    Returns dict(mean, std, saturated_frac, dead_frac):
    - saturated_frac: fraction of all entries in the flat part of the non-linearity
      (sigmoid: a < 0.01 or a > 0.99; tanh: |a| > 0.99; relu and linear: 0);
    - dead_frac: fraction of units that carry no signal for this batch (relu: output 0 for
      every example; sigmoid, tanh, linear: std over the batch < 1e-8).
    """
    a = as_array("a", a)
    require_min_ndim("a", a, 2)
    require_choice("activation", activation, ACTIVATIONS)
    a = a.reshape(a.shape[0], -1)
    if a.size == 0:
        raise ValueError(f"a must not be empty, got shape {a.shape}")
    if activation == "sigmoid":
        saturated = float(np.mean((a < 0.01) | (a > 0.99)))
    elif activation == "tanh":
        saturated = float(np.mean(np.abs(a) > 0.99))
    else:
        saturated = 0.0
    if activation == "relu":
        dead = float(np.mean(np.all(a <= 0, axis=0)))
    else:
        dead = float(np.mean(a.std(axis=0) < _DEAD_STD))
    return {"mean": float(a.mean()), "std": float(a.std()),
            "saturated_frac": saturated, "dead_frac": dead}


def layer_stats(activations, activation):
    """activation_stats for every layer: activations is a list of (N, H_i) arrays;
    activation is one name for all layers or a list with one name per layer.

    Returns a list of dicts, each with a 'layer' key (1-based) added.
    """
    activations = list(activations)
    if isinstance(activation, str):
        names = [activation] * len(activations)
    else:
        names = list(activation)
        if len(names) != len(activations):
            raise ValueError(f"need one activation name per layer ({len(activations)}), "
                             f"got {len(names)}")
    stats = []
    for i, (a, name) in enumerate(zip(activations, names), start=1):
        stats.append({"layer": i, **activation_stats(a, name)})
    return stats


def gradient_stats(grads):
    """dict name -> dict(mean, std, norm) for a dict of gradient arrays (any shapes)."""
    if not isinstance(grads, dict):
        raise ValueError(f"grads must be a dict of arrays, got {type(grads).__name__}")
    stats = {}
    for name, g in grads.items():
        g = as_array(name, g)
        stats[name] = {"mean": float(np.mean(g)), "std": float(np.std(g)),
                       "norm": float(np.linalg.norm(g))}
    return stats


def count_distinct_units(W, rel_tol=1e-12):
    """How many hidden units are really different: the number of distinct columns of W.

    W: (D, H) incoming weights, column j feeding unit j. Columns closer than
    rel_tol * max|W| count as the same unit: units that start equal (zero init) get equal
    gradients, but BLAS may round equal columns differently in the last bit (~1e-16 of
    the weights), which is not a difference the network learned.
    """
    W = as_array("W", W)
    require_ndim("W", W, 2)
    require_positive("rel_tol", rel_tol)
    tolerance = rel_tol * (np.abs(W).max() if W.size else 0.0)
    representatives = []  # one column per distinct unit found so far
    for column in W.T:
        if not any(np.abs(column - other).max() <= tolerance for other in representatives):
            representatives.append(column)
    return len(representatives)


def _moving_median(x, window):
    """Centred moving median of a 1-D array x (n,), edges padded with the end values."""
    half = window // 2
    padded = np.pad(x, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)


def _time_above(smooth, level):
    """Fraction of the run during which the smoothed loss is still above `level`.

    For a monotone curve this is the time at which the curve crosses the level; counting
    points instead of looking for the first crossing makes it insensitive to noise.
    """
    return float(np.mean(smooth > level))


def loss_curve_features(losses):
    """Numbers diagnose_loss_curve decides on, for a loss curve of shape (T,).

    start: median of the first max(3, T//50) losses; end: median of the last max(3, T//10);
    t10, t50, t90: fraction of the run the smoothed loss stays above
    start - f * (start - end) for f = 0.1, 0.5, 0.9 (when it reaches 10%, 50% and 90% of
    its total decrease).
    """
    losses = as_array("losses", losses).astype(np.float64)
    require_ndim("losses", losses, 1)
    n = losses.shape[0]
    if n < MIN_CURVE_POINTS:
        raise ValueError(f"losses must have at least {MIN_CURVE_POINTS} values to be "
                         f"diagnosed, got {n}")
    features = {"finite": bool(np.all(np.isfinite(losses)))}
    if not features["finite"]:
        return features
    start = float(np.median(losses[:max(3, n // 50)]))
    end = float(np.median(losses[-max(3, n // 10):]))
    features.update(start=start, end=end)
    window = max(3, (n // 20) | 1)
    smooth = _moving_median(losses, window)
    drop = start - end
    for f in (0.1, 0.5, 0.9):
        features[f"t{round(100 * f)}"] = _time_above(smooth, start - f * drop)
    return features


def diagnose_loss_curve(losses):
    """Diagnose a loss curve of shape (T,), T >= 10, as one of LOSS_DIAGNOSES.

    Assumes a loss that is >= 0 and sampled evenly (per iteration or per epoch). Rules, in
    order, on the features of loss_curve_features:
    1. 'diverging': a non-finite value, or end > 3 * start;
    2. 'lr too low': no visible progress (end decreased by less than 5% of start);
    3. 'bad initialization': flat for at least the first 20% of the run (t10 >= 0.2), then
       a sudden drop (half of the decrease within the next 20%: t50 - t10 < 0.2);
    4. 'lr too low': a slow, nearly linear decrease (half the decrease takes >= 25%: t50 >= 0.25);
    5. 'lr too high': a fast drop followed by a plateau (90% of the decrease is done
       before 40% of the run: t90 < 0.4);
    6. 'good': a fast drop that keeps decreasing.
    """
    f = loss_curve_features(losses)
    if not f["finite"] or f["end"] > 3 * f["start"]:
        return "diverging"
    if f["start"] - f["end"] < 0.05 * abs(f["start"]):
        return "lr too low"
    if f["t10"] >= 0.2 and f["t50"] - f["t10"] < 0.2:
        return "bad initialization"
    if f["t50"] >= 0.25:
        return "lr too low"
    if f["t90"] < 0.4:
        return "lr too high"
    return "good"


def synthetic_loss_curve(kind, rng, num_points=100):
    """A noisy synthetic loss curve of shape (num_points,) that looks like `kind`.

    kind: one of LOSS_DIAGNOSES; rng: numpy.random.Generator. Curves start near ln(10)
    (softmax on 10 classes) and carry multiplicative noise of 1-4% per point, like
    per-batch losses. 'diverging' curves grow exponentially; about half overflow to inf/nan.
    """
    require_choice("kind", kind, LOSS_DIAGNOSES)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if int(num_points) < MIN_CURVE_POINTS:
        raise ValueError(f"num_points must be at least {MIN_CURVE_POINTS}, got {num_points}")
    t = np.linspace(0.0, 1.0, int(num_points))
    start = rng.uniform(2.0, 2.5)
    if kind == "lr too low":
        # slight curvature: a very slow exponential is nearly a straight line
        tau = rng.uniform(1.5, 10.0)
        shape = (1 - np.exp(-t / tau)) / (1 - np.exp(-1 / tau))
        curve = start * (1 - rng.uniform(0.2, 0.5) * shape)
    elif kind == "lr too high":
        plateau = start * rng.uniform(0.4, 0.7)
        curve = plateau + (start - plateau) * np.exp(-t / rng.uniform(0.02, 0.07))
    elif kind == "good":
        final = start * rng.uniform(0.05, 0.3)
        drop = start - final
        fast = rng.uniform(0.5, 0.65)
        tau_slow = rng.uniform(1.0, 4.0)
        slow = (np.exp(-t / tau_slow) - np.exp(-1 / tau_slow)) / (1 - np.exp(-1 / tau_slow))
        curve = (final + fast * drop * np.exp(-t / rng.uniform(0.02, 0.07))
                 + (1 - fast) * drop * slow)
    elif kind == "bad initialization":
        onset = rng.uniform(0.3, 0.6)
        width = rng.uniform(0.01, 0.025)
        low = start * rng.uniform(0.15, 0.5)
        step = 1 / (1 + np.exp(-(t - onset) / width))
        tail = rng.uniform(0.0, 0.2) * (start - low) * np.clip((t - onset) / (1 - onset), 0, None)
        curve = start - (start - low) * step - tail
    else:  # diverging
        onset = rng.uniform(0.2, 0.7)
        growth = np.log(rng.uniform(8.0, 1e4)) / (1 - onset)
        dip = rng.uniform(0.0, 0.2)
        curve = start * (1 - dip * np.minimum(t / onset, 1)) * np.exp(
            growth * np.clip(t - onset, 0, None))
    noisy = curve * (1 + rng.uniform(0.01, 0.04) * rng.standard_normal(t.shape))
    if kind == "diverging" and rng.random() < 0.5:
        # once the loss overflows, training produces inf and then nan
        blown = np.flatnonzero(curve > 50 * start)
        if blown.size:
            noisy[blown[0]] = np.inf
            noisy[blown[0] + 1:] = np.nan
    return noisy


# ----------------------------------------------------------------------------- deep stacks

def _activation_function(activation):
    """The forward function z -> f(z) (a new array) for one of ACTIVATIONS."""
    from cs231n_lib.layers import relu_forward, sigmoid_forward, tanh_forward
    forwards = {"relu": relu_forward, "sigmoid": sigmoid_forward, "tanh": tanh_forward}
    if activation == "linear":
        return lambda z: z
    return lambda z: forwards[activation](z)[0]


def forward_activations(X, weights, activation):
    """Activations of a stack of bias-free layers: h_0 = X, h_l = f(h_{l-1} @ W_l).

    X: inputs of shape (N, D). weights: a sequence of L matrices, W_l of shape (H_{l-1}, H_l)
    with H_0 = D (a list, or an array of shape (L, D, D) when every layer has width D).
    activation: one of ACTIVATIONS ('linear' means f(z) = z) for every layer.
    Returns the list of the L activations h_1..h_L, h_l of shape (N, H_l).
    """
    X = as_array("X", X)
    require_ndim("X", X, 2)
    require_choice("activation", activation, ACTIVATIONS)
    weights = list(weights)
    if not weights:
        raise ValueError("weights must hold at least one matrix, got none")
    f = _activation_function(activation)
    h, activations = X, []
    for i, W in enumerate(weights, start=1):
        W = as_array(f"weights[{i - 1}]", W)
        require_ndim(f"weights[{i - 1}]", W, 2)
        if W.shape[0] != h.shape[1]:
            raise ValueError(f"weights[{i - 1}] must have {h.shape[1]} rows to take layer "
                             f"{i - 1}'s output, got shape {W.shape}")
        h = f(h @ W)
        activations.append(h)
    return activations


def forward_activation_stats(X, weights, activation):
    """Per-layer statistics of forward_activations(X, weights, activation).

    Returns (means, stds, saturated_fracs), each of shape (L,): the mean and standard
    deviation over all N * H_l entries of layer l's activation (after the non-linearity),
    and the fraction of its entries in the flat part of the non-linearity (as in
    activation_stats: sigmoid a < 0.01 or a > 0.99, tanh |a| > 0.99, relu and linear 0).
    """
    stats = layer_stats(forward_activations(X, weights, activation), activation)
    return tuple(np.array([s[key] for s in stats])
                 for key in ("mean", "std", "saturated_frac"))


# ----------------------------------------------------------------------------- run-level checks

def update_to_weight_ratios(params, grads, learning_rate):
    """Update/weight ratio of every parameter for a plain SGD step of size learning_rate.

    params, grads: dicts name -> array, grads[name] of params[name]'s shape (extra keys in
    grads are ignored). The update is -learning_rate * grads[name], so the ratio is
    learning_rate * ||grads[name]|| / ||params[name]|| (Frobenius norms).
    Returns dict name -> float, one entry per key of params (see update_to_weight_ratio for
    ||w|| = 0).
    """
    if not isinstance(params, dict) or not isinstance(grads, dict):
        raise ValueError(f"params and grads must be dicts of arrays, got "
                         f"{type(params).__name__} and {type(grads).__name__}")
    missing = [name for name in params if name not in grads]
    if missing:
        raise ValueError(f"grads has no entry for {', '.join(missing)}")
    require_positive("learning_rate", learning_rate)
    return {name: update_to_weight_ratio(w, -learning_rate * as_array(name, grads[name]))
            for name, w in params.items()}


def should_abort(losses, initial_loss=None, factor=3.0):
    """Whether a run has blown up: its latest loss is not finite or > factor * initial_loss.

    losses: the losses so far, shape (T,) with T >= 1 (the latest one last). initial_loss:
    the loss the run started from (default losses[0]). Comparing with the *initial* loss,
    not the previous or the smallest one, keeps ordinary noise after a good drop from
    stopping a healthy run. Returns a bool.
    """
    losses = as_array("losses", losses).astype(np.float64)
    require_ndim("losses", losses, 1)
    if losses.shape[0] == 0:
        raise ValueError("losses must hold at least one value, got none")
    require_positive("factor", factor)
    if initial_loss is None:
        initial_loss = losses[0]
    latest = float(losses[-1])
    # `nan > x` is False, so the finiteness test must come first and stand alone.
    return bool(not np.isfinite(latest) or latest > factor * float(initial_loss))
