"""Tight-binding Bloch models from a hopping table {R: H(R)} on a 2D or 3D Bravais lattice.

Conventions
-----------
* ``lattice_vectors`` are the rows a_i (length units; Angstrom for Wannier90 files); the
  reciprocal vectors b_j (rows of ``reciprocal_vectors``) satisfy a_i . b_j = 2 pi delta_ij.
* ``hoppings[R][i, j] = <i, 0 | H | j, R>`` (energy units), R given in units of the lattice
  vectors (integer tuples), the Wannier90 convention. Hermiticity requires
  H(-R) = H(R)^dagger, which is checked.
* Bloch phases use the orbital positions tau_i (Cartesian, length units; "convention I",
  the one in which the tight-binding velocity is the physical one for a diagonal position
  operator)::

      H_ij(k) = sum_R H(R)_ij exp(i k . (R + tau_j - tau_i))
      v_ij(k) = dH_ij/dk = sum_R i (R + tau_j - tau_i) H(R)_ij exp(i k . (R + tau_j - tau_i))

  With all tau = 0 (the default, and what an hr.dat file alone can give) this is the
  "convention II" H(k) = sum_R H(R) e^{ik.R}; the two differ in the interband velocity by
  i [H, tau], so give the positions when intra-cell distances matter (Berry curvature of
  multi-site bases). Traces Tr[A rho] of the responses are periodic in k in both conventions.
* The magnetization enters as an added exchange term (delta/2) sum_b m_b X_b with X the
  ``exchange_operators`` (default: the spin operators, i.e. (delta/2) m . sigma on every
  orbital); dH/dm_b = (delta/2) X_b. With delta = 0 the model is a fixed-m model and the
  exchange blocks of the response vanish.
* Spin operators are Pauli matrices (not sigma/2) embedded in the basis: given explicitly, or
  built from the spinor ordering: ``"interleaved"`` (orb1 up, orb1 down, orb2 up, ...; the
  Wannier90 ``spinors = true`` order) or ``"blocked"`` (all up, then all down).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import ModelError
from .base import PAULI, BlochModel, BrillouinZone

SPINOR_ORDERINGS = ("interleaved", "blocked")
HERMITICITY_TOL = 1e-10
# maximum number of (k point x lattice vector) phases held at once
PHASE_CHUNK = 4_000_000


def spin_matrices(n_orbitals: int, ordering: str) -> np.ndarray:
    """Pauli matrices embedded in a spinful basis of ``n_orbitals`` orbitals, shape (3, 2n, 2n).

    ``ordering`` is ``"interleaved"`` (sigma (x) ... per orbital: 1 kron sigma) or ``"blocked"``
    (sigma kron 1).
    """
    eye = np.eye(n_orbitals)
    if ordering == "interleaved":
        return np.stack([np.kron(eye, p) for p in PAULI])
    if ordering == "blocked":
        return np.stack([np.kron(p, eye) for p in PAULI])
    raise ModelError(f"spinor ordering must be one of {SPINOR_ORDERINGS}, got {ordering!r}")


def _as_lattice(lattice_vectors: object) -> np.ndarray:
    try:
        lat = np.asarray(lattice_vectors, dtype=float)
    except (TypeError, ValueError):
        raise ModelError(
            f"lattice_vectors must be a real (dim, dim) array, got {lattice_vectors!r}"
        ) from None
    if lat.ndim != 2 or lat.shape[0] != lat.shape[1] or lat.shape[0] not in (2, 3):
        raise ModelError(f"lattice_vectors must have shape (2, 2) or (3, 3), got {lat.shape}")
    if (
        not np.all(np.isfinite(lat))
        or abs(np.linalg.det(lat)) < 1e-12 * np.max(np.abs(lat)) ** lat.shape[0]
    ):
        raise ModelError("lattice_vectors must be finite and linearly independent")
    return lat


def _as_hoppings(
    hoppings: Mapping, dim: int, add_conjugates: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Validate {R: H(R)}; return (R integer array (nR, dim), H stack (nR, N, N))."""
    if not isinstance(hoppings, Mapping) or not hoppings:
        raise ModelError(
            "hoppings must be a non-empty mapping {R (tuple of ints): H(R) (N x N matrix)}"
        )
    table: dict[tuple[int, ...], np.ndarray] = {}
    n = None
    for key, mat in hoppings.items():
        r = tuple(int(x) for x in np.atleast_1d(key))
        if len(r) != dim or not np.allclose(np.atleast_1d(key), r):
            raise ModelError(
                f"hopping key {key!r} must be a tuple of {dim} integers (lattice vector R)"
            )
        mat = np.asarray(mat, dtype=complex)
        if n is None:
            n = mat.shape[0] if mat.ndim == 2 else -1
        if mat.shape != (n, n) or not np.all(np.isfinite(mat)):
            raise ModelError(
                f"hoppings[{r}] must be a finite square matrix of shape ({n}, {n}), got {mat.shape}"
            )
        table[r] = table.get(r, 0) + mat
    if add_conjugates:
        for r, mat in list(table.items()):
            minus = tuple(-x for x in r)
            if minus not in table:
                table[minus] = np.conj(mat.T)
    scale = max(np.max(np.abs(m)) for m in table.values()) or 1.0
    for r, mat in table.items():
        minus = tuple(-x for x in r)
        if minus not in table:
            raise ModelError(
                f"hopping H(R) for R = {r} has no partner R = {minus}; give H(-R) = H(R)^dagger "
                "or pass add_conjugates=True"
            )
        if np.max(np.abs(table[minus] - np.conj(mat.T))) > HERMITICITY_TOL * scale:
            raise ModelError(f"hoppings violate Hermiticity: H(-R) != H(R)^dagger for R = {r}")
    keys = sorted(table)
    return np.array(keys, dtype=int).reshape(len(keys), dim), np.stack([table[r] for r in keys])


