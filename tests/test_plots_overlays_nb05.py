"""Tests for plots.plot_activation_overlays (notebook 05's activation figure)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231n_lib import plots  # noqa: E402


def _results(rng):
    return {("sigmoid", "small"): [0.5 + 1e-3 * rng.standard_normal((50, 4)) for _ in range(3)],
            ("sigmoid", "big"): [rng.random((50, 4)) for _ in range(3)],
            ("relu", "small"): [np.maximum(10.0 ** -k * rng.standard_normal((50, 4)), 0)
                                for k in range(3)]}


def test_one_panel_per_pair_with_ranges_log_rows_and_layer_legends():
    axes = plots.plot_activation_overlays(_results(np.random.default_rng(0)),
                                          value_ranges={"sigmoid": (0, 1)}, log_rows=("relu",))
    assert axes.shape == (2, 2)
    assert axes[0, 0].get_xlim() == (0.0, 1.0)
    assert axes[1, 0].get_xscale() == "log"
    labels = [t.get_text() for t in axes[1, 0].get_legend().get_texts()]
    assert len(labels) == 3 and all(label.startswith(f"L{k}: std") for k, label in
                                    enumerate(labels, start=1))
    assert "at 0, not shown" in axes[1, 0].get_title()
    # Every layer's peak is scaled to 1, also the narrow spike of the 'small' sigmoid.
    for patch in axes[0, 0].patches:
        assert np.isclose(np.max(patch.get_path().vertices[:, 1]), 1.0)
    assert axes[0, 0].get_title() == "sigmoid, small"
    plt.close("all")


def test_bad_keys_and_unknown_rows_are_refused():
    with pytest.raises(ValueError, match="row label, column label"):
        plots.plot_activation_overlays({"a": [np.ones((2, 2))]})
    with pytest.raises(ValueError, match="not in results"):
        plots.plot_activation_overlays({("a", "b"): [np.ones((2, 2))]}, log_rows=("c",))
    plt.close("all")
