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


# ----------------------------------------------------------------------------- in the notebook

def test_array_failures_show_returned_next_to_expected_around_the_worst_entry():
    with pytest.raises(CheckFailure) as info:
        grading.check("_test_scale", lambda x, factor: (x * factor + (x > 1.5), {"factor": factor}))
    lines = str(info.value).splitlines()
    returned = next(line for line in lines if line.strip().startswith("returned out["))
    expected = lines[lines.index(returned) + 1]
    assert expected.strip().startswith("expected") and returned.index("=") == expected.index("=")


def test_a_pass_prints_one_line_only_when_called_from_a_notebook(capsys):
    grading.check("_test_scale", _scale_reference)
    assert capsys.readouterr().out == ""
    notebook = {"__name__": "__main__", "check": grading.check, "f": _scale_reference}
    exec("check('_test_scale', f)\ncheck('_test_scale', f, hidden=True)", notebook)
    assert capsys.readouterr().out.splitlines() == [
        "_test_scale: 3 visible case(s) passed; hidden cases are graded later.",
        f"_test_scale: {grading.HIDDEN_CASES} hidden case(s) passed."]


def test_a_stub_says_not_implemented_yet():
    def _scale_reference(x, factor):
        raise NotImplementedError()
    with pytest.raises(NotImplementedError) as info:
        grading.check("_test_scale", _scale_reference)
    assert isinstance(info.value, grading.NotImplementedYet)
    assert info.value._render_traceback_() == [
        "NotImplementedYet: _scale_reference is not implemented yet"]


def test_ipython_shows_only_the_teaching_message(capsys):
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    try:
        shell.user_ns.update(check=grading.check, f=_scale_forgot_factor)
        shell.run_cell("check('_test_scale', f)")
    finally:
        InteractiveShell.clear_instance()
    out = capsys.readouterr()
    shown = out.out + out.err
    assert "CheckFailure: _scale_reference(x=array(" in shown
    assert "Known mistake: factor ignored" in shown
    assert "grading.py" not in shown and "Traceback" not in shown


def _unguarded_max(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))))


def _unguarded_sum(a, b):
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


def _guarded_max(a, b):
    d = np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(d == 0, 0.0, np.abs(a - b) / np.where(d == 0, 1.0, d))))


NAN_EXERCISE = Exercise(
    name="_nan_demo", notebook="_tests", reference=_guarded_max, make_case=None, rtol=1e-9,
    mistakes=[Mistake("sum instead of max", "Divide by max(|a|, |b|).", _unguarded_sum)])


def test_nans_alone_do_not_name_a_mistake_the_other_cases_rule_out():
    """A missing 0/0 guard makes nan, as does the unguarded 'sum' mistake: that is no evidence
    of the sum; the case without zeros (where the student was right) rules it out."""
    with_zero = Case((np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.001, 2.0])))
    without_zero = Case((np.array([1.0, 2.0]), np.array([1.001, 2.0])))
    with pytest.raises(CheckFailure) as info:
        grading.check_case(NAN_EXERCISE, _unguarded_max, with_zero, 0, [with_zero, without_zero])
    assert "returned output = nan" in str(info.value)
    assert "Known mistake" not in str(info.value)
    # The real sum mistake explains the other case too: named.
    with pytest.raises(CheckFailure, match="Known mistake: sum instead of max"):
        grading.check_case(NAN_EXERCISE, _unguarded_sum, with_zero, 0, [with_zero, without_zero])
    # And it is named at once where it differs without any nan.
    with pytest.raises(CheckFailure, match="Known mistake: sum instead of max"):
        grading.check_case(NAN_EXERCISE, _unguarded_sum, without_zero, 0)


def test_a_list_of_numbers_compares_like_the_reference_array():
    expected = (np.array([0.5, 0.25]), np.array([1.0, 2.0]))
    assert grading.compare_outputs(([0.5, 0.25], [1.0, 2.0]), expected, names=("a", "b")) is None
    problem = grading.compare_outputs(([0.5, 0.25], [1.0, 3.0]), expected, names=("a", "b"))
    assert problem and problem.startswith("b")
    assert "shape" in grading.compare_outputs(([0.5], [1.0, 2.0]), expected, names=("a", "b"))
