"""Notebook 09's graders, the held-out split, the recipe scorer and the pipeline guards."""
import numpy as np
import pytest

from cs231n_lib import babysit, grading, recipes
from cs231n_lib.data import load_mnist_subset
from cs231n_lib.exercises import nb09_babysitting as nb09

SEEDS = [0, 1, 2, 11, 12]
FAST = ["step_decay", "exponential_decay", "cosine_decay", "learning_rate_verdicts"]


@pytest.mark.parametrize("name", FAST)
def test_reference_passes(name):
    exercise = grading.get_exercise(name)
    grading.check(name, *exercise.reference_fns, seeds=SEEDS)


@pytest.mark.parametrize("name,label", [(n, m.label) for n in FAST
                                        for m in grading.get_exercise(n).mistakes])
def test_every_known_mistake_fails_with_its_label(name, label):
    mistake = next(m for m in grading.get_exercise(name).mistakes if m.label == label)
    for seed in SEEDS:
        with pytest.raises(grading.CheckFailure, match=f"Known mistake: {label}"):
            grading.check(name, mistake.implementation, seeds=[seed])


# ----------------------------------------------------------------------------- other answers

def step_decay_with_a_loop(learning_rate, epoch, drop_every, factor=0.5):
    epochs = np.atleast_1d(epoch)
    rates = np.array([learning_rate * factor ** (int(e) // drop_every) for e in epochs])
    return rates if np.ndim(epoch) else float(rates[0])


def cosine_decay_with_where(learning_rate, epoch, num_epochs, final_lr=0.0):
    half = 0.5 * (learning_rate - final_lr) * (1 + np.cos(np.pi * epoch / num_epochs))
    return np.where(epoch >= num_epochs, final_lr, final_lr + half)


def verdicts_with_tail_median(loss_histories, min_drop=0.1):
    out = []
    for losses in loss_histories:
        losses = np.asarray(losses, float)
        tail = losses[-max(1, len(losses) // 5):]
        change = (tail.mean() - losses[0]) / losses[0]
        if np.isnan(losses).any() or np.isinf(losses).any() or change > min_drop:
            out.append("too high")
        else:
            out.append("too low" if change > -min_drop else "good")
    return out


@pytest.mark.parametrize("name,fn", [("step_decay", step_decay_with_a_loop),
                                     ("cosine_decay", cosine_decay_with_where),
                                     ("learning_rate_verdicts", verdicts_with_tail_median)])
def test_other_correct_answers_pass(name, fn):
    grading.check(name, fn, seeds=SEEDS)


def test_math_floor_habit_gets_a_hint():
    import math

    def step_decay_scalar_only(learning_rate, epoch, drop_every, factor=0.5):
        return learning_rate * factor ** math.floor(epoch / drop_every)
    with pytest.raises(grading.CheckFailure, match="np.floor"):
        grading.check("step_decay", step_decay_scalar_only)


# ----------------------------------------------------------------------------- recipe

def test_heldout_digits_are_fixed_balanced_and_never_in_the_recipe_data():
    X_held, y_held = recipes.heldout_data()
    X_dev, y_dev = recipes.development_data()
    images, _ = load_mnist_subset()
    assert X_held.shape == (1000, 784) and X_dev.shape == (4000, 784)
    assert np.array_equal(np.bincount(y_held), [100] * 10)
    # the union is the embedded set: held-out rows are not development rows
    held = {row.tobytes() for row in X_held.astype(np.uint8)}
    dev = {row.tobytes() for row in X_dev.astype(np.uint8)}
    everything = {row.tobytes() for row in images.reshape(5000, -1)}
    assert held | dev == everything and not held & dev - {np.zeros(784, np.uint8).tobytes()}
    data = recipes.recipe_data(seed=3)
    for split in ("train", "val"):
        rows = {row.tobytes() for row in data[f"X_{split}"].astype(np.uint8)}
        assert not rows & held
    assert data["X_train"].shape == (3500, 784) and data["X_val"].shape == (500, 784)
    assert np.array_equal(recipes.heldout_data()[1], y_held)


def test_spec_round_trip_and_scoring():
    from cs231n_lib.models import FullyConnectedNet
    model = FullyConnectedNet([7], seed=0)
    spec = recipes.model_spec(model, np.full(784, 30.0), 80.0)
    rebuilt, mean, std = recipes.model_from_spec(spec)
    X = np.random.default_rng(0).uniform(0, 255, (20, 784))
    np.testing.assert_array_equal(rebuilt.predict((X - mean) / std), model.predict((X - 30) / 80))
    assert 0 <= recipes.spec_accuracy(spec, X, np.zeros(20, int)) <= 1


@pytest.mark.parametrize("change,fragment", [
    (lambda s: s.pop("mean"), "lacks mean"),
    (lambda s: s.update(hidden_dims=[8]), r"params\['W1'\] should be an array of shape \(784, 8\)"),
    (lambda s: s.update(std=0.0), "std should be one finite number > 0"),
    (lambda s: s.update(activation="gelu"), "activation"),
    (lambda s: s["params"].update(W2=np.full((7, 10), np.nan)), "nan or inf"),
])
def test_bad_specs_are_explained(change, fragment):
    from cs231n_lib.models import FullyConnectedNet
    spec = recipes.model_spec(FullyConnectedNet([7], seed=0), np.zeros(784), 1.0)
    change(spec)
    with pytest.raises(ValueError, match=fragment):
        recipes.model_from_spec(spec)


def test_recipe_check_trains_once_and_reports_problems():
    calls = []

    def not_a_spec(data, rng, time_budget_s):
        calls.append(time_budget_s)
        return [1, 2, 3]
    for name in nb09.THRESHOLDS:
        with pytest.raises(grading.CheckFailure, match="should return a dict"):
            grading.check(name, not_a_spec)
    assert calls == [nb09.TIME_BUDGET_S]   # one training for all three cells


@pytest.mark.parametrize("mistake", grading.get_exercise("train_best_model").mistakes,
                         ids=lambda m: m.label)
def test_recipe_mistakes_are_named_in_every_threshold_cell(mistake):
    def recipe(data, rng, time_budget_s):   # a fresh function object: trained afresh
        return mistake.implementation(data, rng, time_budget_s)
    for name in nb09.THRESHOLDS:
        with pytest.raises(grading.CheckFailure, match=f"Known mistake: {mistake.label}"):
            grading.check(name, recipe)


def test_reference_recipe_reaches_every_threshold():
    def recipe(data, rng, time_budget_s):
        return recipes.train_best_model(data, rng, time_budget_s)
    for name in nb09.THRESHOLDS:
        grading.check(name, recipe)


# ----------------------------------------------------------------------------- guards

def test_guard_prints_when_passed_and_stops_the_pipeline_when_not(capsys):
    assert babysit.guard("initial loss", True, "2.30 vs ln(10) = 2.30")
    assert "[ok] initial loss: 2.30" in capsys.readouterr().out
    with pytest.raises(babysit.PipelineStop, match="step 'overfit' failed: 0.4. Check the lr"):
        babysit.guard("overfit", False, "0.4", fix="Check the lr.")


def test_verdicts_of_obvious_runs():
    t = np.linspace(0, 1, 30)
    runs = [2.3 * np.exp(-2 * t), 2.3 - 0.01 * t, 2.3 + 0.01 * t, 2.3 * (1 + t),
            np.r_[2.3, 2.0, np.nan]]
    assert babysit.learning_rate_verdicts(runs) == ["good", "too low", "too low", "too high",
                                                    "too high"]


def test_a_crashed_recipe_is_run_once_and_reported_in_every_cell():
    calls = []

    def crashing(data, rng, time_budget_s):
        calls.append(1)
        raise grading.GradingAbort("train_best_model did not return within 60 s and was stopped")
    crashing.runs_in_worker = True   # as the grader's stand-in: its crash is the grader's abort
    for name in nb09.THRESHOLDS:
        with pytest.raises((grading.GradingAbort, grading.CheckFailure), match="did not return"):
            grading.check(name, crashing)
    assert len(calls) == 1
