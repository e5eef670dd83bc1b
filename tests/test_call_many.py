"""Many calls in one message (grader.StudentFunction.map/outcomes, boundary.call_many).

A batch must give what the same calls made one by one give: the same values, the same in-place
changes copied back, the same error at the same call (later calls never seen), the same
mutation message naming the same call, and a hang stopped by the per-call timeout. The grader's
worker path and the notebook's in-process path are both checked against single calls.
"""
import re

import numpy as np
import pytest

from cs231n_lib import boundary, gradient_check, grading, layers
from cs231n_lib.course import grader, sandbox

STUDENT = '''
import collections
import numpy as np
Pair = collections.namedtuple("Pair", "out scale")
made = []

def affine(x, w, bn_param):
    bn_param["calls"] = bn_param.get("calls", 0) + 1          # state: copied back
    return x @ w, {"x": x, "w": w, "mean": float(x.mean())}

def named(x):
    return Pair(2 * x, 2)                                      # not plain: travels as a handle

def picky(x):
    if x[0] == 3:
        raise KeyError("three is not allowed")
    made.append(float(x[0]))
    return float(x[0]) * 10

def stub(x):
    raise NotImplementedError("write me")

def scale_in_place(x, s):
    x *= s                                                      # a change only when s != 1
    return float(x.sum())

def hang(x):
    while x[0] == 2:
        pass
    return float(x[0])

def count_made():
    return len(made)
'''


def reference_scale(x, s):
    return float((x * s).sum())


@pytest.fixture(scope="module")
def library():
    library = sandbox.LibraryCopy()
    yield library
    library.cleanup()


@pytest.fixture
def session(library):
    session = grader.Session(library, sandbox.Limits(timeout=2.0), hide=())
    session.start()
    ok, text = session.run(grader.Step("student", "student", STUDENT))
    assert ok, text
    yield session
    session.close()


def affine_calls(count=6):
    rng = np.random.default_rng(0)
    return [((rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), {"mode": "train"}), {})
            for _ in range(count)]


def raised(fn, *args):
    with pytest.raises(BaseException) as info:
        fn(*args)
    return info.value


def test_map_equals_single_calls_values_and_copy_back(session):
    fn = grader.StudentFunction(session, "affine")
    batch, single = affine_calls(), affine_calls()
    values = fn.map(batch)
    expected = [fn(*args, **kwargs) for args, kwargs in single]
    assert len(values) == len(expected) == 6
    for (args, _), (single_args, _), value, want in zip(batch, single, values, expected):
        np.testing.assert_array_equal(value[0], want[0])
        assert value[1].keys() == want[1].keys()
        for key in want[1]:
            np.testing.assert_array_equal(value[1][key], want[1][key])
        assert args[2] == single_args[2] == {"mode": "train", "calls": 1}   # copied back per call


def test_map_handles_are_usable_like_single_ones(session):
    fn = grader.StudentFunction(session, "named")
    values = fn.map([((np.arange(3.0),), {}), ((np.ones(2),), {})])
    assert all(isinstance(v, boundary.values.HandleTuple) for v in values)
    np.testing.assert_array_equal(values[1][0], 2 * np.ones(2))
    assert len({v.handle for v in values}) == 2


def test_exception_mid_batch_is_reported_for_its_call_and_later_calls_are_not_seen(session):
    fn = grader.StudentFunction(session, "picky")
    calls = [((np.array([float(i)]),), {}) for i in range(6)]
    outcomes = fn.outcomes(calls)
    assert [o.ok for o in outcomes] == [True, True, True, False]
    assert [o.value for o in outcomes[:3]] == [0.0, 10.0, 20.0]
    single = raised(fn, np.array([3.0]))
    assert type(outcomes[3].value).__name__ == type(single).__name__ == "KeyError"
    assert str(outcomes[3].value) == str(single)
    # call_many: the values before the failed call, then its error where a loop raises it
    results = boundary.call_many(fn, calls)
    assert [next(results) for _ in range(3)] == [0.0, 10.0, 20.0]
    with pytest.raises(boundary.StudentError, match="three is not allowed"):
        next(results)
    # the worker stopped at the failed call and still answers in step
    assert grader.StudentFunction(session, "count_made")() == 3 + 3   # calls 4 and 5 never ran
    with pytest.raises(NotImplementedError, match="write me"):
        grader.StudentFunction(session, "stub").map(calls)


