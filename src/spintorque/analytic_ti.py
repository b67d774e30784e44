"""TI-surface closed forms: paper Eqs. (12)-(14), corrected, with the k integral done analytically.

Model: H = vF (z x k) . sigma + (Delta/2) m . sigma (DiracSurface without mass or warping).
Shifting k by the band centre k_0 = (Delta/(2 vF)) z x m removes the in-plane exchange, so
h = vF z x q + h_z z with h_z = Delta m_z / 2: everything depends on m through h_z only (plus
cutoff corrections). Every block follows from the spin-spin response chi[a, b] = Lambda[sigma_a,
sigma_b], because v_x = vF sigma_y, v_y = -vF sigma_x and dH/dm = (Delta/2) sigma.

With E* = max(|EF|, |h_z|), theta_b = 1 if EF is in a band (|EF| > |h_z|) else 0 and
N = 1/(4 pi vF^2), the pieces of :mod:`spintorque.analytic` are (columns b, rows a)

    intrinsic  = N h_z/E* (z x e_b) + Delta/(8 pi vF^3 k_c) e_b x (m_z z - m_par/2)
    berry      = -theta_b N h_z/|EF| (z x e_b)
    intraband  = theta_b N/|EF| [ (EF^2 - h_z^2)/2 P_par + h_z^2 z z ] e_b              (x 1/eta)
    transverse = theta_b N/|EF| [ (EF^2 + h_z^2)/(2 EF^2) P_par + (1 - h_z^2/EF^2) z z ] e_b (x eta)

(P_par: projector on the plane). The second intrinsic term is the leading O(Delta/(vF k_c))
cutoff correction of the Fermi-sea integral over the disk |k| < k_c (set ``cutoff=None`` for
k_c -> infinity). Consequences (SPEC.md sec. 7): with EF in a band the sea part is only this
cutoff term (sea = intrinsic + berry); with EF in the gap the surface part vanishes.
In the paper's notation the intrinsic (eta^0) spin density is -S1 / (4 pi vF^2 E*) with the
corrected S1 = (Delta^2/4) m_z dm/dt x z - (Delta vF/2) m_z grad(mu); the 1/eta and eta terms
are S2.

:func:`symmetric_exact` gives the exact (any eta, EF > 0, T = 0, k_c -> infinity) symmetric
part of chi, SPEC.md sec. 7, which fixes the Gilbert damping at finite eta.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .analytic import PIECES, _blocks, combine_pieces, model_attrs
from .engine import BLOCKS
from .errors import ParameterError
from .models.continuum import DiracSurface
from .responses import AXES, CONVENTIONS, validate_magnetization

Z_CROSS = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # (z x v) = Z_CROSS @ v
P_PLANE = np.diag([1.0, 1.0, 0.0])
ZZ = np.diag([0.0, 0.0, 1.0])


def _cross_matrix(w: np.ndarray) -> np.ndarray:
    """[w]_x with [w]_x v = w x v."""
    return np.array([[0.0, -w[2], w[1]], [w[2], 0.0, -w[0]], [-w[1], w[0], 0.0]])


def spin_pieces(
    vf: float, delta: float, m: np.ndarray, ef: float, cutoff: float | None
) -> np.ndarray:
    """The four pieces of chi[a, b] = Lambda[sigma_a, sigma_b], shape (4, 3, 3) (raw units)."""
    hz = 0.5 * delta * m[2]
    e_abs = abs(ef)
    in_band = e_abs > abs(hz)
    e_star = max(e_abs, abs(hz))
    norm = 1.0 / (4 * np.pi * vf**2)
    intrinsic = norm * hz / e_star * Z_CROSS if e_star > 0 else np.zeros((3, 3))
    if cutoff is not None:
        w = m[2] * np.array([0.0, 0.0, 1.0]) - 0.5 * np.array([m[0], m[1], 0.0])
        intrinsic = intrinsic - delta / (8 * np.pi * vf**3 * cutoff) * _cross_matrix(w)
    pieces = np.zeros((4, 3, 3))
    pieces[0] = intrinsic
    if in_band:
        pieces[1] = -norm * hz / e_abs * Z_CROSS
        pieces[2] = norm / e_abs * (0.5 * (ef**2 - hz**2) * P_PLANE + hz**2 * ZZ)
        pieces[3] = (
            norm / e_abs * ((ef**2 + hz**2) / (2 * ef**2) * P_PLANE + (ef**2 - hz**2) / ef**2 * ZZ)
        )
    return pieces


def operator_maps(vf: float, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Left (sigma | v | dH/dm) and right (dH/dm | v) operators as linear maps of sigma."""
    vel = vf * np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    exch = 0.5 * delta * np.eye(3)
    return np.vstack([np.eye(3), vel, exch]), np.vstack([exch, vel])


def _check_model(model: DiracSurface) -> None:
    if not isinstance(model, DiracSurface) or model.mass is not None or model.warping:
        raise ParameterError(
            "the TI closed forms need DiracSurface(vf, delta, cutoff) without "
            f"mass or warping, got {model!r}"
        )


