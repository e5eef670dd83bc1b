"""nbgrader's gradebook as the one record of grades, shared by `course` and formgrader.

`course grade` writes automatic scores into it (only the process that runs `course grade` does,
after every submission is graded, and only if the database is exactly as it was when grading
started); formgrader adds manual scores and comments to the same rows; `course export` and
`course feedback` read every score back from it (`read_grades`), so both see manual grading.

The work folder follows nbgrader's layout, so formgrader shows what the grader did:
`submitted/<student>/<assignment>/<nb>.ipynb` (the file as handed in, with `timestamp.txt`)
and `autograded/<student>/<assignment>/<nb>.ipynb` — the notebook as graded: test cells taken
from the source, each with the grader's message as its output — plus `<nb>.grading.json`.
"""
import copy
import datetime
import hashlib
import json
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cs231n_lib.i18n import tr

from .variants import cell_role, grade_id

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"


class GradebookTampered(RuntimeError):
    """The gradebook changed while student code was running."""


def fingerprint(db_path):
    path = Path(db_path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"


def _db_url(db_path):
    return f"sqlite:///{Path(db_path).resolve()}"


def _open(db_path, course_id):
    from nbgrader.api import Gradebook
    if Path(db_path).exists():
        return Gradebook(_db_url(db_path), course_id=course_id)
    with _alembic_head_in_process():
        return Gradebook(_db_url(db_path), course_id=course_id)


@contextmanager
def _alembic_head_in_process():
    """While nbgrader creates a new gradebook, read its schema version in this process.

    nbgrader stamps a new database with `alembic heads`, run as a subprocess that imports
    SQLAlchemy and alembic again (~3 s of a fresh `course grade`, 0.1 s in process). Same
    head, same migration scripts (nbgrader's own alembic folder); nbgrader's function is put
    back afterwards, so nbgrader used elsewhere in this process is unchanged."""
    from alembic.script import ScriptDirectory
    from nbgrader import api
    from nbgrader.dbutil import ALEMBIC_DIR
    original = api.get_alembic_version
    api.get_alembic_version = lambda: ScriptDirectory(ALEMBIC_DIR).get_current_head()
    try:
        yield
    finally:
        api.get_alembic_version = original


def register_sources(db_path, course_id, sources):
    """Make sure every assignment, notebook, grade cell and answer cell exists in the gradebook.

    sources: {(assignment, notebook stem): source notebook dict}.
    """
    fresh = not Path(db_path).exists()
    with _open(db_path, course_id) as gb:
        if fresh:
            _skip_fsync_while_registering(gb)
        for (assignment, stem), nb in sources.items():
            gb.update_or_create_assignment(assignment)
            gb.update_or_create_notebook(stem, assignment)
            for cell in nb["cells"]:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("grade"):
                    gb.update_or_create_grade_cell(meta["grade_id"], stem, assignment,
                                                   max_score=float(meta.get("points", 0)),
                                                   cell_type=cell["cell_type"])
                if meta.get("solution"):
                    gb.update_or_create_solution_cell(meta["grade_id"], stem, assignment)


def _skip_fsync_while_registering(gb):
    """nbgrader commits every cell it registers (~130 commits, each an fsync: ~2 s of a first
    `course grade`). For a gradebook made just now nothing can be lost: SQLite still writes
    each commit (safe if this process dies), and the first commit made with the default
    setting (write_results, on a new connection) makes the whole file durable."""
    from sqlalchemy import text
    gb.db.execute(text("PRAGMA synchronous=OFF"))


def write_results(db_path, course_id, results, expected_fingerprint=None):
    """Store automatic scores; written answers (and undecided cells) wait for manual grading.

    Manual scores and comments already given in formgrader are kept: a regrade replaces only
    the automatic part.
    """
    from nbgrader.api import MissingEntry
    if expected_fingerprint is not None and fingerprint(db_path) != expected_fingerprint:
        raise GradebookTampered(f"{db_path} changed while submissions were being graded; "
                                "nothing was written. Grade again.")
    with warnings.catch_warnings(), _open(db_path, course_id) as gb:
        # nbgrader's own SQLAlchemy usage warns on add_submission; the data is written correctly.
        warnings.simplefilter("ignore")
        for result in results:
            student = gb.update_or_create_student(result.student)
            if not student.last_name:  # formgrader lists "last, first"; show the id, not "None"
                gb.update_or_create_student(result.student, last_name=result.student, first_name="")
            try:
                gb.find_submission(result.assignment, result.student)
            except MissingEntry:
                gb.add_submission(result.assignment, result.student)
            for cell in result.cells:
                grade = gb.find_grade(cell.grade_id, result.notebook, result.assignment, result.student)
                written = grade.cell.cell_type == "markdown"
                grade.auto_score = None if written else cell.points
                # nbgrader's rule (SaveAutoGrades): a cell needs a person when the machine did
                # not decide it (written answers) or a person already overrode it.
                grade.needs_manual_grade = written or grade.manual_score is not None
            # A file the grader could not read scores 0 on its tests and is *flagged* (formgrader's
            # "Flagged?" column), so a person looks at it; a later good grading clears the flag.
            gb.find_submission_notebook(result.notebook, result.assignment,
                                        result.student).flagged = not result.graded
        # One commit for the batch (a commit is an fsync): the scores of a grading run are
        # stored together (nbgrader's update_or_create_student/add_submission still commit
        # new students and submissions as they go).
        gb.db.commit()


def write_autograded_copy(work_dir, result, submission_text):
    """Keep the file as handed in (submitted/) and the grader's per-cell results (autograded/)."""
    work_dir = Path(work_dir)
    submitted = work_dir / "submitted" / result.student / result.assignment
    submitted.mkdir(parents=True, exist_ok=True)
    (submitted / f"{result.notebook}.ipynb").write_text(submission_text)
    folder = work_dir / "autograded" / result.student / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{result.notebook}.grading.json").write_text(json.dumps(result.to_dict(), indent=1))


def read_roster(path):
    """{student id: {first_name, last_name, email}} from a CSV with an `id` column (LMS exports
    call it id, student_id or username) and any of first_name, last_name, email."""
    import csv
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"roster {path} has no rows")
    key = next((k for k in ("id", "student_id", "username") if k in rows[0]), None)
    if key is None:
        raise ValueError(f"roster {path} needs an id column (id, student_id or username); "
                         f"it has {', '.join(rows[0])}")
    return {row[key].strip(): {f: (row.get(f) or "").strip() or None
                               for f in ("first_name", "last_name", "email")} for row in rows}


