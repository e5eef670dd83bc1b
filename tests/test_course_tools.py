"""Release audit, notebook authoring and the venv bootstrap (no notebook execution)."""
import copy

import pytest

from cs231n_lib import bootstrap
from cs231n_lib.course import release
from cs231n_lib.course.authoring import NotebookBuilder


def _source():
    nb = NotebookBuilder("t")
    nb.setup("import numpy as np")
    nb.answer("f", "def f(x):\n    ### BEGIN SOLUTION\n    return np.sqrt(np.abs(x)) * 2.0\n    ### END SOLUTION")
    nb.tests("test_f", 'check("f", f)\n### BEGIN HIDDEN TESTS\ncheck("f", f, hidden=True)\n### END HIDDEN TESTS', 1)
    return nb.notebook()


def _release_of(source):
    rel = copy.deepcopy(source)
    rel["cells"][1]["source"] = "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    rel["cells"][2]["source"] = 'check("f", f)'
    return rel


def test_clean_release_passes_the_audit():
    source = _source()
    assert release.audit_release(_release_of(source), source, "t") == []


@pytest.mark.parametrize("leak,expected", [
    (lambda rel: rel["cells"][1].update(source="def f(x):\n    return np.sqrt(np.abs(x)) * 2.0"), "leaked"),
    (lambda rel: rel["cells"][2].update(source='check("f", f)\n### BEGIN HIDDEN TESTS\nx'), "BEGIN HIDDEN TESTS"),
    (lambda rel: rel["cells"][0].update(outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}]), "outputs"),
])
def test_unsafe_release_is_refused(leak, expected):
    source = _source()
    rel = _release_of(source)
    leak(rel)
    problems = release.audit_release(rel, source, "t")
    assert problems and expected in " ".join(problems)


def test_builder_rejects_duplicate_ids_and_answers_without_solution():
    nb = NotebookBuilder("t")
    nb.code("x = 1", cell_id="a")
    with pytest.raises(ValueError, match="used twice"):
        nb.code("x = 2", cell_id="a")
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        nb.answer("g", "def g(): pass")


def test_builder_marks_claims_and_roles():
    nb = NotebookBuilder("t")
    cell = nb.experiment("print(1)", claims=("G1", "G8"))
    assert cell.source.startswith("# claims: G1, G8")
    assert cell.metadata["course"]["role"] == "experiment" and "experiment" in cell.metadata["tags"]


def test_bootstrap_knows_its_jobs_and_rejects_others():
    command, _ = bootstrap.job_command("test", [])
    assert command[1:3] == ["-m", "pytest"] and "--nbval" in command
    with pytest.raises(SystemExit, match="unknown job 'deploy'"):
        bootstrap.job_command("deploy", [])


def test_readme_commands_are_the_bootstrap_jobs():
    readme = (bootstrap.ROOT / "README.md").read_text()
    assert "python3 -m cs231n_lib.bootstrap demo" in readme
    assert "python3 -m cs231n_lib.bootstrap test" in readme
    ci = (bootstrap.ROOT / ".ci" / "run").read_text()
    assert "python3 -m cs231n_lib.bootstrap test" in ci


def test_student_lab_has_no_instructor_tools_and_instructor_lab_has_formgrader(monkeypatch):
    import json
    monkeypatch.setattr(bootstrap.os, "geteuid", lambda: 1000)
    command, env = bootstrap.job_command("lab", ["--port", "9000"])
    assert command[-2:] == ["--port", "9000"] and "--allow-root" not in command
    assert "--ServerApp.root_dir=notebooks" in command
    student = bootstrap.ROOT / "jupyter" / "student"
    assert env["JUPYTER_CONFIG_PATH"].split(bootstrap.os.pathsep)[0] == str(student)
    server = json.loads((student / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert not server["nbgrader.server_extensions.formgrader"]
    assert not server["nbgrader.server_extensions.course_list"]          # "Error fetching courses!"
    disabled = json.loads((student / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert disabled["@jupyter/nbgrader:formgrader"] and disabled["@jupyter/nbgrader:create-assignment"]

    command, env = bootstrap.job_command("lab", ["--instructor", "--work-dir", "build/demo/work"])
    assert "--instructor" not in command and "--ServerApp.root_dir=notebooks" not in command
    assert env["COURSE_WORK_DIR"].endswith("build/demo/work")
    instructor = bootstrap.ROOT / "jupyter" / "instructor"
    server = json.loads((instructor / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert server["nbgrader.server_extensions.formgrader"] and server["cs231n_lib.course.formgrader_buttons"]


def test_lab_as_root_passes_allow_root_and_make_forwards_arguments(monkeypatch):
    import shutil
    import subprocess
    monkeypatch.setattr(bootstrap.os, "geteuid", lambda: 0)
    assert "--allow-root" in bootstrap.job_command("lab", [])[0]
    assert bootstrap.job_command("lab", ["--allow-root"])[0].count("--allow-root") == 1
    if shutil.which("make"):
        dry = subprocess.run(["make", "-n", "lab", "ARGS=--port 9000"], cwd=bootstrap.ROOT,
                             capture_output=True, text=True, check=True).stdout
        assert "cs231n_lib.bootstrap lab --port 9000" in dry


def test_grading_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    import io
    from cs231n_lib.course.grader import CellResult, NotebookResult
    from cs231n_lib.course.pipeline import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    result = NotebookResult("ada", "01_x", "x", cells=[CellResult("t", 1.0, 2.0, "failed")], seconds=0.5)
    for stream in (io.StringIO(), Terminal()):
        progress = Progress(3, stream=stream)
        progress(result)
        progress(result)
        progress.close()
        out = stream.getvalue()
        if stream.isatty():   # tqdm: count, rate and estimate
            assert "2/3" in out and "nb/s" in out and "<" in out and "ada 01_x/x: 1/2" in out
        else:
            lines = out.splitlines()
            assert lines[0].startswith("[1/3] graded ada 01_x/x: 1/2 (0.5 s); ")
            assert lines[1].startswith("[2/3] graded") and "s left" in lines[1] and "/min" in lines[1]
