"""Learning-rate schedules (cs231n_lib.schedules) and the Solver's lr_schedule hook."""
import math

import numpy as np
import pytest

from cs231n_lib import schedules
from cs231n_lib.schedules import cosine_decay, exponential_decay, schedule_for, step_decay
from cs231n_lib.solver import Solver
from tests.test_solver import LinearSoftmax, make_blobs, sgd_rule


def test_step_decay_by_hand():
    rates = [step_decay(0.1, e, drop_every=3, factor=0.5) for e in range(7)]
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_exponential_decay_is_the_lecture_learning_rate_decay():
    # learning_rate_decay=0.9: multiplied by 0.9 after every epoch
    np.testing.assert_allclose([exponential_decay(1e-3, e, 0.9) for e in range(4)],
                               [1e-3, 9e-4, 8.1e-4, 7.29e-4])


def test_cosine_decay_ends_and_midpoint():
    assert cosine_decay(0.2, 0, num_epochs=10) == pytest.approx(0.2)
    assert cosine_decay(0.2, 5, num_epochs=10) == pytest.approx(0.1)
    assert cosine_decay(0.2, 10, num_epochs=10, final_lr=0.01) == pytest.approx(0.01)
    assert cosine_decay(0.2, 15, num_epochs=10, final_lr=0.01) == pytest.approx(0.01)
    rates = cosine_decay(0.2, np.arange(11), num_epochs=10)
    assert np.all(np.diff(rates) < 0)


def test_array_epochs_give_arrays_scalar_epochs_give_floats():
    epochs = np.arange(6)
    for fn, kwargs in ((step_decay, {"drop_every": 2}), (exponential_decay, {"decay": 0.8}),
                       (cosine_decay, {"num_epochs": 6})):
        values = fn(0.1, epochs, **kwargs)
        assert values.shape == (6,)
        assert isinstance(fn(0.1, 3, **kwargs), float)
        np.testing.assert_allclose(values, [fn(0.1, int(e), **kwargs) for e in epochs])


@pytest.mark.parametrize("call,fragment", [
    (lambda: step_decay(0.1, -1, drop_every=2), "epoch"),
    (lambda: step_decay(0.1, 1.5, drop_every=2), "whole numbers"),
    (lambda: step_decay(0.1, 1, drop_every=0), "drop_every"),
    (lambda: exponential_decay(-0.1, 1, 0.9), "learning_rate"),
    (lambda: exponential_decay(0.1, True, 0.9), "epoch"),
    (lambda: cosine_decay(0.1, 1, num_epochs=5, final_lr=0.2), "final_lr"),
    (lambda: schedule_for("step", 0.1), "function"),
])
def test_bad_arguments_raise_clear_errors(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


def _recording_solver(**kwargs):
    used = []

    def recording_sgd(w, dw, config=None):
        used.append(config["learning_rate"])
        return sgd_rule(w, dw, config)

    solver = Solver(LinearSoftmax(5, 3), make_blobs(), update_rule=recording_sgd,
                    optim_config={"learning_rate": 0.1}, batch_size=50, num_epochs=4, **kwargs)
    return solver, used


def test_solver_uses_the_schedule_at_the_start_of_every_epoch():
    solver, used = _recording_solver(lr_schedule=schedule_for(step_decay, 0.2, drop_every=2))
    solver.train()
    per_step = np.array(used[::2])  # W and b share each step's rate; 6 steps per epoch
    np.testing.assert_allclose(per_step, 0.2 * 0.5 ** (np.arange(24) // 12))
    np.testing.assert_allclose(solver.lr_history, [0.2, 0.2, 0.1, 0.1])


def test_lr_decay_and_schedule_agree_for_exponential_decay():
    decayed, used_decay = _recording_solver(lr_decay=0.7)
    scheduled, used_schedule = _recording_solver(
        lr_schedule=schedule_for(exponential_decay, 0.1, decay=0.7))
    decayed.train()
    scheduled.train()
    np.testing.assert_allclose(used_decay, used_schedule)
    np.testing.assert_allclose(decayed.loss_history, scheduled.loss_history)
    np.testing.assert_allclose(decayed.lr_history, 0.1 * 0.7 ** np.arange(4))


def test_solver_rejects_decay_and_schedule_together_and_bad_rates():
    with pytest.raises(ValueError, match="not both"):
        _recording_solver(lr_decay=0.5, lr_schedule=lambda epoch: 0.1)
    with pytest.raises(ValueError, match="function"):
        _recording_solver(lr_schedule=0.1)
    solver, _ = _recording_solver(lr_schedule=lambda epoch: math.nan)
    with pytest.raises(ValueError, match="finite number > 0"):
        solver.train()


def test_module_exports():
    assert set(schedules.__all__) == {"step_decay", "exponential_decay", "cosine_decay",
                                      "schedule_for"}
