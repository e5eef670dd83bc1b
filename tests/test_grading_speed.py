"""Repeated work the grader avoids, without changing a verdict (issue 14, item 2)."""
import pytest

from cs231n_lib import grading
from cs231n_lib.exercises import nb09_babysitting


def test_the_recipe_trains_once_for_all_three_cells_and_the_hidden_seeds():
    """The three threshold cells of notebook 09 and their hidden cases judge one training
    (the registry's stated design), even though check() wraps the function anew each call."""
    calls = []

    def train_best_model(data, rng, time_budget_s):
        calls.append(time_budget_s)
        raise ValueError("no recipe yet")

    for name in nb09_babysitting.THRESHOLDS:
        for hidden in (False, True):
            with pytest.raises(grading.CheckFailure, match="raised ValueError: no recipe yet"):
                grading.check(name, train_best_model, hidden=hidden)
    assert len(calls) == 1


def test_each_student_function_gets_its_own_training():
    calls = []

    def make(label):
        def train_best_model(data, rng, time_budget_s):
            calls.append(label)
            raise ValueError(label)
        return train_best_model

    first, second = make("first"), make("second")
    for fn, label in ((first, "first"), (second, "second"), (first, "first")):
        with pytest.raises(grading.CheckFailure, match=f"raised ValueError: {label}"):
            grading.check("train_best_model", fn)
    assert calls == ["first", "second"]
