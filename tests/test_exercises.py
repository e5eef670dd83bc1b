"""Every registered exercise: the reference passes its own checks, every known mistake fails
them with a message that names the mistake (no notebooks, no nbgrader: fast)."""
import numpy as np
import pytest

from cs231n_lib import grading

NAMES = grading.exercise_names()
MISTAKES = [(name, i) for name in NAMES
            for i, m in enumerate(grading.get_exercise(name).mistakes) if callable(m.implementation)]


def test_registry_is_not_empty():
    assert NAMES, "no exercises registered in cs231n_lib/exercises/"


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_visible_and_hidden_checks(name):
    exercise = grading.get_exercise(name)
    grading.check(name, *exercise.reference_fns)
    grading.check(name, *exercise.reference_fns, hidden=True)


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_has_a_known_mistake(name):
    assert grading.get_exercise(name).mistakes, f"{name}: list at least one known mistake"


@pytest.mark.parametrize("name,index", MISTAKES)
def test_known_mistake_fails_and_is_named(name, index):
    exercise = grading.get_exercise(name)
    mistake = exercise.mistakes[index]
    fns = list(exercise.reference_fns)
    fns[mistake.replaces] = mistake.implementation
    with pytest.raises(grading.CheckFailure) as info:
        grading.check(name, *fns)
    assert mistake.label in str(info.value), (
        f"{name}: the failure message does not name the mistake {mistake.label!r}:\n{info.value}")


@pytest.mark.parametrize("name", NAMES)
def test_visible_cases_are_deterministic(name):
    exercise = grading.get_exercise(name)
    if exercise.make_case is None:
        pytest.skip("graded by properties (custom_check)")
    first = [exercise.make_case(np.random.default_rng(s)) for s in exercise.visible_seeds]
    again = [exercise.make_case(np.random.default_rng(s)) for s in exercise.visible_seeds]
    for a, b in zip(first, again):
        for x, y in zip(a.args, b.args):
            if isinstance(x, np.ndarray):
                assert np.array_equal(x, y), f"{name}: visible inputs differ between runs"


@pytest.mark.parametrize("name", NAMES)
def test_cases_can_cross_to_a_grading_worker(name):
    """The out-of-kernel grader sends inputs as plain data: arrays, numbers, strings, dicts,
    generators and module-level functions (or partials of them) only — no lambdas."""
    from cs231n_lib.course import bridge
    exercise = grading.get_exercise(name)
    if exercise.make_case is None:
        pytest.skip("graded by properties (custom_check)")
    for seed in exercise.visible_seeds:
        case = exercise.make_case(np.random.default_rng(seed))
        bridge.encode([list(case.args), case.kwargs])
