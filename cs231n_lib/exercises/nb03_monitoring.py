"""Exercises of notebook 03 (monitoring the learning process): per-parameter update/weight
ratios, a loss-curve diagnosis graded on synthetic curves, and the early-abort test."""
from collections import Counter

import numpy as np

from cs231n_lib import monitor
from cs231n_lib.exercises._habits import add_signature_habits, hints
from cs231n_lib.grading import (
    Case, CheckFailure, Exercise, GradingAbort, Mistake, call_many, exception_name, known_mistake,
    register,
)
from cs231n_lib.i18n import N_, tr

NOTEBOOK = "03_monitoring"


# ----------------------------------------------------------------------------- update ratios

def _ratios_case(rng):
    """A small network's params and grads (no zero weights) and a learning rate."""
    num_layers = int(rng.integers(1, 4))
    dims = [int(d) for d in rng.integers(2, 9, size=num_layers + 1)]
    params, grads = {}, {}
    for i in range(1, num_layers + 1):
        shape_w, shape_b = (dims[i - 1], dims[i]), (dims[i],)
        params[f"W{i}"] = rng.standard_normal(shape_w) * 10.0 ** rng.uniform(-2, 0)
        params[f"b{i}"] = rng.standard_normal(shape_b) * 10.0 ** rng.uniform(-3, -1)
        grads[f"W{i}"] = rng.standard_normal(shape_w) * 10.0 ** rng.uniform(-3, 0)
        grads[f"b{i}"] = rng.standard_normal(shape_b) * 10.0 ** rng.uniform(-3, 0)
    learning_rate = float(10.0 ** rng.uniform(-4, -1))
    return Case((params, grads, learning_rate))


def ratios_of_the_gradient(params, grads, learning_rate):
    return {name: np.linalg.norm(grads[name]) / np.linalg.norm(w) for name, w in params.items()}


def ratios_inverted(params, grads, learning_rate):
    return {name: np.linalg.norm(w) / np.linalg.norm(learning_rate * grads[name])
            for name, w in params.items()}


def ratios_of_means(params, grads, learning_rate):
    return {name: np.mean(np.abs(learning_rate * grads[name])) / np.mean(np.abs(w))
            for name, w in params.items()}


def ratios_of_squared_norms(params, grads, learning_rate):
    return {name: np.sum((learning_rate * grads[name]) ** 2) / np.sum(w ** 2)
            for name, w in params.items()}


def ratios_one_for_all(params, grads, learning_rate):
    w_all = np.concatenate([w.ravel() for w in params.values()])
    update_all = np.concatenate([learning_rate * grads[name].ravel() for name in params])
    return np.linalg.norm(update_all) / np.linalg.norm(w_all)


register(Exercise(
    name="update_to_weight_ratios", notebook=NOTEBOOK,
    reference=monitor.update_to_weight_ratios, make_case=_ratios_case, rtol=1e-9,
    mistakes=[
        Mistake("ratio of the gradient instead of the update",
                "The update is what SGD adds to W: learning_rate * dW. ||dW|| / ||W|| ignores "
                "the learning rate, which is exactly the knob the ratio is meant to judge.",
                ratios_of_the_gradient),
        Mistake("inverted ratio",
                "Divide the size of the update by the size of the weights (||lr*dW|| / ||W||), "
                "not the other way round: a healthy value is about 1e-3, not 1e3.",
                ratios_inverted),
        Mistake("mean instead of norm",
                "Use the Frobenius norm np.linalg.norm of the whole array, not a mean of its "
                "entries.", ratios_of_means),
        Mistake("squared norms instead of norms",
                "||x|| is the square root of the sum of squares; a ratio of squared norms is "
                "the square of the update/weight ratio (1e-6 instead of 1e-3).",
                ratios_of_squared_norms),
        Mistake("one ratio for all parameters",
                "Compute one ratio per parameter array (a dict name -> ratio): each layer's "
                "weights and biases can be too fast or too slow on their own.",
                ratios_one_for_all),
    ],
))


# ----------------------------------------------------------------------------- diagnosis

