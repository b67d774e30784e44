"""Fermi contours of a continuum model, located on rays about the band centre, and the radial
breakpoint curves of the k mesh that they imply (used by :func:`spintorque.engine.make_integrator`).

The disk integrator works in polar coordinates about the band centre k0. Its first mesh puts
radial breakpoints at every Fermi momentum of every band and level, with cells graded down to
the Lorentzian width w = eta / |de/dk| around it, so that the first evaluation already sees the
Fermi-surface structure; the adaptive refinement does the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from ..kernels import band_energies, isotropic_energies
from ..models.base import BlochModel
from .curves import N_RAYS, BreakCurves, nest, ray_angles

# first-mesh breakpoints about each Fermi momentum: r_F +- w x these (w = eta / |de/dk|)
GRADED_OFFSETS = np.array([2.0, 8.0, 32.0])
# below GK31_GRADED_RTOL the graded layers 2-8 widths from a contour use the GK31 radial rule:
# with GK15 the first evaluation of a 6-width cell 2 widths from a squared Lorentzian estimates
# 3e-5 of its value (the 5-point rule is 5% off: rate not trusted), GK31 2e-16; a single Dirac
# point at rtol 1e-6 then converges on its first mesh (1 576 k points instead of 1 320 and a
# refinement to 2 280); survey of 6 continuum models x 2 m at rtol 1e-6: 8 of 12 cases take
# 4-33% fewer points, 2 take 6-9% more; at rtol 1e-4 GK15's first mesh passes and GK31 there
# would add 11-28%
GK31_GRADED_OFFSET = 5.0
GK31_GRADED_RTOL = 1e-5
# ... and breakpoints closer than this many widths w are merged
MIN_CELL_WIDTHS = 1.0
# ... except Fermi contours of different levels (a dense scan), merged below a few widths:
# the contours between the kept ones are ridges inside their layers, which then use the GK31
# radial rule (disk.RADIAL_RULES); graded curves of a level are dropped where another level's
# contour is nearer than their offset. (smallest rtol, widths): the widest spacing that the
# GK31 estimate certifies at that rtol wherever the ridge lies (estimate / value for a squared
# Lorentzian: 4e-5 at 4.5 widths, 4e-7 at 4, 8e-9 at 3.5 and 3, 9e-12 at 2.5, 1e-13 at 2;
# tests/test_rules.py), checked on a 200-level Dirac scan, k points at rtol 1e-4 / 1e-6 / 1e-8 /
# 1e-10: 3200 / 4536 / 5752 / 8048 this way; 5760 / 6720 / 7440 / - with GK15 layers one width
# apart (benchmarks/dense_scans.py); one step wider than these, the first evaluation no longer
# passes and the refinement costs more (e.g. 9128 at 1e-7 with 4 widths)
DENSE_CELL_WIDTHS = ((1e-5, 4.5), (1e-7, 3.5), (1e-8, 3.0), (1e-9, 2.5), (0.0, 2.0))
# rings of this many widths w, at most MAX_BRACKET_RINGS, across a non-circular contour
BRACKET_RING_WIDTHS = 2.0
MAX_BRACKET_RINGS = 64
# follow non-circular contours with interpolated curves (False: brackets of circles, the
# baseline of benchmarks/noncircular_contours.py)
FOLLOW_CONTOURS = True
# a contour is followed when its harmonics from BAND_LIMIT on (dropped from the curve) add up
# to less than this x w
RESOLVED_TAIL = 0.25
# a branch whose radii on the rays stay within this x w is circular (circles at its smallest
# and largest radius); a wider one is followed by a curve. At 2 w the ridge moved up to 2 w
# inside one layer, which then needed many angles: TI surfaces with eps0 or warping and a
# 4-band formula model took 1.3-6x more k points than at w / 2 (single points and scans);
# Rashba with tilted m takes up to 1.2x more at w / 2 (following layers start with more
# angles); random sweeps (48 single levels, 16 scans): equal totals, same honesty
CIRCULAR_RANGE = 0.5


@dataclass(frozen=True)
class FermiCurves:
    """Every curve that :func:`fermi_curves` finds, before merging: radii (J, N_RAYS)
    about the polar centre on the rays, Lorentzian widths (J, N_RAYS), priorities (J,) (3: a
    Fermi contour or a bracket ring across one), the Fermi level (J,) of each curve and its
    offset (J,) from its contour in widths (0: the contour, +-GRADED_OFFSETS: graded curves,
    NaN: bracket rings)."""

    radii: np.ndarray
    widths: np.ndarray
    priority: np.ndarray
    level: np.ndarray
    offset: np.ndarray

    def take(self, keep: np.ndarray) -> FermiCurves:
        return FermiCurves(*(getattr(self, f.name)[keep] for f in fields(self)))

    def of_levels(self, levels: np.ndarray) -> FermiCurves:
        """The curves of the given levels only."""
        return self.take(np.isin(self.level, levels))

    def breaks(self, r_max: float, rtol: float = 1e-6) -> BreakCurves:
        """The nested break curves of the k mesh: circles merged along the radius when all are
        circles, else the nested set kept by priority (:func:`~.curves.nest`). Curves are merged
        below MIN_CELL_WIDTHS x w (:func:`~.curves.nest` and :func:`_thin` keep a pair apart
        by the smaller of their widths). Before that, in a dense scan, Fermi contours nearer
        than :func:`dense_cell_widths` (rtol) x w to a kept contour of another level are
        dropped (they become :meth:`ridges`), and so are graded curves nearer than their
        offset to another level's contour. A single level's curves are all kept."""
        curves = self.take(~self._graded_inside_scan() & ~self._dense_contours(rtol))
        if len(curves.radii) == 0:
            return BreakCurves.circles(np.zeros(0))
        radii, priority = curves.radii, curves.priority
        widths = MIN_CELL_WIDTHS * curves.widths
        if BreakCurves(radii).circular.all():  # circles only: merge along the radius
            points, spacing, rank = radii[:, 0], widths[:, 0], (priority == 3).astype(float)
            keep = (points > 0) & (points < r_max)
            order = np.argsort(points[keep])
            kept = _thin(points[keep][order], spacing[keep][order], rank[keep][order])
            return BreakCurves.circles(kept)
        return nest(BreakCurves(radii), BreakCurves(widths), priority, r_max)

    def ridges(self, breaks: BreakCurves) -> BreakCurves:
        """The Fermi contours merged away from ``breaks`` (a dense scan) that lie more than
        MIN_CELL_WIDTHS x w from every break (closer ones count as on it, as the two circles
        of one slightly off-circular contour)."""
        is_contour = self.offset == 0
        contours, width = BreakCurves(self.radii[is_contour]), self.widths[is_contour].mean(axis=1)
        if len(contours) == 0 or len(breaks) == 0:
            return contours
        # the mean distance over the rays (circles: one ray will do)
        rays = slice(0, 1) if breaks.circular.all() and contours.circular.all() else slice(None)
        gap = np.abs(contours.radii[:, None, rays] - breaks.radii[None, :, rays]).mean(axis=2)
        return contours.take(gap.min(axis=1) > MIN_CELL_WIDTHS * width)

    def graded_midlines(self, rtol: float) -> BreakCurves:
        """Below GK31_GRADED_RTOL, every contour's curves at +-GK31_GRADED_OFFSET widths (inside
        its graded layers 2-8 widths away, which then use the GK31 radial rule), else none."""
        is_contour = self.offset == 0
        contours, widths = self.radii[is_contour], self.widths[is_contour]
        if rtol >= GK31_GRADED_RTOL or len(contours) == 0:
            return BreakCurves(np.zeros((0, self.radii.shape[1])))
        mid = np.concatenate(
            [contours - GK31_GRADED_OFFSET * widths, contours + GK31_GRADED_OFFSET * widths]
        )
        return BreakCurves(mid[mid.min(axis=1) > 0])

    def _dense_contours(self, rtol: float) -> np.ndarray:
        """(J,) True for Fermi contours nearer than dense_cell_widths(rtol) x w (at some ray)
        to the next kept contour inwards, if that is of another level (outwards by mean
        radius, greedy)."""
        drop = np.zeros(len(self.offset), dtype=bool)
        contour = np.flatnonzero(self.offset == 0)
        if len(np.unique(self.level[contour])) < 2:
            return drop
        circles = BreakCurves(self.radii[contour]).circular.all()
        n_rays = 1 if circles else self.radii.shape[1]
        # plain floats per ray (a short loop over up to ~1000 contours)
        radii = self.radii[contour][:, :n_rays].tolist()
        widths = (dense_cell_widths(rtol) * self.widths[contour][:, :n_rays]).tolist()
        level, last = self.level[contour].tolist(), -1
        for c in np.argsort(self.radii[contour].mean(axis=1), kind="stable").tolist():
            if last >= 0 and level[c] != level[last]:
                near = any(
                    abs(a - b) < (1 - 1e-9) * min(wa, wb)
                    for a, b, wa, wb in zip(
                        radii[c], radii[last], widths[c], widths[last], strict=True
                    )
                )
                if near:
                    drop[contour[c]] = True
                    continue
            last = c
        return drop

    def _graded_inside_scan(self) -> np.ndarray:
        """(J,) True for graded curves nearer than their offset to another level's contour (on
        some ray): inside a dense scan, where that contour's ridge already sets the mesh. Only
        the nearest contour on either side is looked at (one of another band of the same level
        in between hides a farther one: the curve is then kept, which costs only points)."""
        graded = np.flatnonzero(np.isfinite(self.offset) & (self.offset != 0))
        contour = np.flatnonzero(self.offset == 0)
        drop = np.zeros(len(self.offset), dtype=bool)
        if len(graded) == 0 or len(contour) == 0:
            return drop
        circles = BreakCurves(self.radii).circular.all()
        radii = self.radii[:, :1] if circles else self.radii  # circles: one ray is enough
        n_rays, n_c = radii.shape[1], len(contour)
        # contours sorted by radius on each ray, the rays laid end to end (one searchsorted)
        stride = 2.0 * float(np.max(np.abs(radii))) + 1.0
        shift = stride * np.arange(n_rays)[:, None]
        order = np.argsort(radii[contour].T, axis=1)  # (rays, C)
        radius = np.take_along_axis(radii[contour].T, order, axis=1)
        level = self.level[contour][order]
        r_g = radii[graded].T  # (rays, G)
        right = np.searchsorted((radius + shift).ravel(), (r_g + shift).ravel()).reshape(r_g.shape)
        right -= n_c * np.arange(n_rays)[:, None]
        reach = (1 - 1e-9) * np.abs(self.offset[graded]) * self.widths[graded, :n_rays].T
        ray = np.arange(n_rays)[:, None]
        for side in (np.minimum(right, n_c - 1), np.maximum(right - 1, 0)):
            near = np.abs(radius[ray, side] - r_g) < reach
            other = level[ray, side] != self.level[graded]
            drop[graded] |= np.any(near & other, axis=0)
        return drop


def dense_cell_widths(rtol: float) -> float:
    """Spacing, in Lorentzian widths, of the Fermi contours kept as breaks in a dense scan."""
    return next(widths for smallest, widths in DENSE_CELL_WIDTHS if rtol >= smallest)


def fermi_curves(
    model: BlochModel,
    m: np.ndarray,
    energies: np.ndarray,
    eta: float,
    r_max: float,
    center: np.ndarray,
) -> FermiCurves:
    """Curves about ``center`` where bands cross the energies, with meshes graded to eta/v;
    :meth:`FermiCurves.breaks` merges them into the nested break curves of the k mesh.

    Bands are sampled on 32 rays (radii uniform plus geometric towards the centre, where Fermi
    momenta usually are; bands that agree on every ray to rounding are searched on one ray and
    their crossings copied to the others); each crossing is located by two regula-falsi steps,
    and thin rings around a band extremum that fall between the samples are found from the
    parabola through the extremum (:func:`_hidden_crossings`). Crossings are grouped into
    branches (the j-th along each ray). Each branch is followed by curves at r_F(phi) and
    r_F(phi) +- w x GRADED_OFFSETS, w = eta / |de/dr| the Lorentzian width in k: circles for a
    branch circular about the centre (min and max radius over the rays within w / 2), else the
    trigonometric interpolant of its crossings (Rashba with in-plane m, warping), so that the
    panels between curves keep the Lorentzian ridge at a fixed radial coordinate. A branch that
    cannot be followed (rays crossing it unequally often, or not resolved by 32 rays) gets rings
    of BRACKET_RING_WIDTHS x w across its radial range (the 2-D refinement follows it in angle).
    Curves closer than MIN_CELL_WIDTHS x w are merged (a Fermi momentum wins; for other curves,
    see :func:`~.curves.nest`), so a dense energy scan gives cells of about w across the range
    its Fermi momenta cover.
    """
    # radii per ray: fewer for many-band models, whose diagonalisations dominate here (the
    # regula-falsi steps restore the accuracy of each crossing)
    n_lin, n_geo = (160, 240) if model.n_bands <= 4 else (64, 96)
    r = np.unique(
        np.concatenate([np.linspace(0.0, r_max, n_lin), r_max * np.geomspace(1e-4, 1.0, n_geo)])
    )
    phi = ray_angles()
    direction = np.stack([np.cos(phi), np.sin(phi)], -1)
    k = center + (r[None, :, None] * direction[:, None, :]).reshape(-1, 2)
    bands = band_energies(model.hamiltonian(k, m)).reshape(N_RAYS, len(r), -1)
    levels = np.unique(np.asarray(energies, dtype=float))
    # bands isotropic about the centre (to rounding): crossings on the first ray, the same on
    # every ray (a dense scan of a Dirac cone: 32x fewer regula-falsi steps)
    on_one_ray = isotropic_energies(bands.swapaxes(0, 1).reshape(-1, bands.shape[2]), N_RAYS, eta)
    isotropic = on_one_ray is not None
    sampled = on_one_ray[None] if isotropic else bands

    def band_on_rays(band: int, ray: np.ndarray, radius: np.ndarray) -> np.ndarray:
        points = center + radius[:, None] * direction[ray]
        return band_energies(model.hamiltonian(points, m))[:, band]

    found = []
    for band in range(bands.shape[2]):
        lev, ray, idx, _ = _crossings(sampled[:, :, band], levels)
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
        hidden = _hidden_crossings(r, sampled[:, :, band], levels, eta, r_max)
        lev, ray = np.concatenate([lev, hidden[0]]), np.concatenate([ray, hidden[1]])
        r_cross, width = np.concatenate([r_cross, hidden[2]]), np.concatenate([width, hidden[3]])
        if isotropic:  # every ray as the first
            lev, r_cross, width = (np.repeat(x, N_RAYS) for x in (lev, r_cross, width))
            ray = np.tile(np.arange(N_RAYS), len(lev) // N_RAYS)
        if len(lev):
            found.append(_contour_curves(lev, ray, r_cross, width))
    if not found:
        empty = np.zeros((0, N_RAYS))
        return FermiCurves(empty, empty, np.zeros(0, int), np.zeros(0), np.zeros(0))
    radii, widths, priority, level, offset = (
        np.concatenate([f[i] for f in found]) for i in range(5)
    )
    return FermiCurves(radii, widths, priority, levels[level], offset)


def nested_windows(curves: FermiCurves, energies: np.ndarray) -> list[np.ndarray]:
    """Indices of ``energies`` in groups (ascending energy) whose Fermi contours nest.

    One k mesh serves all the levels of a group: its break curves must be nested, so when a
    Fermi contour of one level crosses one of another level (two bands off-centre in different
    directions: Rashba with in-plane m, a scan over a band bottom) one of them is dropped and
    its Lorentzian ridge cuts obliquely through the layers of the other, which then need fine
    2-D refinement. Levels are taken in ascending order and a new group starts when a contour
    of the next level crosses a contour already in the group (closeness is fine: curves closer
    than w are merged by design). Circles never cross, so isotropic scans stay one group.
    ``curves``: the :func:`fermi_curves` of (at least) these energies.
    """
    energies = np.asarray(energies, dtype=float)
    levels, inverse = np.unique(energies, return_inverse=True)
    fermi = (curves.priority == 3) & np.isin(curves.level, levels)
    contours = BreakCurves(curves.radii[fermi])
    if contours.circular.all():  # circles never cross (or no contour at all)
        return [np.arange(len(energies))]
    grid = contours.on_grid()
    lo, hi = grid.min(axis=1, initial=np.inf), grid.max(axis=1, initial=-np.inf)
    of_level = np.searchsorted(levels, curves.level[fermi])
    groups: list[list[int]] = []
    members = np.zeros(0, int)  # Fermi curves of the open group
    for index in range(len(levels)):
        new = np.flatnonzero(of_level == index)
        # only curves whose radial ranges overlap can cross (circles never cross circles)
        a, b = np.nonzero((lo[new][:, None] < hi[members]) & (hi[new][:, None] > lo[members]))
        diff = grid[new[a]] - grid[members[b]]
        if not groups or np.any(
            (diff.max(axis=1, initial=0) > 0) & (diff.min(axis=1, initial=0) < 0)
        ):
            groups.append([])
            members = np.zeros(0, int)
        groups[-1].append(index)
        members = np.concatenate([members, new])
    return [np.flatnonzero(np.isin(inverse, g)) for g in groups]


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


def _contour_curves(
    lev: np.ndarray, ray: np.ndarray, r_cross: np.ndarray, width: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Breakpoint curves (J, N_RAYS), their local widths (J, N_RAYS), priorities (J,), level
    indices (J,) and offsets (J,) (see :class:`FermiCurves`) from the crossings (level index,
    ray, radius, Lorentzian width) of one band on the rays.

    Crossings are grouped into branches: the j-th crossing of a level along each ray (the inner
    and the outer circle of an annular Fermi sea are two branches, not one distorted contour).
    A branch is followed by curves r_F(phi) + w x (0, +-GRADED_OFFSETS): circles when it is
    circular about the centre (radial range within w / 2), else its trigonometric interpolant when
    every ray crosses the level equally often and its harmonics from BAND_LIMIT on, which the
    curve drops, stay below RESOLVED_TAIL x w. Any other branch gets rings of
    BRACKET_RING_WIDTHS x w across its radial range.
    Priority: Fermi momenta and brackets 3, graded curves 2, 1, 0 (, -1, ...) by distance.
    """
    order = np.lexsort((r_cross, ray, lev))
    lev, ray, r_cross, width = lev[order], ray[order], r_cross[order], width[order]
    start = np.flatnonzero(np.r_[True, (lev[1:] != lev[:-1]) | (ray[1:] != ray[:-1])])
    count = np.diff(np.r_[start, len(lev)])
    branch = np.arange(len(lev)) - np.repeat(start, count)
    # a level is regular when every ray crosses it equally often
    n_rays_hit = np.bincount(lev[start], minlength=lev.max() + 1)
    c_min = np.full(lev.max() + 1, np.iinfo(int).max)
    np.minimum.at(c_min, lev[start], count)
    c_max = np.zeros(lev.max() + 1, int)
    np.maximum.at(c_max, lev[start], count)
    regular = (n_rays_hit == N_RAYS) & (c_min == c_max)

    # groups (level, branch), their crossings once by radius and once by ray
    by_radius = np.lexsort((r_cross, branch, lev))
    by_ray = np.lexsort((ray, branch, lev))
    lev, branch = lev[by_radius], branch[by_radius]
    first = np.flatnonzero(np.r_[True, (lev[1:] != lev[:-1]) | (branch[1:] != branch[:-1])])
    last = np.r_[first[1:] - 1, len(lev) - 1]
    r_sorted, w_sorted = r_cross[by_radius], width[by_radius]
    r_lo, r_hi, w_lo, w_hi = r_sorted[first], r_sorted[last], w_sorted[first], w_sorted[last]
    w_min = np.minimum.reduceat(w_sorted, first)
    circular = r_hi - r_lo <= CIRCULAR_RANGE * np.maximum(w_lo, w_hi)
    shaped = FOLLOW_CONTOURS & ~circular & regular[lev[first]] & (last - first + 1 == N_RAYS)
    rows = by_ray[first[shaped][:, None] + np.arange(N_RAYS)]  # (shaped groups, ray)
    if len(rows):
        resolved = BreakCurves(r_cross[rows]).tail() <= RESOLVED_TAIL * w_min[shaped]
        rows = rows[resolved]
        shaped[np.flatnonzero(shaped)[~resolved]] = False
    bracket = ~circular & ~shaped

    offsets = np.concatenate([[0.0], -GRADED_OFFSETS, GRADED_OFFSETS])
    # graded curves by distance: 2 for the nearest, then 1, 0, ... (3 marks Fermi contours)
    graded_rank = 2 - np.arange(len(GRADED_OFFSETS))
    priority = np.concatenate([[3], graded_rank, graded_rank])
    # circles at the branch's smallest and largest radius, shaped curves along it
    circles = np.concatenate([r_lo[circular], r_hi[circular]])[:, None]
    circles_w = np.concatenate([w_lo[circular], w_hi[circular]])[:, None]
    centre = np.concatenate([np.repeat(circles, N_RAYS, 1), r_cross[rows]])
    # graded curves parallel to a followed contour, at its narrowest width (the per-ray widths
    # are secant slopes, noisy from ray to ray: curves through them wiggle)
    shaped_w = np.repeat(w_min[shaped][:, None], N_RAYS, 1)
    centre_w = np.concatenate([np.repeat(circles_w, N_RAYS, 1), shaped_w])
    graded = (centre[:, None, :] + centre_w[:, None, :] * offsets[:, None]).reshape(-1, N_RAYS)
    graded_w = np.repeat(centre_w, len(offsets), axis=0)
    graded_priority = np.tile(priority, len(centre))
    # a contour that cannot be followed: rings of ~BRACKET_RING_WIDTHS x w across its radial
    # range, so that the ridge is inside a resolved ring at every angle (the 2-D refinement
    # then only has to follow it in the angle)
    brackets, bracket_w, bracket_lev = [np.zeros(0)], [np.zeros(0)], [np.zeros(0, int)]
    group_lev = lev[first]
    for lo, hi, w, lv in zip(
        r_lo[bracket], r_hi[bracket], w_min[bracket], group_lev[bracket], strict=True
    ):
        n = int(min(np.ceil((hi - lo + 2 * w) / (BRACKET_RING_WIDTHS * w)), MAX_BRACKET_RINGS))
        brackets.append(np.linspace(lo - w, hi + w, n + 1))
        bracket_w.append(np.full(n + 1, 0.5 * (hi - lo + 2 * w) / n / MIN_CELL_WIDTHS))
        bracket_lev.append(np.full(n + 1, lv))
    brackets, bracket_w = np.concatenate(brackets), np.concatenate(bracket_w)
    centre_lev = np.concatenate([group_lev[circular], group_lev[circular], group_lev[shaped]])
    return (
        np.concatenate([graded, np.repeat(brackets[:, None], N_RAYS, 1)]),
        np.concatenate([graded_w, np.repeat(bracket_w[:, None], N_RAYS, 1)]),
        np.concatenate([graded_priority, np.full(len(brackets), 3)]),
        np.concatenate([np.repeat(centre_lev, len(offsets)), *bracket_lev]),
        np.concatenate([np.tile(offsets, len(centre)), np.full(len(brackets), np.nan)]),
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
