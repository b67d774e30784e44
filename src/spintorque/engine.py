"""The linear-response engine: model -> per-k eigendata -> kernels -> k integral -> smearing.

``compute_blocks`` returns raw arrays (no labels); :func:`spintorque.response` wraps them in an
xarray Dataset. The observable and generator sets are fixed (SPEC.md sec. 4):

    left  (A): sigma_x, sigma_y, sigma_z | v_x, v_y[, v_z] | dH/dm_x, dH/dm_y, dH/dm_z
    right (B): dH/dm_x, dH/dm_y, dH/dm_z | v_x, v_y[, v_z]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from .integrate.brillouin import lattice_integrator
from .integrate.disk import DiskIntegrator, IntegrationResult
from .integrate.thermal import thermal_grid
from .kernels import eigendata, response_density, weighted_response
from .models.base import BlochModel, BrillouinZone, Disk

# block name -> (left operator set, right operator set)
BLOCKS: dict[str, tuple[str, str]] = {
    "spin_exchange": ("spin", "exchange"),
    "spin_force": ("spin", "velocity"),
    "current_force": ("velocity", "velocity"),
    "current_exchange": ("velocity", "exchange"),
    "exchange_exchange": ("exchange", "exchange"),
    "exchange_force": ("exchange", "velocity"),
}
# relative floor of the per-block tolerance (guards blocks that vanish by symmetry)
TOLERANCE_FLOOR = 1e-9


def operator_slices(dim: int) -> tuple[dict[str, slice], dict[str, slice]]:
    """Index ranges of each operator set in the left and right operator stacks."""
    left = {"spin": slice(0, 3), "velocity": slice(3, 3 + dim), "exchange": slice(3 + dim, 6 + dim)}
    right = {"exchange": slice(0, 3), "velocity": slice(3, 3 + dim)}
    return left, right


@dataclass(frozen=True)
class RawResponse:
    """Unlabelled engine output.

    blocks : name -> array (nT, nEF, 2, nA, nB), part 0 = sea, 1 = surface.
    errors : same layout, absolute error estimates (k integral + thermal quadrature).
    converged : every component met its tolerance.  n_points : k points evaluated.
    """

    blocks: dict[str, np.ndarray]
    errors: dict[str, np.ndarray]
    converged: bool
    n_points: int
    n_panels: int
    relative_error: float


class ResponseIntegrand:
    """The response density of every block at every energy as a k integrand.

    Callable on k points (Nk, dim) -> (Nk, C) values, and ``weighted_sums`` for quadrature
    batches (the fast path: one matrix product per batch). C = nE x 2 x nL x nR, in that order.
    """

    def __init__(self, model: BlochModel, m: np.ndarray, energies: np.ndarray, eta: float) -> None:
        self.model, self.m, self.energies, self.eta = model, m, np.asarray(energies), eta
        n, dim = int(model.n_bands), int(model.dim)
        n_ops = (6 + dim) * (3 + dim)
        # floats held per k point: kernels (2 nE N^2 complex) + weighted pairs (3 n_ops N^2 complex)
        self.width = 4 * n * n * (len(self.energies) + 3 * n_ops)

    def __call__(self, k: np.ndarray) -> np.ndarray:
        dens = response_density(eigendata(self.model, k, self.m), self.energies, self.eta)
        return dens.reshape(len(k), -1)

    def weighted_sums(self, k: np.ndarray, weights: np.ndarray) -> np.ndarray:
        flat = k.reshape(-1, k.shape[-1])
        sums = weighted_response(
            eigendata(self.model, flat, self.m), self.energies, self.eta, weights
        )
        return sums.reshape(*weights.shape[0:1], weights.shape[2], -1)


def block_tolerance(value: np.ndarray, dim: int, rtol: float) -> np.ndarray:
    """Absolute tolerance per component: rtol x (largest |entry| of the block at that energy).

    ``value`` has shape (nE, 2, nL, nR). Sea and surface share the block's scale, so a part that
    is small compared with the other is accurate to rtol of the block, not of itself.
    """
    left, right = operator_slices(dim)
    tol = np.zeros_like(value)
    overall = np.max(np.abs(value), axis=(1, 2, 3), keepdims=True)[:, 0]  # (nE, 1, 1)
    for lname, rname in BLOCKS.values():
        sub = value[:, :, left[lname], right[rname]]
        scale = np.max(np.abs(sub), axis=(1, 2, 3))[:, None, None]
        scale = np.maximum(scale, TOLERANCE_FLOOR * overall)
        tol[:, :, left[lname], right[rname]] = rtol * scale[:, None]
    return tol


def fermi_breaks(
    model: BlochModel,
    m: np.ndarray,
    energies: np.ndarray,
    eta: float,
    r_max: float,
    center: np.ndarray,
) -> np.ndarray:
    """Radii about the band centre where bands cross the energies, with meshes graded to eta/v.

    Bands are sampled on 32 rays; around each crossing radius r_F (min and max over the rays)
    breakpoints are put at r_F +- w 2^j (j = 0..6), w = eta / |de/dr| (the Lorentzian width in k).
    """
    n_r, n_ray = 800, 32
    r = np.linspace(0.0, r_max, n_r)
    phi = 2 * np.pi * (np.arange(n_ray) + 0.5) / n_ray
    k = center + (r[None, :, None] * np.stack([np.cos(phi), np.sin(phi)], -1)[:, None, :]).reshape(
        -1, 2
    )
    bands = np.linalg.eigvalsh(model.hamiltonian(k, m)).reshape(n_ray, n_r, -1)
    slope = np.abs(np.gradient(bands, r, axis=1))
    levels = np.asarray(energies, dtype=float)
    if len(levels) > 400:  # dense energy grids: every fourth level is enough to seed the mesh
        levels = levels[:: int(np.ceil(len(levels) / 400))]
    crossings, widths, coarse = [], [], []
    for band in range(bands.shape[2]):
        e = bands[:, :, band]
        for level in levels:
            diff = e - level
            ray, idx = np.nonzero(diff[:, :-1] * diff[:, 1:] <= 0)
            if len(idx) == 0:
                continue
            den = diff[ray, idx] - diff[ray, idx + 1]
            t = diff[ray, idx] / np.where(den == 0, 1.0, den)
            r_cross = r[idx] + t * (r[idx + 1] - r[idx])
            width = np.clip(
                eta / np.maximum(slope[ray, idx, band], 1e-12), 1e-9 * r_max, 0.02 * r_max
            )
            lo, hi = np.argmin(r_cross), np.argmax(r_cross)
            if r_cross[hi] - r_cross[lo] > 2 * max(width[lo], width[hi]):
                # a contour far from circular about the centre: bracket it, let the 2-D
                # refinement follow it (graded rings would each be cut into sectors)
                coarse.extend([r_cross[lo] - width[lo], r_cross[hi] + width[hi]])
                continue
            for pick in (lo, hi):
                crossings.append(r_cross[pick])
                widths.append(width[pick])
    if not crossings:
        out = np.unique(np.array(coarse))
        return out[(out > 0) & (out < r_max)]
    crossings, widths = np.array(crossings), np.array(widths)
    offsets = 4.0 ** np.arange(4)
    graded = np.concatenate(
        [
            crossings,
            (crossings[:, None] - widths[:, None] * offsets).ravel(),
            (crossings[:, None] + widths[:, None] * offsets).ravel(),
            coarse,
        ]
    )
    graded = np.sort(graded[(graded > 0) & (graded < r_max)])
    return _thin(graded, 0.5 * widths.min())


def _thin(points: np.ndarray, spacing: float) -> np.ndarray:
    """Drop sorted points closer than ``spacing`` to the previously kept one."""
    kept = []
    last = -np.inf
    for p in points:
        if p - last >= spacing:
            kept.append(p)
            last = p
    return np.array(kept)


def make_integrator(
    model: BlochModel,
    m: np.ndarray,
    energies: np.ndarray,
    eta: float,
    integrand: Callable[[np.ndarray], np.ndarray],
    *,
    max_points: int,
) -> DiskIntegrator:
    """The k integrator for the model's domain; it exposes ``integrate(tolerance)``."""
    if isinstance(model.k_domain, Disk):
        cutoff = model.k_domain.cutoff
        center = np.asarray(model.band_center(m), dtype=float)
        if np.hypot(*center) >= 0.5 * cutoff:  # the integrator then uses polar coordinates about 0
            center = np.zeros(2)
        r_max = cutoff - float(np.hypot(*center))
        return DiskIntegrator(
            integrand,
            cutoff=cutoff,
            center=center,
            radial_breaks=fermi_breaks(model, m, energies, eta, r_max, center),
            max_points=max_points,
        )
    if isinstance(model.k_domain, BrillouinZone):
        return lattice_integrator(model, m, energies, eta, integrand, max_points=max_points)
    raise NotImplementedError(
        f"no k integrator for domain {type(model.k_domain).__name__}; continuum (Disk) models only"
    )


