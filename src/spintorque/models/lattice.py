"""Named lattice models built on :class:`~spintorque.models.tight_binding.TightBinding`.

All are square lattices of constant ``a`` (length) in 2D unless stated; k in inverse length,
hbar = 1, energies in one unit. The exchange term is (delta/2) m . sigma on every site unless
stated (the thin film puts it on the top layer only).

* :class:`QWZ` — the Qi-Wu-Zhang Chern insulator
  H = sin(kx a) sx + sin(ky a) sy + (u + cos(kx a) + cos(ky a)) sz   (energy unit 1),
  X.-L. Qi, Y.-S. Wu, S.-C. Zhang, Phys. Rev. B 74, 085308 (2006).
* :class:`RashbaLattice` — Rashba ferromagnet
  H = -2t (cos kx a + cos ky a) + alpha (sin ky a sx - sin kx a sy) + (delta/2) m . sigma.
  For k a << 1 it is :class:`~spintorque.models.Rashba2DEG` with mass = 1/(2 t a^2) and Rashba
  parameter -alpha a (energy x length), shifted by -4t.
* :class:`LatticeDiracSurface` — a lattice-regularised TI surface
  H = (2 - cos kx a - cos ky a)/(mass a^2) + (vf/a)(-sin ky a sx + sin kx a sy) + (delta/2) m . sigma.
  For k a << 1 it is :class:`~spintorque.models.DiracSurface` (vf, delta, mass) with relative
  corrections O((k a)^2). The fermion doublers at (pi, 0), (0, pi), (pi, pi) are pushed up to
  energies 2/(mass a^2), 2/(mass a^2), 4/(mass a^2) by the particle-hole-asymmetric Wilson
  term, which keeps time-reversal symmetry (a Wilson mass on sigma_z would break it).
"""

from __future__ import annotations

import numpy as np

from .base import PAULI
from .continuum import _real
from .tight_binding import TightBinding

SX, SY, SZ = PAULI
ID2 = np.eye(2, dtype=complex)
SQUARE = ((1, 0), (0, 1))


def _square(a: float) -> np.ndarray:
    return a * np.eye(2)


def _nearest_neighbour(onsite: np.ndarray, hop_x: np.ndarray, hop_y: np.ndarray) -> dict:
    """{R: H(R)} for a square lattice with H(+x) = hop_x, H(+y) = hop_y and their conjugates."""
    return {
        (0, 0): onsite,
        (1, 0): hop_x,
        (-1, 0): np.conj(hop_x.T),
        (0, 1): hop_y,
        (0, -1): np.conj(hop_y.T),
    }


class QWZ(TightBinding):
    """Qi-Wu-Zhang Chern insulator on the square lattice (Pauli matrices are a pseudospin).

    H = sin(kx a) sx + sin(ky a) sy + (u + cos(kx a) + cos(ky a)) sz + (delta/2) m . sigma.

    Gapped unless u in {-2, 0, 2}; the lower band has Chern number C = 0 for |u| > 2 and
    |C| = 1 for 0 < |u| < 2 with opposite signs on the two sides of u = 0 (the sign in this
    package's conventions is fixed by the Fukui-Hatsugai-Suzuki test).

    Parameters
    ----------
    u : mass parameter (energy, in units of the hopping).
    delta : optional exchange coupling of the pseudospin to m (energy), default 0.
    a : lattice constant (length).
    """

    def __init__(self, u: float = -1.0, *, delta: float = 0.0, a: float = 1.0) -> None:
        self.u = _real("u", u)
        self.a = _real("a", a, positive=True)
        hoppings = _nearest_neighbour(self.u * SZ, 0.5 * (SZ - 1j * SX), 0.5 * (SZ - 1j * SY))
        super().__init__(_square(self.a), hoppings, spin_operators=PAULI, delta=_real("delta", delta), name="QWZ")

    def parameters(self) -> dict[str, float]:
        return {"u": self.u, "delta": self.delta, "a": self.a}


class RashbaLattice(TightBinding):
    """Rashba ferromagnet on the square lattice.

    H = -2t (cos kx a + cos ky a) + alpha (sin ky a sx - sin kx a sy) + (delta/2) m . sigma.

    Parameters
    ----------
    t : nearest-neighbour hopping (energy); the kinetic term is -t per bond.
    alpha : Rashba hopping amplitude (energy).
    delta : exchange splitting (energy): exchange (delta/2) m . sigma, so an exchange
        constant J m . sigma is delta = 2 J.
    a : lattice constant (length).
    """

    def __init__(self, t: float = 1.0, alpha: float = 0.3, delta: float = 1.0, *, a: float = 1.0) -> None:
        self.t = _real("t", t)
        self.alpha = _real("alpha", alpha)
        self.a = _real("a", a, positive=True)
        hop_x = -self.t * ID2 + 0.5j * self.alpha * SY
        hop_y = -self.t * ID2 - 0.5j * self.alpha * SX
        hoppings = _nearest_neighbour(0 * ID2, hop_x, hop_y)
        super().__init__(_square(self.a), hoppings, spin_operators=PAULI, delta=_real("delta", delta),
                         name="RashbaLattice")

    def parameters(self) -> dict[str, float]:
        return {"t": self.t, "alpha": self.alpha, "delta": self.delta, "a": self.a}


class LatticeDiracSurface(TightBinding):
    """Lattice-regularised topological-insulator surface (reduces to DiracSurface for k a << 1).

    H = (2 - cos kx a - cos ky a) / (mass a^2) + (vf/a)(-sin ky a sx + sin kx a sy)
        + (delta/2) m . sigma.

    Parameters
    ----------
    vf : Dirac velocity hbar vF (energy x length), > 0.
    delta : exchange splitting (energy).
    a : lattice constant (length).
    mass : mass of the regularising term (hbar^2 / (energy x length^2)), > 0; default
        a / (2 vf), which puts the doublers 4 vf / a above the Dirac point.
    """

    def __init__(self, vf: float = 1.0, delta: float = 0.2, *, a: float = 1.0, mass: float | None = None) -> None:
        self.vf = _real("vf", vf, positive=True)
        self.a = _real("a", a, positive=True)
        self.mass = self.a / (2 * self.vf) if mass is None else _real("mass", mass, positive=True)
        wilson = 1.0 / (self.mass * self.a**2)
        vel = self.vf / self.a
        # -vf sin(ky a)/a sx: H(+y) = (i vf / 2a) sx ; +vf sin(kx a)/a sy: H(+x) = (-i vf / 2a) sy
        hop_x = -0.5 * wilson * ID2 - 0.5j * vel * SY
        hop_y = -0.5 * wilson * ID2 + 0.5j * vel * SX
        hoppings = _nearest_neighbour(2 * wilson * ID2, hop_x, hop_y)
        super().__init__(_square(self.a), hoppings, spin_operators=PAULI, delta=_real("delta", delta),
                         name="LatticeDiracSurface")

    def parameters(self) -> dict[str, float]:
        return {"vf": self.vf, "delta": self.delta, "a": self.a, "mass": self.mass}
