"""Adaptive k integration over the Brillouin zone of a 2D or 3D lattice.

The BZ is the unit cell of reduced coordinates s in [0, 1)^D, k = s . B with B the reciprocal
vectors (rows); the measure d^Dk / (2 pi)^D becomes |det B| d^Ds / (2 pi)^D. (Per unit area in
2D, per unit volume in 3D.) The integrand is periodic in s, so the cell needs no special
boundary treatment.

Rule: each box carries the tensor-product 15-point Gauss-Kronrod rule (15^D points; the
constants are in :mod:`spintorque.integrate.rules`). The error of a box along
direction d is max(|Q_K - Q_(G7 along d, K elsewhere)|, |Q_(odd null rule along d, K
elsewhere)|) (conservative: it is the error of the G7 rule, while the K15 value returned is
usually far more accurate; the odd null rule covers the pole positions where K15 - G7 passes
through zero, see :mod:`~.rules`), and the box error is the sum over directions; all come
from the same 15^D evaluations. (The rate-scaled estimate of
:func:`spintorque.integrate.rules.scaled_error` is not used here: a Fermi line crossing a box
obliquely keeps the 1-D rules pre-asymptotic, and the scaled estimate was measured to
underestimate by 100x on the Rashba lattice with a tilted m.) Both rules are linear in f, so
an integrand object with ``weighted_sums(k, weights)`` (see
:class:`spintorque.engine.ResponseIntegrand`) is used through that fast path; a plain callable
f(k) -> (Nk, C) works too. Refinement: the boxes with the largest error (relative to the
tolerance, worst component) are bisected along their worst direction until the errors left
in the untouched boxes fall below half the tolerance; all flagged boxes of an iteration are
evaluated in one vectorised (chunked) call. The start is a uniform grid of boxes whose size
is tied to the Lorentzian width eta / v in reduced units (so that the Fermi-surface structure
of width ~eta/v is seen by the first sweep), capped to bound the first sweep's cost.

Convergence: every output component c meets err[c] <= tol[c], or the point budget ends and
the result says ``converged=False`` (the caller warns or raises).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..kernels import hermitian_eigh
from .budget import default_memory_budget
from .disk import IntegrationResult
from .rules import G7_WEIGHTS, GK15, GK_NODES, K15_WEIGHTS, ProductWeights

# boxes per direction of the first sweep: at most this many (2D, 3D) ...
MAX_INITIAL = {2: 48, 3: 6}
# ... and at least this many
MIN_INITIAL = {2: 4, 3: 2}
# a box of the first sweep spans this many Lorentzian widths eta / (v |b|)
WIDTHS_PER_BOX = 30.0
# smallest box width in reduced coordinates (bisection stops there)
MIN_WIDTH = 1e-12


@dataclass
class _Boxes:
    lower: np.ndarray  # (P, D) lower corners in reduced coordinates
    width: np.ndarray  # (P, D)
    value: np.ndarray  # (P, C)
    err_dir: np.ndarray  # (P, D, C) error estimate per direction

    def take(self, mask: np.ndarray) -> _Boxes:
        return _Boxes(self.lower[mask], self.width[mask], self.value[mask], self.err_dir[mask])

    @staticmethod
    def concat(parts: list[_Boxes]) -> _Boxes:
        return _Boxes(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("lower", "width", "value", "err_dir")
            )
        )


def initial_divisions(reciprocal_vectors: np.ndarray, eta: float, velocity: float) -> np.ndarray:
    """Boxes per reduced direction for the first sweep: box ~ WIDTHS_PER_BOX x eta / (v |b_i|)."""
    b = np.asarray(reciprocal_vectors, dtype=float)
    dim = b.shape[0]
    norms = np.linalg.norm(b, axis=1)
    width = eta / max(velocity, 1e-300) / norms  # Lorentzian width in reduced units
    n = np.ceil(1.0 / (WIDTHS_PER_BOX * width))
    return np.clip(n, MIN_INITIAL[dim], MAX_INITIAL[dim]).astype(int)


class BrillouinIntegrator:
    """Adaptive integral of f(k) over the Brillouin zone with the measure d^Dk / (2 pi)^D.

    Parameters
    ----------
    integrand : f(k), k of shape (Nk, D) (Cartesian, inverse length), returning a real array
        (Nk, C), or an object with ``weighted_sums(k (P, Q, D), weights (P, Q, nw)) -> (P, nw, C)``
        and an int ``width`` (floats held per k point, bounds memory). It must be periodic
        under k -> k + b_i.
    reciprocal_vectors : (D, D) rows b_i (inverse length), D = 2 or 3.
    divisions : boxes per reduced direction of the first sweep (int or length-D sequence);
        see :func:`initial_divisions`.
    max_points : evaluation budget; on exhaustion the result has converged=False.
    max_memory : bytes the stored boxes may take (default: half the physical memory,
        see :mod:`~.budget`); a refinement that would exceed it is not evaluated and the result
        has converged=False.
    chunk_size : maximum number of output numbers held at once per integrand call (memory).
    """

    def __init__(
        self,
        integrand: Callable[[np.ndarray], np.ndarray],
        reciprocal_vectors: np.ndarray,
        *,
        divisions: int | np.ndarray = 8,
        max_points: int = 20_000_000,
        max_memory: int | None = None,
        chunk_size: int = 20_000_000,
    ) -> None:
        self.integrand = integrand
        self.b = np.asarray(reciprocal_vectors, dtype=float)
        self.dim = self.b.shape[0]
        self.divisions = np.broadcast_to(np.asarray(divisions, dtype=int), (self.dim,)).copy()
        self.measure = abs(np.linalg.det(self.b)) / (2 * np.pi) ** self.dim
        self.max_points = int(max_points)
        self.max_memory = default_memory_budget() if max_memory is None else int(max_memory)
        self.chunk_size = int(chunk_size)
        self.n_points = 0
        self._ncomp = 1
        grids = np.meshgrid(*[np.arange(15)] * self.dim, indexing="ij")
        self._node_index = np.stack([g.ravel() for g in grids], axis=-1)  # (15^D, D)
        # the rule sets, one 1-D rule per direction: K15 everywhere, then G7 along direction d
        # (K15 elsewhere), then the odd null rule along d
        sets = [(0,) * self.dim] + [
            tuple(rule if axis == d else 0 for axis in range(self.dim))
            for rule in (1, 2)
            for d in range(self.dim)
        ]
        one_d = np.stack([K15_WEIGHTS, G7_WEIGHTS, GK15.null])  # (3, 15)
        # as a product rule: the first direction "radial", the others together "angular"
        # (points are C-ordered, the first direction slowest); see ProductWeights
        rest = self._node_index[: 15 ** (self.dim - 1), 1:]  # nodes of the other directions
        angular_sets = sorted({labels[1:] for labels in sets})
        self._radial_1d = one_d  # (3, 15)
        self._angular = np.stack(
            [np.prod(one_d[np.array(labels)[:, None], rest.T], axis=0) for labels in angular_sets]
        )  # (nA, 15^(D-1))
        self._rad_index = tuple(labels[0] for labels in sets)
        self._ang_index = tuple(angular_sets.index(labels[1:]) for labels in sets)
        self._rule = self._product(np.ones(1)).full()[0]  # (15^D, 1 + 2D)

    def initial_boxes(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower corners and widths of the uniform starting grid."""
        axes = [np.arange(n) / n for n in self.divisions]
        lower = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, self.dim)
        width = np.broadcast_to(1.0 / self.divisions, lower.shape).copy()
        return lower, width

    # --- evaluation ---
    def _points(self, lower: np.ndarray, width: np.ndarray) -> np.ndarray:
        """k points of the product rule, shape (P * 15^D, D), box-major, C order over nodes."""
        s = lower[:, None, :] + 0.5 * width[:, None, :] * (
            GK_NODES[None, :, None] + 1.0
        )  # (P, 15, D)
        red = s[:, self._node_index, np.arange(self.dim)]  # (P, 15^D, D)
        return red.reshape(-1, self.dim) @ self.b

    def _product(self, scale: np.ndarray) -> ProductWeights:
        """The rule sets of P boxes (``scale``: the measure x box volume / 2^D of each) as a
        product rule: first direction x the others."""
        n = len(scale)
        return ProductWeights(
            radial=np.broadcast_to(self._radial_1d, (n, *self._radial_1d.shape)),
            angular=np.broadcast_to(self._angular, (n, *self._angular.shape)),
            jac=np.broadcast_to(scale[:, None, None], (n, 15, self._angular.shape[1])),
            rad_index=self._rad_index,
            ang_index=self._ang_index,
        )

    def _weights(self, width: np.ndarray) -> np.ndarray | ProductWeights:
        """The K15^D rule, the rules with G7 along direction d and those with the odd null rule
        along d (1 + 2D sets): a ProductWeights for integrands that take it, else an array
        (P, 15^D, 1 + 2D)."""
        scale = self.measure * np.prod(0.5 * width, axis=1)
        if getattr(self.integrand, "product_weights", False):
            return self._product(scale)
        return scale[:, None, None] * self._rule[None]

    def _evaluate(self, lower: np.ndarray, width: np.ndarray) -> _Boxes:
        per_box = 15**self.dim
        floats = getattr(self.integrand, "width", self._ncomp)
        step = max(1, self.chunk_size // (per_box * max(1, int(floats))))
        sums = []
        for start in range(0, len(lower), step):
            sl = slice(start, start + step)
            k = self._points(lower[sl], width[sl])
            weights = self._weights(width[sl])
            n_boxes, n_sets = len(width[sl]), 1 + 2 * self.dim
            self.n_points += len(k)
            if hasattr(self.integrand, "weighted_sums"):
                part = np.asarray(
                    self.integrand.weighted_sums(k.reshape(n_boxes, per_box, self.dim), weights)
                )
                part = part.reshape(n_boxes, n_sets, -1)
            else:
                f = np.asarray(self.integrand(k), dtype=float)
                self._ncomp = f.shape[1]
                part = np.einsum("pqc,pqw->pwc", f.reshape(n_boxes, per_box, -1), weights)
            sums.append(part)
        sums = np.concatenate(sums)  # (P, 1 + 2D, C)
        d = self.dim
        # (P, D, C): max(|K - G7 along d|, |odd null along d|)
        err = np.maximum(np.abs(sums[:, :1] - sums[:, 1 : 1 + d]), np.abs(sums[:, 1 + d :]))
        return _Boxes(lower, width, sums[:, 0], err)

    # --- driver ---
    def _select(self, boxes: _Boxes, error: np.ndarray, tol: np.ndarray) -> np.ndarray:
        """Boolean mask of the boxes to bisect: the fewest worst boxes leaving err <= tol / 2."""
        box_err = boxes.err_dir.sum(axis=1)  # (P, C)
        score = np.max(box_err / tol, axis=1)
        order = np.argsort(-score)
        remaining = error[None, :] - np.cumsum(
            box_err[order], axis=0
        )  # error left after refining 0..i
        ok = np.all(remaining <= 0.5 * tol[None, :], axis=1)
        n_refine = int(np.argmax(ok)) + 1 if np.any(ok) else len(order)
        mask = np.zeros(len(score), dtype=bool)
        mask[order[:n_refine]] = True
        mask &= np.max(boxes.width, axis=1) > MIN_WIDTH
        return mask

    def _bisect(self, todo: _Boxes, tol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Children (lower, width) of the boxes in ``todo``, split along their worst direction."""
        direction = np.argmax(np.max(todo.err_dir / tol, axis=2), axis=1)  # (P,)
        half = todo.width.copy()
        rows = np.arange(len(half))
        half[rows, direction] *= 0.5
        second = todo.lower.copy()
        second[rows, direction] += half[rows, direction]
        return np.concatenate([todo.lower, second]), np.concatenate([half, half])

    def integrate(self, tolerance: Callable[[np.ndarray], np.ndarray]) -> IntegrationResult:
        """Refine until err[c] <= tolerance(value)[c] for every component c, or the budget ends."""
        boxes = self._evaluate(*self.initial_boxes())
        iterations, exhausted = 0, ""
        while True:
            value = boxes.value.sum(axis=0)
            error = boxes.err_dir.sum(axis=(0, 1))
            tol = np.maximum(np.asarray(tolerance(value), dtype=float), np.finfo(float).tiny)
            if np.all(error <= tol):
                break
            if self.n_points >= self.max_points:
                exhausted = "max_points"
                break
            refine = self._select(boxes, error, tol)
            if not np.any(refine):
                break
            # the boxes kept, the children and their concatenation are held at once
            per_box = boxes.value[0].nbytes + boxes.err_dir[0].nbytes
            if 2 * (len(boxes.lower) + int(refine.sum())) * per_box > self.max_memory:
                exhausted = "max_memory"
                break
            iterations += 1
            new = self._evaluate(*self._bisect(boxes.take(refine), tol))
            boxes = _Boxes.concat([boxes.take(~refine), new])
        return IntegrationResult(
            value=value,
            error=error,
            converged=bool(np.all(error <= tol)),
            n_points=self.n_points,
            n_panels=len(boxes.lower),
            iterations=iterations,
            exhausted=exhausted,
        )


def band_velocity_scale(
    model, m: np.ndarray, energies: np.ndarray, eta: float, n: int = 24
) -> float:
    """Largest band velocity |dE_n/dk| (energy x length) of states near the given energies.

    Sampled on an n^D grid of the BZ by Hellmann-Feynman (diagonal of v in the eigenbasis);
    states within max(0.1 x bandwidth, 10 eta) of some energy count. Falls back to the overall
    maximum when no state is that close.
    """
    b = np.asarray(model.k_domain.reciprocal_vectors, dtype=float)
    dim = b.shape[0]
    n = n if dim == 2 else max(6, n // 3)
    axes = np.meshgrid(*[(np.arange(n) + 0.5) / n] * dim, indexing="ij")
    k = np.stack([a.ravel() for a in axes], axis=-1) @ b
    e, vec = hermitian_eigh(model.hamiltonian(k, m))
    vel = model.velocity(k, m)  # (Nk, D, N, N)
    diag = _diag_velocity(vec, vel)  # (Nk, D, N)
    speed = np.linalg.norm(diag, axis=1)  # (Nk, N)
    window = max(0.1 * float(e.max() - e.min()), 10.0 * eta)
    near = np.min(np.abs(e[..., None] - np.asarray(energies, dtype=float)), axis=-1) < window
    return float(speed[near].max()) if np.any(near) else float(speed.max())


def _diag_velocity(vec: np.ndarray, vel: np.ndarray) -> np.ndarray:
    """<n|v_j|n> for eigenvectors vec (Nk, N, N) (columns) and v (Nk, D, N, N): (Nk, D, N)."""
    return np.einsum("kan,kjab,kbn->kjn", np.conj(vec), vel, vec).real


def lattice_integrator(
    model,
    m: np.ndarray,
    energies: np.ndarray,
    eta: float,
    integrand: Callable[[np.ndarray], np.ndarray],
    *,
    max_points: int,
    max_memory: int | None = None,
) -> BrillouinIntegrator:
    """The BZ integrator for a lattice model, its first grid tied to eta / v near the energies."""
    b = np.asarray(model.k_domain.reciprocal_vectors, dtype=float)
    speed = band_velocity_scale(model, m, energies, eta)
    return BrillouinIntegrator(
        integrand,
        b,
        divisions=initial_divisions(b, eta, speed),
        max_points=max_points,
        max_memory=max_memory,
    )
