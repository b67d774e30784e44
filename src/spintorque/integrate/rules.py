"""Quadrature rules shared by the k integrators, and their error estimate.

Each one-dimensional rule comes with embedded lower rules on a subset of its nodes:

* Gauss-Kronrod 15 (degree 23), the Gauss 7 rule on its odd nodes (degree 13) and an
  interpolatory 5-point rule on G7 nodes (degree 5);
* Gauss-Kronrod 31 (degree 46), the Gauss 15 rule on its odd nodes (degree 29) and an
  interpolatory 13-point rule on G15 nodes (degree 13), for cells several Lorentzian widths
  wide with a ridge inside (:data:`GK31`);
* the periodic trapezoid rule with n nodes and its subsets with n/2 and n/4 nodes.

Error estimate of a cell (see :func:`scaled_error`): the difference d_hi = |Q - Q_hi| between the
rule and its best embedded rule is the classic (QUADPACK-style) estimate, but it is the error of
the *embedded* rule, many orders above that of Q once the integrand is resolved. The second
difference d_lo = |Q - Q_lo| measures the convergence rate: for an integrand analytic in a
neighbourhood of the cell (Bernstein ellipse rho), d_hi ~ rho^-14, d_lo ~ rho^-6 and
|Q - I| ~ rho^-24, i.e. |Q - I| ~ d_hi (d_hi / d_lo)^(5/4); for the trapezoid rule on a
periodic analytic integrand |Q - I| ~ d_hi (d_hi / d_lo)^2, but only asymptotically: a strong
low harmonic (cos 2 phi is common) dominates d_lo, so the disk integrator keeps the plain d_hi
for its trapezoid rings. The estimate used for Gauss-Kronrod is the conservative
d_hi x clip(d_hi / d_lo, 1e-3, 1), with the ratio taken over all components of the cell (scaled
by their tolerances), so an accidental zero of one component does not fake convergence, and
only once the low rule agrees with Q to ``resolved`` of the cell's value (1% for GK15, 1.5% for
GK31); otherwise it is d_hi.

Q - Q_hi is an even null rule (both rules are symmetric): as a pole moves across the cell it
passes through zero, and there it says nothing about the error of Q. Each rule therefore
carries an *odd* null rule of nearly the same degree (``RadialRule.null``: antisymmetric
weights, zero on every polynomial up to degree 11 for GK15, 27 for GK31, scaled to the
Euclidean norm of Q - Q_hi), which passes through zero elsewhere, and d_hi is
max(|Q - Q_hi|, |N_odd|) (the pairing of symmetric and antisymmetric null rules of Berntsen and
Espelid). The constants come from the worst case over a Lorentzian 1/(x^2 + 1) and its square
(the surface kernel's diagonal) on cells of half-width 0.2..6 (units of the width) at 1201
pole positions across and beyond the cell (tests/test_rules.py), with the gates and floor below:

==================================  =====  =====
largest true error / estimate       GK15   GK31
==================================  =====  =====
rate trusted, |Q - Q_hi| only       53     109
rate trusted, with N_odd            0.07   0.15
not trusted, |Q - Q_hi| only        295    7.6
not trusted, with N_odd             0.74   0.04
  ... in cells up to 6 widths wide  0.02   0.04
==================================  =====  =====

(the pure rate scaling d_hi^2 / d_lo fails by up to 1e6). With the odd null rule the floor of
the rate went from 0.03 to 1e-3 and GK31's gate from 1% to 1.5%: a squared Lorentzian anywhere
in a GK31 cell 3.5 widths wide is then certified at 8e-9 of its value, 4.5 widths at 4e-5,
which sets the spacing of dense scans (``contours.DENSE_CELL_WIDTHS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre

# Gauss-Kronrod 15 (nodes on [-1, 1]); the 7-point Gauss nodes are GK_NODES[1::2]
GK_NODES = np.array([
    -0.991455371120812639206854697526329, -0.949107912342758524526189684047851,
    -0.864864423359769072789712788640926, -0.741531185599394439863864773280788,
    -0.586087235467691130294144838258730, -0.405845151377397166906606412076961,
    -0.207784955007898467600689403773245, 0.0,
    0.207784955007898467600689403773245, 0.405845151377397166906606412076961,
    0.586087235467691130294144838258730, 0.741531185599394439863864773280788,
    0.864864423359769072789712788640926, 0.949107912342758524526189684047851,
    0.991455371120812639206854697526329,
])  # fmt: skip
K15_WEIGHTS = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
    0.204432940075298892414161999234649, 0.190350578064785409913256402421014,
    0.169004726639267902826583426598550, 0.140653259715525918745189590510238,
    0.104790010322250183839876322541518, 0.063092092629978553290700663189204,
    0.022935322010529224963732008058970,
])  # fmt: skip
G7_WEIGHTS = np.zeros(15)
G7_WEIGHTS[1::2] = [
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
    0.381830050505118944950369775488975, 0.279705391489276667901467771423780,
    0.129484966168869693270611432679082,
]  # fmt: skip

# interpolatory 5-point rule on the G7 nodes +-0.949, +-0.406, 0 (degree 5)
L5_INDEX = np.array([1, 5, 7, 9, 13])
L5_WEIGHTS = np.zeros(15)
L5_WEIGHTS[L5_INDEX] = np.linalg.solve(
    np.vander(GK_NODES[L5_INDEX], increasing=True).T,
    [(1.0 - (-1.0) ** (j + 1)) / (j + 1) for j in range(5)],
)
# scaled_error trusts the convergence rate where |Q - Q_lo| <= resolved x |Q| (GK15's; each
# rule carries its own, RadialRule.resolved) ...
RESOLVED = 0.01
# ... and never scales d_hi down by more than 1 / RATE_FLOOR
RATE_FLOOR = 1e-3
# the radial rule sets: (value, embedded high, embedded low)
GK_RULES = np.stack([K15_WEIGHTS, G7_WEIGHTS, L5_WEIGHTS])


def gauss_kronrod(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes (2n+1,) of the Gauss-Kronrod rule extending n-point Gauss-Legendre on [-1, 1],
    its weights and the Gauss weights on the same nodes (zero on the Kronrod nodes).

    The n + 1 Kronrod nodes are the roots of the Stieltjes polynomial E (degree n + 1, monic in
    the Legendre basis, orthogonal to P_n x P_k for k <= n), the weights those of the
    interpolatory rule on all 2n + 1 nodes (exact to degree 3n + 1 for odd n).
    """
    x_gauss, w_gauss = legendre.leggauss(n)
    x_q, w_q = legendre.leggauss(2 * n + 8)  # exact for the products of degree <= 3n + 1
    basis = legendre.legvander(x_q, n + 1).T  # P_0 .. P_{n+1} at the nodes
    weighted = basis[: n + 1] * (basis[n] * w_q)  # P_k P_n w
    coef = np.r_[np.linalg.lstsq(weighted @ basis[: n + 1].T, -weighted @ basis[n + 1])[0], 1.0]
    roots = np.sort(legendre.legroots(coef).real)
    for _ in range(3):  # Newton polish of the companion-matrix roots
        roots -= legendre.legval(roots, coef) / legendre.legval(roots, legendre.legder(coef))
    nodes = np.sort(np.r_[x_gauss, roots])
    weights = interpolatory_weights(nodes)
    gauss = np.zeros(2 * n + 1)
    gauss[1::2] = w_gauss
    return nodes, weights, gauss


