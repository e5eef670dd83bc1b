"""The out-of-kernel grader on bad and adversarial submissions (fixture course, fast).

Each case asserts the score is the one the source's checks give for the honest parts, that the
problem is reported, and that nothing else is affected.
"""
import copy
import json
import os
import sqlite3

import pytest

from cs231n_lib.course import batch, grader, sandbox, variants
from fixture_course import ASSIGNMENT, NOTEBOOK, build_course

FULL = {"test_rel_error": 2.0, "test_sgd_momentum": 2.0, "test_scaled_normal": 1.0, "why": 0.0}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    source = build_course(root)
    library = sandbox.LibraryCopy(tripwires=batch.tripwires_for(ASSIGNMENT))
    yield root, source, library
    library.cleanup()


def grade(course, nb, timeout=5.0, memory_gb=2.0):
    root, source, library = course
    text = nb if isinstance(nb, str) else json.dumps(nb)
    limits = sandbox.Limits(timeout=timeout, memory_bytes=int(memory_gb * 2**30))
    return grader.grade_notebook(source, text, student="s", assignment=ASSIGNMENT, notebook=NOTEBOOK,
                                 library=library, limits=limits, hide=[root / "solutions"])


def points(result):
    return {c.grade_id: c.points for c in result.cells}


def message(result, cell):
    return next(c.message for c in result.cells if c.grade_id == cell)


def with_answer(course, cell, text):
    return variants.with_answer(course[1], cell, text)


def expect(result, **lost):
    want = dict(FULL)
    for cell in lost:
        want[cell] = 0.0
    assert result.graded, result.error
    assert points(result) == want, [(c.grade_id, c.status, c.message[:200]) for c in result.cells]


# ----------------------------------------------------------------------------- baseline

def test_solution_earns_full_points_and_experiments_are_skipped(course):
    result = grade(course, course[1])
    expect(result)  # the experiment cell sleeps 1000 s: it was not run
    assert result.cells[-1].status == "manual"


def test_release_earns_zero(course):
    release = copy.deepcopy(course[1])
    for name in ("rel_error", "sgd_momentum", "scaled_normal"):
        variants.find_cell(release, name)["source"] = f"def {name}(*args):\n    raise NotImplementedError()"
    result = grade(course, release)
    expect(result, test_rel_error=0, test_sgd_momentum=0, test_scaled_normal=0)
    assert message(result, "test_rel_error") == "rel_error is not implemented yet"


def test_known_mistake_is_named(course):
    result = grade(course, with_answer(course, "sgd_momentum", variants.implementation_source(
        __import__("fixture_course").momentum_sign_error, "sgd_momentum")))
    expect(result, test_sgd_momentum=0)
    assert "Known mistake: momentum sign error" in message(result, "test_sgd_momentum")


# ----------------------------------------------------------------------------- robustness

def test_infinite_loop_in_a_cell_times_out_and_other_cells_are_graded(course):
    result = grade(course, with_answer(course, "rel_error", "while True:\n    pass"), timeout=2)
    expect(result, test_rel_error=0)
    assert "did not finish within 2 s" in message(result, "test_rel_error")


def test_infinite_loop_inside_a_function_times_out(course):
    result = grade(course, with_answer(course, "rel_error", "def rel_error(a, b):\n    while True:\n        pass"),
                   timeout=2)
    expect(result, test_rel_error=0)
    assert "did not return within 2 s" in message(result, "test_rel_error")


@pytest.mark.parametrize("kill", ["import os\nos._exit(3)", "import ctypes\nctypes.string_at(0)"])
def test_killed_process_is_restarted_and_grading_goes_on(course, kill):
    result = grade(course, with_answer(course, "rel_error", kill))
    expect(result, test_rel_error=0)
    assert "ended the Python process" in message(result, "test_rel_error")
    assert any("restarted" in p for p in result.problems)


def test_kill_inside_a_function_call_only_costs_that_exercise(course):
    result = grade(course, with_answer(course, "rel_error", "import os\ndef rel_error(a, b):\n    os._exit(1)"))
    expect(result, test_rel_error=0)
    assert "ended the Python process" in message(result, "test_rel_error")


