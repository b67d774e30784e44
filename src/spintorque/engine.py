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
from .integrate.contours import FermiCurves, fermi_curves, nested_windows
from .integrate.curves import BreakCurves
from .integrate.disk import ComponentGroups, DiskIntegrator, IntegrationResult
from .integrate.heap import retain_freed_memory
from .integrate.rules import ProductWeights
from .integrate.thermal import thermal_grid
from .kernels import LEFT_SETS, RIGHT_SETS, eigendata, weighted_response
from .models.base import BlochModel, BrillouinZone, Disk
from .operator_basis import BasisMismatch, OperatorBasis, find_operator_basis

# block name -> (left operator set, right operator set)
BLOCKS: dict[str, tuple[str, str]] = {
    "spin_exchange": ("spin", "exchange"),
    "spin_force": ("spin", "velocity"),
    "current_force": ("velocity", "velocity"),
    "current_exchange": ("velocity", "exchange"),
    "exchange_exchange": ("exchange", "exchange"),
    "exchange_force": ("exchange", "velocity"),
}
# floor of each block's scale, relative to the largest entry of all blocks at that energy: a
# block that vanishes by symmetry is pure quadrature error, whose absolute size is that of the
# other blocks' errors; a smaller floor asks it for more than they achieve, and the integral
# never converges once the mesh does not keep the symmetry exactly (the inversion-symmetric
# 4-band model of tests/test_response.py with tilted m: no convergence in 4.7 M k points at
# 1e-9; at 1e-4, 6-51 k points for rtol 1e-4 to 1e-9)
TOLERANCE_FLOOR = 1e-4


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The process's BLAS thread pools, inspected once (threadpool_limits costs ~0.5 ms a call)."""
    return ThreadpoolController()


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
    exhausted : the budgets ("max_points", "max_memory") that stopped an unconverged integral.
    """

    blocks: dict[str, np.ndarray]
    errors: dict[str, np.ndarray]
    converged: bool
    n_points: int
    n_panels: int
    relative_error: float
    exhausted: tuple[str, ...] = ()


class ResponseIntegrand:
    """The response density of every block at every energy as a k integrand.

    Callable on k points (Nk, dim) -> (Nk, C) values, and ``weighted_sums`` for quadrature
    batches (the fast path: one matrix product per batch). C = 2 x nL x nR x nE, in that order
    (the energy last: the layout of the products; see :func:`energy_first`). With ``smearing``
    (n_out, nE) the outputs are those combinations of the levels (thermal smearing applied to
    the kernels at each k point) and nE in C is n_out. With a ``basis`` that drops operators
    (multiples of others, see :mod:`~.operator_basis`), nL and nR count its basis operators
    and :meth:`OperatorBasis.expand` gives the layout's blocks.
    """

    def __init__(
        self,
        model: BlochModel,
        m: np.ndarray,
        energies: np.ndarray,
        eta: float,
        layout: OperatorLayout | None = None,
        smearing: np.ndarray | None = None,
        basis: OperatorBasis | None = None,
    ) -> None:
        self.model, self.m, self.energies, self.eta = model, m, np.asarray(energies), eta
        self.smearing = smearing
        self.layout = operator_layout(int(model.dim)) if layout is None else layout
        self.basis = basis if basis is not None and basis.compresses else None
        if self.basis is None:
            n_left, n_right = self.layout.n_left, self.layout.n_right
        else:
            n_left, n_right = len(self.basis.left_basis), len(self.basis.right_basis)
        n = int(model.n_bands)
        n_ops = n_left * n_right
        # floats held per k point: kernels (2 nE N^2 complex) + weighted pairs (3 n_ops N^2
        # complex) + the per-radial-node sums of product rules (n_ops nE per >= 8 angles)
        n_e = len(self.energies)
        self.width = 4 * n * n * (n_e + 3 * n_ops) + n_ops * n_e // 8
        n_out = len(self.energies) if smearing is None else len(smearing)
        self.shape = (2, n_left, n_right, n_out)
        if self.basis is not None:
            # each basis pair at one energy, both parts: its tolerance is the smallest that its
            # multiples in the blocks ask for (OperatorBasis.reduce_tolerance)
            self.groups = ComponentGroups((2, n_ops * n_out), ((slice(None),),))
            return
        # components sharing one tolerance (block_tolerance): a block at one energy, both parts
        left, right = self.layout.slices()
        self.groups = ComponentGroups(
            self.shape,
            tuple(
                (slice(None), left[lname], right[rname])
                for lname, rname in (BLOCKS[b] for b in self.layout.blocks)
            ),
        )

    def _eigendata(self, k: np.ndarray):
        return eigendata(self.model, k, self.m, self.layout, self.basis)

    def __call__(self, k: np.ndarray) -> np.ndarray:
        ones = np.ones((len(k), 1, 1))
        dens = weighted_response(
            self._eigendata(k), self.energies, self.eta, ones, smearing=self.smearing
        )
        return dens.reshape(len(k), -1)

    # the disk integrator may pass its rules as ProductWeights (see weighted_response)
    product_weights = True

    def weighted_sums(
        self, k: np.ndarray, weights: np.ndarray | ProductWeights, angles: int = 1
    ) -> np.ndarray:
        """(P, nw, C) sums for batches k (P, Q, dim); ``angles``: see weighted_response."""
        return self.weighted_sums_batches([(k, weights, angles)])[0]

    def weighted_sums_batches(self, jobs: list[tuple]) -> list[np.ndarray]:
        """:meth:`weighted_sums` for several (k, weights, angles) at once: one
        diagonalisation for all their points (the per-call work of a small evaluation)."""
        sizes = [len(k) * k.shape[1] for k, _, _ in jobs]
        eig = self._eigendata(np.concatenate([k.reshape(-1, k.shape[-1]) for k, _, _ in jobs]))
        out, start = [], 0
        for (k, weights, angles), size in zip(jobs, sizes, strict=True):
            part = eig.take(slice(start, start + size))
            sums = weighted_response(part, self.energies, self.eta, weights, angles, self.smearing)
            out.append(sums.reshape(len(k), sums.shape[1], -1))
            start += size
        return out

    def energy_first(self, flat: np.ndarray) -> np.ndarray:
        """Components C (in this integrand's order) as an array (nE, 2, nL, nR)."""
        return np.moveaxis(flat.reshape(self.shape), -1, 0)

    def from_energy_first(self, value: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`energy_first`: (nE, 2, nL, nR) -> flat C."""
        return np.moveaxis(value, 0, -1).ravel()

    def blocks(self, flat: np.ndarray, magnitude: bool = False) -> np.ndarray:
        """Components C as the layout's blocks (nE, 2, nL, nR) (expanded from the basis;
        ``magnitude``: error estimates, scaled by |c_a c_b|)."""
        value = self.energy_first(flat)
        return value if self.basis is None else self.basis.expand(value, magnitude)

    def tolerance(self, flat: np.ndarray, rtol: float) -> np.ndarray:
        """Absolute tolerance of each component C (:func:`block_tolerance` of the blocks)."""
        tol = block_tolerance(self.blocks(flat), self.layout, rtol)
        if self.basis is not None:
            tol = self.basis.reduce_tolerance(tol)
        return self.from_energy_first(tol)


def block_tolerance(value: np.ndarray, layout: OperatorLayout | int, rtol: float) -> np.ndarray:
    """Absolute tolerance per component: rtol x (largest |entry| of the block at that energy).

    ``value`` has shape (nE, 2, nL, nR) in ``layout`` (an int: the full layout of that
    dimension). Sea and surface share the block's scale, so a part that is small compared with
    the other is accurate to rtol of the block, not of itself. A block's scale is at least
    TOLERANCE_FLOOR x the largest entry of all blocks at that energy (a block that vanishes by
    symmetry, or is that much smaller than the others, is accurate to rtol x that floor).
    Left-right pairs outside the requested blocks (computed as by-products) get an infinite
    tolerance.
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


def disk_geometry(model: BlochModel, m: np.ndarray) -> tuple[float, np.ndarray, float]:
    """(cutoff, polar centre k0, r_max) of a continuum model: k0 is the band centre unless it
    lies beyond half the cutoff (then 0), r_max the radius of the circle about k0 inside the
    disk."""
    cutoff = model.k_domain.cutoff
    center = np.asarray(model.band_center(m), dtype=float)
    if np.hypot(*center) >= 0.5 * cutoff:  # the integrator then uses polar coordinates about 0
        center = np.zeros(2)
    return cutoff, center, cutoff - float(np.hypot(*center))


def make_integrator(
    model: BlochModel,
    m: np.ndarray,
    energies: np.ndarray,
    eta: float,
    integrand: Callable[[np.ndarray], np.ndarray],
    *,
    max_points: int,
    curves: FermiCurves | None = None,
    rtol: float = 1e-6,
    max_memory: int | None = None,
) -> DiskIntegrator:
    """The k integrator for the model's domain; it exposes ``integrate(tolerance)``.
    ``curves``: the energies' Fermi curves if already computed (continuum models); ``rtol``:
    the tolerance it will be asked for (sets the layers of a dense scan)."""
    if isinstance(model.k_domain, Disk):
        cutoff, center, r_max = disk_geometry(model, m)
        if curves is None:
            curves = fermi_curves(model, m, energies, eta, r_max, center)
        breaks = curves.breaks(r_max, rtol)
        return DiskIntegrator(
            integrand,
            cutoff=cutoff,
            center=center,
            radial_breaks=breaks,
            # layers with a contour or a graded midline inside use GK31
            ridges=BreakCurves.concat([curves.ridges(breaks), curves.graded_midlines(rtol)]),
            max_points=max_points,
            max_memory=max_memory,
        )
    if isinstance(model.k_domain, BrillouinZone):
        return lattice_integrator(
            model, m, energies, eta, integrand, max_points=max_points, max_memory=max_memory
        )
    raise NotImplementedError(
        f"no k integrator for domain {type(model.k_domain).__name__}; continuum (Disk) models only"
    )


def level_windows(
    model: BlochModel, m: np.ndarray, energies: np.ndarray, eta: float
) -> list[tuple[np.ndarray, FermiCurves | None]]:
    """Groups of ``energies`` (indices) that share one k integral, with their Fermi curves: on
    a continuum model, the levels whose Fermi contours nest
    (:func:`~.integrate.contours.nested_windows`); else all, without curves."""
    if not isinstance(model.k_domain, Disk):
        return [(np.arange(len(energies)), None)]
    _, center, r_max = disk_geometry(model, m)
    curves = fermi_curves(model, m, energies, eta, r_max, center)
    return [
        (window, curves.of_levels(energies[window])) for window in nested_windows(curves, energies)
    ]


def integrate_levels(
    model: BlochModel,
    m: np.ndarray,
    energies: np.ndarray,
    eta: float,
    layout: OperatorLayout,
    rtol: float,
    max_points: int,
    curves: FermiCurves | None = None,
    max_memory: int | None = None,
    smearing: np.ndarray | None = None,
    mesh: tuple[np.ndarray, float] | None = None,
    basis: OperatorBasis | None = None,
) -> tuple[np.ndarray, np.ndarray, IntegrationResult]:
    """One k integral for the T = 0 ``energies``: value and error (nE, 2, nL, nR) and the
    integrator's result (statistics). ``curves``: their Fermi curves, if computed;
    ``max_memory``: the integrator's memory budget in bytes (None: its default).
    ``smearing`` (n_out, nE): integrate these combinations of the levels instead (value and
    error (n_out, 2, nL, nR)); ``mesh``: (levels, width) the k mesh is built for, instead of
    (energies, eta); ``basis``: integrate only its basis operators (:mod:`~.operator_basis`)."""
    integrand = ResponseIntegrand(model, m, energies, eta, layout, smearing, basis)
    mesh_levels, mesh_eta = (energies, eta) if mesh is None else mesh

    def tolerance(flat: np.ndarray) -> np.ndarray:
        return integrand.tolerance(flat, rtol)

    integrator = make_integrator(
        model,
        m,
        mesh_levels,
        mesh_eta,
        integrand,
        max_points=max_points,
        curves=curves,
        rtol=rtol,
        max_memory=max_memory,
    )
    # one BLAS thread: the k sums are many mid-sized matrix products, which OpenBLAS threads
    # slow down (x4 measured on 2 cores); parallelism belongs to the sweep executors
    with _blas_controller().limit(limits=1):
        result: IntegrationResult = integrator.integrate(tolerance)
    return integrand.blocks(result.value), integrand.blocks(result.error, magnitude=True), result


# finite T with nested contours: thermal smearing applied to the kernels before the k sum
# (measured 1.3-4x faster on Dirac points, T lists and scans at T ~ eta-2 eta; with contours
# that cross between levels the grouped T = 0 route is kept: there every k point of the smeared
# route carries all levels' kernels, 1.7-3.5x slower on Rashba with tilted m)
SMEAR_BEFORE_K_SUM = True


def _block_scales(values: np.ndarray, layout: OperatorLayout) -> np.ndarray:
    """Each entry's block scale (its block's largest |entry|), 0 outside the blocks;
    ``values`` (..., 2, nL, nR)."""
    flat = values.reshape(-1, *values.shape[-3:])
    scale = block_tolerance(flat, layout, 1.0)
    return np.where(np.isfinite(scale), scale, 0.0).reshape(values.shape)


def _smeared_integral(grid, temperature, ef, eta, layout, integrate):
    """Value and error (nmu, 2, nL, nR) of one temperature from the smeared kernels: the k
    mesh follows contours every width eta + pi T across the energy grid and at each mu (the
    smeared integrand is analytic in that strip), and each k point carries the grid's
    :meth:`~.integrate.thermal.ThermalGrid.outputs` only."""
    width = eta + np.pi * temperature
    span = grid.energies[: len(grid.energies) - 2 * grid.n_probes]
    mesh_levels = np.union1d(np.arange(span[0], span[-1] + width, width), ef)
    value, error = integrate(grid.energies, smearing=grid.outputs(), mesh=(mesh_levels, width))
    n_mu = len(ef)
    fine, coarse, bounds = np.split(value, [n_mu, 2 * n_mu])
    # k errors of both rules + the rule's own error + the grid's truncation, bounded with each
    # block's scale at the bound levels (a small entry may grow beyond the grid)
    err = error[:n_mu] + error[n_mu : 2 * n_mu] + np.abs(fine - coarse)
    err += grid.truncation_error(_block_scales(bounds, layout).reshape(2, -1, *value.shape[1:]))
    return fine, err


def compute_blocks(
    model: BlochModel,
    ef: np.ndarray,
    eta: float,
    m: np.ndarray,
    temperatures: np.ndarray,
    rtol: float,
    *,
    max_points: int = 20_000_000,
    blocks: tuple[str, ...] | None = None,
    max_memory: int | None = None,
) -> RawResponse:
    """The response blocks (default all of BLOCKS) at every (T, EF). T = 0: k integrals over
    the Fermi levels, one per group of levels whose Fermi contours nest (:func:`level_windows`;
    one group for circular contours). T > 0, when the contours of the energy grid's levels
    nest: one k integral of the thermally smeared kernels (:func:`_smeared_integral`); else
    the grid's levels as at T = 0, smeared after the k integrals."""
    retain_freed_memory()  # temporaries reused, not faulted in again (see integrate.heap)
    layout = operator_layout(int(model.dim), blocks)
    # operators that are multiples of others are not integrated (see operator_basis)
    basis = find_operator_basis(model, m, layout)
    grids = [thermal_grid(ef, float(t), eta, rtol) for t in temperatures]
    stats = {"n_points": 0, "n_panels": 0, "converged": True, "exhausted": set()}

    def integrate(energies, curves=None, smearing=None, mesh=None):
        nonlocal basis

        def run():
            return integrate_levels(
                model,
                m,
                energies,
                eta,
                layout,
                rtol,
                max_points - stats["n_points"],
                curves,
                max_memory,
                smearing,
                mesh,
                basis,
            )

        try:
            value, error, result = run()
        except BasisMismatch:  # a relation of the samples fails at an evaluated k point:
            basis = None  # every operator, for this integral and the rest
            value, error, result = run()
        stats["n_points"] += result.n_points
        stats["n_panels"] += result.n_panels
        stats["converged"] &= result.converged
        stats["exhausted"] |= {result.exhausted} - {""}
        return value, error

    shape = (len(ef), 2, layout.n_left, layout.n_right)
    # T = 0: the levels themselves, all zero-temperature grids in one set of windows
    exact = [g for g in grids if g.exact]
    if exact:
        levels = np.concatenate([g.energies for g in exact])
        zero_value = np.empty((len(levels), *shape[1:]))
        zero_error = np.empty_like(zero_value)
        for window, curves in level_windows(model, m, levels, eta):
            zero_value[window], zero_error[window] = integrate(levels[window], curves)
    smeared, smeared_err = [], []
    n_mu, n_exact = len(ef), 0
    for grid, temperature in zip(grids, temperatures, strict=True):
        if grid.exact:
            sl = slice(n_exact * n_mu, (n_exact + 1) * n_mu)
            n_exact += 1
            smeared.append(zero_value[sl])
            smeared_err.append(zero_error[sl])
            continue
        windows = level_windows(model, m, grid.energies, eta)
        if len(windows) == 1 and SMEAR_BEFORE_K_SUM:
            fine, err = _smeared_integral(grid, float(temperature), ef, eta, layout, integrate)
        else:  # contours that cross between levels: T = 0 integrals per group, smeared after
            value = np.empty((len(grid.energies), *shape[1:]))
            error = np.empty_like(value)
            for window, curves in windows:
                value[window], error[window] = integrate(grid.energies[window], curves)
            fine = np.einsum("me,epab->mpab", grid.weights, value)
            coarse = np.einsum("me,epab->mpab", grid.coarse_weights, value)
            err = np.einsum("me,epab->mpab", np.abs(grid.weights), error) + np.abs(fine - coarse)
            err += grid.truncation_error(_block_scales(value[grid.bound_levels], layout))
        smeared.append(fine)
        smeared_err.append(err)
    n_points, n_panels = stats["n_points"], stats["n_panels"]
    integrals_converged, exhausted = stats["converged"], stats["exhausted"]
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
    converged = integrals_converged and rel <= rtol * (1 + 1e-9)
    return RawResponse(out, errors, converged, n_points, n_panels, rel, tuple(sorted(exhausted)))
