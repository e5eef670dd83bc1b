"""The instructor's grading workflow: grade a folder, write feedback, export grades, validate.

State between commands lives in the course work folder (default `.course/`):
`gradebook.db` (nbgrader's), `autograded/<student>/<assignment>/<notebook>.ipynb` plus a
`.grading.json` with the per-cell results, `feedback/` and `export/`.
"""
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

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
    return {key: sum(float(c["metadata"]["nbgrader"].get("points", 0)) for c in nb["cells"]
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
            for key, nb in sources.items()}


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


def make_tasks(found, sources, hide, limits, full=False, exercise_modules=()):
    tripwires = {a: batch.tripwires_for(a) for a in {s.assignment for s in found}}
    return [batch.Task(student=s.student, assignment=s.assignment, notebook=s.notebook,
                       source=sources[(s.assignment, s.notebook)], text=s.text,
                       tripwires=tripwires[s.assignment], hide=list(hide), limits=limits,
                       full=full, notes=list(s.notes), exercise_modules=list(exercise_modules))
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
    guard = gradebook_guard.Guard(work_dir)
    # Also masked in the workers' filesystem should they lie inside a tree it shows.
    hide = [Path(root), work_dir.resolve(), Path(folder).resolve()]
    tasks = make_tasks(found, sources, hide, limits or batch.task_limits(60, 4, 64), full,
                       exercise_modules)
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


def load_graded(work_dir):
    """Results and submission texts saved by grade_folder."""
    results, texts = [], {}
    for path in sorted((Path(work_dir) / "autograded").glob("*/*/*.grading.json")):
        result = NotebookResult.from_dict(json.loads(path.read_text()))
        results.append(result)
        notebook_file = path.with_name(f"{result.notebook}.ipynb")
        texts[(result.student, result.assignment, result.notebook)] = notebook_file.read_text()
    return results, texts


def write_all_feedback(work_dir, root=paths.ROOT, out_dir=None):
    sources = load_sources(root)
    results, texts = load_graded(work_dir)
    out_dir = Path(out_dir or Path(work_dir) / "feedback")
    written = []
    for r in results:
        ids = test_cell_ids(sources[(r.assignment, r.notebook)])
        written.append(feedback.write_feedback(out_dir, r, texts[(r.student, r.assignment, r.notebook)], ids))
    return written


def export(work_dir, root=paths.ROOT, out_dir=None):
    results, _ = load_graded(work_dir)
    sources = load_sources(root)
    return feedback.export_grades(out_dir or Path(work_dir) / "export", results, max_points(sources))


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
