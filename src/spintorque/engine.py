"""The linear-response engine: model -> per-k eigendata -> kernels -> k integral -> smearing.

``compute_blocks`` returns raw arrays (no labels); :func:`spintorque.response` wraps them in an
xarray Dataset. The observable and generator sets are fixed (SPEC.md sec. 4):

    left  (A): sigma_x, sigma_y, sigma_z | v_x, v_y[, v_z] | dH/dm_x, dH/dm_y, dH/dm_z
    right (B): dH/dm_x, dH/dm_y, dH/dm_z | v_x, v_y[, v_z]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import ThreadpoolController

from .integrate.brillouin import lattice_integrator
from .integrate.disk import DiskIntegrator, IntegrationResult
from .integrate.thermal import thermal_grid
from .kernels import band_energies, eigendata, response_density, weighted_response
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
# first-mesh breakpoints about each Fermi momentum: r_F +- w x these (w = eta / |de/dk|)
GRADED_OFFSETS = np.array([2.0, 8.0, 32.0])
# ... and breakpoints closer than this many widths w are merged
MIN_CELL_WIDTHS = 1.0
# rings of this many widths w, at most MAX_BRACKET_RINGS, across a non-circular contour
BRACKET_RING_WIDTHS = 2.0
MAX_BRACKET_RINGS = 64


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The process's BLAS thread pools, inspected once (threadpool_limits costs ~0.5 ms a call)."""
    return ThreadpoolController()


LEFT_SETS = ("spin", "velocity", "exchange")  # observables A, in stack order
RIGHT_SETS = ("exchange", "velocity")  # generators B, in stack order


@dataclass(frozen=True)
class OperatorLayout:
    """Which operators the engine carries: the observable (left) and generator (right) sets
    that the requested blocks need, stacked in LEFT_SETS / RIGHT_SETS order.

    Asking for fewer blocks (``response(..., blocks=...)``) shrinks both stacks, and the cost of
    the operator features and k sums scales with n_left x n_right.
    """

    dim: int
    blocks: tuple[str, ...]
    left_sets: tuple[str, ...]
    right_sets: tuple[str, ...]

    def size(self, name: str) -> int:
        return self.dim if name == "velocity" else 3

    @property
    def n_left(self) -> int:
        return sum(self.size(s) for s in self.left_sets)

    @property
    def n_right(self) -> int:
        return sum(self.size(s) for s in self.right_sets)

    def slices(self) -> tuple[dict[str, slice], dict[str, slice]]:
        """Index ranges of each operator set in the left and right stacks."""
        out = []
        for sets in (self.left_sets, self.right_sets):
            start, ranges = 0, {}
            for name in sets:
                ranges[name] = slice(start, start + self.size(name))
                start += self.size(name)
            out.append(ranges)
        return out[0], out[1]


def operator_layout(dim: int, blocks: tuple[str, ...] | None = None) -> OperatorLayout:
    """The layout for ``blocks`` (default: all of BLOCKS), in BLOCKS order."""
    chosen = tuple(BLOCKS) if blocks is None else tuple(b for b in BLOCKS if b in set(blocks))
    left = tuple(s for s in LEFT_SETS if any(BLOCKS[b][0] == s for b in chosen))
    right = tuple(s for s in RIGHT_SETS if any(BLOCKS[b][1] == s for b in chosen))
    return OperatorLayout(int(dim), chosen, left, right)


def operator_slices(dim: int) -> tuple[dict[str, slice], dict[str, slice]]:
    """Index ranges of each operator set in the full left and right operator stacks."""
    return operator_layout(dim).slices()


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

    def __init__(
        self,
        model: BlochModel,
        m: np.ndarray,
        energies: np.ndarray,
        eta: float,
        layout: OperatorLayout | None = None,
    ) -> None:
        self.model, self.m, self.energies, self.eta = model, m, np.asarray(energies), eta
        self.layout = operator_layout(int(model.dim)) if layout is None else layout
        n = int(model.n_bands)
        n_ops = self.layout.n_left * self.layout.n_right
        # floats held per k point: kernels (2 nE N^2 complex) + weighted pairs (3 n_ops N^2 complex)
        self.width = 4 * n * n * (len(self.energies) + 3 * n_ops)

    def _eigendata(self, k: np.ndarray):
        return eigendata(self.model, k, self.m, self.layout)

    def __call__(self, k: np.ndarray) -> np.ndarray:
        dens = response_density(self._eigendata(k), self.energies, self.eta)
        return dens.reshape(len(k), -1)

    def weighted_sums(self, k: np.ndarray, weights: np.ndarray) -> np.ndarray:
        flat = k.reshape(-1, k.shape[-1])
        sums = weighted_response(self._eigendata(flat), self.energies, self.eta, weights)
        return sums.reshape(*weights.shape[0:1], weights.shape[2], -1)


