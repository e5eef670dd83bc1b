"""Build nbgrader source notebooks from Python: every cell gets the right nbgrader metadata.

An instructor (or a script) writes a solution notebook as a list of cells::

    nb = NotebookBuilder("01 Gradient checking")
    nb.markdown("# 01 Gradient checking ...")
    nb.setup("import numpy as np ...")                       # read-only, runs when grading
    nb.answer("rel_error", "def rel_error(a, b): ...")        # graded answer (solution inside)
    nb.tests("rel_error", 'check("rel_error", rel_error)', points=2)
    nb.experiment("...plots...", claims=("G1",))             # skipped by the fast grader
    nb.written("why_centered", points=2, prompt="...", answer="...")
    nb.save("solutions/01_gradient_checking/gradient_checking.ipynb")

Cell roles are recorded in ``metadata.course.role`` of the *source* notebook; the grader
trusts only the source's metadata, never a submission's.
"""
import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NBGRADER_SCHEMA = 3
_ID_OK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _nbgrader(grade_id, *, grade, solution, locked, points=None):
    meta = {"grade": grade, "solution": solution, "locked": locked, "task": False,
            "grade_id": grade_id, "schema_version": NBGRADER_SCHEMA}
    if points is not None:
        meta["points"] = points
    return meta


class NotebookBuilder:
    """Accumulates the cells of one nbgrader source notebook."""

    def __init__(self, title):
        self.title = title
        self.cells = []
        self._ids = set()
        self._counter = 0

    def _new_id(self, prefix):
        self._counter += 1
        return f"{prefix}-{self._counter:02d}"

    def _add(self, cell, cell_id, role, claims=()):
        if not _ID_OK.match(cell_id):
            raise ValueError(f"cell id {cell_id!r} must be 1-64 letters, digits, '-' or '_'")
        if cell_id in self._ids:
            raise ValueError(f"cell id {cell_id!r} is used twice in {self.title!r}")
        self._ids.add(cell_id)
        cell.id = cell_id
        cell.metadata["course"] = {"role": role}
        if claims:
            cell.metadata["course"]["claims"] = list(claims)
        self.cells.append(cell)
        return cell

    def markdown(self, text, claims=()):
        """Explanation text: read-only in the release."""
        cell_id = self._new_id("md")
        text = text.strip("\n")
        if claims:
            text += f"\n\n<!-- claims: {', '.join(claims)} -->"
        cell = new_markdown_cell(text)
        cell.metadata["nbgrader"] = _nbgrader(cell_id, grade=False, solution=False, locked=True)
        return self._add(cell, cell_id, "markdown", claims)

    def setup(self, source, cell_id="setup"):
        """Imports and data loading: read-only, and always run when grading."""
        cell = new_code_cell(source.strip("\n"))
        cell.metadata["nbgrader"] = _nbgrader(cell_id, grade=False, solution=False, locked=True)
        return self._add(cell, cell_id, "setup")

    def answer(self, grade_id, source):
        """A graded answer cell; the part between BEGIN/END SOLUTION becomes a stub."""
        if "### BEGIN SOLUTION" not in source:
            raise ValueError(f"answer {grade_id!r} has no '### BEGIN SOLUTION' block")
        cell = new_code_cell(source.strip("\n"))
        cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=False, solution=True, locked=False)
        return self._add(cell, grade_id, "answer")

    def tests(self, grade_id, source, points):
        """A read-only grade cell with points (visible checks, optional hidden block)."""
        cell = new_code_cell(source.strip("\n"))
        cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=True, solution=False, locked=True,
                                              points=points)
        return self._add(cell, grade_id, "tests")

    def experiment(self, source, claims=(), cell_id=None):
        """A demonstration (plots, measurements): skipped by the fast grader."""
        cell_id = cell_id or self._new_id("exp")
        source = source.strip("\n")
        if claims:  # visible in the notebook, and what the claim-coverage test looks for
            source = f"# claims: {', '.join(claims)}\n{source}"
        cell = new_code_cell(source)
        cell.metadata["tags"] = ["experiment"]
        return self._add(cell, cell_id, "experiment", claims)

    def code(self, source, cell_id=None):
        """An ordinary code cell that later graded cells may depend on (always run)."""
        cell_id = cell_id or self._new_id("code")
        return self._add(new_code_cell(source.strip("\n")), cell_id, "code")

    def written(self, grade_id, points, prompt, answer):
        """A manually graded written question: the prompt, then a markdown answer cell."""
        self.markdown(prompt)
        cell = new_markdown_cell("### BEGIN SOLUTION\n" + answer.strip("\n") + "\n### END SOLUTION")
        cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=True, solution=True, locked=False,
                                              points=points)
        return self._add(cell, grade_id, "written")

    def notebook(self):
        nb = new_notebook(cells=list(self.cells))
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                     "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nb.metadata["course"] = {"title": self.title}
        return nb

    def save(self, path):
        nb = self.notebook()
        nbformat.validate(nb)
        nbformat.write(nb, str(path))
        return path
