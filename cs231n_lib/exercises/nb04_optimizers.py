"""Exercises of notebook 04 (optimizers): the six update rules `next_w, config = rule(w, dw, config)`.

Every case is one update in the middle of a run: the config already holds the state (velocity,
cache, m, v, t) that a few earlier steps with the reference left behind, so a rule that only
works from a zero state fails. Gradients span five orders of magnitude across entries (epsilon
and bias correction then matter somewhere), and one entry never gets a gradient (like a weight
whose input is always zero), which is where AdaGrad without epsilon divides 0 by 0.
The grader compares next_w and the updated config, and reports in-place changes of w.

Every seed also checks one first step from a fresh config (left out, None or {}), so the
defaults the docstrings state are graded too (Adam's t starts at 0).
"""
import copy

import numpy as np

from cs231n_lib import optim
from cs231n_lib.exercises._habits import add_signature_habits, key_habit
from cs231n_lib.grading import Case, Exercise, Mistake, check_case, register

NOTEBOOK = "04_optimizers"
OUTPUTS = ("next_w", "config")
EARLIER_STEPS = (1, 6)   # the config holds the state of 1..5 earlier steps


def _learning_rate(rng):
    return float(10 ** rng.uniform(-3, -1))


def _epsilon(rng):
    return float(10 ** rng.uniform(-8, -6))


# Hyperparameters of each rule: key -> sampler. learning_rate is always given (a rule that
# ignores it must fail); each other key is left out with probability 1/4, so the rule's
# default (config.setdefault) is checked too.
HYPERPARAMETERS = {
    "sgd": {"learning_rate": _learning_rate},
    "sgd_momentum": {"learning_rate": _learning_rate,
                     "momentum": lambda rng: float(rng.uniform(0.5, 0.99))},
    "nesterov_momentum": {"learning_rate": _learning_rate,
                          "momentum": lambda rng: float(rng.uniform(0.5, 0.99))},
    "adagrad": {"learning_rate": _learning_rate, "epsilon": _epsilon},
    "rmsprop": {"learning_rate": _learning_rate,
                "decay_rate": lambda rng: float(rng.uniform(0.8, 0.999)),
                "epsilon": _epsilon},
    "adam": {"learning_rate": _learning_rate,
             "beta1": lambda rng: float(rng.uniform(0.8, 0.95)),
             "beta2": lambda rng: float(rng.uniform(0.99, 0.9999)),
             "epsilon": _epsilon},
}


def _gradient_scales(rng, shape):
    """Per-entry gradient sizes from 1e-5 to 1 (shape has >= 3 entries).

    Entry 0 never gets a gradient, entry 1 has size 1 and entry 2 size 1e-5 (where epsilon
    matters).
    """
    scale = 10.0 ** rng.uniform(-5, 0, size=shape)
    scale.flat[:3] = 0.0, 1.0, 1e-5
    return scale


def _make_case_for(name):
    """make_case for rule `name`: w, dw and a config carrying the state of earlier steps."""
    reference = optim.UPDATE_RULES[name]

    def make_case(rng):
        shape = tuple(int(n) for n in rng.integers(3, 6, size=int(rng.integers(1, 3))))
        scale = _gradient_scales(rng, shape)
        config = {key: sample(rng) for key, sample in HYPERPARAMETERS[name].items()}
        w = rng.standard_normal(shape)
        for _ in range(int(rng.integers(*EARLIER_STEPS))):
            w, config = reference(w, scale * rng.standard_normal(shape), config)
        omitted = [key for key in HYPERPARAMETERS[name]
                   if key != "learning_rate" and rng.random() < 0.25]
        for key in omitted:
            del config[key]
        w = rng.standard_normal(shape)   # fresh weights: state and weights are independent
        dw = scale * rng.standard_normal(shape)
        return Case((w, dw, copy.deepcopy(config)))

    return make_case


def _make_fresh_case_for(name):
    """make_case for a first step: config left out, None or {} (every default is graded)."""
    def make_case(rng):
        shape = tuple(int(n) for n in rng.integers(3, 6, size=int(rng.integers(1, 3))))
        w = rng.standard_normal(shape)
        dw = _gradient_scales(rng, shape) * rng.standard_normal(shape)
        kind = int(rng.integers(3))
        return Case((w, dw)) if kind == 0 else Case((w, dw, [None, {}][kind - 1]))
    return make_case


