"""Quadrature rules and the rate-scaled error estimate (spintorque.integrate.rules)."""

import numpy as np
import pytest

from spintorque.integrate.rules import (
    G7_WEIGHTS,
    GK15,
    GK31,
    GK_NODES,
    GK_RULES,
    K15_WEIGHTS,
    L5_WEIGHTS,
    RATE_FLOOR,
    RESOLVED,
    gauss_kronrod,
    scaled_error,
    trapezoid_rules,
)


@pytest.mark.parametrize(
    "nodes, weights, degree",
    [
        (GK_NODES, K15_WEIGHTS, 23),
        (GK_NODES, G7_WEIGHTS, 13),
        (GK_NODES, L5_WEIGHTS, 5),
        (GK31.nodes, GK31.weights[0], 46),
        (GK31.nodes, GK31.weights[1], 29),
        (GK31.nodes, GK31.weights[2], 13),
    ],
)
def test_embedded_rules_have_their_degree(nodes, weights, degree):
    for j in range(degree + 2):
        exact = (1 - (-1) ** (j + 1)) / (j + 1)
        error = abs(weights @ nodes**j - exact)
        if j <= degree:
            assert error < 1e-14, j
        else:  # the next even power is no longer exact
            assert j % 2 == 1 or error > 1e-12, j


def test_rules_stack_in_value_high_low_order():
    np.testing.assert_array_equal(GK_RULES, np.stack([K15_WEIGHTS, G7_WEIGHTS, L5_WEIGHTS]))
    np.testing.assert_array_equal(GK15.weights, GK_RULES)
    # the low rules live on Gauss nodes only
    assert np.all(L5_WEIGHTS[::2] == 0) and np.count_nonzero(L5_WEIGHTS) == 5
    for rule, n_low in ((GK15, 5), (GK31, 13)):
        assert np.all(rule.weights[1:, ::2] == 0) and np.count_nonzero(rule.weights[2]) == n_low
    np.testing.assert_allclose(GK31.nodes[1::2], np.polynomial.legendre.leggauss(15)[0], atol=1e-15)


def test_gauss_kronrod_generator_reproduces_the_tabulated_15_point_rule():
    """The generator behind GK31, against the QUADPACK table of the 15-point rule (and the
    first GK31 node and weight against QUADPACK's qk31)."""
    nodes, kronrod, gauss = gauss_kronrod(7)
    np.testing.assert_allclose(nodes, GK_NODES, rtol=0, atol=1e-15)
    np.testing.assert_allclose(kronrod, K15_WEIGHTS, rtol=0, atol=1e-15)
    np.testing.assert_allclose(gauss, G7_WEIGHTS, rtol=0, atol=1e-15)
    np.testing.assert_allclose(GK31.nodes[0], -0.998002298693397060285172840152271, rtol=1e-15)
    np.testing.assert_allclose(GK31.weights[0, 0], 0.005377479872923348987792051430128, rtol=1e-13)


def test_trapezoid_subsets_integrate_low_harmonics():
    n = 16
    phi = 2 * np.pi * np.arange(n) / n
    full, half, quarter = trapezoid_rules(n)
    for rule, exact_up_to in ((full, n - 1), (half, n // 2 - 1), (quarter, n // 4 - 1)):
        assert abs(rule.sum() - 2 * np.pi) < 1e-13
        assert abs(rule @ np.cos(exact_up_to * phi)) < 1e-13
        assert abs(rule @ np.cos((exact_up_to + 1) * phi)) > 1.0  # aliased


def test_scaled_error_scales_only_resolved_cells():
    tol = np.array([1.0, 1.0])
    value = np.array([[100.0, 50.0], [100.0, 50.0]])
    d_hi = np.array([[1e-3, 2e-3], [1e-3, 2e-3]])
    # cell 0: the low rule is within RESOLVED of the value -> scaled by d_hi/d_lo = 0.2 / 1
    # cell 1: the low rule is off by more than RESOLVED x |value| -> unscaled
    d_lo = np.array([[0.005, 0.01], [RESOLVED * 100 * 2, 1.0]])
    err = scaled_error(d_hi, d_lo, value, tol)
    np.testing.assert_allclose(err[0], d_hi[0] * 0.2)
    np.testing.assert_allclose(err[1], d_hi[1])
    # never below RATE_FLOOR x d_hi
    err = scaled_error(d_hi, np.array([[0.5, 0.9], [0.5, 0.9]]), value, tol)
    np.testing.assert_allclose(err, d_hi * RATE_FLOOR)
    # the rate uses the maxima over components: an accidental zero of one component of d_lo
    # does not make the cell look converged; no rate information at all: unscaled
    err = scaled_error(d_hi, np.array([[0.0, 0.5], [0.0, 0.0]]), value, tol)
    np.testing.assert_allclose(err[0], d_hi[0] * max(RATE_FLOOR, 2e-3 / 0.5))
    np.testing.assert_allclose(err[1], d_hi[1])


@pytest.mark.parametrize("rule", [GK15, GK31], ids=["GK15", "GK31"])
@pytest.mark.parametrize("power", [1, 2])
def test_scaled_error_bounds_the_error_for_a_lorentzian_at_any_position(rule, power):
    """Each radial rule on cells of half-width 0.2..6 (units of the Lorentzian width) with the
    pole swept across and far beyond the cell, for the Lorentzian and its square (the surface
    kernel's diagonal): the estimate stays above the true error wherever the rate is trusted
    (the pure rate scaling d_hi^2 / d_lo fails here by up to 1e6; see the module docstring).
    Errors below 1e-12 of the integral are left out: there rounding dominates them."""
    half = np.linspace(0.2, 6.0, 59)[:, None]
    offset = np.linspace(-6.0, 6.0, 601)[None, :] * half  # pole relative to the cell centre
    x = offset[..., None] + half[..., None] * rule.nodes  # (59, 601, Q)
    f = (1.0 / (x**2 + 1.0)) ** power
    q = half[..., None] * np.einsum("wq,abq->abw", rule.weights, f)
    a, b = offset + half, offset - half
    # arctan a - arctan b without cancellation when the pole is outside the cell
    outside = a * b > 0
    angle = np.where(
        outside, np.arctan((a - b) / np.where(outside, 1 + a * b, 1.0)), np.arctan(a) - np.arctan(b)
    )
    exact = (
        angle
        if power == 1
        else 0.5 * angle + 0.5 * (a - b) * (1 - a * b) / ((1 + a * a) * (1 + b * b))
    )
    d_hi, d_lo = np.abs(q[..., 0] - q[..., 1]), np.abs(q[..., 0] - q[..., 2])
    flat = (x.shape[0] * x.shape[1], 1)
    err = scaled_error(
        d_hi.reshape(flat), d_lo.reshape(flat), q[..., 0].reshape(flat), np.ones(1)
    ).reshape(d_hi.shape)
    actual = np.abs(q[..., 0] - exact)
    significant = actual > 1e-12 * exact
    resolved = d_lo <= RESOLVED * q[..., 0]
    assert np.any(significant & resolved) and np.any(significant & ~resolved)
    ratio = actual[significant & resolved] / err[significant & resolved]
    assert ratio.max() < 0.5
