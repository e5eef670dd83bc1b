"""Plots shared by the notebooks: loss and accuracy curves, activation histograms,
optimizer trajectories, hyperparameter-search scatter and update/weight ratios.

Every function takes an optional `ax` (or `axes`), labels its axes, adds a legend or colorbar
when it draws more than one series, and returns the axes it drew on.
"""
import math
import re

import matplotlib.pyplot as plt
import numpy as np

from cs231n_lib._validate import as_array, require_ndim

UPDATE_RATIO_GUIDE = 1e-3


def _new_ax(ax, figsize=(6, 4)):
    """Return `ax`, or the axes of a new figure when ax is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _finite_or_nan(values):
    """values as a float array (N,) with inf replaced by NaN so matplotlib skips them."""
    values = np.array(values, dtype=float).ravel()
    values[np.isinf(values)] = np.nan
    return values


def _check_x(name, x, length):
    """x-axis values (N,) matching a series of `length` points."""
    x = as_array(name, x).astype(float).ravel()
    if x.shape[0] != length:
        raise ValueError(f"{name} must have one value per point ({length}), got {x.shape[0]}")
    return x


def plot_loss(loss_history, epochs=None, log=False, ax=None, label=None):
    """Line plot of a loss history (T,) against epochs (T,) when given, else iterations.

    log=True uses a log-scaled loss axis. Non-finite losses (an aborted run) are left out.
    `label` names the curve in the legend, so several runs can share one `ax`.
    """
    losses = _finite_or_nan(loss_history)
    ax = _new_ax(ax)
    if epochs is None:
        x, xlabel = np.arange(1, losses.shape[0] + 1), "iteration"
    else:
        x, xlabel = _check_x("epochs", epochs, losses.shape[0]), "epoch"
    # Thin lines: per-batch losses are noisy and a thick line hides the trend.
    ax.plot(x, losses, linewidth=0.8, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("training loss" + (" (log scale)" if log else ""))
    if label is not None:
        ax.legend()
    return ax


def plot_accuracy(train_acc, val_acc, ax=None):
    """Train and validation accuracy (E,) against epochs 0..E-1 (entry e is after e epochs)."""
    train_acc, val_acc = _finite_or_nan(train_acc), _finite_or_nan(val_acc)
    if train_acc.shape != val_acc.shape:
        raise ValueError(f"train_acc and val_acc must have the same length, "
                         f"got {train_acc.shape[0]} and {val_acc.shape[0]}")
    ax = _new_ax(ax)
    epochs = np.arange(train_acc.shape[0])
    ax.plot(epochs, train_acc, marker="o", markersize=3, label="train")
    ax.plot(epochs, val_acc, marker="o", markersize=3, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def _layer_hist(ax, values, value_range, bins, name):
    """Histogram of one layer's activations (any shape) on `ax`, `name` and stats in the title."""
    values = np.asarray(values, dtype=float).ravel()
    # Adding 0.0 turns a rounded -0.0 into 0.0, so titles never read "mean -0.00".
    mean, std = round(float(values.mean()), 2) + 0.0, float(values.std())
    title = f"{name}: mean {mean:.2f}, std {std:.2f}"
    zeros = values == 0
    zero_frac = float(zeros.mean())
    # A ReLU-like layer puts a large share of its units at exactly 0: that spike would flatten
    # the rest of the histogram, so it is left out and reported in the title instead.
    if zero_frac > 0.1 and values.min() >= 0:
        values = values[~zeros]
        title += f"\n{zero_frac:.0%} exactly 0 (not shown)"
    # One filled step polygon instead of a rectangle per bin: much faster to draw.
    ax.hist(values, bins=bins, range=value_range, histtype="stepfilled", color="tab:blue")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("activation value")


def _value_range(activations):
    """(low, high) over all arrays, widened when they are all one value."""
    low = min(float(np.min(a)) for a in activations)
    high = max(float(np.max(a)) for a in activations)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"activations must be finite, got values from {low} to {high}")
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    return low, high


