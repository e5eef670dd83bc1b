"""Tests for cs231n_lib.optim: every rule against arithmetic done by hand, plus contracts."""
import numpy as np
import pytest

from cs231n_lib import optim

RULES = list(optim.UPDATE_RULES.items())

# One 2-element weight vector and the gradients of three steps, shared by the hand checks.
W0 = np.array([1.0, -2.0])
GRADS = [np.array([1.0, -2.0]), np.array([0.5, 1.0]), np.array([0.0, 0.0])]


def run(rule, config, steps):
    """Apply `rule` for `steps` steps of GRADS starting at W0; return every iterate."""
    w, out = W0, []
    for dw in GRADS[:steps]:
        w, config = rule(w, dw, config)
        out.append(w)
    return out


def test_sgd_by_hand():
    w1, w2 = run(optim.sgd, {"learning_rate": 0.1}, 2)
    np.testing.assert_allclose(w1, [1 - 0.1 * 1, -2 - 0.1 * -2])        # [0.9, -1.8]
    np.testing.assert_allclose(w2, [0.9 - 0.1 * 0.5, -1.8 - 0.1 * 1])    # [0.85, -1.9]


def test_sgd_momentum_by_hand():
    w1, w2, w3 = run(optim.sgd_momentum, {"learning_rate": 0.1, "momentum": 0.9}, 3)
    # v1 = -0.1*g1 = [-0.1, 0.2]
    np.testing.assert_allclose(w1, [0.9, -1.8])
    # v2 = 0.9*v1 - 0.1*g2 = [-0.09 - 0.05, 0.18 - 0.1] = [-0.14, 0.08]
    np.testing.assert_allclose(w2, [0.9 - 0.14, -1.8 + 0.08])
    # zero gradient: the velocity keeps moving w, v3 = 0.9*v2 = [-0.126, 0.072]
    np.testing.assert_allclose(w3, [0.76 - 0.126, -1.72 + 0.072])


def test_nesterov_by_hand():
    w1, w2, w3 = run(optim.nesterov_momentum, {"learning_rate": 0.1, "momentum": 0.9}, 3)
    # v_prev = 0, v = [-0.1, 0.2]; w1 = w0 - 0.9*0 + 1.9*v
    np.testing.assert_allclose(w1, [1 - 1.9 * 0.1, -2 + 1.9 * 0.2])       # [0.81, -1.62]
    # v_prev = [-0.1, 0.2], v = [-0.14, 0.08]
    np.testing.assert_allclose(w2, [0.81 + 0.9 * 0.1 - 1.9 * 0.14,
                                    -1.62 - 0.9 * 0.2 + 1.9 * 0.08])      # [0.634, -1.648]
    # v_prev = [-0.14, 0.08], v = [-0.126, 0.072]
    np.testing.assert_allclose(w3, [0.634 + 0.9 * 0.14 - 1.9 * 0.126,
                                    -1.648 - 0.9 * 0.08 + 1.9 * 0.072])   # [0.5206, -1.5832]


def test_adagrad_by_hand():
    w1, w2, w3 = run(optim.adagrad, {"learning_rate": 0.1}, 3)
    # cache = [1, 4]; step = 0.1 * [1/1, -2/2]
    np.testing.assert_allclose(w1, [0.9, -1.9], rtol=1e-6)
    # cache = [1.25, 5]; step = 0.1 * [0.5/sqrt(1.25), 1/sqrt(5)] = 0.1 * [0.4472136, 0.4472136]
    np.testing.assert_allclose(w2, [0.9 - 0.04472136, -1.9 - 0.04472136], rtol=1e-6)
    # zero gradient: no step
    np.testing.assert_allclose(w3, w2)