CURVES_PER_KIND = 20
MIN_CORRECT = 18          # at least 90% right for every kind
CURVE_POINTS = (100, 300)

NAN_NOT_DIVERGING = "NaN/inf not treated as diverging"
PLATEAU_AS_GOOD = "plateau confused with good"
BAD_INIT_MISSED = "flat start then sudden drop not recognized as bad initialization"

_DIAGNOSIS_MISTAKES = {
    NAN_NOT_DIVERGING: (
        "A run whose loss overflowed holds inf and then nan, and every comparison with nan "
        "is False (nan > 3 * start is False): test np.isfinite on the losses first."),
    PLATEAU_AS_GOOD: (
        "A fast drop that stops early at a high value ('lr too high') and a fast drop that "
        "keeps falling ('good') differ in how late the last part of the decrease happens: "
        "look at when the curve reaches ~90% of its total drop."),
    BAD_INIT_MISSED: (
        "A curve that stays flat for a good part of the run and then falls quickly is the "
        "sign of a bad initialization, not of a low learning rate: compare when the curve "
        "leaves its starting level with how fast it then falls."),
}


def _curves_of_kind(kind, rng):
    """CURVES_PER_KIND synthetic curves of one kind; diverging ones half with NaN/inf."""
    def curve():
        return monitor.synthetic_loss_curve(kind, rng, int(rng.integers(*CURVE_POINTS,
                                                                      endpoint=True)))
    if kind != "diverging":
        return [curve() for _ in range(CURVES_PER_KIND)]
    finite, blown = [], []
    while len(finite) < CURVES_PER_KIND // 2 or len(blown) < CURVES_PER_KIND // 2:
        c = curve()
        (finite if np.all(np.isfinite(c)) else blown).append(c)
    return finite[:CURVES_PER_KIND // 2] + blown[:CURVES_PER_KIND // 2]


def _diagnose_all(diagnose, curves):
    """The student's answer for every curve, checked to be one of LOSS_DIAGNOSES.

    The calls are made as one batch (in the grader: one message to the student's process),
    and their answers are checked in order, so the first problem is the one a loop finds."""
    answers = []
    results = call_many(diagnose, [((curve.copy(),), {}) for curve in curves])
    for curve in curves:
        try:
            answer = next(results)
        except (NotImplementedError, GradingAbort):
            raise
        except Exception as exc:
            raise CheckFailure(tr("diagnose_loss_curve raised {error}: {message} on a "
                                  "synthetic curve of {points} points",
                                  error=exception_name(exc), message=exc, points=curve.shape[0])
                               + hints("diagnose_loss_curve", exc)) from exc
        if not isinstance(answer, str) or answer not in monitor.LOSS_DIAGNOSES:
            valid = ", ".join(repr(d) for d in monitor.LOSS_DIAGNOSES)
            raise CheckFailure(tr("diagnose_loss_curve returned {answer!r}; it must return one "
                                  "of the strings {valid}", answer=answer, valid=valid))
        answers.append(answer)
    return answers


def _recognized_mistakes(answers, curves):
    """Labels of the known mistakes the pattern of wrong answers points to."""
    labels = []
    diverging = answers["diverging"]
    blown = [a for a, c in zip(diverging, curves["diverging"]) if not np.all(np.isfinite(c))]
    if blown and sum(a != "diverging" for a in blown) > len(blown) // 2:
        labels.append(NAN_NOT_DIVERGING)
    too_high_as_good = sum(a == "good" for a in answers["lr too high"])
    good_as_too_high = sum(a == "lr too high" for a in answers["good"])
    if max(too_high_as_good, good_as_too_high) > CURVES_PER_KIND - MIN_CORRECT:
        labels.append(PLATEAU_AS_GOOD)
    if sum(a != "bad initialization" for a in answers["bad initialization"]) > (
            CURVES_PER_KIND - MIN_CORRECT):
        labels.append(BAD_INIT_MISSED)
    return labels


def check_diagnose_loss_curve(rng, diagnose):
    """Accuracy of `diagnose` on CURVES_PER_KIND synthetic curves of every kind (>= 90% each)."""
    curves = {kind: _curves_of_kind(kind, rng) for kind in monitor.LOSS_DIAGNOSES}
    # All kinds' curves in one batch; answers are checked kind after kind, as they were made.
    every_answer = iter(_diagnose_all(diagnose, [c for cs in curves.values() for c in cs]))
    answers = {kind: [next(every_answer) for _ in kind_curves]
               for kind, kind_curves in curves.items()}
    failures = []
    for kind, kind_answers in answers.items():
        correct = sum(a == kind for a in kind_answers)
        if correct < MIN_CORRECT:
            wrong, times = Counter(a for a in kind_answers if a != kind).most_common(1)[0]
            failures.append(tr("  {kind!r}: {correct}/{total} right (answered {wrong!r} {times} "
                               "times)", kind=kind, correct=correct, total=len(kind_answers),
                               wrong=wrong, times=times))
    if not failures:
        return
    message = (tr("diagnose_loss_curve must name at least {min_correct} of {per_kind} "
                  "synthetic curves of each kind correctly (monitor.synthetic_loss_curve, "
                  "{low}-{high} points); it got:", min_correct=MIN_CORRECT,
                  per_kind=CURVES_PER_KIND, low=CURVE_POINTS[0], high=CURVE_POINTS[1])
               + "\n" + "\n".join(failures))
    for label in _recognized_mistakes(answers, curves):
        message += "\n" + known_mistake(label, _DIAGNOSIS_MISTAKES[label])
    raise CheckFailure(message)


def diagnose_without_finite_check(losses):
    losses = np.asarray(losses, dtype=float)
    n = losses.shape[0]
    start = np.median(losses[:max(3, n // 50)])
    end = np.median(losses[-max(3, n // 10):])
    if end > 3 * start:
        return "diverging"
    drop = start - end
    if drop < 0.05 * start:
        return "lr too low"
    window = max(3, n // 20)
    padded = np.pad(losses, window // 2, mode="edge")
    smooth = np.convolve(padded, np.ones(window) / window, mode="valid")[:n]
    t10, t50, t90 = (np.mean(smooth > start - f * drop) for f in (0.1, 0.5, 0.9))
    if t10 >= 0.2 and t50 - t10 < 0.2:
        return "bad initialization"
    if t50 >= 0.25:
        return "lr too low"
    if t90 < 0.4:
        return "lr too high"
    return "good"


def diagnose_without_plateau_rule(losses):
    losses = np.asarray(losses, dtype=float)
    n = losses.shape[0]
    if not np.all(np.isfinite(losses)):
        return "diverging"
    start = np.median(losses[:max(3, n // 50)])
    end = np.median(losses[-max(3, n // 10):])
    if end > 3 * start:
        return "diverging"
    drop = start - end
    if drop < 0.05 * start:
        return "lr too low"
    window = max(3, n // 20)
    padded = np.pad(losses, window // 2, mode="edge")
    smooth = np.convolve(padded, np.ones(window) / window, mode="valid")[:n]
    t10, t50 = (np.mean(smooth > start - f * drop) for f in (0.1, 0.5))
    if t10 >= 0.2 and t50 - t10 < 0.2:
        return "bad initialization"
    if t50 >= 0.25:
        return "lr too low"
    return "good"  # fell fast: looks fine


def diagnose_without_bad_init_rule(losses):
    losses = np.asarray(losses, dtype=float)
    n = losses.shape[0]
    if not np.all(np.isfinite(losses)):
        return "diverging"
    start = np.median(losses[:max(3, n // 50)])
    end = np.median(losses[-max(3, n // 10):])
    if end > 3 * start:
        return "diverging"
    drop = start - end
    if drop < 0.05 * start:
        return "lr too low"
    window = max(3, n // 20)
    padded = np.pad(losses, window // 2, mode="edge")
    smooth = np.convolve(padded, np.ones(window) / window, mode="valid")[:n]
    t50, t90 = (np.mean(smooth > start - f * drop) for f in (0.5, 0.9))
    if t50 >= 0.25:
        return "lr too low"  # slow to fall
    if t90 < 0.4:
        return "lr too high"
    return "good"


register(Exercise(
    name="diagnose_loss_curve", notebook=NOTEBOOK,
    custom_check=check_diagnose_loss_curve, reference_fns=(monitor.diagnose_loss_curve,),
    mistakes=[
        Mistake(NAN_NOT_DIVERGING, _DIAGNOSIS_MISTAKES[NAN_NOT_DIVERGING],
                diagnose_without_finite_check),
        Mistake(PLATEAU_AS_GOOD, _DIAGNOSIS_MISTAKES[PLATEAU_AS_GOOD],
                diagnose_without_plateau_rule),
        Mistake(BAD_INIT_MISSED, _DIAGNOSIS_MISTAKES[BAD_INIT_MISSED],
                diagnose_without_bad_init_rule),
    ],
))


# ----------------------------------------------------------------------------- early abort

ABORT_MISTAKES = {
    "NaN not treated as a blow-up": (
        "Every comparison with nan is False, so `losses[-1] > factor * initial_loss` never "
        "fires once the loss is nan: test np.isfinite(latest) first."),
    "factor applied to the minimum loss": (
        "Compare with factor x the *initial* loss. After a good drop the minimum is small, "
        "and ordinary noise above 3x that minimum would stop a healthy run."),
    "compared with the previous loss instead of the initial loss": (
        "Compare with factor x the *initial* loss: a jump relative to the previous loss "
        "happens in healthy runs with noisy mini-batches, while a slow blow-up never "
        "triples from one step to the next."),
    "initial_loss argument ignored": (
        "When initial_loss is given (e.g. losses is only the latest window of a long run), "
        "compare with it instead of losses[0]."),
    "factor argument ignored": (
        "Use the factor argument instead of a hard-coded 3."),
    "-inf not treated as a blow-up": (
        "A loss of -inf is as broken as +inf or nan (e.g. the log of a probability that "
        "overflowed): test `not np.isfinite(latest)`, not only np.isnan(latest)."),
}


def _show_losses(losses):
    """Short text of a loss history: at most 6 values, 3 significant digits."""
    values = [f"{float(v):.3g}" for v in losses]
    if len(values) > 6:
        values = values[:3] + ["..."] + values[-2:]
    return "[" + ", ".join(values) + "]"


def _abort_scenarios(rng):
    """(what, losses, kwargs, expected, mistake label or None), in the order they are checked.

    The order matters: each labelled scenario is the first one its mistake fails.
    """
    initial = rng.uniform(2.0, 2.6)
    n = int(rng.integers(5, 12))
    falling = list(initial * np.exp(-np.linspace(0, rng.uniform(1.0, 2.5), n))
                   * (1 + 0.02 * rng.standard_normal(n)))
    falling[0] = initial
    lowest = min(falling)
    big = rng.uniform(8.0, 20.0)  # factor * big and big + factor are far apart
    return [
        (N_("a loss that falls steadily"), falling, {}, False, None),
        (N_("the latest loss jumped above factor x the initial loss"), falling[:-1]
         + [initial * rng.uniform(3.5, 10.0)], {}, True, None),
        (N_("the latest loss is above 3x the lowest loss but below 3x the initial loss"),
         falling + [lowest * rng.uniform(1.6, 2.0), lowest * rng.uniform(3.3, 4.5)], {}, False,
         "factor applied to the minimum loss"),
        (N_("the latest loss is above 3x the previous loss but below 3x the initial loss"),
         falling + [falling[-1] * rng.uniform(3.5, 5.0)], {}, False,
         "compared with the previous loss instead of the initial loss"),
        (N_("the latest loss is nan"), falling + [np.nan], {}, True,
         "NaN not treated as a blow-up"),
        (N_("the latest loss is inf"), falling + [np.inf], {}, True, None),
        (N_("the latest loss is -inf"), falling + [-np.inf], {}, True,
         "-inf not treated as a blow-up"),
        (N_("the latest loss is above factor x the given initial_loss"),
         list(initial * np.array([2.0, 2.4, 2.8, rng.uniform(3.2, 4.0)])),
         {"initial_loss": initial}, True, "initial_loss argument ignored"),
        (N_("the latest loss is 2x a large given initial_loss (below factor x, above "
            "initial_loss + factor)"), [big, big * 0.8, big * 2.0], {"initial_loss": big}, False,
         None),
        (N_("with factor=2.0 the latest loss is above 2x the initial loss"),
         falling + [initial * rng.uniform(2.2, 2.8)], {"factor": 2.0}, True,
         "factor argument ignored"),
        (N_("a single loss (the first iteration)"), [initial], {}, False, None),
    ]


def check_should_abort(rng, should_abort):
    """Run should_abort on hand-made histories; the first wrong answer fails the check.

    The calls are made as one batch (in the grader: one message to the student's process);
    their answers are checked in order, so the first wrong one is the one a loop finds."""
    scenarios, calls = _abort_scenarios(rng), []
    for _, losses, kwargs, _, _ in scenarios:
        as_list = rng.random() < 0.5  # both plain lists and arrays must work
        given = [float(v) for v in losses] if as_list else np.array(losses, dtype=float)
        calls.append(((given,), kwargs))
    answers = call_many(should_abort, calls)
    for what, losses, kwargs, expected, label in scenarios:
        args = ", ".join([_show_losses(losses)] + [f"{k}={v:.3g}" for k, v in kwargs.items()])
        call = f"should_abort({args})"
        try:
            answer = next(answers)
        except (NotImplementedError, GradingAbort):
            raise
        except Exception as exc:
            raise CheckFailure(tr("{call} raised {error}: {message} ({what})", call=call,
                                  error=exception_name(exc), message=exc, what=tr(what))
                               + hints("should_abort", exc)) from exc
        if not isinstance(answer, (bool, np.bool_)):
            raise CheckFailure(tr("{call} returned {answer!r} ({type}); it must return True "
                                  "or False", call=call, answer=answer,
                                  type=type(answer).__name__))
        if bool(answer) != expected:
            message = tr("{call} returned {answer}, expected {expected}: {what}.", call=call,
                         answer=bool(answer), expected=expected, what=tr(what))
            if label is not None:
                message += "\n" + known_mistake(label, ABORT_MISTAKES[label])
            raise CheckFailure(message)


def should_abort_without_nan_check(losses, initial_loss=None, factor=3.0):
    if initial_loss is None:
        initial_loss = losses[0]
    return losses[-1] > factor * initial_loss


def should_abort_against_minimum(losses, initial_loss=None, factor=3.0):
    latest = losses[-1]
    if not np.isfinite(latest):
        return True
    return latest > factor * np.min(losses)


def should_abort_against_previous(losses, initial_loss=None, factor=3.0):
    latest = losses[-1]
    if not np.isfinite(latest):
        return True
    return latest > factor * losses[-2]


def should_abort_ignoring_initial_loss(losses, initial_loss=None, factor=3.0):
    latest = losses[-1]
    return bool(not np.isfinite(latest) or latest > factor * losses[0])


def should_abort_with_factor_three(losses, initial_loss=None, factor=3.0):
    if initial_loss is None:
        initial_loss = losses[0]
    latest = losses[-1]
    return bool(not np.isfinite(latest) or latest > 3 * initial_loss)


def should_abort_nan_only(losses, initial_loss=None, factor=3.0):
    if initial_loss is None:
        initial_loss = losses[0]
    latest = losses[-1]
    return bool(np.isnan(latest) or latest > factor * initial_loss)


register(Exercise(
    name="should_abort", notebook=NOTEBOOK,
    custom_check=check_should_abort, reference_fns=(monitor.should_abort,),
    mistakes=[Mistake(label, ABORT_MISTAKES[label], fn) for label, fn in [
        ("NaN not treated as a blow-up", should_abort_without_nan_check),
        ("factor applied to the minimum loss", should_abort_against_minimum),
        ("compared with the previous loss instead of the initial loss",
         should_abort_against_previous),
        ("initial_loss argument ignored", should_abort_ignoring_initial_loss),
        ("factor argument ignored", should_abort_with_factor_three),
        ("-inf not treated as a blow-up", should_abort_nan_only),
    ]],
))


add_signature_habits(NOTEBOOK)
