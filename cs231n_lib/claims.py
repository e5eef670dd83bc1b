"""Experiments in the notebooks: run the student's own code when it works, and assert each claim.

Two helpers, used by every notebook's experiment cells:

    affine_backward = own_or_reference("affine_backward", affine_backward, ref_affine_backward)
    expect("G1", centered_err < forward_err, "the centered difference is more accurate",
           centered=centered_err, forward=forward_err)

`own_or_reference` runs the exercise's visible check on the student's function(s) and returns
them when it passes; otherwise it prints one line saying why the reference is used instead, so
Restart & Run All always completes and every plot is drawn from code that works.

`expect` prints one line with the claim ID, the verdict and the measured numbers:
``[G1] holds: statement | measured: a=1.2e-05, b=3.4``. nbval pins the ID, the verdict and the
statement; it masks the numbers after ``| measured:`` (tests/nbval_sanitize.cfg), because their
last digits depend on the CPU's BLAS kernels, and the verdict already says whether they hold. When a claim does not hold:
- in the solution notebooks (strict mode) it raises ClaimFailed, so `course run-solutions`, nbval
  and CI stop at the experiment that broke, naming the claim;
- in a student's notebook it prints what the reference implementation shows instead (the
  `otherwise` text), since the student's own code may differ from the reference's.
Strict mode is on when COURSE_STRICT_CLAIMS=1 or when the notebook runs inside `solutions/`.
"""
from __future__ import annotations

import contextlib
import io
import math
import os
from pathlib import Path

import numpy as np

from cs231n_lib.i18n import tr

__all__ = ["ClaimFailed", "expect", "own_or_reference", "strict_claims"]

_SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


class ClaimFailed(AssertionError):
    """A claim of the lecture did not hold in a solution notebook's experiment."""


def strict_claims():
    """True where a failed claim must stop the run: the solution notebooks and CI."""
    flag = os.environ.get("COURSE_STRICT_CLAIMS")
    if flag is not None:
        return flag == "1"
    cwd = Path.cwd().resolve()
    return cwd == _SOLUTIONS or _SOLUTIONS in cwd.parents


def _format_number(value):
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if value == 0 or not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    return f"{value:.3g}" if 1e-3 <= magnitude < 1e4 else f"{value:.2e}"


def expect(claim, condition, statement, otherwise="", **measured):
    """Assert that claim `claim` (e.g. "I5") holds; print one line with the measured numbers.

    condition: the outcome the claim states, computed from the experiment's results.
    statement: the claim in a few words ("He keeps ReLU activations alive").
    otherwise: what the reference implementation shows, printed in a student's notebook when
        the claim does not hold with their code.
    measured: the numbers behind the verdict, printed as name=value.
    Returns the verdict (True or False) when it does not raise.
    """
    if not isinstance(claim, str) or not claim:
        raise ValueError(f"expect() needs a claim ID such as 'G1' as first argument, got {claim!r}")
    holds = bool(condition)
    numbers = ", ".join(f"{name}={_format_number(value)}" for name, value in measured.items())
    line = f"[{claim}] {'holds' if holds else 'DOES NOT HOLD'}: {statement}"
    if numbers:
        line += f" | measured: {numbers}"
    print(line)
    if not holds:
        if strict_claims():
            raise ClaimFailed(f"claim {claim} does not hold: {statement}"
                              + (f" ({numbers})" if numbers else ""))
        print(tr("     With the reference implementation: {otherwise}", otherwise=otherwise)
              if otherwise else
              tr("     This run does not show it; compare with the reference implementation's "
                 "result in the solution notebook."))
    return holds


def _names(fns):
    return ", ".join(getattr(fn, "__name__", "function") for fn in fns)


def own_or_reference(name, student_fns, reference_fns):
    """The student's function(s) for exercise `name` if its visible check passes, else the reference.

    student_fns / reference_fns: one function or a tuple of functions (same order as the
    exercise's check, e.g. (dropout_forward, dropout_backward)). Returns the same shape.
    Prints one line saying which implementation the experiment uses and why.
    """
    from cs231n_lib import grading
    single = callable(student_fns)
    students = (student_fns,) if single else tuple(student_fns)
    references = (reference_fns,) if callable(reference_fns) else tuple(reference_fns)
    if len(students) != len(references):
        raise ValueError(f"own_or_reference({name!r}): {len(students)} student function(s) but "
                         f"{len(references)} reference function(s)")
    names, fallback = _names(students), _names(references)
    reason = None   # the line saying why the reference is used
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            grading.check(name, *students)
        except NotImplementedError:
            reason = tr("Using the reference {names}: yours is not implemented yet.",
                        names=fallback)
        except grading.CheckFailure as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            reason = (tr("Using the reference {names}: yours fails its visible check ({first}).",
                         names=fallback, first=first[:160]) if first else
                      tr("Using the reference {names}: yours fails its visible check.",
                         names=fallback))
        except Exception as exc:  # any error in the student's code: fall back, say which
            reason = tr("Using the reference {names}: yours raises {error} in its visible check.",
                        names=fallback, error=type(exc).__name__)
    if reason is None:
        print(tr("Using your {names} (its visible check passes).", names=names))
        return students[0] if single else students
    print(reason)
    return references[0] if single else references
