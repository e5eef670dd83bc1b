"""Notebook 03 (monitoring): unusual correct answers and plausible wrong ones."""
NOTEBOOK = "03_monitoring"

_DIAGNOSE_BODY = '''
    n = len(losses)
    if not all(np.isfinite(v) for v in losses):
        return "diverging"
    start = float(np.median(losses[:max(3, n // 50)]))
    end = float(np.median(losses[-max(3, n // 10):]))
    if end > 3 * start:
        return "diverging"
    drop = start - end
    if drop < 0.05 * start:
        return "lr too low"
    smooth = moving_average(losses, max(3, n // 20))
    t10, t50, t90 = (float(np.mean(smooth > start - f * drop)) for f in (0.1, 0.5, 0.9))
    if t10 >= 0.2 and t50 - t10 < 0.2:
        return "bad initialization"
    if t50 >= 0.25:
        return "lr too low"
    if t90 < 0.4:
        return "lr too high"
    return "good"
'''

CORRECT = {
    "diagnose_loss_curve": [
        # A list input, a helper with a loop for the moving average.
        '''def moving_average(values, window):
    half = window // 2
    padded = [values[0]] * half + list(values) + [values[-1]] * half
    return np.array([sum(padded[i:i + window]) / window for i in range(len(values))])


def diagnose_loss_curve(losses):
    losses = [float(v) for v in losses]''' + _DIAGNOSE_BODY,
        # Cumulative sums for the average; prints how many curves it saw.
        '''calls = 0

def moving_average(values, window):
    padded = np.pad(np.asarray(values, dtype=float), window // 2, mode="edge")
    c = np.concatenate([[0.0], np.cumsum(padded)])
    return ((c[window:] - c[:-window]) / window)[:len(values)]


def diagnose_loss_curve(losses):
    global calls
    calls += 1
    losses = np.asarray(losses, dtype=np.float64)''' + _DIAGNOSE_BODY + '''
print("diagnose_loss_curve defined; calls so far:", calls)
''',
    ],
    "update_to_weight_ratios": [
        '''def update_to_weight_ratios(params, grads, learning_rate):
    ratios = {}
    for name in params:
        update_sq = sum(float(g) ** 2 for g in np.ravel(grads[name])) * learning_rate ** 2
        weight_sq = sum(float(w) ** 2 for w in np.ravel(params[name]))
        ratios[name] = (update_sq / weight_sq) ** 0.5
    return ratios
''',
        # In-place work on copies.
        '''def update_to_weight_ratios(params, grads, learning_rate):
    out = {}
    for name, w in params.items():
        step = grads[name].copy()
        step *= learning_rate
        out[name] = np.linalg.norm(step.ravel()) / np.linalg.norm(w.ravel())
    return out
''',
    ],
    "should_abort": [
        '''import math

def should_abort(losses, initial_loss=None, factor=3.0):
    reference = losses[0] if initial_loss is None else initial_loss
    latest = float(losses[-1])
    if not math.isfinite(latest):
        return True
    return latest > factor * reference
''',
        '''def should_abort(losses, initial_loss=None, factor=3.0):
    losses = np.asarray(losses, dtype=float)
    start = losses[0] if initial_loss is None else initial_loss
    return not (np.isfinite(losses[-1]) and losses[-1] <= factor * start)
''',
    ],
}

WRONG = {
    "diagnose_loss_curve": [
        '''def diagnose_loss_curve(losses):
    return "good"
''',
        # 'lr too low' and 'lr too high' swapped.
        '''def diagnose_loss_curve(losses):
    losses = np.asarray(losses, dtype=float)
    n = losses.shape[0]
    if not np.all(np.isfinite(losses)):
        return "diverging"
    start = np.median(losses[:max(3, n // 50)])
    end = np.median(losses[-max(3, n // 10):])
    if end > 3 * start:
        return "diverging"
    drop = start - end
    if drop < 0.05 * start:
        return "lr too high"
    window = max(3, n // 20)
    smooth = np.convolve(np.pad(losses, window // 2, mode="edge"), np.ones(window) / window,
                         mode="valid")[:n]
    t10, t50, t90 = (np.mean(smooth > start - f * drop) for f in (0.1, 0.5, 0.9))
    if t10 >= 0.2 and t50 - t10 < 0.2:
        return "bad initialization"
    if t50 >= 0.25:
        return "lr too high"
    if t90 < 0.4:
        return "lr too low"
    return "good"
''',
        # Only the last value is tested for a blow-up, against the first loss.
        '''def diagnose_loss_curve(losses):
    losses = np.asarray(losses, dtype=float)
    if losses[-1] > 3 * losses[0]:
        return "diverging"
    if losses[-1] > 0.95 * losses[0]:
        return "lr too low"
    return "good"
''',
    ],
    "update_to_weight_ratios": [
        '''def update_to_weight_ratios(params, grads, learning_rate):
    return {k: learning_rate * np.abs(grads[k]).max() / np.abs(w).max()
            for k, w in params.items()}
''',
        '''def update_to_weight_ratios(params, grads, learning_rate):
    return {k: np.linalg.norm(learning_rate * w) / np.linalg.norm(w) for k, w in params.items()}
''',
        '''def update_to_weight_ratios(params, grads, learning_rate):
    return [np.linalg.norm(learning_rate * grads[k]) / np.linalg.norm(params[k])
            for k in params]
''',
    ],
    "should_abort": [
        # factor added instead of multiplied.
        '''def should_abort(losses, initial_loss=None, factor=3.0):
    start = losses[0] if initial_loss is None else initial_loss
    latest = losses[-1]
    return bool(not np.isfinite(latest) or latest > start + factor)
''',
        # Aborts on the first iteration.
        '''def should_abort(losses, initial_loss=None, factor=3.0):
    if len(losses) < 2:
        return True
    start = losses[0] if initial_loss is None else initial_loss
    return bool(not np.isfinite(losses[-1]) or losses[-1] > factor * start)
''',
        # The mean of the history instead of the latest loss.
        '''def should_abort(losses, initial_loss=None, factor=3.0):
    start = losses[0] if initial_loss is None else initial_loss
    typical = float(np.mean(losses))
    return bool(not np.isfinite(typical) or typical > factor * start)
''',
    ],
}

WRONG_NEEDS_MECHANISM = {
    # Scales the caller's gradients in place (arrays inside a dict).
    "update_to_weight_ratios": [
        '''def update_to_weight_ratios(params, grads, learning_rate):
    ratios = {}
    for name, w in params.items():
        grads[name] *= learning_rate
        ratios[name] = float(np.linalg.norm(grads[name]) / np.linalg.norm(w))
    return ratios
''',
    ],
}
