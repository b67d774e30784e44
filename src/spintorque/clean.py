"""The clean limit eta -> 0 of the linear response: ``st.response(model, ..., eta="clean")``.

For small eta every block behaves as (SPEC.md sec. 3, 7)

    Lambda(eta) = C tau + L + O(eta),     tau = 1 / (2 eta),

and the two leading terms are returned separately (``term`` dimension):

* ``intraband_coefficient`` C: the coefficient of tau, a pure Fermi-surface term (Boltzmann:
  Drude conductivity, Edelstein / field-like SOT, Fermi-surface damping), from
  kappa_I(n, n) -> tau delta(EF - e_n):

      C[A, B] = sum_n A_nn B_nn delta(EF - e_n)    (degenerate pairs count as intraband).

* ``interband`` L: the eta -> 0 limit of the rest, the Kubo / Berry-curvature formula (intrinsic
  AHE, intrinsic damping-like SOT, gyromagnetic term). The limits of the Bastin kernels are
  kappa_I(m, n) -> -i (delta_m + delta_n) / (2 (e_m - e_n)) and
  kappa_II(m, n) -> i (delta_m + delta_n) / (2 (e_m - e_n)) - i (f_n - f_m) / (e_m - e_n)^2
  (m != n, from Im log(EF - e + i0) = pi theta(e - EF)), so with z_mn = A_nm B_mn

      L_surface = sum_{m != n} (delta_m + delta_n) Im z_mn / (2 (e_m - e_n))
      L_sea     = sum_{m != n} (f_n - f_m) Im z_mn / (e_n - e_m)^2 - L_surface
      L_total   = sum_{m != n} (f_n - f_m) Im z_mn / (e_n - e_m)^2,

  the Kubo formula (sigma_xy = 2 pi L[v_x, v_y] = -(1/2pi) sum_occ int Omega, Omega the Berry
  curvature, in e^2/h). The intraband coefficient has no sea part.

Fermi-surface delta functions and T = 0 occupations are evaluated with Fermi-Dirac smearing of
width s (-df/dE for delta, f for theta) at s, s/sqrt(2), s/2, and Richardson-extrapolated in
s^2 to O(s^6): the smeared integrand is exactly the T = 0 one averaged over EF with -f'_s, so
I(s) = I(0) + (pi^2/6) s^2 I0^(2) + (7 pi^4/360) s^4 I0^(4) + ... (Sommerfeld) wherever I0(EF)
is smooth on the scale s. The error estimate is the distance to the O(s^4) extrapolant plus
the k-integration errors. s defaults to dist / max(4, 2.5 ln(1/rtol)), dist the distance from EF to
the nearest sampled band extremum (band edges are where I0 has kinks; 2D van Hove points are
not sought; in a gap the smeared tails fall as exp(-dist/s)),
within [1e-4, 0.01] x band width; if the estimate misses rtol, s is reduced by the factor the
s^4 scaling of the estimate asks for (twice at most).
This smearing-and-extrapolation replaces a tetrahedron method: it works unchanged for
continuum and lattice models and for every block. At T > 0 the physical Fermi function is
used directly (no extrapolation).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from . import __version__
from .engine import BLOCKS, OperatorLayout, block_tolerance, make_integrator, operator_layout
from .errors import ConvergenceError, ConvergenceWarning, ParameterError
from .kernels import eigendata, pair_features
from .models.base import BlochModel, Disk

TERMS = ("intraband_coefficient", "interband")
PARTS = ("sea", "surface", "total")
AXES = ("x", "y", "z")
# relative splitting below which a band pair counts as degenerate (intraband)
DEGENERATE = 1e-9
# Richardson steps: results at s, s/sqrt(2), s/2 (h = s^2, h/2, h/4)
LEVELS = (1.0, 2**-0.5, 0.5)
MAX_RETRIES = 2
# tolerance floor of every block, relative to the largest interband entry at that (level, EF)
FLOOR = 1e-3


class CleanIntegrand:
    """Per-k clean-limit densities for smearings ``levels`` and Fermi levels ``ef``.

    Output per k point (``__call__``) or per quadrature batch (``weighted_sums``): the layout
    (nlev, nEF, term, part(sea, surface), nL, nR) flattened; the intraband sea part is zero.
    """

    def __init__(
        self,
        model: BlochModel,
        m: np.ndarray,
        ef: np.ndarray,
        levels: np.ndarray,
        scale: float,
        layout: OperatorLayout,
    ) -> None:
        self.model, self.m, self.layout = model, m, layout
        self.ef, self.levels = np.asarray(ef, float), np.asarray(levels, float)
        self.deg_tol = DEGENERATE * scale
        n = int(model.n_bands)
        self.n_lr = layout.n_left * layout.n_right
        n_w = 3 * len(self.ef) * len(self.levels)
        self.width = 4 * n * n * (self.n_lr + n_w)

    def __call__(self, k: np.ndarray) -> np.ndarray:
        ones = np.ones((len(k), 1, 1))
        return self.weighted_sums(k[:, None, :], ones)[:, 0]

    def weighted_sums(self, k: np.ndarray, weights: np.ndarray, angles: int = 1) -> np.ndarray:
        """sum_q weights[p, q, w] f(k[p, q]) -> (P, nw, C): one matrix product per term."""
        n_batch, n_q, n_w = weights.shape
        eig = eigendata(self.model, k.reshape(-1, k.shape[-1]), self.m, self.layout)
        surf_feat, sea_feat = pair_features(eig)  # (Nk, N + 2P, nLR), (Nk, P, nLR)
        intra_w, kubo_w, x_w = self._weights(eig.energies)  # (Nk, F, nlev*nEF)
        # contract the quadrature weights with the (small) kernel features first, then one
        # batched product over (q, feature) per term: (P, nLR, Q F) @ (P, Q F, nw J)
        out = []
        for phi, psi in ((surf_feat, intra_w), (sea_feat, kubo_w), (sea_feat, x_w)):
            n_f, n_j = psi.shape[1:]
            wpsi = weights[:, :, None, :, None] * psi.reshape(n_batch, n_q, n_f, 1, n_j)
            wpsi = wpsi.reshape(n_batch, n_q * n_f, n_w * n_j)
            lhs = phi.reshape(n_batch, n_q * n_f, self.n_lr).transpose(0, 2, 1)
            out.append((lhs @ wpsi).reshape(n_batch, self.n_lr, n_w, n_j))
        intra, kubo, x_surf = (np.moveaxis(o, 1, -1) for o in out)  # (P, nw, J, nLR)
        res = np.stack(
            [np.zeros_like(intra), intra, kubo - x_surf, x_surf], axis=-2
        )  # (P, nw, J, 4, nLR)
        return res.reshape(n_batch, n_w, -1)

    def _weights(self, e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kernel features (Nk, F, nlev*nEF) for the intraband, Kubo and surface-interband terms."""
        n = e.shape[1]
        upper, lower = np.triu_indices(n, 1)  # pair (m, n) = (upper, lower)
        x = (e[:, None, None, :] - self.ef[None, None, :, None]) / self.levels[None, :, None, None]
        th = np.tanh(0.5 * x)
        occ = 0.5 * (1.0 - th)  # (Nk, nlev, nEF, N)
        dlt = (1.0 - th**2) / (4.0 * self.levels[None, :, None, None])
        split = (e[:, upper] - e[:, lower])[:, None, None, :]  # e_m - e_n
        deg = np.abs(split) < self.deg_tol
        inv = np.where(deg, 0.0, 1.0 / np.where(deg, 1.0, split))
        pair_d = dlt[..., upper] + dlt[..., lower]
        kubo = (occ[..., upper] - occ[..., lower]) * inv**2  # pairs with the sea feature -2 Im z
        x_w = -0.5 * pair_d * inv
        intra = np.concatenate(
            [dlt, np.where(deg, 0.5 * pair_d, 0.0), np.zeros_like(pair_d)], axis=-1
        )

        def flat(w):
            return w.reshape(len(e), -1, w.shape[-1]).swapaxes(1, 2)

        return flat(intra), flat(kubo), flat(x_w)


