"""Instructor tooling: authoring, release, execution and grading on top of nbgrader.

Imported only by the `course` command and the tests; students never need it.
"""

import os
import sys


def _put_environment_on_path():
    # nbgrader runs helper programs (alembic) by name: make this interpreter's bin/ findable
    # even when the venv was not activated (`.venv/bin/course ...`).
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


_put_environment_on_path()
