"""Exercises of notebook 09 (babysitting a training run end to end): three learning-rate
schedules, the verdict on short runs at several learning rates, and a training recipe scored on
held-out digits.

The schedules and the verdicts are compared with the reference on random cases; their known
mistakes are named by matching outputs. The recipe `train_best_model(data, rng, time_budget_s)`
is run once per check (in the grader: once per student, in the student's sandboxed process),
under TIME_BUDGET_S, on development digits only; the model it returns (plain data, see
cs231n_lib.recipes) is scored here on the 1,000 held-out digits. Three grade cells give points
by held-out accuracy: at least 0.85, 0.90 and 0.92. The reference recipe
(recipes.train_best_model, one hidden layer of 128) reaches 0.93-0.95 on them (seeds 0-2, with
4 to 15 epochs: measured on a machine so busy that 4 epochs took 1.5 s), so the last threshold
leaves a point or more of margin and the first two are met by any sound recipe. A network that
is trained on standardized pixels but returned without its preprocessing scores 0.73-0.79.
"""
import time
import weakref

import numpy as np

from cs231n_lib import babysit, recipes, schedules
from cs231n_lib.data import Standardizer
from cs231n_lib.grading import (
    Case, CheckFailure, Exercise, GradingAbort, Habit, Mistake, exception_name, register)
from cs231n_lib.models import FullyConnectedNet
from cs231n_lib.recipes import model_spec
from cs231n_lib.solver import Solver

NOTEBOOK = "09_babysitting"

ARRAY_EPOCH_HABIT = Habit(
    "TypeError", r"only (length-1|0-dimensional|size-1|integer scalar) arrays",
    "epoch may be a whole array of epochs: use np.floor / np.cos / ** on arrays, not "
    "math.floor / math.cos, which take one number.")


# ----------------------------------------------------------------------------- schedules

def _epochs(rng, past_end=1.0):
    """An integer array of epochs 0 .. n-1 (n drawn), the schedules' typical input."""
    return np.arange(int(rng.integers(12, 40) * past_end))


def _step_case(rng):
    return Case((float(10.0 ** rng.uniform(-3, 0)), _epochs(rng)),
                {"drop_every": int(rng.integers(2, 8)), "factor": float(rng.choice([0.1, 0.5, 0.3]))})


def step_decay_one_epoch_early(learning_rate, epoch, drop_every, factor=0.5):
    return learning_rate * factor ** np.floor((epoch + 1) / drop_every)


def step_decay_without_floor(learning_rate, epoch, drop_every, factor=0.5):
    return learning_rate * factor ** (epoch / drop_every)


def step_decay_times_number_of_drops(learning_rate, epoch, drop_every, factor=0.5):
    return learning_rate * factor * np.floor(epoch / drop_every)


register(Exercise(
    name="step_decay", notebook=NOTEBOOK, reference=schedules.step_decay, make_case=_step_case,
    rtol=1e-9, habits=(ARRAY_EPOCH_HABIT,),
    mistakes=[
        Mistake("drops one epoch early",
                "Epochs count from 0, so epochs 0 .. drop_every-1 use the start rate and the "
                "first drop comes at epoch drop_every: factor ** floor(epoch / drop_every).",
                step_decay_one_epoch_early),
        Mistake("no floor: a smooth decay instead of steps",
                "Round the number of drops down, np.floor(epoch / drop_every): the rate stays "
                "constant between drops. Without the floor you get exponential decay.",
                step_decay_without_floor),
        Mistake("factor multiplied by the number of drops",
                "Each drop multiplies the rate by factor once more: factor ** drops, not "
                "factor * drops (which is 0 in the first epochs and grows later).",
                step_decay_times_number_of_drops),
    ],
))


def _exponential_case(rng):
    return Case((float(10.0 ** rng.uniform(-3, 0)), _epochs(rng), float(rng.uniform(0.8, 0.99))))


def exponential_decay_before_first_epoch(learning_rate, epoch, decay):
    return learning_rate * decay ** (epoch + 1)


def exponential_decay_linear(learning_rate, epoch, decay):
    return learning_rate * (1 - (1 - decay) * epoch)


register(Exercise(
    name="exponential_decay", notebook=NOTEBOOK, reference=schedules.exponential_decay,
    make_case=_exponential_case, rtol=1e-9, habits=(ARRAY_EPOCH_HABIT,),
    mistakes=[
        Mistake("decayed before the first epoch",
                "Like learning_rate_decay in the lecture's trainer, the rate is multiplied by "
                "decay *after* each epoch: epoch 0 uses the start rate, lr * decay ** epoch.",
                exponential_decay_before_first_epoch),
        Mistake("linear instead of exponential decay",
                "Multiplying by decay once per epoch gives lr * decay ** epoch; subtracting "
                "(1 - decay) * lr per epoch reaches zero and then goes negative.",
                exponential_decay_linear),
    ],
))