def plot_activation_histograms(activations_by_layer, activation_name=None, axes=None, bins=30):
    """One histogram per layer of activations (each (N, H)), mean/std in each title.

    All layers share the x range and the y axis so the change with depth is visible.
    activation_name labels the row (e.g. 'sigmoid'). axes: a sequence of at least as many
    axes as layers (a new row of subplots when None). Returns the axes used.
    """
    activations = [np.asarray(a) for a in activations_by_layer]
    if not activations:
        raise ValueError("activations_by_layer must hold at least one layer, got none")
    if axes is None:
        _, axes = plt.subplots(1, len(activations), figsize=(2.6 * len(activations), 2.8),
                               sharey=True, squeeze=False, layout="constrained")
        axes = axes[0]
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.shape[0] < len(activations):
        raise ValueError(f"axes must hold one axes per layer ({len(activations)}), "
                         f"got {axes.shape[0]}")
    value_range = _value_range(activations)
    for layer, (ax, values) in enumerate(zip(axes, activations), start=1):
        _layer_hist(ax, values, value_range, bins, f"layer {layer}")
    ylabel = "count" if activation_name is None else f"{activation_name}\ncount"
    axes[0].set_ylabel(ylabel)
    return axes[:len(activations)]


def plot_activation_grid(results, bins=30, figsize=None):
    """Grid of activation histograms: one row per entry of `results`, one column per layer.

    results: dict row label (e.g. 'sigmoid, std 1') -> list of layer activations (each (N, H)).
    Rows share the y axis within themselves. Returns the 2-D array of axes (rows, max layers).
    """
    if not results:
        raise ValueError("results must hold at least one row, got an empty dict")
    num_layers = max(len(layers) for layers in results.values())
    if num_layers == 0:
        raise ValueError("each row of results must hold at least one layer, got none")
    if figsize is None:
        figsize = (2.4 * num_layers, 2.4 * len(results))
    fig, axes = plt.subplots(len(results), num_layers, figsize=figsize, squeeze=False,
                             sharey="row", layout="constrained")
    for row, (label, layers) in zip(axes, results.items()):
        plot_activation_histograms(layers, activation_name=label, axes=row, bins=bins)
        for ax in row[len(layers):]:
            ax.set_visible(False)
    return axes


def _surface_values(f, points):
    """f at points (..., 2); accepts an f returning a value or a (value, grad) tuple."""
    values = f(points)
    if isinstance(values, tuple):
        values = values[0]
    values = np.asarray(values, dtype=float)
    if values.shape != points.shape[:-1]:
        raise ValueError(f"f must map points of shape (..., 2) to values (...); for points "
                         f"{points.shape} it returned shape {values.shape}")
    return values


def plot_trajectories(f, paths, xlim, ylim, ax=None, levels=20):
    """Optimizer paths over the contour lines of a 2-D function, start points marked.

    f: xy (..., 2) -> values (...), or a (values, grads) tuple like `data.bowl`.
    paths: dict name -> (T, 2) array of visited points. xlim, ylim: (low, high) of the view.
    levels: number (or list) of contour levels.
    """
    ax = _new_ax(ax, figsize=(7, 4.5))
    xs, ys = np.linspace(*xlim, 200), np.linspace(*ylim, 200)
    grid_x, grid_y = np.meshgrid(xs, ys)
    values = _surface_values(f, np.stack([grid_x, grid_y], axis=-1))
    ax.contour(grid_x, grid_y, values, levels=levels, colors="0.7", linewidths=0.7)
    for name, path in paths.items():
        path = as_array(f"paths[{name!r}]", path)
        require_ndim(f"paths[{name!r}]", path, 2)
        if path.shape[1] != 2:
            raise ValueError(f"paths[{name!r}] must have shape (T, 2), got {path.shape}")
        (line,) = ax.plot(path[:, 0], path[:, 1], marker=".", markersize=3, linewidth=1.2,
                          label=name)
        ax.plot(path[0, 0], path[0, 1], marker="o", markersize=8, linestyle="none",
                markerfacecolor="none", color=line.get_color())
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if paths:
        ax.legend(title="open circle: start", fontsize=8, title_fontsize=8)
    return ax


def _trial_value(trial, key):
    """The hyperparameter `key` of a trial dict {params, score, status} (or a flat dict)."""
    params = trial.get("params", trial)
    if key not in params:
        raise ValueError(f"trial has no hyperparameter {key!r}; it has {sorted(params)}")
    return float(params[key])


