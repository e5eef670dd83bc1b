"""One verdict: the notebook's check and the out-of-kernel grader agree on the same answers.

Answers are graded twice — in-process with grading.check (as a notebook's grade cell does) and
through the real grader (a sandboxed worker, the library copy with trip-wires) — on a small
course made of the real exercises of notebooks 06 and 07.
"""
import copy
import json

import numpy as np
import pytest

from cs231n_lib import boundary, grading
from cs231n_lib.course import batch, grader, sandbox, variants
from cs231n_lib.course.authoring import NotebookBuilder

ASSIGNMENT = "06_batch_normalization"

SETUP = """import sys
import numpy as np
from cs231n_lib.grading import check
from cs231n_lib.layers import batchnorm_forward as ref_batchnorm_forward
from cs231n_lib.losses import l2_penalty as ref_l2_penalty"""

BN_BODY = '''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(d, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(d, dtype=x.dtype))
    if bn_param["mode"] == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, {make}


def batchnorm_backward(dout, cache):
    x_hat, inv_std, gamma = cache.x_hat, cache.inv_std, cache.gamma
    n = dout.shape[0]
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    return gamma * inv_std / n * (n * dout - dbeta - x_hat * dgamma), dgamma, dbeta
'''

DROPOUT_BODY = '''
def dropout_forward(x, dropout_param):
    keep_prob = dropout_param["keep_prob"]
    if dropout_param["mode"] == "test" or keep_prob == 1:
        return x, {make_none}
    mask = np.random.default_rng(dropout_param.get("seed")).random(x.shape) < keep_prob
    return x * mask / keep_prob, {make}


def dropout_backward(dout, cache):
    if cache.mask is None:
        return dout
    return dout * cache.mask / cache.keep_prob
'''

CONTAINERS = {
    "namedtuple": ("from collections import namedtuple\n"
                   "Cache = namedtuple('Cache', 'x_hat inv_std gamma')\n"
                   "DCache = namedtuple('DCache', 'mask keep_prob')\n"),
    "dataclass": ("from dataclasses import dataclass\n"
                  "@dataclass\nclass Cache:\n    x_hat: np.ndarray\n    inv_std: np.ndarray\n"
                  "    gamma: np.ndarray\n\n"
                  "@dataclass\nclass DCache:\n    mask: object\n    keep_prob: float\n"),
    "SimpleNamespace": ("from types import SimpleNamespace\n"
                        "def Cache(x_hat, inv_std, gamma):\n"
                        "    return SimpleNamespace(x_hat=x_hat, inv_std=inv_std, gamma=gamma)\n"
                        "def DCache(mask, keep_prob):\n"
                        "    return SimpleNamespace(mask=mask, keep_prob=keep_prob)\n"),
}


def batchnorm_answer(container):
    return CONTAINERS[container] + BN_BODY.replace("{make}", "Cache(x_hat, inv_std, gamma)")


def dropout_answer(container):
    return CONTAINERS[container] + DROPOUT_BODY.replace(
        "{make_none}", "DCache(None, keep_prob)").replace("{make}", "DCache(mask, keep_prob)")


L2_ANSWER = '''def l2_penalty(params, reg):
    penalty, grads = 0.0, {}
    for name, value in params.items():
        if name.startswith("W"):
            penalty += 0.5 * reg * float(np.sum(value * value))
            grads[name] = reg * value
        else:
            grads[name] = np.zeros_like(value)
    return penalty, grads
'''

L2_MUTATING = '''def l2_penalty(params, reg):
    penalty, grads = 0.0, {}
    for name, value in params.items():
        if name.startswith("W"):
            penalty += 0.5 * reg * float(np.sum(value * value))
            value *= reg          # changes the caller's weights
            grads[name] = value
        else:
            grads[name] = np.zeros_like(value)
    return penalty, grads
'''

L2_DELEGATING = '''def l2_penalty(params, reg):
    return ref_l2_penalty(params, reg)
'''

FULL = {"test_batchnorm_forward": 2.0, "test_batchnorm_backward": 2.0, "test_dropout": 2.0,
        "test_l2_penalty": 1.0}


def _solution(text):
    return "### BEGIN SOLUTION\n" + text + "\n### END SOLUTION"


