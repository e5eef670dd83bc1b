"""Tests of the notebook-01 additions to cs231n_lib.gradient_check."""
import numpy as np
import pytest

from cs231n_lib.gradient_check import (
    ERROR_BANDS, NORM_ERROR_VERDICTS, eval_numerical_gradient, grad_check_report,
    norm_error_verdict,
)


def test_grad_check_report_passes_a_right_gradient():
    x = np.linspace(0.5, 2.0, 6).reshape(2, 3)
    numeric = eval_numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    err, index, band = grad_check_report(3 * x ** 2, numeric)
    assert err < 1e-8 and band == "good"
    assert isinstance(index, tuple) and len(index) == 2


def test_grad_check_report_finds_the_worst_element():
    exact = np.arange(1.0, 7.0).reshape(2, 3)
    exact[0, 0] = 0.0
    wrong = exact.copy()
    wrong[0, 0] = 0.0  # both zero: agreement, not nan
    wrong[1, 2] *= 1.5
    wrong[0, 1] *= 1.01
    err, index, band = grad_check_report(wrong, exact)
    assert index == (1, 2) and all(isinstance(i, int) for i in index)
    assert err == pytest.approx(0.5 / 1.5, rel=1e-12)
    assert band == "wrong" and band in ERROR_BANDS


@pytest.mark.parametrize("err,verdict", [
    (0.0, "great"), (9e-8, "great"), (1e-7, "look again"), (1e-5, "look again"),
    (1e-3, "look again"), (2e-3, "bug"), (float("nan"), "bug"),
])
def test_norm_error_verdict(err, verdict):
    assert norm_error_verdict(err) == verdict
    assert verdict in NORM_ERROR_VERDICTS
