"""Solver: the mini-batch training loop with histories, lr decay, best-params tracking and early abort."""
import copy
import math

import numpy as np

from cs231n_lib._validate import require_positive
from cs231n_lib.optim import get_update_rule

_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
_EVAL_BATCH_SIZE = 1000


class Solver:
    """Train a classification model with mini-batch gradient descent and record what happened.

    Model contract (anything with these attributes works, not only `FullyConnectedNet`):
    - `model.params`: dict name -> ndarray of the learnable parameters. The solver replaces
      entries with updated arrays (`model.params[name] = next_w`); it never updates in place.
    - `model.loss(X, y)`: X a batch of shape (N, ...), y int labels of shape (N,). Train mode;
      returns `(loss, grads)`, loss a scalar and grads a dict with the same keys and shapes as
      `model.params`.
    - `model.loss(X)` (y is None): test mode (no dropout, batchnorm running stats); returns the
      class scores of shape (N, C).
    - `model.reg` (optional): the L2 strength, only shown in verbose output; the penalty itself
      belongs in `model.loss`.

    data: dict with X_train (N_train, ...), y_train (N_train,), X_val (N_val, ...), y_val (N_val,).
    update_rule: a name known to `cs231n_lib.optim.get_update_rule` ('sgd', 'adam', ...) or a
    callable `next_w, config = rule(w, dw, config)`. Each parameter gets its own deep copy of
    `optim_config`; after every epoch its 'learning_rate' is multiplied by `lr_decay`.
    lr_schedule (instead of lr_decay): a function epoch -> learning rate, called at the start
    of every epoch (0 for the first) to set every parameter's 'learning_rate', e.g.
    `cs231n_lib.schedules.schedule_for(step_decay, 0.1, drop_every=5)`.

    Each epoch visits a fresh random permutation of the training set in `N_train // batch_size`
    batches (one batch of all N_train when N_train < batch_size). Permutations come from a
    `numpy.random.Generator` seeded with `seed`, so equal seeds give identical histories.

    verbose=True prints the accuracies after every epoch, the loss every `print_every`
    iterations (never when None) and the abort reason; progress=True shows a tqdm.auto bar over
    the iterations. `train()` starts histories, optimizer states and random streams afresh
    from the model's current params, and returns the solver.

    After `train()`:
    - `loss_history[t]`: the mini-batch loss of iteration t (computed before update t).
    - `epoch_of_iteration[t]`: t / iterations_per_epoch, the epochs of training done when that
      loss was measured; plot losses against it, not against t.
    - `train_acc_history[e]`, `val_acc_history[e]`: accuracies after e completed epochs; entry 0 is
      measured before training starts, so both have num_epochs + 1 entries after a full run.
      Train accuracy uses the same random subset of `num_train_samples` examples every epoch
      (None = all), validation the same subset of `num_val_samples` (None = all).
    - `update_ratio_history[name][t]`: ||next_w - w|| / ||w|| of iteration t (NaN while ||w|| = 0,
      e.g. for zero-initialized biases at the first step, and at an aborted iteration, which
      makes no update).
    - `best_val_acc`, `best_params` (copies of the params at the best epoch check, earliest on
      ties). When `restore_best` is True, the best params are copied back into `model.params`
      at the end of training, also after an abort. Only `model.params` is restored: state kept
      elsewhere (batchnorm running averages in `model.bn_params`) stays as training left it.
    - `lr_history[e]`: the learning rate used in epoch e (None if the rule has none).
    - `aborted`, `abort_reason`: training stops early when a loss is not finite or exceeds
      `abort_factor` times the first loss (abort_factor=None disables the second test).
    """

    def __init__(self, model, data, update_rule="sgd", optim_config=None, lr_decay=1.0,
                 batch_size=100, num_epochs=10, num_train_samples=1000, num_val_samples=None,
                 print_every=None, verbose=False, progress=False, seed=0, abort_factor=3.0,
                 restore_best=True, lr_schedule=None):
        _check_model(model)
        self.model = model
        self.X_train, self.y_train = _check_split(data, "train")
        self.X_val, self.y_val = _check_split(data, "val")
        self.update_rule = get_update_rule(update_rule)
        self.optim_config = {} if optim_config is None else dict(optim_config)
        self.lr_decay = _check_positive_number("lr_decay", lr_decay)
        if lr_schedule is not None and not callable(lr_schedule):
            raise ValueError(f"lr_schedule must be a function epoch -> learning rate, "
                             f"got {lr_schedule!r}")
        if lr_schedule is not None and self.lr_decay != 1.0:
            raise ValueError("give either lr_decay or lr_schedule, not both "
                             "(a schedule already says the rate of every epoch)")
        self.lr_schedule = lr_schedule
        self.batch_size = _check_count("batch_size", batch_size)
        self.num_epochs = _check_count("num_epochs", num_epochs)
        self.num_train_samples = _check_optional_count("num_train_samples", num_train_samples)
        self.num_val_samples = _check_optional_count("num_val_samples", num_val_samples)
        self.print_every = _check_optional_count("print_every", print_every)
        self.verbose = bool(verbose)
        self.progress = bool(progress)
        self.seed = seed
        if abort_factor is not None:
            _check_positive_number("abort_factor", abort_factor)
        self.abort_factor = abort_factor
        self.restore_best = bool(restore_best)
        num_train = self.X_train.shape[0]
        self.iterations_per_epoch = max(num_train // self.batch_size, 1)
        self.num_iterations = self.num_epochs * self.iterations_per_epoch
        self._reset()

    def _reset(self):
        """Fresh histories, optimizer states and random streams for one run."""
        # Two independent streams: batch order must not depend on how accuracy is sampled.
        batch_seq, eval_seq = np.random.SeedSequence(self.seed).spawn(2)
        self._batch_rng = np.random.default_rng(batch_seq)
        self._eval_rng = np.random.default_rng(eval_seq)
        self.optim_configs = {name: copy.deepcopy(self.optim_config) for name in self.model.params}
        self.epoch = 0
        self.loss_history = []
        self.epoch_of_iteration = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.lr_history = []
        self.update_ratio_history = {name: [] for name in self.model.params}
        self.best_val_acc = -math.inf
        self.best_params = {}
        self.aborted = False
        self.abort_reason = None

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of correct test-mode predictions on X (N, ...) with labels y (N,).

        num_samples: evaluate a random subset of this size (drawn from the solver's evaluation
        stream) instead of all N. Predictions are made in batches of `batch_size` rows.
        """
        num_samples = _check_optional_count("num_samples", num_samples)
        batch_size = _check_count("batch_size", batch_size)
        if len(X) != len(y):
            raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
        if num_samples is not None and num_samples < len(X):
            idx = self._eval_rng.choice(len(X), num_samples, replace=False)
            X, y = X[idx], y[idx]
        return self._accuracy(X, y, batch_size)

    def _accuracy(self, X, y, batch_size=100):
        """Accuracy of the model on all of X (N, ...), y (N,), predicted in batches."""
        if len(y) == 0:
            return float("nan")
        correct = 0
        for start in range(0, len(y), batch_size):
            scores = self.model.loss(X[start:start + batch_size])
            correct += int(np.sum(np.argmax(scores, axis=1) == y[start:start + batch_size]))
        return correct / len(y)

    def _eval_subset(self, X, y, num_samples):
        """Fixed random subset (copied once) used for the per-epoch accuracy checks."""
        if num_samples is None or num_samples >= len(X):
            return X, y
        idx = np.sort(self._eval_rng.choice(len(X), num_samples, replace=False))
        return X[idx], y[idx]

    def _record_accuracies(self, X_tr, y_tr, X_va, y_va):
        """Append train/val accuracy after `self.epoch` epochs and keep the best params."""
        # Evaluation batches need not match the training batch size (which may be 1).
        train_acc = self._accuracy(X_tr, y_tr, _EVAL_BATCH_SIZE)
        val_acc = self._accuracy(X_va, y_va, _EVAL_BATCH_SIZE)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {name: w.copy() for name, w in self.model.params.items()}
        return train_acc, val_acc

    def _step(self, X_batch, y_batch):
        """One forward/backward pass and one update of every parameter; returns the loss."""
        loss, grads = self.model.loss(X_batch, y_batch)
        loss = float(loss)
        self.loss_history.append(loss)
        if self._abort_needed(loss):
            # No update is made, but every history keeps one entry per iteration.
            for ratios in self.update_ratio_history.values():
                ratios.append(math.nan)
            return loss
        params = self.model.params
        for name, w in params.items():
            next_w, self.optim_configs[name] = self.update_rule(w, grads[name],
                                                                self.optim_configs[name])
            w_norm = float(np.linalg.norm(w))
            ratio = float(np.linalg.norm(next_w - w)) / w_norm if w_norm > 0 else math.nan
            self.update_ratio_history[name].append(ratio)
            params[name] = next_w
        return loss

    def _start_epoch(self, epoch):
        """Set this epoch's learning rate from lr_schedule (if any) and record it."""
        if self.lr_schedule is not None:
            rate = _scheduled_rate(self.lr_schedule, epoch)
            for config in self.optim_configs.values():
                config["learning_rate"] = rate
        rates = [c.get("learning_rate") for c in self.optim_configs.values()]
        self.lr_history.append(rates[0] if rates else None)

    def _abort_needed(self, loss):
        """Set `aborted` and `abort_reason` when this loss means the run has blown up."""
        t = len(self.loss_history) - 1
        where = f"iteration {t + 1} of {self.num_iterations} (epoch {self.epoch_of_iteration[t]:.2f})"
        if not math.isfinite(loss):
            self.abort_reason = f"Aborted at {where}: the loss is {loss}, not a finite number."
        elif (self.abort_factor is not None
              and loss > self.abort_factor * self.loss_history[0]):
            self.abort_reason = (f"Aborted at {where}: the loss {loss:.4g} exceeds "
                                 f"{self.abort_factor:g} x the initial loss "
                                 f"{self.loss_history[0]:.4g}.")
        self.aborted = self.abort_reason is not None
        return self.aborted

    def train(self):
        """Run the optimization from the model's current params (histories start afresh); returns self."""
        self._reset()
        say = _make_printer(self.verbose)
        bar = _make_progress_bar(self.num_iterations) if self.progress else None
        if bar is not None:
            say = _make_printer(self.verbose, bar.write)
        try:
            self._train_loop(say, bar)
        finally:
            if bar is not None:
                bar.close()
        if self.restore_best and self.best_params:
            for name, w in self.best_params.items():
                self.model.params[name] = w.copy()
        return self

    def _train_loop(self, say, bar):
        """The epoch/iteration loops of `train`."""
        X_tr, y_tr = self._eval_subset(self.X_train, self.y_train, self.num_train_samples)
        X_va, y_va = self._eval_subset(self.X_val, self.y_val, self.num_val_samples)
        reg = getattr(self.model, "reg", None)
        say(f"Training {self.num_epochs} epochs x {self.iterations_per_epoch} iterations, "
            f"batch size {self.batch_size}" + ("" if reg is None else f", reg {reg:g}"))
        train_acc, val_acc = self._record_accuracies(X_tr, y_tr, X_va, y_va)
        say(f"(Epoch 0 / {self.num_epochs}) train acc: {train_acc:.3f}; val acc: {val_acc:.3f}")
        num_train, batch_size = self.X_train.shape[0], self.batch_size
        t = 0
        for epoch in range(self.num_epochs):
            self._start_epoch(epoch)
            order = self._batch_rng.permutation(num_train)
            for i in range(self.iterations_per_epoch):
                idx = order[i * batch_size:(i + 1) * batch_size]
                self.epoch_of_iteration.append(t / self.iterations_per_epoch)
                loss = self._step(self.X_train[idx], self.y_train[idx])
                t += 1
                if bar is not None:
                    bar.update(1)
                if self.aborted:
                    say(self.abort_reason)
                    return
                if self.print_every is not None and (t == 1 or t % self.print_every == 0):
                    say(f"(Iteration {t} / {self.num_iterations}) loss: {loss:.4f}")
            self.epoch = epoch + 1
            for config in self.optim_configs.values():
                if "learning_rate" in config:
                    config["learning_rate"] *= self.lr_decay
            train_acc, val_acc = self._record_accuracies(X_tr, y_tr, X_va, y_va)
            say(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:.3f}; "
                f"val acc: {val_acc:.3f}")
            if bar is not None:
                bar.set_postfix(loss=f"{loss:.3g}", val_acc=f"{val_acc:.3f}", refresh=False)


