"""Tests of cs231n_lib.solver.Solver on a tiny linear softmax model (plus one MNIST integration test)."""
import math
import time

import numpy as np
import pytest

from cs231n_lib.solver import Solver


class LinearSoftmax:
    """Linear classifier scores = X W + b with softmax loss: X (N, D), W (D, C), b (C,)."""

    def __init__(self, input_dim, num_classes, seed=0, weight_scale=1e-2, dtype=np.float64):
        rng = np.random.default_rng(seed)
        self.params = {
            "W": (weight_scale * rng.standard_normal((input_dim, num_classes))).astype(dtype),
            "b": np.zeros(num_classes, dtype=dtype),
        }
        self.reg = 0.0

    def loss(self, X, y=None):
        """Scores (N, C) when y is None, else (mean softmax loss, grads)."""
        W, b = self.params["W"], self.params["b"]
        scores = X @ W + b
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = X.shape[0]
        loss = -log_probs[np.arange(n), y].mean()
        dscores = np.exp(log_probs)
        dscores[np.arange(n), y] -= 1
        dscores /= n
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def make_blobs(num_train=300, num_val=100, dim=5, num_classes=3, spread=1.5, seed=0):
    """Overlapping Gaussian blobs: a data dict with X_* (N, dim) and int labels y_* (N,)."""
    rng = np.random.default_rng(seed)
    centers = 2.0 * rng.standard_normal((num_classes, dim))
    data = {}
    for split, n in (("train", num_train), ("val", num_val)):
        y = rng.integers(num_classes, size=n)
        data[f"X_{split}"] = centers[y] + spread * rng.standard_normal((n, dim))
        data[f"y_{split}"] = y
    return data


def sgd_rule(w, dw, config=None):
    """Local plain SGD (independent of cs231n_lib.optim)."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def gradient_ascent(w, dw, config=None):
    """Steps *up* the loss: training with it only makes the model worse."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w + config["learning_rate"] * dw, config


def make_solver(update_rule=sgd_rule, data=None, model=None, **kwargs):
    """A Solver on the blobs problem with small defaults."""
    data = make_blobs() if data is None else data
    model = LinearSoftmax(data["X_train"].shape[1], 3) if model is None else model
    kwargs.setdefault("optim_config", {"learning_rate": 0.1})
    kwargs.setdefault("batch_size", 50)
    kwargs.setdefault("num_epochs", 3)
    return Solver(model, data, update_rule=update_rule, **kwargs)


def test_histories_have_one_entry_per_iteration_and_epoch():
    solver = make_solver().train()
    assert solver.iterations_per_epoch == 6 and solver.num_iterations == 18
    assert len(solver.loss_history) == 18
    np.testing.assert_allclose(solver.epoch_of_iteration, np.arange(18) / 6)
    # Entry 0 is measured before training, then one after each epoch.
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 4
    assert set(solver.update_ratio_history) == {"W", "b"}
    assert all(len(r) == 18 for r in solver.update_ratio_history.values())
    assert np.all(np.isfinite(solver.update_ratio_history["W"]))
    # b starts at 0: the first ratio is undefined, the later ones are finite.
    assert math.isnan(solver.update_ratio_history["b"][0])
    assert np.all(np.isfinite(solver.update_ratio_history["b"][1:]))
    assert not solver.aborted and solver.abort_reason is None
    assert solver.loss_history[-1] < solver.loss_history[0]
    assert solver.val_acc_history[-1] > 0.6


def test_update_ratio_is_update_norm_over_weight_norm():
    model = LinearSoftmax(5, 3)
    w0 = model.params["W"].copy()
    solver = make_solver(model=model, num_epochs=1, batch_size=300, restore_best=False).train()
    expected = np.linalg.norm(model.params["W"] - w0) / np.linalg.norm(w0)
    assert solver.update_ratio_history["W"][0] == pytest.approx(expected)