def _cosine_case(rng):
    num_epochs = int(rng.integers(8, 30))
    learning_rate = float(10.0 ** rng.uniform(-3, 0))
    final_lr = float(learning_rate * rng.choice([0.001, 0.01, 0.1]))
    epochs = np.arange(int(num_epochs * 1.3) + 1)   # a few epochs past the end too
    return Case((learning_rate, epochs, num_epochs), {"final_lr": final_lr})


def cosine_decay_full_period(learning_rate, epoch, num_epochs, final_lr=0.0):
    progress = np.minimum(epoch / num_epochs, 1.0)
    return final_lr + (learning_rate - final_lr) * 0.5 * (1 + np.cos(2 * np.pi * progress))


def cosine_decay_ignoring_final_lr(learning_rate, epoch, num_epochs, final_lr=0.0):
    progress = np.minimum(epoch / num_epochs, 1.0)
    return learning_rate * 0.5 * (1 + np.cos(np.pi * progress))


def cosine_decay_not_held_at_the_end(learning_rate, epoch, num_epochs, final_lr=0.0):
    return final_lr + (learning_rate - final_lr) * 0.5 * (1 + np.cos(np.pi * epoch / num_epochs))


register(Exercise(
    name="cosine_decay", notebook=NOTEBOOK, reference=schedules.cosine_decay,
    make_case=_cosine_case, rtol=1e-9, habits=(ARRAY_EPOCH_HABIT,),
    mistakes=[
        Mistake("a full cosine period",
                "Half a period takes the rate from its start down to final_lr: "
                "cos(pi * epoch / num_epochs). With 2*pi it climbs back up after halfway.",
                cosine_decay_full_period),
        Mistake("final_lr ignored",
                "The curve runs from learning_rate down to final_lr: "
                "final_lr + (learning_rate - final_lr) * (1 + cos(...)) / 2.",
                cosine_decay_ignoring_final_lr),
        Mistake("not held at final_lr after num_epochs",
                "Past num_epochs the cosine would rise again; clip the progress "
                "epoch / num_epochs at 1 so later epochs stay at final_lr.",
                cosine_decay_not_held_at_the_end),
    ],
))


# ----------------------------------------------------------------------------- verdicts

def _noisy(rng, values, noise=0.03):
    return values * (1 + noise * rng.standard_normal(values.shape[0]))


