"""Checks that the notebooks' grade cells call: compare a student's function with the reference.

Every graded exercise is described once, in an :class:`Exercise` registered under the name of
the function the student writes (see ``cs231n_lib/exercises/``). A grade cell then needs one
line::

    check("affine_backward", affine_backward)               # visible cases, fixed seeds
    check("affine_backward", affine_backward, hidden=True)  # fresh random cases

A failed check raises :class:`CheckFailure` (an ``AssertionError``, so nbgrader counts it) whose
message names the function, the input shapes, the output that differs, its max relative error
and where — and, when the wrong output is exactly what a known mistake produces, names that
mistake. The checks never depend on the order of random calls inside the student's function.
"""
from __future__ import annotations

import copy
import importlib
import pkgutil
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = [
    "CheckFailure", "GradingAbort", "Case", "Mistake", "Exercise", "register", "get_exercise",
    "exercise_names",
    "check", "compare_outputs", "describe_inputs", "max_relative_error", "fail", "run_student",
    "exception_name", "Habit",
]

DEFAULT_RTOL = 1e-6
HIDDEN_CASES = 5


class CheckFailure(AssertionError):
    """A student's function gave a wrong answer; the message says what and, if known, why."""


class GradingAbort(Exception):
    """Raised by the grader's machinery (not by student code) to stop a check as it is:
    the student's process crashed or timed out, or it used the reference implementation."""


@dataclass
class Case:
    """One call of the exercise: positional and keyword arguments."""
    args: tuple
    kwargs: dict = field(default_factory=dict)

    def copied(self):
        """A deep copy, so neither the student nor the reference can change the other's inputs."""
        return Case(copy.deepcopy(self.args), copy.deepcopy(self.kwargs))


@dataclass
class Mistake:
    """A known wrong implementation and the lesson to give when a student's output matches it.

    `implementation` has the exercise's signature and is written as a student would write the
    mistake; tests also paste its source into a notebook to prove the grader catches it. For
    answer cells that define several functions it may instead be the whole cell's source (str);
    such mistakes are named by the exercise's custom_check, not by output matching.
    """
    label: str
    explanation: str
    implementation: Callable | str
    replaces: int = 0   # for multi-function exercises: which of the functions this one replaces


@dataclass
class Habit:
    """A habit students bring from elsewhere (usually CS231n) that this exercise does not share.

    When the student's function raises `error` (an exception name) with a message matching the
    regular expression `pattern`, the check adds `hint`: one sentence that says what this
    notebook expects instead, e.g. that dropout reads `keep_prob` where CS231n read `p`.
    """
    error: str
    pattern: str
    hint: str

    def matches(self, exc):
        import re
        return exception_name(exc) == self.error and re.search(self.pattern, str(exc)) is not None


@dataclass
class Exercise:
    """Everything needed to grade one function: inputs, reference, tolerance, known mistakes.

    make_case(rng) -> Case builds inputs (shapes drawn from rng too, so hidden cases vary them).
    custom_check(rng, *student_fns) replaces the comparison for exercises graded by properties
    (randomness, distributions) or made of several functions; it raises CheckFailure itself,
    naming known mistakes it recognizes. reference_fns are the functions that pass it.
    """
    name: str
    notebook: str
    reference: Callable | None = None
    make_case: Callable[[np.random.Generator], Case] | None = None
    output_names: tuple = ()
    rtol: float = DEFAULT_RTOL
    atol: float = 1e-10
    visible_seeds: tuple = (0, 1, 2)
    mistakes: list = field(default_factory=list)
    custom_check: Callable | None = None
    reference_fns: tuple = ()
    check_mutation: bool = True
    function_names: tuple = ()  # names the student's functions have (default: the references')
    answer_cell: str = ""   # grade_id of the student's answer cell (default: name)
    test_cell: str = ""     # grade_id of the grade cell (default: "test_" + name)
    habits: tuple = ()      # Habit entries: errors that reveal a habit from elsewhere

    def __post_init__(self):
        self.answer_cell = self.answer_cell or self.name
        self.test_cell = self.test_cell or f"test_{self.name}"
        if not self.reference_fns and self.reference is not None:
            self.reference_fns = (self.reference,)
        if not self.function_names:
            self.function_names = tuple(fn.__name__ for fn in self.reference_fns) or (self.name,)

    def cases(self, seeds):
        for seed in seeds:
            yield seed, self.make_case(np.random.default_rng(seed))


_REGISTRY: dict[str, Exercise] = {}
_LOADED = False


def register(exercise):
    """Add an exercise to the registry; names must be unique across the course."""
    if exercise.name in _REGISTRY:
        raise ValueError(f"exercise {exercise.name!r} is registered twice")
    if exercise.custom_check is None and (exercise.reference is None or exercise.make_case is None):
        raise ValueError(f"exercise {exercise.name!r} needs a reference and make_case, "
                         "or a custom_check")
    _REGISTRY[exercise.name] = exercise
    return exercise


