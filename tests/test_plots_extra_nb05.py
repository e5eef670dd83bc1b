"""Tests for plots.plot_activation_grid_in_ranges (notebook 05)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231n_lib import plots  # noqa: E402


def test_grid_in_ranges_fixes_ranges_and_titles():
    rng = np.random.default_rng(0)
    results = {"sigmoid": [0.5 + 1e-3 * rng.standard_normal((50, 4)) for _ in range(3)],
               "relu": [np.maximum(1e4 * rng.standard_normal((50, 4)), 0) for _ in range(2)]}
    axes = plots.plot_activation_grid_in_ranges(results, value_ranges={"sigmoid": (0, 1)})
    assert axes.shape == (2, 3)
    assert axes[0, 0].get_xlim() == (0.0, 1.0)
    assert axes[0, 0].get_title().startswith("layer 1: mean 0.5, std 0.00")
    relu_title = axes[1, 1].get_title()
    assert "e+03" in relu_title.split("\n")[0] and "exactly 0" in relu_title
    assert not axes[1, 2].get_visible()
    plt.close("all")


def test_grid_in_ranges_rejects_unknown_rows():
    with pytest.raises(ValueError, match="not in results"):
        plots.plot_activation_grid_in_ranges({"a": [np.ones((2, 2))]}, value_ranges={"b": (0, 1)})
    plt.close("all")
