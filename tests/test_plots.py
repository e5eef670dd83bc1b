"""Tests of cs231n_lib.plots on the Agg backend; each test also saves a preview PNG."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231n_lib import plots  # noqa: E402

PREVIEW_DIR = Path("/tmp/plots_preview")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def save_preview(ax_or_axes, name):
    """Write the figure holding these axes to PREVIEW_DIR/name.png for a human to look at."""
    ax = np.asarray(ax_or_axes, dtype=object).ravel()[0]
    PREVIEW_DIR.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(PREVIEW_DIR / f"{name}.png", dpi=80)


def legend_texts(ax):
    """The legend entries of ax (empty when it has no legend)."""
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def noisy_loss(rng, num_iterations=300, rate=0.02, start=2.3):
    """A decaying per-batch loss curve (T,) with multiplicative noise."""
    t = np.arange(num_iterations)
    return (start * np.exp(-rate * t) + 0.1) * np.exp(0.1 * rng.standard_normal(num_iterations))


def test_plot_loss_by_iteration_and_epoch():
    rng = np.random.default_rng(0)
    losses = noisy_loss(rng)
    ax = plots.plot_loss(losses)
    assert len(ax.lines) == 1 and ax.get_xlabel() == "iteration"
    assert ax.get_ylabel() == "training loss" and ax.get_legend() is None

    epochs = np.arange(300) / 30
    ax = plots.plot_loss(losses, epochs=epochs, label="lr 1e-3")
    plots.plot_loss(noisy_loss(rng, rate=0.005), epochs=epochs, ax=ax, label="lr 1e-4")
    assert ax.get_xlabel() == "epoch" and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_xdata(), epochs)
    assert legend_texts(ax) == ["lr 1e-3", "lr 1e-4"]
    save_preview(ax, "loss_by_epoch")


def test_plot_loss_log_scale_skips_non_finite_losses():
    losses = noisy_loss(np.random.default_rng(1))
    losses[-1] = np.inf
    ax = plots.plot_loss(losses, log=True)
    assert ax.get_yscale() == "log" and "log" in ax.get_ylabel()
    assert np.isnan(ax.lines[0].get_ydata()[-1])
    save_preview(ax, "loss_log")


def test_plot_loss_rejects_epochs_of_wrong_length():
    with pytest.raises(ValueError, match="epochs"):
        plots.plot_loss([1.0, 0.5, 0.2], epochs=[0.0, 0.5])


def test_plot_accuracy():
    train = [0.1, 0.6, 0.8, 0.9, 0.95, 0.97]
    val = [0.1, 0.55, 0.7, 0.74, 0.75, 0.75]
    ax = plots.plot_accuracy(train, val)
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(6))
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "accuracy"
    assert legend_texts(ax) == ["train", "validation"]
    save_preview(ax, "accuracy")
    with pytest.raises(ValueError, match="same length"):
        plots.plot_accuracy(train, val[:-1])


def fake_activations(kind, rng, num_layers=5, n=1000, width=100):
    """Layer activations (n, width) of a deep net at Xavier init, for the histograms."""
    x = rng.standard_normal((n, width))
    layers = []
    for _ in range(num_layers):
        z = x @ (rng.standard_normal((width, width)) / np.sqrt(width))
        x = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh,
             "relu": lambda v: np.maximum(v, 0)}[kind](z)
        layers.append(x)
    return layers


def test_plot_activation_histograms():
    acts = fake_activations("tanh", np.random.default_rng(0))
    axes = plots.plot_activation_histograms(acts, activation_name="tanh", bins=25)
    assert len(axes) == 5
    for layer, (ax, a) in enumerate(zip(axes, acts), start=1):
        assert len(ax.patches) == 1  # one filled step polygon
        mean = round(a.mean(), 2) + 0.0
        assert ax.get_title().startswith(f"layer {layer}: mean {mean:.2f}, std {a.std():.2f}")
        assert ax.get_xlabel() == "activation value"
    assert axes[0].get_ylabel() == "tanh\ncount"
    save_preview(axes, "activation_histograms")


def test_relu_histograms_leave_out_the_zero_spike():
    acts = fake_activations("relu", np.random.default_rng(0), num_layers=2)
    axes = plots.plot_activation_histograms(acts)
    zero_frac = np.mean(acts[0] == 0)
    assert f"{zero_frac:.0%} exactly 0" in axes[0].get_title()
    value_range = (min(a.min() for a in acts), max(a.max() for a in acts))
    nonzero_counts, _ = np.histogram(acts[0][acts[0] != 0], bins=30, range=value_range)
    heights = axes[0].patches[0].get_xy()[:, 1]
    assert heights.max() == nonzero_counts.max()


def test_plot_activation_grid():
    rng = np.random.default_rng(0)
    results = {name: fake_activations(name, rng) for name in ("sigmoid", "tanh")}
    results["relu, 3 layers"] = fake_activations("relu", rng, num_layers=3)
    axes = plots.plot_activation_grid(results)
    assert axes.shape == (3, 5)
    assert [row[0].get_ylabel().split("\n")[0] for row in axes] == list(results)
    assert not axes[2, 4].get_visible() and axes[2, 2].get_visible()
    assert all(len(ax.patches) == 1 for ax in axes[:2].ravel())  # one step polygon each
    save_preview(axes, "activation_grid")


def bowl_with_grad(xy):
    """f = x**2/20 + y**2 at xy (..., 2), returned with its gradient like data.bowl."""
    x, y = xy[..., 0], xy[..., 1]
    return x ** 2 / 20 + y ** 2, np.stack([x / 10, 2 * y], axis=-1)


def descend(f, start, learning_rate, steps=40, momentum=0.0):
    """Gradient descent path (steps+1, 2) on f, with optional momentum."""
    w, v, path = np.array(start, dtype=float), np.zeros(2), [np.array(start, dtype=float)]
    for _ in range(steps):
        v = momentum * v - learning_rate * f(w)[1]
        w = w + v
        path.append(w)
    return np.array(path)


def test_plot_trajectories():
    paths = {"sgd": descend(bowl_with_grad, (-7, 2), 0.9),
             "momentum": descend(bowl_with_grad, (-7, 2), 0.1, momentum=0.9)}
    ax = plots.plot_trajectories(bowl_with_grad, paths, xlim=(-8, 8), ylim=(-3, 3))
    assert len(ax.lines) == 2 * len(paths)  # each path plus its start marker
    assert len(ax.collections) == 1  # the contour set
    assert legend_texts(ax) == ["sgd", "momentum"]
    np.testing.assert_allclose(ax.lines[1].get_xydata(), [[-7, 2]])
    assert ax.get_xlim() == (-8, 8) and ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    save_preview(ax, "trajectories")


def test_plot_trajectories_accepts_plain_value_functions_and_checks_paths():
    def saddle(xy):
        return xy[..., 0] ** 2 - xy[..., 1] ** 2

    ax = plots.plot_trajectories(saddle, {"one": [[0.5, 0.01], [0.1, 0.02]]}, (-1, 1), (-1, 1))
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        plots.plot_trajectories(saddle, {"bad": np.zeros((4, 3))}, (-1, 1), (-1, 1))


def fake_trials(rng, num_trials=30):
    """Search trials {params, score, status}: best near lr 1e-3, two diverged runs."""
    trials = []
    for i in range(num_trials):
        lr, reg = 10 ** rng.uniform(-6, -1), 10 ** rng.uniform(-5, 1)
        score = 0.9 - 0.15 * abs(np.log10(lr) + 3) - 0.1 * max(np.log10(reg) + 2, 0)
        diverged = i < 2
        trials.append({"params": {"learning_rate": lr, "reg": reg},
                       "score": None if diverged else max(score, 0.1),
                       "status": "aborted" if diverged else "ok"})
    return trials


def test_plot_search_scatter():
    trials = fake_trials(np.random.default_rng(0))
    ax = plots.plot_search_scatter(trials)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel().startswith("learning_rate") and ax.get_ylabel().startswith("reg")
    assert len(ax.collections) == 3  # scored trials, best star, aborted crosses
    assert len(ax.figure.axes) == 2  # the colorbar
    assert ax.figure.axes[1].get_ylabel() == "validation accuracy"
    best = max(t["score"] for t in trials if t["score"] is not None)
    assert legend_texts(ax) == ["trial", f"best ({best:.3f})", "aborted / no score"]
    save_preview(ax, "search_scatter")


def test_plot_search_scatter_without_failures_and_with_missing_key():
    trials = [t for t in fake_trials(np.random.default_rng(1)) if t["score"] is not None]
    ax = plots.plot_search_scatter(trials, x="reg", y="learning_rate")
    assert len(ax.collections) == 2 and ax.get_xlabel().startswith("reg")
    with pytest.raises(ValueError, match="momentum"):
        plots.plot_search_scatter(trials, y="momentum")


def test_plot_update_ratios():
    rng = np.random.default_rng(0)
    t = np.arange(200)
    history = {}
    for layer in range(1, 4):
        history[f"W{layer}"] = 3e-3 * np.exp(-t / 150) * np.exp(0.2 * rng.standard_normal(200))
        history[f"b{layer}"] = np.r_[np.nan, 1e-2 * np.exp(-t[1:] / 100)]
    ax = plots.plot_update_ratios(history, epochs=t / 20)
    assert len(ax.lines) == len(history) + 1
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    guide = ax.lines[-1]
    np.testing.assert_allclose(guide.get_ydata(), [1e-3, 1e-3])
    assert legend_texts(ax) == list(history) + ["1e-3 guide"]
    w1, b1, w2 = ax.lines[:3]  # one color per layer, one line style per kind
    assert w1.get_color() == b1.get_color() != w2.get_color()
    assert w1.get_linestyle() != b1.get_linestyle()
    save_preview(ax, "update_ratios")
    ax = plots.plot_update_ratios(history)
    assert ax.get_xlabel() == "iteration"


def test_every_function_draws_on_a_given_ax():
    fig, axes = plt.subplots(2, 3)
    rng = np.random.default_rng(0)
    assert plots.plot_loss([2.0, 1.0], ax=axes[0, 0]) is axes[0, 0]
    assert plots.plot_accuracy([0.1, 0.5], [0.1, 0.4], ax=axes[0, 1]) is axes[0, 1]
    assert plots.plot_trajectories(bowl_with_grad, {}, (-1, 1), (-1, 1), ax=axes[0, 2]) is axes[0, 2]
    assert plots.plot_search_scatter(fake_trials(rng), ax=axes[1, 0]) is axes[1, 0]
    assert plots.plot_update_ratios({"W1": [1e-3, 2e-3]}, ax=axes[1, 1]) is axes[1, 1]
    used = plots.plot_activation_histograms([rng.standard_normal((10, 4))], axes=[axes[1, 2]])
    assert used[0] is axes[1, 2]


def test_importing_the_library_does_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys, cs231n_lib, cs231n_lib.solver; "
            "sys.exit(int('matplotlib' in sys.modules or 'tqdm' in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