def _verdict_runs(rng):
    """Short runs of every kind, each the first place a known mistake shows, in random order."""
    length = int(rng.integers(20, 60))
    t = np.linspace(0, 1, length)
    initial = float(rng.uniform(2.2, 2.5))

    def good():
        return _noisy(rng, initial * (0.2 + 0.8 * np.exp(-t * rng.uniform(3, 6))))
    runs = [good(), good()]
    runs.append(_noisy(rng, initial * (1 - rng.uniform(0.0, 0.03) * t), 0.005))   # too low
    runs.append(_noisy(rng, initial * (1 + rng.uniform(0.02, 0.05) * t), 0.005))  # too low:
    # a flat run ends a little above its first batch as often as below it
    runs.append(_noisy(rng, initial * (1 - rng.uniform(0.05, 0.08) * t), 0.002))  # too low,
    # but by more than 0.1 in absolute terms: an absolute threshold calls it good
    rising = _noisy(rng, initial * (1 + rng.uniform(0.5, 2.0) * t))
    rising[0] = initial
    runs.append(rising)                                                          # too high
    blown = good()[: length // 2]
    blown = np.concatenate([blown, [np.inf, np.nan]])                            # too high
    runs.append(blown)
    spiky = good()
    spiky[-1] = initial * rng.uniform(1.3, 1.6)    # one bad mini-batch at the very end: good
    runs.append(spiky)
    for run in runs:
        run[0] = initial
    order = rng.permutation(len(runs))
    return [runs[i] for i in order]


def _verdicts_case(rng):
    return Case((_verdict_runs(rng),))


def verdicts_without_finite_check(loss_histories, min_drop=0.1):
    verdicts = []
    for losses in loss_histories:
        losses = np.asarray(losses, dtype=float)
        final = np.mean(losses[-max(1, len(losses) // 5):])
        drop = (losses[0] - final) / losses[0]
        if drop < -min_drop:
            verdicts.append("too high")
        elif drop < min_drop:
            verdicts.append("too low")
        else:
            verdicts.append("good")
    return verdicts


def verdicts_from_last_loss(loss_histories, min_drop=0.1):
    verdicts = []
    for losses in loss_histories:
        losses = np.asarray(losses, dtype=float)
        drop = (losses[0] - losses[-1]) / losses[0]
        if not np.all(np.isfinite(losses)) or drop < -min_drop:
            verdicts.append("too high")
        elif drop < min_drop:
            verdicts.append("too low")
        else:
            verdicts.append("good")
    return verdicts


def verdicts_absolute_drop(loss_histories, min_drop=0.1):
    verdicts = []
    for losses in loss_histories:
        losses = np.asarray(losses, dtype=float)
        drop = losses[0] - np.mean(losses[-max(1, len(losses) // 5):])
        if not np.all(np.isfinite(losses)) or drop < -min_drop:
            verdicts.append("too high")
        elif drop < min_drop:
            verdicts.append("too low")
        else:
            verdicts.append("good")
    return verdicts


def verdicts_any_rise_too_high(loss_histories, min_drop=0.1):
    verdicts = []
    for losses in loss_histories:
        losses = np.asarray(losses, dtype=float)
        final = np.mean(losses[-max(1, len(losses) // 5):])
        if not np.all(np.isfinite(losses)) or final >= losses[0]:
            verdicts.append("too high")
        elif losses[0] - final < min_drop * losses[0]:
            verdicts.append("too low")
        else:
            verdicts.append("good")
    return verdicts


register(Exercise(
    name="learning_rate_verdicts", notebook=NOTEBOOK, reference=babysit.learning_rate_verdicts,
    make_case=_verdicts_case, check_mutation=True,
    mistakes=[
        Mistake("NaN not treated as too high",
                "A run that blew up ends in inf and nan, and every comparison with nan is "
                "False, so it slips through as 'good': test np.all(np.isfinite(losses)) first.",
                verdicts_without_finite_check),
        Mistake("judged by the last mini-batch loss",
                "One mini-batch loss is noisy: a single bad batch at the end would call a good "
                "run 'too high'. Judge the end by the mean of the last fifth of the losses.",
                verdicts_from_last_loss),
        Mistake("drop measured in absolute units",
                "min_drop is a fraction of the initial loss: compare initial - final with "
                "min_drop * initial, so the rule means the same for 10 classes and for 1000.",
                verdicts_absolute_drop),
        Mistake("a flat run called too high",
                "A run whose loss barely moves ends a little above its first mini-batch loss "
                "about as often as a little below it: that is 'too low'. Only a rise by more "
                "than min_drop of the initial loss (or nan/inf) means 'too high'.",
                verdicts_any_rise_too_high),
    ],
))


# ----------------------------------------------------------------------------- recipe

TIME_BUDGET_S = 4.0
# The budget is the recipe's plan; the grader's call timeout is the hard stop. Wall time here
# includes sending the data and a busy machine, so only a recipe far over its budget fails.
OVER_BUDGET = 3.0
THRESHOLDS = {"train_best_model": 0.85, "train_best_model_good": 0.90,
              "train_best_model_great": 0.92}
REFERENCE_ACCURACY = "0.93-0.95"
PREPROCESSING_GAP = 0.1
CHANCE_LEVEL = 0.2   # 10 classes: an untrained network scores about 0.1

# One training per student function (per grading session in the grader, per function object in
# the notebook): the three threshold cells and the hidden seeds judge the same trained model.
_TRAINED = weakref.WeakKeyDictionary()


def recipe_without_its_preprocessing(data, rng, time_budget_s):
    scaler = Standardizer().fit(data["X_train"])
    prepared = {k: scaler.transform(v) if k.startswith("X_") else v for k, v in data.items()}
    model = FullyConnectedNet([100], reg=1e-3, seed=int(rng.integers(2**31)))
    Solver(model, prepared, update_rule="sgd_momentum", optim_config={"learning_rate": 0.05},
           num_epochs=5, batch_size=100, seed=int(rng.integers(2**31))).train()
    return model_spec(model, np.zeros(784), 1.0)   # trained on standardized pixels


def recipe_returning_a_fresh_network(data, rng, time_budget_s):
    scaler = Standardizer().fit(data["X_train"])
    prepared = {k: scaler.transform(v) if k.startswith("X_") else v for k, v in data.items()}
    model = FullyConnectedNet([100], reg=1e-3, seed=int(rng.integers(2**31)))
    solver = Solver(model, prepared, update_rule="sgd_momentum",
                    optim_config={"learning_rate": 0.05}, num_epochs=5, batch_size=100)
    solver.train()
    best = FullyConnectedNet([100])          # meant to hold the best params, never filled
    return model_spec(best, scaler.mean_, scaler.std_)


PREPROCESSING_NOT_RETURNED = Mistake(
    "preprocessing not part of the returned model",
    "The scorer applies (X - mean) / std with the mean and std in your spec to raw pixels, "
    "then runs your network. Return the statistics you trained with (fitted on X_train): "
    "model_spec(model, scaler.mean_, scaler.std_).",
    recipe_without_its_preprocessing)
UNTRAINED_NETWORK = Mistake(
    "an untrained network returned",
    "The returned params score at chance level: they are not the ones the Solver trained. "
    "The Solver updates model.params of the model you gave it (and restores the best epoch's "
    "params there): pass that same model to model_spec.",
    recipe_returning_a_fresh_network)


def _train_and_score(train_best_model, seed):
    """Run the recipe once; a dict with the held-out accuracy, or the problem in words."""
    data = recipes.recipe_data(seed)
    call = f"train_best_model(data, rng, time_budget_s={TIME_BUDGET_S:g})"
    start = time.perf_counter()
    try:
        spec = train_best_model({k: v.copy() for k, v in data.items()},
                                np.random.default_rng(seed), TIME_BUDGET_S)
    except NotImplementedError:
        raise
    except CheckFailure as exc:
        return {"problem": str(exc)}
    except GradingAbort as exc:    # hung, crashed or used the reference: the same for every cell
        return {"abort": exc}
    except Exception as exc:
        return {"problem": f"{call} raised {exception_name(exc)}: {exc}"}
    seconds = time.perf_counter() - start
    problem = recipes._spec_problem(spec)
    if problem:
        return {"problem": f"{call}: {problem}"}
    if seconds > OVER_BUDGET * TIME_BUDGET_S:
        return {"problem": f"{call} took {seconds:.1f} s; the budget is {TIME_BUDGET_S:g} s. "
                           "Measure how long an epoch takes and plan the epochs to fit."}
    X_held, y_held = recipes.heldout_data()
    result = {"seconds": seconds, "heldout": recipes.spec_accuracy(spec, X_held, y_held),
              "val": recipes.spec_accuracy(spec, data["X_val"], data["y_val"])}
    fitted = Standardizer().fit(data["X_train"])
    result["val_fitted"] = recipes.spec_accuracy(spec, data["X_val"], data["y_val"],
                                                 mean=fitted.mean_, std=fitted.std_)
    return result


def _trained(train_best_model, rng):
    key = _training_key(train_best_model)
    runs = _TRAINED.setdefault(key, {}) if _weakrefable(key) else {}
    name = getattr(train_best_model, "__name__", "train_best_model")
    if name not in runs:
        runs[name] = _train_and_score(train_best_model, int(rng.integers(2**31)))
    return runs[name]


def _training_key(fn):
    """What one training is kept for: the grader's session (its stand-in has one), else the
    student's function. check() hands a custom check its wrappers (the mutation guard, the
    in-process boundary), new on every check() call: look through them, or each of the
    three cells would train twice (visible and hidden) instead of once."""
    for _ in range(4):
        inner = getattr(fn, "fn", None)
        if inner is None or not callable(inner):
            break
        fn = inner
    return getattr(fn, "session", fn)


def _weakrefable(value):
    try:
        weakref.ref(value)
    except TypeError:
        return False
    return True


def _check_recipe(exercise_name):
    threshold = THRESHOLDS[exercise_name]

    def check_train_best_model(rng, train_best_model):
        """The recipe's held-out accuracy must reach this cell's threshold."""
        result = _trained(train_best_model, rng)
        if "abort" in result:
            raise result["abort"]
        if "problem" in result:
            raise CheckFailure(result["problem"])
        accuracy = result["heldout"]
        if accuracy >= threshold:
            return
        message = (f"train_best_model: held-out accuracy {accuracy:.3f}, this cell needs "
                   f"{threshold:.2f} (validation accuracy of the returned model "
                   f"{result['val']:.3f}; the course's recipe reaches {REFERENCE_ACCURACY} "
                   f"in {TIME_BUDGET_S:g} s).")
        if accuracy < CHANCE_LEVEL and result["val_fitted"] < CHANCE_LEVEL:
            message += f"\nKnown mistake: {UNTRAINED_NETWORK.label}. {UNTRAINED_NETWORK.explanation}"
        elif result["val_fitted"] - result["val"] > PREPROCESSING_GAP:
            message += (f"\nWith mean and std fitted on data['X_train'] the same network gets "
                        f"{result['val_fitted']:.3f} on the validation digits."
                        f"\nKnown mistake: {PREPROCESSING_NOT_RETURNED.label}. "
                        f"{PREPROCESSING_NOT_RETURNED.explanation}")
        raise CheckFailure(message)
    return check_train_best_model


for _name in THRESHOLDS:
    register(Exercise(
        name=_name, notebook=NOTEBOOK, custom_check=_check_recipe(_name),
        reference_fns=(recipes.train_best_model,), function_names=("train_best_model",),
        answer_cell="train_best_model", visible_seeds=(0,),
        mistakes=[PREPROCESSING_NOT_RETURNED, UNTRAINED_NETWORK],
    ))
