"""Tests for the monitor functions notebook 03 added: per-parameter update ratios, early abort."""
import math

import numpy as np
import pytest

from cs231n_lib.monitor import should_abort, update_to_weight_ratio, update_to_weight_ratios


def test_update_to_weight_ratios_by_hand():
    params = {"W1": np.array([[3.0, 4.0]]), "b1": np.array([0.5])}      # norms 5 and 0.5
    grads = {"W1": np.array([[30.0, -40.0]]), "b1": np.array([-2.0])}   # norms 50 and 2
    ratios = update_to_weight_ratios(params, grads, learning_rate=1e-4)
    assert ratios == pytest.approx({"W1": 1e-3, "b1": 4e-4})


def test_update_to_weight_ratios_matches_the_single_parameter_version():
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    grads = {name: rng.standard_normal(w.shape) for name, w in params.items()}
    ratios = update_to_weight_ratios(params, grads, 0.01)
    for name, w in params.items():
        assert ratios[name] == pytest.approx(update_to_weight_ratio(w, -0.01 * grads[name]))


def test_update_to_weight_ratios_errors():
    with pytest.raises(ValueError, match="no entry for b"):
        update_to_weight_ratios({"W": np.ones(2), "b": np.ones(2)}, {"W": np.ones(2)}, 0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        update_to_weight_ratios({"W": np.ones(2)}, {"W": np.ones(2)}, 0.0)
    with pytest.raises(ValueError, match="dicts"):
        update_to_weight_ratios([np.ones(2)], [np.ones(2)], 0.1)


@pytest.mark.parametrize("losses,kwargs,expected", [
    ([2.3, 1.5, 0.8], {}, False),
    ([2.3, 1.5, 7.0], {}, True),                      # > 3 x 2.3
    ([2.3, 1.5, 6.8], {}, False),                     # < 3 x 2.3
    ([2.3, 1.5, math.nan], {}, True),                 # nan > x is False: needs its own test
    ([2.3, 1.5, math.inf], {}, True),
    ([2.3, 0.1, 0.2, 0.5], {}, False),                # > 3 x previous and minimum: no abort
    ([5.0, 6.0, 7.0], {"initial_loss": 2.3}, True),   # a window of a longer run
    ([2.3, 5.0], {"factor": 2.0}, True),
    ([2.3], {}, False),
    (np.array([math.nan]), {}, True),
])
def test_should_abort(losses, kwargs, expected):
    assert should_abort(losses, **kwargs) is expected


def test_should_abort_errors():
    with pytest.raises(ValueError, match="at least one"):
        should_abort([])
    with pytest.raises(ValueError, match="1-D"):
        should_abort(np.ones((2, 2)))
    with pytest.raises(ValueError, match="factor"):
        should_abort([1.0], factor=-1.0)
