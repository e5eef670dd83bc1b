"""Grade one submitted notebook outside the student's process.

1. Assemble a program from the *source* notebook (trusted set-up and code cells), the
   student's answer cells (matched by nbgrader grade_id, never by position) and any code cells
   the student added; experiment cells are skipped unless `full`. Test cells of the submission
   are never run: edited, deleted, re-typed or re-tagged test cells change nothing.
2. Run it in a sandboxed worker (course.sandbox): per-cell timeout, memory cap, output cap;
   a cell that hangs or kills the process is reported and the worker is restarted with the
   cells that worked before it.
3. For every `check("name", fn, ...)` in the source's test cells, call the student's functions
   in the worker on inputs the grader chooses (visible seeds, then hidden seeds derived from
   the course's secret, so re-grading gives the same score), pull the results back as plain
   data and compare them in this process with the reference (cs231n_lib.grading, the same
   check the notebook runs). Nothing the student's process says about itself counts.
   An answer cell that raised (or called sys.exit()) after defining its functions still has
   those functions graded; the cell's error becomes a note.
Points come from the source's metadata, never from the submission's.
"""
import ast
import json
import textwrap
import time
from dataclasses import dataclass, field

import numpy as np

from cs231n_lib import boundary, grading, values
from cs231n_lib.i18n import tr

from . import bridge, sandbox
from .variants import cell_role, grade_id, source_text

MAX_RESTARTS = 4


@dataclass
class CellResult:
    """The grade of one graded cell."""
    grade_id: str
    points: float
    max_points: float
    status: str          # passed | failed | not implemented | manual
    message: str = ""


@dataclass
class NotebookResult:
    """Everything known after grading one student's notebook."""
    student: str
    assignment: str
    notebook: str
    cells: list = field(default_factory=list)
    problems: list = field(default_factory=list)   # for the instructor's report
    graded: bool = True
    error: str = ""
    cell_outputs: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)     # grade_id -> the student's markdown
    seconds: float = 0.0
    language: str = "en"    # the submission's edition: its messages and feedback page use it

    @property
    def score(self):
        return sum(c.points for c in self.cells)

    @property
    def max_score(self):
        return sum(c.max_points for c in self.cells)

    @classmethod
    def from_dict(cls, data):
        result = cls(data["student"], data["assignment"], data["notebook"],
                     cells=[CellResult(**c) for c in data["cells"]], problems=data["problems"],
                     graded=data["graded"], error=data["error"], seconds=data.get("seconds", 0.0),
                     language=data.get("language", "en"))
        return result

    def to_dict(self):
        return {"student": self.student, "assignment": self.assignment, "notebook": self.notebook,
                "graded": self.graded, "error": self.error, "score": self.score,
                "max_score": self.max_score, "problems": self.problems,
                "seconds": round(self.seconds, 2), "language": self.language,
                "cells": [vars(c) for c in self.cells]}


class UngradableSubmission(ValueError):
    """The submitted file is not a notebook the grader can read."""


# ----------------------------------------------------------------------------- parsing

def parse_submission(text):
    """The submission as a notebook dict, or UngradableSubmission saying what is wrong."""
    if not text.strip():
        raise UngradableSubmission(tr("the file is empty"))
    try:
        nb = json.loads(text)
    except ValueError as exc:
        raise UngradableSubmission(tr("the file is not valid notebook JSON ({error})",
                                      error=exc)) from exc
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise UngradableSubmission(tr("the file is JSON but not a Jupyter notebook "
                                      "(no 'cells' list)"))
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise UngradableSubmission(tr("the notebook has a malformed cell"))
    return nb