class TightBinding(BlochModel):
    """Tight-binding model H(k; m) = sum_R H(R) e^{ik.(R + tau_j - tau_i)} + (delta/2) m . X.

    Parameters
    ----------
    lattice_vectors : (dim, dim) array, rows a_i (length units), dim = 2 or 3.
    hoppings : {R: H(R)} with R a tuple of dim integers (units of a_i) and H(R)[i, j] =
        <i, 0|H|j, R> (energy). H(-R) must equal H(R)^dagger (or set ``add_conjugates``).
    positions : (N, dim) orbital positions tau_i, Cartesian (length); default all zero.
    spin_operators : (3, N, N) Pauli matrices in the basis; default built from ``spinor``.
    spinor : "interleaved" or "blocked" (used when ``spin_operators`` is None; N must be even).
    delta : exchange splitting Delta (energy) of the added term (delta/2) m . X.
    exchange_operators : (3, N, N) operators X_b; default the spin operators.
    add_conjugates : add H(-R) = H(R)^dagger for every R whose partner is missing.
    name : label recorded in results.  parameters : extra parameters to record.

    Examples
    --------
    >>> import numpy as np, spintorque as st
    >>> sx, sy, sz = st.models.base.PAULI
    >>> hop = {(0, 0): 0 * sz, (1, 0): (sz - 1j * sx) / 2, (0, 1): (sz - 1j * sy) / 2}
    >>> model = st.models.TightBinding(np.eye(2), hop, add_conjugates=True)
    >>> model.n_bands
    2
    """

    def __init__(
        self,
        lattice_vectors: object,
        hoppings: Mapping,
        *,
        positions: object | None = None,
        spin_operators: object | None = None,
        spinor: str = "interleaved",
        delta: float = 0.0,
        exchange_operators: object | None = None,
        add_conjugates: bool = False,
        name: str | None = None,
        parameters: Mapping[str, float] | None = None,
    ) -> None:
        self.lattice_vectors = _as_lattice(lattice_vectors)
        self.dim = self.lattice_vectors.shape[0]
        self.r_int, self.h_r = _as_hoppings(hoppings, self.dim, add_conjugates)
        self.n_bands = self.h_r.shape[1]
        self.r_cart = self.r_int @ self.lattice_vectors
        self.reciprocal_vectors = 2 * np.pi * np.linalg.inv(self.lattice_vectors).T
        self.k_domain = BrillouinZone(self.reciprocal_vectors)
        self.positions = self._operator_or_default(
            positions, (self.n_bands, self.dim), "positions", real=True
        )
        if spin_operators is None:
            if self.n_bands % 2:
                raise ModelError(
                    f"{self.n_bands} bands cannot carry spinors; give spin_operators explicitly"
                )
            spin_operators = spin_matrices(self.n_bands // 2, spinor)
        self.spin_operators = self._hermitian_stack(spin_operators, "spin_operators")
        self.spinor = spinor
        self.delta = float(delta)
        if not np.isfinite(self.delta):
            raise ModelError(f"delta must be finite, got {delta!r}")
        exch = self.spin_operators if exchange_operators is None else exchange_operators
        self.exchange_operators = self._hermitian_stack(exch, "exchange_operators")
        self._check_local(self.spin_operators, "spin_operators")
        self._check_local(self.exchange_operators, "exchange_operators")
        self._label = name
        self._extra = dict(parameters or {})

    # --- validation helpers ---
    def _operator_or_default(self, value, shape, label, *, real=False) -> np.ndarray:
        if value is None:
            return np.zeros(shape)
        arr = np.asarray(value, dtype=float if real else complex)
        if arr.shape != shape or not np.all(np.isfinite(arr)):
            raise ModelError(f"{label} must be a finite array of shape {shape}, got {arr.shape}")
        return arr

    def _hermitian_stack(self, value, label) -> np.ndarray:
        n = self.n_bands
        arr = self._operator_or_default(value, (3, n, n), label)
        if np.max(np.abs(arr - np.conj(arr.swapaxes(-1, -2)))) > HERMITICITY_TOL * max(
            1.0, np.max(np.abs(arr))
        ):
            raise ModelError(f"{label} must be Hermitian matrices")
        return arr

    def _check_local(self, ops: np.ndarray, label: str) -> None:
        """On-site operators may only connect orbitals at the same position (k-independent)."""
        far = np.linalg.norm(self.positions[:, None] - self.positions[None, :], axis=-1) > 1e-12
        if np.any(np.abs(ops[:, far]) > HERMITICITY_TOL * max(1.0, np.max(np.abs(ops)))):
            raise ModelError(
                f"{label} connect orbitals at different positions; a spin or exchange "
                "operator must act within each site (give spin partners the same position)"
            )

    # --- Fourier sums ---
    def hoppings(self) -> dict[tuple[int, ...], np.ndarray]:
        """The hopping table {R: H(R)} (without the exchange term)."""
        return {
            tuple(int(x) for x in r): h.copy() for r, h in zip(self.r_int, self.h_r, strict=True)
        }

    def _fourier(self, k: np.ndarray, derivative: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Convention-II sums H(k) = sum_R H(R) e^{ik.R} and (optionally) sum_R iR H(R) e^{ik.R}."""
        k = np.atleast_2d(np.asarray(k, dtype=float))
        n = self.n_bands
        flat = self.h_r.reshape(len(self.h_r), n * n)
        ham = np.empty((len(k), n * n), dtype=complex)
        grad = np.empty((len(k), self.dim, n * n), dtype=complex) if derivative else None
        step = max(1, PHASE_CHUNK // len(self.h_r))
        for start in range(0, len(k), step):
            sl = slice(start, start + step)
            phase = np.exp(1j * (k[sl] @ self.r_cart.T))  # (nk, nR)
            ham[sl] = phase @ flat
            if derivative:
                for j in range(self.dim):
                    grad[sl, j] = (phase * (1j * self.r_cart[:, j])) @ flat
        ham = ham.reshape(len(k), n, n)
        return ham, None if grad is None else grad.reshape(len(k), self.dim, n, n)

    def _gauge(self, k: np.ndarray) -> np.ndarray | None:
        """exp(i k . tau_i), shape (Nk, N), or None when all positions vanish."""
        if not np.any(self.positions):
            return None
        return np.exp(1j * (np.atleast_2d(k) @ self.positions.T))

    def bare_hamiltonian(self, k: np.ndarray) -> np.ndarray:
        """H0(k) without the exchange term, convention I, shape (Nk, N, N)."""
        ham, _ = self._fourier(k, derivative=False)
        phase = self._gauge(k)
        if phase is not None:
            ham = np.conj(phase)[:, :, None] * ham * phase[:, None, :]
        return ham

    # --- the BlochModel interface ---
    def hamiltonian(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        exch = (
            0.5
            * self.delta
            * np.einsum("b,bij->ij", np.asarray(m, dtype=float), self.exchange_operators)
        )
        return self.bare_hamiltonian(k) + exch

    def velocity(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        ham, grad = self._fourier(k, derivative=True)
        phase = self._gauge(k)
        if phase is None:
            return grad
        left, right = np.conj(phase)[:, None, :, None], phase[:, None, None, :]
        ham_i = np.conj(phase)[:, :, None] * ham * phase[:, None, :]
        sep = (
            self.positions.T[:, None, :] - self.positions.T[:, :, None]
        )  # (dim, i, j): tau_j - tau_i
        return left * grad * right + 1j * sep[None] * ham_i[:, None]

    def exchange_derivative(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        ops = 0.5 * self.delta * self.exchange_operators
        return np.broadcast_to(ops, (len(k), 3, self.n_bands, self.n_bands)).copy()

    def parameters(self) -> dict[str, float]:
        out = {"delta": self.delta, "n_hoppings": len(self.h_r)}
        out.update(self._extra)
        return out

    @property
    def name(self) -> str:
        return self._label or type(self).__name__
