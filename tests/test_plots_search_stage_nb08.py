"""Tests for plots.plot_search_stage (notebook 08: one colour scale per search stage)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231n_lib import plots  # noqa: E402


def _trial(lr, reg, score):
    return {"params": {"learning_rate": lr, "reg": reg}, "score": score,
            "status": "ok" if np.isfinite(score) else "diverged"}


def test_own_colormap_range_label_and_diverged_crosses():
    trials = [_trial(1e-3, 1e-4, 0.5), _trial(1e-2, 1e-5, 0.9), _trial(1.0, 1e-3, np.nan)]
    ax = plots.plot_search_stage(trials, cmap="plasma", score_label="val acc (fine)",
                                 score_range=(0.4, 1.0))
    colorbar_ax = ax.figure.axes[-1]
    assert colorbar_ax.get_ylabel() == "val acc (fine)"
    points = ax.collections[0]
    assert points.get_cmap().name == "plasma" and points.get_clim() == (0.4, 1.0)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [c.get_label() for c in ax.collections]
    assert "best (0.900)" in labels and "diverged (aborted, no score)" in labels
    plt.close("all")


def test_empty_trials_are_refused():
    with pytest.raises(ValueError, match="at least one trial"):
        plots.plot_search_stage([])
