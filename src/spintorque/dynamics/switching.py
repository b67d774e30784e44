"""Current-induced switching of a perpendicular macrospin: phase diagram and analytic thresholds.

Analytic macrospin threshold for a damping-like torque B_DL m x p (p = y) with an in-plane field
B_x along the current and effective perpendicular anisotropy B_K (all mu0 H, T). Fixed points of
the LLG satisfy m || B_eff + B_DL m x p; with B_eff = B_x x + B_K m_z z this forces m_y = 0 and,
for m = (sin t, 0, cos t),

    B_DL = g(t) = B_x cos t - (B_K / 2) sin 2t            (independent of alpha).

The up state (sin t0 = B_x / B_K, B_x >= 0) survives while B_DL stays above the local minimum of g,
reached at sin t* = (B_x + sqrt(B_x^2 + 8 B_K^2)) / (4 B_K) (g'(t*) = 0): a saddle-node at

    |B_DL,c| = (B_K / 2) sin 2t* - B_x cos t*,    J_c = (2 e / hbar) Ms t_FM |B_DL,c| / |xi_DL|,

for the polarity with B_DL B_x < 0. Expanding about t* = pi/4 to first order in B_x / B_K gives
B_K/2 - B_x/sqrt(2): the formula of K.-S. Lee, S.-W. Lee, B.-C. Min, K.-J. Lee, Appl. Phys. Lett.
102, 112410 (2013), J_c = (2e/hbar)(Ms t_F / theta_SH)(H_K/2 - H_x/sqrt(2)).
This is a static threshold: pulses must be long compared with 1/(alpha gamma B_K).
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy.optimize import minimize

from ..errors import ParameterError
from ..units import E_CHARGE, HBAR, MU0, positive
from .integrate import Segment, integrate
from .llg import Drive, Macrospin, Magnet
from .sot import sot_at


def dl_threshold_field(b_k: float, b_x: float) -> float:
    """Exact macrospin |B_DL,c| in T for DL switching at in-plane field |b_x| < b_k (module doc)."""
    b_k = positive("b_k", b_k, "T", upper=100.0)
    b_x = abs(float(b_x))
    if b_x >= b_k:
        raise ParameterError(
            f"|b_x| = {b_x:g} T must be below b_k = {b_k:g} T (no up state otherwise)"
        )
    s = (b_x + math.sqrt(b_x**2 + 8 * b_k**2)) / (4 * b_k)
    t = math.asin(min(s, 1.0))
    return 0.5 * b_k * math.sin(2 * t) - b_x * math.cos(t)


def lee_threshold_field(b_k: float, b_x: float) -> float:
    """First-order estimate B_K/2 - |B_x|/sqrt(2) (Lee et al., APL 102, 112410 (2013)) in T."""
    return 0.5 * b_k - abs(b_x) / math.sqrt(2)


def current_for_field(b_dl: float, magnet: Magnet, xi_dl: float) -> float:
    """Current density (A/m^2) giving |B_DL| = b_dl (T): J = (2 e / hbar) Ms t_FM b_dl / |xi_DL|."""
    if xi_dl == 0 or not math.isfinite(xi_dl):
        raise ParameterError(f"xi_dl must be finite and nonzero, got {xi_dl!r}")
    return 2 * E_CHARGE * magnet.ms * magnet.thickness * b_dl / (HBAR * abs(xi_dl))


def effective_anisotropy(magnet: Magnet) -> float:
    """B_K,eff = B_K - mu0 Ms (N_z - N_x) in T for an easy axis along z."""
    if not np.allclose(
        np.asarray(magnet.anisotropy_axis) / np.linalg.norm(magnet.anisotropy_axis), (0, 0, 1)
    ):
        raise ParameterError("effective_anisotropy assumes the anisotropy axis along z")
    n = magnet.demag_factors
    return magnet.anisotropy_field - MU0 * magnet.ms * (n[2] - n[0])


def up_state(magnet: Magnet, field) -> np.ndarray:
    """Energy minimum of the magnet in the applied field (T) reached from m = +z."""
    field = np.asarray(field, dtype=float)

    def energy(angles: np.ndarray) -> float:
        t, p = angles
        m = np.array([[math.sin(t) * math.cos(p), math.sin(t) * math.sin(p), math.cos(t)]])
        return float(magnet.energy_density(m, field)[0]) / magnet.ms

    start = np.array([0.1, math.atan2(field[1], field[0]) if np.any(field[:2]) else 0.0])
    t, p = minimize(energy, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14}).x
    return np.array([math.sin(t) * math.cos(p), math.sin(t) * math.sin(p), math.cos(t)])


def switching_diagram(
    system: Macrospin,
    currents,
    fields,
    *,
    conductor_thickness: float,
    current_direction=(1.0, 0.0, 0.0),
    drive: str = "current",
    pulse: float = 5e-9,
    relax: float = 3e-9,
    ramp: float = 0.0,
    ramp_steps: int = 10,
    dt: float | None = None,
    rtol: float = 1e-6,
) -> xr.Dataset:
    """Final state after a current pulse versus current density J and in-plane field B_x.

    Parameters
    ----------
    system : perpendicular macrospin (easy axis z), with electrons and/or a ParametrisedSOT.
    currents : current densities J in A/m^2 along ``current_direction`` (signed).
    fields : applied in-plane fields B_x (mu0 H_x along the current) in T.
    conductor_thickness : t_c in m (J = K / t_c).
    drive : "current" (the LLG solves E from sigma(m) at every step) or "field" (a constant E
        = J t_c / sigma_EE(m=z) along the current, the electric-field drive of the paper).
    pulse : duration in s of the full current (plateau).
    relax : duration in s of the relaxation without current after the pulse.
    ramp, ramp_steps : rise and fall time in s of the pulse, as a staircase of ramp_steps
        equal steps each way (quasi-static for slow ramps, the setting of the static threshold);
        ramp = 0 is a sudden step, whose transient can switch below the static threshold.
    dt : output sampling in s (default 0.4 x the fastest precession period).  rtol : solve_ivp.

    Returns
    -------
    Dataset (dims current_density, field) with ``final_mz``, ``switched`` (final m_z < 0),
    ``switching_time`` (s, first m_z < 0 during the pulse; NaN if none), the analytic thresholds
    ``threshold_exact`` / ``threshold_lee`` (A/m^2, per field, from xi_DL at m = z) and
    ``xi_dampinglike`` / ``xi_fieldlike`` at m = z.
    """
    currents = np.atleast_1d(np.asarray(currents, dtype=float))
    fields = np.atleast_1d(np.asarray(fields, dtype=float))
    t_c = positive("conductor_thickness", conductor_thickness, "m", upper=1e-3)
    j_hat = np.asarray(current_direction, dtype=float) / np.linalg.norm(current_direction)
    jj, bb = (a.ravel() for a in np.meshgrid(currents, fields, indexing="ij"))
    b_vec = bb[:, None] * j_hat
    m0 = np.stack([up_state(system.magnet, b) for b in np.unique(b_vec, axis=0)])
    m0 = m0[np.unique(b_vec, axis=0, return_inverse=True)[1].ravel()]
    xi = _xi_at_z(system, t_c, j_hat, drive)
    if not (isinstance(ramp_steps, int) and 1 <= ramp_steps <= 100):
        raise ParameterError(f"ramp_steps must be an integer in [1, 100], got {ramp_steps!r}")
    if not (math.isfinite(ramp) and 0 <= ramp < 1.0):
        raise ParameterError(f"ramp must be a rise time in [0, 1) s, got {ramp!r}")
    on = _drive(system, jj[:, None] * j_hat, b_vec, t_c, drive)
    off = Drive(field=b_vec)
    segments = _pulse(system, jj[:, None] * j_hat, b_vec, t_c, drive, pulse, ramp, ramp_steps)
    segments.append(Segment(relax, off))
    dt = dt or 0.4 * 2 * math.pi / max(
        system.precession_rate_bound(on), system.precession_rate_bound(off)
    )
    traj = integrate(system, m0, segments, dt=dt, rtol=rtol, atol=rtol * 1e-2, method="RK45")
    pulse_end = sum(seg.duration for seg in segments[:-1])
    mz = traj.m.sel(component="z").values  # (run, time)
    t = traj.time.values
    first = np.where((mz < 0) & (t <= pulse_end)[None, :], t[None, :], np.inf).min(axis=1)
    shape = (len(currents), len(fields))
    out = xr.Dataset(
        {
            "final_mz": (("current_density", "field"), mz[:, -1].reshape(shape), {"units": "1"}),
            "switched": (
                ("current_density", "field"),
                (mz[:, -1] < 0).reshape(shape).astype(int),
                {"units": "1"},
            ),
            "switching_time": (
                ("current_density", "field"),
                np.where(np.isfinite(first), first, np.nan).reshape(shape),
                {"units": "s"},
            ),
        },
        coords={
            "current_density": ("current_density", currents, {"units": "A/m^2"}),
            "field": ("field", fields, {"units": "T", "long_name": "in-plane field mu0 H_x"}),
        },
    )
    _add_thresholds(out, system.magnet, fields, xi)
    out.attrs.update(
        pulse_s=pulse,
        relax_s=relax,
        ramp_s=ramp,
        ramp_steps=ramp_steps,
        drive=drive,
        conductor_thickness_m=t_c,
        current_direction=j_hat,
        **{k: v for k, v in traj.attrs.items() if not k.startswith("event")},
    )
    return out


def _pulse(system, j_vec, b_vec, t_c, drive, pulse, ramp, steps) -> list[Segment]:
    """Staircase rise, plateau, staircase fall (no ramp if ramp == 0)."""
    if ramp == 0:
        return [Segment(pulse, _drive(system, j_vec, b_vec, t_c, drive))]
    levels = [(k + 1) / steps for k in range(steps - 1)]
    rise = [Segment(ramp / steps, _drive(system, j_vec * lv, b_vec, t_c, drive)) for lv in levels]
    plateau = Segment(pulse + ramp / steps, _drive(system, j_vec, b_vec, t_c, drive))
    fall = [
        Segment(ramp / steps, _drive(system, j_vec * lv, b_vec, t_c, drive)) for lv in levels[::-1]
    ]
    return [*rise, plateau, *fall]


def _drive(
    system: Macrospin, j_vec: np.ndarray, b_vec: np.ndarray, t_c: float, drive: str
) -> Drive:
    if drive == "current" or system.electrons is None:
        return Drive(field=b_vec, current_density=j_vec, conductor_thickness=t_c)
    if drive != "field":
        raise ParameterError(f"drive must be 'current' or 'field', got {drive!r}")
    tensors = system.electrons.table(np.array([[0.0, 0.0, 1.0]]))[0]
    j_hat = j_vec[0] / max(np.linalg.norm(j_vec[0]), 1e-300)
    sigma_ee = float(j_hat[:2] @ tensors[2, :2, :2] @ j_hat[:2]) * E_CHARGE**2 / HBAR
    return Drive(field=b_vec, electric_field=j_vec * t_c / sigma_ee)


def _xi_at_z(system: Macrospin, t_c: float, j_hat: np.ndarray, drive: str) -> dict[str, float]:
    if system.electrons is not None:
        res = sot_at(
            system.electrons.table,
            (0.0, 0.0, 1.0),
            magnet=system.magnet,
            conductor_thickness=t_c,
            current_direction=j_hat,
            drive=drive,
            units=system.electrons.units,
        )
        xi = {"xi_dampinglike": res["xi_DL"], "xi_fieldlike": res["xi_FL"]}
    else:
        xi = {"xi_dampinglike": 0.0, "xi_fieldlike": 0.0}
    if system.sot is not None:
        xi["xi_dampinglike"] += system.sot.xi_dampinglike
        xi["xi_fieldlike"] += system.sot.xi_fieldlike
    return xi


def _add_thresholds(
    out: xr.Dataset, magnet: Magnet, fields: np.ndarray, xi: dict[str, float]
) -> None:
    b_k = effective_anisotropy(magnet)
    exact, lee = [], []
    for b_x in fields:
        ok = xi["xi_dampinglike"] != 0 and b_k > abs(b_x)
        exact.append(
            current_for_field(dl_threshold_field(b_k, b_x), magnet, xi["xi_dampinglike"])
            if ok
            else np.nan
        )
        lee.append(
            current_for_field(lee_threshold_field(b_k, b_x), magnet, xi["xi_dampinglike"])
            if ok
            else np.nan
        )
    note = "DL-only macrospin threshold |J_c| with xi_DL at m = z (switching.py docstring)"
    out["threshold_exact"] = ("field", np.asarray(exact), {"units": "A/m^2", "long_name": note})
    out["threshold_lee"] = (
        "field",
        np.asarray(lee),
        {"units": "A/m^2", "long_name": "Lee et al. APL 2013"},
    )
    for key, val in xi.items():
        out[key] = xr.DataArray(val, attrs={"units": "1", "long_name": f"{key} at m = z"})
    out["effective_anisotropy_field"] = xr.DataArray(b_k, attrs={"units": "T"})
