"""Spin-orbit torque from the tensors: efficiencies at one m, cone averages, code hand-off.

Conventions (spintorque.units): B_el = -<dH/dm>_neq / (Ms t_FM) = B_FL p + B_DL m x p (+ higher
angular harmonics), dm/dt|SOT = -gamma B_FL m x p - gamma B_DL m x (m x p), p = n x j_hat,
B = hbar xi J / (2 e Ms t_FM). The even / odd split depends on what is held fixed when m -> -m
(:func:`sot_at`): the current (a current-driven LLG) or the electric field (spin_orbit_torque).
For the pure Dirac surface v = vF z x sigma, so the spin density is (z x j)/vF exactly: at fixed
current the torque is purely field-like with xi_FL = Delta t_c / (hbar vF), and the
damping-like part at fixed E comes entirely from the anomalous Hall current.

Hand-off to micromagnetic codes (:func:`micromagnetic_parameters`), Gilbert form
dm/dt = -gamma m x B + alpha m x dm/dt + T, a_J = hbar J / (2 e Ms t_FM) in T:

- magnum.np ``SpinOrbitTorque`` (field term h = -(je hbar/(2 e Ms mu0 d)) (eta_damp m x p +
  eta_field p)): eta_damp = -xi_DL, eta_field = -xi_FL, p, d = t_FM, je = J.
- mumax3 Slonczewski torque (cuda/slonczewski2.cu: beta = hbar J/(e Ms t), eps = Pol Lambda^2 /
  ((Lambda^2 + 1) + (Lambda^2 - 1) m.p), T = gamma beta (eps m x (p x m) + eps' p x m)): Lambda = 1,
  Pol = xi_DL, EpsilonPrime = xi_FL / 2, FixedLayer = p, J = (0, 0, J), FreeLayerThickness =
  t_FM, with the default FixedLayerPosition = FIXEDLAYER_TOP (FIXEDLAYER_BOTTOM flips both signs).
- cmtj (core/junction.hpp, Gilbert form -gamma (Hfl m x p + Hdl m x (m x p)), gamma in m/(A s)):
  dampingLikeTorque H_DL = B_DL / mu0 and fieldLikeTorque H_FL = B_FL / mu0 in A/m at the given J,
  reference layer p.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..units import (
    E_CHARGE,
    EV_NM,
    HBAR,
    MU0,
    REFERENCE_CURRENT_DENSITY,
    RawUnits,
    positive,
    unit_vector,
)
from .fmr import normal_frame
from .llg import Magnet


def _drive_fields(sigmas: np.ndarray, j_vec: np.ndarray, drive: str) -> np.ndarray:
    """In-plane E (V/m) at m and -m, shape (2, 3), for the sheet current K = J t_c (A/m)."""
    fields = np.zeros((2, 3))
    if drive == "current":  # the same current at m and -m: E = sigma(+-m)^-1 K
        fields[:, :2] = np.linalg.solve(sigmas, np.broadcast_to(j_vec[:2], (2, 2))[..., None])[
            ..., 0
        ]
    elif drive == "field":  # the same E at m and -m, along K, sized by sigma_EE(m)
        e_hat = j_vec / np.linalg.norm(j_vec)
        fields[:] = e_hat * np.linalg.norm(j_vec) / float(e_hat[:2] @ sigmas[0] @ e_hat[:2])
    else:
        raise ParameterError(f"drive must be 'current' or 'field', got {drive!r}")
    return fields


def sot_at(
    table,
    m,
    *,
    magnet: Magnet,
    conductor_thickness: float,
    current_direction=(1.0, 0.0, 0.0),
    current_density: float = REFERENCE_CURRENT_DENSITY,
    normal=(0.0, 0.0, 1.0),
    drive: str = "current",
    units: RawUnits = EV_NM,
) -> dict[str, float | np.ndarray]:
    """B_FL, B_DL (T), xi_FL, xi_DL and p at direction m for current density J along j_hat.

    Parameters
    ----------
    table : tensor table covering m and -m.  m : magnetization direction.
    magnet : gives Ms, t_FM.  conductor_thickness : t_c in m.  current_direction : in-plane j_hat.
    current_density : J in A/m^2.  normal : interface normal n (p = n x j_hat).
    drive : "current": the even/odd parts are taken at equal current density at m and -m
        (E = sigma(+-m)^-1 J t_c, the Hall part included): what a current-driven LLG sees.
        "field": at equal E along j_hat with |E| = J t_c / sigma_EE(m), the convention of
        :func:`spintorque.spin_orbit_torque` and :func:`spintorque.units.sot_fields`.
    """
    m = unit_vector("m", m)
    j_hat = unit_vector("current_direction", current_direction)
    if abs(j_hat[2]) > 1e-12:
        raise ParameterError(f"current_direction must be in plane, got {current_direction!r}")
    t_c = positive("conductor_thickness", conductor_thickness, "m", upper=1e-3)
    j = positive("current_density", current_density, "A/m^2", upper=1e16)
    tensors = table(np.stack([m, -m]))
    fields = _drive_fields(tensors[:, 2, :2, :2] * E_CHARGE**2 / HBAR, j * t_c * j_hat, drive)
    force = units.force_from_field(fields)
    dhdm = np.einsum("naj,nj->na", tensors[:, 1], force) * units.energy / units.length**2  # J/m^2
    b_even = -0.5 * (dhdm[0] + dhdm[1]) / (magnet.ms * magnet.thickness)
    b_odd = -0.5 * (dhdm[0] - dhdm[1]) / (magnet.ms * magnet.thickness)
    p = np.cross(unit_vector("normal", normal), j_hat)
    m_x_p = np.cross(m, p)
    if np.linalg.norm(m_x_p) < 1e-6:
        raise ParameterError(f"m = {tuple(m)} is parallel to p = {tuple(p)}: B_FL, B_DL undefined")
    p_perp = p - (p @ m) * m
    b_fl = float(b_even @ p_perp / (p_perp @ p_perp))
    b_dl = float(b_odd @ m_x_p / (m_x_p @ m_x_p))
    a_j = HBAR * j / (2 * E_CHARGE * magnet.ms * magnet.thickness)
    return {
        "B_FL": b_fl,
        "B_DL": b_dl,
        "xi_FL": b_fl / a_j,
        "xi_DL": b_dl / a_j,
        "p": p,
        "electric_field": fields[0],
        "current_density": j,
        "drive": drive,
    }


def micromagnetic_parameters(
    xi_dl: float,
    xi_fl: float,
    p,
    *,
    magnet: Magnet,
    current_density: float = REFERENCE_CURRENT_DENSITY,
) -> dict[str, dict]:
    """Parameters reproducing dm/dt|SOT = -gamma B_FL m x p - gamma B_DL m x (m x p) in three codes.

    See the module docstring for each code's torque formula and the mapping; all SI.
    """
    p = unit_vector("p", p)
    j = positive("current_density", current_density, "A/m^2", upper=1e16)
    a_j = HBAR * j / (2 * E_CHARGE * magnet.ms * magnet.thickness)
    return {
        "convention": {
            "formula": "dm/dt|SOT = -gamma B_FL m x p - gamma B_DL m x (m x p)",
            "B_DL_T": xi_dl * a_j,
            "B_FL_T": xi_fl * a_j,
            "xi_DL": xi_dl,
            "xi_FL": xi_fl,
        },
        "magnum.np": {
            "eta_damp": -xi_dl,
            "eta_field": -xi_fl,
            "p": p.tolist(),
            "d": magnet.thickness,
            "je": j,
            "Ms": magnet.ms,
        },
        "mumax3": {
            "Lambda": 1.0,
            "Pol": xi_dl,
            "EpsilonPrime": xi_fl / 2,
            "FixedLayer": p.tolist(),
            "J": [0.0, 0.0, j],
            "FreeLayerThickness": magnet.thickness,
            "Msat": magnet.ms,
            "FixedLayerPosition": "FIXEDLAYER_TOP",
        },
        "cmtj": {
            "dampingLikeTorque_A_per_m": xi_dl * a_j / MU0,
            "fieldLikeTorque_A_per_m": xi_fl * a_j / MU0,
            "reference_layer": p.tolist(),
        },
    }


def cone_torque(
    table,
    *,
    axis=(0.0, 1.0, 0.0),
    field_direction=(1.0, 0.0, 0.0),
    thetas=None,
    n_phi: int = 64,
    units: RawUnits = EV_NM,
) -> xr.Dataset:
    """Period-averaged torque along the precession axis over a circular cone (paper claim (i)).

    For m = cos(theta) n + sin(theta) (cos(phi) e1 + sin(phi) e2) with uniform phi, averages
    n . (m x <dH/dm>) with <dH/dm> = Y(m) . F, F = -e E for a unit field E along
    ``field_direction``; ``dampinglike`` uses the part of <dH/dm> odd under m -> -m. Positive
    values push m towards +n. Raw values are in (energy/area) per (energy/(e length)) = e/l;
    the ``*_si`` ones in C/m (J m^-2 per V m^-1).
    """
    e1, e2, n = normal_frame(axis)
    e_hat = unit_vector("field_direction", field_direction)
    thetas = (
        np.linspace(0.1, 1.4, 14) if thetas is None else np.atleast_1d(np.asarray(thetas, float))
    )
    if np.any(thetas <= 0) or np.any(thetas >= math.pi):
        raise ParameterError("cone angles must lie in (0, pi) rad")
    phi = 2 * math.pi * np.arange(n_phi) / n_phi
    force = -e_hat
    rows = {"total": [], "dampinglike": [], "fieldlike": []}
    for theta in thetas:
        m = math.cos(theta) * n[None, :] + math.sin(theta) * (
            np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2
        )
        plus = table(m)[:, 1] @ force
        minus = table(-m)[:, 1] @ force
        for key, dh in (
            ("total", plus),
            ("dampinglike", 0.5 * (plus - minus)),
            ("fieldlike", 0.5 * (plus + minus)),
        ):
            rows[key].append(float(np.mean(np.cross(m, dh) @ n)))
    sin2 = np.sin(thetas) ** 2
    out = xr.Dataset(coords={"theta": ("theta", thetas, {"units": "rad"})})
    for key, vals in rows.items():
        vals = np.asarray(vals)
        out[f"torque_{key}"] = (
            "theta",
            vals,
            {
                "units": "raw e/l (per unit E)",
                "long_name": f"<n . m x <dH/dm>_{key}> over the cone",
            },
        )
        out[f"torque_{key}_si"] = ("theta", vals * E_CHARGE / units.length, {"units": "C/m"})
        out[f"ratio_{key}_sin2"] = (
            "theta",
            vals / sin2,
            {"units": "raw e/l", "long_name": "torque / sin^2(theta)"},
        )
    out.attrs.update(axis=n, field_direction=e_hat, n_phi=n_phi)
    return out
