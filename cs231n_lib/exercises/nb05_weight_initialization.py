"""Exercises of notebook 05 (weight initialization): the initializer for five schemes, and
per-layer activation statistics through a stack of layers.

`init_weights` draws random numbers, so it is graded by properties (shape, exact zeros, mean,
standard deviation, shape of the distribution, use of the given rng), never by exact values.
`forward_activation_stats` is deterministic and compared with the reference value by value.
Every known mistake is written the way a student would write it (plain numpy, same signature).
"""
import numpy as np

from cs231n_lib import init, monitor
from cs231n_lib.exercises._habits import add_signature_habits, results_with_habits
from cs231n_lib.grading import Case, Exercise, Mistake, check_case, fail, register
from cs231n_lib.i18n import tr

NOTEBOOK = "05_weight_initialization"


# ----------------------------------------------------------------------------- init_weights

SCHEMES = ("zeros", "small", "xavier", "glorot", "he")
STD_FORMULAS = {"small": "0.01", "xavier": "1/sqrt(n_in)", "glorot": "sqrt(2/(n_in+n_out))",
                "he": "sqrt(2/n_in)"}
# The empirical std of >= 30,000 normal draws is within 0.5% of the true one (1 sigma), so 3%
# is far outside chance, yet well inside the gaps between the schemes and the known mistakes.
STD_TOLERANCE = 0.03
# Excess kurtosis: 0 for a normal distribution, -1.2 for a uniform one (standard error ~0.03).
KURTOSIS_LIMIT = 0.5


