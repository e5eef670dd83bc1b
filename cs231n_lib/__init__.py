"""cs231n_lib: the numpy reference library of the *Training Neural Networks* course.

Submodules (imported lazily so that ``import cs231n_lib`` stays fast):
layers, losses, gradient_check, optim, init, models, solver, monitor,
search, data, plots, grading.
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "layers", "losses", "gradient_check", "optim", "init", "models", "solver",
    "monitor", "search", "data", "plots", "grading",
)


def __getattr__(name):
    # Lazy import: `cs231n_lib.plots` pulls in matplotlib only when first used.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
