"""Physical constants and the conversion of raw results to SI and to quoted quantities.

This module is the only place in spintorque that holds physical constants (all from
:mod:`scipy.constants`). Raw results (SPEC.md sec. 2, 4) carry hbar = e = 1 with one energy unit
``eps`` and one length unit ``l`` (eV and nm in the examples, :data:`EV_NM`). Every factor below
is derived from that statement alone:

- time unit  tau0 = hbar / eps                          (6.582e-16 s for eV)
- force F = dk/dt (hbar = 1): eps / l;  an electric field E exerts F = -e E, so a field of
  E [V/m] is F_raw = -E e l / eps  (-1e-9 E for eV, nm)
- Lambda[dH/dm_a, dH/dm_b]  (exchange_exchange): <dH/dm> [eps/l^2] per dm/dt [1/tau0]
  -> hbar / l^2, i.e. a number of hbar per l^2, the same unit as s_FM in l^-2
- Lambda[dH/dm_a, v_j]      (exchange_force): [eps/l^2] per [eps/l] -> 1/l
- Lambda[v_i, v_j]          (current_force): particle sheet current [1/(l tau0)] per [eps/l]
  -> 1/hbar, so sigma = e^2 Lambda[v, v] is current_force x e^2/hbar in S, independent of eps, l
  (in units of e^2/h it is 2 pi current_force, SPEC.md sec. 3)

Spin-orbit-torque conventions (used by :func:`sot_fields`, :mod:`spintorque.dynamics`)
--------------------------------------------------------------------------------------
LLG (SPEC.md sec. 5), m the magnetization direction, gamma = g mu_B / hbar > 0, B = mu0 H:

    dm/dt = -gamma m x B_eff + alpha0 m x dm/dt + (1 / (hbar s_FM)) m x <dH/dm>_neq,

s_FM = Ms t_FM / (g mu_B) the ferromagnet's spin per area. The electron term is the torque of
the field B_el = -<dH/dm>_neq / (Ms t_FM) [T]. The torque density (SPEC.md, derived.py) is
T = m x <dH/dm> [J/m^2], so B_el = (m x T) / (Ms t_FM) for the part normal to m.
With the spin direction p = n x j_hat (n = (0, 0, 1) the interface normal pointing from the
conductor into the magnet, j_hat the current / field direction) the standard decomposition is

    B_el = B_FL p + B_DL (m x p)            (parts even / odd under m -> -m),
    dm/dt|SOT = -gamma B_FL m x p - gamma B_DL m x (m x p),

so B_DL > 0 drives m towards +p. The SOT efficiencies are xi = (2 e / hbar) Ms t_FM B / J, i.e.
B_DL = (hbar xi_DL J) / (2 e Ms t_FM): the spin current (in hbar/2 per e) absorbed per charge
current. J is the charge current density in the conductor of thickness t_c: J = sigma_s E / t_c
with sigma_s the sheet conductance along E. Only B_FL, B_DL at the given m are returned; the full
angular dependence lives in the tensors (see :mod:`spintorque.dynamics`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import constants as _c

from .errors import ParameterError

HBAR = _c.hbar  # J s
E_CHARGE = _c.e  # C
H_PLANCK = _c.h  # J s
MU0 = _c.mu_0  # T m / A
MU_B = _c.physical_constants["Bohr magneton"][0]  # J / T
ELECTRON_VOLT = _c.electron_volt  # J
NANOMETRE = _c.nano  # m
CONDUCTANCE_QUANTUM = E_CHARGE**2 / H_PLANCK  # e^2/h in S
OERSTED_PER_A_PER_M = 4 * math.pi * 1e-3  # 1 A/m = 4 pi 1e-3 Oe (CGS-Gaussian)
REFERENCE_CURRENT_DENSITY = 1e11  # A/m^2, the density effective fields are quoted for

__all__ = [
    "CONDUCTANCE_QUANTUM",
    "ELECTRON_VOLT",
    "EV_NM",
    "E_CHARGE",
    "HBAR",
    "MU0",
    "MU_B",
    "NANOMETRE",
    "REFERENCE_CURRENT_DENSITY",
    "RawUnits",
    "field_to_oersted",
    "gilbert_damping_si",
    "gyromagnetic_ratio",
    "positive",
    "sheet_conductance",
    "sot_fields",
    "spin_per_area",
    "torkance",
]


def positive(name: str, value: object, unit: str, *, upper: float = math.inf) -> float:
    """Return ``value`` as a float if 0 < value < upper, else raise :class:`ParameterError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{name} must be a real number in {unit}, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and 0 < value < upper):
        raise ParameterError(f"{name} must be in (0, {upper:g}) {unit}, got {value!r}")
    return value


@dataclass(frozen=True)
class RawUnits:
    """The energy and length units of a raw result (hbar = e = 1).

    Parameters
    ----------
    energy : energy unit in J (default 1 eV).
    length : length unit in m (default 1 nm).
    """

    energy: float = ELECTRON_VOLT
    length: float = NANOMETRE

    def __post_init__(self) -> None:
        positive("energy", self.energy, "J")
        positive("length", self.length, "m")

    @property
    def time(self) -> float:
        """Time unit hbar / energy in s."""
        return HBAR / self.energy

    def force_from_field(self, electric_field: np.ndarray) -> np.ndarray:
        """Raw force F = -e E (energy/length) for an electric field in V/m."""
        return -np.asarray(electric_field, dtype=float) * E_CHARGE * self.length / self.energy

    def spin_per_area(self, s_fm_si: float) -> float:
        """Spin per area from m^-2 (SI) to the raw l^-2."""
        return s_fm_si * self.length**2


EV_NM = RawUnits()


def gyromagnetic_ratio(g: float) -> float:
    """gamma = g mu_B / hbar in rad s^-1 T^-1 (1.7609e11 for g = 2.0023)."""
    return positive("g", g, "(g-factor)", upper=10.0) * MU_B / HBAR


def spin_per_area(ms: float, thickness: float, g: float) -> float:
    """s_FM = Ms t_FM / (g mu_B): spin angular momentum per area in units of hbar, in m^-2.

    Parameters
    ----------
    ms : saturation magnetization Ms in A/m, > 0.
    thickness : ferromagnet thickness t_FM in m, > 0.
    g : Lande g-factor, in (0, 10).
    """
    ms = positive("ms", ms, "A/m", upper=1e8)
    thickness = positive("thickness", thickness, "m", upper=1e-3)
    g = positive("g", g, "(g-factor)", upper=10.0)
    return ms * thickness / (g * MU_B)


def field_to_oersted(b_tesla):
    """Convert mu0 H in T to H in Oe: H [A/m] = B / mu0, 1 A/m = 4 pi 1e-3 Oe (1 mT -> 10 Oe)."""
    return b_tesla / MU0 * OERSTED_PER_A_PER_M


def sheet_conductance(res: xr.Dataset) -> xr.Dataset:
    """Sheet conductance tensor of a 2-D result, in S and in e^2/h.

    sigma = e^2 Lambda[v_i, v_j]; raw current_force is in 1/hbar, so sigma [S] =
    current_force e^2 / hbar and sigma [e^2/h] = 2 pi current_force.
    """
    cf = res["current_force"]
    out = xr.Dataset(
        {
            "sheet_conductance": (cf * E_CHARGE**2 / HBAR).assign_attrs(
                units="S", long_name="sheet conductance sigma_ij (per square)"
            ),
            "sheet_conductance_e2h": (2 * np.pi * cf).assign_attrs(
                units="e^2/h", long_name="sheet conductance sigma_ij"
            ),
        }
    )
    out.attrs = dict(res.attrs)
    return out


def gilbert_damping_si(
    res: xr.Dataset, *, ms: float, thickness: float, g: float, units: RawUnits = EV_NM
) -> xr.DataArray:
    """Electron-induced Gilbert damping alpha_el (dimensionless, all parts) from Ms, t_FM, g.

    alpha_el = P sym(exchange_exchange) P / s_FM (SPEC.md sec. 5) with s_FM = Ms t_FM/(g mu_B)
    converted to the raw l^-2 of ``res``; ms in A/m, thickness in m.
    """
    from .derived import gilbert_damping

    s_raw = units.spin_per_area(spin_per_area(ms, thickness, g))
    alpha = gilbert_damping(res, s_raw)
    alpha.attrs.update(units="1", ms_A_per_m=float(ms), thickness_m=float(thickness), g=float(g))
    return alpha


def torkance(
    sot: xr.Dataset, *, conductor_thickness: float | None = None, units: RawUnits = EV_NM
) -> xr.Dataset:
    """Torkances in SI from :func:`spintorque.spin_orbit_torque` (raw, per unit E).

    Raw torque density per unit raw E is in (eps/l^2)/(eps/(e l)) = e/l, so per unit E in V/m it
    is raw x e / l in C/m (J m^-2 per V m^-1). Per unit sheet current density (A/m) the raw
    ``torque_*_per_current`` is in (eps/l^2)/(e/(l tau0)) = hbar/(e l): raw x hbar/(e l) in
    J/A. Given the conductor thickness t_c (m) the torque per unit volume current density
    J = K / t_c is that times t_c, in J m^-2 per A m^-2.
    """
    out = {}
    for kind in ("fieldlike", "dampinglike"):
        per_e = sot[f"torque_{kind}"] * E_CHARGE / units.length
        out[f"torkance_{kind}_per_field"] = per_e.assign_attrs(
            units="C/m", long_name=f"{kind} torque density per unit electric field"
        )
        per_k = sot[f"torque_{kind}_per_current"] * HBAR / (E_CHARGE * units.length)
        out[f"torkance_{kind}_per_sheet_current"] = per_k.assign_attrs(
            units="J/A", long_name=f"{kind} torque density per unit sheet current density (A/m)"
        )
        if conductor_thickness is not None:
            t_c = positive("conductor_thickness", conductor_thickness, "m", upper=1e-3)
            out[f"torkance_{kind}_per_current_density"] = (per_k * t_c).assign_attrs(
                units="J m^-2 / (A m^-2)",
                long_name=f"{kind} torque density per unit current density in the conductor",
            )
    ds = xr.Dataset(out)
    ds["sheet_conductance_EE"] = (sot["sigma_EE"] * E_CHARGE**2 / HBAR).assign_attrs(
        units="S", long_name="sheet conductance along the field"
    )
    ds.attrs = dict(sot.attrs)
    return ds


def unit_vector(name: str, vec) -> np.ndarray:
    """``vec`` normalised; ParameterError naming ``name`` unless a finite nonzero 3-vector."""
    arr = np.asarray(vec, dtype=float)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)) or np.linalg.norm(arr) == 0:
        raise ParameterError(f"{name} must be a finite nonzero 3-vector, got {vec!r}")
    return arr / np.linalg.norm(arr)


def _vec(arr: np.ndarray) -> xr.DataArray:
    return xr.DataArray(arr, dims=("a",), coords={"a": ["x", "y", "z"]})


def cross_along(m: np.ndarray, vec: xr.DataArray) -> xr.DataArray:
    """m x vec over the vector dimension ``a`` of a labelled array."""
    data = np.cross(m, np.moveaxis(vec.values, vec.get_axis_num("a"), -1))
    return vec.copy(data=np.moveaxis(data, -1, vec.get_axis_num("a")))


def sot_fields(
    sot: xr.Dataset,
    *,
    ms: float,
    thickness: float,
    conductor_thickness: float,
    current_density: float = REFERENCE_CURRENT_DENSITY,
    normal=(0.0, 0.0, 1.0),
    units: RawUnits = EV_NM,
) -> xr.Dataset:
    """Damping-like / field-like effective fields and SOT efficiencies at the result's m.

    Parameters
    ----------
    sot : output of :func:`spintorque.spin_orbit_torque` (raw, per unit E along ``field``).
    ms : Ms in A/m. thickness : t_FM in m. conductor_thickness : t_c in m (J = K / t_c).
    current_density : J in A/m^2 the fields are quoted for (default 1e11).
    normal : interface normal n (conductor -> magnet); p = n x E_hat.

    Returns
    -------
    Dataset with B_SOT vectors ``field_fieldlike_vector`` / ``field_dampinglike_vector`` (mT),
    the projections ``B_FL = B_even . p_perp / |p_perp|^2`` and ``B_DL = B_odd . (m x p) /
    |m x p|^2`` in mT (``field_*_mT``) and Oe (``field_*_Oe``, H = B / mu0), the efficiencies
    ``xi_fieldlike``, ``xi_dampinglike`` (1) and ``p``. Conventions: module docstring.
    """
    ms = positive("ms", ms, "A/m", upper=1e8)
    thickness = positive("thickness", thickness, "m", upper=1e-3)
    t_c = positive("conductor_thickness", conductor_thickness, "m", upper=1e-3)
    j = positive("current_density", current_density, "A/m^2", upper=1e16)
    m = unit_vector("m", sot.attrs["m"])
    p = np.cross(unit_vector("normal", normal), unit_vector("field", sot.attrs["field"]))
    if np.linalg.norm(np.cross(m, p)) < 1e-6:
        raise ParameterError(f"m = {tuple(m)} is parallel to p = {tuple(p)}: B_FL, B_DL undefined")
    m_x_p = np.cross(m, p)
    p_perp = p - np.dot(p, m) * m
    out = {}
    for kind, direction in (("fieldlike", p_perp), ("dampinglike", m_x_p)):
        # torque density per unit volume current density (J m^-2 per A m^-2)
        per_j = sot[f"torque_{kind}_per_current"] * HBAR / (E_CHARGE * units.length) * t_c
        b_vec = cross_along(m, per_j) * j / (ms * thickness)  # T
        out[f"field_{kind}_vector"] = (b_vec * 1e3).assign_attrs(
            units="mT", long_name=f"{kind} effective field mu0 H at J = {j:g} A/m^2"
        )
        b = xr.dot(b_vec, _vec(direction), dim="a") / float(direction @ direction)
        out[f"field_{kind}_mT"] = (b * 1e3).assign_attrs(
            units="mT", long_name=f"B_{kind} at J = {j:g} A/m^2"
        )
        out[f"field_{kind}_Oe"] = field_to_oersted(b).assign_attrs(
            units="Oe", long_name=f"H_{kind} at J = {j:g} A/m^2"
        )
        out[f"xi_{kind}"] = (b * 2 * E_CHARGE * ms * thickness / (HBAR * j)).assign_attrs(
            units="1", long_name=f"SOT efficiency xi_{kind} = (2e/hbar) Ms t_FM B / J"
        )
    ds = xr.Dataset(out)
    ds["p"] = _vec(p).assign_attrs(units="1", long_name="spin direction p = n x E_hat")
    ds.attrs = {
        **sot.attrs,
        "ms_A_per_m": ms,
        "thickness_m": thickness,
        "conductor_thickness_m": t_c,
        "current_density_A_per_m2": j,
        "convention": "B_SOT = B_FL p + B_DL m x p; dm/dt = -gamma m x B_SOT; B = mu0 H",
    }
    return ds
