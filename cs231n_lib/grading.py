"""Checks that the notebooks' grade cells call: compare a student's function with the reference.

Every graded exercise is described once, in an :class:`Exercise` registered under the name of
the function the student writes (see ``cs231n_lib/exercises/``). A grade cell then needs one
line::

    check("affine_backward", affine_backward)               # visible cases, fixed seeds
    check("affine_backward", affine_backward, hidden=True)  # hidden cases (see hidden_seeds)

A failed check raises :class:`CheckFailure` (an ``AssertionError``, so nbgrader counts it) whose
message names the function, the arguments by name, the output that differs with the value
returned next to the value expected — and, when the wrong output is exactly what a known
mistake produces, names that mistake. In a notebook, only that message is shown (no traceback
through this module), an untouched stub says it is not implemented yet, and a pass prints one
line. The checks never depend on the order of random calls inside the student's function.

The notebook's check and the grader reach one verdict: the student's functions are called
through the same boundary (cs231n_lib.boundary: plain values, trip-wires on the reference,
the in-place-change guard), only in-process here and in a worker in the grader. Hidden cases
come from seeds derived from a per-course secret, so re-grading gives the same score.

Messages are written in English and shown in the active language (cs231n_lib.i18n; a Korean
notebook's set-up calls `set_language("ko")`, re-exported here); the registries' mistake
labels, explanations and habit hints are translated when shown, so registries stay English.
"""
from __future__ import annotations

import copy
import hashlib
import importlib
import inspect
import os
import pkgutil
import sys
import warnings
from dataclasses import dataclass, field
from typing import Callable

from pathlib import Path

import numpy as np

from cs231n_lib import boundary, values
from cs231n_lib.boundary import GradingAbort, call_many
from cs231n_lib.i18n import set_language, tr

__all__ = [
    "CheckFailure", "GradingAbort", "Case", "Mistake", "Exercise", "register", "get_exercise",
    "exercise_names",
    "check", "compare_outputs", "describe_inputs", "max_relative_error", "fail", "run_student",
    "exception_name", "Habit", "NotImplementedYet", "hidden_seeds", "course_secret",
    "reference_functions", "known_mistake", "set_language", "call_many",
]

DEFAULT_RTOL = 1e-6
HIDDEN_CASES = 5
SECRET_ENV = "COURSE_GRADING_SECRET"


class _ShownAsMessage:
    """IPython shows an exception with _render_traceback_ as the lines it returns: the
    student sees the teaching message, not a traceback through the grading machinery."""

    def _render_traceback_(self):
        lines = str(self).splitlines() or [""]
        return [f"{type(self).__name__}: {lines[0]}", *lines[1:]]


class CheckFailure(_ShownAsMessage, AssertionError):
    """A student's function gave a wrong answer; the message says what and, if known, why."""


class NotImplementedYet(_ShownAsMessage, NotImplementedError):
    """The student's function is still the stub (it raised NotImplementedError)."""


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
    # A hint built from parts (e.g. a signature) keeps its template, the catalogue's key:
    # `values` are shown as they are, `phrases` are English words translated on their own.
    template: str = ""
    values: dict = field(default_factory=dict)
    phrases: dict = field(default_factory=dict)

    def matches(self, exc):
        import re
        return exception_name(exc) == self.error and re.search(self.pattern, str(exc)) is not None

    def text(self):
        """The hint in the active language."""
        if not self.template:
            return tr(self.hint)
        return tr(self.template, **self.values, **{k: tr(v) for k, v in self.phrases.items()})


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
    """Flatten nested tuples/lists/dicts into (path, leaf) pairs; dict keys sorted.

    A non-empty list or tuple of plain numbers is one leaf, like an array: a student may return
    [0.1, 0.2] where the reference returns array([0.1, 0.2]), and either side compares as one.
    """
    if isinstance(value, (tuple, list)) and value and all(map(_is_number, value)):
        yield path, value
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from _leaves(value[key], f"{path}[{key!r}]")
    else:
        yield path, value