def plot_search_scatter(trials, x="learning_rate", y="reg", ax=None):
    """Search trials on log x/y axes colored by validation accuracy, with a colorbar.

    trials: list of dicts {params: dict, score: val accuracy, status: str}. Trials without a
    finite score (aborted, diverged) are drawn as grey crosses; the best trial gets a star.
    """
    if len(trials) == 0:
        raise ValueError("trials must hold at least one trial, got none")
    xs = np.array([_trial_value(t, x) for t in trials])
    ys = np.array([_trial_value(t, y) for t in trials])
    scores = np.array([np.nan if t.get("score") is None else float(t["score"]) for t in trials])
    ok = np.isfinite(scores)
    ax = _new_ax(ax, figsize=(6, 4.5))
    if ok.any():
        points = ax.scatter(xs[ok], ys[ok], c=scores[ok], cmap="viridis", s=40,
                            edgecolors="k", linewidths=0.3, label="trial")
        ax.figure.colorbar(points, ax=ax, label="validation accuracy")
        best = np.nanargmax(scores)
        ax.scatter(xs[best], ys[best], marker="*", s=250, facecolors="none",
                   edgecolors="red", linewidths=1.5,
                   label=f"best ({scores[best]:.3f})")
    if not ok.all():
        ax.scatter(xs[~ok], ys[~ok], marker="x", color="0.5", label="aborted / no score")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"{x} (log scale)")
    ax.set_ylabel(f"{y} (log scale)")
    ax.legend(fontsize=8)
    return ax


def _layer_styles(names):
    """Color per layer (trailing digits of a name like 'W3') and line style per kind ('W', 'b')."""
    split = [re.fullmatch(r"(.*?)(\d*)", name).groups() for name in names]
    layers = list(dict.fromkeys(layer for _, layer in split))
    kinds = list(dict.fromkeys(kind for kind, _ in split))
    cmap = plt.get_cmap("tab10" if len(layers) <= 10 else "tab20")
    dashes = ("-", "--", ":", "-.")
    return [(cmap(layers.index(layer) % cmap.N), dashes[kinds.index(kind) % len(dashes)])
            for kind, layer in split]


def plot_update_ratios(update_ratio_history, epochs=None, ax=None):
    """Update/weight ratio per parameter (dict name -> (T,)) on a log axis, 1e-3 guide line.

    epochs: (T,) x values (e.g. `Solver.epoch_of_iteration`), else iterations. Parameters of
    one layer share a color; weights are solid, biases dashed (gamma/beta dotted/dash-dot).
    """
    if not update_ratio_history:
        raise ValueError("update_ratio_history must hold at least one parameter, got none")
    ax = _new_ax(ax, figsize=(7, 4.5))
    names = list(update_ratio_history)
    xlabel = "iteration" if epochs is None else "epoch"
    for name, (color, linestyle) in zip(names, _layer_styles(names)):
        ratios = _finite_or_nan(update_ratio_history[name])
        ratios[ratios <= 0] = np.nan  # a log axis cannot show 0
        if epochs is None:
            x = np.arange(1, ratios.shape[0] + 1)
        else:
            x = _check_x("epochs", epochs, ratios.shape[0])
        ax.plot(x, ratios, linewidth=0.9, color=color, linestyle=linestyle, label=name)
    ax.axhline(UPDATE_RATIO_GUIDE, color="k", linestyle="--", linewidth=1.5,
               label="1e-3 guide")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("||update|| / ||w|| (log scale)")
    ax.legend(fontsize=8, ncol=2 if len(names) > 6 else 1)
    return ax


