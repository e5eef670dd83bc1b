"""Run nbgrader's autograder on submissions in a course folder and read the scores back.

Used by the tests (solution earns full points, untouched release earns 0, each known mistake
loses its exercise's points) and by the course CLI. nbgrader runs in this process through its
Python API, so its ~2 s import is paid once, not once per submission.
"""
import copy
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .release import ReleaseError, load_config


@dataclass
class NotebookScore:
    """One graded notebook: total and per grade cell (grade_id -> (auto_score, max_score))."""
    score: float
    max_score: float
    needs_manual_grade: bool
    cells: dict = field(default_factory=dict)


class Course:
    """A scratch nbgrader course (its own root and gradebook) built from the repo's solutions."""

    def __init__(self, root, source_root=paths.ROOT, assignments=None):
        self.root = Path(root)
        self.source_root = Path(source_root)
        names = list(assignments) if assignments else paths.assignments(source_root)
        for name in names:
            shutil.copytree(self.source_root / "solutions" / name, self.root / "solutions" / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.png"),
                            dirs_exist_ok=True)
        self.config = copy.deepcopy(load_config(source_root))
        self.config.CourseDirectory.root = str(self.root)
        self.config.CourseDirectory.db_url = f"sqlite:///{self.root / '.course' / 'gradebook.db'}"
        (self.root / ".course").mkdir(parents=True, exist_ok=True)
        self.api = _make_api(self.config)
        for name in names:
            result = self.api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise ReleaseError(f"could not set up {name}: {result.get('error', '')}")
        self.assignments = names

    def submission_path(self, assignment, student, notebook_file):
        return self.root / ".course" / "submitted" / student / assignment / notebook_file

    def submit(self, assignment, student, notebook_file, notebook):
        """Place a submission (a notebook dict, or raw text for corrupt files)."""
        path = self.submission_path(assignment, student, notebook_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notebook if isinstance(notebook, str) else json.dumps(notebook))
        (path.parent / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
        return path

    def autograde(self, assignment, student):
        """Grade one student's submission; returns nbgrader's result dict (success, log, error)."""
        return self.api.autograde(assignment, student, force=True, create=True)

    def scores(self, assignment, student):
        """The student's per-notebook scores from the gradebook."""
        from nbgrader.api import Gradebook, MissingEntry
        results = {}
        with Gradebook(self.config.CourseDirectory.db_url,
                       course_id=self.config.CourseDirectory.course_id) as gb:
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                return results
            for nb in submission.notebooks:
                cells = {g.name: (g.auto_score, g.max_score) for g in nb.grades}
                results[nb.name] = NotebookScore(nb.score, nb.max_score, nb.needs_manual_grade, cells)
        return results


def _make_api(config):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