def max_relative_error(actual, expected, atol=1e-10, nan_agrees=True):
    """Max of |a-e| / max(|a|, |e|, atol) over elements, and the index where it occurs.

    inf == inf (same sign) counts as agreement: a known mistake that overflows must still be
    recognizable. nan == nan counts as agreement only with nan_agrees (comparing with the
    reference, whose nan is a documented answer); a known mistake is never recognized by its
    nans, since any missing 0/0 guard makes them — that would give a wrong label.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.size == 0:
        return 0.0, ()
    both_nan = np.isnan(actual) & np.isnan(expected)
    same = (both_nan if nan_agrees else False) | (np.isinf(actual) & (actual == expected))
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
            return tr("expected a tuple of {count} values, got {type}",
                      count=len(expected), type=type(actual).__name__)
        if len(actual) != len(expected):
            return tr("expected a tuple of {count} values, got {length}",
                      count=len(expected), length=len(actual))
    return None


def compare_outputs(actual, expected, rtol=DEFAULT_RTOL, atol=1e-10, names=(), nan_agrees=True):
    """Compare a student's output with the reference output.

    Returns None when they agree, else a description of the first difference (which output,
    shapes or max relative error and index, and the values returned and expected there).
    nan_agrees=False when matching known mistakes (see max_relative_error).
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
                return _missing(name, path, act_leaves)
            problem = _compare_leaf(label, act_leaves[path], exp_leaf, rtol, atol, nan_agrees)
            if problem:
                return problem
    return None


def _missing(name, path, act_leaves):
    """Why output `name{path}` is missing: the value found where a container was expected."""
    for prefix in sorted((p for p in act_leaves if path.startswith(p)), key=len, reverse=True):
        found = act_leaves[prefix]
        if isinstance(found, values.Opaque):
            return f"{name}{prefix} {values.cannot_compare(found)}"
        return tr("{output} is missing: {found} is a {type}, where a tuple, list or dict was "
                  "expected", output=f"{name}{path}", found=f"{name}{prefix}",
                  type=type(found).__name__)
    return tr("{output} is missing", output=f"{name}{path}")


def _compare_leaf(label, actual, expected, rtol, atol, nan_agrees=True):
    if isinstance(actual, values.Opaque):
        return f"{label} {values.cannot_compare(actual)}"
    if isinstance(expected, str) or expected is None:
        # Exact type first: an object with a lying __eq__ must not pass.
        if type(actual) is type(expected) and actual == expected:
            return None
        return tr("{label} should be {expected!r}, got {actual!r}", label=label,
                  expected=expected, actual=actual)
    if not (_is_number(actual) or isinstance(actual, np.ndarray)):
        # Accept plain lists of numbers, but never objects that merely claim to be equal.
        try:
            actual = np.asarray(actual, dtype=np.float64)
        except (TypeError, ValueError):
            return tr("{label} should be a number or an array, got {type}", label=label,
                      type=type(actual).__name__)
    if np.shape(actual) != np.shape(expected):
        return tr("{label} has shape {shape}, expected {expected}", label=label,
                  shape=np.shape(actual), expected=np.shape(expected))
    try:
        err, index = max_relative_error(actual, expected, atol, nan_agrees)
    except (TypeError, ValueError):
        return tr("{label} holds values that are not numbers (dtype {dtype})", label=label,
                  dtype=np.asarray(actual).dtype)
    if err > rtol:
        where = tr(" at index {index}", index=index) if index else ""
        return (tr("{label} differs from the reference: max relative error {err:.2e}{where} "
                   "(tolerance {rtol:.0e})", label=label, err=err, where=where, rtol=rtol)
                + "\n" + show_values(label, actual, expected, index))
    return None


def _format(array):
    return np.array2string(np.asarray(array, dtype=np.float64), precision=6, separator=", ",
                           max_line_width=200)