def build_source(parts=("batchnorm", "dropout", "l2")):
    """The mini course's source notebook with some of its exercises (fewer = faster tests)."""
    nb = NotebookBuilder("verdicts")
    nb.setup(SETUP)
    if "batchnorm" in parts:
        nb.answer("batchnorm_forward", _solution(batchnorm_answer("namedtuple")))
        nb.tests("test_batchnorm_forward", 'check("batchnorm_forward", batchnorm_forward)\n'
                 '### BEGIN HIDDEN TESTS\ncheck("batchnorm_forward", batchnorm_forward, '
                 'hidden=True)\n### END HIDDEN TESTS', points=2)
        nb.answer("batchnorm_backward", _solution("pass  # written with the forward pass"))
        nb.tests("test_batchnorm_backward",
                 'check("batchnorm_backward", batchnorm_forward, batchnorm_backward)', points=2)
    if "dropout" in parts:
        nb.answer("dropout", _solution(dropout_answer("namedtuple")))
        nb.tests("test_dropout", 'check("dropout", dropout_forward, dropout_backward)', points=2)
    if "l2" in parts:
        nb.answer("l2_penalty", _solution(L2_ANSWER))
        nb.tests("test_l2_penalty", 'check("l2_penalty", l2_penalty)', points=1)
    return json.loads(json.dumps(nb.notebook()))


@pytest.fixture(scope="module")
def course():
    tripwires = sorted(set(batch.tripwires_for(ASSIGNMENT))
                       | set(batch.tripwires_for("07_regularization")))
    library = sandbox.LibraryCopy(tripwires=tripwires)
    yield build_source(), library
    library.cleanup()


@pytest.fixture(scope="module")
def l2_course(course):
    """The same course with only l2_penalty: for tests about one exercise."""
    return build_source(("l2",)), course[1]


@pytest.fixture
def armed():
    """Trip-wires on, as in a notebook kernel (outside one they are off: see boundary.ARMED)."""
    boundary.ARMED = True
    yield
    boundary.ARMED = None


def grade(course, answers, hidden_seeds=(11, 12)):
    """Grade the source with some answers replaced (hidden seeds fixed unless None)."""
    source, library = course
    nb = copy.deepcopy(source)
    for cell, text in answers.items():
        nb = variants.with_answer(nb, cell, text)
    return grader.grade_notebook(source, json.dumps(nb), student="s", assignment=ASSIGNMENT,
                                 notebook="verdicts", library=library,
                                 limits=sandbox.Limits(timeout=30),
                                 hidden_seeds=None if hidden_seeds is None else list(hidden_seeds))


def cells(result):
    return {c.grade_id: (c.points, c.status, c.message) for c in result.cells}


def points(result):
    return {c.grade_id: c.points for c in result.cells}


def in_process(source, names, run=None):
    """Exec an answer cell as a notebook would; return the functions named."""
    namespace = {"__name__": "__main__"}
    exec(compile(SETUP + "\n" + source, "<cell>", "exec"), namespace)
    return [namespace[name] for name in names]


def notebook_message(name, fns):
    with pytest.raises(grading.CheckFailure) as info:
        grading.check(name, *fns)
    return str(info.value)


# ----------------------------------------------------------------------------- containers

@pytest.mark.parametrize("container", sorted(CONTAINERS))
def test_caches_of_any_container_earn_full_points(course, container):
    forward, backward = in_process(batchnorm_answer(container),
                                   ["batchnorm_forward", "batchnorm_backward"])
    grading.check("batchnorm_forward", forward)
    grading.check("batchnorm_backward", forward, backward)
    grading.check("dropout", *in_process(dropout_answer(container),
                                         ["dropout_forward", "dropout_backward"]))
    result = grade(course, {"batchnorm_forward": batchnorm_answer(container),
                            "dropout": dropout_answer(container)})
    assert points(result) == FULL, cells(result)


def test_a_result_that_cannot_be_read_says_what_to_return_instead(l2_course):
    answer = L2_ANSWER.replace("return penalty, grads", "return penalty, object()")
    message = notebook_message("l2_penalty", in_process(answer, ["l2_penalty"]))
    assert "object object the grader cannot read" in message
    assert "return numbers, arrays, or a tuple, list, dict, namedtuple or dataclass" in message
    assert cells(grade(l2_course, {"l2_penalty": answer}))["test_l2_penalty"][2] == message


# ----------------------------------------------------------------------------- cell errors

