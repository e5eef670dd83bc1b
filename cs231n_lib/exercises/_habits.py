"""Habits students bring from CS231n (or from elsewhere), shared by the exercise registries.

When a student's function raises, the check adds one sentence that says what this notebook
expects instead: the signature (for any TypeError about arguments), the keys of a config dict
(for a KeyError), the layout of a cache that cannot be unpacked. The registries attach them
with `add_signature_habits(NOTEBOOK)` at the end of their module; custom checks run student
code through `run_with_habits`, so their failures carry the same hints as compared cases.
"""
import inspect

from cs231n_lib.grading import (
    CheckFailure, GradingAbort, Habit, _REGISTRY, call_many, habit_hint, raised_message,
)
from cs231n_lib.i18n import N_

# The words Python uses when a call does not fit the function's parameters.
SIGNATURE_ERROR = (r"positional argument|keyword argument|takes \d+ |takes from \d+|"
                   r"missing \d+ required|unexpected keyword")

# Signatures as the notebooks show them, where the library's reference has extra parameters
# or another name for them (e.g. eval_numerical_gradient's `verbose`).
SHOWN_SIGNATURES = {
    "eval_numerical_gradient": "eval_numerical_gradient(f, x, h=1e-5)",
    "init_weights": "init_weights(scheme, n_in, n_out, rng)",
    "log_uniform": "log_uniform(low_exp, high_exp, size, rng)",
    "normalize": "normalize(X_train, X_val, X_test)",
}


def signature_of(fn, name):
    """`name(params)` as the notebook shows it."""
    if name in SHOWN_SIGNATURES:
        return SHOWN_SIGNATURES[name]
    return f"{name}{inspect.signature(fn)}"


def signature_habit(exercise):
    """A Habit that names the expected signature(s) on any TypeError about arguments."""
    shown = " and ".join(signature_of(fn, name) for fn, name in
                         zip(exercise.reference_fns, exercise.function_names))
    template = "This notebook calls {shown}: give your function exactly these parameters."
    return Habit("TypeError", SIGNATURE_ERROR, template.format(shown=shown),
                 template=template, values={"shown": shown})


def add_signature_habits(notebook):
    """Give every registered exercise of `notebook` the signature habit (once)."""
    for exercise in _REGISTRY.values():
        if exercise.notebook != notebook or not exercise.reference_fns:
            continue
        if not any(h.error == "TypeError" and h.pattern == SIGNATURE_ERROR
                   for h in exercise.habits):
            exercise.habits = (signature_habit(exercise),) + tuple(exercise.habits)


def key_habit(container, keys, advice=""):
    """A Habit for a KeyError on one of `keys` of a dict argument (e.g. config)."""
    pattern = "^'(" + "|".join(keys) + ")'$"
    template = "{container} may hold the keys {keys}; {advice}."
    values = {"container": container, "keys": ", ".join(repr(k) for k in keys)}
    phrases = {"advice": advice or N_("read the optional ones with .get(key, default) or setdefault")}
    return Habit("KeyError", pattern, template.format(**values, **phrases),
                 template=template, values=values, phrases=phrases)


def unpack_habit(what, layout):
    """A Habit for a cache (or another tuple) that cannot be unpacked the way the code tries."""
    template = "{what} is {layout}."
    phrases = {"what": what, "layout": layout}
    return Habit("ValueError", r"values to unpack|not enough values|too many values",
                 template.format(**phrases), template=template, phrases=phrases)


def habits_of(name):
    exercise = _REGISTRY.get(name)
    return exercise.habits if exercise is not None else ()


def hints(name, exc):
    """The hint lines of exercise `name`'s habits that explain `exc` ("" if none)."""
    exercise = _REGISTRY.get(name)
    return habit_hint(exercise, exc) if exercise is not None else ""


def run_with_habits(name, call, fn, *args, **kwargs):
    """grading.run_student for custom checks, with the exercise's habit hints added."""
    try:
        return fn(*args, **kwargs)
    except (NotImplementedError, GradingAbort):
        raise
    except Exception as exc:
        raise CheckFailure(raised_message(call, exc) + hints(name, exc)) from exc


def results_with_habits(name, calls_text, fn, calls):
    """run_with_habits for many independent calls [(args, kwargs), ...] made as one batch
    (grading.call_many; in the grader one message): the values in call order; the first call
    that raised raises there, named by its text in `calls_text`, as run_with_habits would."""
    results = call_many(fn, calls)
    for call in calls_text:
        try:
            yield next(results)
        except (NotImplementedError, GradingAbort):
            raise
        except Exception as exc:
            raise CheckFailure(raised_message(call, exc) + hints(name, exc)) from exc