def test_rmsprop_by_hand():
    w1, w2 = run(optim.rmsprop, {"learning_rate": 0.1, "decay_rate": 0.9}, 2)
    # cache = 0.1*[1, 4] = [0.1, 0.4];
    # step = 0.1*[1/0.3162278, -2/0.6324555] = [0.3162278, -0.3162278]
    np.testing.assert_allclose(w1, [1 - 0.3162278, -2 + 0.3162278], rtol=1e-6)
    # cache = 0.9*[0.1, 0.4] + 0.1*[0.25, 1] = [0.115, 0.46];
    # step = 0.1*[0.5/0.3391165, 1/0.6782330] = [0.1474420, 0.1474420]
    np.testing.assert_allclose(w2, [0.6837722 - 0.1474420, -1.6837722 - 0.1474420], rtol=1e-6)


def test_adam_by_hand():
    w1, w2 = run(optim.adam, {"learning_rate": 0.1}, 2)
    # t=1: m = [0.1, -0.2], v = [0.001, 0.004]; m_hat = [1, -2], v_hat = [1, 4]
    np.testing.assert_allclose(w1, [1 - 0.1 * 1 / 1, -2 - 0.1 * -2 / 2], rtol=1e-6)
    # t=2: m = [0.14, -0.08], v = [0.001249, 0.004996]
    # m_hat = m / 0.19 = [0.7368421, -0.4210526]; v_hat = v / 0.001999 = [0.6248124, 2.4992496]
    # step = 0.1 * [0.7368421/0.7904508, -0.4210526/1.5809015] = [0.0932179, -0.0266337]
    np.testing.assert_allclose(w2, [0.9 - 0.0932179, -1.9 + 0.0266337], rtol=1e-6)


@pytest.mark.parametrize("rule,config,expected", [
    # adagrad: cache = [1, 4]; step = 0.1 * [1/(1+1), -2/(2+1)]
    (optim.adagrad, {}, [1 - 0.1 / 2, -2 + 0.2 / 3]),
    # rmsprop: cache = [0.1, 0.4]; step = 0.1 * [1/(0.3162278+1), -2/(0.6324555+1)]
    (optim.rmsprop, {"decay_rate": 0.9}, [1 - 0.0759747, -2 + 0.1225148]),
    # adam: m_hat = [1, -2], v_hat = [1, 4]; step = 0.1 * [1/(1+1), -2/(2+1)]
    (optim.adam, {}, [1 - 0.1 / 2, -2 + 0.2 / 3]),
])
def test_epsilon_is_added_outside_the_sqrt(rule, config, expected):
    (w1,) = run(rule, {"learning_rate": 0.1, "epsilon": 1.0, **config}, 1)
    np.testing.assert_allclose(w1, expected, rtol=1e-6)


def test_adam_step_count_and_moments_stored():
    config = {"learning_rate": 0.1}
    run(optim.adam, config, 2)
    assert config["t"] == 2
    np.testing.assert_allclose(config["m"], [0.14, -0.08])
    np.testing.assert_allclose(config["v"], [0.001249, 0.004996])


@pytest.mark.parametrize("rule", [optim.sgd_momentum, optim.nesterov_momentum])
def test_zero_momentum_is_sgd(rule):
    rng = np.random.default_rng(0)
    w_sgd = w_mom = rng.standard_normal((3, 4))
    cfg_sgd, cfg_mom = {"learning_rate": 0.05}, {"learning_rate": 0.05, "momentum": 0.0}
    for _ in range(5):
        dw = rng.standard_normal((3, 4))
        w_sgd, cfg_sgd = optim.sgd(w_sgd, dw, cfg_sgd)
        w_mom, cfg_mom = rule(w_mom, dw, cfg_mom)
        np.testing.assert_allclose(w_mom, w_sgd, rtol=1e-12, atol=1e-12)


def test_adam_first_step_is_lr_times_sign():
    rng = np.random.default_rng(1)
    w = rng.standard_normal(50)
    dw = rng.standard_normal(50) * 10.0 ** rng.uniform(-3, 3, 50)  # magnitudes 1e-3 .. 1e3
    next_w, _ = optim.adam(w, dw, {"learning_rate": 1e-3})
    np.testing.assert_allclose(w - next_w, 1e-3 * np.sign(dw), rtol=1e-4)


