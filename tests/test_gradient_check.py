"""Tests of cs231n_lib.gradient_check: the checker must pass right gradients and flag wrong ones."""
import numpy as np
import pytest

from cs231n_lib.gradient_check import (
    ERROR_BANDS, GradCheckReport, crosses_kink, error_band, eval_numerical_gradient,
    eval_numerical_gradient_array, forward_difference_gradient, grad_check, grad_check_sparse,
    norm_rel_error, rel_error,
)


def quadratic(A):
    """f(x) = sum(x * (A @ x)) for a square matrix A, and its gradient (A + A^T) x."""
    return (lambda x: float(np.sum(x * (A @ x)))), (lambda x: (A + A.T) @ x)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_numerical_gradient_of_quadratic(rng):
    A = rng.standard_normal((4, 4))
    f, grad = quadratic(A)
    x = rng.standard_normal(4)
    assert rel_error(eval_numerical_gradient(f, x), grad(x)) < 1e-8


def test_numerical_gradient_array_matches_jacobian_product(rng):
    W = rng.standard_normal((3, 5))
    x = rng.standard_normal((4, 3))
    dout = rng.standard_normal((4, 5))
    numeric = eval_numerical_gradient_array(lambda z: np.tanh(z @ W), x, dout)
    analytic = (dout * (1 - np.tanh(x @ W) ** 2)) @ W.T
    assert rel_error(numeric, analytic) < 1e-8


def test_numerical_gradient_array_copies_reused_output_buffer(rng):
    buffer = np.empty(3)

    def f(z):  # returns the same array object every call
        np.multiply(z, 2.0, out=buffer)
        return buffer

    x, dout = rng.standard_normal(3), rng.standard_normal(3)
    assert rel_error(eval_numerical_gradient_array(f, x, dout), 2.0 * dout) < 1e-8


@pytest.mark.parametrize("evaluate", [
    lambda f, x: eval_numerical_gradient(f, x),
    lambda f, x: eval_numerical_gradient_array(f, x, np.ones(())),
    lambda f, x: forward_difference_gradient(f, x),
    lambda f, x: grad_check(f, x, np.zeros_like(x)),
    lambda f, x: grad_check_sparse(f, x, np.zeros_like(x), num_checks=3),
])
def test_x_restored_after_evaluation(rng, evaluate):
    x = rng.standard_normal((3, 2))
    original = x.copy()
    evaluate(lambda z: np.sum(z ** 2), x)
    assert np.array_equal(x, original)


def test_x_restored_when_f_raises(rng):
    x = rng.standard_normal(3)
    original = x.copy()
    calls = []

    def f(z):
        calls.append(1)
        if len(calls) == 2:  # fails while x[0] is perturbed by -h
            raise RuntimeError("boom")
        return float(np.sum(z))

    with pytest.raises(RuntimeError, match="boom"):
        eval_numerical_gradient(f, x)
    assert np.array_equal(x, original)


def test_integer_x_is_rejected():
    with pytest.raises(ValueError, match="floating-point"):
        eval_numerical_gradient(lambda z: 0.0, np.arange(3))


def test_rel_error_of_two_zeros_is_zero():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(0.0, 0.0) == 0.0


def test_rel_error_values():
    assert rel_error(np.array([1.0, 0.0]), np.array([1.1, 0.0])) == pytest.approx(0.1 / 1.1)
    assert rel_error(np.array([1.0]), np.array([-1.0])) == pytest.approx(2.0)
    assert rel_error(np.array([0.0]), np.array([1e-30])) == pytest.approx(1.0)


def test_rel_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(3), np.zeros(4))


def test_norm_rel_error():
    a = np.array([3.0, 4.0])
    assert norm_rel_error(a, a) == 0.0
    assert norm_rel_error(a, -a) == pytest.approx(1.0, rel=1e-7)
    assert norm_rel_error(np.zeros(2), np.zeros(2)) == 0.0


@pytest.mark.parametrize("err, band", [
    (0.5, "wrong"), (2e-2, "wrong"), (float("nan"), "wrong"),
    (1e-3, "uncomfortable"), (1e-5, "ok only with kinks"), (1e-7, "ok only with kinks"),
    (1e-9, "good"), (0.0, "good"),
])
def test_error_band(err, band):
    assert error_band(err) == band
    assert band in ERROR_BANDS