def show_values(label, actual, expected, index):
    """The returned and expected values: scalars in full, arrays a few entries around `index`
    along the last axis (e.g. "dx[1, 3:8]")."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.ndim == 0:
        return tr("  returned {label} = {actual}, expected {expected}", label=label,
                  actual=_format(actual), expected=_format(expected))
    start = max(0, index[-1] - 2)
    stop = min(actual.shape[-1], start + 5)
    where = tuple(index[:-1]) + (slice(start, stop),)
    text = ", ".join([str(i) for i in index[:-1]] + [f"{start}:{stop}"])
    # The two lines' words have the same length in every language, so the "=" align.
    return (tr("  returned {label}[{text}] = {values}", label=label, text=text,
               values=_format(actual[where])) + "\n"
            + tr("  expected {pad} = {values}", pad=" " * (len(label) + len(text) + 2),
                 values=_format(expected[where])))


def describe_inputs(case, names=()):
    """Short text of a case's inputs by parameter name: shape and dtype for arrays, values for
    scalars, e.g. "(x=array(4, 3) float32, keep_prob=0.8)"."""
    def one(value):
        if isinstance(value, np.ndarray):
            if value.ndim == 0:
                return repr(value.item())
            dims = ", ".join(map(str, value.shape)) + ("," if value.ndim == 1 else "")
            return f"array({dims}) {value.dtype}"
        if isinstance(value, float):
            return f"{value:.4g}"
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
    parts = [(f"{names[i]}=" if i < len(names) else "") + one(a) for i, a in enumerate(case.args)]
    parts += [f"{k}={one(v)}" for k, v in case.kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def parameter_names(fn):
    """The names of fn's parameters, or () if it has no readable signature."""
    try:
        return tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return ()


# ----------------------------------------------------------------------------- checking

def _call(fn, case):
    case = case.copied()
    return fn(*case.args, **case.kwargs), case


def _call_quietly(fn, case):
    """Run a trusted function (reference or known mistake) without warnings in the student's output."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _call(fn, case)


def _matching_mistake(exercise, case, actual, student_fn=None, other_cases=()):
    """The known mistake the student made, or None.

    A mistake whose output equals the student's (nans never agreeing) is it. One that agrees
    only through nans (both divided 0 by 0 somewhere) is named only if it also explains the
    student's output on every other case of the check: any unguarded division makes nans,
    so nans alone would give wrong labels.
    """
    by_nans = []
    for mistake in exercise.mistakes:
        wrong = _mistake_output(mistake, case)
        if wrong is _FAILED:
            continue
        if _agrees(exercise, actual, wrong, nan_agrees=False):
            return mistake
        if _agrees(exercise, actual, wrong, nan_agrees=True):
            by_nans.append(mistake)
    if not by_nans or student_fn is None:
        return by_nans[0] if by_nans and not other_cases else None
    outputs = [(other, _student_output(student_fn, other)) for other in other_cases]
    for mistake in by_nans:
        if all(out is _FAILED or _agrees(exercise, out, _mistake_output(mistake, other), True)
               for other, out in outputs):
            return mistake
    return None


_FAILED = object()


def _agrees(exercise, actual, wrong, nan_agrees):
    return wrong is not _FAILED and compare_outputs(
        actual, wrong, exercise.rtol, exercise.atol, exercise.output_names,
        nan_agrees=nan_agrees) is None


def _mistake_output(mistake, case):
    if not callable(mistake.implementation):
        return _FAILED
    try:
        return _call_quietly(mistake.implementation, case)[0]
    except Exception:  # a mistake may fail on some inputs; then it is not this one
        return _FAILED


def _student_output(student_fn, case):
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _call(student_fn, case)[0]
    except (NotImplementedError, GradingAbort, Exception):
        return _FAILED


def fail(message, mistake=None):
    """Raise CheckFailure(message), naming a known mistake (label and lesson) when given."""
    if mistake is not None:
        message += "\n" + known_mistake(mistake.label, mistake.explanation)
    raise CheckFailure(message)


def known_mistake(label, explanation):
    """The line naming a known mistake, in the active language. Registries keep writing
    labels and explanations in English; the catalogue translates them here, when shown."""
    return tr("Known mistake: {label}. {explanation}", label=tr(label),
              explanation=tr(explanation))


def exception_name(exc):
    """The name of an exception raised by student code (errors relayed from a worker keep it)."""
    return getattr(exc, "kind", type(exc).__name__)


def habit_hint(exercise, exc):
    """The hints of `exercise`'s habits that explain `exc` (each on its own line), or ""."""
    return "".join(f"\n{habit.text()}" for habit in exercise.habits if habit.matches(exc))