def plot_accuracy_gaps(runs, axes=None):
    """Train and validation accuracy per epoch, one panel per run, the gap between them shaded.

    runs: dict panel title -> (train_acc (E,), val_acc (E,)), entry e measured after e epochs.
    The panels share the y axis; each title ends with the final train - val gap.
    axes: a sequence of at least len(runs) axes (a new row of subplots when None).
    Returns the axes used.
    """
    if not runs:
        raise ValueError("runs must hold at least one run, got an empty dict")
    if axes is None:
        _, axes = plt.subplots(1, len(runs), figsize=(4.3 * len(runs), 3.6), sharey=True,
                               squeeze=False, layout="constrained")
        axes = axes[0]
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.shape[0] < len(runs):
        raise ValueError(f"axes must hold one axes per run ({len(runs)}), got {axes.shape[0]}")
    for ax, (title, (train_acc, val_acc)) in zip(axes, runs.items()):
        train_acc, val_acc = _finite_or_nan(train_acc), _finite_or_nan(val_acc)
        if train_acc.shape != val_acc.shape or train_acc.shape[0] == 0:
            raise ValueError(f"runs[{title!r}]: train_acc and val_acc must have the same, "
                             f"non-zero length, got {train_acc.shape[0]} and {val_acc.shape[0]}")
        epochs = np.arange(train_acc.shape[0])
        ax.plot(epochs, train_acc, linewidth=1.5, label="train")
        ax.plot(epochs, val_acc, linewidth=1.5, label="validation")
        ax.fill_between(epochs, val_acc, train_acc, color="0.5", alpha=0.2, label="gap")
        gap = train_acc[-1] - val_acc[-1]
        ax.set_title(f"{title}\nfinal gap {gap:.3f} (train {train_acc[-1]:.3f}, "
                     f"val {val_acc[-1]:.3f})", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    axes[0].set_ylabel("accuracy")
    return axes[:len(runs)]


def plot_activation_grid_in_ranges(results, value_ranges=None, bins=30, figsize=None):
    """plot_activation_grid with a fixed x range for some rows and 3-significant-digit titles.

    results: dict row label -> list of layer activations (each (N, H)), as for
    plot_activation_grid. value_ranges: dict row label -> (low, high) x range for that row
    (e.g. (0, 1) for a sigmoid, so a narrow spike reads as "all units alike"); rows without an
    entry keep their data range. Titles give mean and std with 3 significant digits, so
    exploding (1.6e+04) and vanishing (1.8e-06) layers stay readable.
    Returns the 2-D array of axes (rows, max layers).
    """
    value_ranges = {} if value_ranges is None else dict(value_ranges)
    unknown = sorted(set(value_ranges) - set(results))
    if unknown:
        raise ValueError(f"value_ranges has rows that are not in results: {unknown}")
    axes = plot_activation_grid(results, bins=bins, figsize=figsize)
    for row, (label, layers) in zip(axes, results.items()):
        for layer, (ax, values) in enumerate(zip(row, layers), start=1):
            values = np.asarray(values, dtype=float)
            # Keep the extra lines plot_activation_histograms adds (share of exact zeros).
            extra = ax.get_title().split("\n")[1:]
            first = f"layer {layer}: mean {values.mean():.3g}, std {values.std():.3g}"
            ax.set_title("\n".join([first, *extra]), fontsize=9)
            if label in value_ranges:
                ax.set_xlim(*value_ranges[label])
    return axes


def plot_grid_vs_random(layouts, objective, xlim, ylim, labels=("x", "y"), resolution=200):
    """Search layouts side by side on log axes, over the objective's map, with its x marginal on top.

    layouts: dict title -> points (N, 2) of hyperparameter values. objective: function
    points (M, 2) -> scores (M,) (higher is better), drawn as a colour map. xlim, ylim: the
    (low, high) values of the searched box. The top panel of each layout shows the score
    averaged over y as a function of x, with a mark at every distinct x value the layout tries
    and a star at the best of them. Returns the figure.
    """
    if not layouts:
        raise ValueError("layouts must hold at least one layout, got none")
    xs = np.logspace(np.log10(xlim[0]), np.log10(xlim[1]), resolution)
    ys = np.logspace(np.log10(ylim[0]), np.log10(ylim[1]), resolution)
    gx, gy = np.meshgrid(xs, ys)
    scores = np.asarray(objective(np.stack([gx.ravel(), gy.ravel()], axis=1)), dtype=float)
    scores = scores.reshape(gx.shape)
    marginal = scores.mean(axis=0)
    fig = plt.figure(figsize=(5.2 * len(layouts), 5.6), layout="constrained")
    grid = fig.add_gridspec(2, len(layouts), height_ratios=[1, 2.6])
    for column, (title, points) in enumerate(layouts.items()):
        points = as_array(f"layouts[{title!r}]", points).astype(float)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"layouts[{title!r}] must have shape (N, 2), got {points.shape}")
        top = fig.add_subplot(grid[0, column])
        main = fig.add_subplot(grid[1, column], sharex=top)
        tried = np.unique(points[:, 0])
        tried_scores = np.interp(np.log10(tried), np.log10(xs), marginal)
        top.plot(xs, marginal, color="k", linewidth=1.2, label="score averaged over y")
        top.plot(tried, tried_scores, "o", color="tab:blue", markersize=5,
                 label=f"{tried.size} distinct x values tried")
        best = int(np.argmax(tried_scores))
        top.plot(tried[best], tried_scores[best], "*", color="red", markersize=14,
                 label=f"best x tried (score {tried_scores[best]:.2f})")
        top.set_ylabel("score")
        top.set_title(title)
        top.legend(fontsize=7, loc="upper left")
        top.tick_params(labelbottom=False)
        image = main.pcolormesh(gx, gy, scores, cmap="Greens", shading="auto")
        main.scatter(points[:, 0], points[:, 1], s=45, color="tab:blue", edgecolors="k",
                     linewidths=0.5, zorder=3, clip_on=False, label=f"{points.shape[0]} trials")
        main.set_xscale("log")
        main.set_yscale("log")
        main.set_xlim(*xlim)
        main.set_ylim(*ylim)
        main.set_xlabel(f"{labels[0]} (log scale)")
        main.set_ylabel(f"{labels[1]} (log scale)")
        main.legend(fontsize=8, loc="upper right")
    fig.colorbar(image, ax=fig.axes, label="score", shrink=0.6)
    return fig