def test_each_epoch_visits_every_example_once():
    seen = []

    class Recorder(LinearSoftmax):
        def loss(self, X, y=None):
            if y is not None:
                seen.append(X[:, 0].astype(int))
            return super().loss(X, y)

    data = make_blobs(num_train=60, num_val=10)
    data["X_train"][:, 0] = np.arange(60)  # the first feature names the example
    make_solver(data=data, model=Recorder(5, 3), batch_size=20, num_epochs=2,
                optim_config={"learning_rate": 1e-4}).train()
    assert len(seen) == 6
    for epoch in range(2):
        visited = np.concatenate(seen[3 * epoch:3 * epoch + 3])
        np.testing.assert_array_equal(np.sort(visited), np.arange(60))


def test_same_seed_same_history_other_seed_differs():
    runs = [make_solver(seed=seed).train() for seed in (7, 7, 8)]
    a, b, c = runs
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history
    assert a.val_acc_history == b.val_acc_history
    np.testing.assert_array_equal(a.update_ratio_history["W"], b.update_ratio_history["W"])
    assert a.loss_history != c.loss_history


def test_seeded_solver_leaves_global_random_state_alone():
    state = np.random.get_state()[1].copy()
    make_solver().train()
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_huge_learning_rate_aborts_with_a_reason(capsys):
    solver = make_solver(optim_config={"learning_rate": 1e6}, verbose=True).train()
    assert solver.aborted
    assert "loss" in solver.abort_reason and "iteration" in solver.abort_reason
    assert len(solver.loss_history) < solver.num_iterations
    last = solver.loss_history[-1]
    assert not math.isfinite(last) or last > 3 * solver.loss_history[0]
    assert solver.abort_reason in capsys.readouterr().out
    # Histories stay aligned: one update-ratio entry per recorded loss.
    assert len(solver.update_ratio_history["W"]) == len(solver.loss_history)
    assert len(solver.epoch_of_iteration) == len(solver.loss_history)


def test_non_finite_loss_aborts():
    class Exploding(LinearSoftmax):
        def loss(self, X, y=None):
            if y is None:
                return super().loss(X)
            loss, grads = super().loss(X, y)
            self.calls = getattr(self, "calls", 0) + 1
            return (np.nan if self.calls == 4 else loss), grads

    solver = make_solver(model=Exploding(5, 3)).train()
    assert solver.aborted and len(solver.loss_history) == 4
    assert "iteration 4" in solver.abort_reason and "not a finite" in solver.abort_reason


def test_abort_factor_none_disables_the_ratio_test():
    solver = make_solver(optim_config={"learning_rate": 30.0}, abort_factor=None, num_epochs=1)
    solver.train()
    finite = all(math.isfinite(loss) for loss in solver.loss_history)
    assert solver.aborted != finite


def test_best_params_are_kept_and_restored():
    data = make_blobs()
    model = LinearSoftmax(5, 3)
    make_solver(data=data, model=model, num_epochs=5).train()
    trained = {k: v.copy() for k, v in model.params.items()}
    # Climbing the loss from trained weights: the first check (before training) is the best.
    solver = make_solver(gradient_ascent, data=data, model=model, num_epochs=3).train()
    assert solver.val_acc_history[-1] < solver.val_acc_history[0]
    assert solver.best_val_acc == solver.val_acc_history[0] == max(solver.val_acc_history)
    for name in trained:
        np.testing.assert_array_equal(model.params[name], trained[name])
        np.testing.assert_array_equal(solver.best_params[name], trained[name])
        assert solver.best_params[name] is not model.params[name]


def test_restore_best_false_keeps_the_last_params():
    data = make_blobs()
    model = LinearSoftmax(5, 3)
    make_solver(data=data, model=model, num_epochs=5).train()
    solver = make_solver(gradient_ascent, data=data, model=model, restore_best=False).train()
    assert not np.array_equal(model.params["W"], solver.best_params["W"])


