"""Exercises of notebook 02 (sanity checks): softmax and SVM losses, input normalization,
the expected initial loss.

Every known mistake below is written the way a student would write it (plain numpy, same
signature); the checker names it when a student's output equals its output.
"""
import numpy as np

from cs231n_lib import data, losses
from cs231n_lib.exercises._habits import add_signature_habits
from cs231n_lib.grading import Case, CheckFailure, Exercise, Habit, Mistake, check_case, register

NOTEBOOK = "02_sanity_checks"


# ----------------------------------------------------------------------------- softmax_loss

def _softmax_case(rng):
    """Scores (N, C) with one row near +1000 and one near -1000 (exp() overflows/underflows)."""
    num_samples, num_classes = int(rng.integers(4, 9)), int(rng.integers(3, 11))
    scores = rng.standard_normal((num_samples, num_classes)) * rng.uniform(0.5, 3.0)
    high, low = rng.choice(num_samples, size=2, replace=False)
    scores[high] += rng.uniform(900.0, 1100.0)
    scores[low] -= rng.uniform(900.0, 1100.0)
    y = rng.integers(num_classes, size=num_samples)
    return Case((scores, y))


def softmax_no_max_subtraction(scores, y):
    n = scores.shape[0]
    exp_scores = np.exp(scores)
    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(n), y]))
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


def softmax_global_max(scores, y):
    n = scores.shape[0]
    exp_scores = np.exp(scores - np.max(scores))
    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(n), y]))
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


def softmax_gradient_not_divided_by_n(scores, y):
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.mean(log_probs[np.arange(n), y])
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return loss, dscores


def softmax_loss_summed(scores, y):
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.sum(log_probs[np.arange(n), y])
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


def softmax_no_minus_one(scores, y):
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.mean(log_probs[np.arange(n), y])
    dscores = np.exp(log_probs)
    return loss, dscores / n


register(Exercise(
    name="softmax_loss", notebook=NOTEBOOK, reference=losses.softmax_loss,
    make_case=_softmax_case, output_names=("loss", "dscores"), rtol=1e-7,
    mistakes=[
        Mistake("no max subtraction (exp overflows to inf, the loss becomes nan)",
                "Some rows of these scores are near +1000 or -1000: np.exp(1000) is inf and "
                "inf / inf is nan, np.exp(-1000) is 0 and 0 / 0 is nan. Subtract each row's "
                "max before exponentiating; the softmax does not change.",
                softmax_no_max_subtraction),
        Mistake("subtracted the global max instead of each row's max",
                "One max over the whole array protects the row that holds it, but a row whose "
                "scores are all far below it still underflows to 0 / 0. Use "
                "scores.max(axis=1, keepdims=True).", softmax_global_max),
        Mistake("gradient not divided by N",
                "The loss is the mean over the N examples, so every entry of dscores carries "
                "a factor 1/N too.", softmax_gradient_not_divided_by_n),
        Mistake("loss summed instead of averaged",
                "Return the mean of the per-example losses, not their sum: the loss must not "
                "grow with the batch size (and the gradient you return is the mean's).",
                softmax_loss_summed),
        Mistake("forgot to subtract 1 at the correct class",
                "d(-log p_y)/ds_j = p_j - 1[j == y]: subtract 1 from the probability of the "
                "correct class in each row before dividing by N.", softmax_no_minus_one),
    ],
))


# ----------------------------------------------------------------------------- svm_loss

def _svm_case(rng):
    """Scores (N, C), labels, and mostly a delta other than the default 1.0.

    An explicit delta is never 1.0, so an svm_loss that ignores its delta argument fails
    unless every hidden case happens to use the default (probability 0.2 each).
    """
    num_samples, num_classes = int(rng.integers(3, 9)), int(rng.integers(3, 11))
    scores = rng.standard_normal((num_samples, num_classes)) * rng.uniform(0.5, 2.0)
    y = rng.integers(num_classes, size=num_samples)
    if rng.random() < 0.2:
        return Case((scores, y))  # the default delta=1.0
    return Case((scores, y), {"delta": float(rng.choice([0.5, 2.0, 3.0]))})


