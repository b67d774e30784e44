"""Finite-temperature smearing of T = 0 responses over the Fermi level (SPEC.md sec. 3).

Because eta is energy independent, Lambda(T, mu) = int d eps (-df_T/d eps)(eps - mu) Lambda(0, eps).
With x = (eps - mu) / (2T) the weight is sech^2(x)/2 and the integrand is analytic in the strip
|Im x| < d = min(pi/2, eta/(2T)) (the T = 0 response has its nearest singularities eta away from
the real energy axis). The trapezoid rule on the real line then converges like exp(-2 pi d / h):
it is used on one uniform energy grid shared by every chemical potential (the rule is shift
invariant, so mu need not lie on the grid), and the rule with twice the spacing, a subset of the
same nodes, gives the error estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ThermalGrid:
    """Energy nodes for one temperature and the weights that smear them onto each mu.

    energies : (nE,) T = 0 Fermi levels to compute.  weights : (nmu, nE) fine-rule weights.
    coarse_weights : (nmu, nE) weights of the rule with twice the spacing (error estimate).
    exact : T = 0, the energies are the chemical potentials and the weights the identity.
    """

    energies: np.ndarray
    weights: np.ndarray
    coarse_weights: np.ndarray
    exact: bool = False


def minus_fermi_derivative(eps: np.ndarray, temperature: float) -> np.ndarray:
    """-df/d eps for the Fermi function at temperature T (energy units), eps measured from mu."""
    x = np.asarray(eps) / (2.0 * temperature)
    return 1.0 / (4.0 * temperature * np.cosh(np.clip(x, -350, 350)) ** 2)


def thermal_grid(mu: np.ndarray, temperature: float, eta: float, rtol: float) -> ThermalGrid:
    """Trapezoid nodes and weights smearing T = 0 results onto chemical potentials ``mu``.

    The spacing is chosen so that even the coarse (2h) rule reaches ~rtol:
    h = pi d' / (ln(1/rtol) + 6) with d' = 0.8 d; the window is |eps - mu| <= 2 T X with
    2 exp(-2X) = rtol/20.
    """
    mu = np.atleast_1d(np.asarray(mu, dtype=float))
    if temperature <= 0:
        return ThermalGrid(mu.copy(), np.eye(len(mu)), np.eye(len(mu)), exact=True)
    d = 0.8 * min(0.5 * np.pi, eta / (2.0 * temperature))  # stay clear of the strip's edge
    h = np.pi * d / (np.log(1.0 / rtol) + 6.0)
    x_max = 0.5 * np.log(40.0 / rtol)
    step = 2.0 * temperature * h
    start = mu.min() - 2.0 * temperature * x_max
    n_nodes = int(np.ceil((mu.max() - mu.min() + 4.0 * temperature * x_max) / step)) + 1
    n_nodes += n_nodes % 2 == 0  # odd count: the coarse rule uses every other node
    energies = start + step * np.arange(n_nodes)
    weights = step * minus_fermi_derivative(energies[None, :] - mu[:, None], temperature)
    coarse = np.zeros_like(weights)
    coarse[:, ::2] = 2.0 * weights[:, ::2]
    return ThermalGrid(energies, weights, coarse)