def apply_roster(db_path, course_id, roster):
    """Give the gradebook's students their names (formgrader lists "last, first")."""
    with _open(db_path, course_id) as gb:
        for student_id, fields in roster.items():
            gb.update_or_create_student(student_id, **fields)


# ----------------------------------------------------------------------------- formgrader's view

def publish_for_formgrader(db_path, course_id, work_dir, folder, found, results, sources,
                           release_root=None):
    """Timestamps, released assignments and the graded notebooks formgrader displays."""
    work_dir = Path(work_dir)
    if release_root is not None:
        mirror_release(work_dir, course_id, release_root)
    stamps = {}
    for sub in found:
        origin = Path(folder) / sub.origin
        when = origin.stat().st_mtime if origin.is_file() else None
        stamps[(sub.student, sub.assignment)] = max(when or 0, stamps.get((sub.student, sub.assignment), 0))
    with warnings.catch_warnings(), _open(db_path, course_id) as gb:
        warnings.simplefilter("ignore")
        for (student, assignment), when in stamps.items():
            stamp = datetime.datetime.fromtimestamp(when or datetime.datetime.now().timestamp(),
                                                    datetime.timezone.utc)
            gb.find_submission(assignment, student).timestamp = stamp.replace(tzinfo=None)
            (work_dir / "submitted" / student / assignment / "timestamp.txt").write_text(
                stamp.strftime(TIMESTAMP_FORMAT))
        gb.db.commit()
    for result in results:
        nb = graded_notebook(sources[(result.assignment, result.notebook)], result,
                             (work_dir / "submitted" / result.student / result.assignment /
                              f"{result.notebook}.ipynb").read_text())
        path = work_dir / "autograded" / result.student / result.assignment / f"{result.notebook}.ipynb"
        path.write_text(json.dumps(nb, indent=1))


def mirror_release(work_dir, course_id, release_root):
    """Copy each notebooks/<assignment> to the work folder's exchange (nbgrader_config.py's
    Exchange.root), where formgrader looks to call an assignment released."""
    import shutil
    for release in sorted((Path(release_root) / "notebooks").glob("*/*.ipynb")):
        target = Path(work_dir) / "exchange" / course_id / "outbound" / release.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(release, target / release.name)


def _message_output(status, message):
    text = f"[{status}] {message}".rstrip() + "\n"
    return {"output_type": "stream", "name": "stderr" if status != "passed" else "stdout",
            "text": text}


