"""Finite-temperature smearing of T = 0 responses over the Fermi level (SPEC.md sec. 3).

Because eta is energy independent, Lambda(T, mu) = int d eps (-df_T/d eps)(eps - mu) Lambda(0, eps).
With x = (eps - mu) / (2T) the weight is sech^2(x)/2 and the integrand is analytic in the strip
|Im x| < d = min(pi/2, eta/(2T)) (the T = 0 response has its nearest singularities eta away from
the real energy axis). The trapezoid rule on the real line then converges like exp(-2 pi d / h):
it is used on one uniform energy grid shared by every chemical potential (the rule is shift
invariant, so mu need not lie on the grid), and the rule with twice the spacing, a subset of the
same nodes, gives the error estimate of the rule.

The grid is finite: the weight of -df/d eps beyond each end (``tail``, exact) times twice the
largest response within 2T of that end is added to the error. The response beyond the grid is
not computed: the factor two allows it to double there (a response that grows towards the end,
as a Drude conductivity with EF, was measured to make the truncation error equal to the tail
times its value at the end). The engine passes each block's scale (its largest entry) as the
response, not the entries themselves: an entry small at the end can grow beyond it (measured:
1.3x over the estimate on a warped surface, an entry 300x below its block's scale).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit


@dataclass(frozen=True)
class ThermalGrid:
    """Energy nodes for one temperature and the weights that smear them onto each mu.

    energies : (nE,) T = 0 Fermi levels to compute.  weights : (nmu, nE) fine-rule weights.
    coarse_weights : (nmu, nE) weights of the rule with twice the spacing (error estimate).
    tail : (nmu, 2) weight of -df/d eps below and above the grid (the truncation).
    edge_width : the energy range (2T) at each end whose largest response bounds the truncation.
    exact : T = 0, the energies are the chemical potentials and the weights the identity.
    """

    energies: np.ndarray
    weights: np.ndarray
    coarse_weights: np.ndarray
    tail: np.ndarray
    edge_width: float = 0.0
    exact: bool = False

    def truncation_error(self, values: np.ndarray) -> np.ndarray:
        """(nmu, ...) bound on the truncation error of the smeared ``values`` (nE, ...): at each
        end of the grid, the tail weight times twice the largest |value| within 2T of it."""
        edge = max(1, int(np.searchsorted(self.energies, self.energies[0] + self.edge_width)))
        ends = np.stack([np.abs(values[:edge]).max(axis=0), np.abs(values[-edge:]).max(axis=0)])
        return 2.0 * np.tensordot(self.tail, ends, axes=1)


def minus_fermi_derivative(eps: np.ndarray, temperature: float) -> np.ndarray:
    """-df/d eps for the Fermi function at temperature T (energy units), eps measured from mu."""
    x = np.asarray(eps) / (2.0 * temperature)
    return 1.0 / (4.0 * temperature * np.cosh(np.clip(x, -350, 350)) ** 2)


def thermal_grid(mu: np.ndarray, temperature: float, eta: float, rtol: float) -> ThermalGrid:
    """Trapezoid nodes and weights smearing T = 0 results onto chemical potentials ``mu``.

    The spacing is chosen so that even the coarse (2h) rule reaches ~rtol:
    h = pi d' / (ln(1/rtol) + 6) with d' = 0.8 d; the window is |eps - mu| <= 2 T X with
    2 exp(-2X) = rtol/100, so that its truncation (bounded in the error, see the module
    docstring) stays ~rtol/50 of the response at the window's ends (a wider window costs
    energies: 1.14x as many for rtol/400 on a 26-level Rashba scan at T = 2 eta).
    """
    mu = np.atleast_1d(np.asarray(mu, dtype=float))
    if temperature <= 0:
        return ThermalGrid(
            mu.copy(), np.eye(len(mu)), np.eye(len(mu)), np.zeros((len(mu), 2)), exact=True
        )
    d = 0.8 * min(0.5 * np.pi, eta / (2.0 * temperature))  # stay clear of the strip's edge
    h = np.pi * d / (np.log(1.0 / rtol) + 6.0)
    x_max = 0.5 * np.log(200.0 / rtol)
    step = 2.0 * temperature * h
    start = mu.min() - 2.0 * temperature * x_max
    n_nodes = int(np.ceil((mu.max() - mu.min() + 4.0 * temperature * x_max) / step)) + 1
    n_nodes += n_nodes % 2 == 0  # odd count: the coarse rule uses every other node
    energies = start + step * np.arange(n_nodes)
    weights = step * minus_fermi_derivative(energies[None, :] - mu[:, None], temperature)
    coarse = np.zeros_like(weights)
    coarse[:, ::2] = 2.0 * weights[:, ::2]
    # -df/d eps integrates to 1/(1 + exp(2 x)) beyond x = (distance to the window edge) / 2T;
    # the trapezoid rule's end nodes carry half a step of the window
    below = (mu - energies[0] + 0.5 * step) / (2.0 * temperature)
    above = (energies[-1] + 0.5 * step - mu) / (2.0 * temperature)
    tail = np.stack([expit(-2.0 * below), expit(-2.0 * above)], axis=1)
    return ThermalGrid(energies, weights, coarse, tail, edge_width=2.0 * temperature)
