"""Write grading results into nbgrader's gradebook, so formgrader and `nbgrader export` work.

Only the process that runs `course grade` calls this, after every submission is graded; the
database is checked to be exactly as it was when grading started (no student code can reach it,
and this verifies it) before anything is written.
"""
import hashlib
import json
import warnings
from pathlib import Path


class GradebookTampered(RuntimeError):
    """The gradebook changed while student code was running."""


def fingerprint(db_path):
    path = Path(db_path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"


def _db_url(db_path):
    return f"sqlite:///{Path(db_path).resolve()}"


def register_sources(db_path, course_id, sources):
    """Make sure every assignment, notebook, grade cell and answer cell exists in the gradebook.

    sources: {(assignment, notebook stem): source notebook dict}.
    """
    from nbgrader.api import Gradebook
    with Gradebook(_db_url(db_path), course_id=course_id) as gb:
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


def write_results(db_path, course_id, results, expected_fingerprint=None):
    """Store scores: auto scores for tests, nothing for written answers (manual grading)."""
    from nbgrader.api import Gradebook, MissingEntry
    if expected_fingerprint is not None and fingerprint(db_path) != expected_fingerprint:
        raise GradebookTampered(f"{db_path} changed while submissions were being graded; "
                                "nothing was written. Grade again.")
    with warnings.catch_warnings(), Gradebook(_db_url(db_path), course_id=course_id) as gb:
        # nbgrader's own SQLAlchemy usage warns on add_submission; the data is written correctly.
        warnings.simplefilter("ignore")
        for result in results:
            gb.update_or_create_student(result.student)
            try:
                gb.find_submission(result.assignment, result.student)
            except MissingEntry:
                gb.add_submission(result.assignment, result.student)
            for cell in result.cells:
                grade = gb.find_grade(cell.grade_id, result.notebook, result.assignment, result.student)
                if cell.status == "manual":
                    grade.auto_score = None
                else:
                    grade.auto_score = cell.points
            gb.db.commit()


def write_autograded_copy(work_dir, result, submission_text):
    """Keep the graded submission (and its results) where formgrader looks for it."""
    folder = Path(work_dir) / "autograded" / result.student / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{result.notebook}.ipynb").write_text(submission_text)
    (folder / f"{result.notebook}.grading.json").write_text(json.dumps(result.to_dict(), indent=1))