def graded_notebook(source, result, submission_text):
    """The notebook that was graded, for formgrader and the feedback page.

    The student's cells in the student's order; every source cell with a grade_id comes from
    the source (test cells restored when deleted or edited, each showing the grader's message
    as its output; answer cells keep the student's text under the source's metadata). A
    submission that could not be read becomes the source's skeleton without answers under a
    banner saying why, so formgrader shows it as what it is instead of failing.
    """
    from .grader import UngradableSubmission, parse_submission
    try:
        submission, reason = parse_submission(submission_text), ""
    except UngradableSubmission as exc:
        submission, reason = None, str(exc)
    source_index = {grade_id(c): i for i, c in enumerate(source["cells"]) if grade_id(c)}
    placed = []  # (index of the matching source cell or None, cell)
    for cell in (submission or {}).get("cells", []):
        gid = grade_id(cell)
        if gid in source_index:
            placed.append((source_index[gid], _graded_cell(source["cells"][source_index[gid]], cell, result)))
        elif not gid:
            placed.append((None, copy.deepcopy(cell)))  # experiments and cells the student added
    present = {i for i, _ in placed if i is not None}
    for i, cell in enumerate(source["cells"]):
        if grade_id(cell) and i not in present:
            after = max((k for k, (j, _) in enumerate(placed) if j is not None and j < i), default=-1)
            placed.insert(after + 1, (i, _graded_cell(cell, None, result)))
    cells = [cell for _, cell in placed]
    if submission is None or not result.graded:
        cells.insert(0, {"cell_type": "markdown", "metadata": {}, "id": "course-not-graded",
                         "source": tr("**This submission could not be graded:** {reason}",
                                      reason=result.error or reason)})
    nb = copy.deepcopy(submission) if submission else {"metadata": source.get("metadata", {})}
    nb.update(cells=cells, nbformat=4, nbformat_minor=max(5, nb.get("nbformat_minor", 5)))
    nb.setdefault("metadata", {})
    for k, cell in enumerate(nb["cells"]):
        cell.setdefault("id", f"cell-{k}")
    return nb


def _graded_cell(source_cell, student_cell, result):
    """One cell of the graded notebook (see graded_notebook)."""
    meta = source_cell.get("metadata", {}).get("nbgrader", {})
    if cell_role(source_cell) == "tests":
        cell = copy.deepcopy(source_cell)
        graded = next((c for c in result.cells if c.grade_id == meta.get("grade_id")), None)
        cell["outputs"] = [_message_output(graded.status, graded.message or
                                           tr("{points:g} / {max_points:g} points",
                                              points=graded.points, max_points=graded.max_points))] \
            if graded else []
        cell["execution_count"] = None
        return cell
    if meta.get("solution"):
        if student_cell is None:  # deleted by the student: never show the solution instead
            student_cell = dict(copy.deepcopy(source_cell), source="", outputs=[])
        return _with_source_metadata(student_cell, source_cell)
    cell = copy.deepcopy(source_cell)  # locked text and set-up: the source's, the student's outputs
    if cell["cell_type"] == "code":
        cell["outputs"] = copy.deepcopy((student_cell or {}).get("outputs", []))
        cell["execution_count"] = (student_cell or {}).get("execution_count")
    return cell


def _with_source_metadata(student_cell, source_cell):
    """The student's cell, with the source's nbgrader metadata (points and ids are the source's)."""
    cell = copy.deepcopy(student_cell)
    cell.setdefault("metadata", {})["nbgrader"] = copy.deepcopy(source_cell["metadata"]["nbgrader"])
    cell["cell_type"] = source_cell["cell_type"]
    if cell["cell_type"] == "markdown":
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    else:
        cell.setdefault("outputs", [])
        cell.setdefault("execution_count", None)
    return cell


# ----------------------------------------------------------------------------- reading back

@dataclass
class CellGrade:
    """One graded cell as the gradebook has it (automatic and manual parts, comments)."""
    grade_id: str
    cell_type: str            # code: a test cell; markdown: a written answer
    max_score: float
    auto_score: float = None
    manual_score: float = None
    needs_manual_grade: bool = False
    comment: str = ""
    extra_credit: float = 0.0

    @property
    def score(self):
        """nbgrader's rule: a manual score overrides the automatic one; extra credit adds."""
        base = self.manual_score if self.manual_score is not None else (self.auto_score or 0.0)
        return base + self.extra_credit

    @property
    def written(self):
        return self.cell_type == "markdown"


@dataclass
class NotebookGrades:
    student: str
    assignment: str
    notebook: str
    cells: dict = field(default_factory=dict)    # grade_id -> CellGrade
    timestamp: str = ""

    @property
    def automatic(self):
        return sum(c.score for c in self.cells.values() if not c.written)

    @property
    def manual(self):
        return sum(c.score for c in self.cells.values() if c.written)

    @property
    def total(self):
        return self.automatic + self.manual

    @property
    def ungraded_written(self):
        return [c.grade_id for c in self.cells.values() if c.written and c.manual_score is None]


def read_grades(db_path, course_id):
    """{(student, assignment, notebook): NotebookGrades} for every submission in the gradebook."""
    out = {}
    if not Path(db_path).exists():
        return out
    with _open(db_path, course_id) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for nb in submission.notebooks:
                    grades = NotebookGrades(submission.student.id, assignment.name, nb.name,
                                            timestamp=str(submission.timestamp or ""))
                    comments = {c.cell.name: (c.manual_comment or "") for c in nb.comments}
                    for g in nb.grades:
                        grades.cells[g.cell.name] = CellGrade(
                            g.cell.name, g.cell.cell_type, float(g.max_score or 0), g.auto_score,
                            g.manual_score, bool(g.needs_manual_grade), comments.get(g.cell.name, ""),
                            float(g.extra_credit or 0))
                    out[(grades.student, assignment.name, nb.name)] = grades
    return out