def compute_blocks(
    model: BlochModel,
    ef: np.ndarray,
    eta: float,
    m: np.ndarray,
    temperatures: np.ndarray,
    rtol: float,
    *,
    max_points: int = 20_000_000,
    progress: Callable[[int], None] | None = None,
) -> RawResponse:
    """Every response block at every (T, EF): one k integral over all needed T = 0 energies."""
    dim = int(model.dim)
    grids = [thermal_grid(ef, float(t), eta, rtol) for t in temperatures]
    energies = np.concatenate([g.energies for g in grids])
    n_e = len(energies)

    integrand = ResponseIntegrand(model, m, energies, eta)

    def tolerance(flat: np.ndarray) -> np.ndarray:
        value = flat.reshape(n_e, 2, 6 + dim, 3 + dim)
        return block_tolerance(value, dim, rtol).ravel()

    integrator = make_integrator(model, m, energies, eta, integrand, max_points=max_points)
    # one BLAS thread: the k sums are many mid-sized matrix products, which OpenBLAS threads
    # slow down (x4 measured on 2 cores); parallelism belongs to the sweep executors
    with threadpool_limits(1):
        result: IntegrationResult = integrator.integrate(tolerance)
    value = result.value.reshape(n_e, 2, 6 + dim, 3 + dim)
    error = result.error.reshape(value.shape)

    smeared, smeared_err = [], []
    offset = 0
    for grid in grids:
        sl = slice(offset, offset + len(grid.energies))
        offset += len(grid.energies)
        fine = np.einsum("me,epab->mpab", grid.weights, value[sl])
        coarse = np.einsum("me,epab->mpab", grid.coarse_weights, value[sl])
        err = np.einsum("me,epab->mpab", np.abs(grid.weights), error[sl]) + np.abs(fine - coarse)
        smeared.append(fine)
        smeared_err.append(err)
    total = np.stack(smeared)  # (nT, nEF, 2, nL, nR)
    total_err = np.stack(smeared_err)

    left, right = operator_slices(dim)
    blocks, errors = {}, {}
    for name, (lname, rname) in BLOCKS.items():
        blocks[name] = total[..., left[lname], right[rname]]
        errors[name] = total_err[..., left[lname], right[rname]]
    tol = np.stack([block_tolerance(t, dim, 1.0) for t in total])  # block scales
    rel = float(np.max(total_err / np.maximum(tol, np.finfo(float).tiny)))
    converged = result.converged and rel <= rtol * (1 + 1e-9)
    return RawResponse(blocks, errors, converged, result.n_points, result.n_panels, rel)