def _load_all():
    # Import every module of cs231n_lib.exercises once; each registers its notebook's exercises.
    global _LOADED
    if _LOADED:
        return
    package = importlib.import_module("cs231n_lib.exercises")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    _LOADED = True


def exercise_names(notebook=None):
    """Names of all registered exercises, optionally only those of one notebook."""
    _load_all()
    return sorted(n for n, ex in _REGISTRY.items() if notebook is None or ex.notebook == notebook)


def get_exercise(name):
    """The registered Exercise called `name`; ValueError listing the known names otherwise."""
    _load_all()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"no exercise called {name!r}; known exercises: {known}")
    return _REGISTRY[name]


# ----------------------------------------------------------------------------- comparison

def _leaves(value, path=""):
    """Flatten nested tuples/lists/dicts into (path, leaf) pairs; dict keys sorted."""
    if isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from _leaves(value[key], f"{path}[{key!r}]")
    else:
        yield path, value


def max_relative_error(actual, expected, atol=1e-10):
    """Max of |a-e| / max(|a|, |e|, atol) over elements, and the index where it occurs."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.size == 0:
        return 0.0, ()
    # nan == nan and inf == inf (same sign) count as agreement: a known mistake that overflows
    # must still be recognizable.
    same = (np.isnan(actual) & np.isnan(expected)) | (np.isinf(actual) & (actual == expected))
    with np.errstate(invalid="ignore"):
        diff = np.abs(actual - expected)
        scale = np.maximum(np.maximum(np.abs(actual), np.abs(expected)), atol)
        err = np.where(same, 0.0, diff / scale)
    err = np.where(np.isnan(err), np.inf, err)  # a nan on one side only is maximally wrong
    flat = int(np.argmax(err))
    index = np.unravel_index(flat, err.shape) if err.ndim else ()
    return float(err.flat[flat]), tuple(int(i) for i in index)


def _is_number(value):
    return isinstance(value, (int, float, np.number, bool, np.bool_)) or (
        isinstance(value, np.ndarray) and value.ndim == 0)


def _structure_problem(actual, expected):
    """Why `actual` cannot be compared with `expected` at all, or None."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)):
            return f"expected a tuple of {len(expected)} values, got {type(actual).__name__}"
        if len(actual) != len(expected):
            return f"expected a tuple of {len(expected)} values, got {len(actual)}"
    return None


def compare_outputs(actual, expected, rtol=DEFAULT_RTOL, atol=1e-10, names=()):
    """Compare a student's output with the reference output.

    Returns None when they agree, else a one-line description of the first difference
    (which output, shapes or max relative error and index).
    """
    problem = _structure_problem(actual, expected)
    if problem:
        return problem
    if isinstance(expected, (tuple, list)) and names and len(names) == len(expected):
        pairs = zip(names, actual, expected)
    else:
        pairs = [("output", actual, expected)]
    for name, act, exp in pairs:
        act_leaves = dict(_leaves(act))
        for path, exp_leaf in _leaves(exp):
            label = f"{name}{path}"
            if path not in act_leaves:
                return f"{label} is missing"
            problem = _compare_leaf(label, act_leaves[path], exp_leaf, rtol, atol)
            if problem:
                return problem
    return None


def _compare_leaf(label, actual, expected, rtol, atol):
    if isinstance(expected, str) or expected is None:
        # Exact type first: an object with a lying __eq__ must not pass.
        if type(actual) is type(expected) and actual == expected:
            return None
        return f"{label} should be {expected!r}, got {actual!r}"
    if not (_is_number(actual) or isinstance(actual, np.ndarray)):
        # Accept plain lists of numbers, but never objects that merely claim to be equal.
        try:
            actual = np.asarray(actual, dtype=np.float64)
        except (TypeError, ValueError):
            return f"{label} should be a number or an array, got {type(actual).__name__}"
    if np.shape(actual) != np.shape(expected):
        return f"{label} has shape {np.shape(actual)}, expected {np.shape(expected)}"
    try:
        err, index = max_relative_error(actual, expected, atol)
    except (TypeError, ValueError):
        return f"{label} holds values that are not numbers (dtype {np.asarray(actual).dtype})"
    if err > rtol:
        where = f" at index {index}" if index else ""
        return (f"{label} differs from the reference: max relative error {err:.2e}{where} "
                f"(tolerance {rtol:.0e})")
    return None


def describe_inputs(case):
    """Short text of a case's inputs: shapes for arrays, values for scalars."""
    def one(value):
        if isinstance(value, np.ndarray):
            return f"array{value.shape}"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {one(v)}" for k, v in value.items()) + "}"
        if isinstance(value, (list, tuple)):
            inner = ", ".join(one(v) for v in value[:4]) + (", ..." if len(value) > 4 else "")
            return ("[" + inner + "]") if isinstance(value, list) else ("(" + inner + ")")
        if isinstance(value, np.random.Generator):
            return "rng"
        if callable(value):
            return getattr(value, "__name__", "function")
        return repr(value)
    parts = [one(a) for a in case.args] + [f"{k}={one(v)}" for k, v in case.kwargs.items()]
    return "(" + ", ".join(parts) + ")"