def test_centered_difference_beats_forward_difference():
    """At h=1e-4 the centered error is O(h^2), the forward one O(h) (G1)."""
    x = np.array([0.3, -1.2, 2.0])
    exact = np.cos(x)
    f = lambda z: float(np.sum(np.sin(z)))
    centered = np.max(np.abs(eval_numerical_gradient(f, x.copy(), h=1e-4) - exact))
    forward = np.max(np.abs(forward_difference_gradient(f, x.copy(), h=1e-4) - exact))
    assert centered < 1e-8 < 1e-6 < forward
    assert centered < forward / 100


def test_crosses_kink():
    flags = crosses_kink(np.array([1e-6, -1e-6, 1e-3, -1.0, 0.0]), h=1e-5)
    assert flags.dtype == bool
    assert flags.tolist() == [True, True, False, False, True]
    assert crosses_kink(np.array([1.0 + 1e-6]), h=1e-5, kink=1.0).tolist() == [True]


def test_kink_makes_numerical_relu_gradient_wrong():
    """Near x=1e-6, the numerical ReLU gradient is neither 0 nor 1 (G6)."""
    x = np.array([1e-6])
    numeric = eval_numerical_gradient(lambda z: float(np.maximum(z, 0).sum()), x, h=1e-5)
    assert error_band(rel_error(numeric, np.ones(1))) == "wrong"


def test_grad_check_passes_correct_gradient(rng):
    f, grad = quadratic(rng.standard_normal((5, 5)))
    x = rng.standard_normal(5)
    report = grad_check(f, x, grad(x))
    assert isinstance(report, GradCheckReport)
    assert report.max_rel_error < 1e-7
    assert report.band == "good"
    assert report.warnings == []
    assert report.numeric_grad.shape == x.shape
    assert "good" in str(report)


@pytest.mark.parametrize("mistake", ["doubled", "transposed"])
def test_grad_check_flags_wrong_gradient(rng, mistake):
    """The checker itself is tested: a planted bug must land in the 'wrong' band."""
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal((4, 4))
    f = lambda z: float(np.sum(A * z ** 2))
    right = 2 * A * x
    wrong = 2 * right if mistake == "doubled" else right.T
    assert grad_check(f, x, right).band == "good"
    report = grad_check(f, x, wrong)
    assert report.band == "wrong"
    assert report.max_rel_error > 1e-2
    assert abs(wrong - report.numeric_grad)[report.worst_index] > 0


def test_grad_check_worst_index_points_at_the_bug(rng):
    x = rng.standard_normal((3, 4))
    analytic = 2 * x
    analytic[2, 1] += 1.0
    report = grad_check(lambda z: float(np.sum(z ** 2)), x, analytic)
    assert report.worst_index == (2, 1)


def test_grad_check_warns_about_float32(rng):
    x = rng.standard_normal(4).astype(np.float32)
    report = grad_check(lambda z: float(np.sum(z ** 2)), x, 2 * x)
    assert any("float32" in w and "float64" in w for w in report.warnings)


def test_grad_check_warns_about_tiny_loss(rng):
    x = rng.standard_normal(4)
    report = grad_check(lambda z: float(np.sum(z ** 2) * 1e-9), x, 2e-9 * x)
    assert any("tiny" in w for w in report.warnings)


def test_grad_check_rejects_shape_mismatch(rng):
    with pytest.raises(ValueError, match="same shape"):
        grad_check(lambda z: 0.0, rng.standard_normal(3), np.zeros(4))


def test_grad_check_sparse(rng):
    f, grad = quadratic(rng.standard_normal((6, 6)))
    x = rng.standard_normal(6)
    errors = grad_check_sparse(f, x, grad(x), num_checks=5, seed=1)
    assert errors.shape == (5,)
    assert np.all(errors < 1e-7)
    assert np.all(grad_check_sparse(f, x, 3 * grad(x), num_checks=5, seed=1) > 0.5)
    assert np.array_equal(errors, grad_check_sparse(f, x, grad(x), num_checks=5, seed=1))