@pytest.mark.parametrize("ending", ["sys.exit()", "raise RuntimeError('leftover experiment')"])
def test_an_error_after_the_definitions_keeps_the_points_with_a_note(l2_course, ending):
    result = grade(l2_course, {"l2_penalty": L2_ANSWER + "\n" + ending})
    assert points(result) == {"test_l2_penalty": 1.0}, cells(result)
    note = cells(result)["test_l2_penalty"][2]
    assert note.startswith("Note: your answer cell stopped with an error after defining")
    assert ("SystemExit" if "exit" in ending else "leftover experiment") in note
    assert any(p.startswith("test_l2_penalty: Note:") for p in result.problems)


def test_an_error_before_the_definitions_still_means_not_run(l2_course):
    result = grade(l2_course, {"l2_penalty": "raise RuntimeError('boom')\n" + L2_ANSWER})
    assert points(result)["test_l2_penalty"] == 0
    assert "your answer cell did not run: RuntimeError: boom" in cells(result)["test_l2_penalty"][2]


# ----------------------------------------------------------------------------- same verdict

def test_changing_an_array_inside_a_dict_is_refused_with_the_parameter_name(l2_course):
    message = notebook_message("l2_penalty", in_process(L2_MUTATING, ["l2_penalty"]))
    assert "l2_penalty changed params in place (params['W" in message
    assert cells(grade(l2_course, {"l2_penalty": L2_MUTATING}))["test_l2_penalty"] == (
        0.0, "failed", message)


def test_batchnorm_forward_changing_x_is_blamed_on_the_forward_pass(course):
    answer = batchnorm_answer("namedtuple").replace(
        "    x_hat = (x - mean) * inv_std", "    x -= mean\n    x_hat = x * inv_std")
    forward, backward = in_process(answer, ["batchnorm_forward", "batchnorm_backward"])
    forward_message = notebook_message("batchnorm_forward", [forward])
    backward_message = notebook_message("batchnorm_backward", [forward, backward])
    for message in (forward_message, backward_message):
        assert "batchnorm_forward changed x in place (x[0, 0]" in message
        assert "batchnorm_backward changed" not in message
    result = cells(grade(course, {"batchnorm_forward": answer}))
    assert result["test_batchnorm_forward"] == (0.0, "failed", forward_message)
    assert result["test_batchnorm_backward"] == (0.0, "failed", backward_message)


def test_calling_the_reference_fails_in_the_notebook_as_in_the_grader(l2_course, armed):
    message = notebook_message("l2_penalty", in_process(L2_DELEGATING, ["l2_penalty"]))
    assert message == ("l2_penalty calls the course's reference implementation "
                       "cs231n_lib.losses.l2_penalty instead of implementing it: this earns no points")
    assert cells(grade(l2_course, {"l2_penalty": L2_DELEGATING}))["test_l2_penalty"] == (
        0.0, "failed", message)


def test_trip_wires_are_removed_after_the_check(armed):
    from cs231n_lib import losses
    with pytest.raises(grading.CheckFailure):
        grading.check("l2_penalty", *in_process(L2_DELEGATING, ["l2_penalty"]))
    penalty, _ = losses.l2_penalty({"W1": np.ones((2, 2))}, 1.0)
    assert penalty == 2.0


def test_a_known_mistake_gets_the_same_message_in_both(l2_course):
    from cs231n_lib.exercises import nb07_regularization
    answer = variants.implementation_source(nb07_regularization.l2_penalty_on_biases_too,
                                            "l2_penalty")
    message = notebook_message("l2_penalty", in_process(answer, ["l2_penalty"]))
    assert "Known mistake: penalty on the biases too" in message
    assert "returned penalty = " in message and "expected" in message
    assert cells(grade(l2_course, {"l2_penalty": answer}))["test_l2_penalty"][2] == message


# ----------------------------------------------------------------------------- determinism

