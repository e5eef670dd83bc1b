"""Every assignment end to end: release in sync, release runs, nbgrader grades it right.

One test class per assignment (made below), so `pytest -n 2 --dist loadscope` keeps each
assignment's work on one worker while different assignments run in parallel.
The solutions themselves are executed by nbval (`pytest --nbval solutions`).
"""
import json
import re

import pytest

from cs231n_lib import grading
from cs231n_lib.course import batch, paths, variants
from cs231n_lib.course.autograde import Course
from cs231n_lib.course.execute import execute_notebook
from cs231n_lib.course.release import generate_release

ASSIGNMENTS = paths.assignments()
EXPECTED_ASSIGNMENTS = [
    "01_gradient_checking", "02_sanity_checks", "03_monitoring", "04_optimizers",
    "05_weight_initialization", "06_batch_normalization", "07_regularization",
    "08_hyperparameter_search", "09_babysitting",
]
CLAIMS = {
    "01": [f"G{i}" for i in range(1, 12)],
    "02": ["P1", "P2", "S1", "S2", "S3", "S4"],
    "03": [f"M{i}" for i in range(1, 9)],
    "04": [f"O{i}" for i in range(1, 11)],
    "05": [f"I{i}" for i in range(1, 9)],
    "06": [f"B{i}" for i in range(1, 6)],
    "07": [f"R{i}" for i in range(1, 6)],
    "08": [f"H{i}" for i in range(1, 9)],
    "09": [f"E{i}" for i in range(1, 6)],
}

# `claim: G4` or `claims: G1, G8` in a code comment or markdown (e.g. <!-- claims: ... -->).
CLAIM_MARK = re.compile(r"claims?:\s*([A-Z]\d+(?:\s*,\s*[A-Z]\d+)*)")


def test_course_has_the_eight_lecture_notebooks():
    assert ASSIGNMENTS == EXPECTED_ASSIGNMENTS


def _read(path):
    return json.loads(path.read_text())


