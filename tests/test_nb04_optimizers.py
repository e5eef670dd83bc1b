"""Checks specific to notebook 04's exercises: cases tell every known mistake apart, the grader
reports rules that change w in place, and the cases hold state from earlier steps."""
import numpy as np
import pytest

from cs231n_lib import grading, optim
from cs231n_lib.exercises import nb04_optimizers as nb04

RULES = list(optim.UPDATE_RULES)
SEEDS = range(200)  # the visible seeds and many more, as hidden cases would draw them


def _outputs(fn, case):
    with np.errstate(all="ignore"):
        return fn(*case.copied().args)


def _seed_cases(name, seed):
    """The two cases one seed checks: a first step from a fresh config, then a step in mid-run."""
    return [nb04._make_fresh_case_for(name)(np.random.default_rng(seed)),
            nb04._make_case_for(name)(np.random.default_rng(seed + 1))]


@pytest.mark.parametrize("name", RULES)
def test_every_mistake_differs_from_the_reference_and_from_the_others(name):
    """On every seed (fresh + mid-run case), functions with different labels disagree."""
    exercise = grading.get_exercise(name)
    functions = [("reference", exercise.reference)] + [(m.label, m.implementation)
                                                       for m in exercise.mistakes]
    for seed in SEEDS:
        cases = _seed_cases(name, seed)
        outputs = [(label, [_outputs(fn, case) for case in cases]) for label, fn in functions]
        for i, (label_a, outs_a) in enumerate(outputs):
            for label_b, outs_b in outputs[i + 1:]:
                if label_a == label_b:
                    continue  # two ways real code makes the same mistake
                same = all(grading.compare_outputs(a, b, exercise.rtol, exercise.atol,
                                                   exercise.output_names) is None
                           for a, b in zip(outs_a, outs_b))
                assert not same, f"{name} seed {seed}: {label_a!r} and {label_b!r} agree"


@pytest.mark.parametrize("name", RULES)
def test_fresh_cases_grade_the_defaults(name):
    """Fresh configs come as a left-out argument, None and {}."""
    kinds = set()
    for seed in SEEDS:
        case = nb04._make_fresh_case_for(name)(np.random.default_rng(seed))
        config = case.args[2] if len(case.args) > 2 else "omitted"
        kinds.add("omitted" if config == "omitted" else repr(sorted(config)) if config is not None
                  else "None")
    assert kinds == {"omitted", "None", "[]"}


def adam_t_from_one(w, dw, config=None):
    """A CS231n-style Adam whose only error is config.setdefault('t', 1)."""
    if config is None:
        config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999),
                       ("epsilon", 1e-8), ("t", 1)):
        config.setdefault(key, value)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    config["t"] += 1
    t = config["t"]
    config["m"] = m = config["beta1"] * m + (1 - config["beta1"]) * dw
    config["v"] = v = config["beta2"] * v + (1 - config["beta2"]) * dw**2
    mt, vt = m / (1 - config["beta1"]**t), v / (1 - config["beta2"]**t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config


def test_adam_with_t_starting_at_one_fails_on_every_seed():
    for seed in range(20):
        with pytest.raises(grading.CheckFailure, match="t starting at 1"):
            grading.check("adam", adam_t_from_one, seeds=[seed])


def momentum_without_get(w, dw, config=None):
    """CS231n habit: reading the velocity directly (no default for a fresh config)."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config["velocity"] - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def test_missing_config_key_names_the_expected_keys():
    with pytest.raises(grading.CheckFailure) as info:
        grading.check("sgd_momentum", momentum_without_get)
    assert "KeyError" in str(info.value)
    assert "'learning_rate', 'momentum', 'velocity'" in str(info.value)


@pytest.mark.parametrize("name", RULES)
def test_cases_start_from_earlier_state(name):
    exercise = grading.get_exercise(name)
    state_keys = {"sgd": [], "sgd_momentum": ["velocity"], "nesterov_momentum": ["velocity"],
                  "adagrad": ["cache"], "rmsprop": ["cache"], "adam": ["m", "v", "t"]}[name]
    for seed in exercise.visible_seeds:
        w, dw, config = exercise.make_case(np.random.default_rng(seed)).args
        assert w.shape == dw.shape and config["learning_rate"] > 0
        for key in state_keys:
            assert np.any(np.asarray(config[key]) != 0), f"{name}: {key} should hold earlier state"
        assert dw.flat[0] == 0  # the entry that never gets a gradient


def test_adagrad_without_epsilon_gives_nan_on_visible_cases():
    exercise = grading.get_exercise("adagrad")
    for seed in exercise.visible_seeds:
        next_w, _ = _outputs(nb04.adagrad_without_epsilon,
                             exercise.make_case(np.random.default_rng(seed)))
        assert np.isnan(next_w).any()


@pytest.mark.parametrize("name", RULES)
def test_references_do_not_change_w_or_dw(name):
    exercise = grading.get_exercise(name)
    case = exercise.make_case(np.random.default_rng(0))
    w, dw, config = case.copied().args
    w_before, dw_before = w.copy(), dw.copy()
    exercise.reference(w, dw, config)
    assert np.array_equal(w, w_before) and np.array_equal(dw, dw_before)


def sgd_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def sgd_momentum_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    w += v
    return w, config


@pytest.mark.parametrize("name,fn", [("sgd", sgd_in_place), ("sgd_momentum", sgd_momentum_in_place)])
def test_in_place_update_of_w_is_reported(name, fn):
    with pytest.raises(grading.CheckFailure, match="changed its input in place"):
        grading.check(name, fn)


def test_omitted_hyperparameters_use_the_defaults():
    # Over many seeds some cases leave hyperparameters out, so config.setdefault is checked.
    exercise = grading.get_exercise("adam")
    omitted = {key for seed in SEEDS
               for key in ("beta1", "beta2", "epsilon")
               if key not in exercise.make_case(np.random.default_rng(seed)).args[2]}
    assert omitted == {"beta1", "beta2", "epsilon"}
