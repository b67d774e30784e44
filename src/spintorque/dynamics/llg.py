"""Macrospin Landau-Lifshitz-Gilbert dynamics driven by the computed electronic tensors.

SPEC.md sec. 5, m the magnetization direction, gamma = g mu_B / hbar > 0, B = mu0 H (T):

    dm/dt = -gamma m x B_eff + alpha0 m x dm/dt + (1/s_FM) m x <dH/dm>_neq + T_param,
    <dH/dm>_neq = X(m) . dm/dt + Y(m) . F,          F = -e E (force on the electrons),

X = exchange_exchange, Y = exchange_force (raw, hbar = e = 1, per area; see
:mod:`spintorque.dynamics.tensors`), s_FM = Ms t_FM / (g mu_B). In raw units X / s_FM is
dimensionless and (Y . F) / s_FM is a rate in eps/hbar. T_param is an optional torque in the
micromagnetic parametrisation (:class:`ParametrisedSOT`). The equation is linear in dm/dt:

    [1 - [m]_x (alpha0 1 + X/s_FM)] dm/dt = -gamma m x B_eff + m x w + T_param,
    w = (Y . F) / s_FM  (1/s),

a 3x3 system solved exactly at every step. Any solution is normal to m (dot the equation with
m), so |m| = 1 is conserved by the flow; the integrator evaluates the rate at m/|m| and the
output reports the drift of |m|. sym(X) >= 0 makes the electron term dissipative: with
g = dE/dm + X v one has v = (gamma/(Ms t)) m x g, so dE/dt = -v . sym(X) v <= 0 (per area);
antisym(X) only renormalises gamma.

B_eff = B_applied + B_K (m . u) u - mu0 Ms N m, energy density (J/m^3)
e(m) = -Ms B_applied . m - (Ms B_K / 2) (m . u)^2 + (mu0 Ms^2 / 2) m . N m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import ParameterError
from ..units import (
    E_CHARGE,
    EV_NM,
    HBAR,
    MU0,
    RawUnits,
    gyromagnetic_ratio,
    positive,
    spin_per_area,
)


def _vector(name: str, value, *, unit: bool = False, batch: bool = True) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.shape[-1:] != (3,) or arr.ndim > (2 if batch else 1) or not np.all(np.isfinite(arr)):
        raise ParameterError(
            f"{name} must be a finite 3-vector{' or (N, 3) array' if batch else ''}, "
            f"got shape {arr.shape}"
        )
    if unit:
        norm = np.linalg.norm(arr, axis=-1, keepdims=True)
        if np.any(norm == 0):
            raise ParameterError(f"{name} must be nonzero")
        arr = arr / norm
    return arr


@dataclass(frozen=True)
class Magnet:
    """A macrospin: a uniformly magnetized film (SI units).

    Parameters
    ----------
    ms : saturation magnetization Ms in A/m, > 0.
    thickness : t_FM in m, > 0.
    g : Lande g-factor (gamma = g mu_B / hbar).
    alpha0 : intrinsic Gilbert damping in [0, 1).
    anisotropy_field : B_K = 2 K_u / Ms in T (> 0 easy axis, < 0 easy plane).
    anisotropy_axis : u.  demag_factors : (N_x, N_y, N_z), each in [0, 1], sum <= 1.
    """

    ms: float
    thickness: float
    g: float = 2.0
    alpha0: float = 0.0
    anisotropy_field: float = 0.0
    anisotropy_axis: tuple[float, float, float] = (0.0, 0.0, 1.0)
    demag_factors: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        positive("ms", self.ms, "A/m", upper=1e8)
        positive("thickness", self.thickness, "m", upper=1e-3)
        positive("g", self.g, "(g-factor)", upper=10.0)
        if not (isinstance(self.alpha0, (int, float)) and 0 <= self.alpha0 < 1):
            raise ParameterError(f"alpha0 must be in [0, 1), got {self.alpha0!r}")
        if not math.isfinite(self.anisotropy_field) or abs(self.anisotropy_field) > 100:
            raise ParameterError(
                f"anisotropy_field must be a finite field in (-100, 100) T, "
                f"got {self.anisotropy_field!r}"
            )
        _vector("anisotropy_axis", self.anisotropy_axis, unit=True, batch=False)
        n = np.asarray(self.demag_factors, dtype=float)
        if n.shape != (3,) or np.any(n < 0) or np.any(n > 1) or n.sum() > 1 + 1e-12:
            raise ParameterError(
                f"demag_factors must be 3 numbers in [0, 1] summing to <= 1, "
                f"got {self.demag_factors!r}"
            )

    @classmethod
    def from_material(cls, material, **overrides) -> Magnet:
        """From a :class:`spintorque.materials.FerromagnetMaterial`, fields overridable."""
        keys = (
            "ms",
            "thickness",
            "g",
            "alpha0",
            "anisotropy_field",
            "anisotropy_axis",
            "demag_factors",
        )
        return cls(**{**{k: getattr(material, k) for k in keys}, **overrides})

    @cached_property
    def gamma(self) -> float:
        """gamma = g mu_B / hbar in rad s^-1 T^-1."""
        return gyromagnetic_ratio(self.g)

    @property
    def spin_per_area(self) -> float:
        """s_FM = Ms t_FM / (g mu_B) in m^-2 (units of hbar)."""
        return spin_per_area(self.ms, self.thickness, self.g)

    @cached_property
    def _axis(self) -> np.ndarray:
        return _vector("anisotropy_axis", self.anisotropy_axis, unit=True, batch=False)

    @cached_property
    def _demag(self) -> np.ndarray:
        return MU0 * self.ms * np.asarray(self.demag_factors, dtype=float)

    def effective_field(self, m: np.ndarray, applied: np.ndarray) -> np.ndarray:
        """B_eff (N, 3) in T at unit vectors m (N, 3) and applied field (3,) or (N, 3) in T."""
        u = self._axis
        return applied + self.anisotropy_field * (m @ u)[:, None] * u - self._demag * m

    def energy_density(self, m: np.ndarray, applied: np.ndarray) -> np.ndarray:
        """e(m) in J/m^3 (Zeeman + uniaxial + shape), m (N, 3)."""
        u = self._axis
        zeeman = -self.ms * np.sum(applied * m, axis=-1)
        uniaxial = -0.5 * self.ms * self.anisotropy_field * (m @ u) ** 2
        shape = 0.5 * MU0 * self.ms**2 * np.sum(np.asarray(self.demag_factors) * m**2, axis=-1)
        return zeeman + uniaxial + shape


@dataclass(frozen=True)
class Drive:
    """External drive; each vector is (3,) or (N, 3) for a batch of N macrospins.

    field : applied B = mu0 H in T.
    electric_field : in-plane E in V/m acting on the electrons, or None.
    current_density : charge current density J in A/m^2 in the conductor (in-plane), or None;
        E is then solved from the sheet conductance at the current m: sigma(m) E = J t_c.
    conductor_thickness : t_c in m (needed with current_density).
    """

    field: np.ndarray = (0.0, 0.0, 0.0)
    electric_field: np.ndarray | None = None
    current_density: np.ndarray | None = None
    conductor_thickness: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", _vector("field", self.field))
        if self.electric_field is not None and self.current_density is not None:
            raise ParameterError("give either electric_field or current_density, not both")
        for name in ("electric_field", "current_density"):
            value = getattr(self, name)
            if value is not None:
                vec = _vector(name, value)
                if np.any(vec[..., 2] != 0):
                    raise ParameterError(f"{name} must be in plane (z component 0), got {value!r}")
                object.__setattr__(self, name, vec)
        if self.current_density is not None:
            if self.conductor_thickness is None:
                raise ParameterError(
                    "conductor_thickness (m) is required with current_density (J = K / t_c)"
                )
            positive("conductor_thickness", self.conductor_thickness, "m", upper=1e-3)

    @property
    def electrical(self) -> bool:
        return self.electric_field is not None or self.current_density is not None

    def off(self) -> Drive:
        """The same drive with the electrical part switched off."""
        return Drive(field=self.field)


@dataclass(frozen=True)
class ParametrisedSOT:
    """Spin-orbit torque in the micromagnetic parametrisation (units.py conventions).

    dm/dt += -gamma B_FL m x p - gamma B_DL m x (m x p), B = hbar xi J / (2 e Ms t_FM),
    p = normal x J_hat; acts only when the drive has a current_density.
    """

    xi_dampinglike: float
    xi_fieldlike: float = 0.0
    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def rate(self, magnet: Magnet, m: np.ndarray, drive: Drive) -> np.ndarray:
        if drive.current_density is None:
            return np.zeros_like(m)
        j = np.broadcast_to(drive.current_density, m.shape)
        j_abs = np.linalg.norm(j, axis=-1, keepdims=True)
        p = np.cross(np.asarray(self.normal, dtype=float), j / np.where(j_abs > 0, j_abs, 1.0))
        a_j = HBAR * j_abs / (2 * E_CHARGE * magnet.ms * magnet.thickness)  # T
        m_x_p = cross(m, np.broadcast_to(p, m.shape))
        b_dl, b_fl = a_j * self.xi_dampinglike, a_j * self.xi_fieldlike
        return -magnet.gamma * (b_fl * m_x_p + b_dl * cross(m, m_x_p))


@dataclass(frozen=True)
class Electrons:
    """The electronic contribution: a tensor table (raw, callable m -> (N, 3, 3, 3)) and units."""

    table: object
    units: RawUnits = EV_NM

    def force(self, tensors: np.ndarray, drive: Drive) -> np.ndarray:
        """Raw force F = -e E (N, 3); E from the current density through sigma(m) if needed."""
        if drive.electric_field is not None:
            field = np.broadcast_to(drive.electric_field, (len(tensors), 3))
        else:
            sigma = tensors[:, 2, :2, :2] * E_CHARGE**2 / HBAR  # sheet conductance in S
            sheet = (
                np.broadcast_to(drive.current_density, (len(tensors), 3))[:, :2]
                * drive.conductor_thickness
            )
            field = np.zeros((len(tensors), 3))
            field[:, :2] = np.linalg.solve(sigma, sheet[..., None])[..., 0]
        return self.units.force_from_field(field)

    def coefficients(
        self, magnet: Magnet, m: np.ndarray, drive: Drive
    ) -> tuple[np.ndarray, np.ndarray]:
        """(X / s_FM (N, 3, 3) dimensionless, w = (Y . F) / s_FM (N, 3) in 1/s)."""
        tensors = self.table(m)
        s_raw = self.units.spin_per_area(magnet.spin_per_area)
        damping = tensors[:, 0] / s_raw
        if not drive.electrical:
            return damping, np.zeros_like(m)
        force = self.force(tensors, drive)
        rate = np.einsum("naj,nj->na", tensors[:, 1], force) / (s_raw * self.units.time)
        return damping, rate


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise a x b for (N, 3) arrays (faster than np.cross for small batches)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def solve3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve a x = b for stacks of 3x3 systems a (N, 3, 3), b (N, 3) by the adjugate (exact)."""
    c0, c1, c2 = a[:, :, 0], a[:, :, 1], a[:, :, 2]  # columns
    r0, r1, r2 = cross(c1, c2), cross(c2, c0), cross(c0, c1)  # rows of adj(a) (= det * inverse)
    det = np.sum(c0 * r0, axis=-1)
    if np.any(np.abs(det) < 1e-300):
        raise ParameterError(
            "the implicit LLG system is singular (|det| ~ 0): the electronic "
            "coupling X/s_FM is too large for this magnet"
        )
    return (
        np.stack([np.sum(r0 * b, -1), np.sum(r1 * b, -1), np.sum(r2 * b, -1)], axis=-1)
        / det[:, None]
    )