def interpolatory_weights(nodes: np.ndarray) -> np.ndarray:
    """Weights of the interpolatory rule on ``nodes`` in [-1, 1] (exact to degree len - 1)."""
    moments = np.zeros(len(nodes))
    moments[0] = 2.0
    return np.linalg.solve(legendre.legvander(nodes, len(nodes) - 1).T, moments)


def odd_null_rule(nodes: np.ndarray, reference: np.ndarray, degree: int) -> np.ndarray:
    """Antisymmetric weights on the symmetric ``nodes`` that vanish on every polynomial up to
    ``degree`` (odd; the even ones vanish by symmetry), scaled to the Euclidean norm of the
    null rule ``reference`` (Q - Q_hi)."""
    n_pairs = len(nodes) // 2
    positive = nodes[len(nodes) - n_pairs :]  # the nodes are sorted: the upper half
    odd = legendre.legvander(positive, degree)[:, 1::2].T  # P_1, P_3, ..., P_degree
    pair = np.linalg.svd(odd)[2][-1]  # the one-dimensional null space (n_pairs - 1 conditions)
    weights = np.zeros(len(nodes))
    weights[len(nodes) - n_pairs :] = pair
    weights[:n_pairs] = -pair[::-1]
    return weights * (np.linalg.norm(reference) / np.linalg.norm(weights))


@dataclass(frozen=True)
class RadialRule:
    """A Gauss-Kronrod rule on [-1, 1] with its embedded rules: nodes (Q,) and weights (3, Q)
    in the order (value, embedded high, embedded low), as :data:`GK_RULES`; ``null`` (Q,) its
    odd null rule (see the module docstring) and ``resolved`` the rate gate of
    :func:`rate_factor`."""

    nodes: np.ndarray
    weights: np.ndarray
    null: np.ndarray
    resolved: float

    def __len__(self) -> int:
        return len(self.nodes)


