"""Fairness: unusual correct answers earn full points, plausible wrong ones earn none.

The answers live in tests/fairness/nbNN.py as answer-cell sources (one module per notebook).
Submissions are the solution notebooks with answer cells replaced; all of them are graded in
one `grade_folder` call (the real `course grade` path: sandboxed workers, bridge, hidden
cases), with two jobs. Student folders:

- correct<k>: the k-th correct answer of every answer cell; every test cell earns its points.
- wrong<k>-<g>: the k-th wrong answer of a group g of answer cells that no test cell shares;
  the test cells depending on them earn 0 with a message naming the function, the others
  earn their points (so each wrong answer is graded beside correct ones).
- mech<k>-<g>: correct answers that depend on the grader accepting any value (namedtuple or
  dataclass caches) or grading an answer cell that fails after its definitions;
  mechwrong<k>-<g>: wrong answers only the deep in-place-change checks catch (arrays inside
  dicts).
"""
import ast
import importlib
import json

import pytest

from cs231n_lib import grading
from cs231n_lib.course import paths, pipeline
from cs231n_lib.course.grader import check_calls
from cs231n_lib.course.variants import cell_role, grade_id, source_text, with_answer

pytestmark = pytest.mark.slow  # one grade_folder run of ~50 submissions (jobs=2)

MODULES = ["nb01", "nb02", "nb03", "nb04", "nb05", "nb06", "nb07", "nb08"]
ANSWERS = {name: importlib.import_module(f"fairness.{name}") for name in MODULES}


def _solution(module):
    path = next((paths.SOLUTIONS / module.NOTEBOOK).glob("*.ipynb"))
    return path, json.loads(path.read_text())


def _defined_functions(source):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def dependencies(nb):
    """{test cell grade_id: (answer cells it depends on, function names it checks, answer
    cells of its exercises)}: test_batchnorm_backward depends on the forward's cell too, but
    its own answer cell is batchnorm_backward's."""
    defined_in = {}
    for cell in nb["cells"]:
        if cell_role(cell) == "answer":
            for name in _defined_functions(source_text(cell)):
                defined_in[name] = grade_id(cell)
    deps = {}
    for cell in nb["cells"]:
        if cell_role(cell) == "tests":
            calls = check_calls(source_text(cell))
            names = [fn for _, fns in calls for fn in fns]
            own = {grading.get_exercise(name).answer_cell for name, _ in calls}
            deps[grade_id(cell)] = ({defined_in[n] for n in names if n in defined_in}, names, own)
    return deps


def _groups(cells, deps):
    """Split answer cells into groups where no test cell depends on two cells of one group."""
    groups = []
    for cell in cells:
        for group in groups:
            if not any(cell in needed and needed & group for needed, _, _ in deps.values()):
                group.add(cell)
                break
        else:
            groups.append({cell})
    return groups


def _expected(kind, replaced, needed, own):
    """'full', 'zero' or 'any' for a test cell after the answer cells `replaced` changed.

    A wrong answer must cost its own test cell; a test cell that also uses it (the backward
    check runs the student's forward) may or may not notice: a wrong running average, say,
    does not change the backward pass.
    """
    if kind not in ("wrong", "mechwrong") or not needed & replaced:
        return "full"
    return "zero" if own & replaced else "any"


def plan():
    """{(assignment, student): (notebook file name, notebook, {test cell: 'full'|'zero'}, kind)}."""
    submissions = {}
    for module in ANSWERS.values():
        path, solution = _solution(module)
        deps = dependencies(solution)

        def build(answers, kind, student):
            # Every other answer cell holds the first correct answer.
            nb = solution
            for cell, source in {**{c: v[0] for c, v in module.CORRECT.items()},
                                 **answers}.items():
                nb = with_answer(nb, cell, source)
            expect = {test: _expected(kind, set(answers), needed, own)
                      for test, (needed, _, own) in deps.items()}
            submissions[(module.NOTEBOOK, student)] = (path.name, nb, expect, kind)

        for k in range(2):
            build({cell: sources[k] for cell, sources in module.CORRECT.items()}, "correct",
                  f"correct{k + 1}")
        for k in range(3):
            cells = [cell for cell, sources in module.WRONG.items() if len(sources) > k]
            for g, group in enumerate(_groups(cells, deps), start=1):
                build({cell: module.WRONG[cell][k] for cell in group}, "wrong",
                      f"wrong{k + 1}-{g}")
        for kind, mech in (("mech", getattr(module, "NEEDS_MECHANISM", {})),
                           ("mechwrong", getattr(module, "WRONG_NEEDS_MECHANISM", {}))):
            for k in range(max((len(v) for v in mech.values()), default=0)):
                cells = [cell for cell, sources in mech.items() if len(sources) > k]
                # Correct answers go together (a forward and its backward share a cache).
                groups = _groups(cells, deps) if kind == "mechwrong" else [set(cells)]
                for g, group in enumerate(groups, start=1):
                    build({cell: mech[cell][k] for cell in group}, kind, f"{kind}{k + 1}-{g}")
    return submissions


PLAN = plan()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for (assignment, student), (file_name, nb, _, _) in PLAN.items():
        target = folder / student / assignment / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(nb))
    report = pipeline.grade_folder(folder, tmp_path_factory.mktemp("work"), jobs=2)
    assert not report.unmatched, report.unmatched
    return {(r.assignment, r.student): r for r in report.results}


def _params(kind):
    return [pytest.param(key, id=f"{key[0][:2]}-{key[1]}")
            for key, plan_entry in PLAN.items() if plan_entry[3] == kind]


def _cells(result):
    return {c.grade_id: c for c in result.cells if c.status != "manual"}


def _assert_full(result, tests):
    cells = _cells(result)
    lost = {t: cells[t].message[:400] for t in tests if cells[t].points != cells[t].max_points}
    assert not lost, f"{result.student} {result.assignment}: correct answers lost points: {lost}"


@pytest.mark.parametrize("key", _params("correct") + _params("mech"))
def test_unusual_correct_answers_earn_full_points(graded, key):
    result = graded[key]
    assert result.graded, result.error
    _assert_full(result, [t for t, want in PLAN[key][2].items() if want == "full"])


@pytest.mark.parametrize("key", _params("wrong") + _params("mechwrong"))
def test_plausible_wrong_answers_earn_nothing_and_are_named(graded, key):
    result = graded[key]
    assert result.graded, result.error
    expect, deps = PLAN[key][2], dependencies(PLAN[key][1])
    cells = _cells(result)
    for test, want in expect.items():
        cell = cells[test]
        if want == "full":
            assert cell.points == cell.max_points, (test, cell.message[:400])
        if want != "zero":
            continue
        assert cell.points == 0, f"{key}: a wrong answer earned points in {test}"
        names = deps[test][1]
        assert any(name in cell.message for name in names), (
            f"{key} {test}: the message does not name {names}:\n{cell.message[:400]}")


def test_every_graded_exercise_has_enough_answers():
    """At least two correct and three wrong answers for every answer cell with a test."""
    for name, module in ANSWERS.items():
        _, solution = _solution(module)
        tested = set().union(*(own for _, _, own in dependencies(solution).values()))
        for cell in tested:
            assert len(module.CORRECT.get(cell, [])) >= 2, f"{name}: {cell} needs 2 correct"
            assert len(module.WRONG.get(cell, [])) >= 3, f"{name}: {cell} needs 3 wrong"