def cross_matrix(m: np.ndarray) -> np.ndarray:
    """[m]_x with [m]_x v = m x v, shape (N, 3, 3)."""
    out = np.zeros((len(m), 3, 3))
    out[:, 0, 1], out[:, 0, 2] = -m[:, 2], m[:, 1]
    out[:, 1, 0], out[:, 1, 2] = m[:, 2], -m[:, 0]
    out[:, 2, 0], out[:, 2, 1] = -m[:, 1], m[:, 0]
    return out


@dataclass(frozen=True)
class Macrospin:
    """A frozen macrospin system: magnet, optional electrons, optional parametrised SOT."""

    magnet: Magnet
    electrons: Electrons | None = None
    sot: ParametrisedSOT | None = None

    def rate(self, m: np.ndarray, drive: Drive) -> np.ndarray:
        """dm/dt (N, 3) in 1/s at m (N, 3) (normalised here), solving the implicit LLG exactly."""
        m = np.atleast_2d(m)
        m = m / np.sqrt(np.sum(m * m, axis=-1, keepdims=True))
        mag = self.magnet
        rhs = -mag.gamma * cross(m, mag.effective_field(m, drive.field))
        if self.sot is not None:
            rhs = rhs + self.sot.rate(mag, m, drive)
        if self.electrons is None:  # (1 - alpha0 [m]_x) v = rhs, v normal to m: closed form
            a = mag.alpha0
            return (rhs + a * cross(m, rhs)) / (1 + a * a)
        damping, w = self.electrons.coefficients(mag, m, drive)
        rhs = rhs + cross(m, w)
        coupling = damping + mag.alpha0 * np.eye(3)
        lhs = np.eye(3) - cross_matrix(m) @ coupling
        return solve3(lhs, rhs)

    def energy_density(self, m: np.ndarray, drive: Drive) -> np.ndarray:
        """Magnetic energy density e(m) in J/m^3 (without the electrons' equilibrium part)."""
        m = np.atleast_2d(m)
        return self.magnet.energy_density(
            m / np.linalg.norm(m, axis=-1, keepdims=True), drive.field
        )

    def precession_rate_bound(self, drive: Drive) -> float:
        """Upper bound of the precession angular frequency gamma |B_eff| over the sphere (rad/s)."""
        mag = self.magnet
        field = np.max(np.linalg.norm(np.atleast_2d(drive.field), axis=-1))
        bound = field + abs(mag.anisotropy_field) + MU0 * mag.ms * max(mag.demag_factors)
        return mag.gamma * max(bound, 1e-12)