def band_extrema(model: BlochModel, m: np.ndarray) -> tuple[np.ndarray, float]:
    """Sampled band minima and maxima (and the overall band width) over the model's k domain."""
    rng = np.random.default_rng(0)
    if isinstance(model.k_domain, Disk):
        r = model.k_domain.cutoff * np.sqrt(np.linspace(0, 1, 120))
        phi = 2 * np.pi * np.arange(24) / 24
        k = (r[:, None, None] * np.stack([np.cos(phi), np.sin(phi)], -1)[None]).reshape(-1, 2)
    else:
        n = 48 if model.dim == 2 else 12
        axes = np.meshgrid(*[np.arange(n) / n] * model.dim, indexing="ij")
        k = np.stack([a.ravel() for a in axes], -1) @ model.k_domain.reciprocal_vectors
    k = np.concatenate([k, rng.uniform(-1e-3, 1e-3, (1, model.dim))])
    e = np.linalg.eigvalsh(model.hamiltonian(k, m))
    return np.concatenate([e.min(axis=0), e.max(axis=0)]), float(e.max() - e.min())


def default_smearing(
    model: BlochModel, m: np.ndarray, ef: np.ndarray, rtol: float
) -> tuple[float, float]:
    """(s, band width): s = dist / max(4, 2.5 ln(1/rtol)), dist = |EF - nearest band extremum|.

    In a band the extrapolated error is O((s/dist)^6); in a gap the smeared tails are
    O(exp(-dist/s)), hence the logarithm.
    """
    extrema, width = band_extrema(model, m)
    dist = float(np.min(np.abs(extrema[:, None] - ef[None, :])))
    return float(
        np.clip(dist / max(4.0, 2.5 * np.log(1.0 / rtol)), 1e-4 * width, 0.01 * width)
    ), width


