"""Closed curves about the polar centre that bound the radial panels of the disk integrator.

A curve is r = b(phi), given by its radii on N_RAYS rays phi_i = 2 pi (i + 1/2) / N_RAYS and
evaluated anywhere as their trigonometric interpolant truncated to harmonics below BAND_LIMIT;
a circle has equal radii. Panels between
two curves use the radial coordinate u in [0, 1], r = b_lo(phi) + u (b_hi(phi) - b_lo(phi)), so
a curve that follows a Fermi contour keeps the Lorentzian ridge at a fixed u at every angle
(the mapping is exact whatever the curves are; following the contour only makes it cheap).
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass

import numpy as np

N_RAYS = 32
PHI0 = np.pi / N_RAYS  # angle of the first ray
CHECK_ANGLES = 4 * N_RAYS  # nesting of curves is checked on this many angles
# harmonics kept from the ray samples: a curve with harmonics up to the rays' Nyquist order
# puts strong integrand harmonics at multiples of the ring's trapezoid count, which the nested
# trapezoid subsets cannot see (measured: up to 3.6x underestimates on 48 random cases, though
# with 40% fewer points); band-limited curves follow the contour to within the tail that
# fermi_curves requires to be small (RESOLVED_TAIL x w)
BAND_LIMIT = N_RAYS // 4
HARMONICS = np.arange(BAND_LIMIT)


def ray_angles() -> np.ndarray:
    """The N_RAYS ray angles on which curves are sampled."""
    return PHI0 + 2 * np.pi * np.arange(N_RAYS) / N_RAYS


def on_common_grid(*curves: BreakCurves) -> tuple[np.ndarray, ...]:
    """Radii of each set of curves on the same angles: :meth:`BreakCurves.on_grid`, or one
    angle when every curve is a circle (comparisons of whole curves then need only that)."""
    if all(c.circular.all() for c in curves):
        return tuple(c.radii[:, :1] for c in curves)
    return tuple(c.on_grid() for c in curves)


@dataclass(frozen=True)
class BreakCurves:
    """Curves r = b_j(phi), as radii (J, N_RAYS) on the rays :func:`ray_angles`."""

    radii: np.ndarray

    @staticmethod
    def circles(radii: np.ndarray) -> BreakCurves:
        r = np.asarray(radii, dtype=float).reshape(-1)
        return BreakCurves(np.repeat(r[:, None], N_RAYS, axis=1))

    @staticmethod
    def concat(parts: list[BreakCurves]) -> BreakCurves:
        return BreakCurves(np.concatenate([p.radii for p in parts]).reshape(-1, N_RAYS))

    def __len__(self) -> int:
        return len(self.radii)

    def take(self, index: np.ndarray) -> BreakCurves:
        return BreakCurves(self.radii[index])

    @functools.cached_property
    def circular(self) -> np.ndarray:
        """(J,) True where a curve is a circle."""
        return np.ptp(self.radii, axis=1) == 0

    @functools.cached_property
    def coefficients(self) -> np.ndarray:
        """(J, BAND_LIMIT) complex c_n with b(phi) = Re sum_n c_n exp(i n (phi - PHI0)): the
        trigonometric interpolant of the ray samples, without harmonics from BAND_LIMIT on."""
        c = np.fft.rfft(self.radii, axis=1)[:, :BAND_LIMIT] / N_RAYS
        c[:, 1:] *= 2
        return c

    def at(self, phi: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Radii (P, nA) of curves ``index`` (P,) at angles phi, (nA,) shared or (P, nA)."""
        index = np.asarray(index)
        shape = (len(index), phi.shape[-1])
        if np.all(self.circular[index]):
            return np.broadcast_to(self.radii[index, :1], shape)
        harmonics = np.exp(1j * np.multiply.outer(phi - PHI0, HARMONICS))
        coef = self.coefficients[index]
        if phi.ndim == 1:
            return (coef @ harmonics.T).real
        return np.einsum("pak,pk->pa", harmonics, coef).real

    def on_grid(self) -> np.ndarray:
        """Radii (J, CHECK_ANGLES) of every curve on a uniform grid of angles."""
        phi = 2 * np.pi * np.arange(CHECK_ANGLES) / CHECK_ANGLES
        return self.at(phi, np.arange(len(self)))

    def tail(self) -> np.ndarray:
        """(J,) size of the ray samples' harmonics from BAND_LIMIT on: how far the band-limited
        curve may miss them (and how well 32 rays resolve the contour)."""
        c = np.fft.rfft(self.radii, axis=1) / N_RAYS
        return 2 * np.abs(c[:, BAND_LIMIT:]).sum(axis=1)


def nest(
    curves: BreakCurves, widths: BreakCurves, priority: np.ndarray, r_max: float
) -> BreakCurves:
    """The curves, by decreasing priority, that keep a nested set inside (0, r_max).

    A curve is kept when, at every angle of a fine grid, it lies at least min(w, w') (its own and
    its neighbour's width, interpolated like the radii) from its neighbours in mean radius, and
    strictly inside the disk. Ties go to the first curve. Returns the kept curves, innermost first.
    """
    radius, width = curves.on_grid(), widths.on_grid()
    width = np.maximum(width, widths.radii.min(axis=1, keepdims=True))  # no dips between rays
    mean = radius.mean(axis=1)
    margin = 1e-9 * r_max
    kept: list[int] = []
    kept_mean: list[float] = []
    for c in np.lexsort((np.arange(len(mean)), -np.asarray(priority))):
        if radius[c].min() <= margin or radius[c].max() >= r_max - margin:
            continue
        pos = bisect.bisect(kept_mean, mean[c])
        clear = True
        for nb, sign in ((pos - 1, 1.0), (pos, -1.0)):
            if 0 <= nb < len(kept):
                other = kept[nb]
                need = np.maximum((1 - 1e-9) * np.minimum(width[c], width[other]), margin)
                clear &= bool(np.all(sign * (radius[c] - radius[other]) >= need))
        if clear:
            kept.insert(pos, int(c))
            kept_mean.insert(pos, float(mean[c]))
    return curves.take(np.array(kept, dtype=int))
