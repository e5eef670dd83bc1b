"""Learning-rate schedules: the learning rate to use in a given epoch.

Each schedule is a pure function of the start learning rate and the epoch (0 for the first
epoch), so it can be plotted, tested and handed to the Solver as `lr_schedule` via
`schedule_for`. `epoch` may be an int or an integer array; the result has its shape.

- step_decay: multiply by `factor` every `drop_every` epochs (e.g. halve every 5 epochs);
- exponential_decay: multiply by `decay` after every epoch, like the `learning_rate_decay`
  argument of the lecture's trainer and the Solver's `lr_decay` (lr * decay**epoch);
- cosine_decay: follow half a cosine from the start rate down to `final_lr` over `num_epochs`.
"""
import math

import numpy as np

__all__ = ["step_decay", "exponential_decay", "cosine_decay", "schedule_for"]


def _epochs(epoch):
    """epoch as a float array (0-d for an int), checked to hold whole numbers >= 0."""
    if isinstance(epoch, bool):
        raise ValueError(f"epoch must be an integer >= 0 (or an array of them), got {epoch!r}")
    array = np.asarray(epoch)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"epoch must be an integer >= 0 (or an array of them), got {epoch!r}")
    if np.any(array < 0) or np.any(array != np.floor(array)):
        raise ValueError(f"epoch must hold whole numbers >= 0, got {epoch!r}")
    return array.astype(np.float64)


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _result(values, epoch):
    """A float for a scalar epoch, an array for an array of epochs."""
    return float(values) if np.ndim(epoch) == 0 else values


def step_decay(learning_rate, epoch, drop_every, factor=0.5):
    """learning_rate * factor ** floor(epoch / drop_every): constant, then a drop every
    `drop_every` epochs (epochs 0 .. drop_every-1 use the start rate)."""
    learning_rate = _positive("learning_rate", learning_rate)
    drop_every = _positive("drop_every", drop_every)
    factor = _positive("factor", factor)
    epochs = _epochs(epoch)
    return _result(learning_rate * factor ** np.floor(epochs / drop_every), epoch)


def exponential_decay(learning_rate, epoch, decay):
    """learning_rate * decay ** epoch: the rate is multiplied by `decay` after every epoch."""
    learning_rate = _positive("learning_rate", learning_rate)
    decay = _positive("decay", decay)
    return _result(learning_rate * decay ** _epochs(epoch), epoch)


def cosine_decay(learning_rate, epoch, num_epochs, final_lr=0.0):
    """final_lr + (learning_rate - final_lr) * (1 + cos(pi * epoch / num_epochs)) / 2.

    Starts at learning_rate in epoch 0 and reaches final_lr at epoch num_epochs (epochs past
    the end stay at final_lr).
    """
    learning_rate = _positive("learning_rate", learning_rate)
    num_epochs = _positive("num_epochs", num_epochs)
    if isinstance(final_lr, bool) or not 0 <= final_lr <= learning_rate:
        raise ValueError(f"final_lr must lie in [0, learning_rate={learning_rate:g}], "
                         f"got {final_lr!r}")
    progress = np.minimum(_epochs(epoch) / num_epochs, 1.0)
    values = final_lr + (learning_rate - final_lr) * 0.5 * (1.0 + np.cos(np.pi * progress))
    return _result(values, epoch)


def schedule_for(schedule, learning_rate, **kwargs):
    """A Solver `lr_schedule`: epoch -> schedule(learning_rate, epoch, **kwargs).

    e.g. Solver(..., lr_schedule=schedule_for(step_decay, 0.1, drop_every=5)).
    """
    if not callable(schedule):
        raise ValueError(f"schedule must be a function (learning_rate, epoch, ...), got {schedule!r}")

    def lr_schedule(epoch):
        return float(schedule(learning_rate, epoch, **kwargs))
    lr_schedule.__name__ = f"{getattr(schedule, '__name__', 'schedule')}_from_{learning_rate:g}"
    return lr_schedule