def plot_search_ranges(spaces, x="learning_rate", y="reg", ax=None, labels=None):
    """Outline the log10 box of each search space (dict name -> ('log', low, high)) on log axes.

    spaces: list of spaces, e.g. the stage spaces of search.coarse_to_fine; labels: one legend
    label per space (default 'stage 0 range', ...). Returns the axes.
    """
    from matplotlib.patches import Rectangle
    if len(spaces) == 0:
        raise ValueError("spaces must hold at least one search space, got none")
    ax = _new_ax(ax)
    labels = [f"stage {i} range" for i in range(len(spaces))] if labels is None else labels
    styles = ("-", "--", ":", "-.")
    corners = []
    for i, (space, label) in enumerate(zip(spaces, labels)):
        for name in (x, y):
            if name not in space or space[name][0] != "log":
                raise ValueError(f"space {i} needs a ('log', low, high) entry for {name!r}, "
                                 f"got {space.get(name)!r}")
        (_, x_low, x_high), (_, y_low, y_high) = space[x], space[y]
        box = Rectangle((10.0 ** x_low, 10.0 ** y_low), 10.0 ** x_high - 10.0 ** x_low,
                        10.0 ** y_high - 10.0 ** y_low, fill=False, edgecolor="k",
                        linewidth=1.3, linestyle=styles[i % len(styles)], label=label)
        ax.add_patch(box)
        corners.append((x_low, x_high, y_low, y_high))
    ax.set_xscale("log")
    ax.set_yscale("log")
    # Patches do not always enter autoscaling on log axes: make every box visible, with room.
    corners = np.array(corners)
    x_low, x_high = corners[:, 0].min(), corners[:, 1].max()
    y_low, y_high = corners[:, 2].min(), corners[:, 3].max()
    x_pad, y_pad = 0.04 * (x_high - x_low), 0.04 * (y_high - y_low)
    left, right = ax.get_xlim()
    ax.set_xlim(min(left, 10.0 ** (x_low - x_pad)), max(right, 10.0 ** (x_high + x_pad)))
    bottom, top = ax.get_ylim()
    ax.set_ylim(min(bottom, 10.0 ** (y_low - y_pad)), max(top, 10.0 ** (y_high + y_pad)))
    ax.legend(fontsize=8)
    return ax


def _overlay_bins(layers, value_range, log, bins):
    """Bin edges shared by every layer of one panel: linear in value_range, or log-spaced."""
    if not log:
        return np.linspace(value_range[0], value_range[1], bins + 1)
    positive = np.concatenate([a[a > 0] for a in layers])
    if positive.size == 0:
        raise ValueError("a log-scale panel needs some positive activations, got none")
    # The 0.1st percentile, not the minimum: a few near-zero values would waste decades.
    low, high = float(np.percentile(positive, 0.1)), float(positive.max())
    if high <= low * 1.0001:
        low, high = low / 2, high * 2
    return np.geomspace(low, high, bins + 1)


