"""FMR ring-down: small-angle precession about an axis, fitted decay rate, linewidth, damping.

For a circular precession about n at angular frequency omega0 = gamma |B_eff . n| the linearised
LLG (llg.py) with coupling M = alpha0 1 + X/s_FM restricted to the plane normal to n,
M = a 1 + b J + (traceless symmetric part), J the 90-degree rotation about n, has the eigenvalues
omega0 (-a +/- i (1 + b)) / ((1 + b)^2 + a^2) to first order in the traceless part. Hence

    decay rate / angular frequency = a / (1 + b),

with a = alpha0 + mean of sym(X)/s_FM over the two directions normal to n (SPEC.md sec. 5,
derived.damping_for_axis) and b = the antisymmetric (gyromagnetic) part. The ring-down fit
measures the left side: ln tan(theta/2) and the unwrapped azimuth are fitted linearly in t.
Linewidths: FWHM in frequency Delta f = Gamma / pi; in field (at fixed frequency, circular
precession) mu0 Delta H = 2 Gamma / gamma.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import xarray as xr

from ..derived import damping_for_axis
from ..errors import ParameterError
from ..models.continuum import DiracSurface
from ..responses import response
from ..units import EV_NM, RawUnits, gilbert_damping_si, positive
from .integrate import Segment, integrate
from .llg import Drive, Electrons, Macrospin, Magnet
from .tensors import ElectronSettings, build_table


def normal_frame(axis) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormal (e1, e2, n) with e1 x e2 = n."""
    n = np.asarray(axis, dtype=float)
    if n.shape != (3,) or not np.all(np.isfinite(n)) or np.linalg.norm(n) == 0:
        raise ParameterError(f"axis must be a finite nonzero 3-vector, got {axis!r}")
    n = n / np.linalg.norm(n)
    helper = np.array([0.0, 0.0, 1.0]) if abs(n[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(helper, n)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(n, e1), n


def tensor_damping(system: Macrospin, axis) -> dict[str, float]:
    """alpha (a), gyromagnetic b and the ring-down prediction a/(1+b) at m = axis (table)."""
    e1, e2, n = normal_frame(axis)
    mag = system.magnet
    a, b = mag.alpha0, 0.0
    if system.electrons is not None:
        coupling, _ = system.electrons.coefficients(mag, n[None, :], Drive())
        c = coupling[0]
        a += 0.5 * (e1 @ c @ e1 + e2 @ c @ e2)
        b = 0.5 * (e2 @ c @ e1 - e1 @ c @ e2)
    return {
        "alpha_tensor": float(a),
        "gyromagnetic_b": float(b),
        "alpha_ringdown_predicted": float(a / (1 + b)),
    }


def fit_ringdown(m: np.ndarray, t: np.ndarray, axis, *, floor: float = 1e-6) -> dict[str, float]:
    """Decay rate (1/s) and angular frequency (rad/s) from m(t) (T, 3) precessing about axis.

    Fits ln tan(theta/2) and the unwrapped azimuth linearly over the samples with
    theta > floor (below it the integration error dominates).
    """
    e1, e2, n = normal_frame(axis)
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    theta = np.arccos(np.clip(m @ n, -1.0, 1.0))
    phi = np.unwrap(np.arctan2(m @ e2, m @ e1))
    keep = theta > floor
    if keep.sum() < 10:
        raise ParameterError("too few samples above the angle floor to fit the ring-down")
    decay = -np.polyfit(t[keep], np.log(np.tan(0.5 * theta[keep])), 1)[0]
    omega = np.polyfit(t[keep], phi[keep], 1)[0]
    return {
        "decay_rate": float(decay),
        "angular_frequency": float(omega),
        "alpha_fit": float(decay / abs(omega)),
    }


def ringdown(
    system: Macrospin,
    axis,
    *,
    field: float,
    cone_angle: float = 0.05,
    periods: float = 30.0,
    samples_per_period: int = 32,
    rtol: float = 1e-9,
) -> xr.Dataset:
    """Ring-down of a small-cone precession about ``axis`` in an applied field along it.

    Parameters
    ----------
    system : the macrospin (its table must cover the cone about the axis).
    axis : precession axis n; B_eff(n) must be parallel to n (an equilibrium).
    field : applied field mu0 H along n in T (> 0).
    cone_angle : initial cone half-angle in rad, (0, 0.5).
    periods : duration in precession periods.  samples_per_period : output sampling.
    rtol : integrator tolerance.

    Returns
    -------
    Dataset: trajectory ``m`` (time, component), fitted ``decay_rate`` (1/s), ``frequency`` (Hz),
    ``alpha_fit``, ``linewidth_frequency`` (Hz, FWHM), ``linewidth_field`` (mT, FWHM) and the
    tensor predictions ``alpha_tensor``, ``gyromagnetic_b``, ``alpha_ringdown_predicted``.
    """
    field = positive("field", field, "T", upper=100.0)
    cone_angle = positive("cone_angle", cone_angle, "rad", upper=0.5)
    periods = positive("periods", periods, "periods", upper=1e5)
    e1, _, n = normal_frame(axis)
    drive = Drive(field=field * n)
    b_eff = system.magnet.effective_field(n[None, :], drive.field)[0]
    if np.linalg.norm(np.cross(b_eff, n)) > 1e-9 * np.linalg.norm(b_eff) or b_eff @ n <= 0:
        raise ParameterError(
            f"axis {tuple(n)} is not a stable equilibrium: B_eff(axis) = {tuple(b_eff)} T "
            "must point along the axis"
        )
    omega0 = system.magnet.gamma * float(b_eff @ n)
    period = 2 * math.pi / omega0
    m0 = math.cos(cone_angle) * n + math.sin(cone_angle) * e1
    ds = integrate(
        system,
        m0,
        Segment(periods * period, drive),
        dt=period / samples_per_period,
        rtol=rtol,
        atol=rtol * 1e-2,
    )
    fit = fit_ringdown(ds.m.values, ds.time.values, n, floor=max(1e-7, 1e3 * rtol))
    out = ds
    scalars = {
        "decay_rate": (fit["decay_rate"], "1/s", "fitted decay rate Gamma of tan(theta/2)"),
        "frequency": (
            fit["angular_frequency"] / (2 * math.pi),
            "Hz",
            "fitted precession frequency",
        ),
        "alpha_fit": (fit["alpha_fit"], "1", "Gamma / omega"),
        "linewidth_frequency": (fit["decay_rate"] / math.pi, "Hz", "FWHM Delta f = Gamma / pi"),
        "linewidth_field": (
            2e3 * fit["decay_rate"] / system.magnet.gamma,
            "mT",
            "FWHM mu0 Delta H = 2 Gamma / gamma",
        ),
    }
    for key, value in tensor_damping(system, n).items():
        scalars[key] = (value, "1", "from the tensors at m = axis (fmr.py docstring)")
    for key, (value, unit, name) in scalars.items():
        out[key] = xr.DataArray(value, attrs={"units": unit, "long_name": name})
    out.attrs.update(axis=n, applied_field_T=field, cone_angle_rad=cone_angle)
    return out


def local_system(
    system: Macrospin,
    model,
    settings: ElectronSettings,
    axis,
    cone_angle: float,
    n_intervals: int = 6,
    n_validate: int = 1,
    units: RawUnits = EV_NM,
) -> Macrospin:
    """The system with a table over the polar angles a cone about ``axis`` visits (cheap)."""
    _, _, n = normal_frame(axis)
    theta_n = math.acos(np.clip(n[2], -1, 1))
    half = 1.5 * cone_angle + 1e-3
    theta_range = (max(0.0, theta_n - half), min(math.pi, theta_n + half))
    table = build_table(
        model, settings, theta_range=theta_range, n_intervals=n_intervals, n_validate=n_validate
    )
    return Macrospin(system.magnet, Electrons(table, units), system.sot)


def damping_anisotropy(
    model,
    magnet: Magnet,
    ef_values,
    *,
    eta: float,
    temperature: float = 0.0,
    rtol: float = 1e-6,
    ringdown_fit: bool = True,
    field: float = 0.1,
    cone_angle: float = 0.05,
    periods: float = 20.0,
    units: RawUnits = EV_NM,
) -> xr.Dataset:
    """Damping for an out-of-plane (z) and an in-plane (x) precession axis versus EF.

    Tensor values come straight from the engine (units.gilbert_damping_si and
    derived.damping_for_axis, electron part only); with ``ringdown_fit`` each is also measured
    by a ring-down (alpha_fit - alpha0) of a magnet without anisotropy or demagnetisation, so
    that the precession is circular. ``ratio_clean_limit`` is the eta -> 0 ratio
    EF^2 / (2 (EF^2 - Delta^2/4)) of SPEC.md sec. 7 for a DiracSurface (NaN otherwise).

    Returns a Dataset with dim ``ef`` (model energy unit).
    """
    ef_values = np.atleast_1d(np.asarray(ef_values, dtype=float))
    bare = replace(magnet, anisotropy_field=0.0, demag_factors=(0.0, 0.0, 0.0))
    rows = []
    for ef in ef_values:
        settings = ElectronSettings(ef=float(ef), eta=eta, temperature=temperature, rtol=rtol)
        row = {}
        for label, axis in (("out_of_plane", (0.0, 0.0, 1.0)), ("in_plane", (1.0, 0.0, 0.0))):
            res = response(
                model,
                ef=float(ef),
                eta=eta,
                m=axis,
                temperature=temperature,
                rtol=rtol,
                blocks="exchange_exchange",  # all the damping needs
            )
            alpha = gilbert_damping_si(
                res, ms=magnet.ms, thickness=magnet.thickness, g=magnet.g, units=units
            )
            row[f"alpha_{label}"] = float(damping_for_axis(alpha.sel(part="total"), axis))
            if ringdown_fit:
                system = local_system(
                    Macrospin(bare), model, settings, axis, cone_angle, units=units
                )
                fit = ringdown(system, axis, field=field, cone_angle=cone_angle, periods=periods)
                row[f"alpha_fit_{label}"] = float(fit.alpha_fit) - bare.alpha0
        rows.append(row)
    out = xr.Dataset(
        {key: ("ef", [r[key] for r in rows], {"units": "1"}) for key in rows[0]},
        coords={"ef": ("ef", ef_values, {"units": "model energy unit (eV)"})},
    )
    out["ratio_in_out"] = (out.alpha_in_plane / out.alpha_out_of_plane).assign_attrs(units="1")
    if ringdown_fit:
        out["ratio_fit_in_out"] = (
            out.alpha_fit_in_plane / out.alpha_fit_out_of_plane
        ).assign_attrs(units="1")
    delta = model.delta if isinstance(model, DiracSurface) else math.nan
    out["ratio_clean_limit"] = xr.DataArray(
        ef_values**2 / (2 * (ef_values**2 - delta**2 / 4)),
        dims="ef",
        attrs={"units": "1", "long_name": "eta -> 0 ratio (SPEC sec. 7)"},
    )
    out.attrs.update(
        eta=eta,
        temperature=temperature,
        model=repr(model),
        ms_A_per_m=magnet.ms,
        thickness_m=magnet.thickness,
        g=magnet.g,
    )
    return out