def run_student(call, fn, *args, **kwargs):
    """fn(*args, **kwargs) for custom checks: an error in student code becomes a CheckFailure
    naming `call`; NotImplementedError and the grader's own GradingAbort pass through."""
    try:
        return fn(*args, **kwargs)
    except (NotImplementedError, GradingAbort):
        raise
    except Exception as exc:
        raise CheckFailure(raised_message(call, exc)) from exc


def raised_message(call, exc):
    """"<call> raised <error>: <message>" in the active language."""
    return tr("{call} raised {error}: {message}", call=call, error=exception_name(exc),
              message=exc)


def check_case(exercise, student_fn, case, seed, other_cases=()):
    """Run one case; raise CheckFailure with a teaching message if the student's output is wrong.

    In-place changes of the inputs are refused by the Guard that check() puts around
    student_fn; here they get the call's description and, if known, the mistake's name.
    other_cases: the check's other cases, evidence for naming a mistake (see _matching_mistake).
    """
    names = parameter_names(exercise.reference)
    header = tr("{call} [case seed {seed}]",
                call=f"{exercise.function_names[0]}{describe_inputs(case, names)}", seed=seed)
    try:
        actual, _ = _call(student_fn, case)
    except boundary.MutationRefused as exc:
        mistake = None if exc.result is None else _matching_mistake(exercise, case, exc.result)
        fail(f"{header}:\n{exc}", mistake)
    except (NotImplementedError, GradingAbort):
        raise
    except Exception as exc:
        raise CheckFailure(raised_message(header, exc) + habit_hint(exercise, exc)) from exc
    expected, _ = _call_quietly(exercise.reference, case)
    problem = compare_outputs(actual, expected, exercise.rtol, exercise.atol, exercise.output_names)
    if problem is None:
        return
    others = [other for other in other_cases if other is not case]
    fail(f"{header}:\n{problem}", _matching_mistake(exercise, case, actual, student_fn, others))


def _hidden_seeds(count):
    # Fresh seeds: only for a notebook without the course's secret (a student's own run).
    return [int(s) for s in np.random.SeedSequence().generate_state(count)]


def course_secret(create=False, folder=None):
    """The per-course secret that hidden seeds derive from, or None.

    From the environment variable COURSE_GRADING_SECRET (an instructor may pass it to remote
    graders), else from `folder`/grading_secret (default: .course/, the course's work folder),
    which is made once (create=True, by the grader). The work folder is git-ignored and hidden
    from workers: the secret is never in the release and never seen by student code.
    """
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    from cs231n_lib.course import paths
    path = Path(folder or paths.WORK) / "grading_secret"
    if not path.exists() and create:
        _create_secret(path)
    return path.read_text().strip() if path.exists() else None