def block_tolerance(value: np.ndarray, layout: OperatorLayout | int, rtol: float) -> np.ndarray:
    """Absolute tolerance per component: rtol x (largest |entry| of the block at that energy).

    ``value`` has shape (nE, 2, nL, nR) in ``layout`` (an int: the full layout of that
    dimension). Sea and surface share the block's scale, so a part that is small compared with
    the other is accurate to rtol of the block, not of itself. Left-right pairs outside the
    requested blocks (computed as by-products) get an infinite tolerance.
    """
    if not isinstance(layout, OperatorLayout):
        layout = operator_layout(layout)
    left, right = layout.slices()
    overall = np.max(np.abs(value), axis=(1, 2, 3), keepdims=True)[:, 0]  # (nE, 1, 1)
    tol = np.full(value.shape, np.inf)
    for lname, rname in (BLOCKS[b] for b in layout.blocks):
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

    Bands are sampled on 32 rays (radii uniform plus geometric towards the centre, where Fermi
    momenta usually are); each crossing is then located by two regula-falsi steps. Around each
    crossing radius r_F (min and max over the rays) breakpoints are put at r_F and
    r_F +- w x GRADED_OFFSETS, w = eta / |de/dr| (the Lorentzian width in k). Breakpoints closer
    than MIN_CELL_WIDTHS x w are merged, so a dense energy scan gives cells of about that width
    across the range its Fermi momenta cover. A contour far from circular about the centre is
    only bracketed (the 2-D refinement follows it).
    """
    n_ray = 32
    # radii per ray: fewer for many-band models, whose diagonalisations dominate here (the
    # regula-falsi steps restore the accuracy of each crossing)
    n_lin, n_geo = (160, 240) if model.n_bands <= 4 else (64, 96)
    r = np.unique(
        np.concatenate([np.linspace(0.0, r_max, n_lin), r_max * np.geomspace(1e-4, 1.0, n_geo)])
    )
    phi = 2 * np.pi * (np.arange(n_ray) + 0.5) / n_ray
    direction = np.stack([np.cos(phi), np.sin(phi)], -1)
    k = center + (r[None, :, None] * direction[:, None, :]).reshape(-1, 2)
    bands = band_energies(model.hamiltonian(k, m)).reshape(n_ray, len(r), -1)
    levels = np.unique(np.asarray(energies, dtype=float))

    def band_on_rays(band: int, ray: np.ndarray, radius: np.ndarray) -> np.ndarray:
        points = center + radius[:, None] * direction[ray]
        return band_energies(model.hamiltonian(points, m))[:, band]

    found = []
    for band in range(bands.shape[2]):
        lev, ray, idx, _ = _crossings(bands[:, :, band], levels)
        width = np.zeros(0)
        if len(lev):
            bracket = [r[idx], r[idx + 1], bands[ray, idx, band], bands[ray, idx + 1, band]]
            r_cross, slope = _regula_falsi(
                bracket, levels[lev], functools.partial(band_on_rays, band, ray)
            )
            width = np.clip(eta / np.maximum(slope, 1e-12), 1e-9 * r_max, 0.02 * r_max)
        else:
            r_cross = np.zeros(0)
        # thin rings around band extrema that fall between the samples
        hidden = _hidden_crossings(r, bands[:, :, band], levels, eta, r_max)
        lev, ray = np.concatenate([lev, hidden[0]]), np.concatenate([ray, hidden[1]])
        r_cross, width = np.concatenate([r_cross, hidden[2]]), np.concatenate([width, hidden[3]])
        if len(lev):
            found.append(_contour_radii(lev, ray, r_cross, width))
    if not found:
        return np.zeros(0)
    points, widths, rank = (np.concatenate([f[i] for f in found]) for i in range(3))
    keep = (points > 0) & (points < r_max)
    order = np.argsort(points[keep])
    return _thin(points[keep][order], MIN_CELL_WIDTHS * widths[keep][order], rank[keep][order])


def _hidden_crossings(
    r: np.ndarray, band: np.ndarray, levels: np.ndarray, eta: float, r_max: float
) -> tuple[np.ndarray, ...]:
    """Crossings near a band extremum between samples, where no sample crosses the level.

    At each sampled local minimum (maximum) along a ray the parabola through it and its two
    neighbours gives the extremum; a level between the sampled and the parabolic extremum is
    crossed twice between the samples, at the parabola's roots (a narrow annulus, e.g. near the
    bottom of a Rashba band). Returns level index, ray, radius and Lorentzian width per crossing.
    """
    e0, e1, e2 = band[:, :-2], band[:, 1:-1], band[:, 2:]
    r0, r1, r2 = r[:-2], r[1:-1], r[2:]
    extremum = (e1 - e0) * (e2 - e1) < 0
    ray, i = np.nonzero(extremum)
    empty = (np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0))
    if len(ray) == 0:
        return empty
    # parabola e = a (x - x*)^2 + e* through the three samples
    x0, x1, x2 = r0[i], r1[i], r2[i]
    f0, f1, f2 = e0[ray, i], e1[ray, i], e2[ray, i]
    d01, d12 = (f1 - f0) / (x1 - x0), (f2 - f1) / (x2 - x1)
    a = (d12 - d01) / (x2 - x0)
    a = np.where(a == 0, np.finfo(float).tiny, a)
    x_star = 0.5 * (x0 + x1) - d01 / (2 * a)
    e_star = f1 - a * (x1 - x_star) ** 2
    lo, hi = np.minimum(e_star, f1), np.maximum(e_star, f1)
    first = np.searchsorted(levels, lo, side="right")
    stop = np.searchsorted(levels, hi, side="left")
    count = np.maximum(stop - first, 0)
    if count.sum() == 0:
        return empty
    which = np.repeat(np.arange(len(ray)), count)
    lev = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + first[which]
    offset = np.sqrt(np.abs((levels[lev] - e_star[which]) / a[which]))
    slope = np.maximum(2 * np.abs(a[which]) * offset, 1e-12)
    width = np.clip(eta / slope, 1e-9 * r_max, 0.02 * r_max)
    radius = np.concatenate([x_star[which] - offset, x_star[which] + offset])
    return (
        np.tile(lev, 2),
        np.tile(ray[which], 2),
        np.clip(radius, 0.0, r_max),
        np.tile(width, 2),
    )


def _regula_falsi(
    bracket: list[np.ndarray], level: np.ndarray, energy: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Two regula-falsi steps on brackets [r0, r1] with energies e0, e1 around ``level``.

    Returns the crossing radii and |de/dr| on the final brackets.
    """
    r0, r1, e0, e1 = (np.array(x, dtype=float) for x in bracket)
    for _ in range(2):
        den = e1 - e0
        t = np.clip((level - e0) / np.where(den == 0, 1.0, den), 0.0, 1.0)
        rc = r0 + t * (r1 - r0)
        ec = energy(rc)
        left = (ec - level) * (e0 - level) > 0  # the root is in [rc, r1]
        r0, e0 = np.where(left, rc, r0), np.where(left, ec, e0)
        r1, e1 = np.where(left, r1, rc), np.where(left, e1, ec)
    den = e1 - e0
    t = np.clip((level - e0) / np.where(den == 0, 1.0, den), 0.0, 1.0)
    slope = np.abs(den) / np.maximum(r1 - r0, np.finfo(float).tiny)
    return r0 + t * (r1 - r0), slope


