"""The instructor's grading workflow: grade a folder, write feedback, export grades, validate.

State between commands lives in the course work folder (default `.course/`):
`gradebook.db` (nbgrader's), `autograded/<student>/<assignment>/<notebook>.ipynb` plus a
`.grading.json` with the per-cell results, `feedback/` and `export/`.
"""
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cs231n_lib import grading

from . import batch, feedback, gradebook, gradebook_guard, paths, submissions
from .grader import NotebookResult
from .variants import cell_role, grade_id

COURSE_ID = "training-neural-networks"


def load_sources(root=paths.ROOT, names=None):
    """{(assignment, notebook stem): source notebook dict} for the chosen assignments."""
    return {(path.parent.name, path.stem): json.loads(path.read_text())
            for path in paths.solution_notebooks(root, names)}


def test_cell_ids(source):
    return {grade_id(c) for c in source["cells"] if cell_role(c) == "tests"}


def max_points(sources):
    """{(assignment, notebook): (automatic max, written max)} from the source's grade cells."""
    def points(nb, cell_type):
        return sum(float(c["metadata"]["nbgrader"].get("points", 0)) for c in nb["cells"]
                   if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                   and c["cell_type"] == cell_type)
    return {key: (points(nb, "code"), points(nb, "markdown")) for key, nb in sources.items()}


@dataclass
class GradeReport:
    results: list = field(default_factory=list)
    unmatched: list = field(default_factory=list)

    @property
    def ungraded(self):
        return [r for r in self.results if not r.graded]

    @property
    def ok(self):
        return not self.unmatched and not self.ungraded


def make_tasks(found, sources, hide, limits, full=False, exercise_modules=(), secret=""):
    tripwires = {a: batch.tripwires_for(a) for a in {s.assignment for s in found}}
    # Made here once, for this process and its pool processes alike.
    libraries = {a: str(batch.library_for(t).dir) for a, t in tripwires.items()}
    lean = {key: batch.without_outputs(source) for key, source in sources.items()}
    return [batch.Task(student=s.student, assignment=s.assignment, notebook=s.notebook,
                       source=lean[(s.assignment, s.notebook)], text=s.text,
                       tripwires=tripwires[s.assignment], hide=list(hide), limits=limits,
                       full=full, notes=list(s.notes), exercise_modules=list(exercise_modules),
                       secret=secret, language=getattr(s, "language", "en"),
                       library_dir=libraries[s.assignment])
            for s in found]


def grade_folder(folder, work_dir, *, root=paths.ROOT, names=None, jobs=1, scheduler=None,
                 limits=None, full=False, progress=None, exercise_modules=()):
    """Grade every submission under `folder`; write gradebook, autograded copies and report.

    The work folder is snapshotted before any student code runs; whatever changes it while
    grading is undone, the batch members who could have done it get a note, and every result
    is still written.
    """
    import importlib
    for module in exercise_modules:
        importlib.import_module(module)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    sources = load_sources(root, names)
    catalog = submissions.Catalog.from_sources(sources)
    found, unmatched = submissions.discover(folder, catalog)
    db = work_dir / "gradebook.db"
    gradebook.register_sources(db, COURSE_ID, sources)
    # Read (or made, before the snapshot) in the work folder by this process, so an instructor
    # who cannot write to the checkout, pool processes and Dask workers share hidden seeds.
    secret = grading.course_secret(create=True, folder=work_dir)
    guard = gradebook_guard.Guard(work_dir)
    # Also masked in the workers' filesystem should they lie inside a tree it shows.
    hide = [Path(root), work_dir.resolve(), Path(folder).resolve()]
    tasks = make_tasks(found, sources, hide, limits or batch.task_limits(60, 4, 64), full,
                       exercise_modules, secret=secret)
    suspects = {}

    def watch(index, others):
        changes = guard.changed()
        if changes:
            _undo(guard, changes, [index, *others], suspects)

    results = batch.run_tasks(tasks, jobs=jobs, scheduler=scheduler, progress=progress,
                              watch=watch)
    changes = guard.full_check()
    if changes:   # missed by the quick checks (deep in the folder) or graded on Dask
        _undo(guard, changes, range(len(tasks)), suspects)
    for index, note in suspects.items():
        results[index].problems.append(note)
    gradebook.write_results(db, COURSE_ID, results, expected_fingerprint=gradebook.fingerprint(db))
    report = GradeReport(results, unmatched)
    for sub, result in zip(found, results):
        gradebook.write_autograded_copy(work_dir, result, sub.text)
    (work_dir / "unmatched.json").write_text(json.dumps([vars(u) for u in unmatched], indent=1))
    gradebook.publish_for_formgrader(db, COURSE_ID, work_dir, folder, found, results, sources, root)
    return report