def svm_correct_class_counted(scores, y, delta=1.0):
    n = scores.shape[0]
    correct = scores[np.arange(n), y]
    margins = np.maximum(0, scores - correct[:, None] + delta)
    loss = margins.sum() / n
    binary = (margins > 0).astype(float)
    row_sum = binary.sum(axis=1)
    binary[np.arange(n), y] = -row_sum
    return loss, binary / n


def svm_no_correct_class_gradient(scores, y, delta=1.0):
    n = scores.shape[0]
    correct = scores[np.arange(n), y]
    margins = np.maximum(0, scores - correct[:, None] + delta)
    margins[np.arange(n), y] = 0
    loss = margins.sum() / n
    dscores = (margins > 0).astype(float)
    return loss, dscores / n


def svm_not_averaged(scores, y, delta=1.0):
    n = scores.shape[0]
    correct = scores[np.arange(n), y]
    margins = np.maximum(0, scores - correct[:, None] + delta)
    margins[np.arange(n), y] = 0
    loss = margins.sum()
    dscores = (margins > 0).astype(float)
    dscores[np.arange(n), y] = -dscores.sum(axis=1)
    return loss, dscores


register(Exercise(
    name="svm_loss", notebook=NOTEBOOK, reference=losses.svm_loss,
    make_case=_svm_case, output_names=("loss", "dscores"), rtol=1e-7,
    mistakes=[
        Mistake("correct class counted in the sum",
                "For j = y the margin s_y - s_y + delta is always delta, so counting it adds "
                "delta to every example's loss (and -1/N to the correct class's gradient). "
                "Sum over j != y only: set the correct class's margin to 0.",
                svm_correct_class_counted),
        Mistake("gradient of the correct class missing",
                "s_y appears in every violated margin with a minus sign: dscores at the "
                "correct class is -(number of classes with a positive margin) / N.",
                svm_no_correct_class_gradient),
        Mistake("not averaged over the batch",
                "The SVM loss is the mean of the per-example losses: divide the loss and "
                "dscores by N.", svm_not_averaged),
    ],
    habits=(Habit("TypeError", r"unexpected keyword argument 'delta'|takes 2 positional",
                  "This notebook's svm_loss takes the margin as a parameter, "
                  "svm_loss(scores, y, delta=1.0); CS231n's svm_loss(x, y) fixed it at 1."),),
))


# ----------------------------------------------------------------------------- normalize

def _normalize_case(rng):
    """Pixel-like splits (N, D) with per-feature offsets and spreads and two always-0 features."""
    num_features = int(rng.integers(6, 13))
    centers = rng.uniform(20.0, 200.0, size=num_features)
    spreads = rng.uniform(5.0, 60.0, size=num_features)
    border = rng.choice(num_features, size=2, replace=False)  # like MNIST's black border pixels

    def split(num):
        X = np.clip(centers + spreads * rng.standard_normal((num, num_features)), 0.0, 255.0)
        X[:, border] = 0.0
        return X

    return Case((split(int(rng.integers(20, 41))), split(int(rng.integers(5, 16))),
                 split(int(rng.integers(5, 16)))))


def normalize_fitted_on_all_data(X_train, X_val, X_test):
    X_all = np.concatenate([X_train, X_val, X_test])
    mean = X_all.mean(axis=0)
    std = np.sqrt(np.mean((X_all - mean) ** 2))
    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std


def normalize_each_split_own_stats(X_train, X_val, X_test):
    def standardize(X):
        mean = X.mean(axis=0)
        return (X - mean) / np.sqrt(np.mean((X - mean) ** 2))
    return standardize(X_train), standardize(X_val), standardize(X_test)


def normalize_per_pixel_std(X_train, X_val, X_test):
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std


def normalize_per_pixel_std_eps(X_train, X_val, X_test):
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0) + 1e-8
    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std


def normalize_by_variance(X_train, X_val, X_test):
    mean = X_train.mean(axis=0)
    var = np.mean((X_train - mean) ** 2)
    return (X_train - mean) / var, (X_val - mean) / var, (X_test - mean) / var


def normalize_std_around_overall_mean(X_train, X_val, X_test):
    mean = X_train.mean(axis=0)
    std = X_train.std()
    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std


