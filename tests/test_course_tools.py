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
    assert bootstrap.job_command("test", [])[1:3] == ["-m", "pytest"]
    assert "--nbval" in bootstrap.job_command("test", [])
    with pytest.raises(SystemExit, match="unknown job 'deploy'"):
        bootstrap.job_command("deploy", [])


def test_readme_commands_are_the_bootstrap_jobs():
    readme = (bootstrap.ROOT / "README.md").read_text()
    assert "python3 -m cs231n_lib.bootstrap demo" in readme
    assert "python3 -m cs231n_lib.bootstrap test" in readme
    ci = (bootstrap.ROOT / ".ci" / "run").read_text()
    assert "python3 -m cs231n_lib.bootstrap test" in ci
