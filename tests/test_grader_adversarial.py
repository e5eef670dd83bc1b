"""Adversarial submissions: each attack that fools in-kernel grading earns nothing here, and
the honest parts of the same submission are still graded."""
import os

import pytest

from cs231n_lib.course import sandbox
from test_grader import ANSWER_REL_ERROR, FULL, course, expect, grade, message, with_answer  # noqa: F401

WRONG = "def rel_error(a, b):\n    return 0.0\n"


@pytest.mark.parametrize("attack", [
    # an object whose __eq__ always returns True
    "class Liar(float):\n    def __eq__(self, other):\n        return True\n"
    "    __hash__ = float.__hash__\n"
    "def rel_error(a, b):\n    return Liar(0.0)\n",
    # an ndarray subclass that lies about equality and closeness
    "class LyingArray(np.ndarray):\n    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n"
    "    def __array_function__(self, *args, **kwargs):\n        return True\n"
    "def rel_error(a, b):\n    return np.zeros(1).view(LyingArray)\n",
    # an object that is not data at all
    "def rel_error(a, b):\n    return object()\n",
])
def test_lying_return_values_earn_nothing(course, attack):
    result = grade(course, with_answer(course, "rel_error", attack))
    expect(result, test_rel_error=0)


@pytest.mark.parametrize("patch", [
    "import numpy, numpy.testing\nnumpy.allclose = lambda *a, **k: True\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\n",
    "import builtins\nbuiltins.AssertionError = type('Never', (Exception,), {})\n"
    "builtins.abs = lambda x: 0\n",
    "import cs231n_lib.grading as g\ng.check = lambda *a, **k: None\n"
    "g.compare_outputs = lambda *a, **k: None\ng.max_relative_error = lambda *a, **k: (0.0, ())\n",
])
def test_monkeypatching_the_checkers_earns_nothing(course, patch):
    result = grade(course, with_answer(course, "rel_error", patch + WRONG))
    expect(result, test_rel_error=0)
    # The same patches next to an honest answer do not cost anything either.
    expect(grade(course, with_answer(course, "rel_error", patch + ANSWER_REL_ERROR)))


def test_input_transformer_that_rewrites_later_cells_earns_nothing(course):
    attack = ("try:\n    ip = get_ipython()\n"
              "    ip.input_transformers_post.append(lambda lines: [l for l in lines if 'assert' not in l])\n"
              "except NameError:\n    pass\n")
    result = grade(course, with_answer(course, "rel_error", attack + WRONG))
    expect(result, test_rel_error=0)


def test_reading_the_solutions_or_hidden_tests_from_disk_fails(course):
    root = course[0]
    solution = root / "solutions" / "99_fixture" / "fixture.ipynb"
    attack = (f"import json\ntry:\n    nb = json.load(open({str(solution)!r}))\n"
              "    exec([c['source'] for c in nb['cells'] if c['id'] == 'rel_error'][0])\n"
              f"except OSError as exc:\n    print('blocked:', type(exc).__name__)\n    {WRONG.replace(chr(10), chr(10) + '    ')}")
    result = grade(course, with_answer(course, "rel_error", attack))
    expect(result, test_rel_error=0)
    assert "blocked:" in result.cell_outputs["rel_error"]


@pytest.mark.skipif(not sandbox.probe().isolated,
                    reason="this machine allows no namespaces to isolate workers")
def test_writing_the_gradebook_from_a_cell_fails(course, tmp_path):
    db = tmp_path / "gradebook.db"
    import sqlite3
    sqlite3.connect(db).execute("create table grades (score real)").connection.commit()
    before = db.read_bytes()
    attack = (f"import sqlite3\ntry:\n    c = sqlite3.connect({str(db)!r})\n"
              "    c.execute('insert into grades values (100)'); c.commit()\n    print('WROTE')\n"
              "except Exception as exc:\n    print('blocked:', type(exc).__name__)\n") + ANSWER_REL_ERROR
    root, source, library = course
    from cs231n_lib.course import grader
    import json
    result = grader.grade_notebook(source, json.dumps(with_answer(course, "rel_error", attack)),
                                   student="s", assignment="99_fixture", notebook="fixture",
                                   library=library, limits=sandbox.Limits(timeout=5),
                                   hide=[root / "solutions", tmp_path])
    expect(result)
    assert "WROTE" not in result.cell_outputs["rel_error"]
    assert db.read_bytes() == before