def _check_fresh_and_running(name):
    """custom_check: per seed, a first step from a fresh config, then a step in mid-run."""
    fresh, running = _make_fresh_case_for(name), _make_case_for(name)

    def check(rng, student_fn):
        exercise = _EXERCISES[name]
        seed = int(rng.integers(2**31))
        for case_seed, make_case in ((seed, fresh), (seed + 1, running)):
            check_case(exercise, student_fn, make_case(np.random.default_rng(case_seed)),
                       case_seed)
    check.__name__ = f"check_{name}"
    return check


def _state_habit(name):
    keys = tuple(HYPERPARAMETERS[name]) + STATE_KEYS[name]
    return key_habit("config", keys, "any of them may be missing (a fresh config is {} or "
                     "None): read each with config.get(key, default) or config.setdefault")


STATE_KEYS = {"sgd": (), "sgd_momentum": ("velocity",), "nesterov_momentum": ("velocity",),
              "adagrad": ("cache",), "rmsprop": ("cache",), "adam": ("m", "v", "t")}


# ----------------------------------------------------------------------------- known mistakes
# Written as a student would write them: self-contained, numpy only, the rule's signature.

def sgd_gradient_ascent(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    next_w = w + config["learning_rate"] * dw
    return next_w, config


def sgd_hard_coded_learning_rate(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    next_w = w - 1e-2 * dw
    return next_w, config


def momentum_sign_error(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v + config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def momentum_applied_as_w_minus_v(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config


def momentum_opposite_convention(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v + config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config


def momentum_velocity_not_saved(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    return w + v, config


def nesterov_plain_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    next_w = w - config["momentum"] * v + (1 + config["momentum"]) * v  # v_prev already overwritten
    return next_w, config


def nesterov_sign_error(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev + config["learning_rate"] * dw
    config["velocity"] = v
    return w - mu * v_prev + (1 + mu) * v, config


def adagrad_without_epsilon(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-7)
    cache = config.get("cache", np.zeros_like(w))
    cache = cache + dw ** 2
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / np.sqrt(cache)
    return next_w, config


def adagrad_leaky_average(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-7)
    cache = config.get("cache", np.zeros_like(w))
    cache = 0.99 * cache + 0.01 * dw ** 2
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return next_w, config


def rmsprop_decay_on_wrong_term(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    decay = config["decay_rate"]
    cache = config.get("cache", np.zeros_like(w))
    cache = (1 - decay) * cache + decay * dw ** 2
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return next_w, config


def rmsprop_without_leak(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    cache = cache + dw ** 2
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return next_w, config


def adam_without_bias_correction(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    config["t"] += 1
    m = config["beta1"] * m + (1 - config["beta1"]) * dw
    v = config["beta2"] * v + (1 - config["beta2"]) * dw ** 2
    config["m"], config["v"] = m, v
    next_w = w - config["learning_rate"] * m / (np.sqrt(v) + config["epsilon"])
    return next_w, config


def adam_without_bias_correction_t_unchanged(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    m = config["beta1"] * m + (1 - config["beta1"]) * dw
    v = config["beta2"] * v + (1 - config["beta2"]) * dw ** 2
    config["m"], config["v"] = m, v
    next_w = w - config["learning_rate"] * m / (np.sqrt(v) + config["epsilon"])
    return next_w, config


def adam_t_starts_at_1(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 1)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config["t"] + 1
    m = config["beta1"] * m + (1 - config["beta1"]) * dw
    v = config["beta2"] * v + (1 - config["beta2"]) * dw ** 2
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    config["m"], config["v"], config["t"] = m, v, t
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, config


def adam_t_incremented_after_use(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config["t"]
    m = config["beta1"] * m + (1 - config["beta1"]) * dw
    v = config["beta2"] * v + (1 - config["beta2"]) * dw ** 2
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    config["m"], config["v"], config["t"] = m, v, t + 1
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, config


def adam_epsilon_inside_sqrt(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config["t"] + 1
    m = config["beta1"] * m + (1 - config["beta1"]) * dw
    v = config["beta2"] * v + (1 - config["beta2"]) * dw ** 2
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    config["m"], config["v"], config["t"] = m, v, t
    next_w = w - config["learning_rate"] * m_hat / np.sqrt(v_hat + config["epsilon"])
    return next_w, config


# ----------------------------------------------------------------------------- registry

_EXERCISES = {}


def _register(name, mistakes):
    _EXERCISES[name] = register(Exercise(
        name=name, notebook=NOTEBOOK, reference=optim.UPDATE_RULES[name],
        make_case=_make_case_for(name), custom_check=_check_fresh_and_running(name),
        output_names=OUTPUTS, rtol=1e-6, mistakes=mistakes, habits=(_state_habit(name),)))


_register("sgd", [
    Mistake("gradient ascent (w + learning_rate * dw)",
            "The gradient points uphill; step against it: next_w = w - learning_rate * dw.",
            sgd_gradient_ascent),
    Mistake("hard-coded learning rate",
            "Read the step size from config['learning_rate']; 1e-2 is only its default.",
            sgd_hard_coded_learning_rate),
])

_register("sgd_momentum", [
    Mistake("momentum sign error (v = mu*v + lr*dw)",
            "The velocity accumulates steps, and a step goes against the gradient: "
            "v = mu * v - learning_rate * dw, then next_w = w + v. With +lr*dw the weights "
            "climb the loss.", momentum_sign_error),
    Mistake("momentum applied as w - v",
            "With v = mu * v - learning_rate * dw the velocity already points downhill, so the "
            "update is next_w = w + v; w - v walks uphill.", momentum_applied_as_w_minus_v),
    Mistake("velocity stored with the opposite sign",
            "v = mu*v + lr*dw with next_w = w - v is another convention, but config['velocity'] "
            "holds the CS231n velocity v = mu*v - lr*dw (the step itself), which also arrives "
            "from earlier steps; use that convention.", momentum_opposite_convention),
    Mistake("velocity not saved in config",
            "Store the new velocity in config['velocity']; otherwise the next step starts "
            "from the old one and momentum never builds up.", momentum_velocity_not_saved),
])

_register("nesterov_momentum", [
    Mistake("Nesterov using the plain momentum update",
            "Your next_w equals w + v, the plain momentum step (this also happens when v_prev "
            "is overwritten before it is used). Keep the old velocity: v_prev = v; "
            "v = mu*v - lr*dw; next_w = w - mu*v_prev + (1 + mu)*v.", nesterov_plain_momentum),
    Mistake("Nesterov velocity sign error (v = mu*v + lr*dw)",
            "The velocity must point downhill: v = mu * v - learning_rate * dw.",
            nesterov_sign_error),
])

_register("adagrad", [
    Mistake("AdaGrad without epsilon",
            "A weight that has never had a gradient has cache 0, and 0 / sqrt(0) is nan. "
            "Divide by (np.sqrt(cache) + epsilon).", adagrad_without_epsilon),
    Mistake("AdaGrad with a leaky average",
            "That is RMSProp. AdaGrad's cache is the plain sum of all squared gradients: "
            "cache = cache + dw**2 (which is why its steps keep shrinking).",
            adagrad_leaky_average),
])

_register("rmsprop", [
    Mistake("RMSProp with decay on the wrong term",
            "decay_rate weights the OLD cache: cache = decay_rate * cache + (1 - decay_rate) "
            "* dw**2, so the cache forgets slowly.", rmsprop_decay_on_wrong_term),
    Mistake("RMSProp without the leak (AdaGrad's sum)",
            "cache = cache + dw**2 is AdaGrad; RMSProp keeps a leaky average: "
            "cache = decay_rate * cache + (1 - decay_rate) * dw**2.", rmsprop_without_leak),
])

_NO_BIAS_CORRECTION = ("Adam without bias correction",
                       "m and v start at 0, so early on they are too small; count the steps "
                       "in t (t += 1 first) and divide m and v by (1 - beta1**t) and "
                       "(1 - beta2**t) before the step.")

_register("adam", [
    Mistake(*_NO_BIAS_CORRECTION, adam_without_bias_correction),
    Mistake(*_NO_BIAS_CORRECTION, adam_without_bias_correction_t_unchanged),
    Mistake("Adam's step count t starting at 1",
            "t counts the steps taken so far and starts at 0 (config.setdefault('t', 0)); it "
            "becomes 1 at the first step, where the bias correction divides by "
            "1 - beta1**1.", adam_t_starts_at_1),
    Mistake("Adam incrementing t after use",
            "t counts the steps including this one: increment it first (t = t + 1), then use "
            "it in the bias correction (at the first step t = 1, not 0).",
            adam_t_incremented_after_use),
    Mistake("Adam with epsilon inside the sqrt",
            "Adam divides by (np.sqrt(v_hat) + epsilon), not np.sqrt(v_hat + epsilon); the "
            "difference shows for weights with tiny gradients.", adam_epsilon_inside_sqrt),
])


add_signature_habits(NOTEBOOK)
