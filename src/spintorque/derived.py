"""Physical quantities derived from the raw response blocks (SPEC.md sec. 5).

Raw units throughout (hbar = e = 1, per area, energies and lengths in the model's units);
spintorque.units converts to SI. Conventions:

- conductivity sigma_ij = e^2 Lambda[v_i, v_j]; in units of e^2/h it is 2 pi current_force.
- Torque on m from the electrons: dm/dt|el = (1/s_FM) m x <dH/dm>, i.e. (Delta/(2 s_FM)) m x S
  for H = ... + (Delta/2) m.sigma, with s_FM the ferromagnet's spin per area (units of hbar).
  "Torque density" below means m x <dH/dm> (energy per area); dm/dt = torque density / s_FM.
- Gilbert damping alpha_el = sym(exchange_exchange) / s_FM restricted to the plane normal to m
  (for dH/dm = (Delta/2) sigma this is (Delta/(2 s_FM)) sym(spin_exchange)); positive
  semidefinite. The antisymmetric part renormalises the gyromagnetic ratio.
- Spin-orbit torque from an electric field E (force F = -e E): the field-like and damping-like
  parts are the parts of the response even and odd under m -> -m.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .errors import ParameterError
from .responses import AXES, response, validate_magnetization
from .units import cross_along, unit_vector

SOT_BLOCKS = ("spin_force", "current_force", "exchange_force")


def _block(res: xr.Dataset, name: str) -> xr.DataArray:
    """The block ``name`` of a response, or a clear error if it was not computed."""
    if name not in res:
        raise ParameterError(
            f"this result has no {name} (computed with blocks={res.attrs.get('blocks')}); "
            f"recompute with blocks including {name!r}"
        )
    return res[name]


def conductivity(res: xr.Dataset) -> xr.DataArray:
    """Conductivity tensor sigma_ij in units of e^2/h (2 pi Lambda[v_i, v_j]), all parts."""
    sigma = 2 * np.pi * _block(res, "current_force")
    sigma.attrs = {"long_name": "conductivity sigma_ij", "units": "e^2/h"}
    return sigma.rename("conductivity")


def _projector(direction: np.ndarray) -> xr.DataArray:
    p = np.eye(3) - np.outer(direction, direction)
    return xr.DataArray(p, dims=("i", "j"), coords={"i": list(AXES), "j": list(AXES)})


def _sandwich(p: xr.DataArray, tensor: xr.DataArray) -> xr.DataArray:
    """P T P^T over the (i, j) dims."""
    i_ax, j_ax = tensor.get_axis_num("i"), tensor.get_axis_num("j")
    t = np.moveaxis(tensor.values, (i_ax, j_ax), (-2, -1))
    out = np.einsum("ik,...kl,jl->...ij", p.values, t, p.values)
    return tensor.copy(data=np.moveaxis(out, (-2, -1), (i_ax, j_ax)))


def gilbert_damping(res: xr.Dataset, s_fm: float) -> xr.DataArray:
    """Electron-induced Gilbert damping tensor alpha_el[a, b] (dimensionless), all parts.

    alpha_el = P sym(exchange_exchange) P / s_FM with P = 1 - m m^T the projector on the plane
    normal to m (m from res.attrs). ``s_fm`` is the ferromagnet's spin angular momentum per area
    in units of hbar, in the model's inverse length units squared (s_FM = Ms t_FM / (g mu_B)).
    """
    if not (np.isfinite(s_fm) and s_fm > 0):
        raise ParameterError(
            f"s_fm must be a finite positive number (spin per area / hbar), got {s_fm!r}"
        )
    chi = _block(res, "exchange_exchange")
    sym = 0.5 * (chi + chi.rename(i="j", j="i").transpose(*chi.dims))
    m = np.asarray(res.attrs["m"], dtype=float)
    alpha = _sandwich(_projector(m), sym) / s_fm
    alpha.attrs = {"long_name": "electron-induced Gilbert damping alpha_el", "units": "1"}
    return alpha.rename("gilbert_damping")


def damping_for_axis(alpha: xr.DataArray, axis) -> xr.DataArray:
    """Damping seen by a small-cone precession about ``axis``: mean of alpha over the normal plane.

    ``alpha`` must be the damping tensor computed at m = axis; returns tr(P alpha P)/2.
    """
    n = unit_vector("axis", axis)
    proj = _sandwich(_projector(n), alpha)
    out = 0.5 * (proj.sel(i="x", j="x") + proj.sel(i="y", j="y") + proj.sel(i="z", j="z"))
    out.attrs = {"long_name": f"damping for precession about {tuple(n)}", "units": "1"}
    return out.drop_vars(["i", "j"], errors="ignore")


def _contract_force(block: xr.DataArray, force: np.ndarray) -> xr.DataArray:
    f = xr.DataArray(force, dims=("j",), coords={"j": list(AXES)})
    return xr.dot(block, f, dim="j").rename(i="a")


def spin_orbit_torque(
    model, *, ef, eta, m, field=(1.0, 0.0, 0.0), temperature=0.0, rtol=1e-6, **options
) -> xr.Dataset:
    """Field-like and damping-like spin-orbit torques per unit electric field (raw units).

    Computes the response at m and at -m. For a unit field E along ``field`` the force on the
    electrons is F = -E (e = 1). Returns a Dataset (dims [temperature,] [ef,] part, a) with

    - spin_density_fieldlike / _dampinglike: (S(m) +/- S(-m))/2, S = spin_force . F
      (spin density per unit E; even / odd under m -> -m);
    - torque_fieldlike / _dampinglike: m x <dH/dm>_even/odd, torque density per unit E
      (energy per area per unit E; dm/dt = torque / s_FM);
    - torque_*_per_current: the torque divided by sigma_EE = e^2 Lambda[v_E, v_E] (total part at m),
      i.e. per unit current density along the field (torque density x area / current density);
    - sigma_EE: the longitudinal conductivity along the field (raw, e^2 = 1).
    """
    m_vec = validate_magnetization(m)
    e_hat = unit_vector("field", field)
    force = -e_hat
    kwargs = dict(ef=ef, eta=eta, temperature=temperature, rtol=rtol, **options)
    kwargs["blocks"] = SOT_BLOCKS  # only what the torques need
    res_p = response(model, m=m_vec, **kwargs)
    res_m = response(model, m=-m_vec, **kwargs)
    out = {}
    spin_p = _contract_force(res_p["spin_force"], force)
    spin_m = _contract_force(res_m["spin_force"], force)
    exch_p = _contract_force(res_p["exchange_force"], force)
    exch_m = _contract_force(res_m["exchange_force"], force)
    sigma = xr.dot(
        _contract_force(res_p["current_force"], e_hat).sel(part="total"),
        xr.DataArray(e_hat, dims=("a",), coords={"a": list(AXES)}),
        dim="a",
    )
    for name, sign in (("fieldlike", 1.0), ("dampinglike", -1.0)):
        out[f"spin_density_{name}"] = 0.5 * (spin_p + sign * spin_m)
        torque = cross_along(m_vec, 0.5 * (exch_p + sign * exch_m))
        out[f"torque_{name}"] = torque
        out[f"torque_{name}_per_current"] = torque / sigma
    out["sigma_EE"] = sigma
    ds = xr.Dataset(out)
    ds.attrs.update(res_p.attrs)
    ds.attrs["field"] = e_hat.tolist()
    ds.attrs["error_estimate"] = max(res_p.attrs["error_estimate"], res_m.attrs["error_estimate"])
    ds.attrs["units"] = "raw: hbar=e=1, per area, per unit electric field E (force F=-E)"
    return ds