def _create_secret(path):
    # Written to a private temporary file, then linked into place: graders starting at once
    # never read a half-written secret, and the first one's secret wins.
    import secrets
    import tempfile
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def hidden_seeds(name, count=HIDDEN_CASES, secret=None):
    """The hidden cases' seeds of exercise `name`: the same on every grading of the course.

    Derived from the course's secret and the exercise name, so nobody can tune an answer to
    them (the secret is not public) and re-grading the same notebook gives the same score.
    Without a secret (a student's own copy) they are fresh each run.
    """
    secret = secret if secret is not None else course_secret()
    if not secret:
        return _hidden_seeds(count)
    digest = hashlib.sha256(f"{secret}\0{name}".encode()).digest()
    entropy = int.from_bytes(digest, "big")
    return [int(s) for s in np.random.SeedSequence(entropy).generate_state(count)]


def reference_functions(notebook):
    """The course functions that the notebook's exercises replace: trip-wires while a student's
    function runs (the same (module, name) set as course.batch.tripwires_for)."""
    found = []
    for name in exercise_names(notebook=notebook):
        for fn in get_exercise(name).reference_fns:
            module = getattr(fn, "__module__", "") or ""
            if (module.startswith("cs231n_lib") and "<" not in fn.__qualname__
                    and "." not in fn.__qualname__ and fn not in found):
                found.append(fn)
    return found


def _student_boundary(exercise, student_fns):
    """The student's functions as check() calls them: in-process like the grader's worker
    (unless they already run in one), and guarded against in-place changes."""
    wires = None
    wrapped = []
    for i, fn in enumerate(student_fns):
        if not getattr(fn, "runs_in_worker", False):
            wires = wires or boundary.TripWires(reference_functions(exercise.notebook))
            fn = boundary.LocalFunction(fn, wires)
        if exercise.check_mutation:
            reference = exercise.reference_fns[i] if i < len(exercise.reference_fns) else None
            name = exercise.function_names[i] if i < len(exercise.function_names) else fn.__name__
            fn = boundary.Guard(fn, name, reference)
        wrapped.append(fn)
    return wrapped


def _called_from_notebook():
    # check() called by a notebook's grade cell (module __main__), not by the grader,
    # claims.own_or_reference or a test: only then does a pass print its line.
    frame = sys._getframe(2)
    return frame.f_globals.get("__name__") == "__main__"


def check(name, *student_fns, hidden=False, seeds=None):
    """Check a student's implementation of exercise `name`.

    hidden=False runs the exercise's fixed visible cases; hidden=True the hidden ones.
    Raises CheckFailure (an AssertionError) with a message that teaches when something is
    wrong, NotImplementedYet (a NotImplementedError) for an untouched stub. In a notebook a
    pass prints one line.
    """
    exercise = get_exercise(name)
    if not student_fns or not all(callable(fn) for fn in student_fns):
        raise CheckFailure(tr("check({name!r}, ...) needs your function(s) as argument(s)",
                              name=name))
    if exercise.custom_check is None and len(student_fns) != 1:
        raise CheckFailure(tr("check({name!r}, ...) takes exactly one function", name=name))
    if seeds is None:
        seeds = hidden_seeds(name) if hidden else exercise.visible_seeds
    functions = _student_boundary(exercise, student_fns)
    try:
        if exercise.custom_check is not None:
            for seed in seeds:
                exercise.custom_check(np.random.default_rng(seed), *functions)
        else:
            cases = list(exercise.cases(seeds))
            for seed, case in cases:
                check_case(exercise, functions[0], case, seed, [c for _, c in cases])
    except NotImplementedYet:
        raise
    except NotImplementedError:
        names = ", ".join(getattr(fn, "__name__", tr("your function")) for fn in student_fns)
        raise NotImplementedYet(tr("{names} is not implemented yet", names=names)) from None
    except GradingAbort as exc:
        raise CheckFailure(str(exc)) from None
    if _called_from_notebook():
        if hidden:
            print(tr("{name}: {count} hidden case(s) passed.", name=name, count=len(list(seeds))))
        else:
            print(tr("{name}: {count} visible case(s) passed; hidden cases are graded later.",
                     name=name, count=len(list(seeds))))