def init_weights_fan_out(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    if scheme == "small":
        std = 0.01
    elif scheme == "xavier":
        std = 1 / np.sqrt(n_out)
    elif scheme == "glorot":
        std = np.sqrt(2 / (n_in + n_out))
    else:
        std = np.sqrt(2 / n_out)
    return std * rng.standard_normal((n_in, n_out))


def init_weights_variance_as_std(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    if scheme == "small":
        std = 0.01
    elif scheme == "xavier":
        std = 1 / n_in
    elif scheme == "glorot":
        std = 2 / (n_in + n_out)
    else:
        std = 2 / n_in
    return std * rng.standard_normal((n_in, n_out))


def init_weights_he_without_2(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    if scheme == "small":
        std = 0.01
    elif scheme == "xavier":
        std = 1 / np.sqrt(n_in)
    elif scheme == "glorot":
        std = np.sqrt(2 / (n_in + n_out))
    else:
        std = np.sqrt(1 / n_in)
    return std * rng.standard_normal((n_in, n_out))


def init_weights_he_2_outside_sqrt(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    if scheme == "small":
        std = 0.01
    elif scheme == "xavier":
        std = 1 / np.sqrt(n_in)
    elif scheme == "glorot":
        std = np.sqrt(2 / (n_in + n_out))
    else:
        std = 2 / np.sqrt(n_in)
    return std * rng.standard_normal((n_in, n_out))


def init_weights_uniform(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    if scheme == "small":
        std = 0.01
    elif scheme == "xavier":
        std = 1 / np.sqrt(n_in)
    elif scheme == "glorot":
        std = np.sqrt(2 / (n_in + n_out))
    else:
        std = np.sqrt(2 / n_in)
    limit = std * np.sqrt(3)  # uniform(-a, a) has std a / sqrt(3)
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def init_weights_transposed(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_out, n_in))
    if scheme == "small":
        std = 0.01
    elif scheme == "xavier":
        std = 1 / np.sqrt(n_in)
    elif scheme == "glorot":
        std = np.sqrt(2 / (n_in + n_out))
    else:
        std = np.sqrt(2 / n_in)
    return std * rng.standard_normal((n_out, n_in))


def init_weights_global_random(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    if scheme == "small":
        std = 0.01
    elif scheme == "xavier":
        std = 1 / np.sqrt(n_in)
    elif scheme == "glorot":
        std = np.sqrt(2 / (n_in + n_out))
    else:
        std = np.sqrt(2 / n_in)
    return std * np.random.randn(n_in, n_out)


def init_weights_own_generator(scheme, n_in, n_out, rng):
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    if scheme == "small":
        std = 0.01
    elif scheme == "xavier":
        std = 1 / np.sqrt(n_in)
    elif scheme == "glorot":
        std = np.sqrt(2 / (n_in + n_out))
    else:
        std = np.sqrt(2 / n_in)
    my_rng = np.random.default_rng(0)
    return std * my_rng.standard_normal((n_in, n_out))


FAN_OUT = Mistake(
    "fan_out instead of fan_in",
    "Xavier and He scale by the number of INPUTS of the layer (n_in, the fan-in): each output "
    "sums n_in terms, and that sum is what must keep unit variance.", init_weights_fan_out)
VARIANCE_AS_STD = Mistake(
    "variance used as the standard deviation",
    "1/n_in (Xavier) and 2/n_in (He) are VARIANCES; rng.standard_normal has std 1, so "
    "multiply it by the square root: 1/sqrt(n_in), sqrt(2/n_in).", init_weights_variance_as_std)
HE_WITHOUT_2 = Mistake(
    "He without the factor 2",
    "He uses std sqrt(2/n_in): ReLU zeroes half of its inputs, which halves the signal's "
    "second moment, and the 2 gives it back. Without it He is just Xavier.",
    init_weights_he_without_2)
HE_2_OUTSIDE_SQRT = Mistake(
    "He with the 2 outside the square root",
    "He's std is sqrt(2/n_in) = sqrt(2)/sqrt(n_in), not 2/sqrt(n_in), whose variance 4/n_in "
    "is twice He's.", init_weights_he_2_outside_sqrt)
UNIFORM = Mistake(
    "uniform instead of normal",
    "These schemes draw from a normal (Gaussian) distribution N(0, std^2): use "
    "rng.standard_normal (or rng.normal), not rng.uniform.", init_weights_uniform)
TRANSPOSED = Mistake(
    "shape (n_out, n_in) instead of (n_in, n_out)",
    "Layers compute x @ W with x of shape (N, n_in), so W has one row per input: (n_in, n_out).",
    init_weights_transposed)
GLOBAL_RANDOM = Mistake(
    "draws from np.random instead of rng",
    "Draw every random number from the rng argument (e.g. rng.standard_normal(...)); "
    "np.random.* uses a hidden global state, so the same rng seed does not give the same "
    "weights.", init_weights_global_random)
OWN_GENERATOR = Mistake(
    "creates its own generator instead of using rng",
    "A generator made inside the function gives the same weights whatever rng is passed in; "
    "draw from the rng argument instead.", init_weights_own_generator)

INIT_MISTAKES = [FAN_OUT, VARIANCE_AS_STD, HE_WITHOUT_2, HE_2_OUTSIDE_SQRT, UNIFORM, TRANSPOSED,
                 GLOBAL_RANDOM, OWN_GENERATOR]


def _fans(rng):
    """(n_in, n_out): one 100..200, the other 3-6 times larger, so fan-in and fan-out (and
    Xavier, Glorot and He) give clearly different standard deviations."""
    small = int(rng.integers(100, 201))
    large = int(round(small * rng.uniform(3.0, 6.0)))
    return (large, small) if rng.random() < 0.5 else (small, large)


def _mistaken_stds(scheme, n_in, n_out):
    """[(mistake, the std that mistake gives for `scheme`), ...]."""
    candidates = {
        "xavier": [(FAN_OUT, 1 / np.sqrt(n_out)), (VARIANCE_AS_STD, 1 / n_in)],
        "glorot": [(VARIANCE_AS_STD, 2 / (n_in + n_out))],
        "he": [(FAN_OUT, np.sqrt(2 / n_out)), (VARIANCE_AS_STD, 2 / n_in),
               (HE_WITHOUT_2, 1 / np.sqrt(n_in)), (HE_2_OUTSIDE_SQRT, 2 / np.sqrt(n_in))],
    }
    return candidates.get(scheme, [])


def _fail(call, problem, mistake=None):
    fail(f"{call}: {problem}", mistake)


def _draws(init_fn, n_in, n_out, requests):
    """(call text, the student's weights as a float array) for each (scheme, seed) of
    `requests`, in order. The calls are made as one batch (in the grader one message, the
    weights streaming back while the first are checked); the first call that raised, or that
    returned no array of numbers, fails the check when it is reached, as a loop would."""
    texts = [f"init_weights({scheme!r}, n_in={n_in}, n_out={n_out}, rng)"
             for scheme, _ in requests]
    calls = [((scheme, n_in, n_out, np.random.default_rng(seed)), {})
             for scheme, seed in requests]
    for call, W in zip(texts, results_with_habits("init_weights", texts, init_fn, calls)):
        try:
            W = np.asarray(W, dtype=np.float64)
        except (TypeError, ValueError):
            _fail(call, tr("should return an array of numbers, got {type}",
                           type=type(W).__name__))
        yield call, W


def _check_scheme(call, W, scheme, n_in, n_out):
    if W.shape != (n_in, n_out):
        mistake = TRANSPOSED if W.shape == (n_out, n_in) else None
        _fail(call, tr("returned shape {shape}, expected (n_in, n_out) = {expected}",
                       shape=W.shape, expected=(n_in, n_out)), mistake)
    if not np.all(np.isfinite(W)):
        _fail(call, tr("returned values that are not finite (inf or nan)"))
    if scheme == "zeros":
        if np.any(W != 0):
            _fail(call, tr("should be exactly 0 everywhere, got values up to {largest:.3g}",
                           largest=np.abs(W).max()))
        return
    expected = init.init_std(scheme, n_in, n_out)
    std, mean = float(W.std()), float(W.mean())
    if std == 0:
        _fail(call, tr("returned a constant matrix (std 0); expected random values with std "
                       "{formula} = {expected:.4g}", formula=STD_FORMULAS[scheme],
                       expected=expected))
    # Six standard errors of the mean of W.size independent draws.
    if abs(mean) > 6 * std / np.sqrt(W.size):
        _fail(call, tr("the weights should have mean 0, got mean {mean:.3g} with std {std:.3g}",
                       mean=mean, std=std))
    # (W - mean)**4 as a square of a square: ~100x faster than np.power on 200,000 entries
    # (the grader's largest cost here), the same value to within 1e-15.
    fourth = W - mean
    fourth *= fourth
    fourth *= fourth
    excess_kurtosis = float(np.mean(fourth) / std**4 - 3)
    if abs(excess_kurtosis) > KURTOSIS_LIMIT:
        mistake = UNIFORM if excess_kurtosis < -0.9 else None
        _fail(call, tr("the weights do not look normally distributed (excess kurtosis "
                       "{kurtosis:.2f}; a normal distribution has 0, a uniform one -1.2)",
                       kurtosis=excess_kurtosis), mistake)
    if abs(std / expected - 1) > STD_TOLERANCE:
        close = [(abs(std / s - 1), m) for m, s in _mistaken_stds(scheme, n_in, n_out)
                 if abs(std / s - 1) <= STD_TOLERANCE]
        mistake = min(close, key=lambda pair: pair[0])[1] if close else None
        _fail(call, tr("the std of the weights is {std:.4g}, expected {formula} = "
                       "{expected:.4g} (within {tolerance:.0%})", std=std,
                       formula=STD_FORMULAS[scheme], expected=expected,
                       tolerance=STD_TOLERANCE), mistake)


def _check_uses_rng(call, first, again, other):
    """Same seed -> same weights; a different seed -> different weights."""
    if first.shape != again.shape or not np.array_equal(first, again):
        _fail(call, tr("two calls with generators made from the same seed returned different "
                       "weights"), GLOBAL_RANDOM)
    if np.array_equal(first, other):
        _fail(call, tr("generators made from different seeds returned the same weights"),
              OWN_GENERATOR)


def check_init_weights(rng, init_fn):
    """Grade an initializer by its distributions: every scheme on one random layer size."""
    n_in, n_out = _fans(rng)
    # Every seed is drawn from rng in the order the checks used to draw them one at a time.
    requests = [(scheme, int(rng.integers(2**31))) for scheme in SCHEMES]
    scheme = str(rng.choice(SCHEMES[1:]))
    seed = int(rng.integers(2**31))
    requests += [(scheme, seed), (scheme, seed), (scheme, seed + 1)]
    weights = _draws(init_fn, n_in, n_out, requests)
    for scheme in SCHEMES:
        call, W = next(weights)
        _check_scheme(call, W, scheme, n_in, n_out)
    (call, first), (_, again), (_, other) = next(weights), next(weights), next(weights)
    _check_uses_rng(call, first, again, other)


register(Exercise(
    name="init_weights", notebook=NOTEBOOK, reference=init.init_weights,
    custom_check=check_init_weights, mistakes=INIT_MISTAKES,
))


# ----------------------------------------------------------------------------- activation stats

CASE_ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")


def _stats_case(rng, activation=None):
    """Inputs X (N, H) whose features have different means (so per-unit statistics differ from
    statistics over all entries) and L = 2..5 square layers, weights (L, H, H), with a weight
    scale per layer that ranges from shrinking the signal to saturating the non-linearity."""
    num_examples, width = int(rng.integers(30, 121)), int(rng.integers(4, 26))
    num_layers = int(rng.integers(2, 6))
    X = rng.standard_normal((num_examples, width)) + rng.normal(0.0, 1.0, size=width)
    gains = 10 ** rng.uniform(-0.5, 1.0, size=(num_layers, 1, 1))
    weights = rng.standard_normal((num_layers, width, width)) * gains / np.sqrt(width)
    if activation is None:
        activation = str(rng.choice(CASE_ACTIVATIONS, p=(0.3, 0.3, 0.3, 0.1)))
    return Case((X, weights, activation))


def _check_every_activation(rng, student_fn):
    """custom_check: one case per activation on every seed, so a mistake that shows for one
    non-linearity only (tanh's saturation threshold, say) fails every set of hidden cases."""
    seed = int(rng.integers(2**31))
    for offset, activation in enumerate(CASE_ACTIVATIONS):
        case = _stats_case(np.random.default_rng(seed + offset), activation)
        check_case(_FORWARD_ACTIVATION_STATS, student_fn, case, seed + offset)


def stats_of_pre_activation(X, weights, activation):
    funcs = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
             "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}
    means, stds, saturated = [], [], []
    h = X
    for W in weights:
        z = h @ W
        h = funcs[activation](z)
        means.append(z.mean())
        stds.append(z.std())
        if activation == "sigmoid":
            saturated.append(np.mean((z < 0.01) | (z > 0.99)))
        elif activation == "tanh":
            saturated.append(np.mean(np.abs(z) > 0.99))
        else:
            saturated.append(0.0)
    return np.array(means), np.array(stds), np.array(saturated)


def stats_pre_activation_fed_forward(X, weights, activation):
    funcs = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
             "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}
    means, stds, saturated = [], [], []
    h = X
    for W in weights:
        z = h @ W
        a = funcs[activation](z)
        h = z
        means.append(a.mean())
        stds.append(a.std())
        if activation == "sigmoid":
            saturated.append(np.mean((a < 0.01) | (a > 0.99)))
        elif activation == "tanh":
            saturated.append(np.mean(np.abs(a) > 0.99))
        else:
            saturated.append(0.0)
    return np.array(means), np.array(stds), np.array(saturated)


def stats_std_per_unit(X, weights, activation):
    funcs = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
             "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}
    means, stds, saturated = [], [], []
    h = X
    for W in weights:
        h = funcs[activation](h @ W)
        means.append(h.mean())
        stds.append(h.std(axis=0).mean())
        if activation == "sigmoid":
            saturated.append(np.mean((h < 0.01) | (h > 0.99)))
        elif activation == "tanh":
            saturated.append(np.mean(np.abs(h) > 0.99))
        else:
            saturated.append(0.0)
    return np.array(means), np.array(stds), np.array(saturated)


def stats_std_per_example(X, weights, activation):
    funcs = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
             "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}
    means, stds, saturated = [], [], []
    h = X
    for W in weights:
        h = funcs[activation](h @ W)
        means.append(h.mean())
        stds.append(h.std(axis=1).mean())
        if activation == "sigmoid":
            saturated.append(np.mean((h < 0.01) | (h > 0.99)))
        elif activation == "tanh":
            saturated.append(np.mean(np.abs(h) > 0.99))
        else:
            saturated.append(0.0)
    return np.array(means), np.array(stds), np.array(saturated)


def stats_variance_instead_of_std(X, weights, activation):
    funcs = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
             "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}
    means, stds, saturated = [], [], []
    h = X
    for W in weights:
        h = funcs[activation](h @ W)
        means.append(h.mean())
        stds.append(h.var())
        if activation == "sigmoid":
            saturated.append(np.mean((h < 0.01) | (h > 0.99)))
        elif activation == "tanh":
            saturated.append(np.mean(np.abs(h) > 0.99))
        else:
            saturated.append(0.0)
    return np.array(means), np.array(stds), np.array(saturated)


_FORWARD_ACTIVATION_STATS = register(Exercise(
    name="forward_activation_stats", notebook=NOTEBOOK,
    reference=monitor.forward_activation_stats, make_case=_stats_case,
    custom_check=_check_every_activation,
    output_names=("means", "stds", "saturated_fracs"), rtol=1e-6,
    mistakes=[
        Mistake("statistics of the pre-activation instead of the activation",
                "Record the layer's output after the non-linearity, a = f(h @ W): that is what "
                "the next layer receives and what saturates.", stats_of_pre_activation),
        Mistake("pre-activation passed to the next layer",
                "The next layer takes the activation f(h @ W) as its input, not h @ W; "
                "otherwise the stack is a linear network.", stats_pre_activation_fed_forward),
        Mistake("std per unit (axis 0) averaged instead of over all entries",
                "The histogram of a layer pools all N * H values; take one std over all of them "
                "(a.std()), not the mean of the units' stds, which ignores how far apart the "
                "units' means are.", stats_std_per_unit),
        Mistake("std per example (axis 1) averaged instead of over all entries",
                "Take one std over all N * H values of the layer (a.std()), not the mean of "
                "each example's std across units.", stats_std_per_example),
        Mistake("variance instead of std",
                "Return the standard deviation (a.std()), the square root of the variance.",
                stats_variance_instead_of_std),
    ],
))


add_signature_habits(NOTEBOOK)
