"""How a check calls a student's function: the same boundary in the notebook and in the grader.

The grader runs a student's function in a separate worker (course.grader.StudentFunction):
results come back as plain values (cs231n_lib.values), the course's reference functions are
trip-wires there, and an error is relayed by name. :class:`LocalFunction` gives the notebook's
check the same boundary in-process:

* results go through the same values.plain(), so a value the grader could not take fails
  in the notebook with the same message, and caches that are not plain become handles;
* while the student's function runs, the reference functions of the notebook's exercises
  have their code swapped for a trip-wire raising the worker's message (every alias, e.g.
  `ref_affine_backward`, shares the function object, so every alias trips); swapping a code
  object costs about a microsecond, unlike a profiler hook on every Python call;
* `sys.exit()` inside the function is an error of the function, as in the worker.

:class:`Guard` wraps either kind of function and refuses any in-place change of an argument
(at any depth) that the reference does not make itself, naming the parameter.
"""
from __future__ import annotations

import copy
import inspect
import re
import sys
import warnings
from typing import NamedTuple

import numpy as np

from cs231n_lib import values
from cs231n_lib.i18n import N_, tr

LOCAL_HANDLES = values.HandleTable()


class GradingAbort(Exception):
    """Stops a check with a final verdict that is not a wrong value: the student's process
    crashed or timed out, it used the reference implementation, or it changed its input.
    Custom checks let it through (they re-raise GradingAbort); check() turns it into a
    CheckFailure carrying the same message."""


class DelegationDetected(GradingAbort):
    """The student's function called the course's reference implementation."""


class MutationRefused(GradingAbort):
    """The student's function changed one of its arguments in place; `result` is what it
    returned (so a check can still name the known mistake that does the same)."""

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result


class ReferenceUsed(RuntimeError):
    """Raised by a trip-wire; same name as the worker's library copy raises."""


class StudentError(Exception):
    """An error of the student's code that is relayed by name (from the worker, or a SystemExit).

    Instances are of a subclass named after the original exception, so type(exc).__name__ and
    the `kind` attribute both say e.g. "KeyError".
    """
    kind = "Error"


_ERROR_CLASSES = {}


def student_error(kind, message):
    """A StudentError whose class is called `kind` (e.g. "KeyError")."""
    kind = kind if kind.isidentifier() else "Error"
    if kind not in _ERROR_CLASSES:
        _ERROR_CLASSES[kind] = type(kind, (StudentError,), {"kind": kind})
    return _ERROR_CLASSES[kind](message)


REFERENCE_USED = N_("{name} calls the course's reference implementation {module}.{name} instead "
                    "of implementing it: this earns no points")
_REFERENCE_USED = re.compile(r"(?P<name>\w+) calls the course's reference implementation "
                             r"(?P<module>[\w.]+)\.(?P=name) instead of implementing it")


def reference_used_message(module, name):
    """The trip-wire's message; course.sandbox.TRIPWIRE writes the same text into the worker."""
    return tr(REFERENCE_USED, module=module, name=name)


def translated_reference_used(message):
    """A trip-wire message (English, as the worker writes it) in the active language."""
    found = _REFERENCE_USED.match(message)
    return reference_used_message(found["module"], found["name"]) if found else message


# ----------------------------------------------------------------------------- trip-wires

_TRIPWIRE_CODES = {}


def _tripwire_code(fn):
    """A code object that raises ReferenceUsed with fn's message, compiled once per function."""
    if fn not in _TRIPWIRE_CODES:
        # English: the code is cached; LocalFunction translates the message when it trips.
        message = REFERENCE_USED.format(module=fn.__module__, name=fn.__name__)
        source = (f"def {fn.__name__}(*args, **kwargs):\n"
                  f"    raise __import__('cs231n_lib.boundary', fromlist=['_']).ReferenceUsed("
                  f"{message!r})\n")
        namespace = {}
        exec(compile(source, "<trip-wire>", "exec"), namespace)
        _TRIPWIRE_CODES[fn] = namespace[fn.__name__].__code__
    return _TRIPWIRE_CODES[fn]


# None: armed only in an IPython kernel (a notebook), where the functions checked are a
# student's. Library tests that check the reference against itself run outside one; tests of
# the trip-wires set it to True.
ARMED = None


def tripwires_armed():
    if ARMED is not None:
        return ARMED
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


