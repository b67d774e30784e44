"""Quadrature rules and the rate-scaled error estimate (spintorque.integrate.rules)."""

import numpy as np
import pytest

from spintorque.integrate.contours import DENSE_CELL_WIDTHS
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
    small = d_hi * 0.1
    err = scaled_error(small, np.array([[0.5, 0.9], [0.5, 0.9]]), value, tol)
    np.testing.assert_allclose(err, small * RATE_FLOOR)
    # the rate uses the maxima over components: an accidental zero of one component of d_lo
    # does not make the cell look converged; no rate information at all: unscaled
    err = scaled_error(d_hi, np.array([[0.0, 0.5], [0.0, 0.0]]), value, tol)
    np.testing.assert_allclose(err[0], d_hi[0] * max(RATE_FLOOR, 2e-3 / 0.5))
    np.testing.assert_allclose(err[1], d_hi[1])


@pytest.mark.parametrize("rule, degree", [(GK15, 11), (GK31, 27)], ids=["GK15", "GK31"])
def test_odd_null_rule_vanishes_on_polynomials_up_to_its_degree(rule, degree):
    """Antisymmetric, zero on 1, x, ..., x^degree (not on x^(degree + 2)), and scaled to the
    norm of the even null rule Q - Q_hi that it is paired with."""
    np.testing.assert_allclose(rule.null, -rule.null[::-1], rtol=0, atol=1e-15)
    for j in range(degree + 3):
        value = abs(rule.null @ rule.nodes**j)
        if j <= degree or j % 2 == 0:
            assert value < 1e-14, j
        else:
            assert value > 1e-10, j
    np.testing.assert_allclose(
        np.linalg.norm(rule.null), np.linalg.norm(rule.weights[0] - rule.weights[1]), rtol=1e-14
    )


def _lorentzian_cells(rule, power, half, positions):
    """Rule sums (cells, positions, 3) and exact integrals of (1 / (x^2 + 1))^power over cells
    of half-width ``half`` (units of the Lorentzian width) with the pole at ``positions`` x
    half from the centre, the odd null rule's sum |N| and the offsets."""
    offset = np.linspace(-6.0, 6.0, positions)[None, :] * half[:, None]
    x = offset[..., None] + half[:, None, None] * rule.nodes  # (cells, positions, Q)
    f = (1.0 / (x**2 + 1.0)) ** power
    q = half[:, None, None] * np.einsum("wq,abq->abw", rule.weights, f)
    null = np.abs(half[:, None] * (f @ rule.null))
    a, b = offset + half[:, None], offset - half[:, None]
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
    return q, exact, null


@pytest.mark.parametrize("rule", [GK15, GK31], ids=["GK15", "GK31"])
@pytest.mark.parametrize("power", [1, 2])
def test_scaled_error_bounds_the_error_for_a_lorentzian_at_any_position(rule, power):
    """Each radial rule on cells of half-width 0.2..6 (units of the Lorentzian width) with the
    pole swept across and far beyond the cell (1201 positions), for the Lorentzian and its
    square (the surface kernel's diagonal): with d_hi = max(|Q - Q_hi|, |N_odd|) the estimate
    stays above the true error wherever the rate is trusted, and, in cells of half-width <= 3,
    where it is not (d_hi itself). Without the odd null rule the same sweep finds
    underestimates (|Q - Q_hi| passes through zero as the pole moves; see the module
    docstring): the sweep is dense enough to see them (the earlier sweep of 59 x 601 cells
    was not). Errors below 1e-12 of the integral are
    left out: there rounding dominates them."""
    half = np.linspace(0.2, 6.0, 233)
    q, exact, null = _lorentzian_cells(rule, power, half, 1201)
    even, d_lo = np.abs(q[..., 0] - q[..., 1]), np.abs(q[..., 0] - q[..., 2])
    actual = np.abs(q[..., 0] - exact)
    significant = actual > 1e-12 * exact
    resolved = d_lo <= rule.resolved * q[..., 0]
    narrow = (half <= 3.0)[:, None]
    assert np.any(significant & resolved) and np.any(significant & ~resolved & narrow)
    flat = (q.shape[0] * q.shape[1], 1)

    def worst(d_hi: np.ndarray, where: np.ndarray) -> float:
        err = scaled_error(
            d_hi.reshape(flat),
            d_lo.reshape(flat),
            q[..., 0].reshape(flat),
            np.ones(1),
            rule.resolved,
        ).reshape(d_hi.shape)
        return float(np.max(actual[where] / err[where]))

    robust = np.maximum(even, null)
    assert worst(robust, significant & resolved) < 0.5
    assert worst(robust, significant & ~resolved & narrow) < 0.5
    assert worst(robust, significant & ~resolved) < 1.0  # cells up to 12 widths wide
    # |Q - Q_hi| alone, with the same gate and floor: 3-110x below the true error somewhere
    assert worst(even, significant & resolved) > 1.0


def test_gk31_certifies_a_squared_lorentzian_in_the_dense_scan_spacing():
    """The spacing of dense scans (contours.DENSE_CELL_WIDTHS) is what the GK31 estimate
    certifies at that rtol on a squared Lorentzian anywhere inside the cell, and the true error
    is far below it."""
    for smallest, widths in DENSE_CELL_WIDTHS[:-1]:  # the last one: below 1e-9
        half = np.array([widths / 2])
        q, exact, null = _lorentzian_cells(GK31, 2, half, 1201)
        inside = np.abs(np.linspace(-6.0, 6.0, 1201)) <= 1.0
        d_hi = np.maximum(np.abs(q[0, :, 0] - q[0, :, 1]), null[0])
        d_lo = np.abs(q[0, :, 0] - q[0, :, 2])
        err = scaled_error(d_hi[:, None], d_lo[:, None], q[0, :, :1], np.ones(1), GK31.resolved)
        relative = (err[:, 0] / exact[0])[inside]
        assert relative.max() <= smallest * 5, (widths, relative.max())
        assert (
            np.max(np.abs(q[0, inside, 0] - exact[0, inside]) / exact[0, inside]) < 1e-2 * smallest
        )