def _undo(guard, changes, candidates, suspects):
    """Restore the work folder and note the change on every submission that could have made it."""
    lost = guard.restore(changes)
    shown = ", ".join(changes[:5]) + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")
    candidates = list(candidates)
    who = "this submission" if len(candidates) == 1 else (
        f"this submission or one of the {len(candidates) - 1} graded at the same time")
    note = (f"TAMPERING: the work folder changed while {who} ran ({shown}); "
            "it was restored from the snapshot taken before grading"
            + (f", except {', '.join(lost)} (too large to keep: check it)" if lost else "")
            + ". Review this submission.")
    for index in candidates:
        suspects.setdefault(index, note)


def count_submissions(folder, root=paths.ROOT, names=None):
    """How many notebooks grade_folder will grade (for the progress bar and the empty warning)."""
    found, _ = submissions.discover(folder, submissions.Catalog.from_sources(load_sources(root, names)))
    return len(found)


def set_aside_other_assignments(report, folder, root=paths.ROOT, names=None):
    """With --assignment, files that belong to *other* assignments are skipped, not errors.

    Moves them from report.unmatched to the returned list (each with the reason it was skipped).
    """
    if not names:
        return []
    every = submissions.Catalog.from_sources(load_sources(root))
    skipped = []
    for u in list(report.unmatched):
        path = Path(folder) / u.origin
        if not path.is_file() or path.suffix.lower() != ".ipynb":
            continue
        found, _ = _discover_one(folder, path, every)
        others = {s.assignment for s in found} - set(names)
        if found and others:
            report.unmatched.remove(u)
            u.reason = f"belongs to {', '.join(sorted(others))}, not to the chosen --assignment"
            skipped.append(u)
    return skipped


def _discover_one(folder, path, catalog):
    """Match a single file as discover() would, by copying it alone into a scratch folder."""
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory(prefix="course-match-") as scratch:
        target = Path(scratch) / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        return submissions.discover(scratch, catalog)