class TripWires:
    """Context manager: the given functions raise ReferenceUsed while it is active."""

    def __init__(self, functions):
        self.functions = [fn for fn in functions
                          if inspect.isfunction(fn) and fn.__closure__ is None]
        self.saved, self.depth = [], 0

    def __enter__(self):
        self.depth += 1
        if self.depth == 1 and tripwires_armed():  # depth > 1: a student function calling another
            self.saved = [(fn, fn.__code__) for fn in self.functions]
            for fn in self.functions:
                fn.__code__ = _tripwire_code(fn)
        return self

    def __exit__(self, *exc):
        self.depth -= 1
        if self.depth == 0:
            for fn, code in self.saved:
                fn.__code__ = code
            self.saved = []
        return False


# ----------------------------------------------------------------------------- functions

class LocalFunction:
    """A student's function called in the notebook's process, as the grader's worker calls it."""

    def __init__(self, fn, tripwires):
        self.fn, self.tripwires = fn, tripwires
        self.__name__ = getattr(fn, "__name__", "function")

    def __call__(self, *args, **kwargs):
        args = values.resolve(args, LOCAL_HANDLES)
        kwargs = values.resolve(kwargs, LOCAL_HANDLES)
        try:
            with self.tripwires:
                result = self.fn(*args, **kwargs)
        except ReferenceUsed as exc:
            raise DelegationDetected(translated_reference_used(str(exc))) from None
        except SystemExit as exc:
            raise student_error("SystemExit", tr("sys.exit({code!r}) called", code=exc.code)) from None
        return values.plain(result, LOCAL_HANDLES)

    def outcomes(self, calls):
        """One Outcome per call [(args, kwargs), ...] made, stopping after the first that failed."""
        return loop_outcomes(self, calls)


# ----------------------------------------------------------------------------- many calls

class Outcome(NamedTuple):
    """What one call of a batch gave: ok and its value, or not ok and the exception it raised."""
    ok: bool
    value: object


def loop_outcomes(fn, calls):
    """fn(*args, **kwargs) for each call (args, kwargs) in turn, as Outcomes; stops after the
    first call that raised (an Exception: a KeyboardInterrupt still stops everything)."""
    done = []
    for args, kwargs in calls:
        try:
            done.append(Outcome(True, fn(*args, **kwargs)))
        except Exception as exc:
            done.append(Outcome(False, exc))
            break
    return done


def outcomes_of(fn, calls):
    """The Outcomes of calling fn on each of calls [(args, kwargs), ...]: in one message to the
    grader's worker when fn runs there, through the boundary's wrappers (each call guarded as
    on its own), else one call after the other."""
    calls = [(tuple(args), dict(kwargs)) for args, kwargs in calls]
    if isinstance(fn, (LocalFunction, Guard)) or getattr(fn, "runs_in_worker", False):
        return fn.outcomes(calls)
    return loop_outcomes(fn, calls)


class values_of:
    """An iterator over the outcomes' values that raises the error of the first failed call
    when it reaches it, just where a loop of single calls would have raised it. (A class, not
    a generator: a student's StopIteration must reach the check as itself.)"""

    def __init__(self, outcomes):
        self._outcomes = iter(outcomes)

    def __iter__(self):
        return self

    def __next__(self):
        ok, value = next(self._outcomes)
        if not ok:
            raise value
        return value


def call_many(fn, calls):
    """fn(*args, **kwargs) for each (args, kwargs) in `calls`, as an iterator of the values in
    order; reaching a call that raised raises its error, as calling one by one would there.

    For many independent calls of a student's function (the inputs of a numerical gradient,
    a set of synthetic curves): in the grader they travel to the student's worker in one
    message instead of one round trip each. Every call is converted, copied back and checked
    for in-place changes exactly as a single call is. The calls must be independent: no two
    share a mutable argument (in the grader all are sent before any result is copied back).
    Consume the values in order, handling each as a single call's value would be, so the
    first problem found is the one a loop would have found. Calls after a failed one may
    have run (in the grader's worker) but their results are never seen.
    """
    return values_of(outcomes_of(fn, calls))


def unwrapped(fn):
    """The student's own function behind check()'s wrappers (LocalFunction, Guard), or the
    grader's stand-in: a stable key for work done once per student (e.g. one training run)."""
    while isinstance(fn, (LocalFunction, Guard)):
        fn = fn.fn
    return fn