def ti_pieces(
    model: DiracSurface, *, ef, m=(0.0, 0.0, 1.0), cutoff_correction: bool = True
) -> xr.Dataset:
    """Analytic pieces of every block (layout of :func:`spintorque.analytic.closed_form_pieces`).

    ``cutoff_correction`` adds the leading O(Delta/(vF k_c)) term of the Fermi-sea integral
    over the model's disk; without it the result is the k_c -> infinity limit.
    """
    _check_model(model)
    m_vec = validate_magnetization(m)
    ef_arr = np.atleast_1d(np.asarray(ef, dtype=float))
    left, right = operator_maps(model.vf, model.delta)
    cutoff = model.cutoff if cutoff_correction else None
    chi = np.stack([spin_pieces(model.vf, model.delta, m_vec, float(e), cutoff) for e in ef_arr])
    full = np.einsum("la,epab,rb->eplr", left, chi, right)
    blocks = _blocks(full, int(model.dim))
    dims = ("ef", "piece", "i", "j")
    data = {}
    for name in BLOCKS:
        data[name] = (dims, blocks[name])
        data[f"{name}_error"] = (dims, np.zeros_like(blocks[name]))
    ds = xr.Dataset(
        data, coords={"ef": ef_arr, "piece": list(PIECES), "i": list(AXES), "j": list(AXES)}
    )
    if np.ndim(ef) == 0:
        ds = ds.isel(ef=0)
    ds.attrs.update(model_attrs(model))
    ds.attrs.update(
        {
            "m": m_vec.tolist(),
            "conventions": CONVENTIONS,
            "method": "TI-surface closed forms, k integral analytic (paper Eqs. 12-14, corrected)",
            "cutoff_correction": int(cutoff_correction),
        }
    )
    return ds


def ti_closed_form(
    model: DiracSurface, *, ef, eta: float, m=(0.0, 0.0, 1.0), cutoff_correction: bool = True
) -> xr.Dataset:
    """Corrected paper Eqs. (12)-(14) in the layout of :func:`spintorque.response`.

    Examples
    --------
    >>> import spintorque as st
    >>> from spintorque.analytic_ti import ti_closed_form
    >>> model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=1e9)
    >>> res = ti_closed_form(model, ef=0.05, eta=0.01)   # EF in the exchange gap
    >>> round(float(res.current_force.sel(part="sea", i="x", j="y")) * 4 * 3.141592653589793, 6)
    -1.0
    """
    return combine_pieces(ti_pieces(model, ef=ef, m=m, cutoff_correction=cutoff_correction), eta)


def symmetric_exact(
    vf: float, delta: float, m_z: float, ef, eta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact symmetric part of chi = Lambda[sigma, sigma] for the TI surface (SPEC.md sec. 7).

    Valid at any eta > 0 for EF > 0, T = 0 and k_c -> infinity. With h_z = Delta m_z/2,
    t = (h_z^2 - EF^2 + eta^2)/(2 EF eta) and theta = pi/2 - arctan(t):

        chi_par = [1 + theta (eta/EF - t)] / (4 pi^2 vF^2)                 (xx = yy)
        chi_zz  = [eta theta/EF + h_z^2 (theta - t/(1 + t^2))/(EF eta)] / (4 pi^2 vF^2)

    Returns (chi_par, chi_zz) as arrays over ``ef``. The Fermi sea adds nothing to the
    symmetric part (its kernel is antisymmetric).
    """
    ef = np.asarray(ef, dtype=float)
    if np.any(ef <= 0) or not eta > 0:
        raise ParameterError(
            f"symmetric_exact needs ef > 0 and eta > 0, got ef={ef!r}, eta={eta!r}"
        )
    hz = 0.5 * delta * m_z
    t = (hz**2 - ef**2 + eta**2) / (2 * ef * eta)
    theta = 0.5 * np.pi - np.arctan(t)
    scale = 1.0 / (4 * np.pi**2 * vf**2)
    chi_par = (1 + theta * (eta / ef - t)) * scale
    chi_zz = (eta * theta / ef + hz**2 * (theta - t / (1 + t**2)) / (ef * eta)) * scale
    return chi_par, chi_zz


def damping_ratio_exact(vf: float, delta: float, ef, eta: float) -> np.ndarray:
    """In-plane-axis (y) over out-of-plane-axis (z) damping from :func:`symmetric_exact`.

    Axis z (m = z, h_z = Delta/2): mean of chi_xx, chi_yy = chi_par. Axis y (m = y, h_z = 0):
    mean of chi_xx and chi_zz. The common factor (Delta/2)^2 / s_FM cancels.
    """
    par_z, _ = symmetric_exact(vf, delta, 1.0, ef, eta)
    par_y, zz_y = symmetric_exact(vf, delta, 0.0, ef, eta)
    return 0.5 * (par_y + zz_y) / par_z


def damping_ratio_clean(delta: float, ef) -> np.ndarray:
    """eta -> 0 limit of the ratio, EF in the band: EF^2 / (2 (EF^2 - Delta^2/4)) (paper: 1/2)."""
    ef = np.asarray(ef, dtype=float)
    return ef**2 / (2 * (ef**2 - 0.25 * delta**2))
