"""Babysitting a training run: guarded steps that stop the pipeline when a sanity check fails,
and the verdict on a short run at one learning rate (too low / good / too high).

The lecture's order (notebook 09): preprocess with training statistics, check the initial loss
with regularization off, check that the loss rises with regularization, overfit a tiny subset,
find a learning-rate range, then search and train. Each step ends with `guard(...)`, which
prints one line when the check passes and raises PipelineStop when it fails, so a broken step
never feeds the next one.
"""
import numpy as np

__all__ = ["PipelineStop", "guard", "LR_VERDICTS", "learning_rate_verdicts"]

LR_VERDICTS = ("too low", "good", "too high")


class PipelineStop(RuntimeError):
    """A babysitting step's sanity check failed: fix it before training any further."""


def guard(step, passed, detail, fix=""):
    """Print '[ok] step: detail' when `passed`, else raise PipelineStop naming the step.

    step: the step's name; detail: the measured numbers in words; fix: what to look at when
    the check fails (printed in the PipelineStop message).
    """
    if not passed:
        raise PipelineStop(f"step '{step}' failed: {detail}." + (f" {fix}" if fix else ""))
    print(f"[ok] {step}: {detail}")
    return True


def _verdict(losses, min_drop):
    losses = np.asarray(losses, dtype=np.float64)
    if not np.all(np.isfinite(losses)):
        return "too high"
    initial = losses[0]
    # Mini-batch losses are noisy: judge the end of the run by the mean of its last fifth.
    final = float(np.mean(losses[-max(1, losses.shape[0] // 5):]))
    drop = (initial - final) / initial     # relative: means the same for any number of classes
    if drop < -min_drop:
        return "too high"
    if drop < min_drop:
        return "too low"
    return "good"


def learning_rate_verdicts(loss_histories, min_drop=0.1):
    """Verdict on each short run: 'too high', 'too low' or 'good' (one string per run).

    loss_histories: list of loss histories, one per learning rate; each of shape (T,), T >= 5,
    the mini-batch losses in order (a run aborted by the Solver may end early with nan/inf).
    - 'too high': the run blew up (any nan/inf), or its loss grew by more than min_drop of
      the initial loss;
    - 'too low': the loss changed by less than min_drop of the initial loss (either way):
      it barely moved;
    - 'good': the loss fell by more than min_drop of the initial loss.
    The end of a run is the mean of its last fifth (at least one loss), never one noisy batch.
    """
    return [_verdict(losses, min_drop) for losses in loss_histories]