def _levels(temperatures: np.ndarray, s: float) -> tuple[np.ndarray, list[slice]]:
    """Smearing levels for every temperature (s, s/2, s/4 at T = 0; T itself at T > 0)."""
    levels, where = [], []
    for t in temperatures:
        start = len(levels)
        levels += [s * f for f in LEVELS] if t == 0 else [float(t)]
        where.append(slice(start, len(levels)))
    return np.array(levels), where


def _extrapolate(vals: np.ndarray, errs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Richardson in h = s^2 over levels h, h/2, h/4 (s, s/sqrt2, s/2): value exact to O(s^6).

    The error estimate is |R - R2| (R2 the O(s^4) extrapolant from the two finer levels, so
    conservative) plus the propagated k-integration errors.
    """
    if len(vals) == 1:
        return vals[0], errs[0]
    full = (8 * vals[2] - 6 * vals[1] + vals[0]) / 3
    r2 = 2 * vals[2] - vals[1]
    return full, np.abs(full - r2) + (8 * errs[2] + 6 * errs[1] + errs[0]) / 3


def clean_tolerance(
    value: np.ndarray, smear: np.ndarray, layout: OperatorLayout, rtol: float
) -> np.ndarray:
    """Absolute tolerance for clean values (nlev, nEF, term, part, nL, nR).

    Each term is converged to rtol of its block (sea and surface share the scale), but never
    below rtol x FLOOR x the largest interband entry at that smearing and EF (blocks that
    vanish by symmetry or in a gap would otherwise ask for the impossible). The
    intraband coefficient C also gets the floor rtol x 2 s x (interband block scale): an error
    dC shifts C tau by dC / (2 eta), which stays below rtol x L for eta >= s. (In a gap C is
    exponentially small and its own scale would demand the impossible.)
    """
    nl, nr = layout.n_left, layout.n_right
    tol = block_tolerance(value.reshape(-1, 2, nl, nr), layout, rtol).reshape(value.shape)
    inter = value[:, :, 1]
    inter_scale = block_tolerance(inter.reshape(-1, 2, nl, nr), layout, 1.0).reshape(inter.shape)
    floor = rtol * 2 * np.asarray(smear)[:, None, None, None, None] * inter_scale
    tol[:, :, 0] = np.maximum(tol[:, :, 0], floor)
    # blocks that vanish (by symmetry, or in a gap) are resolved to rtol x FLOOR x the largest
    overall = np.max(np.abs(value[:, :, 1]), axis=(2, 3, 4), keepdims=True)[:, :, None]
    return np.maximum(tol, rtol * FLOOR * overall)


def _integrate(model, m, ef, temperatures, rtol, s, scale, max_points, layout, max_memory):
    levels, where = _levels(temperatures, s)
    integrand = CleanIntegrand(model, m, ef, levels, scale, layout)
    shape = (len(levels), len(ef), 2, 2, layout.n_left, layout.n_right)

    def tolerance(flat: np.ndarray) -> np.ndarray:
        return 0.3 * clean_tolerance(flat.reshape(shape), levels, layout, rtol).ravel()

    integrator = make_integrator(
        model, m, ef, float(levels.min()), integrand, max_points=max_points, max_memory=max_memory
    )
    result = integrator.integrate(tolerance)
    value, error = result.value.reshape(shape), result.error.reshape(shape)
    out = [_extrapolate(value[sl], error[sl]) for sl in where]
    smallest = np.array([levels[sl].min() for sl in where])
    return np.stack([o[0] for o in out]), np.stack([o[1] for o in out]), smallest, result


def clean_blocks(
    model,
    ef,
    m,
    temperatures,
    rtol,
    *,
    smearing=None,
    max_points=20_000_000,
    blocks=None,
    max_memory=None,
):
    """Raw clean-limit blocks: value, error (nT, nEF, term, part, nL, nR) in the operator layout
    of ``blocks`` (default all), converged, info dict (with the layout)."""
    s, width = default_smearing(model, m, ef, rtol) if smearing is None else (float(smearing), 0.0)
    scale = max(width, float(np.max(np.abs(ef))), 1.0)
    layout = operator_layout(int(model.dim), blocks)
    for attempt in range(MAX_RETRIES + 1):
        value, error, smallest, result = _integrate(
            model, m, ef, temperatures, rtol, s, scale, max_points, layout, max_memory
        )
        scales = clean_tolerance(value, smallest, layout, 1.0)
        rel = float(np.max(error / np.maximum(scales, np.finfo(float).tiny)))
        if (
            rel <= rtol
            or smearing is not None
            or attempt == MAX_RETRIES
            or not np.any(temperatures == 0)
        ):
            break
        s *= float(np.clip(0.8 * (rtol / rel) ** 0.25, 0.25, 0.8))  # the estimate scales as s^4
    info = {
        "smearing": s,
        "relative_error": rel,
        "n_points": result.n_points,
        "layout": layout,
        "exhausted": (result.exhausted,) if result.exhausted else (),
    }
    return value, error, result.converged and rel <= rtol * (1 + 1e-9), info


def clean_response(
    model,
    ef,
    ef_scalar,
    temps,
    t_scalar,
    m,
    rtol,
    *,
    max_points,
    on_unconverged,
    smearing=None,
    blocks=None,
    max_memory=None,
) -> xr.Dataset:
    """The eta -> 0 response as a Dataset with a ``term`` dimension (see the module docstring)."""
    if smearing is not None and not (np.isfinite(smearing) and smearing > 0):
        raise ParameterError(f"smearing must be a positive energy, got {smearing!r}")
    value, error, converged, info = clean_blocks(
        model,
        ef,
        m,
        temps,
        rtol,
        smearing=smearing,
        max_points=max_points,
        blocks=blocks,
        max_memory=max_memory,
    )
    if not converged:
        from .responses import unconverged_advice

        msg = (
            f"clean-limit response not converged to rtol={rtol:g}: achieved "
            f"{info['relative_error']:.3g} (smearing {info['smearing']:.3g}, {info['n_points']} "
            f"k points); {unconverged_advice(info['exhausted'], max_points, max_memory)}"
        )
        if on_unconverged == "raise":
            raise ConvergenceError(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    return _dataset(model, value, error, ef, ef_scalar, temps, t_scalar, m, rtol, converged, info)


def _dataset(
    model, value, error, ef, ef_scalar, temps, t_scalar, m, rtol, converged, info
) -> xr.Dataset:
    from .responses import BLOCK_DESCRIPTIONS, CONVENTIONS, pad_to_3d

    layout = info["layout"]
    left, right = layout.slices()
    dims = ["temperature", "ef", "term", "part", "i", "j"]
    data = {}
    for name in layout.blocks:
        lname, rname = BLOCKS[name]
        val = pad_to_3d(value[..., left[lname], right[rname]])
        err = pad_to_3d(error[..., left[lname], right[rname]])
        val = np.concatenate([val, val.sum(axis=-3, keepdims=True)], axis=-3)
        err = np.concatenate([err, err.sum(axis=-3, keepdims=True)], axis=-3)
        formula, meaning = BLOCK_DESCRIPTIONS[name]
        data[name] = (
            dims,
            val,
            {
                "long_name": meaning,
                "definition": formula,
                "units": "raw (hbar=e=1, per area); intraband_coefficient per unit tau",
            },
        )
        data[f"{name}_error"] = (dims, err, {"long_name": f"absolute error estimate of {name}"})
    coords = {
        "temperature": temps,
        "ef": ef,
        "term": list(TERMS),
        "part": list(PARTS),
        "i": list(AXES),
        "j": list(AXES),
    }
    ds = xr.Dataset(data, coords=coords)
    if ef_scalar:
        ds = ds.isel(ef=0)
    if t_scalar:
        ds = ds.isel(temperature=0)
    ds.attrs.update({
        "model": getattr(model, "name", type(model).__name__), "dim": int(model.dim),
        "n_bands": int(model.n_bands), "eta": "clean", "m": np.asarray(m).tolist(), "rtol": rtol,
        "conventions": CONVENTIONS,
        "clean_limit": "Lambda(eta) = intraband_coefficient*tau + interband + O(eta); tau=1/(2eta)",
        "smearing": info["smearing"],
        "error_estimate": info["relative_error"],
        "converged": int(converged),
        "n_kpoints": info["n_points"], "blocks": ",".join(layout.blocks),
        "spintorque_version": __version__,
    })  # fmt: skip
    params = model.parameters() if hasattr(model, "parameters") else {}
    ds.attrs.update({f"model_{k}": v for k, v in params.items()})
    return ds