def test_an_encoding_error_is_raised_at_its_call(session):
    fn = grader.StudentFunction(session, "picky")
    outcomes = fn.outcomes([((np.array([1.0]),), {}), ((object(),), {}), ((np.array([2.0]),), {})])
    assert [o.ok for o in outcomes] == [True, False]
    assert isinstance(outcomes[1].value, grader.bridge.BridgeError)


def test_a_failure_here_still_reads_every_answer_of_the_batch(session, monkeypatch):
    # A reply this process cannot convert (only a broken worker sends one) fails its call;
    # the worker's answers to the later calls are read and dropped, so the next message
    # gets its own answer.
    fn = grader.StudentFunction(session, "picky")
    original, seen = grader.StudentFunction._result, []

    def failing_second(self, reply, args, kwargs):
        seen.append(reply["ok"])
        if len(seen) == 2:
            raise grader.bridge.BridgeError("malformed message")
        return original(self, reply, args, kwargs)
    monkeypatch.setattr(grader.StudentFunction, "_result", failing_second)
    outcomes = fn.outcomes([((np.array([float(i)]),), {}) for i in (0, 1, 2, 4)])
    assert [o.ok for o in outcomes] == [True, False] and len(seen) == 2
    monkeypatch.setattr(grader.StudentFunction, "_result", original)
    assert fn(np.array([7.0])) == 70.0
    assert grader.StudentFunction(session, "count_made")() == 4 + 1


def mutation_calls():
    # Only the third call changes its x (s = 2); s = 1 leaves x as it was.
    return [((np.arange(4.0) + i, 2.0 if i == 2 else 1.0), {}) for i in range(5)]


def test_mutation_in_call_k_is_named_as_for_a_single_call(session):
    student = grader.StudentFunction(session, "scale_in_place")
    guard = boundary.Guard(student, "scale_in_place", reference_scale)
    results = boundary.call_many(guard, mutation_calls())
    assert [next(results) for _ in range(2)] == [6.0, 10.0]
    with pytest.raises(boundary.MutationRefused) as batch:
        next(results)
    one_guard = boundary.Guard(student, "scale_in_place", reference_scale)
    for args, _ in mutation_calls()[:2]:
        one_guard(*args)
    single = raised(one_guard, *mutation_calls()[2][0])
    assert isinstance(single, boundary.MutationRefused)
    assert str(batch.value) == str(single) and "x[0]" in str(single)
    assert batch.value.result == single.result == 28.0


def test_notebook_path_batches_through_the_same_guard():
    namespace = {}
    exec(STUDENT, namespace)
    local = boundary.LocalFunction(namespace["scale_in_place"], boundary.TripWires([]))
    guard = boundary.Guard(local, "scale_in_place", reference_scale)
    outcomes = boundary.outcomes_of(guard, mutation_calls())
    assert [o.ok for o in outcomes] == [True, True, False]
    single = raised(boundary.Guard(local, "scale_in_place", reference_scale),
                    *mutation_calls()[2][0])
    assert str(outcomes[2].value) == str(single)
    # a plain function is called one call after the other
    assert list(grading.call_many(reference_scale, [((np.ones(2), 3.0), {})] * 2)) == [6.0, 6.0]


def test_a_hang_in_one_call_is_stopped_by_the_per_call_timeout(session):
    fn = grader.StudentFunction(session, "hang")
    outcomes = fn.outcomes([((np.array([float(i)]),), {}) for i in range(5)])
    assert [o.ok for o in outcomes] == [True, True, False]
    assert isinstance(outcomes[2].value, grader.StudentCrashed)
    assert str(outcomes[2].value) == "hang did not return within 2 s and was stopped"
    assert session.restarts == 1
    # the restarted worker has the student's cells again
    assert grader.StudentFunction(session, "picky")(np.array([1.0])) == 10.0


def test_batchnorm_grad_check_batched_equals_one_by_one():
    # The numerical gradient of a guarded forward (batched) equals that of the plain one.
    rng = np.random.default_rng(3)
    x, gamma, beta = rng.standard_normal((4, 3)), rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    guarded = boundary.Guard(boundary.LocalFunction(layers.batchnorm_forward,
                                                    boundary.TripWires([])),
                             "batchnorm_forward", layers.batchnorm_forward)
    assert gradient_check._batched(guarded) and not gradient_check._batched(layers.batchnorm_forward)
    batched = gradient_check.batchnorm_grad_check(guarded, layers.batchnorm_backward,
                                                  x, gamma, beta, dout)
    plain = gradient_check.batchnorm_grad_check(layers.batchnorm_forward, layers.batchnorm_backward,
                                                x, gamma, beta, dout)
    for name in gradient_check.BATCHNORM_GRAD_NAMES:
        np.testing.assert_array_equal(batched.numeric[name], plain.numeric[name])
    assert batched.rel_errors == plain.rel_errors and batched.norm_errors == plain.norm_errors