def test_huge_allocation_is_a_memory_error_not_an_oom(course):
    # Before the definition: an error after it would only be a note (see test_verdicts.py).
    source = "import numpy as np\nbig = np.ones(int(20e9) // 8)\n" + ANSWER_REL_ERROR
    result = grade(course, with_answer(course, "rel_error", source))
    expect(result, test_rel_error=0)
    assert "MemoryError" in message(result, "test_rel_error")


def test_huge_output_is_capped_in_bytes(course):
    source = "print('x' * 50_000_000)\n" + ANSWER_REL_ERROR
    result = grade(course, with_answer(course, "rel_error", source))
    expect(result)
    assert len(result.cell_outputs["rel_error"]) < 70_000
    assert "output truncated" in result.cell_outputs["rel_error"]


def test_sys_exit_is_reported(course):
    result = grade(course, with_answer(course, "rel_error", "import sys\nsys.exit(0)"))
    expect(result, test_rel_error=0)
    assert "sys.exit" in message(result, "test_rel_error")


def test_warnings_on_stderr_are_not_failures(course):
    source = "import warnings, sys\nwarnings.warn('careful')\nprint('oops', file=sys.stderr)\n" + ANSWER_REL_ERROR
    expect(grade(course, with_answer(course, "rel_error", source)))


def _test_cells(nb):
    return [c for c in nb["cells"] if variants.cell_role(c) == "tests"]


@pytest.mark.parametrize("tamper", ["deleted", "edited", "retyped", "duplicated", "reordered",
                                    "skip-tag", "points"])
def test_tampered_test_cells_change_nothing(course, tamper):
    nb = copy.deepcopy(course[1])
    tests = _test_cells(nb)
    if tamper == "deleted":
        nb["cells"] = [c for c in nb["cells"] if c not in tests]
    elif tamper == "edited":
        for cell in tests:
            cell["source"] = "pass"
    elif tamper == "retyped":
        for cell in tests:
            cell["cell_type"] = "markdown"
            cell.pop("outputs", None)
    elif tamper == "duplicated":
        nb["cells"] += copy.deepcopy(tests)
    elif tamper == "reordered":
        nb["cells"].reverse()
    elif tamper == "skip-tag":
        for cell in nb["cells"]:
            cell["metadata"]["tags"] = ["skip-execution", "raises-exception"]
            cell["metadata"]["editable"] = True
    elif tamper == "points":
        for cell in tests:
            cell["metadata"]["nbgrader"]["points"] = 100
    expect(grade(course, nb))


def test_points_come_from_the_source_even_for_a_wrong_answer(course):
    nb = with_answer(course, "rel_error", "def rel_error(a, b):\n    return 0.0")
    for cell in _test_cells(nb):
        cell["metadata"]["nbgrader"]["points"] = 100
    result = grade(course, nb)
    expect(result, test_rel_error=0)
    assert result.max_score == sum(FULL.values()) + 1  # +1: the written answer


def test_answer_cell_retyped_to_markdown_is_reported(course):
    nb = copy.deepcopy(course[1])
    variants.find_cell(nb, "rel_error")["cell_type"] = "markdown"
    result = grade(course, nb)
    expect(result, test_rel_error=0)
    assert any("changed to markdown" in p for p in result.problems)


@pytest.mark.parametrize("text,reason", [("{not json", "not valid notebook JSON"),
                                         ("", "empty"), ('{"a": 1}', "not a Jupyter notebook")])
def test_unreadable_submissions_are_not_graded_and_say_why(course, text, reason):
    result = grade(course, text)
    assert not result.graded and reason in result.error
    assert result.score == 0


def test_student_added_helper_cells_are_run(course):
    nb = copy.deepcopy(course[1])
    variants.find_cell(nb, "rel_error")["source"] = "def rel_error(a, b):\n    return my_helper(a, b)"
    helper = {"cell_type": "code", "id": "my-helper", "metadata": {}, "outputs": [],
              "execution_count": None, "source": ANSWER_REL_ERROR.replace("def rel_error", "def my_helper")}
    nb["cells"].insert(1, helper)
    expect(grade(course, nb))


ANSWER_REL_ERROR = '''def rel_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(d == 0, 0.0, np.abs(a - b) / np.where(d == 0, 1, d))))
'''