# ----------------------------------------------------------------------------- checking

def _call(fn, case):
    case = case.copied()
    return fn(*case.args, **case.kwargs), case


def _call_quietly(fn, case):
    """Run a trusted function (reference or known mistake) without warnings in the student's output."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _call(fn, case)


def _matching_mistake(exercise, case, actual):
    """The first known mistake whose output equals the student's (the student's error is that one)."""
    for mistake in exercise.mistakes:
        if not callable(mistake.implementation):
            continue
        try:
            wrong, _ = _call_quietly(mistake.implementation, case)
        except Exception:  # a mistake may fail on some inputs; then it is not this one
            continue
        if compare_outputs(actual, wrong, exercise.rtol, exercise.atol, exercise.output_names) is None:
            return mistake
    return None


def _mutated_inputs(original, after):
    """Names of array arguments the student's function changed in place."""
    changed = []
    for i, (before, now) in enumerate(zip(original.args, after.args)):
        if isinstance(before, np.ndarray) and isinstance(now, np.ndarray):
            if before.shape == now.shape and not np.array_equal(before, now, equal_nan=True):
                changed.append(f"argument {i + 1}")
    return changed


def fail(message, mistake=None):
    """Raise CheckFailure(message), naming a known mistake (label and lesson) when given."""
    if mistake is not None:
        message += f"\nKnown mistake: {mistake.label}. {mistake.explanation}"
    raise CheckFailure(message)


def exception_name(exc):
    """The name of an exception raised by student code (errors relayed from a worker keep it)."""
    return getattr(exc, "kind", type(exc).__name__)


def habit_hint(exercise, exc):
    """The hints of `exercise`'s habits that explain `exc` (each on its own line), or ""."""
    return "".join(f"\n{habit.hint}" for habit in exercise.habits if habit.matches(exc))


def run_student(call, fn, *args, **kwargs):
    """fn(*args, **kwargs) for custom checks: an error in student code becomes a CheckFailure
    naming `call`; NotImplementedError and the grader's own GradingAbort pass through."""
    try:
        return fn(*args, **kwargs)
    except (NotImplementedError, GradingAbort):
        raise
    except Exception as exc:
        raise CheckFailure(f"{call} raised {exception_name(exc)}: {exc}") from exc


def check_case(exercise, student_fn, case, seed):
    """Run one case; raise CheckFailure with a teaching message if the student's output is wrong."""
    header = f"{exercise.name}{describe_inputs(case)} [case seed {seed}]"
    try:
        actual, after = _call(student_fn, case)
    except (NotImplementedError, GradingAbort):
        raise
    except Exception as exc:
        raise CheckFailure(f"{header} raised {exception_name(exc)}: {exc}"
                           + habit_hint(exercise, exc)) from exc
    expected, _ = _call_quietly(exercise.reference, case)
    problem = compare_outputs(actual, expected, exercise.rtol, exercise.atol, exercise.output_names)
    if problem is None:
        if exercise.check_mutation:
            changed = _mutated_inputs(case, after)
            if changed:
                raise CheckFailure(f"{header}: your function changed its input in place "
                                   f"({', '.join(changed)}); return new arrays instead.")
        return
    message = f"{header}: {problem}."
    mistake = _matching_mistake(exercise, case, actual)
    if mistake is not None:
        message += f"\nKnown mistake: {mistake.label}. {mistake.explanation}"
    raise CheckFailure(message)


def _hidden_seeds(count):
    # Fresh seeds each run, so nobody can tune an answer to the hidden inputs; printed on failure.
    return [int(s) for s in np.random.SeedSequence().generate_state(count)]


def check(name, *student_fns, hidden=False, seeds=None):
    """Check a student's implementation of exercise `name`; silent on success.

    hidden=False runs the exercise's fixed visible cases; hidden=True runs fresh random cases.
    Raises CheckFailure (an AssertionError) with a message that teaches when something is wrong.
    """
    exercise = get_exercise(name)
    if not student_fns or not all(callable(fn) for fn in student_fns):
        raise CheckFailure(f"check({name!r}, ...) needs your function(s) as argument(s)")
    if seeds is None:
        seeds = _hidden_seeds(HIDDEN_CASES) if hidden else exercise.visible_seeds
    if exercise.custom_check is not None:
        for seed in seeds:
            exercise.custom_check(np.random.default_rng(seed), *student_fns)
        return
    if len(student_fns) != 1:
        raise CheckFailure(f"check({name!r}, ...) takes exactly one function")
    for seed, case in exercise.cases(seeds):
        check_case(exercise, student_fns[0], case, seed)
