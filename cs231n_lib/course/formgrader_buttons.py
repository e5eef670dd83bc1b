"""A Jupyter server extension: formgrader's Autograde and Generate Feedback buttons run the
course's grader and feedback pages instead of nbgrader's.

nbgrader's own Autograde would re-run the student's notebook in one kernel (trusting its test
cells, overwriting the course's graded copy and scores), and its Generate Feedback would
overwrite the course's feedback pages at the same path. This extension answers the same URLs
first (same JSON replies, so formgrader's buttons work unchanged):

  POST formgrader/api/submission/<assignment>/<student>/autograde
  POST formgrader/api/assignment/<assignment>/generate_feedback
  POST formgrader/api/assignment/<assignment>/<student>/generate_feedback

Enabled only in the instructor lab (jupyter/instructor/jupyter_server_config.json).
"""
import asyncio
import json
import shutil
import tempfile
from pathlib import Path

from jupyter_server.utils import url_path_join
from tornado import web


def _work_dir(coursedir):
    """The course work folder: where formgrader's gradebook lives."""
    url = coursedir.db_url
    if not url.startswith("sqlite:///"):
        raise ValueError(f"the course keeps its gradebook in SQLite; got {url}")
    return Path(url[len("sqlite:///"):]).parent


def autograde(coursedir, assignment, student):
    """Grade one student's submitted assignment with the course grader; nbgrader's reply shape."""
    from . import pipeline
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    notebooks = sorted(submitted.glob("*.ipynb"))
    if not notebooks:
        return {"success": False, "error": f"no submitted notebooks in {submitted}", "log": ""}
    with tempfile.TemporaryDirectory(prefix="course-autograde-") as scratch:
        target = Path(scratch) / student / assignment
        target.mkdir(parents=True)
        for nb in notebooks:
            shutil.copy2(nb, target / nb.name)
        report = pipeline.grade_folder(scratch, _work_dir(coursedir), root=coursedir.root,
                                       names=[assignment])
    log = pipeline.format_table(report.results)
    if not report.ok:
        problems = [u.reason for u in report.unmatched] + [r.error for r in report.ungraded]
        return {"success": False, "error": "; ".join(problems), "log": log}
    return {"success": True, "log": log}


def generate_feedback(coursedir, assignment, student=None):
    from . import pipeline
    work = _work_dir(coursedir)
    written = pipeline.write_all_feedback(work, root=coursedir.root,
                                          out_dir=Path(coursedir.format_path(
                                              coursedir.feedback_directory, ".", ".")),
                                          assignments=[assignment],
                                          students=[student] if student else None)
    return {"success": bool(written),
            "log": "\n".join(str(p) for p in written) or "nothing graded to give feedback on"}


def _handlers():
    from nbgrader.server_extensions.formgrader.base import (BaseApiHandler, check_notebook_dir,
                                                            check_xsrf)

    class Autograde(BaseApiHandler):
        @web.authenticated
        @check_xsrf
        @check_notebook_dir
        async def post(self, assignment_id, student_id):
            reply = await asyncio.to_thread(_safe, autograde, self.coursedir, assignment_id, student_id)
            self.write(json.dumps(reply))

    class Feedback(BaseApiHandler):
        @web.authenticated
        @check_xsrf
        @check_notebook_dir
        async def post(self, assignment_id, student_id=None):
            reply = await asyncio.to_thread(_safe, generate_feedback, self.coursedir,
                                            assignment_id, student_id)
            self.write(json.dumps(reply))

    return [(r"/formgrader/api/submission/([^/]+)/([^/]+)/autograde", Autograde),
            (r"/formgrader/api/assignment/([^/]+)/generate_feedback", Feedback),
            (r"/formgrader/api/assignment/([^/]+)/([^/]+)/generate_feedback", Feedback)]


def _safe(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # shown in formgrader's error dialog instead of an HTTP 500
        return {"success": False, "error": f"{type(exc).__name__}: {exc}", "log": ""}


def _jupyter_server_extension_points():
    return [{"module": "cs231n_lib.course.formgrader_buttons"}]


def _load_jupyter_server_extension(server_app):
    web_app = server_app.web_app
    base = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [(url_path_join(base, pattern), handler)
                                 for pattern, handler in _handlers()])
    # Tornado tries host rules in order and the first that matches the path wins: move ours
    # (just inserted before the catch-all) in front of formgrader's, whatever the load order.
    rules = web_app.default_router.rules
    rules.insert(0, rules.pop(len(rules) - 2))
    server_app.log.info("course: formgrader's Autograde and Generate Feedback run the course grader")
