"""Operators that are constant multiples of others, found once per model and m.

The response Lambda[A, B] is bilinear in the observable A and the generator B, so when
A_a = c_a A'_i for every k (e.g. dH/dm_b = (delta/2) sigma_b for s-d exchange, or v_x = vf sigma_y
on a Dirac surface) it is enough to integrate the blocks of the distinct operators A' and scale:
Lambda[A_a, B_b] = c_a c_b Lambda[A'_i, B'_j]. Every per-k-point product and every per-level
k sum then runs over n_basis_left x n_basis_right operator pairs instead of n_left x n_right
(DiracSurface: 3 x 3 instead of 8 x 5; Rashba2DEG, eps0, warping: 5 x 5).

The relations are found at a few sample k points (:func:`find_operator_basis`) and checked on
every batch of k points the engine evaluates (:meth:`OperatorBasis.check`): a model whose
operators are proportional at the samples only raises :class:`BasisMismatch`, and the engine
then integrates every operator (it never returns a result built on a relation that fails).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .models.base import BlochModel, BrillouinZone, Disk

if TYPE_CHECKING:
    from .engine import OperatorLayout

# operators whose difference from c x (another one) is within this many ulp of their size are
# taken as proportional (formula models give exact multiples; the response then carries at most
# this relative error, below the smallest tolerance the engine accepts, 1e-10 x 1e-4)
PROPORTIONAL_ULPS = 64
N_SAMPLES = 8  # sample k points of the search
SAMPLE_SEED = 20261126
CATALOGUE_ORDER = ("spin", "velocity", "exchange")


class BasisMismatch(RuntimeError):
    """An operator relation found at the sample k points fails at an evaluated k point."""


@dataclass(frozen=True)
class OperatorBasis:
    """The operators of an engine layout as multiples of a few of them.

    catalogue : the distinct operators the layout uses, in the order of ``sets``: spin x, y, z,
        v_1..v_dim, dH/dm_x, y, z (those of its sets); ``sizes`` the count of each set.
    rep, coeff : (n_catalogue,) operator u equals coeff[u] x operator rep[u] (rep[u] = u and
        coeff 1 for a basis operator; coeff 0 for one that vanishes).
    left, right : (nL,), (nR,) the catalogue index of each entry of the left and right stacks.
    """

    sets: tuple[str, ...]
    sizes: tuple[int, ...]
    rep: np.ndarray
    coeff: np.ndarray
    left: np.ndarray
    right: np.ndarray

    @cached_property
    def dropped(self) -> np.ndarray:
        """Catalogue indices of the operators that are multiples of a basis operator."""
        return np.flatnonzero(self.rep != np.arange(len(self.rep)))

    @property
    def compresses(self) -> bool:
        """Whether any operator is a multiple of another."""
        return len(self.dropped) > 0

    @cached_property
    def _left(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._side(self.left)

    @cached_property
    def _right(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._side(self.right)

    def _side(self, stack: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(basis catalogue indices in order of first use, position of each stack entry in
        them, its coefficient)."""
        reps = self.rep[stack]
        _, first, inverse = np.unique(reps, return_index=True, return_inverse=True)
        order = np.argsort(first)
        return reps[first[order]], np.argsort(order)[inverse], self.coeff[stack]

    @property
    def left_basis(self) -> np.ndarray:
        """Catalogue indices of the left (observable) basis operators, in stack order."""
        return self._left[0]

    @property
    def right_basis(self) -> np.ndarray:
        """Catalogue indices of the right (generator) basis operators, in stack order."""
        return self._right[0]

    @cached_property
    def transformed(self) -> np.ndarray:
        """Catalogue indices of the operators the engine takes to the eigenbasis (sorted)."""
        return np.union1d(self.left_basis, self.right_basis)

    def check(self, catalogue: np.ndarray) -> None:
        """Raise BasisMismatch unless every dropped operator of ``catalogue`` (Nk, nU, N, N),
        evaluated in the model basis, is its multiple of its basis operator there (to
        PROPORTIONAL_ULPS of the larger of the two, real and imaginary parts separately)."""
        dropped = self.dropped
        if not len(dropped):
            return
        ops = catalogue[:, dropped].view(float)
        multiple = catalogue[:, self.rep[dropped]].view(float)
        multiple *= self.coeff[dropped, None, None]
        size = np.maximum(np.abs(ops).max(axis=(0, 2, 3)), np.abs(multiple).max(axis=(0, 2, 3)))
        multiple -= ops
        deviation = np.abs(multiple).max(axis=(0, 2, 3))
        bad = deviation > PROPORTIONAL_ULPS * np.finfo(float).eps * size
        if np.any(bad):
            u = int(dropped[np.argmax(bad)])
            raise BasisMismatch(
                f"operator {u} is not {self.coeff[u]:.6g} x operator {self.rep[u]} at every k point"
            )

    @cached_property
    def _scale(self) -> np.ndarray:
        """(nL, nR) c_a c_b of each entry of the blocks."""
        return self._left[2][:, None] * self._right[2][None, :]

    def expand(self, value: np.ndarray, magnitude: bool = False) -> np.ndarray:
        """(..., nBL, nBR) basis blocks -> (..., nL, nR) blocks of the layout's operators;
        ``magnitude``: scale by |c_a c_b| (for error estimates)."""
        left_pos, right_pos = self._left[1], self._right[1]
        scale = np.abs(self._scale) if magnitude else self._scale
        return value[..., left_pos[:, None], right_pos[None, :]] * scale

    @cached_property
    def _groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Stack entries sorted by basis position, and where each position's run starts."""
        out = []
        for pos in (self._left[1], self._right[1]):
            order = np.argsort(pos, kind="stable")
            out += [order, np.flatnonzero(np.diff(pos[order], prepend=-1))]
        return tuple(out)

    def reduce_tolerance(self, tol: np.ndarray) -> np.ndarray:
        """(..., nL, nR) absolute tolerances -> (..., nBL, nBR): each basis pair's smallest
        tol / |c_a c_b| over the entries it gives (an entry with c_a c_b = 0 sets none), so that
        err <= tol in the basis means err <= tol for every entry."""
        scale = np.abs(self._scale)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(scale > 0, tol / scale, np.inf)
        left_order, left_start, right_order, right_start = self._groups
        rows = np.minimum.reduceat(scaled[..., left_order, :], left_start, axis=-2)
        return np.minimum.reduceat(rows[..., right_order], right_start, axis=-1)