def _crossings(band: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every (level, ray, segment) where a band sampled on rays crosses a sorted level.

    Cost ~ segments + crossings: each segment [e_i, e_i+1] takes the levels in its range.
    Returns level index, ray, segment index and the fraction t of the segment.
    """
    e0, e1 = band[:, :-1].ravel(), band[:, 1:].ravel()
    first = np.searchsorted(levels, np.minimum(e0, e1), side="left")
    stop = np.searchsorted(levels, np.maximum(e0, e1), side="right")
    count = np.maximum(stop - first, 0)
    seg = np.repeat(np.arange(len(e0)), count)
    lev = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + first[seg]
    den = e1[seg] - e0[seg]
    t = (levels[lev] - e0[seg]) / np.where(den == 0, 1.0, den)
    ray, idx = np.divmod(seg, band.shape[1] - 1)
    return lev, ray, idx, np.clip(t, 0.0, 1.0)


def _contour_radii(
    lev: np.ndarray, ray: np.ndarray, r_cross: np.ndarray, width: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Breakpoints, their local widths and ranks (1: Fermi momentum, 0: graded point) from the
    crossings (level index, ray, radius, Lorentzian width) of one band on the rays.

    Crossings are grouped into branches: the j-th crossing of a level along each ray (the inner
    and the outer circle of an annular Fermi sea are two branches, not one distorted contour).
    """
    order = np.lexsort((r_cross, ray, lev))
    lev, ray, r_cross, width = lev[order], ray[order], r_cross[order], width[order]
    start = np.flatnonzero(np.r_[True, (lev[1:] != lev[:-1]) | (ray[1:] != ray[:-1])])
    branch = np.arange(len(lev)) - np.repeat(start, np.diff(np.r_[start, len(lev)]))
    order = np.lexsort((r_cross, branch, lev))  # by level, branch, then radius
    lev, branch, r_cross, width = lev[order], branch[order], r_cross[order], width[order]
    first = np.flatnonzero(np.r_[True, (lev[1:] != lev[:-1]) | (branch[1:] != branch[:-1])])
    last = np.r_[first[1:] - 1, len(lev) - 1]
    r_lo, r_hi, w_lo, w_hi = r_cross[first], r_cross[last], width[first], width[last]
    circular = r_hi - r_lo <= 2 * np.maximum(w_lo, w_hi)
    offsets = np.concatenate([[0.0], -GRADED_OFFSETS, GRADED_OFFSETS])
    rings = np.concatenate([r_lo[circular], r_hi[circular]])
    ring_w = np.concatenate([w_lo[circular], w_hi[circular]])
    graded = (rings[:, None] + ring_w[:, None] * offsets).ravel()
    graded_w = np.repeat(ring_w, len(offsets))
    graded_rank = np.tile(offsets == 0, len(rings)).astype(float)
    # a contour far from circular about the centre: rings of width ~BRACKET_RING_WIDTHS x w across
    # its radial range, so that the ridge is inside a resolved ring at every angle (the 2-D
    # refinement then only has to follow it in the angle)
    brackets, bracket_w = [], []
    for lo, hi, w0, w1 in zip(
        r_lo[~circular], r_hi[~circular], w_lo[~circular], w_hi[~circular], strict=True
    ):
        w = min(w0, w1)
        count = int(min(np.ceil((hi - lo + 2 * w) / (BRACKET_RING_WIDTHS * w)), MAX_BRACKET_RINGS))
        brackets.append(np.linspace(lo - w, hi + w, count + 1))
        bracket_w.append(np.full(count + 1, 0.5 * (hi - lo + 2 * w) / count / MIN_CELL_WIDTHS))
    brackets = np.concatenate(brackets) if brackets else np.zeros(0)
    bracket_w = np.concatenate(bracket_w) if bracket_w else np.zeros(0)
    return (
        np.concatenate([graded, brackets]),
        np.concatenate([graded_w, bracket_w]),
        np.concatenate([graded_rank, np.ones(len(brackets))]),
    )


def _thin(points: np.ndarray, spacing: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Merge sorted points closer than the smaller of their ``spacing``: of two such points the
    one of higher rank is kept (a Fermi momentum over a graded point), else the first."""
    kept: list[list[float]] = []
    for p, sp, rk in zip(points, spacing, rank, strict=True):
        if kept and p - kept[-1][0] < (1 - 1e-9) * min(sp, kept[-1][1]):
            if rk > kept[-1][2]:
                kept[-1] = [p, sp, rk]
            continue
        kept.append([p, sp, rk])
    return np.array([k[0] for k in kept])


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
    blocks: tuple[str, ...] | None = None,
) -> RawResponse:
    """The response blocks (default all of BLOCKS) at every (T, EF): one k integral over all
    needed T = 0 energies."""
    layout = operator_layout(int(model.dim), blocks)
    shape = (layout.n_left, layout.n_right)
    grids = [thermal_grid(ef, float(t), eta, rtol) for t in temperatures]
    energies = np.concatenate([g.energies for g in grids])
    n_e = len(energies)

    integrand = ResponseIntegrand(model, m, energies, eta, layout)

    def tolerance(flat: np.ndarray) -> np.ndarray:
        return block_tolerance(flat.reshape(n_e, 2, *shape), layout, rtol).ravel()

    integrator = make_integrator(model, m, energies, eta, integrand, max_points=max_points)
    # one BLAS thread: the k sums are many mid-sized matrix products, which OpenBLAS threads
    # slow down (x4 measured on 2 cores); parallelism belongs to the sweep executors
    with _blas_controller().limit(limits=1):
        result: IntegrationResult = integrator.integrate(tolerance)
    value = result.value.reshape(n_e, 2, *shape)
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

    left, right = layout.slices()
    out, errors = {}, {}
    for name in layout.blocks:
        lname, rname = BLOCKS[name]
        out[name] = total[..., left[lname], right[rname]]
        errors[name] = total_err[..., left[lname], right[rname]]
    tol = np.stack([block_tolerance(t, layout, 1.0) for t in total])  # block scales
    rel = float(np.max(total_err / np.maximum(tol, np.finfo(float).tiny)))
    converged = result.converged and rel <= rtol * (1 + 1e-9)
    return RawResponse(out, errors, converged, result.n_points, result.n_panels, rel)