def test_regrading_the_same_notebook_gives_identical_results(l2_course, monkeypatch):
    monkeypatch.setenv(grading.SECRET_ENV, "a fixed secret for this test")
    source, library = l2_course
    # Wrong only for a reg larger than any visible case's: the verdict rests on hidden cases.
    exercise = grading.get_exercise("l2_penalty")
    largest = max(exercise.make_case(np.random.default_rng(seed)).args[1]
                  for seed in exercise.visible_seeds)
    answer = L2_ANSWER.replace("grads[name] = reg * value",
                               f"grads[name] = reg * value * (1.1 if reg > {largest!r} else 1)")
    nb = json.dumps(variants.with_answer(source, "l2_penalty", answer))

    def once():
        result = grader.grade_notebook(source, nb, student="s", assignment=ASSIGNMENT,
                                       notebook="verdicts", library=library)
        data = result.to_dict()
        data.pop("seconds")
        return data
    first, second = once(), once()
    assert first == second
    seeds = grading.hidden_seeds("l2_penalty", secret="a fixed secret for this test")
    failed_on = [seed for seed in seeds if f"[case seed {seed}]" in first["cells"][0]["message"]]
    assert first["score"] == 0 and len(failed_on) == 1, first["cells"]
    assert seeds == grading.hidden_seeds("l2_penalty")
    assert seeds != grading.hidden_seeds("dropout") and seeds != grading.hidden_seeds(
        "l2_penalty", secret="another course")


def test_hidden_seeds_without_a_secret_are_fresh(monkeypatch, tmp_path):
    monkeypatch.delenv(grading.SECRET_ENV, raising=False)
    from cs231n_lib.course import paths
    monkeypatch.setattr(paths, "WORK", tmp_path / ".course")
    assert grading.course_secret() is None
    assert grading.hidden_seeds("l2_penalty") != grading.hidden_seeds("l2_penalty")
    secret = grading.course_secret(create=True)
    assert len(secret) == 64 and (tmp_path / ".course" / "grading_secret").stat().st_mode & 0o077 == 0
    assert grading.hidden_seeds("l2_penalty") == grading.hidden_seeds("l2_penalty")


@pytest.mark.parametrize("notebook", sorted({grading.get_exercise(n).notebook
                                             for n in grading.exercise_names()}))
def test_notebook_trip_wires_are_the_graders(notebook):
    """The in-notebook trip-wires cover exactly the functions the grader's library copy removes,
    with the same message."""
    found = {(fn.__module__, fn.__name__) for fn in grading.reference_functions(notebook)}
    assert found == set(batch.tripwires_for(notebook))
    for module, name in found:
        namespace = {"ReferenceUsed": RuntimeError}
        exec(sandbox.TRIPWIRE.format(name=name, module=module), namespace)
        with pytest.raises(RuntimeError) as info:
            namespace[name]()
        assert str(info.value) == boundary.reference_used_message(module, name)


def test_results_as_namedtuples_or_dataclasses_are_graded_by_their_items():
    """grad_check_report and split_validation returned as a namedtuple (and a dataclass where
    the reference returns a dict-like record) grade as the tuple they hold."""
    from collections import namedtuple
    from cs231n_lib import data, gradient_check
    Report = namedtuple("Report", "max_rel_error worst_index band")
    Split = namedtuple("Split", "X_train y_train X_val y_val")

    def grad_check_report(analytic_grad, numeric_grad):
        return Report(*gradient_check.grad_check_report(analytic_grad, numeric_grad))

    def split_validation(X, y, val_fraction, rng):
        return Split(*data.split_validation(X, y, val_fraction, rng))
    grading.check("grad_check_report", grad_check_report)
    grading.check("grad_check_report", grad_check_report, hidden=True)
    grading.check("split_validation", split_validation)
    # A wrong band inside the namedtuple is still found, and named by its output name.
    with pytest.raises(grading.CheckFailure, match="band should be"):
        grading.check("grad_check_report",
                      lambda a, n: grad_check_report(a, n)._replace(band="good"))


def test_the_grading_secret_lives_in_the_work_folder_and_reaches_every_task(tmp_path):
    """An instructor who cannot write to the checkout still grades: the secret is made in the
    work folder, before its snapshot, and travels in every task (pool and Dask alike)."""
    from cs231n_lib.course import pipeline
    secret = grading.course_secret(create=True, folder=tmp_path)
    assert (tmp_path / "grading_secret").read_text().strip() == secret and len(secret) == 64
    assert grading.course_secret(folder=tmp_path) == secret          # made once, then read
    tasks = pipeline.make_tasks([], {}, [], {}, secret=secret)
    assert tasks == []
    assert grading.hidden_seeds("rel_error", secret=secret) == grading.hidden_seeds(
        "rel_error", secret=secret)
    assert grading.hidden_seeds("rel_error", secret=secret) != grading.hidden_seeds(
        "rel_error", secret="another course")
