"""Adaptive k integration over the continuum disk |k| <= cutoff, in polar coordinates.

Coordinates follow the Fermi surface: polar about the model's band centre k0 (the band-touching
point), radial panels between break curves r = b(phi) that run along the Fermi contours
(circles for circular contours, interpolated curves otherwise, see :mod:`~.curves`), graded
down to the Lorentzian width eta/v there. Between two curves the radial coordinate is u in
[0, 1], r = b_lo(phi) + u (b_hi(phi) - b_lo(phi)), so the Lorentzian ridge sits at a fixed u at
every angle. A cell is a u interval of one layer times either the full circle or an angular
sector. Radially a cell carries a 15-point Gauss-Kronrod rule with its embedded G7 and 5-point
rules, or, in a layer with a Fermi contour inside (``ridges``: the contours of a dense energy
scan between the break curves, which are then a few Lorentzian widths apart; and, at small
rtol, the graded layers 2-8 widths from a contour), the 31-point rule with its G15 and
13-point rules: it resolves a ridge anywhere in a cell 2-4.5 widths wide (depending on rtol),
where the 15-point rule needs cells of one width (see :data:`~.rules.GK31`). Each rule also
carries an odd null rule, so that the estimate does not vanish where |K - G| passes through
zero (:mod:`~.rules`). A full-ring cell
uses the periodic trapezoid rule with n_phi angles, spectrally accurate for smooth periodic
integrands and nested (its n_phi/2 and n_phi/4 subsets); the error of each direction comes from
the embedded rules as in :func:`~.rules.scaled_error`. When a ring needs more than
``SPLIT_ANGLES`` angles (``SPLIT_ANGLES_FOLLOWING`` next to a curve that follows a Fermi
contour) its angular structure is local (a contour that could not be followed, a pocket) and
the ring is cut into sectors with a GK15 rule in the angle, which are then bisected where
needed. All flagged cells of an iteration are refined and evaluated in one vectorised batch,
until every output component c meets err[c] <= tol[c].

If k0 != 0 the disk is split into the region inside the circle of radius r1 = cutoff - |k0|
about k0 and the rest, parametrised by u in [0, 1] as r = r1 + u (R(phi) - r1), with R(phi) the
distance from k0 to the circle |k| = cutoff along phi.

The measure is d^2k / (2 pi)^2 (SPEC.md sec. 2).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from .budget import default_memory_budget
from .curves import BreakCurves, on_common_grid
from .rules import GK15, GK31, GK_NODES, GK_RULES, ProductWeights, rate_factor, trapezoid_rules

INNER, OUTER = 0, 1
MEASURE = 1.0 / (4.0 * np.pi**2)
# a ring that needs more angles than this is cut into sectors: between circles, and in a layer
# bounded by a curve that follows a Fermi contour (whose angular structure is smooth)
SPLIT_ANGLES = 32
SPLIT_ANGLES_FOLLOWING = 128
FOLLOWING_N_PHI = 16  # first angles of a ring next to a curve
N_SECTORS = 8
OUTER_CELLS = 1  # first mesh of the region between the circle about k0 and the cutoff
GEOMETRIC_CELLS = 5  # first mesh: this many geometric radial cells from r1 / 1000 to r1
SECTOR = 0  # n_phi value marking a GK15 sector cell
RADIAL_RULES = (GK15, GK31)  # a cell's ``rule`` indexes this
RULE_RESOLVED = np.array([rule.resolved for rule in RADIAL_RULES])
N_WEIGHT_SETS = 5  # rules per ring cell (a sector: one more); see DiskIntegrator._weights
# floats held at once while evaluating (64 MB): chunks this small keep each temporary below
# glibc's 32 MiB mmap threshold (see .heap), so it is not faulted in afresh on every call;
# measured 1.35-1.4x faster than 240 MB chunks on Rashba and eps0 41-level scans at rtol 1e-6
# (25 000 -> 600 page faults a call), neutral on DiracSurface
CHUNK_FLOATS = 8_000_000


@dataclass(frozen=True)
class IntegrationResult:
    """Value and error estimate of a vector-valued integral.

    value, error : arrays of the integrand's output shape. converged : every component met its
    tolerance. n_points : integrand evaluations. n_panels, iterations : adaptive statistics.
    exhausted : the budget that stopped an unconverged integral ("max_points", "max_memory"),
    else "".
    """

    value: np.ndarray
    error: np.ndarray
    converged: bool
    n_points: int
    n_panels: int
    iterations: int
    exhausted: str = ""


@dataclass(frozen=True)
class ComponentGroups:
    """Output components that share one tolerance, for the integrator's per-cell bookkeeping.

    The components, reshaped to ``shape``, form len(selections) x shape[-1] groups: for each
    selection (an index over shape[:-1]) and each index of the last axis, the selected entries.
    Example: the response integrand, shape (part, nL, nR, nE), one selection per block: a
    group is one block at one energy, both parts. Components outside every selection must have
    an infinite tolerance. The integrator then keeps per cell only the largest difference of
    each group (the refinement scores and rates need no more), instead of one per component.
    """

    shape: tuple[int, ...]
    selections: tuple[tuple[slice, ...], ...]

    def max(self, x: np.ndarray) -> np.ndarray:
        """(..., C) -> (..., G): the largest entry of each group. The component axis is split
        into ``shape`` (a view, whatever the leading axes' strides) and reduced per selection
        (the last axis stays contiguous)."""
        lead = x.ndim - 1
        v = x.reshape(*x.shape[:-1], *self.shape)
        axes = tuple(range(lead, v.ndim - 1))
        index = (slice(None),) * lead
        return np.concatenate([v[(*index, *sel)].max(axis=axes) for sel in self.selections], -1)


class _Each:
    """Every component its own group (the default)."""

    @staticmethod
    def max(x: np.ndarray) -> np.ndarray:
        return x


@dataclass
class _Cells:
    kind: np.ndarray  # INNER or OUTER
    layer: np.ndarray  # INNER: between break curves layer and layer + 1
    a: np.ndarray  # radial interval in u (r = lo(phi) + u (hi(phi) - lo(phi)))
    b: np.ndarray
    p0: np.ndarray  # angular interval (sectors only)
    p1: np.ndarray
    n_phi: np.ndarray  # trapezoid angles of a full ring, or SECTOR
    rule: np.ndarray  # radial rule: index into RADIAL_RULES
    row: np.ndarray | None = None  # (P,) the cell's row in the _Store
    # largest over each component group (P, G): |Q|, |Q - radial high|, |Q - radial low|,
    # |Q - angular high|
    size: np.ndarray | None = None
    hi: np.ndarray | None = None
    lo: np.ndarray | None = None
    ang: np.ndarray | None = None

    def take(self, mask: np.ndarray) -> _Cells:
        return _Cells(
            *(None if (x := getattr(self, f.name)) is None else x[mask] for f in fields(self))
        )

    @staticmethod
    def concat(parts: list[_Cells]) -> _Cells:
        columns = ([getattr(p, f.name) for p in parts] for f in fields(_Cells))
        return _Cells(
            *(None if any(c is None for c in col) else np.concatenate(col) for col in columns)
        )


class _Store:
    """Per-component value Q, |Q - radial high| and |Q - angular high| of every evaluated cell,
    as row chunks (one per evaluated batch). Refined cells stay until more than half the rows
    are dead; sums over the live cells are weighted matrix-vector products, so no (cells x
    components) array is copied per iteration."""

    def __init__(self) -> None:
        self.chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.n_rows = 0

    def append(self, value: np.ndarray, d_hi: np.ndarray, d_ang: np.ndarray) -> np.ndarray:
        self.chunks.append((value, d_hi, d_ang))
        self.n_rows += len(value)
        return np.arange(self.n_rows - len(value), self.n_rows)

    def weighted_sum(self, which: int, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """sum over ``rows`` of weights x array ``which`` (0 value, 1 d_hi, 2 d_ang)."""
        full = np.zeros(self.n_rows)
        full[rows] = weights
        total, start = 0.0, 0
        for chunk in self.chunks:
            part = chunk[which]
            total = total + full[start : start + len(part)] @ part
            start += len(part)
        return total

    @property
    def row_bytes(self) -> int:
        """Bytes held per stored row (0 before the first chunk): the arrays of a chunk may be
        views of a larger evaluation buffer, which stays alive with them."""
        if not self.chunks:
            return 0
        bases = {id(b): b.nbytes for b in map(_owner, self.chunks[0])}
        return sum(bases.values()) // len(self.chunks[0][0])

    def compact(self, rows: np.ndarray) -> np.ndarray:
        """Keep only ``rows`` if they are under half of the stored rows; their new indices.
        Rows are gathered chunk by chunk (the live rows are copied once, not the whole store)."""
        if 2 * len(rows) > self.n_rows:
            return rows
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        pieces: list[list[np.ndarray]] = [[], [], []]
        start = 0
        for chunk in self.chunks:
            stop = start + len(chunk[0])
            lo, hi = np.searchsorted(sorted_rows, [start, stop])
            for i in range(3):
                pieces[i].append(chunk[i][sorted_rows[lo:hi] - start])
            start = stop
        self.chunks, self.n_rows = [], 0
        new = self.append(*(np.concatenate(p) for p in pieces))
        out = np.empty_like(new)
        out[order] = new
        return out


def _owner(x: np.ndarray) -> np.ndarray:
    """The array that owns the memory of ``x`` (x itself unless it is a view)."""
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x


def _as_curves(curves: np.ndarray | BreakCurves | None) -> BreakCurves:
    """Curves as given, or circles of the given radii (none for None)."""
    if isinstance(curves, BreakCurves):
        return curves
    return BreakCurves.circles(np.zeros(0) if curves is None else np.asarray(curves, float))


def _angular_rules(cells: _Cells, n_phi: int) -> tuple[np.ndarray, np.ndarray]:
    """Angles (P, nA) and the angular rule with its two embedded rules (P, 3, nA); a sector's
    GK15 rule also with its odd null rule (P, 4, nA)."""
    count = len(cells.a)
    if n_phi == SECTOR:
        half = 0.5 * (cells.p1 - cells.p0)
        phi = 0.5 * (cells.p0 + cells.p1)[:, None] + half[:, None] * GK_NODES
        return phi, np.vstack([GK_RULES, GK15.null])[None] * half[:, None, None]
    phi = np.broadcast_to(2 * np.pi * np.arange(n_phi) / n_phi, (count, n_phi))
    return phi, np.broadcast_to(trapezoid_rules(n_phi), (count, 3, n_phi))


class DiskIntegrator:
    """Adaptive integral of f(k) over |k| <= cutoff with the measure d^2k/(2pi)^2.

    Parameters
    ----------
    integrand : object with ``weighted_sums(k, weights, angles) -> (P, nw, C)`` for k of shape
        (P, Q, 2) and weights (P, Q, nw) (sums over each batch of Q points of weight x f(k);
        each batch is Q / angles radial nodes x ``angles`` angles, radial-major), and an
        int attribute ``width``: the number of floats held per k point while evaluating
        (bounds memory through ``chunk_size``). An integrand with ``product_weights = True``
        gets the weights as a :class:`~.rules.ProductWeights` instead of an array.
    cutoff : disk radius.  center : polar origin k0 (|k0| < cutoff / 2, else 0 is used).
    radial_breaks : radii about k0, or nested :class:`~.curves.BreakCurves` r = b(phi) about
        k0, where panels must start/end (Fermi contours, graded meshes); those inside r1 are
        used, and the integrator adds a geometric default mesh of circles.
    ridges : radii or curves about k0 inside layers that need the GK31 radial rule (Fermi
        contours that are not break curves, and the midlines of graded layers at small rtol,
        see :meth:`~.contours.FermiCurves.graded_midlines`); a layer with one inside (at every
        angle) uses it.
    n_phi : initial number of angles per ring (power of two, >= 8).
    max_points : evaluation budget; on exhaustion the result is returned with converged=False.
    max_memory : bytes the stored cells may take (default: half the physical memory,
        see :mod:`~.budget`); a refinement that would exceed it is not evaluated and the result
        is returned with converged=False.
    chunk_size : maximum number of floats held at once while evaluating (memory bound).
    """

    def __init__(
        self,
        integrand: object,
        *,
        cutoff: float,
        center: np.ndarray | None = None,
        radial_breaks: np.ndarray | BreakCurves | None = None,
        ridges: np.ndarray | BreakCurves | None = None,
        n_phi: int = 8,
        max_points: int = 20_000_000,
        max_memory: int | None = None,
        chunk_size: int = CHUNK_FLOATS,
    ) -> None:
        self.integrand = integrand
        self.cutoff = float(cutoff)
        self.center = np.zeros(2) if center is None else np.asarray(center, dtype=float)
        if float(np.hypot(*self.center)) >= 0.5 * self.cutoff:
            self.center = np.zeros(2)
        self.c_norm = float(np.hypot(*self.center))
        self.r1 = self.cutoff - self.c_norm
        self.radial_breaks = _as_curves(radial_breaks)
        self.bounds = self._layer_bounds()
        self.layer_rules = self._layer_rules(_as_curves(ridges))
        self.n_phi = int(n_phi)
        self.max_points = int(max_points)
        self.max_memory = default_memory_budget() if max_memory is None else int(max_memory)
        self.chunk_size = int(chunk_size)
        self.n_points = 0

    # --- geometry ---
    def _outer_radius(self, phi: np.ndarray) -> np.ndarray:
        """Distance from k0 to the circle |k| = cutoff along direction phi."""
        proj = self.center[0] * np.cos(phi) + self.center[1] * np.sin(phi)
        return -proj + np.sqrt(self.cutoff**2 - self.c_norm**2 + proj**2)

    def _layer_bounds(self) -> BreakCurves:
        """Nested curves from 0 to r1: the given ones inside r1 plus a geometric mesh of circles
        (dropping circles within 30% of their radius of a given curve, and slivers)."""
        r1 = self.r1
        given = self.radial_breaks
        (grid,) = on_common_grid(given)
        inside = (grid.min(axis=1) > 0) & (grid.max(axis=1) < r1)
        given, grid = given.take(inside), grid[inside]
        geometric = r1 * np.geomspace(1e-3, 1.0, GEOMETRIC_CELLS)[:-1]
        if len(grid):  # no slivers: drop geometric circles close to a given curve
            gap = np.min(np.abs(geometric[:, None, None] - grid[None]), axis=(1, 2))
            geometric = geometric[gap > 0.3 * geometric]
        curves = BreakCurves.concat(
            [BreakCurves.circles([0.0]), given, BreakCurves.circles(geometric)]
        )
        (grid,) = on_common_grid(curves)
        kept = [0]
        for j in np.argsort(grid.mean(axis=1), kind="stable")[1:]:
            if np.min(grid[j] - grid[kept[-1]]) > 1e-12 * r1:
                kept.append(int(j))
        if np.max(grid[kept[-1]]) > r1 * (1 - 1e-12) and len(kept) > 1:
            kept.pop()
        return BreakCurves.concat([curves.take(np.array(kept)), BreakCurves.circles([r1])])

    def _layer_rules(self, ridges: BreakCurves) -> np.ndarray:
        """(layers,) radial rule of each layer: GK31 where a ridge lies inside at every angle."""
        rules = np.zeros(len(self.bounds) - 1, dtype=int)
        if len(ridges):
            bounds, ridge = on_common_grid(self.bounds, ridges)
            above = np.all(ridge[None] > bounds[:-1, None], axis=2)  # (layers, ridges)
            below = np.all(ridge[None] < bounds[1:, None], axis=2)
            rules[np.any(above & below, axis=1)] = 1
        return rules

    def initial_cells(self) -> _Cells:
        """One full ring per layer between break curves (and the outer region)."""
        n_layers = len(self.bounds) - 1
        kind, layer = np.full(n_layers, INNER), np.arange(n_layers)
        a, b = np.zeros(n_layers), np.ones(n_layers)
        if self.c_norm > 0:
            outer = np.linspace(0.0, 1.0, OUTER_CELLS + 1)
            kind = np.concatenate([kind, np.full(OUTER_CELLS, OUTER)])
            layer = np.concatenate([layer, np.full(OUTER_CELLS, -1)])
            a, b = np.concatenate([a, outer[:-1]]), np.concatenate([b, outer[1:]])
        zeros = np.zeros(len(a))
        rule = np.where(kind == INNER, self.layer_rules[layer], 0)
        cells = _Cells(
            kind, layer, a, b, zeros, zeros + 2 * np.pi, np.full(len(a), self.n_phi), rule
        )
        # next to a curve: more angles from the start (the curve's harmonics make the angular
        # spectrum less regular, and the n/2 subset cannot see the n-th harmonic)
        cells.n_phi[self._following(cells)] = max(self.n_phi, FOLLOWING_N_PHI)
        return cells

    def _points(self, cells: _Cells, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """k points (P, Q, nA, 2) and the Jacobian r dr/du (P, Q, nA) of cells that share a
        radial rule of Q nodes."""
        half = 0.5 * (cells.b - cells.a)
        nodes = RADIAL_RULES[cells.rule[0]].nodes
        u = (0.5 * (cells.a + cells.b)[:, None] + half[:, None] * nodes)[:, :, None]
        if cells.kind[0] == INNER:
            angles = phi if cells.n_phi[0] == SECTOR else phi[0]
            lo = self.bounds.at(angles, cells.layer)
            span = self.bounds.at(angles, cells.layer + 1) - lo
        else:
            lo = np.full(phi.shape, self.r1)
            span = self._outer_radius(phi) - self.r1
        r = lo[:, None, :] + u * span[:, None, :]
        jac = r * span[:, None, :]
        phi = phi[:, None, :]
        k = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=-1) + self.center
        return k, jac

    def _weights(self, cells: _Cells, jac: np.ndarray, ang_rules: np.ndarray) -> ProductWeights:
        """The rules radial x angular, in difference form: (K, full), (K - G, full),
        (K - L, full), (K, full - embedded high), (odd null, full), and in sectors
        (K, odd null): N_WEIGHT_SETS sets, one more in sectors. The sums of sets 1-3 are the
        differences Q - Q_embedded themselves (formed once per rule, not by cancelling two
        sums per component). Only the ring error uses the L rule (see integrate)."""
        half = 0.5 * (cells.b - cells.a)
        radial = RADIAL_RULES[cells.rule[0]]
        k, g, low = radial.weights
        rad = np.vstack([k, k - g, k - low, radial.null])
        angular = ang_rules.copy()  # K, high, low[, null] -> K, K - high, K - low[, null]
        angular[:, 1:3] = ang_rules[:, :1] - ang_rules[:, 1:3]
        sector = len(ang_rules[0]) == 4
        return ProductWeights(
            radial=rad[None] * (MEASURE * half)[:, None, None],
            angular=angular,
            jac=jac,
            rad_index=(0, 1, 2, 0, 3) + (0,) * sector,
            ang_index=(0, 0, 0, 1, 0) + (3,) * sector,
        )

    def _evaluate(self, cells: _Cells) -> _Cells:
        """Evaluate cells, grouped by (kind, angular rule, radial rule) and chunked to bound
        memory; store their per-component sums and set their per-group statistics. An
        integrand with ``weighted_sums_batches`` gets consecutive chunks of different groups
        in one call (while their points fit in ``chunk_size``), to share per-call work."""
        n_cells = len(cells.a)
        width = getattr(self.integrand, "width", 1)
        product = getattr(self.integrand, "product_weights", False)
        jobs = []  # (cells, k (P, Q nA, 2), weights, angles, number of sets)
        kinds = np.stack([cells.kind, cells.n_phi, cells.rule], axis=1)
        for kd, nph, rule in np.unique(kinds, axis=0):
            idx = np.flatnonzero(np.all(kinds == (kd, nph, rule), axis=1))
            n_ang = 15 if nph == SECTOR else int(nph)
            points = len(RADIAL_RULES[rule]) * n_ang
            per_chunk = max(1, self.chunk_size // (points * width))
            for start in range(0, len(idx), per_chunk):
                sel = idx[start : start + per_chunk]
                group = cells.take(sel)
                phi, ang_rules = _angular_rules(group, int(nph))
                k, jac = self._points(group, phi)
                rules = self._weights(group, jac, ang_rules)
                # points at one radial node of an INNER cell share |k - k0|
                angles = n_ang if kd == INNER else 1
                weights = rules if product else rules.full()
                jobs.append((sel, k.reshape(len(sel), -1, 2), weights, angles, rules.n_sets))
        for batch in self._batches(jobs, width):
            if len(batch) > 1:
                results = self.integrand.weighted_sums_batches([job[1:4] for job in batch])
            else:
                sel, k, weights, angles, _ = batch[0]
                results = [self.integrand.weighted_sums(k, weights, angles=angles)]
            for (sel, k, _, _, n_sets), sums in zip(batch, results, strict=True):
                self.n_points += k.shape[0] * k.shape[1]
                self._record(cells, sel, np.asarray(sums).reshape(len(sel), n_sets, -1), n_cells)
        return cells

    def _batches(self, jobs: list, width: int) -> list[list]:
        """Consecutive jobs joined while their points fit in chunk_size (only for integrands
        with ``weighted_sums_batches``; else one job per call)."""
        if not hasattr(self.integrand, "weighted_sums_batches"):
            return [[job] for job in jobs]
        batches, size = [], 0
        for job in jobs:
            points = job[1].shape[0] * job[1].shape[1]
            if batches and size + points * width <= self.chunk_size:
                batches[-1].append(job)
                size += points * width
            else:
                batches.append([job])
                size = points * width
        return batches

    def _record(self, cells: _Cells, sel: np.ndarray, sums: np.ndarray, n_cells: int) -> None:
        """Store the sums (P, nw, C) of cells ``sel`` (rule order of :meth:`_weights`) and set
        their per-group statistics (allocated for all ``n_cells`` on the first call)."""
        # in place: rows 1-3 (the differences Q - radial high, Q - radial low, Q - angular
        # high) become their moduli, then row 1 the radial d_hi = max(|Q - radial high|,
        # |radial odd null|) and, in a sector, row 3 the angular one with the angular null rule
        np.abs(sums[:, 1:4], out=sums[:, 1:4])
        for row, null in ((1, 4), (3, 5))[: sums.shape[1] - N_WEIGHT_SETS + 1]:
            np.maximum(sums[:, row], np.abs(sums[:, null]), out=sums[:, row])
        sums = sums[:, :4]
        diffs = self.groups.max(sums[:, 1:])  # (P, 3, G)
        stats = [self.groups.max(np.abs(sums[:, 0])), diffs[:, 0], diffs[:, 1], diffs[:, 2]]
        if cells.row is None:
            cells.row = np.empty(n_cells, dtype=int)
            cells.size, cells.hi, cells.lo, cells.ang = (
                np.empty((n_cells, stats[0].shape[1])) for _ in range(4)
            )
        for name, stat in zip(("size", "hi", "lo", "ang"), stats, strict=True):
            getattr(cells, name)[sel] = stat
        cells.row[sel] = self.store.append(sums[:, 0], sums[:, 1], sums[:, 3])

    def _following(self, cells: _Cells) -> np.ndarray:
        """(P,) True for cells in a layer bounded by a curve that is not a circle."""
        inner = cells.kind == INNER
        layer = np.where(inner, cells.layer, 0)
        circles = self.bounds.circular
        return inner & ~(circles[layer] & circles[layer + 1])

    def _split_angles(self, cells: _Cells) -> np.ndarray:
        """Angles (P,) beyond which each ring is cut into sectors."""
        return np.where(self._following(cells), SPLIT_ANGLES_FOLLOWING, SPLIT_ANGLES)

    def _refine(self, todo: _Cells, radial: np.ndarray) -> _Cells:
        """Children of flagged cells: radial bisection, more angles, sectors, angular bisection."""
        parts = []
        rad = todo.take(radial)
        mid = 0.5 * (rad.a + rad.b)
        parts += [
            _Cells(rad.kind, rad.layer, rad.a, mid, rad.p0, rad.p1, rad.n_phi, rad.rule),
            _Cells(rad.kind, rad.layer, mid, rad.b, rad.p0, rad.p1, rad.n_phi, rad.rule),
        ]
        ang = todo.take(~radial)
        ring = ang.n_phi != SECTOR
        split = self._split_angles(ang)
        grow = ang.take(ring & (ang.n_phi < split))
        parts.append(
            _Cells(
                grow.kind, grow.layer, grow.a, grow.b, grow.p0, grow.p1, 2 * grow.n_phi, grow.rule
            )
        )
        cut = ang.take(ring & (ang.n_phi >= split))
        edges = np.linspace(0.0, 2 * np.pi, N_SECTORS + 1)
        for lo, hi in itertools.pairwise(edges):
            ones = np.ones(len(cut.a))
            parts.append(
                _Cells(
                    cut.kind,
                    cut.layer,
                    cut.a,
                    cut.b,
                    lo * ones,
                    hi * ones,
                    np.full(len(cut.a), SECTOR),
                    cut.rule,
                )
            )
        sec = ang.take(~ring)
        pmid = 0.5 * (sec.p0 + sec.p1)
        parts += [
            _Cells(sec.kind, sec.layer, sec.a, sec.b, sec.p0, pmid, sec.n_phi, sec.rule),
            _Cells(sec.kind, sec.layer, sec.a, sec.b, pmid, sec.p1, sec.n_phi, sec.rule),
        ]
        return _Cells.concat(parts)

    # --- driver ---
    def integrate(self, tolerance: Callable[[np.ndarray], np.ndarray]) -> IntegrationResult:
        """Refine until err[c] <= tolerance(value)[c] for every component c, or the budget ends.

        If the integrand has a ``groups`` attribute (:class:`ComponentGroups`), the tolerance
        must be the same for every component of a group (checked: ValueError otherwise).
        """
        self.store = _Store()
        self.groups = getattr(self.integrand, "groups", None) or _Each()
        cells = self._evaluate(self.initial_cells())
        iterations, exhausted = 0, ""
        while True:
            live = np.ones(len(cells.a))
            value = self.store.weighted_sum(0, cells.row, live)
            tol = np.maximum(np.asarray(tolerance(value), dtype=float), np.finfo(float).tiny)
            tol_g = self._group_tolerance(tol)
            # the rate-scaled estimate only for the radial rule of full rings between circles:
            # a trapezoid rule's n/4 subset says little about its rate (a strong low harmonic
            # such as cos 2 phi dominates it); in a sector a Fermi contour crossing the cell
            # obliquely keeps both 1-D rules pre-asymptotic (measured: 3x underestimates);
            # next to an interpolated curve the ridge still moves a little in u with the angle,
            # so the plain estimate is kept there too (48 random non-circular cases: worst
            # deviation / estimate 0.63 this way, 0.87 rate-scaled, for 1% more points)
            ring = (cells.n_phi != SECTOR) & ~self._following(cells)
            hi = np.max(cells.hi / tol_g, axis=1)
            factor = np.where(
                ring,
                rate_factor(
                    hi,
                    np.max(cells.lo / tol_g, axis=1),
                    np.max(cells.size / tol_g, axis=1),
                    RULE_RESOLVED[cells.rule],
                ),
                1.0,
            )
            error = self.store.weighted_sum(1, cells.row, factor) + self.store.weighted_sum(
                2, cells.row, live
            )
            if np.all(error <= tol):
                break
            if self.n_points >= self.max_points:
                exhausted = "max_points"
                break
            iterations += 1
            # per cell: the largest error / tolerance over the components (over the groups)
            score_r = factor * hi
            score_phi = np.max(cells.ang / tol_g, axis=1)
            # every cell above the average budget: refining only the worst few until the rest
            # fits the tolerance takes fewer points but was measured to let mis-estimated cells
            # through (16x underestimates on the warping pockets of tests/test_response.py)
            refine = score_r + score_phi > 0.5 / len(score_r)
            todo = cells.take(refine)
            children = self._refine(todo, score_r[refine] >= score_phi[refine])
            if self._exceeds_memory(len(children.a), cells):
                exhausted = "max_memory"
                break
            new = self._evaluate(children)
            cells = _Cells.concat([cells.take(~refine), new])
            cells.row = self.store.compact(cells.row)
        return IntegrationResult(
            value=value,
            error=error,
            converged=bool(np.all(error <= tol)),
            n_points=self.n_points,
            n_panels=len(cells.a),
            iterations=iterations,
            exhausted=exhausted,
        )

    def _exceeds_memory(self, n_new: int, cells: _Cells) -> bool:
        """Whether storing ``n_new`` more cells (sums and per-group statistics) next to the
        rows already stored would exceed max_memory."""
        per_cell = self.store.row_bytes + 4 * cells.size.shape[1] * cells.size.itemsize
        return (self.store.n_rows + n_new) * per_cell > self.max_memory

    def _group_tolerance(self, tol: np.ndarray) -> np.ndarray:
        """(G,) the tolerance of each component group (which must be uniform within it)."""
        tol_g = self.groups.max(tol[None])[0]
        low = -self.groups.max(-tol[None])[0]
        if np.any(low != tol_g):
            worst = int(np.argmax(tol_g - low))
            raise ValueError(
                f"the tolerance differs within component group {worst} "
                f"({low[worst]:.3g} to {tol_g[worst]:.3g}); the integrand's groups must "
                "collect components that share one tolerance"
            )
        return tol_g
