"""Two-band continuum models H = eps0(k) 1 + h(k; m) . sigma on the disk |k| <= cutoff.

Units: energies in eV and lengths in nm in the examples (any consistent pair works); hbar = 1,
so ``vf`` and ``alpha`` are energy x length, ``mass`` is hbar^2/(energy x length^2) with
eps0 = k^2 / (2 mass), ``warping`` is energy x length^3.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from .base import PAULI, BlochModel, Disk


def _real(name: str, value: object, *, positive: bool = False, nonzero: bool = False) -> float:
    """Validate one scalar parameter and return it as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ModelError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ModelError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ModelError(f"{name} must be > 0, got {value!r}")
    if nonzero and value == 0:
        raise ModelError(f"{name} must be nonzero, got {value!r}")
    return value


def _pauli_matrix(scalar: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """scalar x 1 + vector . sigma as 2 x 2 matrices: shapes (...,) and (..., 3) -> (..., 2, 2)."""
    out = np.empty((*scalar.shape, 2, 2), dtype=complex)
    out[..., 0, 0] = scalar + vector[..., 2]
    out[..., 1, 1] = scalar - vector[..., 2]
    out[..., 0, 1] = vector[..., 0] - 1j * vector[..., 1]
    out[..., 1, 0] = vector[..., 0] + 1j * vector[..., 1]
    return out


class TwoBandContinuum(BlochModel):
    """Base of 2-band continuum models: eps0(k) 1 + [h_so(k) + (delta/2) m] . sigma.

    Subclasses implement :meth:`eps0`, :meth:`grad_eps0`, :meth:`h_so` and :meth:`grad_h_so`.
    """

    n_bands = 2
    dim = 2
    spin_operators = PAULI

    def __init__(self, *, delta: float, cutoff: float) -> None:
        self.delta = _real("delta", delta)
        self.cutoff = _real("cutoff", cutoff, positive=True)
        self.k_domain = Disk(self.cutoff)

    # --- the pieces a subclass provides (k has shape (Nk, 2)) ---
    def eps0(self, k: np.ndarray) -> np.ndarray:  # (Nk,)
        return np.zeros(len(k))

    def grad_eps0(self, k: np.ndarray) -> np.ndarray:  # (Nk, 2)
        return np.zeros_like(k, dtype=float)

    def h_so(self, k: np.ndarray) -> np.ndarray:  # (Nk, 3)
        raise NotImplementedError

    def grad_h_so(self, k: np.ndarray) -> np.ndarray:  # (Nk, 2, 3): d h_c / d k_j
        raise NotImplementedError

    # --- the BlochModel interface ---
    def h_vector(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        """h(k; m) = h_so(k) + (delta/2) m, shape (Nk, 3)."""
        return self.h_so(k) + 0.5 * self.delta * np.asarray(m, dtype=float)

    def hamiltonian(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        k = np.asarray(k, dtype=float)
        return _pauli_matrix(self.eps0(k), self.h_vector(k, m))

    def velocity(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        k = np.asarray(k, dtype=float)
        return _pauli_matrix(self.grad_eps0(k), self.grad_h_so(k))

    def exchange_derivative(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        ops = 0.5 * self.delta * PAULI
        return np.broadcast_to(ops, (len(k), 3, 2, 2)).copy()


class DiracSurface(TwoBandContinuum):
    """Topological-insulator surface with a proximity exchange field (paper Eq. 8).

    H = eps0(k) + vf (z x k) . sigma + warping (kx^3 - 3 kx ky^2) sigma_z + (delta/2) m . sigma,
    with z x k = (-ky, kx, 0) and eps0 = k^2 / (2 mass) when ``mass`` is given (else 0).

    Parameters
    ----------
    vf : Dirac velocity hbar vF (energy x length), > 0.
    delta : exchange splitting Delta (energy); delta > 0: lower band spin antiparallel to m.
    cutoff : radius of the k disk (inverse length).
    mass : optional effective mass of the quadratic term (nonzero).
    warping : hexagonal warping lambda (energy x length^3).
    """

    def __init__(
        self,
        vf: float = 1.0,
        delta: float = 0.2,
        cutoff: float = 20.0,
        *,
        mass: float | None = None,
        warping: float = 0.0,
    ) -> None:
        super().__init__(delta=delta, cutoff=cutoff)
        self.vf = _real("vf", vf, positive=True)
        self.mass = None if mass is None else _real("mass", mass, nonzero=True)
        self.warping = _real("warping", warping)

    def parameters(self) -> dict[str, float]:
        out = {"vf": self.vf, "delta": self.delta, "cutoff": self.cutoff}
        if self.mass is not None:
            out["mass"] = self.mass
        if self.warping:
            out["warping"] = self.warping
        return out

    def eps0(self, k: np.ndarray) -> np.ndarray:
        if self.mass is None:
            return np.zeros(len(k))
        return np.sum(k**2, axis=1) / (2 * self.mass)

    def grad_eps0(self, k: np.ndarray) -> np.ndarray:
        if self.mass is None:
            return np.zeros_like(k, dtype=float)
        return k / self.mass

    def h_so(self, k: np.ndarray) -> np.ndarray:
        kx, ky = k[:, 0], k[:, 1]
        hz = self.warping * (kx**3 - 3 * kx * ky**2)
        return np.stack([-self.vf * ky, self.vf * kx, hz], axis=1)

    def grad_h_so(self, k: np.ndarray) -> np.ndarray:
        kx, ky = k[:, 0], k[:, 1]
        out = np.zeros((len(k), 2, 3))
        out[:, 0, 1] = self.vf
        out[:, 1, 0] = -self.vf
        out[:, 0, 2] = self.warping * 3 * (kx**2 - ky**2)
        out[:, 1, 2] = -self.warping * 6 * kx * ky
        return out

    def band_center(self, m: np.ndarray) -> np.ndarray:
        """Where the in-plane exchange moves the Dirac point: (delta / 2 vf) (-m_y, m_x)."""
        m = np.asarray(m, dtype=float)
        return 0.5 * self.delta / self.vf * np.array([-m[1], m[0]])


class Rashba2DEG(TwoBandContinuum):
    """Rashba ferromagnet: H = k^2/(2 mass) + alpha (z x k) . sigma + (delta/2) m . sigma.

    Parameters
    ----------
    mass : effective mass (hbar^2 / (energy x length^2)), > 0.
    alpha : Rashba parameter (energy x length).
    delta : exchange splitting (energy).
    cutoff : radius of the k disk (inverse length).
    """

    def __init__(
        self, mass: float = 0.5, alpha: float = 0.5, delta: float = 0.3, cutoff: float = 10.0
    ) -> None:
        super().__init__(delta=delta, cutoff=cutoff)
        self.mass = _real("mass", mass, positive=True)
        self.alpha = _real("alpha", alpha)

    def parameters(self) -> dict[str, float]:
        return {"mass": self.mass, "alpha": self.alpha, "delta": self.delta, "cutoff": self.cutoff}

    def eps0(self, k: np.ndarray) -> np.ndarray:
        return np.sum(k**2, axis=1) / (2 * self.mass)

    def grad_eps0(self, k: np.ndarray) -> np.ndarray:
        return k / self.mass

    def h_so(self, k: np.ndarray) -> np.ndarray:
        kx, ky = k[:, 0], k[:, 1]
        return np.stack([-self.alpha * ky, self.alpha * kx, np.zeros(len(k))], axis=1)

    def grad_h_so(self, k: np.ndarray) -> np.ndarray:
        out = np.zeros((len(k), 2, 3))
        out[:, 0, 1] = self.alpha
        out[:, 1, 0] = -self.alpha
        return out

    def band_center(self, m: np.ndarray) -> np.ndarray:
        if self.alpha == 0:
            return np.zeros(2)
        m = np.asarray(m, dtype=float)
        return 0.5 * self.delta / self.alpha * np.array([-m[1], m[0]])
