"""Tests for the 1-D toy losses added for notebook 04."""
import numpy as np
import pytest

from cs231n_lib import data

FUNCTIONS = [data.steep_then_gentle, data.sharp_and_flat,
             lambda x: data.sharp_and_flat(x, shift=0.3)]


@pytest.mark.parametrize("f", FUNCTIONS)
def test_gradient_matches_centered_difference(f):
    x = np.linspace(-6, 12, 200).reshape(20, 10)
    h = 1e-6
    numeric = (f(x + h)[0] - f(x - h)[0]) / (2 * h)
    value, grad = f(x)
    assert value.shape == grad.shape == x.shape
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_steep_then_gentle_shape():
    _, grad = data.steep_then_gentle(np.array([-5.0, 5.0, 10.0]))
    assert grad[0] < -10 and -1 < grad[1] < 0 and abs(grad[2]) < 1e-6
    assert np.all(np.isfinite(data.steep_then_gentle(np.array([-1e4, 1e4]))[0]))


def test_sharp_and_flat_minima():
    xs = np.linspace(-1, 1, 20001)
    sharp = xs[np.argmin(data.sharp_and_flat(xs)[0])]
    xs2 = np.linspace(2, 4, 20001)
    flat = xs2[np.argmin(data.sharp_and_flat(xs2)[0])]
    f_sharp, f_flat = data.sharp_and_flat(np.array([sharp, flat]))[0]
    assert abs(sharp) < 0.05 and abs(flat - 3) < 0.05
    assert f_sharp < f_flat   # the sharp hole is the (slightly) deeper one
    # a small shift hurts the sharp minimum far more than the flat one
    g_sharp, g_flat = data.sharp_and_flat(np.array([sharp, flat]), shift=0.1)[0]
    assert g_sharp - f_sharp > 10 * (g_flat - f_flat)


def test_one_d_functions_reject_non_numbers():
    with pytest.raises(ValueError):
        data.sharp_and_flat("a")
