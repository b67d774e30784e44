"""Experiments driven by a :class:`~spintorque.dynamics.config.DynamicsConfig`, NetCDF output.

``run(config)`` builds the frozen objects (model, tensor table, magnet, macrospin) and calls the
experiment functions of fmr.py, sot.py, switching.py and integrate.py; ``write(ds, path)`` stores
the labelled result with h5netcdf (attributes flattened to NetCDF-safe types).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..materials import ferromagnet, surface
from ..models.continuum import DiracSurface, Rashba2DEG
from ..units import EV_NM, NANOMETRE
from .config import DynamicsConfig, ElectronsSpec, MagnetSpec, deg
from .fmr import damping_anisotropy, local_system, ringdown
from .integrate import Segment, integrate
from .llg import Drive, Electrons, Macrospin, Magnet, ParametrisedSOT
from .sot import cone_torque, micromagnetic_parameters, sot_at
from .switching import switching_diagram
from .tensors import ElectronSettings, build_table


def electron_model(spec: ElectronsSpec):
    """(model, ElectronSettings) from the [electrons] section."""
    if spec.surface is not None:
        preset = surface(spec.surface)
        if spec.delta is not None:
            preset = replace(preset, delta=spec.delta)
        model = preset.model()
        ef = preset.ef if spec.ef is None else spec.ef
        eta = preset.eta if spec.eta is None else spec.eta
    else:
        ms = spec.model
        if ms.kind == "DiracSurface":
            model = DiracSurface(
                vf=ms.vf or 1.0, delta=ms.delta, cutoff=ms.cutoff, mass=ms.mass, warping=ms.warping
            )
        else:
            model = Rashba2DEG(
                mass=ms.mass or 0.5,
                alpha=0.5 if ms.alpha is None else ms.alpha,
                delta=ms.delta,
                cutoff=ms.cutoff,
            )
        ef, eta = spec.ef, spec.eta
    return model, ElectronSettings(ef=ef, eta=eta, temperature=spec.temperature, rtol=spec.rtol)


def magnet_from(spec: MagnetSpec) -> Magnet:
    """Magnet from a preset and/or explicit values (SI; thickness in nm in the file)."""
    explicit = {
        "ms": spec.ms_A_per_m,
        "g": spec.g,
        "alpha0": spec.alpha0,
        "anisotropy_field": spec.anisotropy_field_T,
        "anisotropy_axis": spec.anisotropy_axis,
        "demag_factors": spec.demag_factors,
        "thickness": None if spec.thickness_nm is None else spec.thickness_nm * NANOMETRE,
    }
    given = {k: v for k, v in explicit.items() if v is not None}
    if spec.material is not None:
        return Magnet.from_material(ferromagnet(spec.material), **given)
    missing = {"ms", "thickness"} - set(given)
    if missing:
        raise ParameterError(f"magnet needs {sorted(missing)} (or a material preset)")
    return Magnet(**given)


def run(config: DynamicsConfig) -> xr.Dataset:
    """Run the configured experiment and return its Dataset (units in variable attrs)."""
    magnet = magnet_from(config.magnet)
    model = settings = None
    if config.electrons is not None:
        model, settings = electron_model(config.electrons)
    handler = {
        "ringdown": _ringdown,
        "damping_anisotropy": _anisotropy,
        "cone_torque": _cone,
        "switching": _switching,
        "trajectory": _trajectory,
    }[config.experiment]
    ds = handler(config, magnet, model, settings)
    ds.attrs.update(experiment=config.experiment, magnet=repr(magnet))
    if model is not None:
        ds.attrs.update(
            model=repr(model), ef=settings.ef, eta=settings.eta, temperature=settings.temperature
        )
    return ds


def _full_system(config, magnet, model, settings, sot=None) -> Macrospin:
    if model is None:
        return Macrospin(magnet, None, sot)
    spec = config.electrons
    table = build_table(model, settings, n_intervals=spec.n_intervals, degree=spec.degree)
    return Macrospin(magnet, Electrons(table, EV_NM), sot)


def _ringdown(config, magnet, model, settings) -> xr.Dataset:
    spec = config.ringdown
    cone = math.radians(spec.cone_angle_deg)
    results = []
    for axis in spec.axes:
        system = Macrospin(magnet)
        if model is not None:
            system = local_system(system, model, settings, axis, cone, units=EV_NM)
        res = ringdown(
            system, axis, field=spec.field_T, cone_angle=cone, periods=spec.periods, rtol=spec.rtol
        )
        time = res.time.values
        res = res.rename(time="sample").assign_coords(
            sample=np.arange(len(time)), time=("sample", time)
        )
        res["time"].attrs["units"] = "s"
        results.append(res)
    out = xr.concat(results, dim="axis", join="outer", combine_attrs="drop_conflicts")
    out = out.assign_coords(axis_vector=(("axis", "component"), np.asarray(spec.axes, dtype=float)))
    out.attrs.update(applied_field_T=spec.field_T, cone_angle_rad=cone)
    return out


def _anisotropy(config, magnet, model, settings) -> xr.Dataset:
    spec = config.damping_anisotropy
    return damping_anisotropy(
        model,
        magnet,
        spec.ef,
        eta=settings.eta,
        temperature=settings.temperature,
        rtol=settings.rtol,
        ringdown_fit=spec.ringdown_fit,
        field=spec.field_T,
        cone_angle=math.radians(spec.cone_angle_deg),
        periods=spec.periods,
    )


def _cone(config, magnet, model, settings) -> xr.Dataset:
    spec = config.cone_torque
    system = _full_system(config, magnet, model, settings)
    out = cone_torque(
        system.electrons.table,
        axis=spec.axis,
        field_direction=spec.field_direction,
        thetas=deg(spec.theta_deg),
        n_phi=spec.n_phi,
    )
    _table_attrs(out, system)
    return out


def _switching(config, magnet, model, settings) -> xr.Dataset:
    spec = config.switching
    t_c = spec.conductor_thickness_nm * NANOMETRE
    system = _full_system(config, magnet, model, settings)
    kwargs = dict(
        conductor_thickness=t_c,
        current_direction=spec.current_direction,
        pulse=spec.pulse_ns * 1e-9,
        relax=spec.relax_ns * 1e-9,
        ramp=spec.ramp_ns * 1e-9,
        ramp_steps=spec.ramp_steps,
        rtol=spec.rtol,
    )
    fields = np.asarray(spec.field_mT) * 1e-3
    out = switching_diagram(
        system, spec.current_density_A_per_m2, fields, drive=spec.drive, **kwargs
    )
    if spec.compare_parametrised and system.electrons is not None:
        xi = sot_at(
            system.electrons.table,
            (0.0, 0.0, 1.0),
            magnet=magnet,
            conductor_thickness=t_c,
            current_direction=spec.current_direction,
            drive=spec.drive,
        )
        handoff = micromagnetic_parameters(xi["xi_DL"], xi["xi_FL"], xi["p"], magnet=magnet)
        for code, pars in handoff.items():
            out.attrs.update({f"handoff_{code.replace('.', '')}_{k}": v for k, v in pars.items()})
        param = Macrospin(magnet, None, ParametrisedSOT(xi["xi_DL"], xi["xi_FL"]))
        ref = switching_diagram(param, spec.current_density_A_per_m2, fields, **kwargs)
        out["final_mz_parametrised"] = ref.final_mz.assign_attrs(
            long_name="final m_z with the scalar xi_DL, xi_FL of m = z (micromagnetic form)"
        )
        out["switched_parametrised"] = ref.switched
    _table_attrs(out, system)
    return out


def _trajectory(config, magnet, model, settings) -> xr.Dataset:
    spec = config.trajectory
    system = _full_system(config, magnet, model, settings)
    t_c = None if spec.conductor_thickness_nm is None else spec.conductor_thickness_nm * NANOMETRE
    drive = Drive(
        field=spec.field_T,
        electric_field=spec.electric_field_V_per_m,
        current_density=spec.current_density_A_per_m2,
        conductor_thickness=t_c,
    )
    if drive.electrical and system.electrons is None:
        raise ParameterError("an electric field or current needs an [electrons] section")
    out = integrate(
        system,
        spec.m0,
        Segment(spec.duration_ns * 1e-9, drive),
        dt=spec.dt_ps * 1e-12,
        rtol=spec.rtol,
        atol=spec.rtol * 1e-2,
    )
    return out


def _table_attrs(out: xr.Dataset, system: Macrospin) -> None:
    if system.electrons is None:
        return
    for key, val in system.electrons.table.meta.items():
        if isinstance(val, dict):
            for sub, v in val.items():
                out.attrs[f"table_{key}_{sub}"] = v


def netcdf_safe(attrs: dict) -> dict:
    """Attributes as str / number / 1-D numeric array (booleans -> int, others -> str)."""
    safe = {}
    for key, val in attrs.items():
        if isinstance(val, bool):
            safe[key] = int(val)
        elif isinstance(val, (int, float, str, np.integer, np.floating)):
            safe[key] = val
        elif isinstance(val, (list, tuple, np.ndarray)) and np.asarray(val).dtype.kind in "if":
            safe[key] = np.asarray(val).ravel()
        elif val is not None:
            safe[key] = str(val)
    return safe


def write(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to NetCDF (h5netcdf engine); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = ds.copy()
    out.attrs = netcdf_safe(ds.attrs)
    for name in list(out.variables):
        out[name].attrs = netcdf_safe(out[name].attrs)
    out.to_netcdf(path, engine="h5netcdf")
    return path