def check_calls(test_source):
    """(exercise name, [function names]) of each `check("name", fn, ...)` in a test cell."""
    calls = []
    for node in ast.walk(ast.parse(test_source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "check" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names = [a.id for a in node.args[1:] if isinstance(a, ast.Name)]
            if (node.args[0].value, names) not in calls:
                calls.append((node.args[0].value, names))
    return calls


def _submission_index(submission):
    """Map grade_id / cell id -> the student's cells, and record duplicates."""
    index, duplicates = {}, []
    for cell in submission["cells"]:
        keys = {k for k in (grade_id(cell), cell.get("id")) if k}
        for key in keys:
            if key in index:
                duplicates.append(key)
            else:
                index[key] = cell
    return index, duplicates


@dataclass
class Step:
    """One cell of the program run in the worker."""
    cell_id: str
    role: str        # setup | code | answer | experiment | student
    code: str


def build_program(source, submission, full=False):
    """The cells to run, in source order, plus the problems met while matching cells."""
    problems = []
    index, duplicates = _submission_index(submission)
    source_keys = {grade_id(c) or c.get("id") for c in source["cells"]}
    for key in sorted(set(duplicates) & source_keys):
        problems.append(tr("cell {key!r} appears more than once in the submission; the first "
                           "was used", key=key))
    # Code cells the student added stay after the source cell they followed.
    extras, last = {None: []}, None
    for cell in submission["cells"]:
        key = grade_id(cell) or cell.get("id")
        if key in source_keys:
            last = key
        elif cell.get("cell_type") == "code" and source_text(cell).strip():
            extras.setdefault(last, []).append(Step(key or "?", "student", source_text(cell)))
    steps = list(extras[None])
    for cell in source["cells"]:
        key, role = grade_id(cell) or cell.get("id"), cell_role(cell)
        if role in ("setup", "code") or (role == "experiment" and full):
            steps.append(Step(key, role, source_text(cell)))
        elif role == "answer":
            steps.extend(_answer_step(key, index.get(key), problems))
        steps.extend(extras.get(key, []))
    return steps, problems


def _answer_step(key, student_cell, problems):
    if student_cell is None:
        problems.append(tr("answer cell {key!r} is missing from the submission (deleted or its "
                           "metadata changed): graded as not answered", key=key))
        return []
    if student_cell.get("cell_type") != "code":
        problems.append(tr("answer cell {key!r} was changed to {type}: graded as not answered",
                           key=key, type=student_cell.get("cell_type")))
        return []
    return [Step(key, "answer", source_text(student_cell))]


# ----------------------------------------------------------------------------- running

def course_prefix(steps):
    """The leading course cells (set-up and code) before anything a student wrote: the fork
    server runs them once per assignment instead of once per submission (same code, same
    order, before any student code either way)."""
    count = 0
    while count < len(steps) and steps[count].role in ("setup", "code"):
        count += 1
    return steps[:count]


def _reply_text(reply):
    """(ok, text for the student) of a worker's reply to a cell."""
    output = reply.get("output", "")
    if reply.get("ok"):
        return True, output
    return False, output + f"{reply.get('traceback', '')}{reply.get('error', 'Error')}: {reply.get('message', '')}"


class Session:
    """A worker plus the cells that ran successfully, so it can be restarted where it was."""

    def __init__(self, library, limits, hide, prefix=()):
        self.worker = sandbox.Worker(library, limits, hide=hide)
        self.prefix = list(prefix)
        self.done = []
        self.restarts = 0
        self.broken = False

    def start(self):
        """Start the worker; returns [(ok, text)] of the prefix cells, run before it forked."""
        replies = self.worker.start(prefix=[step.code for step in self.prefix])
        return [_reply_text(reply) for reply in replies]

    def run(self, step):
        """Run one step; returns (ok, text for the student)."""
        if self.broken:
            return False, tr("not run: the notebook's process could not be restarted")
        try:
            reply = self.worker.exec(step.code)
        except sandbox.WorkerTimeout:
            self.restart()
            return False, tr("this cell did not finish within {seconds:.0f} s and was stopped "
                             "(an infinite loop?)", seconds=self.worker.limits.timeout)
        except sandbox.WorkerDied as exc:
            self.restart()
            return False, tr("this cell ended the Python process ({reason})", reason=exc)
        ok, text = _reply_text(reply)
        if ok:
            self.done.append(step)
        return ok, text

    def restart(self):
        """A fresh worker with every cell that had worked re-run; gives up after a few tries."""
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            self.broken = True
            self.worker.kill()
            return
        try:
            self.start()
            for step in self.done:
                self.worker.exec(step.code)
        except (sandbox.WorkerTimeout, sandbox.WorkerDied):
            self.broken = True

    def call(self, fn_name, args, kwargs):
        if self.broken:
            raise StudentCrashed(tr("the notebook's process could not be restarted"))
        try:
            return self.worker.call(fn_name, args, kwargs)
        except sandbox.WorkerTimeout:
            self.restart()
            raise StudentCrashed(tr("{name} did not return within {seconds:.0f} s and was "
                                    "stopped", name=fn_name, seconds=self.worker.limits.timeout))
        except sandbox.WorkerDied as exc:
            self.restart()
            raise StudentCrashed(tr("calling {name} ended the Python process ({reason})",
                                    name=fn_name, reason=exc))

    def close(self):
        self.worker.close()


class StudentCrashed(grading.GradingAbort):
    """The student's function hung or crashed its process."""


DelegationDetected = boundary.DelegationDetected


class StudentFunction:
    """Stands in for a student's function: each call runs in the worker on plain data.

    Errors come back as the notebook's check sees them in-process (boundary.LocalFunction):
    NotImplementedError, DelegationDetected for a trip-wire, else an error named like the
    student's exception. `outcomes` makes many independent calls in one message
    (boundary.call_many), each converted exactly as one call is.
    """
    runs_in_worker = True   # grading.check() must not wrap it in an in-process boundary

    def __init__(self, session, name):
        self.session, self.name, self.__name__ = session, name, name

    def __call__(self, *args, **kwargs):
        reply = self.session.call(self.name, args, kwargs)
        return self._result(reply, args, kwargs)

    def _result(self, reply, args, kwargs):
        """The value of one call's reply, with the call's in-place changes copied back into
        its arguments; raises the call's error as the notebook's boundary would."""
        if not reply.get("ok"):
            error, message = reply.get("error", "Error"), reply.get("message", "")
            if error == "NotImplementedError":
                raise NotImplementedError(message)
            if error == "ReferenceUsed":
                raise DelegationDetected(boundary.translated_reference_used(message))
            raise boundary.student_error(error, message)
        value = bridge.decode(reply["value"])
        _copy_back(list(args), bridge.decode(reply["args_after"]))
        _copy_back(kwargs, bridge.decode(reply["kwargs_after"]))
        return value

    def outcomes(self, calls):
        """The calls [(args, kwargs), ...] made in the worker with one message: a list of
        boundary.Outcome, one per call made, the last one the first that failed (if any).

        Each call is converted and copied back as __call__ does, as soon as its answer arrives
        (while the worker makes the next calls); the worker answers each call on its own line,
        and each answer gets the per-call timeout, so a hang is stopped as it is for one call.
        The calls must not share mutable arguments (all are sent first)."""
        calls = [(tuple(args), dict(kwargs)) for args, kwargs in calls]
        encoded, crash = [], None
        for args, kwargs in calls:
            try:
                encoded.append({"args": bridge.encode(list(args)), "kwargs": bridge.encode(kwargs)})
            except Exception as exc:  # as sandbox.Worker.call raises it for this call
                crash = exc
                break
        done = []
        # Every answer the worker sends is read, even after a call failed here (its value could
        # not be converted): the next message must find no answer of this one left over.
        for (args, kwargs), reply in zip(calls, self._replies(encoded, done)):
            if done and not done[-1].ok:
                continue
            try:
                done.append(boundary.Outcome(True, self._result(reply, args, kwargs)))
            except Exception as exc:
                done.append(boundary.Outcome(False, exc))
        if crash is not None and (not done or done[-1].ok):
            done.append(boundary.Outcome(False, crash))
        return done

    def _replies(self, encoded, done):
        """The worker's replies to the encoded calls as they arrive, up to the first that
        failed; a hang or a crash ends them with a StudentCrashed outcome appended to `done`
        (the session restarted), as Session.call reports it for one call."""
        session = self.session
        if not encoded:
            return
        if session.broken:
            done.append(boundary.Outcome(False, StudentCrashed(
                tr("the notebook's process could not be restarted"))))
            return
        worker = session.worker
        try:
            worker.send({"op": "map", "fn": self.name, "calls": encoded})
            for _ in encoded:
                reply = worker.receive(worker.limits.timeout)
                yield reply
                if not reply.get("ok"):
                    return
            return
        except sandbox.WorkerTimeout:
            session.restart()
            crash = StudentCrashed(tr("{name} did not return within {seconds:.0f} s and was "
                                      "stopped", name=self.name, seconds=worker.limits.timeout))
        except sandbox.WorkerDied as exc:
            session.restart()
            crash = StudentCrashed(tr("calling {name} ended the Python process ({reason})",
                                      name=self.name, reason=exc))
        if not done or done[-1].ok:
            done.append(boundary.Outcome(False, crash))

    def map(self, calls):
        """The values of the calls [(args, kwargs), ...], made with one message; raises the
        error of the first call that failed."""
        return list(boundary.values_of(self.outcomes(calls)))


def _copy_back(original, after, depth=0):
    """Apply in-place changes the student's function made to its arguments, at any depth
    (bn_param's running averages, but also an array inside a dict of weights), so the check's
    mutation guard sees here what it sees in-process."""
    if depth > values.MAX_DEPTH:
        return
    if isinstance(original, dict) and isinstance(after, dict):
        for key in [k for k in original if k not in after]:
            del original[key]
        for key, new in after.items():
            if key in original and _copy_into(original[key], new, depth):
                continue
            original[key] = new
    elif isinstance(original, (list, tuple)) and isinstance(after, (list, tuple)):
        if len(original) != len(after) and isinstance(original, list):
            original[:] = after
            return
        for i, (old, new) in enumerate(zip(original, after)):
            if not _copy_into(old, new, depth) and isinstance(original, list):
                original[i] = new


def _copy_into(old, new, depth):
    """Update `old` in place from `new`; False when it must be replaced instead."""
    if isinstance(old, values.Handle) or isinstance(new, values.Handle):
        return True   # the student's own object (a cache): it lives in the worker
    if isinstance(old, np.ndarray) and isinstance(new, np.ndarray):
        if old.shape == new.shape and old.dtype == new.dtype and old.flags.writeable:
            np.copyto(old, new)
            return True
        return False
    if isinstance(old, np.random.Generator) and isinstance(new, np.random.Generator):
        old.bit_generator.state = new.bit_generator.state
        return True
    if (isinstance(old, dict) and isinstance(new, dict)) or (
            isinstance(old, (list, tuple)) and type(old) is type(new)):
        _copy_back(old, new, depth + 1)
        return True
    return False


# ----------------------------------------------------------------------------- grading

def _grade_test_cell(cell, session, failed_answers, hidden_seeds, secret=None):
    """Grade one source test cell; returns (status, message).

    The messages are the notebook's: grading.check() raises the same CheckFailure text here
    as in the student's kernel. An answer cell that failed after defining its functions is
    graded as it stands, with its error as a note.
    """
    calls = check_calls(source_text(cell))
    if not calls:
        return "failed", tr("this test cell has no check(...) call the grader can run")
    messages, notes = [], []
    for name, fn_names in calls:
        exercise = grading.get_exercise(name)
        cell_error = failed_answers.get(exercise.answer_cell)
        functions = [StudentFunction(session, fn) for fn in fn_names]
        seeds = hidden_seeds if hidden_seeds is not None else grading.hidden_seeds(
            name, secret=secret or grading.course_secret(create=True))
        try:
            grading.check(name, *functions)
            grading.check(name, *functions, seeds=seeds)
        except NotImplementedError as exc:
            if cell_error and not _defined(session, fn_names):
                messages.append(_did_not_run(name, cell_error))
                continue
            return "not implemented", str(exc)
        except grading.CheckFailure as exc:
            if cell_error and not _defined(session, fn_names):
                messages.append(_did_not_run(name, cell_error))
            else:
                messages.append(str(exc) + (f"\n{_cell_note(cell_error)}" if cell_error else ""))
            continue
        if cell_error:
            notes.append(_cell_note(cell_error))
    if messages:
        return "failed", "\n".join(messages)
    return "passed", "\n".join(dict.fromkeys(notes))


def _did_not_run(name, error):
    return tr("{name}: your answer cell did not run: {error}", name=name, error=error)


def _cell_note(error):
    return tr("Note: your answer cell stopped with an error after defining its functions "
              "({error}); they were graded as defined. Remove what raised before you submit.",
              error=error)


def _defined(session, fn_names):
    """Whether the worker's namespace defines all these functions (after a failed answer cell).

    Asked with a one-line cell that reads only builtins, so no student function runs."""
    if session.broken:
        return False
    probe = ("__import__('builtins').print(__import__('builtins').all(__import__('builtins')"
             f".callable(__import__('builtins').globals().get(n)) for n in {list(fn_names)!r}))")
    try:
        reply = session.worker.exec(probe)
    except (sandbox.WorkerTimeout, sandbox.WorkerDied):
        session.restart()
        return False
    return reply.get("ok", False) and reply.get("output", "").strip().endswith("True")


def grade_notebook(source, submission_text, *, student, assignment, notebook, library,
                   limits=None, hide=(), full=False, hidden_seeds=None, secret=None):
    """Grade one submission (raw file text) against its source notebook (dict).

    hidden_seeds: the same seeds for every exercise (tests); by default each exercise's
    hidden seeds derive from the course's secret (grading.hidden_seeds): `secret`, as the
    pipeline reads it from the work folder, else the default work folder's.
    """
    start = time.perf_counter()
    result = NotebookResult(student, assignment, notebook)
    try:
        submission = parse_submission(submission_text)
    except UngradableSubmission as exc:
        result.graded, result.error = False, str(exc)
        _score_ungraded(result, source, str(exc))
        result.seconds = time.perf_counter() - start
        return result
    steps, result.problems = build_program(source, submission, full=full)
    result.problems += copied_from_reference(steps, assignment)
    prefix = course_prefix(steps)
    session = Session(library, limits or sandbox.Limits(), hide, prefix)
    try:
        outcomes = list(zip(prefix, session.start()))
        failed_answers = {}
        for step in steps[len(prefix):]:
            outcomes.append((step, session.run(step)))
        for step, (ok, text) in outcomes:
            result.cell_outputs[step.cell_id] = text
            if not ok and step.role == "answer":
                failed_answers[step.cell_id] = text.strip().splitlines()[-1] if text.strip() else "error"
            if not ok and step.role in ("setup", "code"):
                result.problems.append(f"course cell {step.cell_id!r} failed: {text[-300:]}")
        _grade_cells(result, source, submission, session, failed_answers, hidden_seeds, secret)
    except sandbox.WorkerDied as exc:  # could not even start
        result.graded, result.error = False, f"the grading process could not start: {exc}"
        _score_ungraded(result, source, result.error)
    finally:
        session.close()
    if session.restarts:
        result.problems.append(tr("the student's process was restarted {count} time(s)",
                                  count=session.restarts))
    result.seconds = time.perf_counter() - start
    return result


COPY_SIMILARITY = 0.9


def _normalized_function(tree_or_source, name):
    """ast.unparse of function `name` without its docstring, or None."""
    try:
        tree = ast.parse(tree_or_source) if isinstance(tree_or_source, str) else tree_or_source
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                                     ast.Constant):
                body = body[1:] or [ast.Pass()]
            node = ast.FunctionDef(name="f", args=node.args, body=body, decorator_list=[],
                                   returns=None, type_comment=None, type_params=[])
            return ast.unparse(ast.fix_missing_locations(node))
    return None


def copied_from_reference(steps, assignment):
    """Notes for the instructor: answers nearly identical to the reference implementation."""
    import difflib
    import inspect
    answers = {s.cell_id: s.code for s in steps if s.role == "answer"}
    notes = []
    for name in grading.exercise_names(notebook=assignment):
        exercise = grading.get_exercise(name)
        code = answers.get(exercise.answer_cell)
        if not code:
            continue
        for fn, fn_name in zip(exercise.reference_fns, exercise.function_names):
            try:
                reference = _normalized_function(textwrap.dedent(inspect.getsource(fn)), fn.__name__)
            except (OSError, TypeError):
                continue
            student = _normalized_function(code, fn_name)
            if not reference or not student or len(reference) < 120:
                continue
            ratio = difflib.SequenceMatcher(None, student, reference).ratio()
            if ratio >= COPY_SIMILARITY:
                notes.append(tr("{name} is {ratio:.0%} identical to the reference implementation "
                                "{reference}: review it for copying", name=fn_name, ratio=ratio,
                                reference=f"{fn.__module__}.{fn.__name__}"))
    return notes


def _grade_cells(result, source, submission, session, failed_answers, hidden_seeds, secret=None):
    index, _ = _submission_index(submission)
    for cell in source["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        gid, points = meta["grade_id"], float(meta.get("points", 0))
        if cell_role(cell) == "written" or meta.get("solution"):
            student_cell = index.get(gid)
            result.written[gid] = source_text(student_cell) if student_cell else ""
            result.cells.append(CellResult(gid, 0.0, points, "manual",
                                           tr("graded by the instructor")))
            continue
        status, message = _grade_test_cell(cell, session, failed_answers, hidden_seeds, secret)
        # Every language's trip-wire message keeps the English term "reference implementation".
        if "reference implementation" in message:
            result.problems.append(tr("{grade_id}: uses the course's reference implementation",
                                      grade_id=gid))
        if status == "passed" and message:
            result.problems.append(f"{gid}: {message}")
        result.cells.append(CellResult(gid, points if status == "passed" else 0.0, points,
                                       status, message))


def _score_ungraded(result, source, reason):
    for cell in source["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            result.cells.append(CellResult(meta["grade_id"], 0.0, float(meta.get("points", 0)),
                                           "failed", tr("not graded: {reason}", reason=reason)))