@pytest.mark.parametrize("rule", [optim.adagrad, optim.rmsprop, optim.adam])
def test_zero_gradient_gives_no_nan(rule):
    w = np.array([1.0, 2.0])
    next_w, config = rule(w, np.zeros(2))
    next_w, config = rule(next_w, np.zeros(2), config)
    assert np.all(np.isfinite(next_w))
    np.testing.assert_array_equal(next_w, w)


@pytest.mark.parametrize("name,rule", RULES)
def test_rules_do_not_mutate_inputs_or_state(name, rule):
    rng = np.random.default_rng(2)
    w, dw = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    w_copy, dw_copy = w.copy(), dw.copy()
    next_w, config = rule(w, dw)
    np.testing.assert_array_equal(w, w_copy)
    np.testing.assert_array_equal(dw, dw_copy)
    assert next_w is not w
    # state arrays of step 1 must not be changed in place by step 2
    state = {k: v.copy() for k, v in config.items() if isinstance(v, np.ndarray)}
    old = {k: config[k] for k in state}
    rule(next_w, dw, config)
    for k in state:
        np.testing.assert_array_equal(old[k], state[k])


@pytest.mark.parametrize("name,rule", RULES)
def test_float32_stays_float32(name, rule):
    w = np.ones((3, 2), dtype=np.float32)
    dw = np.full((3, 2), 0.5, dtype=np.float32)
    # a numpy float64 learning rate (e.g. from a search) must not upcast the weights
    config = {"learning_rate": np.float64(1e-2)}
    for _ in range(2):
        w, config = rule(w, dw, config)
        assert w.dtype == np.float32


EXPECTED_DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-7},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}


@pytest.mark.parametrize("name,rule", RULES)
def test_config_defaults_filled_in(name, rule):
    _, config = rule(np.ones(2), np.ones(2))
    for key, value in EXPECTED_DEFAULTS[name].items():
        assert config[key] == value, key


def test_config_values_are_kept_and_dict_returned():
    config = {"learning_rate": 0.5, "momentum": 0.5}
    _, returned = optim.sgd_momentum(np.ones(2), np.ones(2), config)
    assert returned is config
    assert config["learning_rate"] == 0.5 and config["momentum"] == 0.5


def test_get_update_rule():
    assert optim.get_update_rule("adam") is optim.adam
    assert optim.get_update_rule(optim.sgd) is optim.sgd
    assert set(optim.UPDATE_RULES) == {"sgd", "sgd_momentum", "nesterov_momentum",
                                       "adagrad", "rmsprop", "adam"}


def test_unknown_update_rule_lists_valid_names():
    with pytest.raises(ValueError) as info:
        optim.get_update_rule("adamw")
    message = str(info.value)
    assert "adamw" in message
    for name in optim.UPDATE_RULES:
        assert name in message


def test_shape_mismatch_and_bad_learning_rate_raise():
    with pytest.raises(ValueError, match="same shape"):
        optim.sgd(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="learning_rate"):
        optim.adam(np.ones(3), np.ones(3), {"learning_rate": -1.0})


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("lr", [1e-3, np.float64(0.1), np.float32(0.1), 2])
def test_sgd_fast_path_matches_formula_and_keeps_inputs(dtype, lr):
    rng = np.random.default_rng(0)
    w, dw = rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype)
    w0, dw0 = w.copy(), dw.copy()
    next_w, _ = optim.sgd(w, dw, {"learning_rate": lr})
    assert next_w.dtype == dtype and next_w is not w and next_w is not dw
    np.testing.assert_array_equal(next_w, (w0 - lr * dw0).astype(dtype))
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(dw, dw0)
