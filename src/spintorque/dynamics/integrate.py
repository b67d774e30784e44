"""Time integration of the macrospin LLG with scipy's solve_ivp, with events and labelled output.

A run is a list of :class:`Segment` (duration, drive): the drive is piecewise constant and each
segment is integrated separately, so current pulses introduce no discontinuity inside a step.
The state is a batch of N unit vectors (N independent macrospins sharing one system; drives may
differ per macrospin), flattened to 3N numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.integrate import solve_ivp

from ..errors import ConvergenceError, ParameterError
from ..units import positive
from .llg import Drive, Macrospin

METHODS = ("DOP853", "RK45", "Radau", "BDF", "LSODA")


@dataclass(frozen=True)
class Segment:
    """A time interval of ``duration`` s with a constant :class:`Drive`."""

    duration: float
    drive: Drive

    def __post_init__(self) -> None:
        positive("duration", self.duration, "s", upper=1.0)


def crossing_event(axis, *, terminal: bool = False, direction: float = -1.0) -> Callable:
    """Event m . axis = 0 (single macrospin); direction -1 catches + -> - (switching)."""
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)

    def event(t: float, y: np.ndarray) -> float:
        return float(y[:3] @ axis)

    event.terminal = terminal
    event.direction = direction
    return event


def _check_tolerances(rtol: float, atol: float, method: str) -> None:
    if not (isinstance(rtol, (int, float)) and 1e-13 <= rtol <= 1e-2):
        raise ParameterError(f"rtol must be in [1e-13, 1e-2], got {rtol!r}")
    if not (isinstance(atol, (int, float)) and 0 < atol <= 1e-2):
        raise ParameterError(f"atol must be in (0, 1e-2], got {atol!r}")
    if method not in METHODS:
        raise ParameterError(f"method must be one of {METHODS}, got {method!r}")


def _check_sampling(system: Macrospin, segments: Sequence[Segment], dt: float) -> None:
    """dt must resolve the fastest precession (Nyquist) and fit in the run."""
    total = sum(s.duration for s in segments)
    positive("dt", dt, "s", upper=total * (1 + 1e-12))
    omega = max(system.precession_rate_bound(s.drive) for s in segments)
    period = 2 * math.pi / omega
    if dt > 0.5 * period:
        raise ParameterError(
            f"dt = {dt:.3g} s cannot resolve the precession (fastest period {period:.3g} s at "
            f"|B_eff| <= {omega / system.magnet.gamma:.3g} T); use dt < {0.5 * period:.3g} s"
        )


def integrate(
    system: Macrospin,
    m0,
    segments: Segment | Sequence[Segment],
    *,
    dt: float,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    method: str = "DOP853",
    max_step: float | None = None,
    events: Sequence[Callable] = (),
) -> xr.Dataset:
    """Integrate the LLG from m0 through the segments, sampling every dt seconds.

    Parameters
    ----------
    system : the :class:`Macrospin`.
    m0 : initial direction(s), (3,) or (N, 3); normalised.
    segments : a :class:`Segment` or a sequence of them.
    dt : sampling interval in s; must be < half the fastest precession period.
    rtol, atol : solve_ivp tolerances on the components of m.
    method : solve_ivp method.  max_step : optional step bound in s (> 0).
    events : solve_ivp event functions f(t, y) (single macrospin; see :func:`crossing_event`).

    Returns
    -------
    Dataset with ``m`` (dims [run,] time, component; unit 1), ``energy_density`` (J/m^3),
    ``norm_error`` (|m| - 1), coordinate ``time`` in s; attrs: tolerances, event times
    (``event_<k>_times`` in s), solver statistics and the system's parameters.
    """
    segments = [segments] if isinstance(segments, Segment) else list(segments)
    if not segments:
        raise ParameterError("segments is empty; give at least one Segment")
    _check_tolerances(rtol, atol, method)
    _check_sampling(system, segments, dt)
    if max_step is not None:
        positive("max_step", max_step, "s", upper=math.inf)
    m0 = np.asarray(m0, dtype=float)
    single = m0.ndim == 1
    m = np.atleast_2d(m0)
    if m.shape[1:] != (3,) or not np.all(np.isfinite(m)) or np.any(np.linalg.norm(m, axis=1) == 0):
        raise ParameterError(f"m0 must be finite nonzero 3-vector(s), got shape {m0.shape}")
    if events and not single:
        raise ParameterError("events are supported for a single macrospin only")
    m = m / np.linalg.norm(m, axis=1, keepdims=True)

    times, states, energies = [], [], []
    event_times: list[list[float]] = [[] for _ in events]
    t0, n_rhs = 0.0, 0
    for seg in segments:
        sol = _run_segment(system, m, seg, t0, dt, rtol, atol, method, max_step, events)
        n_rhs += sol.nfev
        for k, te in enumerate(sol.t_events or []):
            event_times[k].extend(float(t) for t in te)
        ys = sol.y.T.reshape(len(sol.t), -1, 3)
        keep = slice(1, None) if times else slice(None)
        times.append(sol.t[keep])
        states.append(ys[keep])
        energies.append(np.stack([system.energy_density(y, seg.drive) for y in ys[keep]]))
        m = sol.y[:, -1].reshape(-1, 3)
        t0 = float(sol.t[-1])
        if sol.status == 1:  # a terminal event fired
            break
    return _dataset(
        system,
        np.concatenate(times),
        np.concatenate(states),
        np.concatenate(energies),
        single,
        event_times,
        dict(rtol=rtol, atol=atol, method=method, n_rhs=n_rhs),
    )


def _run_segment(system, m, seg, t0, dt, rtol, atol, method, max_step, events):
    t1 = t0 + seg.duration
    n = max(1, math.floor(seg.duration / dt + 1e-9))
    t_eval = np.append(t0 + dt * np.arange(n + 1), t1)
    t_eval = np.unique(np.clip(t_eval, t0, t1))

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        return system.rate(y.reshape(-1, 3), seg.drive).ravel()

    kwargs = {"max_step": max_step} if max_step is not None else {}
    kwargs["first_step"] = min(dt, seg.duration) / 8  # no wild first trial steps
    sol = solve_ivp(
        rhs,
        (t0, t1),
        m.ravel(),
        method=method,
        t_eval=t_eval,
        rtol=rtol,
        atol=atol,
        events=list(events) or None,
        **kwargs,
    )
    if sol.status < 0:
        raise ConvergenceError(
            f"LLG integration failed at t = {sol.t[-1]:.4g} s: {sol.message} "
            f"(rtol={rtol:g}, atol={atol:g}, method={method}); loosen rtol/atol "
            "or choose an implicit method for stiff systems"
        )
    return sol


def _dataset(system: Macrospin, t, states, energies, single, event_times, info) -> xr.Dataset:
    norm_error = np.linalg.norm(states, axis=-1) - 1.0
    dims = ("time", "run", "component")
    ds = xr.Dataset(
        {
            "m": (dims, states, {"units": "1", "long_name": "magnetization direction m"}),
            "energy_density": (
                dims[:2],
                energies,
                {"units": "J/m^3", "long_name": "magnetic energy density"},
            ),
            "norm_error": (dims[:2], norm_error, {"units": "1", "long_name": "|m| - 1"}),
        },
        coords={"time": ("time", t, {"units": "s"}), "component": ["x", "y", "z"]},
    )
    ds = ds.transpose("run", "time", "component", missing_dims="ignore")
    if single:
        ds = ds.isel(run=0)
    ds.attrs.update({f"solver_{k}": v for k, v in info.items()})
    for k, times in enumerate(event_times):
        ds.attrs[f"event_{k}_times"] = np.asarray(times, dtype=float)
    ds.attrs.update(system_attrs(system))
    return ds


def system_attrs(system: Macrospin) -> dict:
    """Flat, NetCDF-safe attributes describing a macrospin system (SI units in the names)."""
    mag = system.magnet
    attrs = {
        "ms_A_per_m": mag.ms,
        "thickness_m": mag.thickness,
        "g": mag.g,
        "alpha0": mag.alpha0,
        "anisotropy_field_T": mag.anisotropy_field,
        "anisotropy_axis": np.asarray(mag.anisotropy_axis),
        "demag_factors": np.asarray(mag.demag_factors),
        "gamma_rad_per_s_T": mag.gamma,
        "electrons": int(system.electrons is not None),
        "conventions": "dm/dt = -gamma m x B_eff + alpha0 m x dm/dt + (1/s_FM) m x <dH/dm>_neq",
    }
    if system.electrons is not None:
        meta = getattr(system.electrons.table, "meta", {})
        for key, val in meta.items():
            if isinstance(val, dict):
                for sub, v in val.items():
                    attrs[f"table_{key}_{sub}"] = v
            elif isinstance(val, (int, float, str)):
                attrs[f"table_{key}"] = val
    if system.sot is not None:
        attrs.update(
            sot_xi_dampinglike=system.sot.xi_dampinglike, sot_xi_fieldlike=system.sot.xi_fieldlike
        )
    return attrs