def _gk31() -> RadialRule:
    nodes, kronrod, gauss = gauss_kronrod(15)
    # the low rule on G15 nodes without the pair next to the centre (the one choice with positive
    # weights): degree 13, so that d_hi / d_lo ~ rho^-16 stays above the true error ratio
    # rho^-17 of K31 to G15
    low_index = np.r_[1:12:2, 15, 19:30:2]
    low = np.zeros(31)
    low[low_index] = interpolatory_weights(nodes[low_index])
    return RadialRule(
        nodes, np.stack([kronrod, gauss, low]), odd_null_rule(nodes, kronrod - gauss, 27), 0.015
    )


GK15 = RadialRule(
    GK_NODES, GK_RULES, odd_null_rule(GK_NODES, K15_WEIGHTS - G7_WEIGHTS, 11), RESOLVED
)
GK31 = _gk31()


@dataclass(frozen=True)
class ProductWeights:
    """The weight sets of a product rule over P cells of Q radial x A angular nodes (points
    radial-major): set s has weight radial[p, rad_index[s], q] x angular[p, ang_index[s], a] x
    jac[p, q, a]. An integrand can then sum over the angles once per distinct angular rule and
    finish each set with a radial sum, instead of one full sum per set."""

    radial: np.ndarray  # (P, nR, Q)
    angular: np.ndarray  # (P, nA, A)
    jac: np.ndarray  # (P, Q, A)
    rad_index: tuple[int, ...]
    ang_index: tuple[int, ...]

    @property
    def n_sets(self) -> int:
        return len(self.rad_index)

    def full(self) -> np.ndarray:
        """The weights as one array (P, Q A, n_sets)."""
        rad = self.radial[:, list(self.rad_index)]  # (P, nw, Q)
        ang = self.angular[:, list(self.ang_index)]  # (P, nw, A)
        w = rad[:, :, :, None] * ang[:, :, None, :] * self.jac[:, None]  # (P, nw, Q, A)
        return np.moveaxis(w, 1, -1).reshape(len(w), -1, self.n_sets)


def trapezoid_rules(n: int) -> np.ndarray:
    """Periodic trapezoid weights over [0, 2 pi) for n nodes and its n/2 and n/4 subsets, (3, n)."""
    idx = np.arange(n)
    full = np.ones(n)
    half = 2.0 * (idx % 2 == 0)
    quarter = 4.0 * (idx % 4 == 0)
    return np.stack([full, half, quarter]) * (2 * np.pi / n)


def rate_factor(
    hi: np.ndarray,
    lo: np.ndarray,
    size: np.ndarray,
    resolved: float | np.ndarray = RESOLVED,
) -> np.ndarray:
    """Factor (P,) by which each cell's d_hi is scaled: clip(hi / lo, RATE_FLOOR, 1) where the
    cell is resolved (0 < lo <= resolved x size), else 1.

    hi, lo, size : (P,) largest d_hi / tol, d_lo / tol and |value| / tol over the components of
    each cell (see :func:`scaled_error`). resolved : the gate (per cell: its radial rule's).
    """
    rate = np.clip(hi / np.maximum(lo, np.finfo(float).tiny), RATE_FLOOR, 1.0)
    trusted = (lo > 0) & (lo <= resolved * size)
    return np.where(trusted, rate, 1.0)


def scaled_error(
    d_hi: np.ndarray,
    d_lo: np.ndarray,
    value: np.ndarray,
    tol: np.ndarray,
    resolved: float = RESOLVED,
) -> np.ndarray:
    """Error estimate d_hi x clip(rate, RATE_FLOOR, 1) per cell, rate = max(d_hi/tol)/max(d_lo/tol).

    d_hi, d_lo : (P, C) differences to the embedded high and low rules (d_hi: with the odd null
    rule, max(|Q - Q_hi|, |N_odd|)); value : (P, C) the cells' values; tol : (C,) tolerances
    (all maxima are over components scaled by tol); resolved : the rule's rate gate.
    The rate is trusted only in cells where the low rule is already within ``resolved`` of the
    cell's value: an integrand that the low rule does not resolve (a Lorentzian peak near the
    cell's edge) is pre-asymptotic, and d_hi is returned unscaled.
    """
    hi = np.max(d_hi / tol, axis=1)
    lo = np.max(d_lo / tol, axis=1)
    size = np.max(np.abs(value) / tol, axis=1)
    return d_hi * rate_factor(hi, lo, size, resolved)[:, None]
