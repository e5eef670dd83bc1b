"""Grade many submissions: serially, on a local process pool, or on a Dask cluster.

Each task is self-contained (source notebook, submission text, limits) so it can run in any
process; only the caller writes the gradebook, so parallel grading cannot corrupt or lock it.
"""
import atexit
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cs231n_lib import grading, i18n

from . import grader, sandbox

_LIBRARIES = {}
NO_ISOLATION_NOTE = ("graded without isolation (--no-isolation): this notebook's code ran as "
                     "the instructor's user and could reach the course's files")


@dataclass
class Task:
    """Everything needed to grade one submission, in any process."""
    student: str
    assignment: str
    notebook: str
    source: dict
    text: str
    tripwires: list
    hide: list = field(default_factory=list)
    limits: dict = field(default_factory=dict)
    full: bool = False
    notes: list = field(default_factory=list)
    exercise_modules: list = field(default_factory=list)  # extra registries to import first
    secret: str = ""      # the course's grading secret: hidden seeds, the same on every re-grade
    language: str = "en"    # the submission's edition: the checks speak it
    library_dir: str = ""   # the trip-wired library copy the grading process made, if reachable


def tripwires_for(assignment):
    """The reference functions that the assignment's exercises replace (module, name)."""
    pairs = set()
    for name in grading.exercise_names(notebook=assignment):
        for fn in grading.get_exercise(name).reference_fns:
            module = getattr(fn, "__module__", "") or ""
            if module.startswith("cs231n_lib") and "<" not in fn.__qualname__ and "." not in fn.__qualname__:
                pairs.add((module, fn.__name__))
    return sorted(pairs)


def library_for(tripwires):
    """This process's trip-wired library copy for these trip-wires (made once)."""
    key = tuple(tuple(t) for t in tripwires)
    if key not in _LIBRARIES:
        _LIBRARIES[key] = sandbox.LibraryCopy(tripwires=key)
    return _LIBRARIES[key]


def _library(task):
    """The task's library copy: the one the grading process made and handed over (pool
    processes on this machine share it, and their fork servers its shelf), else our own."""
    if task.library_dir and Path(task.library_dir, "cs231n_lib").is_dir():
        return sandbox.LibraryCopy.existing(task.library_dir)
    return library_for(task.tripwires)


@atexit.register
def _cleanup_libraries():
    for library in _LIBRARIES.values():
        library.cleanup()


def _dask_cancel_check():
    """A function telling whether this Dask task was cancelled, or None outside Dask.

    Dask cannot stop a running task's thread; the sandbox polls this while it waits for the
    worker and kills it, so a cancelled grading leaves no student process behind."""
    try:
        from distributed import get_worker
        worker = get_worker()
        key = worker.get_current_task()
    except (ImportError, ValueError, AttributeError, KeyError):
        return None

    def cancelled():
        state = worker.state.tasks.get(key)
        return state is None or state.state == "cancelled"
    return cancelled


def grade_task(task):
    """Grade one Task; never raises for a bad submission (the result says what went wrong)."""
    import importlib
    for module in task.exercise_modules:
        importlib.import_module(module)
    limits = sandbox.Limits(**task.limits)
    try:
        with sandbox.cancellable(_dask_cancel_check()), i18n.language(task.language):
            result = grader.grade_notebook(
                task.source, task.text, student=task.student, assignment=task.assignment,
                notebook=task.notebook, library=_library(task),
                limits=limits, hide=task.hide, full=task.full, secret=task.secret or None)
    except Exception as exc:  # a grader bug must not stop the batch either
        result = grader.NotebookResult(task.student, task.assignment, task.notebook,
                                       graded=False, error=f"internal grading error: {exc!r}")
        grader._score_ungraded(result, task.source, result.error)
    result.problems = list(task.notes) + result.problems
    result.language = task.language
    if limits.isolation == "none":
        result.problems.append(NO_ISOLATION_NOTE)
    return result


def run_tasks(tasks, jobs=1, scheduler=None, progress=None, watch=None):
    """Grade all tasks; returns results in the same order.

    watch(index, others): called in this process after each result arrives, with the indices
    of the other tasks that may have been running meanwhile (empty when grading serially);
    the gradebook guard uses it to name who could have changed the work folder.
    """
    if scheduler:
        return _run_on_dask(tasks, scheduler, progress)
    if jobs <= 1 or len(tasks) <= 1:
        results = []
        for index, task in enumerate(tasks):
            results.append(grade_task(task))
            if watch:
                watch(index, [])
            if progress:
                progress(results[-1])
        return results
    from concurrent.futures import ProcessPoolExecutor, as_completed
    import multiprocessing
    # spawn: a clean interpreter per pool process (forking a process with threads is unsafe);
    # each pool process dies with this one, and its workers die with it.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_pool_process,
                             initargs=(_isolation_found(tasks),)) as pool:
        futures = {pool.submit(grade_task, task): index for index, task in enumerate(tasks)}
        results = [None] * len(tasks)
        checked = set()
        # In completion order: a task checked clean after it finished is out of suspicion, so
        # a change seen now was made by this task, one still running, or one that finished
        # but whose check has not come yet (two tasks can end within the same moment).
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            checked.add(future)
            if watch:
                watch(index, suspects(futures, checked))
            if progress:
                progress(results[index])
        return results


def suspects(futures, checked):
    """Indices of the tasks that may have run since the last check: running, or finished
    but not checked yet ({future: index}; `checked`: the futures already checked)."""
    return sorted(index for future, index in futures.items()
                  if future not in checked and (future.running() or future.done()))


def _isolation_found(tasks):
    """The isolation mode this process found (None if no task needs one): pool processes on
    the same machine need not probe again."""
    if all(task.limits.get("isolation") == "none" for task in tasks):
        return None
    return sandbox.probe()


def _start_pool_process(mode):
    sandbox.die_with_parent()
    if mode is not None:
        sandbox.use_probed(mode)
    # A pool process ends without running atexit handlers: stop its fork server (and wait
    # for it) from multiprocessing's own exit hook instead.
    from multiprocessing import util
    util.Finalize(None, sandbox.stop_fork_servers, exitpriority=10)


def _run_on_dask(tasks, address, progress=None):
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise RuntimeError("--scheduler needs the 'distributed' package: pip install distributed") from exc
    with Client(address, timeout="30s") as client:
        futures = client.map(grade_task, tasks, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        results = [None] * len(tasks)
        # As they finish, each released at once: the workers then forget the task and its
        # result instead of holding a class's worth until the end (memory grew per notebook).
        for future in as_completed(futures):
            i = index[future.key]
            results[i] = future.result()
            future.release()
            if progress:
                progress(results[i])
        return results


def without_outputs(source):
    """The source notebook as a task needs it: cells and metadata, no stored outputs (which
    make up most of a solution notebook and would travel with every task)."""
    cells = [dict(cell, outputs=[], execution_count=None) if cell.get("cell_type") == "code"
             else cell for cell in source["cells"]]
    return dict(source, cells=cells)


def task_limits(timeout, memory_gb, output_kb, isolation="auto"):
    return asdict(sandbox.Limits(timeout=timeout, memory_bytes=int(memory_gb * 2**30),
                                 output_cap=int(output_kb * 1024), isolation=isolation))