def catalogue_sets(left_sets: tuple[str, ...], right_sets: tuple[str, ...]) -> tuple[str, ...]:
    """The operator sets a layout uses, in catalogue order."""
    return tuple(s for s in CATALOGUE_ORDER if s in left_sets + right_sets)


def catalogue(
    model: BlochModel, k: np.ndarray, m: np.ndarray, sets: tuple[str, ...]
) -> tuple[np.ndarray, tuple[int, ...]]:
    """The operators of ``sets`` at k in the model basis: (Nk, nU, N, N), and each set's count."""
    parts = []
    for name in sets:
        if name == "spin":
            ops = np.asarray(model.spin_operators)
            parts.append(np.broadcast_to(ops, (len(k), *ops.shape)))
        elif name == "velocity":
            parts.append(np.asarray(model.velocity(k, m)))
        else:
            parts.append(np.asarray(model.exchange_derivative(k, m)))
    return np.concatenate(parts, axis=1), tuple(p.shape[1] for p in parts)


def sample_points(model: BlochModel, m: np.ndarray) -> np.ndarray:
    """N_SAMPLES k points spread over the model's domain (fixed seed)."""
    rng = np.random.default_rng(SAMPLE_SEED)
    domain = model.k_domain
    if isinstance(domain, Disk):
        radius = domain.cutoff * np.geomspace(1e-3, 0.9, N_SAMPLES) * rng.uniform(0.8, 1.0)
        angle = rng.uniform(0, 2 * np.pi, N_SAMPLES)
        k = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        return k + np.asarray(model.band_center(m), dtype=float)[None, : model.dim]
    if isinstance(domain, BrillouinZone):
        frac = rng.uniform(0, 1, (N_SAMPLES, domain.dim))
        return frac @ np.asarray(domain.reciprocal_vectors, dtype=float)
    return rng.uniform(-1, 1, (N_SAMPLES, int(model.dim)))


def _stack(sets: tuple[str, ...], sizes: tuple[int, ...], names: tuple[str, ...]) -> np.ndarray:
    """Catalogue indices of the operator sets ``names``, stacked in that order."""
    start = dict(zip(sets, np.cumsum((0, *sizes[:-1])), strict=True))
    return np.concatenate([start[s] + np.arange(sizes[sets.index(s)]) for s in names])


def find_operator_basis(model: BlochModel, m: np.ndarray, layout: OperatorLayout) -> OperatorBasis:
    """The relations op_u = c op_v (v < u, c real and constant) among the operators of
    ``layout`` (an :class:`~spintorque.engine.OperatorLayout`) at the sample points."""
    sets = catalogue_sets(layout.left_sets, layout.right_sets)
    ops, sizes = catalogue(model, sample_points(model, m), np.asarray(m, dtype=float), sets)
    n_ops = ops.shape[1]
    flat = ops.transpose(1, 0, 2, 3).reshape(n_ops, -1)
    norms = np.max(np.abs(flat), axis=1)
    # c[v, u]: the least-squares multiple op_u ~ c op_v (real: both Hermitian)
    gram = np.real(flat.conj() @ flat.T)
    c = gram / np.where(norms > 0, np.diag(gram), 1.0)[:, None]
    residual = np.max(np.abs(flat[None, :] - c[:, :, None] * flat[:, None]), axis=2)
    size = np.maximum(norms[None, :], np.abs(c) * norms[:, None])
    proportional = (residual <= PROPORTIONAL_ULPS * np.finfo(float).eps * size) & (
        norms[:, None] > 0
    )
    rep, coeff = np.arange(n_ops), np.ones(n_ops)
    for u in range(n_ops):  # the first earlier basis operator it is a multiple of
        earlier = np.flatnonzero(proportional[:u, u] & (rep[:u] == np.arange(u)))
        if len(earlier):
            rep[u], coeff[u] = earlier[0], c[earlier[0], u]
    return OperatorBasis(
        sets,
        sizes,
        rep,
        coeff,
        _stack(sets, sizes, layout.left_sets),
        _stack(sets, sizes, layout.right_sets),
    )


@functools.cache
def identity_basis(
    dim: int, left_sets: tuple[str, ...], right_sets: tuple[str, ...]
) -> OperatorBasis:
    """No relations: every operator of the sets is integrated (one shared, read-only object
    per layout: eigendata asks for it on every batch)."""
    sets = catalogue_sets(left_sets, right_sets)
    sizes = tuple(int(dim) if s == "velocity" else 3 for s in sets)
    n_ops = sum(sizes)
    return OperatorBasis(
        sets,
        sizes,
        np.arange(n_ops),
        np.ones(n_ops),
        _stack(sets, sizes, left_sets),
        _stack(sets, sizes, right_sets),
    )