def test_batchnorm_grad_check_batched_raises_what_the_loop_raises():
    # A forward whose out has the wrong shape: the same ValueError either way.
    def bad_forward(x, gamma, beta, bn_param):
        out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
        return out[:, :-1] if x[0, 0] != round(x[0, 0], 3) else out, cache
    rng = np.random.default_rng(4)
    x = np.round(rng.standard_normal((3, 3)), 3)
    args = (x, np.ones(3), np.zeros(3), rng.standard_normal((3, 3)))
    local = boundary.LocalFunction(bad_forward, boundary.TripWires([]))
    errors = [raised(gradient_check.batchnorm_grad_check, fn, layers.batchnorm_backward, *args)
              for fn in (bad_forward, local)]
    assert type(errors[0]) is type(errors[1]) is ValueError
    assert str(errors[0]) == str(errors[1])


# ----------------------------------------------------------------------------- the checks

BATCHED_CHECKS = ["diagnose_loss_curve", "should_abort", "edge_warning", "init_weights",
                  "batchnorm_backward", "batchnorm_backward_alt", "dropout"]


def _at_call(fn, k, action):
    """fn, except that its k-th call (from 1) does `action` (mutate, raise or return junk)."""
    count = [0]

    def wrapped(*args, **kwargs):
        count[0] += 1
        if count[0] == k and action == "raise":
            raise ValueError(f"call {k} failed")
        if count[0] == k and action == "stop":
            raise StopIteration(f"call {k} stopped")
        out = fn(*args, **kwargs)
        if count[0] == k and action == "junk":
            return "junk"
        if count[0] == k and action == "mutate":
            for a in args:
                if isinstance(a, np.ndarray) and a.size and a.dtype.kind == "f":
                    a.flat[-1] += 1.0
                    break
                if isinstance(a, list) and a:
                    a[-1] = a[-1] + 1.0
                    break
        return out
    wrapped.__name__ = getattr(fn, "__name__", "fn")
    return wrapped


def _variants(name):
    exercise = grading.get_exercise(name)
    fns = list(exercise.reference_fns)
    yield "reference", fns
    for mistake in exercise.mistakes:
        if callable(mistake.implementation):
            yield mistake.label, [mistake.implementation if i == mistake.replaces else f
                                  for i, f in enumerate(fns)]
    for k in (1, 3, 17):
        for action in ("raise", "stop", "junk", "mutate"):
            # the batched function: the only one of diagnose/should_abort/..., the forward of
            # the batchnorm pairs (its numerical gradient is the batch)
            yield f"{action} at call {k}", [_at_call(fns[0], k, action), *fns[1:]]


def _verdict(name, fns):
    try:
        grading.check(name, *fns, seeds=[0, 5])
    except BaseException as exc:  # noqa: BLE001 - the verdict is what is compared
        # dropout's "mask regenerated" mistake draws an unseeded mask: its share varies
        return re.sub(r"agree on only [0-9.]+%", "agree on only ?%",
                      f"{type(exc).__name__}: {exc}")
    return "passed"


class _OneByOne:
    """call_many as a plain loop would run it: each call made when its value is needed."""

    def __init__(self, fn, calls):
        self.fn, self.calls = fn, iter(calls)

    def __iter__(self):
        return self

    def __next__(self):
        args, kwargs = next(self.calls)
        return self.fn(*args, **kwargs)


@pytest.mark.parametrize("name", BATCHED_CHECKS)
def test_batched_checks_give_the_verdicts_and_messages_of_single_calls(name, monkeypatch):
    # The same answers graded with batches (boundary.call_many as shipped) and with every call
    # made on its own, when the check needs it, through the same wrappers (Guard.__call__,
    # LocalFunction.__call__): the loops the checks had before batching.
    import importlib
    batched = {}
    for label, fns in _variants(name):
        batched[label] = _verdict(name, fns)
    for module in ("cs231n_lib.boundary", "cs231n_lib.grading", "cs231n_lib.exercises._habits",
                   "cs231n_lib.exercises.nb03_monitoring"):
        monkeypatch.setattr(importlib.import_module(module), "call_many", _OneByOne)
    verdicts = set()
    for label, fns in _variants(name):
        single = _verdict(name, fns)
        assert batched[label] == single, label
        verdicts.add(single.split(":")[0])
    assert "passed" in verdicts and "CheckFailure" in verdicts   # the variants do differ