def test_lr_decay_applied_once_per_epoch():
    used = []

    def recording_sgd(w, dw, config=None):
        used.append(config["learning_rate"])
        return sgd_rule(w, dw, config)

    solver = make_solver(recording_sgd, lr_decay=0.5, num_epochs=3).train()
    per_step = np.array(used[::2])  # W and b share each step's learning rate
    np.testing.assert_allclose(per_step, 0.1 * 0.5 ** (np.arange(18) // 6))
    assert solver.optim_configs["W"]["learning_rate"] == pytest.approx(0.1 * 0.5 ** 3)


def test_named_rule_gets_one_deep_copied_config_per_param():
    optim_config = {"learning_rate": 1e-2}
    solver = make_solver("adam", optim_config=optim_config).train()
    assert optim_config == {"learning_rate": 1e-2}
    configs = solver.optim_configs
    assert configs["W"] is not configs["b"]
    assert configs["W"]["m"].shape == (5, 3) and configs["b"]["m"].shape == (3,)
    assert configs["W"]["t"] == 18
    assert solver.loss_history[-1] < solver.loss_history[0]


def test_float32_model_stays_float32_and_data_is_not_copied():
    data = {k: (v.astype(np.float32) if k.startswith("X") else v)
            for k, v in make_blobs().items()}
    model = LinearSoftmax(5, 3, dtype=np.float32)
    solver = make_solver("sgd", data=data, model=model).train()
    assert solver.X_train is data["X_train"]
    assert all(w.dtype == np.float32 for w in model.params.values())


def test_verbose_and_progress_bar(capsys):
    make_solver(verbose=True, print_every=5, progress=True).train()
    captured = capsys.readouterr()
    assert "(Iteration 1 / 18) loss:" in captured.out
    assert "(Iteration 15 / 18) loss:" in captured.out
    assert "(Epoch 3 / 3) train acc:" in captured.out
    assert "18/18" in captured.err  # the tqdm bar


def test_quiet_by_default(capsys):
    make_solver().train()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_check_accuracy():
    data = make_blobs()
    model = LinearSoftmax(5, 3)
    solver = make_solver(data=data, model=model)
    X, y = data["X_val"], data["y_val"]
    expected = np.mean(np.argmax(model.loss(X), axis=1) == y)
    assert solver.check_accuracy(X, y, batch_size=7) == pytest.approx(expected)
    assert 0.0 <= solver.check_accuracy(X, y, num_samples=10) <= 1.0
    with pytest.raises(ValueError, match="same length"):
        solver.check_accuracy(X, y[:-1])


def _without(key):
    data = make_blobs()
    del data[key]
    return data


def _short_labels():
    data = make_blobs()
    data["y_train"] = data["y_train"][:-1]
    return data


@pytest.mark.parametrize("kwargs, message", [
    ({"data": _without("y_val")}, "missing y_val"),
    ({"data": _short_labels()}, "y_train must have shape"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"num_epochs": 0}, "num_epochs"),
    ({"update_rule": "sgdd"}, "sgdd"),
    ({"lr_decay": 0.0}, "lr_decay"),
    ({"abort_factor": -1.0}, "abort_factor"),
    ({"print_every": 0}, "print_every"),
])
def test_bad_inputs_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_solver(**kwargs)


def test_model_without_contract_raises():
    class NoLoss:
        params = {"W": np.zeros(3)}

    with pytest.raises(ValueError, match="loss"):
        Solver(NoLoss(), make_blobs())
    with pytest.raises(ValueError, match="params"):
        Solver(object(), make_blobs())


def test_mnist_three_layer_net_overfits_50_digits_and_aborts_on_huge_lr():
    from cs231n_lib.data import get_mnist_data
    from cs231n_lib.models import FullyConnectedNet

    start = time.perf_counter()
    data = get_mnist_data(num_train=50, num_val=100, num_test=0, seed=0)
    model = FullyConnectedNet([100, 100], reg=0.0, seed=0)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 5e-2},
                    batch_size=25, num_epochs=30, seed=0).train()
    assert solver.train_acc_history[-1] == 1.0
    assert solver.loss_history[-1] < 0.05

    model = FullyConnectedNet([100, 100], reg=0.0, seed=0)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e6},
                    batch_size=25, num_epochs=5, seed=0).train()
    assert solver.aborted and "loss" in solver.abort_reason
    assert time.perf_counter() - start < 10
