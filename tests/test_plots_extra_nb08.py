"""Tests of the cs231n_lib.plots additions for notebook 08 (hyperparameter search)."""
import functools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231n_lib import search  # noqa: E402
from cs231n_lib.plots import plot_grid_vs_random, plot_search_ranges  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_grid_vs_random_draws_two_panels_per_layout():
    objective = functools.partial(search.lopsided_objective, peak_exps=[-2.0, -2.0])
    layouts = {"grid": search.grid_points([-4, -4], [0, 0], 9),
               "random": search.random_points([-4, -4], [0, 0], 9, np.random.default_rng(0))}
    fig = plot_grid_vs_random(layouts, objective, (1e-4, 1), (1e-4, 1), labels=("lr", "reg"),
                              resolution=50)
    titled = [ax for ax in fig.axes if ax.get_title() in layouts]
    assert len(titled) == 2
    assert "3 distinct x values" in " ".join(t.get_text() for t in titled[0].get_legend().get_texts())
    mains = [ax for ax in fig.axes if ax.get_xlabel() == "lr (log scale)"]
    assert len(mains) == 2 and all(ax.get_xscale() == "log" for ax in mains)
    with pytest.raises(ValueError, match="shape"):
        plot_grid_vs_random({"bad": np.ones((3, 3))}, objective, (1e-4, 1), (1e-4, 1))


def test_search_ranges_outline_every_box_inside_the_view():
    spaces = [{"learning_rate": ("log", -5, 0), "reg": ("log", -6, -1)},
              {"learning_rate": ("log", -3, -1), "reg": ("log", -5, -3)}]
    ax = plot_search_ranges(spaces)
    assert len(ax.patches) == 2
    left, right = ax.get_xlim()
    bottom, top = ax.get_ylim()
    assert left < 1e-5 and right > 1.0 and bottom < 1e-6 and top > 1e-1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["stage 0 range", "stage 1 range"]
    with pytest.raises(ValueError, match="learning_rate"):
        plot_search_ranges([{"reg": ("log", -6, -1)}])
