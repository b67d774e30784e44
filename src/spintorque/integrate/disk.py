"""Adaptive k integration over the continuum disk |k| <= cutoff, in polar coordinates.

Coordinates follow the Fermi surface: polar about the model's band centre k0 (the band-touching
point), radial panels with breakpoints at the Fermi momenta and panel widths graded down to the
Lorentzian width eta/v there. Each radial panel carries a 15-point Gauss-Kronrod rule in r and a
periodic trapezoid rule with n_phi points in the angle (spectrally accurate for smooth periodic
integrands, and nested: the n_phi/2 subset gives the angular error estimate). The radial error
estimate is |K15 - G7| (conservative). Panels whose error share is too large are bisected (radial
error) or get twice the angles (angular error), all flagged panels of an iteration in one
vectorised batch, until every output component c meets err[c] <= tol[c].

If k0 != 0 the disk is split into the disk of radius r1 = cutoff - |k0| about k0 (polar, exact
circles) and the rest, parametrised by u in [0, 1] as r = r1 + u (R(phi) - r1), with R(phi) the
distance from k0 to the circle |k| = cutoff along phi.

The measure is d^2k / (2 pi)^2 (SPEC.md sec. 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Gauss-Kronrod 15 (nodes on [-1, 1]); the 7-point Gauss nodes are GK_NODES[1::2]
GK_NODES = np.array([
    -0.991455371120812639206854697526329, -0.949107912342758524526189684047851,
    -0.864864423359769072789712788640926, -0.741531185599394439863864773280788,
    -0.586087235467691130294144838258730, -0.405845151377397166906606412076961,
    -0.207784955007898467600689403773245, 0.0,
    0.207784955007898467600689403773245, 0.405845151377397166906606412076961,
    0.586087235467691130294144838258730, 0.741531185599394439863864773280788,
    0.864864423359769072789712788640926, 0.949107912342758524526189684047851,
    0.991455371120812639206854697526329,
])  # fmt: skip
K15_WEIGHTS = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
    0.204432940075298892414161999234649, 0.190350578064785409913256402421014,
    0.169004726639267902826583426598550, 0.140653259715525918745189590510238,
    0.104790010322250183839876322541518, 0.063092092629978553290700663189204,
    0.022935322010529224963732008058970,
])  # fmt: skip
G7_WEIGHTS = np.zeros(15)
G7_WEIGHTS[1::2] = [
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
    0.381830050505118944950369775488975, 0.279705391489276667901467771423780,
    0.129484966168869693270611432679082,
]  # fmt: skip

INNER, OUTER = 0, 1
MEASURE = 1.0 / (4.0 * np.pi**2)


@dataclass(frozen=True)
class IntegrationResult:
    """Value and error estimate of a vector-valued integral.

    value, error : arrays of the integrand's output shape. converged : every component met its
    tolerance. n_points : integrand evaluations. n_panels, iterations : adaptive statistics.
    """

    value: np.ndarray
    error: np.ndarray
    converged: bool
    n_points: int
    n_panels: int
    iterations: int


@dataclass
class _Panels:
    kind: np.ndarray  # INNER or OUTER
    a: np.ndarray
    b: np.ndarray
    n_phi: np.ndarray
    value: np.ndarray  # (P, C)
    err_r: np.ndarray  # (P, C)
    err_phi: np.ndarray  # (P, C)

    def take(self, mask: np.ndarray) -> _Panels:
        return _Panels(*(x[mask] for x in (self.kind, self.a, self.b, self.n_phi, self.value, self.err_r, self.err_phi)))

    @staticmethod
    def concat(parts: list[_Panels]) -> _Panels:
        return _Panels(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                         ("kind", "a", "b", "n_phi", "value", "err_r", "err_phi")))


class DiskIntegrator:
    """Adaptive integral of f(k) over |k| <= cutoff with the measure d^2k/(2pi)^2.

    Parameters
    ----------
    integrand : f(k) with k of shape (Nk, 2) returning a real array (Nk, C).
    cutoff : disk radius.  center : polar origin k0 (|k0| < cutoff).
    radial_breaks : radii about k0 (inside r1) where panels must start/end (Fermi momenta,
        graded meshes); the integrator adds a geometric default mesh.
    n_phi : initial number of angles per panel (power of two, >= 8).
    max_points : evaluation budget; on exhaustion the result is returned with converged=False.
    chunk_size : maximum number of output numbers held at once (memory bound).
    """

    def __init__(
        self,
        integrand: Callable[[np.ndarray], np.ndarray],
        *,
        cutoff: float,
        center: np.ndarray | None = None,
        radial_breaks: np.ndarray | None = None,
        n_phi: int = 16,
        max_points: int = 20_000_000,
        chunk_size: int = 30_000_000,
    ) -> None:
        self.integrand = integrand
        self.cutoff = float(cutoff)
        self.center = np.zeros(2) if center is None else np.asarray(center, dtype=float)
        c_norm = float(np.hypot(*self.center))
        if c_norm >= 0.5 * self.cutoff:
            self.center = np.zeros(2)
            c_norm = 0.0
        self.c_norm = c_norm
        self.r1 = self.cutoff - c_norm
        self.radial_breaks = np.asarray([] if radial_breaks is None else radial_breaks, dtype=float)
        self.n_phi = int(n_phi)
        self.max_points = int(max_points)
        self.chunk_size = int(chunk_size)
        self.n_points = 0

    # --- geometry ---
    def _outer_radius(self, phi: np.ndarray) -> np.ndarray:
        """Distance from k0 to the circle |k| = cutoff along direction phi."""
        proj = self.center[0] * np.cos(phi) + self.center[1] * np.sin(phi)
        return -proj + np.sqrt(self.cutoff**2 - self.c_norm**2 + proj**2)

    def initial_panels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(kind, a, b) of the starting mesh: breakpoints plus a geometric mesh up to r1."""
        r1 = self.r1
        geometric = r1 * np.geomspace(1e-3, 1.0, 16)
        breaks = np.concatenate([[0.0], geometric, self.radial_breaks[(self.radial_breaks > 0) & (self.radial_breaks < r1)]])
        breaks = np.unique(breaks)
        keep = np.concatenate([[True], np.diff(breaks) > 1e-12 * r1])
        breaks = breaks[keep]
        if breaks[-1] < r1 * (1 - 1e-12):
            breaks = np.append(breaks, r1)
        else:
            breaks[-1] = r1
        kind = [INNER] * (len(breaks) - 1)
        a, b = list(breaks[:-1]), list(breaks[1:])
        if self.c_norm > 0:
            outer = np.linspace(0.0, 1.0, 5)
            kind += [OUTER] * 4
            a += list(outer[:-1])
            b += list(outer[1:])
        return np.array(kind), np.array(a), np.array(b)

    # --- evaluation ---
    def _points(self, kind: int, a: np.ndarray, b: np.ndarray, n_phi: int) -> tuple[np.ndarray, np.ndarray]:
        """k points (P*15*n_phi, 2) and their Jacobian (radial half-width x r x outer factor)."""
        half = 0.5 * (b - a)
        s = 0.5 * (a + b)[:, None] + half[:, None] * GK_NODES[None, :]  # (P, 15)
        phi = 2 * np.pi * np.arange(n_phi) / n_phi
        if kind == INNER:
            r = np.broadcast_to(s[:, :, None], (*s.shape, n_phi))
            jac = r * half[:, None, None]
        else:
            span = self._outer_radius(phi) - self.r1  # (n_phi,)
            r = self.r1 + s[:, :, None] * span[None, None, :]
            jac = r * span[None, None, :] * half[:, None, None]
        k = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=-1) + self.center
        return k.reshape(-1, 2), jac

    def _evaluate(self, kind: np.ndarray, a: np.ndarray, b: np.ndarray, n_phi: np.ndarray) -> _Panels:
        """Evaluate panels, grouped by (kind, n_phi) and chunked to bound memory."""
        n = len(a)
        value = err_r = err_phi = None
        for kd in np.unique(kind):
            for nph in np.unique(n_phi[kind == kd]):
                idx = np.flatnonzero((kind == kd) & (n_phi == nph))
                per_panel = 15 * int(nph)
                for start in range(0, len(idx), max(1, self._panels_per_chunk(per_panel))):
                    sel = idx[start : start + max(1, self._panels_per_chunk(per_panel))]
                    k, jac = self._points(int(kd), a[sel], b[sel], int(nph))
                    f = np.asarray(self.integrand(k))
                    self.n_points += len(k)
                    f = f.reshape(len(sel), 15, int(nph), -1) * (jac[..., None] * MEASURE)
                    ang_full = f.sum(axis=2) * (2 * np.pi / nph)  # (p, 15, C)
                    ang_half = f[:, :, ::2].sum(axis=2) * (4 * np.pi / nph)
                    q_k = np.einsum("i,pic->pc", K15_WEIGHTS, ang_full)
                    q_g = np.einsum("i,pic->pc", G7_WEIGHTS, ang_full)
                    q_half = np.einsum("i,pic->pc", K15_WEIGHTS, ang_half)
                    if value is None:
                        ncomp = q_k.shape[1]
                        value, err_r, err_phi = (np.zeros((n, ncomp)) for _ in range(3))
                    value[sel] = q_k
                    err_r[sel] = np.abs(q_k - q_g)
                    err_phi[sel] = np.abs(q_k - q_half)
        return _Panels(kind, a, b, n_phi, value, err_r, err_phi)

    def _panels_per_chunk(self, per_panel: int) -> int:
        ncomp = getattr(self, "_ncomp", 1)
        return max(1, self.chunk_size // (per_panel * ncomp))

    # --- driver ---
    def integrate(self, tolerance: Callable[[np.ndarray], np.ndarray]) -> IntegrationResult:
        """Refine until err[c] <= tolerance(value)[c] for every component c, or the budget ends."""
        kind, a, b = self.initial_panels()
        panels = self._evaluate(kind, a, b, np.full(len(a), self.n_phi))
        self._ncomp = panels.value.shape[1]
        iterations = 0
        while True:
            value = panels.value.sum(axis=0)
            error = (panels.err_r + panels.err_phi).sum(axis=0)
            tol = np.maximum(np.asarray(tolerance(value), dtype=float), np.finfo(float).tiny)
            if np.all(error <= tol) or self.n_points >= self.max_points:
                break
            iterations += 1
            score_r = np.max(panels.err_r / tol, axis=1)
            score_phi = np.max(panels.err_phi / tol, axis=1)
            score = score_r + score_phi
            refine = score > 0.5 / len(score)
            fixed = panels.take(~refine)
            todo = panels.take(refine)
            radial = score_r[refine] >= score_phi[refine]
            angular = ~radial
            mid = 0.5 * (todo.a + todo.b)
            new_kind = np.concatenate([todo.kind[radial], todo.kind[radial], todo.kind[angular]])
            new_a = np.concatenate([todo.a[radial], mid[radial], todo.a[angular]])
            new_b = np.concatenate([mid[radial], todo.b[radial], todo.b[angular]])
            new_nphi = np.concatenate([todo.n_phi[radial], todo.n_phi[radial], 2 * todo.n_phi[angular]])
            new = self._evaluate(new_kind, new_a, new_b, new_nphi)
            panels = _Panels.concat([fixed, new])
        return IntegrationResult(
            value=value,
            error=error,
            converged=bool(np.all(error <= tol)),
            n_points=self.n_points,
            n_panels=len(panels.a),
            iterations=iterations,
        )
