"""The Bloch-model interface every model implements.

A model is a frozen object describing H(k; m) for an N-band system. All methods are vectorised
over k: ``k`` has shape ``(Nk, dim)`` and the returned matrices have shape ``(Nk, ..., N, N)``.
``m`` is the unit magnetization direction, shape ``(3,)``.

Conventions (see SPEC.md section 2): hbar = e = 1, energies in one unit (eV in examples),
lengths in one unit (nm in examples); ``velocity`` returns dH/dk_j (hbar = 1),
``exchange_derivative`` returns dH/dm_b, and ``spin_operators`` are the Pauli matrices
(not sigma/2) embedded in the model's basis.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError

PAULI = np.array(
    [
        [[0, 1], [1, 0]],
        [[0, -1j], [1j, 0]],
        [[1, 0], [0, -1]],
    ],
    dtype=complex,
)
IDENTITY2 = np.eye(2, dtype=complex)


@dataclass(frozen=True)
class Disk:
    """Continuum k domain: the disk |k| <= cutoff centred at k = 0 (inverse length units)."""

    cutoff: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.cutoff) and self.cutoff > 0):
            raise ModelError(f"cutoff must be a finite positive number, got {self.cutoff!r}")


@dataclass(frozen=True)
class BrillouinZone:
    """Lattice k domain: the parallelepiped spanned by the reciprocal vectors (rows, 1/length)."""

    reciprocal_vectors: np.ndarray

    @property
    def dim(self) -> int:
        return int(np.asarray(self.reciprocal_vectors).shape[0])


class BlochModel(abc.ABC):
    """Abstract N-band Bloch Hamiltonian H(k; m).

    Subclasses set ``n_bands``, ``dim``, ``k_domain`` and ``spin_operators`` and implement
    :meth:`hamiltonian`, :meth:`velocity` and :meth:`exchange_derivative`.
    """

    n_bands: int
    dim: int
    k_domain: Disk | BrillouinZone
    spin_operators: np.ndarray  # (3, N, N) Pauli matrices in the model basis

    @abc.abstractmethod
    def hamiltonian(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        """H(k; m), shape (Nk, N, N), energy units."""

    @abc.abstractmethod
    def velocity(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        """dH/dk_j, shape (Nk, dim, N, N), energy x length (hbar = 1)."""

    @abc.abstractmethod
    def exchange_derivative(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        """dH/dm_b for b = x, y, z, shape (Nk, 3, N, N), energy units."""

    def band_center(self, m: np.ndarray) -> np.ndarray:
        """Point about which the continuum integrator uses polar coordinates (band touching point).

        Default: k = 0. Models whose Fermi contours are centred elsewhere for tilted m override it.
        """
        return np.zeros(self.dim)

    def parameters(self) -> dict[str, float]:
        """Model parameters by name (recorded in result attrs)."""
        return {}

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters().items())
        return f"{self.name}({args})"


def check_model(model: object, m: np.ndarray) -> None:
    """Validate a (possibly user-written) model: interface, shapes, finiteness, Hermiticity.

    Raises :class:`ModelError` naming what is wrong. Evaluates the model at a few k points.
    """
    for attr in ("hamiltonian", "velocity", "exchange_derivative"):
        if not callable(getattr(model, attr, None)):
            raise ModelError(
                f"model {model!r} has no method {attr}(k, m); see spintorque.models.BlochModel"
            )
    for attr in ("n_bands", "dim", "k_domain", "spin_operators"):
        if not hasattr(model, attr):
            raise ModelError(
                f"model {model!r} has no attribute {attr!r}; see spintorque.models.BlochModel"
            )
    n, dim = int(model.n_bands), int(model.dim)
    if dim not in (2, 3):
        raise ModelError(f"model.dim must be 2 or 3, got {dim}")
    rng = np.random.default_rng(0)
    if isinstance(model.k_domain, Disk):
        scale = min(model.k_domain.cutoff, 1.0)
    else:
        scale = 1.0
    k = rng.uniform(-scale, scale, size=(4, dim))
    checks = {
        "hamiltonian": (model.hamiltonian(k, m), (4, n, n)),
        "velocity": (model.velocity(k, m), (4, dim, n, n)),
        "exchange_derivative": (model.exchange_derivative(k, m), (4, 3, n, n)),
    }
    spin = np.asarray(model.spin_operators)
    checks["spin_operators"] = (spin, (3, n, n))
    for name, (value, shape) in checks.items():
        value = np.asarray(value)
        if value.shape != shape:
            raise ModelError(f"model.{name} returned shape {value.shape}, expected {shape}")
        if not np.all(np.isfinite(value)):
            raise ModelError(f"model.{name} returned non-finite values (NaN or inf)")
        herm_err = np.max(np.abs(value - np.conj(np.swapaxes(value, -1, -2))))
        size = max(np.max(np.abs(value)), 1.0)
        if herm_err > 1e-10 * size:
            raise ModelError(
                f"model.{name} is not Hermitian (max |X - X^dagger| = {herm_err:.3g}); "
                "a Bloch Hamiltonian and its derivatives must be Hermitian"
            )