class Guard:
    """Refuses in-place changes of arguments that the reference leaves alone.

    An argument the reference changes too (bn_param's running averages, an optimizer's config)
    is state the function is meant to update; everything else (x, grads, a dict of weights)
    must be unchanged at every depth after the call.
    """

    def __init__(self, fn, name, reference=None):
        self.fn, self.name, self.reference = fn, name, reference
        self.__name__ = getattr(fn, "__name__", name)
        try:
            self.parameters = list(inspect.signature(reference).parameters) if reference else []
        except (TypeError, ValueError):
            self.parameters = []
        self.state = set()   # parameters the reference was seen to write to: its state

    def __call__(self, *args, **kwargs):
        try:
            before = copy.deepcopy((args, kwargs))
        except Exception:  # an argument that cannot be copied cannot be checked either
            return self.fn(*args, **kwargs)
        result = self.fn(*args, **kwargs)
        self._refuse_changes(before, args, kwargs, result)
        return result

    def outcomes(self, calls):
        """Outcomes of many independent calls (boundary.call_many), the inner function's in one
        batch; each call is checked as __call__ checks it, in order, and a refused change
        ends the list there as it would have stopped a loop."""
        calls = [(tuple(args), dict(kwargs)) for args, kwargs in calls]
        befores = []
        for args, kwargs in calls:
            try:
                befores.append(copy.deepcopy((args, kwargs)))
            except Exception:  # as in __call__: this call cannot be checked
                befores.append(None)
        done = []
        for (args, kwargs), before, outcome in zip(calls, befores, outcomes_of(self.fn, calls)):
            if outcome.ok and before is not None:
                try:
                    self._refuse_changes(before, args, kwargs, outcome.value)
                except Exception as exc:
                    outcome = Outcome(False, exc)
            done.append(outcome)
            if not outcome.ok:
                break
        return done

    def _refuse_changes(self, before, args, kwargs, result):
        """Raise MutationRefused for an in-place change of an argument that is not state."""
        for label, old, new in self._pairs(before, args, kwargs):
            if label in self.state:
                continue
            where = values.first_change(old, new)
            if where is None:
                continue
            if not self._reference_changes(before, label):
                raise MutationRefused(mutation_message(self.name, label, where), result)
            self.state.add(label)

    def _label(self, i):
        return self.parameters[i] if i < len(self.parameters) else f"argument {i + 1}"

    def _pairs(self, before, args, kwargs):
        (old_args, old_kwargs) = before
        for i, (old, new) in enumerate(zip(old_args, args)):
            yield self._label(i), old, new
        for key in old_kwargs:
            yield key, old_kwargs[key], kwargs.get(key)

    def _reference_changes(self, before, label):
        """Whether the reference, on a copy of the same inputs, changes argument `label` too."""
        if self.reference is None:
            return False
        args, kwargs = copy.deepcopy(before)
        # Dicts record writes: a state dict (bn_param, config) counts as written even when
        # this call stores the same values (test mode), so a wrong update there is graded
        # by comparing its contents, not refused as a change of the caller's data.
        args = [_RecordingDict(a) if type(a) is dict else a for a in args]
        kwargs = {k: _RecordingDict(v) if type(v) is dict else v for k, v in kwargs.items()}
        snapshot = copy.deepcopy(before)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                self.reference(*args, **kwargs)
        except Exception:
            # The reference cannot run on these inputs (e.g. a cache in the student's own
            # layout): the argument is the student's own structure, not the caller's data.
            return True
        for other, old, new in self._pairs(snapshot, args, kwargs):
            if other == label:
                return getattr(new, "written", False) or values.first_change(old, new) is not None
        return False


class _RecordingDict(dict):
    """A dict that remembers whether anything was stored into it."""
    written = False

    def _mark(method):
        def marked(self, *args, **kwargs):
            self.written = True
            return method(self, *args, **kwargs)
        return marked

    __setitem__ = _mark(dict.__setitem__)
    __delitem__ = _mark(dict.__delitem__)
    setdefault = _mark(dict.setdefault)
    update = _mark(dict.update)
    pop = _mark(dict.pop)
    popitem = _mark(dict.popitem)
    clear = _mark(dict.clear)
    del _mark


_CHANGE_WORDS = (N_("its keys"), N_("its length"), N_("its value"), N_("the array"))


def mutation_message(function, parameter, where):
    """The one text for an in-place change, in the notebook and in the feedback.

    where: values.first_change's path, e.g. "['W1'][0, 2]" or "(its keys)".
    """
    for words in _CHANGE_WORDS:     # values.first_change's words, in the active language
        where = where.replace(f"({words})", f"({tr(words)})")
    changed = (f"{parameter}: {where.strip('()')}" if where.startswith("(")
               else f"{parameter}{where}")
    return tr("{function} changed {parameter} in place ({changed} is different after the "
              "call). A function that changed its input in place changes the caller's data: "
              "compute new arrays (a = a * s, not a *= s), or work on a copy of {parameter}.",
              function=function, parameter=parameter, changed=changed)
