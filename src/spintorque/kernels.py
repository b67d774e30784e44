"""Eigenbasis Keldysh kernels of the Kubo-Bastin / Smrcka-Streda linear response (SPEC.md sec. 3).

For H = sum_n e_n |n><n| at one k point and an observable A driven by a generator B,

    delta<A>_k = sum_{n,m} A_nm B_mn kappa(m, n),

with, at T = 0 and Fermi level EF, g_n^{R}(E) = 1/(E - e_n + i eta), g^A = conj(g^R),

    kappa_I (m, n) = (1/4pi) [ (g_m^R - g_m^A) g_n^A - g_m^R (g_n^R - g_n^A) ]     (Fermi surface)
    kappa_II(m, n) = (1/4pi) [ J(a_m, a_n) - conj J(a_m, a_n) ],  a_n = e_n - i eta  (Fermi sea)
    J(a, b) = int_{-inf}^{EF} dE (a - b) / ((E - a)^2 (E - b)^2).

The non-equilibrium density matrix in the eigenbasis is the Hadamard product
rho_neq[m, n] = kappa(m, n) (D H)[m, n]; every observable is Tr[A rho_neq].
Units: hbar = e = 1; kernels have units 1/energy^2 (so Lambda[A, B] per k point carries the
units of A x B / energy^2 x (energy / hbar) ... i.e. time x A x B / energy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models.base import BlochModel

FOUR_PI = 4.0 * np.pi
# |d| / |u| below which J uses its series (d = a - b real, u = EF - (a + b)/2):
# closed-form cancellation then costs at most ~6 |u|^2/|d|^2 ulp ~ 2e-14.
SERIES_RATIO = 0.2
SERIES_TERMS = 12

# operator sets: left (observables A) and right (generators B)
LEFT_SPIN, LEFT_VELOCITY, LEFT_EXCHANGE = "spin", "velocity", "exchange"


@dataclass(frozen=True)
class EigenData:
    """Per-k eigendata shared by every response block and every Fermi level.

    energies : (Nk, N) band energies, ascending.
    vectors : (Nk, N, N) eigenvectors as columns.
    left : (Nk, 3 + dim + 3, N, N) observables in the eigenbasis: sigma_x,y,z, v_j, dH/dm_b.
    right : (Nk, 3 + dim, N, N) generators in the eigenbasis: dH/dm_b, v_j.
    """

    energies: np.ndarray
    vectors: np.ndarray
    left: np.ndarray
    right: np.ndarray


def to_eigenbasis(vectors: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """U^dagger O U for a stack of operators ``ops`` of shape (Nk, nops, N, N)."""
    return np.conj(vectors.swapaxes(-1, -2))[:, None] @ ops @ vectors[:, None]


def eigendata(model: BlochModel, k: np.ndarray, m: np.ndarray) -> EigenData:
    """Diagonalise H(k; m) once and express every operator the responses need in its eigenbasis."""
    ham = model.hamiltonian(k, m)
    energies, vectors = np.linalg.eigh(ham)
    vel = model.velocity(k, m)
    exch = model.exchange_derivative(k, m)
    spin = np.broadcast_to(np.asarray(model.spin_operators), (len(k), 3, *ham.shape[1:]))
    ops = to_eigenbasis(vectors, np.concatenate([spin, vel, exch], axis=1))
    dim = vel.shape[1]
    left = ops
    right = np.concatenate([ops[:, 3 + dim :], ops[:, 3 : 3 + dim]], axis=1)
    return EigenData(energies=energies, vectors=vectors, left=left, right=right)


def surface_kernel(energies: np.ndarray, ef: np.ndarray, eta: float) -> np.ndarray:
    """Fermi-surface kernel kappa_I(m, n) at T = 0, shape (Nk, nEF, N, N), index order [m, n]."""
    g_r = 1.0 / (np.asarray(ef)[None, :, None] - energies[:, None, :] + 1j * eta)  # (Nk, nE, N)
    g_a = np.conj(g_r)
    spectral = g_r - g_a
    return (spectral[..., :, None] * g_a[..., None, :] - g_r[..., :, None] * spectral[..., None, :]) / FOUR_PI


def sea_integral(d: np.ndarray, u: np.ndarray) -> np.ndarray:
    """J(a, b) for a - b = d (real) and EF - (a + b)/2 = u (Im u = eta > 0), elementwise.

    Closed form where |d| >= SERIES_RATIO |u|; elsewhere the series
    J = -d sum_j (j + 1) (d^2/4)^j / ((2j + 3) u^(2j + 3)), which converges for |d| < 2 |u|.
    """
    d = np.asarray(d, dtype=float)
    u = np.asarray(u, dtype=complex)
    d, u = np.broadcast_arrays(d, u)
    out = np.empty(d.shape, dtype=complex)
    use_series = np.abs(d) < SERIES_RATIO * np.abs(u)

    dc, uc = d[~use_series], u[~use_series]
    x = uc - 0.5 * dc  # EF - a
    y = uc + 0.5 * dc  # EF - b
    out[~use_series] = (-1.0 / x - 1.0 / y) / dc - 2.0 / dc**2 * (np.log(x) - np.log(y))

    ds, us = d[use_series], u[use_series]
    q = (0.25 * ds**2) / us**2
    term = 1.0 / (3.0 * us**3)
    total = term.copy()
    for j in range(1, SERIES_TERMS):
        term = term * q * (j + 1) / j * (2 * j + 1) / (2 * j + 3)
        total += term
    out[use_series] = -ds * total
    return out


def sea_kernel(energies: np.ndarray, ef: np.ndarray, eta: float) -> np.ndarray:
    """Fermi-sea kernel kappa_II(m, n) at T = 0, shape (Nk, nEF, N, N), index order [m, n]."""
    e_m = energies[:, None, :, None]
    e_n = energies[:, None, None, :]
    d = e_m - e_n
    u = np.asarray(ef)[None, :, None, None] - 0.5 * (e_m + e_n) + 1j * eta
    jmn = sea_integral(d, u)
    return 1j * jmn.imag / (2 * np.pi)


def pair_products(eig: EigenData) -> np.ndarray:
    """P[k, a, b, m, n] = A^a_nm B^b_mn for every observable a and generator b, (Nk, nL, nR, N*N)."""
    left_t = eig.left.swapaxes(-1, -2)  # [.., m, n] = A_nm
    prod = left_t[:, :, None] * eig.right[:, None, :]
    return prod.reshape(*prod.shape[:3], -1)


def response_density(eig: EigenData, ef: np.ndarray, eta: float) -> np.ndarray:
    """Integrand of Lambda[A_a, B_b] per k point (before the k measure), both parts, all EF.

    Returns a real array of shape (Nk, nEF, 2, nL, nR): part 0 = sea (II), part 1 = surface (I).
    """
    ef = np.atleast_1d(np.asarray(ef, dtype=float))
    nk = len(eig.energies)
    kern = np.concatenate(
        [sea_kernel(eig.energies, ef, eta), surface_kernel(eig.energies, ef, eta)], axis=1
    ).reshape(nk, 2 * len(ef), -1)  # (Nk, 2 nE, N*N) in [m, n] order
    pairs = pair_products(eig)  # (Nk, nL, nR, N*N)
    nl, nr = pairs.shape[1:3]
    flat = pairs.reshape(nk, nl * nr, -1)
    out = np.matmul(flat, kern.swapaxes(-1, -2)).real  # (Nk, nL*nR, 2 nE)
    out = out.reshape(nk, nl, nr, 2, len(ef))
    return np.moveaxis(out, (4, 3), (1, 2))


def nonequilibrium_density_matrix(
    model: BlochModel,
    k: np.ndarray,
    m: np.ndarray,
    ef: float,
    eta: float,
    *,
    dm_dt: np.ndarray | None = None,
    force: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """rho_neq(k) in the model basis for the drive D H = dH/dm . dm/dt + v . F (SPEC.md sec. 3).

    Parameters
    ----------
    k : (Nk, dim) k points.  m : unit magnetization.  ef, eta : energies (T = 0).
    dm_dt : (3,) rate of change of m (1/time, hbar = 1 units).  force : (dim,) F = -grad(mu).

    Returns
    -------
    {"sea": (Nk, N, N), "surface": (Nk, N, N)}: Hermitian matrices; the response of any
    observable A (e.g. a layer-resolved spin) at that k is Tr[A rho] (integrate with d^2k/(2pi)^2).
    """
    k = np.asarray(k, dtype=float)
    ham = model.hamiltonian(k, m)
    energies, vectors = np.linalg.eigh(ham)
    drive = np.zeros_like(ham)
    if dm_dt is not None:
        drive = drive + np.einsum("b,kbij->kij", np.asarray(dm_dt, float), model.exchange_derivative(k, m))
    if force is not None:
        drive = drive + np.einsum("j,kjab->kab", np.asarray(force, float), model.velocity(k, m))
    drive_eig = to_eigenbasis(vectors, drive[:, None])[:, 0]
    ef_arr = np.array([float(ef)])
    out = {}
    for part, kernel in (("sea", sea_kernel), ("surface", surface_kernel)):
        rho_eig = kernel(energies, ef_arr, eta)[:, 0] * drive_eig
        out[part] = vectors @ rho_eig @ np.conj(vectors.swapaxes(-1, -2))
    return out