def _error_outputs(nb):
    """(cell, error output) pairs of an executed notebook."""
    return [(cell, out) for cell in nb["cells"] if cell["cell_type"] == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def _mistake_submissions(assignment, solution_nb):
    """Submissions that each plant one known mistake per exercise (the k-th of each).

    Returns {student: (notebook, {test_cell_grade_id: mistake label})}.
    """
    exercises = [grading.get_exercise(n) for n in grading.exercise_names(notebook=assignment)]
    rounds = max((len(ex.mistakes) for ex in exercises), default=0)
    submissions = {}
    for k in range(rounds):
        nb, targets = variants.without_experiments(solution_nb), {}
        for ex in exercises:
            if k >= len(ex.mistakes):
                continue
            variants.plant_mistake(nb, ex, ex.mistakes[k])
            targets[ex.test_cell] = ex.mistakes[k].label
        submissions[f"mistakes{k + 1}"] = (nb, targets)
    return submissions


class _AssignmentChecks:
    assignment = ""

    @property
    def solution_files(self):
        return sorted((paths.SOLUTIONS / self.assignment).glob("*.ipynb"))

    def test_claims_are_marked(self):
        marked = set()
        for path in self.solution_files:
            for cell in _read(path)["cells"]:
                for ids in CLAIM_MARK.findall("".join(cell["source"])):
                    marked.update(re.findall(r"[A-Z]\d+", ids))
        missing = [c for c in CLAIMS[self.assignment[:2]] if c not in marked]
        assert not missing, f"{self.assignment}: claims not marked with 'claim: ID': {missing}"

    def test_solution_is_committed_executed(self):
        for path in self.solution_files:
            nb = _read(path)
            code = [c for c in nb["cells"] if c["cell_type"] == "code"]
            assert all(c.get("execution_count") for c in code), f"{path.name}: run `course run-solutions`"
            assert not _error_outputs(nb), f"{path.name}: stored outputs contain an error"

    def test_release_is_in_sync_with_solutions(self, tmp_path):
        generate_release(names=[self.assignment], output_root=tmp_path)
        for fresh in sorted((tmp_path / "notebooks" / self.assignment).glob("*.ipynb")):
            committed = paths.NOTEBOOKS / self.assignment / fresh.name
            assert committed.exists(), f"{committed} missing: run `python3 -m cs231n_lib.bootstrap release`"
            assert _read(fresh) == _read(committed), (
                f"{committed} is out of sync with solutions/: run `python3 -m cs231n_lib.bootstrap release`")

    @pytest.mark.slow
    def test_solution_passes_nbgrader_validate(self, tmp_path):
        """nbgrader's own validator: every test cell of the solution passes (experiments are
        removed first; the full solution is executed by nbval)."""
        from nbgrader.validator import Validator
        for path in self.solution_files:
            copy = tmp_path / path.name
            copy.write_text(json.dumps(variants.without_experiments(_read(path))))
            results = Validator(ignore_checksums=True).validate(str(copy))
            assert not results.get("failed") and not results.get("type_changed"), results

    @pytest.mark.slow
    def test_release_runs_with_only_not_implemented_errors(self, tmp_path):
        # The English release; a translated edition has the same code (tests/test_translations.py).
        for path in sorted((paths.NOTEBOOKS / self.assignment).glob("*.ipynb")):
            if len(path.suffixes) > 1:
                continue
            copy = tmp_path / path.name
            copy.write_text(path.read_text())
            nb, _ = execute_notebook(copy, timeout=120, allow_errors=True, save=False)
            other = [(c.get("id"), o["ename"]) for c, o in _error_outputs(nb)
                     if o["ename"] not in ("NotImplementedError", "NotImplementedYet")]
            assert not other, f"{path.name}: errors other than NotImplementedError: {other}"

    @pytest.mark.slow
    def test_autograde_scores(self, tmp_path):
        """Solution: full points. Untouched release: 0. Each known mistake: loses its cell, named."""
        course = Course(tmp_path, assignments=[self.assignment])
        for path in self.solution_files:
            solution = _read(path)
            release = _read(paths.NOTEBOOKS / self.assignment / path.name)
            students = {"solution": (variants.without_experiments(solution), {}),
                        "release": (release, None)}
            students.update(_mistake_submissions(self.assignment, solution))
            for student, (nb, _) in students.items():
                course.submit(self.assignment, student, path.name, nb)
                result = course.autograde(self.assignment, student)
                assert result["success"], f"{student}: autograde failed:\n{result.get('log')}"
            for student, (nb, targets) in students.items():
                score = course.scores(self.assignment, student)[path.stem]
                graded = {cid: s for cid, s in score.cells.items() if cid.startswith("test_")}
                assert graded, f"{path.name} has no test_* grade cells"
                if student == "solution":
                    lost = {c: s for c, s in graded.items() if s[0] != s[1]}
                    assert not lost, f"the solution lost points: {lost}"
                elif student == "release":
                    assert sum(s[0] for s in graded.values()) == 0, f"release earned points: {graded}"
                else:
                    self._assert_mistakes_caught(course, student, path.name, graded, targets)

    @pytest.mark.slow
    def test_course_grader_scores(self):
        """The out-of-kernel grader agrees: solution full, release 0, each mistake caught."""
        for path in self.solution_files:
            solution = _read(path)
            release = _read(paths.NOTEBOOKS / self.assignment / path.name)
            cases = {"solution": (variants.without_experiments(solution), {}), "release": (release, None)}
            cases.update(_mistake_submissions(self.assignment, solution))
            tripwires = batch.tripwires_for(self.assignment)
            for student, (nb, targets) in cases.items():
                task = batch.Task(student, self.assignment, path.stem, solution, json.dumps(nb),
                                  tripwires, [str(paths.SOLUTIONS)], {"timeout": 60})
                result = batch.grade_task(task)
                auto = {c.grade_id: c for c in result.cells if c.status != "manual"}
                assert result.graded, result.error
                if student == "solution":
                    lost = {g: c.message for g, c in auto.items() if c.points != c.max_points}
                    assert not lost, f"the solution lost points: {lost}"
                elif student == "release":
                    assert sum(c.points for c in auto.values()) == 0
                else:
                    for cell_id, label in targets.items():
                        assert auto[cell_id].points == 0, f"{student}: {cell_id} kept its points"
                        assert label in auto[cell_id].message, (
                            f"{student}: {cell_id} does not name {label!r}: {auto[cell_id].message}")

    def _assert_mistakes_caught(self, course, student, file_name, graded, targets):
        autograded = course.root / ".course" / "autograded" / student / self.assignment / file_name
        nb = _read(autograded)
        messages = {c["metadata"]["nbgrader"]["grade_id"]: "\n".join(
            o.get("evalue", "") + "".join(o.get("traceback", [])) for o in c.get("outputs", []))
            for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")}
        for cell_id, label in targets.items():
            assert graded[cell_id][0] == 0, f"{student}: {cell_id} kept points with mistake {label!r}"
            assert label in messages[cell_id], (
                f"{student}: the message of {cell_id} does not name {label!r}:\n{messages[cell_id]}")


for _name in ASSIGNMENTS:
    globals()[f"Test_{_name}"] = type(f"Test_{_name}", (_AssignmentChecks,), {"assignment": _name})
