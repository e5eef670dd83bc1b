"""Tests of cs231n_lib.plots.plot_accuracy_gaps (added for notebook 07)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231n_lib.plots import plot_accuracy_gaps  # noqa: E402


def test_one_labelled_panel_per_run_with_the_final_gap_in_the_title():
    runs = {"none": ([0.1, 0.9, 1.0], [0.1, 0.6, 0.7]), "L2": ([0.1, 0.8, 0.9], [0.1, 0.7, 0.8])}
    axes = plot_accuracy_gaps(runs)
    assert len(axes) == 2
    assert "none" in axes[0].get_title() and "0.300" in axes[0].get_title()
    assert "0.100" in axes[1].get_title()
    assert axes[0].get_xlabel() == "epoch" and axes[0].get_ylabel() == "accuracy"
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert labels == ["train", "validation", "gap"]
    plt.close("all")


def test_draws_on_given_axes():
    _, given = plt.subplots(2, 2)
    axes = plot_accuracy_gaps({"a": (np.ones(4), np.zeros(4))}, axes=given)
    assert axes[0] is given[0, 0]
    plt.close("all")


@pytest.mark.parametrize("runs", [{}, {"a": ([1, 2], [1])}, {"a": ([], [])}])
def test_bad_runs_raise(runs):
    with pytest.raises(ValueError):
        plot_accuracy_gaps(runs)
    plt.close("all")


def test_too_few_axes_raise():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="one axes per run"):
        plot_accuracy_gaps({"a": ([1], [1]), "b": ([1], [1])}, axes=[ax])
    plt.close("all")
