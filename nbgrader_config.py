"""nbgrader settings of the course (nbgrader reads only this file, from the course root).

solutions/ is nbgrader's *source* step and notebooks/ its *release* step; everything made
while grading (submissions, autograded copies, feedback, the gradebook) lives in the
git-ignored .course/ folder.
"""
import os
import secrets

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

ROOT = os.path.dirname(os.path.abspath(__file__))
# COURSE_WORK_DIR: another work folder (e.g. the demo's build/demo/work), set by
# `python3 -m cs231n_lib.bootstrap lab --instructor --work-dir DIR` so formgrader opens it.
WORK = os.environ.get("COURSE_WORK_DIR") or os.path.join(ROOT, ".course")
os.makedirs(WORK, exist_ok=True)


def _skip_tag():
    """A per-installation secret: a student who tags a test cell `skip-execution` gains nothing."""
    path = os.path.join(WORK, "skip_tag")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write("skip-" + secrets.token_hex(16))
    with open(path) as fh:
        return fh.read().strip()


c.CourseDirectory.root = ROOT
_WORK_REL = os.path.relpath(WORK, ROOT)  # nbgrader joins (and regex-matches) steps under root
c.CourseDirectory.course_id = "training-neural-networks"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join(_WORK_REL, "submitted")
c.CourseDirectory.autograded_directory = os.path.join(_WORK_REL, "autograded")
c.CourseDirectory.feedback_directory = os.path.join(_WORK_REL, "feedback")
c.CourseDirectory.solution_directory = os.path.join(_WORK_REL, "solution")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(WORK, "gradebook.db")
# The release is notebooks/ (in git); `course grade` mirrors it into this exchange's outbound/
# so formgrader lists assignments as released. Students never use the exchange.
c.Exchange.root = os.path.join(WORK, "exchange")
# Only notebooks are part of an assignment; ignore editor and cache clutter.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.png"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

c.ExecutePreprocessor.timeout = 120                     # seconds per cell
c.ExecutePreprocessor.skip_cells_with_tag = _skip_tag()  # defeats student-added skip tags
c.OverwriteCells.add_missing_cells = True               # a deleted test cell is restored, not lost
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",  # never show hidden test code to students
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