def plot_activation_overlays(results, value_ranges=None, log_rows=(), bins=40, figsize=None):
    """Activation histograms of every layer overlaid in one panel per (row, column) pair.

    results: dict (row label, column label) -> list of layer activations (each any shape), e.g.
        ("tanh", "Xavier") -> [a_1, ..., a_5]. Rows are typically activations, columns inits.
    value_ranges: dict row label -> (low, high): the x range of that row's panels (e.g. (0, 1)
        for a sigmoid, so a narrow spike reads as "all units alike"); other rows use their data.
    log_rows: row labels drawn on a log x axis over the positive values only (ReLU: exact zeros
        are left out and their mean share is given in the title), so layers whose scale differs by
        decades stay visible side by side.
    Each layer is a step line, light (layer 1) to dark (last layer), its height scaled so its
    peak is 1: a layer whose values all fall in one bin shows as one tall narrow spike instead
    of flattening the others. The legend gives each layer's std.
    Returns the 2-D array of axes (rows, columns).
    """
    if not results:
        raise ValueError("results must hold at least one (row, column) entry, got an empty dict")
    if any(not isinstance(key, tuple) or len(key) != 2 for key in results):
        raise ValueError("results must be keyed by (row label, column label) pairs, "
                         f"got keys {list(results)[:3]}")
    value_ranges = {} if value_ranges is None else dict(value_ranges)
    rows = list(dict.fromkeys(row for row, _ in results))
    cols = list(dict.fromkeys(col for _, col in results))
    unknown = sorted(set(value_ranges) - set(rows)) + sorted(set(log_rows) - set(rows))
    if unknown:
        raise ValueError(f"value_ranges / log_rows name rows that are not in results: {unknown}")
    if figsize is None:
        figsize = (2.9 * len(cols), 2.5 * len(rows))
    fig, axes = plt.subplots(len(rows), len(cols), figsize=figsize, squeeze=False,
                             layout="constrained")
    for (row, col), layers in results.items():
        ax = axes[rows.index(row), cols.index(col)]
        layers = [np.asarray(a, dtype=float).ravel() for a in layers]
        if not layers:
            raise ValueError(f"results[{(row, col)!r}] holds no layers")
        log = row in log_rows
        value_range = value_ranges.get(row) or _value_range(layers)
        edges = _overlay_bins(layers, value_range, log, bins)
        colors = plt.cm.viridis(np.linspace(0.85, 0.0, len(layers)))
        for layer, (values, color) in enumerate(zip(layers, colors), start=1):
            label = f"L{layer}: std {values.std():.2g}"
            if log:
                values = values[values > 0]
            counts, _ = np.histogram(values, bins=edges)
            heights = counts / counts.max() if counts.max() > 0 else counts.astype(float)
            ax.stairs(heights, edges, color=color, linewidth=1.4, label=label)
        if log:
            ax.set_xscale("log")
        else:
            ax.set_xlim(*value_range)
        ax.set_ylim(0, 1.6)  # headroom above the peaks for the legend
        ax.set_yticks([])
        title = f"{row}, {col}"
        if log:
            zero_share = np.mean([np.mean(a == 0) for a in layers])
            title += f" ({zero_share:.0%} at 0, not shown)"
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=6.5, loc="upper center", ncol=2, frameon=False,
                  handlelength=1.0, columnspacing=0.8)
    for row_index, row in enumerate(rows):
        axes[row_index, 0].set_ylabel("count (peak = 1)")
        for ax in axes[row_index]:
            ax.set_xlabel("activation value" + (" > 0 (log)" if row in log_rows else ""),
                          fontsize=8)
    return axes


def plot_search_stage(trials, ax=None, x="learning_rate", y="reg", cmap="viridis",
                      score_label="validation accuracy", score_range=None):
    """Search trials on log x/y axes coloured by score, on a colour scale of their own.

    Like plot_search_scatter, but each stage of a search gets its own colormap (`cmap`) and
    colorbar label (`score_label`, e.g. "val acc after 1 epoch (coarse)"), so two panels
    whose scores mean different things never share a colormap with different ranges.
    score_range: (low, high) of the colour scale (default: the finite scores' range).
    Diverged trials (no finite score) are red crosses; the best trial gets a red star.
    Returns the axes.
    """
    if len(trials) == 0:
        raise ValueError("trials must hold at least one trial, got none")
    xs = np.array([_trial_value(t, x) for t in trials])
    ys = np.array([_trial_value(t, y) for t in trials])
    scores = np.array([np.nan if t.get("score") is None else float(t["score"]) for t in trials])
    ok = np.isfinite(scores)
    ax = _new_ax(ax, figsize=(6, 4.5))
    if ok.any():
        low, high = score_range if score_range is not None else (scores[ok].min(),
                                                                   scores[ok].max())
        points = ax.scatter(xs[ok], ys[ok], c=scores[ok], cmap=cmap, vmin=low, vmax=high, s=40,
                            edgecolors="k", linewidths=0.3, label="trial")
        ax.figure.colorbar(points, ax=ax, label=score_label)
        best = np.nanargmax(scores)
        ax.scatter(xs[best], ys[best], marker="*", s=250, facecolors="none", edgecolors="red",
                   linewidths=1.5, label=f"best ({scores[best]:.3f})")
    if not ok.all():
        ax.scatter(xs[~ok], ys[~ok], marker="x", color="red", s=50,
                   label="diverged (aborted, no score)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"{x} (log scale)")
    ax.set_ylabel(f"{y} (log scale)")
    return ax