def _scheduled_rate(schedule, epoch):
    """schedule(epoch) as a float, checked to be a finite rate >= 0."""
    rate = schedule(epoch)
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"lr_schedule({epoch}) returned {rate!r}, not a number") from None
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"lr_schedule({epoch}) returned {rate!r}; a learning rate must be a "
                         "finite number > 0")
    return rate


def _make_printer(verbose, write=print):
    """A function that prints a line when verbose and does nothing otherwise."""
    return write if verbose else (lambda message: None)


def _make_progress_bar(total):
    """A tqdm.auto bar over `total` iterations (tqdm is imported only when a bar is wanted)."""
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="training", unit="it")


def _check_model(model):
    """Raise unless `model` offers the params dict and loss method the Solver relies on."""
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not params:
        raise ValueError(f"model.params must be a non-empty dict of arrays, got {params!r:.80}")
    if not callable(getattr(model, "loss", None)):
        raise ValueError(f"model must have a loss(X, y=None) method, got {type(model).__name__}")


def _check_split(data, split):
    """Return (X, y) of one split of `data`, checking keys and matching lengths."""
    if not isinstance(data, dict):
        raise ValueError(f"data must be a dict with keys {', '.join(_DATA_KEYS)}, "
                         f"got {type(data).__name__}")
    missing = [key for key in _DATA_KEYS if key not in data]
    if missing:
        raise ValueError(f"data is missing {', '.join(missing)}; it has keys {sorted(data)}")
    X, y = np.asarray(data[f"X_{split}"]), np.asarray(data[f"y_{split}"])
    if X.ndim < 2:
        raise ValueError(f"X_{split} must have at least 2 dimensions (N, ...), got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y_{split} must have shape ({X.shape[0]},) to match X_{split} "
                         f"{X.shape}, got {y.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"X_{split} must hold at least one example, got shape {X.shape}")
    return X, y


def _check_count(name, value):
    """Return `value` if it is an int >= 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_optional_count(name, value):
    """Like `_check_count` but None is allowed (meaning 'all' or 'never')."""
    return None if value is None else _check_count(name, value)


def _check_positive_number(name, value):
    """Return `value` if it is a finite real number > 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return require_positive(name, value)