class Progress:
    """Per-notebook progress of a grading run: a tqdm bar (count, rate, ETA) on a terminal,
    plain lines with the count and an estimate otherwise (logs, CI, pipes)."""

    def __init__(self, total, stream=None):
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.stream = stream or sys.stdout
        self.bar = None
        if self.stream.isatty():
            from tqdm.auto import tqdm
            import shutil
            # a terminal that reports no size (e.g. under `script`) would hide the bar
            width = {"dynamic_ncols": True} if shutil.get_terminal_size((0, 0)).lines else \
                {"ncols": 100, "nrows": 20}
            self.bar = tqdm(total=total, unit="nb", file=self.stream, desc="grading", **width)

    def __call__(self, result):
        self.done += 1
        state = f"{result.score:g}/{result.max_score:g}" if result.graded else "NOT GRADED"
        what = f"{result.student} {result.assignment}/{result.notebook}: {state} ({result.seconds:.1f} s)"
        if self.bar is not None:
            self.bar.set_postfix_str(what, refresh=False)
            self.bar.update(1)
            return
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate else 0.0
        print(f"[{self.done}/{self.total}] graded {what}; {rate * 60:.0f}/min, "
              f"about {eta:.0f} s left", file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def load_graded(work_dir):
    """Results and submission texts saved by grade_folder."""
    results, texts = [], {}
    for path in sorted((Path(work_dir) / "autograded").glob("*/*/*.grading.json")):
        result = NotebookResult.from_dict(json.loads(path.read_text()))
        results.append(result)
        handed_in = (Path(work_dir) / "submitted" / result.student / result.assignment /
                     f"{result.notebook}.ipynb")
        texts[(result.student, result.assignment, result.notebook)] = \
            handed_in.read_text() if handed_in.exists() else ""
    return results, texts


class NothingGraded(RuntimeError):
    """feedback/export asked for before anything was graded in this work folder."""


def _graded_or_fail(work_dir):
    results, texts = load_graded(work_dir)
    if not results:
        raise NothingGraded(f"nothing has been graded in {work_dir} yet; run "
                            "`course grade SUBMISSIONS` first (or pass --work-dir)")
    return results, texts


def write_all_feedback(work_dir, root=paths.ROOT, out_dir=None, assignments=None, students=None):
    """One HTML page per graded notebook (optionally only of some assignments or students);
    scores and comments from the gradebook."""
    sources = load_sources(root)
    results, texts = _graded_or_fail(work_dir)
    results = [r for r in results if (not assignments or r.assignment in assignments)
               and (not students or r.student in students)]
    grades = gradebook.read_grades(Path(work_dir) / "gradebook.db", COURSE_ID)
    out_dir = Path(out_dir or Path(work_dir) / "feedback")
    written = []
    for r in results:
        key = (r.student, r.assignment, r.notebook)
        source = feedback.edition_source(sources[(r.assignment, r.notebook)], r, root)
        written.append(feedback.write_feedback(out_dir, source, r, texts[key], grades.get(key)))
    return written


def export(work_dir, root=paths.ROOT, out_dir=None):
    """grades.csv, grades_by_assignment.csv and grades.json, from the gradebook."""
    results, _ = _graded_or_fail(work_dir)
    grades = gradebook.read_grades(Path(work_dir) / "gradebook.db", COURSE_ID)
    sources = load_sources(root)
    return feedback.export_grades(out_dir or Path(work_dir) / "export", results, grades,
                                  max_points(sources))


def format_table(results, expected=None):
    """Students × notebooks: score/max, with the expected score beside it when given."""
    notebooks = sorted({(r.assignment, r.notebook) for r in results})
    students = sorted({r.student for r in results})
    cell = {(r.student, r.assignment, r.notebook): r for r in results}
    width = 18 if expected is not None else 9
    header = ["student"] + [a[:2] for a, _ in notebooks]
    lines = ["automatic points (written answers are graded by hand)",
             "  ".join(f"{h:>{width}}" if i else f"{h:<10}" for i, h in enumerate(header))]
    for student in students:
        row = [f"{student:<10}"]
        for a, n in notebooks:
            r = cell.get((student, a, n))
            if r is None:
                text = "-"
            else:
                auto_max = sum(c.max_points for c in r.cells if c.status != "manual")
                text = f"{r.score:g}/{auto_max:g}" if r.graded else "UNGRADED"
                if expected is not None:
                    want = expected.get((student, a, n))
                    mark = "ok" if _meets(r, want) else "MISMATCH"
                    text += f" ({_describe(want)} {mark})"
            row.append(f"{text:>{width}}")
        lines.append("  ".join(row))
    return "\n".join(lines)


def _meets(result, want):
    if want == "ungraded":
        return not result.graded
    return result.graded and abs(result.score - want) < 1e-9


def _describe(want):
    return "ungraded" if want == "ungraded" else f"want {want:g}"



def print_report(report, stream=None):
    stream = stream or sys.stdout
    print(format_table(report.results), file=stream)
    for u in report.unmatched:
        print(f"NOT GRADED {u.origin}: {u.reason}", file=stream)
    for r in report.ungraded:
        print(f"NOT GRADED {r.student} {r.assignment}/{r.notebook}: {r.error}", file=stream)
    for r in report.results:
        for problem in r.problems:
            print(f"note {r.student} {r.assignment}/{r.notebook}: {problem}", file=stream)
