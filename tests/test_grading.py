"""The grading core: comparison, teaching messages, known-mistake detection, registry rules."""
import numpy as np
import pytest

from cs231n_lib import grading
from cs231n_lib.grading import Case, CheckFailure, Exercise, Mistake


def _scale_reference(x, factor):
    return x * factor, {"factor": factor}


def _scale_forgot_factor(x, factor):
    return x.copy(), {"factor": factor}


def _make_scale_case(rng):
    return Case((rng.standard_normal((int(rng.integers(2, 5)), 3)),), {"factor": 2.5})


EXERCISE = Exercise(
    name="_test_scale", notebook="_tests", reference=_scale_reference,
    make_case=_make_scale_case, output_names=("out", "info"),
    mistakes=[Mistake("factor ignored", "Multiply by the factor.", _scale_forgot_factor)],
)


@pytest.fixture(autouse=True, scope="module")
def registered():
    grading._load_all()
    grading.register(EXERCISE)
    yield
    del grading._REGISTRY[EXERCISE.name]


def test_correct_function_passes_visible_and_hidden():
    grading.check("_test_scale", _scale_reference)
    grading.check("_test_scale", _scale_reference, hidden=True)


def test_wrong_values_name_output_error_index_and_mistake():
    with pytest.raises(CheckFailure) as info:
        grading.check("_test_scale", _scale_forgot_factor)
    message = str(info.value)
    assert "_scale_reference(x=array(" in message and "factor=2.5" in message
    assert "out differs from the reference" in message
    assert "max relative error" in message and "at index" in message
    assert "Known mistake: factor ignored" in message


def test_unknown_wrong_answer_has_no_mistake_label():
    with pytest.raises(CheckFailure) as info:
        grading.check("_test_scale", lambda x, factor: (x * factor + 1.0, {"factor": factor}))
    assert "Known mistake" not in str(info.value)


def test_wrong_shape_and_structure_are_reported():
    with pytest.raises(CheckFailure, match=r"out has shape \(3,\), expected"):
        grading.check("_test_scale", lambda x, factor: (np.zeros(3), {"factor": factor}))
    with pytest.raises(CheckFailure, match="expected a tuple of 2 values"):
        grading.check("_test_scale", lambda x, factor: x * factor)


def test_exception_in_student_code_is_reported_with_inputs():
    def broken(x, factor):
        raise IndexError("index 7 is out of bounds")
    with pytest.raises(CheckFailure, match="raised IndexError: index 7"):
        grading.check("_test_scale", broken)


def test_not_implemented_propagates_unchanged():
    def stub(x, factor):
        raise NotImplementedError()
    with pytest.raises(NotImplementedError):
        grading.check("_test_scale", stub)


def test_in_place_mutation_is_rejected():
    def mutating(x, factor):
        x *= factor
        return x.copy(), {"factor": factor}
    with pytest.raises(CheckFailure, match="changed x in place"):
        grading.check("_test_scale", mutating)


def test_object_with_lying_eq_does_not_pass():
    class AlwaysEqual:
        def __eq__(self, other):
            return True
        __hash__ = None
    with pytest.raises(CheckFailure):
        grading.check("_test_scale", lambda x, factor: (AlwaysEqual(), {"factor": factor}))


def test_nan_on_one_side_fails_and_on_both_passes():
    assert grading.compare_outputs(np.array([np.nan]), np.array([1.0])) is not None
    assert grading.compare_outputs(np.array([np.nan]), np.array([np.nan])) is None


def test_equal_infinities_agree_and_opposite_ones_do_not():
    assert grading.compare_outputs(np.array([np.inf]), np.array([np.inf])) is None
    assert grading.compare_outputs(np.array([-np.inf]), np.array([np.inf])) is not None
    assert grading.compare_outputs(np.array([np.inf]), np.array([1.0])) is not None


def test_string_outputs_compare_exactly():
    assert grading.compare_outputs("good", "good") is None
    assert "should be 'good'" in grading.compare_outputs("bad", "good")


def test_max_relative_error_handles_zeros():
    err, index = grading.max_relative_error(np.zeros(3), np.zeros(3))
    assert err == 0.0
    err, index = grading.max_relative_error(np.array([0.0, 1.0]), np.array([0.0, 2.0]))
    assert err == pytest.approx(0.5) and index == (1,)


def test_unknown_exercise_lists_known_names():
    with pytest.raises(ValueError, match="no exercise called 'nope'"):
        grading.check("nope", print)


def test_registering_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        grading.register(EXERCISE)


def test_custom_check_exercise_gets_rng_and_all_functions():
    seen = []

    def custom(rng, f, g):
        seen.append((f, g))
        if f(2) != 4:
            raise CheckFailure("f must square")
    ex = grading.register(Exercise(name="_test_custom", notebook="_tests", custom_check=custom))
    try:
        grading.check("_test_custom", lambda v: v * v, abs)
        assert len(seen) == len(ex.visible_seeds)
        with pytest.raises(CheckFailure, match="f must square"):
            grading.check("_test_custom", lambda v: v, abs)
    finally:
        del grading._REGISTRY["_test_custom"]


def test_a_habit_from_elsewhere_is_explained():
    # An exercise whose student function raises KeyError('p') gets the habit's one-sentence hint.
    exercise = grading.Exercise(
        name="_habit_demo", notebook="none", reference=lambda x, param: x,
        make_case=lambda rng: grading.Case((np.ones(2), {"keep_prob": 0.5})),
        habits=(grading.Habit("KeyError", r"'p'", "This notebook reads keep_prob, CS231n read p."),))

    def student(x, param):
        return x * param["p"]
    with pytest.raises(grading.CheckFailure, match="reads keep_prob, CS231n read p"):
        grading.check_case(exercise, student, exercise.make_case(None), seed=0)

    def other_error(x, param):
        raise KeyError("q")
    with pytest.raises(grading.CheckFailure) as info:
        grading.check_case(exercise, other_error, exercise.make_case(None), seed=0)
    assert "CS231n" not in str(info.value)