_PER_PIXEL = ("per-pixel std instead of one global std",
              "A pixel that is (almost) always 0 in the training set, like MNIST's border, has "
              "a std of (almost) 0: dividing by it gives nan/inf or blows tiny noise up to "
              "huge values. Divide every feature by the single std of all centred training "
              "values.")

register(Exercise(
    name="normalize", notebook=NOTEBOOK, reference=data.standardize_splits,
    function_names=("normalize",), make_case=_normalize_case,
    output_names=("X_train_n", "X_val_n", "X_test_n"), rtol=1e-7,
    mistakes=[
        Mistake("statistics fitted on all the data",
                "Mean and std must come from X_train alone. Using validation/test data to fit "
                "them leaks information about the data you evaluate on into the model.",
                normalize_fitted_on_all_data),
        Mistake("each split normalized with its own statistics",
                "Validation and test data must be transformed with the TRAINING mean and std, "
                "exactly as the network will see new data later; with their own statistics "
                "the same image maps to different inputs depending on which split it is in.",
                normalize_each_split_own_stats),
        Mistake(*_PER_PIXEL, normalize_per_pixel_std),
        Mistake(*_PER_PIXEL, normalize_per_pixel_std_eps),
        Mistake("divided by the variance instead of the standard deviation",
                "Scaling to unit variance means dividing by sigma = sqrt(variance); dividing "
                "by sigma**2 leaves the data with std 1/sigma.", normalize_by_variance),
        Mistake("std taken around the overall mean, not the per-pixel means",
                "X_train.std() measures the spread around ONE mean of all pixels, which also "
                "counts how much the pixel means differ from each other. Take the std of the "
                "centred values X_train - mean, where mean is per pixel.",
                normalize_std_around_overall_mean),
    ],
))


# ----------------------------------------------------------------------------- expected_initial_loss

def expected_loss_log10(num_classes, loss="softmax", delta=1.0):
    if loss == "softmax":
        return np.log10(num_classes)
    return (num_classes - 1) * delta


def expected_loss_c_not_c_minus_1(num_classes, loss="softmax", delta=1.0):
    if loss == "softmax":
        return np.log(num_classes)
    return num_classes * delta


def expected_loss_no_delta(num_classes, loss="softmax", delta=1.0):
    if loss == "softmax":
        return np.log(num_classes)
    return num_classes - 1


def _initial_loss_cases(rng):
    """A softmax case and an SVM case (delta != 1) for the same number of classes."""
    num_classes = int(rng.integers(3, 201))
    delta = float(rng.choice([0.5, 2.0, 3.0]))
    return [Case((num_classes,), {"loss": "softmax"}),
            Case((num_classes,), {"loss": "svm", "delta": delta})]


def _check_expected_initial_loss(rng, student_fn):
    # Each visible/hidden seed checks both kinds of loss, so every mistake shows on every seed.
    exercise = _EXPECTED_INITIAL_LOSS
    for case in _initial_loss_cases(rng):
        try:
            check_case(exercise, student_fn, case, seed=case.args[0])
        except CheckFailure as failure:
            # "case seed" would mislead here: the case is fully described by its arguments.
            raise CheckFailure(str(failure).replace(f" [case seed {case.args[0]}]", "")) from None


_EXPECTED_INITIAL_LOSS = register(Exercise(
    name="expected_initial_loss", notebook=NOTEBOOK, reference=losses.expected_initial_loss,
    custom_check=_check_expected_initial_loss, rtol=1e-9,
    mistakes=[
        Mistake("log10 instead of the natural log",
                "The softmax loss uses the natural log: -ln(1/C) = ln C (2.302 for 10 classes, "
                "not 1.0).", expected_loss_log10),
        Mistake("C instead of C - 1 in the SVM loss",
                "The hinge sum skips the correct class: only the C - 1 wrong classes each "
                "contribute a margin of delta.", expected_loss_c_not_c_minus_1),
        Mistake("delta ignored in the SVM loss",
                "Each of the C - 1 wrong classes contributes max(0, 0 + delta) = delta, so the "
                "loss is (C - 1) * delta, not C - 1.", expected_loss_no_delta),
    ],
))


add_signature_habits(NOTEBOOK)