def test_grading_run_cannot_be_detected_through_the_environment(course, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("COURSE_SECRET_TOKEN", "s3cret")
    attack = ("import os\nprint(sorted(k for k in os.environ))\n"
              "GRADING = any(k.startswith(('NBGRADER', 'COURSE_SECRET', 'PYTEST')) for k in os.environ)\n"
              "def rel_error(a, b):\n    return 0.0 if GRADING else 1.0\n")
    result = grade(course, with_answer(course, "rel_error", attack))
    output = result.cell_outputs["rel_error"]
    assert "NBGRADER_EXECUTION" not in output and "COURSE_SECRET_TOKEN" not in output
    assert "PYTEST" not in output
    expect(result, test_rel_error=0)  # whatever it detects, the answer is checked as it is


@pytest.mark.parametrize("delegate", [
    "from cs231n_lib.gradient_check import rel_error\n",
    "from cs231n_lib import gradient_check as gc\ndef rel_error(a, b):\n    return gc.rel_error(a, b)\n",
    "import importlib\ndef rel_error(a, b):\n"
    "    return getattr(importlib.import_module('cs231n_' + 'lib.gradient_check'), 'rel_' + 'error')(a, b)\n",
    "import inspect, cs231n_lib.gradient_check as gc\nsrc = inspect.getsource(gc)\n"
    "ns = {}\nexec(compile(src, 'copy', 'exec'), ns)\nrel_error = ns['rel_error']\n",
])
def test_delegating_to_the_reference_earns_nothing_and_is_reported(course, delegate):
    result = grade(course, with_answer(course, "rel_error", delegate))
    expect(result, test_rel_error=0)
    assert "reference implementation" in message(result, "test_rel_error")
    assert any("reference implementation" in p for p in result.problems)


def test_pasting_the_reference_source_is_reported_for_review(course):
    import inspect
    import textwrap
    from cs231n_lib import optim
    pasted = textwrap.dedent(inspect.getsource(optim.sgd_momentum))
    pasted = "from cs231n_lib.optim import _start, _keep_dtype\n" + pasted
    result = grade(course, with_answer(course, "sgd_momentum", pasted))
    assert any("identical to the reference implementation" in p for p in result.problems)


def test_honest_solution_is_not_flagged(course):
    result = grade(course, course[1])
    expect(result)
    assert not any("reference" in p for p in result.problems)


ISOLATED = pytest.mark.skipif(not sandbox.probe().isolated,
                              reason="this machine allows no namespaces to isolate workers")


@ISOLATED
def test_the_shared_library_copy_cannot_be_rewritten_for_later_students(course):
    # Every worker of a grading process imports the same trip-wired copy: it is read-only.
    attack = ("import cs231n_lib.grading as g, cs231n_lib.gradient_check as gc\ntry:\n"
              "    for m in (g, gc):\n        open(m.__file__, 'a').write('\\n# changed')\n"
              "    print('WROTE')\nexcept OSError as exc:\n    print('blocked:', exc.strerror)\n")
    result = grade(course, with_answer(course, "rel_error", attack + ANSWER_REL_ERROR))
    expect(result)
    # Root's workers run as nobody (permission denied); an ordinary user's hit the read-only bind.
    output = result.cell_outputs["rel_error"]
    assert "WROTE" not in output and ("Read-only" in output or "Permission denied" in output)
    assert "# changed" not in open(course[2].dir / "cs231n_lib" / "grading.py").read()


@pytest.mark.skipif("pid" not in sandbox.probe().namespaces,
                    reason="needs a PID namespace (kill(-1) would reach the machine)")
def test_signalling_every_process_reaches_only_the_worker_itself(course):
    # kill(-1) sends to every process the caller may signal: in its PID namespace, none but
    # its own init (exempt). The pid check keeps this from ever running outside one.
    attack = ("import os, signal\nif os.getpid() < 10:\n    try:\n"
              "        os.kill(-1, signal.SIGKILL)\n    except ProcessLookupError:\n"
              "        print('no process to signal')\n    os.kill(0, signal.SIGKILL)\n")
    result = grade(course, with_answer(course, "rel_error", attack + ANSWER_REL_ERROR))
    # kill(0) killed the worker's own process group: that cell is lost, the rest is graded.
    expect(result, test_rel_error=0)
    assert "ended the Python process" in message(result, "test_rel_error")
