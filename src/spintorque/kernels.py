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

import functools
from dataclasses import dataclass

import numpy as np

from .integrate.rules import ProductWeights
from .models.base import BlochModel
from .operator_basis import OperatorBasis, catalogue, identity_basis

# |d| / |u| below which J uses its series (d = a - b real, u = EF - (a + b)/2):
# closed-form cancellation then costs at most ~6 |u|^2/|d|^2 ulp ~ 2e-14.
SERIES_RATIO = 0.2
SERIES_TERMS = 12
# contraction order of to_eigenbasis for small N: O U first, then U^dagger (O U)
_SMALL_PATH = ["einsum_path", (1, 2), (0, 1)]

# operator sets: left (observables A) and right (generators B), in stack order
LEFT_SETS = ("spin", "velocity", "exchange")
RIGHT_SETS = ("exchange", "velocity")


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

    def take(self, points: slice) -> EigenData:
        """The eigendata of a range of the k points (views)."""
        return EigenData(
            self.energies[points], self.vectors[points], self.left[points], self.right[points]
        )


def hermitian_eigh(ham: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors (columns) of a stack of Hermitian matrices.

    2 x 2 matrices use the closed form (8x faster than LAPACK for stacks of small matrices);
    larger ones numpy.linalg.eigh. Degenerate 2 x 2 matrices get the unit vectors.
    """
    if ham.shape[-1] != 2:
        return np.linalg.eigh(ham)
    a, d, b = ham[..., 0, 0].real, ham[..., 1, 1].real, ham[..., 0, 1]
    mean, half = 0.5 * (a + d), 0.5 * (a - d)
    r = np.hypot(half, np.abs(b))
    energies = np.stack([mean - r, mean + r], axis=-1)
    # upper eigenvector (x, y): (r + h, conj b) or (b, r - h), whichever is not cancelling
    pos = half >= 0
    x = np.where(pos, r + half, b)
    y = np.where(pos, np.conj(b), r - half)
    norm = np.sqrt(2 * r * np.where(pos, r + half, r - half))
    flat = norm == 0  # a multiple of the identity
    norm = np.where(flat, 1.0, norm)
    x, y = np.where(flat, 1.0, x / norm), np.where(flat, 0.0, y / norm)
    vectors = np.empty(ham.shape, dtype=complex)
    vectors[..., 0, 1], vectors[..., 1, 1] = x, y
    vectors[..., 0, 0], vectors[..., 1, 0] = -np.conj(y), np.conj(x)
    return energies, vectors


def band_energies(ham: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of a stack of Hermitian matrices (closed form for 2 x 2)."""
    if ham.shape[-1] != 2:
        return np.linalg.eigvalsh(ham)
    mean = 0.5 * (ham[..., 0, 0].real + ham[..., 1, 1].real)
    r = np.hypot(0.5 * (ham[..., 0, 0].real - ham[..., 1, 1].real), np.abs(ham[..., 0, 1]))
    return np.stack([mean - r, mean + r], axis=-1)


def to_eigenbasis(vectors: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """U^dagger O U for a stack of operators ``ops`` of shape (Nk, nops, N, N)."""
    if ops.shape[-1] > 4:
        return np.conj(vectors.swapaxes(-1, -2))[:, None] @ ops @ vectors[:, None]
    # small N: einsum, O U first, then U^dagger (O U); 1.7-1.9x faster than batched matmul of
    # 2 x 2 and 4 x 4 matrices (per-matrix call overhead), slower from N = 8 on
    return np.ascontiguousarray(
        np.einsum("kia,koij,kjb->koab", np.conj(vectors), ops, vectors, optimize=_SMALL_PATH)
    )


def eigendata(
    model: BlochModel,
    k: np.ndarray,
    m: np.ndarray,
    layout=None,
    basis: OperatorBasis | None = None,
) -> EigenData:
    """Diagonalise H(k; m) once and express every operator the responses need in its eigenbasis.

    ``layout`` (an :class:`spintorque.engine.OperatorLayout`) selects the operator sets; the
    default is all of them: left = sigma_x,y,z, v_j, dH/dm_b and right = dH/dm_b, v_j.
    ``basis`` (an :class:`~.operator_basis.OperatorBasis` of that layout): the left and right
    stacks hold only its basis operators, and the relations it drops are checked at these k
    points (:class:`~.operator_basis.BasisMismatch` if one fails).
    """
    ham = model.hamiltonian(k, m)
    energies, vectors = hermitian_eigh(ham)
    if basis is None:
        left_sets = LEFT_SETS if layout is None else layout.left_sets
        right_sets = RIGHT_SETS if layout is None else layout.right_sets
        basis = identity_basis(int(model.dim), left_sets, right_sets)
    ops, _ = catalogue(model, k, m, basis.sets)
    basis.check(ops)
    transformed = basis.transformed
    in_eigenbasis = to_eigenbasis(vectors, ops[:, transformed])

    def stack(members):
        position = np.searchsorted(transformed, members)
        if np.array_equal(position, np.arange(len(transformed))):  # all of them, in order
            return in_eigenbasis
        return in_eigenbasis[:, position]

    return EigenData(
        energies=energies,
        vectors=vectors,
        left=stack(basis.left_basis),
        right=stack(basis.right_basis),
    )


def surface_kernel(energies: np.ndarray, ef: np.ndarray, eta: float) -> np.ndarray:
    """Fermi-surface kernel kappa_I(m, n) at T = 0, shape (Nk, nEF, N, N), index order [m, n].

    With x_n = EF - e_n and D_n = x_n^2 + eta^2 the definition reduces to
    kappa_I(m, n) = [4 eta^2 - 2 i eta (e_m - e_n)] / (4 pi D_m D_n).
    """
    inv_d = 1.0 / ((np.asarray(ef)[None, :, None] - energies[:, None, :]) ** 2 + eta**2)
    prod = inv_d[..., :, None] * inv_d[..., None, :]
    split = energies[:, None, :, None] - energies[:, None, None, :]
    return (eta**2 / np.pi) * prod - 1j * (eta / (2 * np.pi)) * split * prod


def _arg_difference(x_m: np.ndarray, x_n: np.ndarray, eta: float) -> np.ndarray:
    """arg(x_m + i eta) - arg(x_n + i eta) in (-pi, pi), with one arctan2 per pair."""
    return np.arctan2(eta * (x_n - x_m), x_m * x_n + eta**2)


def _sea_series(d: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Im of J = -d sum_j (j + 1) (d^2/4)^j / ((2j + 3) u^(2j + 3)), for |d| << |u|."""
    q = (0.25 * d**2) / u**2
    term = 1.0 / (3.0 * u**3)
    total = term.copy()
    for j in range(1, SERIES_TERMS):
        term = term * q * (j + 1) / j * (2 * j + 1) / (2 * j + 3)
        total += term
    return (-d * total).imag


def _sea_pairs(d, x_m, x_n, inv_m, inv_n, arg_diff, eta, scale=1.0, denominator=None):
    """scale x Im J from per-band terms: closed form where |d| >= 0.2 |u|, series elsewhere.

    d = e_m - e_n (broadcasts against the others, e.g. one value per k point and pair);
    x_* = EF - e_* (so Re u = (x_m + x_n)/2); inv_* = 1/|EF - e_* + i eta|^2;
    arg_diff = arg(EF - e_m + i eta) - arg(EF - e_n + i eta); denominator = x_m x_n + eta^2
    if already at hand. Re u is formed only for the pairs that take the series.
    """
    shape = np.broadcast_shapes(np.shape(d), np.shape(x_m), np.shape(x_n))
    if denominator is None:
        denominator = x_m * x_n + eta**2
    # |u|^2 = x_m x_n + eta^2 + d^2/4, so |d| < SERIES_RATIO |u| <=> the test below
    small = np.broadcast_to(denominator > (SERIES_RATIO**-2 - 0.25) * (d * d), shape)
    d_safe = np.where(d == 0, 1.0, d)
    # (eta/d)(inv_m + inv_n) - (2/d^2) arg_diff, as (2/d^2) [(eta d/2)(inv_m + inv_n) - arg_diff]
    out = np.add(inv_m, inv_n, out=np.empty(shape))
    out *= 0.5 * eta * d_safe
    out -= arg_diff
    out *= scale * 2.0 / d_safe**2
    idx = np.nonzero(small)
    if idx[0].size:
        d_full, xm_full, xn_full = np.broadcast_arrays(d, x_m, x_n)
        mid_x = 0.5 * (xm_full[idx] + xn_full[idx])
        out[idx] = scale * _sea_series(d_full[idx], mid_x + 1j * eta)
    return out


def sea_integral(d: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Im J(a, b) for a - b = d (real) and u = EF - (a + b)/2 (Im u = eta > 0), elementwise.

    J(a, b) = int_{-inf}^{EF} dE (a - b)/((E - a)^2 (E - b)^2). With x = EF - a = u - d/2,
    y = EF - b = u + d/2 (both in the upper half plane):
        Im J = (eta/d)(1/|x|^2 + 1/|y|^2) - (2/d^2)(arg x - arg y)          (|d| >= 0.2 |u|)
        J = -d sum_j (j + 1) (d^2/4)^j / ((2j + 3) u^(2j + 3))               (|d| < 0.2 |u|)
    (the closed form cancels catastrophically as d -> 0; the series converges for |d| < 2|u|).
    """
    d, u = np.broadcast_arrays(np.asarray(d, dtype=float), np.asarray(u, dtype=complex))
    eta = u.imag
    x_re, y_re = u.real - 0.5 * d, u.real + 0.5 * d
    inv_x, inv_y = 1.0 / (x_re**2 + eta**2), 1.0 / (y_re**2 + eta**2)
    out = np.empty(d.shape)
    for value in np.unique(eta):  # _sea_pairs takes one eta
        sel = eta == value
        arg_diff = _arg_difference(x_re[sel], y_re[sel], value)
        out[sel] = _sea_pairs(d[sel], x_re[sel], y_re[sel], inv_x[sel], inv_y[sel], arg_diff, value)
    return out


def sea_pair_kernel(energies: np.ndarray, ef: np.ndarray, eta: float) -> np.ndarray:
    """s(m, n) = Im J(a_m, a_n) / (2 pi) for the band pairs m < n (np.triu_indices order).

    kappa_II(m, n) = i s(m, n) = -kappa_II(n, m). Shape (Nk, nEF, N(N-1)/2).
    """
    return kernel_features(energies, ef, eta)[1].swapaxes(1, 2)


def sea_kernel(energies: np.ndarray, ef: np.ndarray, eta: float) -> np.ndarray:
    """Fermi-sea kernel kappa_II(m, n) at T = 0, shape (Nk, nEF, N, N), index order [m, n]."""
    nk, n = energies.shape
    upper, lower = np.triu_indices(n, 1)
    value = sea_pair_kernel(energies, ef, eta)
    out = np.zeros((nk, value.shape[1], n, n), dtype=complex)
    out[:, :, upper, lower] = 1j * value
    out[:, :, lower, upper] = -1j * value
    return out


# --- real-feature form of sum_{n,m} A_nm B_mn kappa(m, n) -------------------------------------
# Using kappa_I(n, m) = conj kappa_I(m, n) and kappa_II(n, m) = -kappa_II(m, n) = conj(...):
#   surface = sum_n A_nn B_nn kappa_I(n,n) + sum_{m<n} [2 Re(A_nm B_mn) Re kappa_I(m,n)
#                                                      - 2 Im(A_nm B_mn) Im kappa_I(m,n)]
#   sea     = sum_{m<n} -[Im(A_nm B_mn) - Im(A_mn B_nm)] s(m,n)
# Each is a real dot product between "pair features" (operators only) and "kernel features"
# (energies only), so the k sum for all Fermi levels is one real matrix product.


def pair_features(eig: EigenData, eta: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Operator features: surface (Nk, N^2, nL*nR) and sea (Nk, N(N-1)/2, nL*nR), real.

    Surface: A_nn B_nn, 2 Re(A_nm B_mn), -2 Im(A_nm B_mn) (m < n). All operators are
    Hermitian, so Im(A_mn B_nm) = -Im(A_nm B_mn) and the sea feature
    Im(A_mn B_nm) - Im(A_nm B_mn) is the last block of the surface features (a view).

    With ``eta`` the surface features match :func:`kernel_features` (N + N(N-1)/2 of them):
    Im kappa_I(m, n) = -(e_m - e_n) / (2 eta) Re kappa_I(m, n) at every level, so each pair's
    Im feature is folded into its Re feature with that factor (one feature fewer per pair in
    every per-level product).
    """
    nk, nl, n = eig.left.shape[:3]
    nr = eig.right.shape[1]
    upper, lower = _pairs(n)
    n_pair = len(upper)
    left = eig.left.reshape(nk, nl, n * n)
    right = eig.right.reshape(nk, nr, n * n)
    diag = np.arange(n) * (n + 1)
    out = np.empty((nk, n + 2 * n_pair, nl, nr))
    out[:, :n] = np.einsum("kln,krn->knlr", left[:, :, diag].real, right[:, :, diag].real)
    # A_nm B_mn with m = upper < n = lower
    ab = np.einsum("klp,krp->kplr", left[:, :, lower * n + upper], right[:, :, upper * n + lower])
    np.multiply(ab.real, 2.0, out=out[:, n : n + n_pair])
    np.multiply(ab.imag, -2.0, out=out[:, n + n_pair :])
    full = out.reshape(nk, n + 2 * n_pair, nl * nr)
    sea = full[:, n + n_pair :]
    if eta is None:
        return full, sea
    full[:, n : n + n_pair] += _im_fold(eig.energies, eta)[:, :, None] * sea
    return full[:, : n + n_pair], sea


def _im_fold(energies: np.ndarray, eta: float) -> np.ndarray:
    """(Nk, pairs) Im kappa_I(m, n) / Re kappa_I(m, n) = -(e_m - e_n) / (2 eta), m < n."""
    upper, lower = _pairs(energies.shape[1])
    return (energies[:, upper] - energies[:, lower]) * (-0.5 / eta)


@functools.cache
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Band pairs (m, n) with m < n of N bands: (upper, lower) = np.triu_indices(N, 1)."""
    upper, lower = np.triu_indices(n, 1)
    upper.flags.writeable = lower.flags.writeable = False  # shared between calls
    return upper, lower


def kernel_features(
    energies: np.ndarray, ef: np.ndarray, eta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel features matching :func:`pair_features` with eta: surface (Nk, N + N(N-1)/2, nEF),
    sea (Nk, N(N-1)/2, nEF).

    Surface: kappa_I(n, n) = eta^2/(pi D_n^2) and Re kappa_I(m, n) for m < n, from the
    closed form of :func:`surface_kernel` evaluated only for those pairs (Im kappa_I(m, n) is
    Re kappa_I(m, n) times a factor of the pair alone, folded into the operator features).
    Sea: s(m, n) of :func:`sea_pair_kernel`. Built with the Fermi level last, the layout the
    k sums use; the factors that depend only on the pair (e_m - e_n) are formed once per k
    point.
    """
    nk, n = energies.shape
    upper, lower = _pairs(n)
    n_pair = len(upper)
    ef = np.asarray(ef, dtype=float)
    x = ef[None, None, :] - energies[:, :, None]  # (Nk, N, nEF)
    inv = np.multiply(x, x)
    inv += eta**2
    np.reciprocal(inv, out=inv)
    if n == 2:  # the single pair (0, 1), as views
        inv_m, inv_n, x_m, x_n = inv[:, :1], inv[:, 1:], x[:, :1], x[:, 1:]
    else:
        inv_m, inv_n, x_m, x_n = inv[:, upper], inv[:, lower], x[:, upper], x[:, lower]
    split = (energies[:, upper] - energies[:, lower])[:, :, None]  # (Nk, pairs, 1)
    surface = np.empty((nk, n + n_pair, x.shape[2]))
    diag = np.multiply(inv, inv, out=surface[:, :n])
    diag *= eta**2 / np.pi
    prod = np.multiply(inv_m, inv_n, out=surface[:, n:])
    prod *= eta**2 / np.pi
    denominator = np.multiply(x_m, x_n)
    denominator += eta**2
    if n <= 3:  # one arctan2 per pair: x_n - x_m = e_m - e_n
        arg_diff = np.arctan2(eta * split, denominator)
    else:  # one per band
        arg = np.arctan2(eta, x)
        arg_diff = arg[:, upper] - arg[:, lower]
    sea = _sea_pairs(
        split, x_m, x_n, inv_m, inv_n, arg_diff, eta, scale=1 / (2 * np.pi), denominator=denominator
    )
    return surface, sea


# energies on one ring that agree to this many ulp of the largest are taken as equal
ISOTROPY_ULPS = 64


def isotropic_energies(energies: np.ndarray, angles: int, eta: float) -> np.ndarray | None:
    """Band energies per radial node (Nk / angles, N) if the Nk points, in groups of ``angles``
    consecutive points, have the same energies within each group (to ISOTROPY_ULPS ulp of the
    largest |e| or eta); else None."""
    if angles <= 1:
        return None
    groups = energies.reshape(-1, angles, energies.shape[-1])
    scale = max(float(np.max(np.abs(energies), initial=0.0)), eta)
    if np.max(np.abs(groups - groups[:, :1])) > ISOTROPY_ULPS * np.finfo(float).eps * scale:
        return None
    return groups[:, 0]


def smeared_kernel_features(
    energies: np.ndarray, ef: np.ndarray, eta: float, smearing: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`kernel_features`, combined over the levels by ``smearing`` (n_out, nEF) if given
    (thermal weights: the smeared kernels, (Nk, F, n_out))."""
    features = kernel_features(energies, ef, eta)
    if smearing is None:
        return features
    return tuple(np.matmul(psi, smearing.T) for psi in features)


def weighted_response(
    eig: EigenData,
    ef: np.ndarray,
    eta: float,
    weights: np.ndarray,
    angles: int = 1,
    smearing: np.ndarray | None = None,
) -> np.ndarray:
    """Quadrature sums sum_k w[k] x (response density at k) for batches of k points.

    ``weights`` has shape (P, Q, nw): P batches of Q points each (the eigendata holds the P*Q
    points in that order) and nw weight sets (a rule and its embedded rules). Each batch is one
    real matrix product over (k, feature): the weights go onto the smaller factor (the kernel
    features for few Fermi levels, the operator features for many). ``weights`` may also be a
    :class:`~.integrate.rules.ProductWeights` (radial x angular rules): then the products run
    once per distinct angular rule and the sets are finished by radial sums
    (:func:`_product_response`).

    ``angles``: each batch is Q / angles radial nodes x ``angles`` angles (radial-major). When
    the band energies do not depend on the angle (isotropic bands about the polar centre), the
    kernels are evaluated once per radial node and the operator features are summed over the
    angles first: the same sums, ``angles`` times fewer kernel evaluations and products.
    ``smearing`` (n_out, nEF): the levels' kernels are combined with these weights first
    (thermal smearing before the k sum), and the outputs are the n_out combinations.
    Returns (P, nw, 2, nL, nR, nEF or n_out) with parts (sea, surface): the Fermi level last,
    the layout the products give for many levels.
    """
    ef = np.atleast_1d(np.asarray(ef, dtype=float))
    radial = isotropic_energies(eig.energies, angles, eta)
    if isinstance(weights, ProductWeights):
        if radial is None:
            return _product_response(eig, ef, eta, weights, smearing)
        weights = weights.full()
    n_batch, n_q, n_w = weights.shape
    n_e = len(ef) if smearing is None else len(smearing)
    nl, nr = eig.left.shape[1], eig.right.shape[1]
    if radial is not None:
        return _isotropic_response(eig, radial, ef, eta, weights, angles, smearing)
    out = np.empty((n_batch, n_w, 2, nl * nr, n_e))
    features = zip(
        pair_features(eig, eta)[::-1],
        smeared_kernel_features(eig.energies, ef, eta, smearing)[::-1],
        strict=True,
    )
    for part, (phi, psi) in enumerate(features):  # phi (Nk, F, nLR), psi (Nk, F, nEF)
        n_f = phi.shape[1]
        w = weights[:, :, None, :, None]  # (P, Q, 1, nw, 1)
        if n_e <= nl * nr:
            wpsi = (w * psi.reshape(n_batch, n_q, n_f, 1, n_e)).reshape(n_batch, n_q * n_f, -1)
            lhs = phi.reshape(n_batch, n_q * n_f, nl * nr)
            res = lhs.transpose(0, 2, 1) @ wpsi  # (P, nLR, nw nEF)
            out[:, :, part] = res.reshape(n_batch, nl * nr, n_w, n_e).swapaxes(1, 2)
        else:
            wphi = (w * phi.reshape(n_batch, n_q, n_f, 1, nl * nr)).reshape(n_batch, n_q * n_f, -1)
            rhs = psi.reshape(n_batch, n_q * n_f, n_e)
            res = wphi.transpose(0, 2, 1) @ rhs  # (P, nw nLR, nEF)
            out[:, :, part] = res.reshape(n_batch, n_w, nl * nr, n_e)
    return out.reshape(n_batch, n_w, 2, nl, nr, n_e)


def _product_response(
    eig: EigenData,
    ef: np.ndarray,
    eta: float,
    rules: ProductWeights,
    smearing: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`weighted_response` for product rules: per cell and radial node, one matrix
    product over (angle, feature) per distinct angular rule (its weights and the Jacobian on
    the smaller factor), then each set's radial rule as one product over the radial nodes.
    The same sums as with the full weights, with n_angular instead of n_sets products over the
    points (measured 1.2-5x faster for 5 sets and 2 angular rules)."""
    n_batch, n_q, n_a = rules.jac.shape
    n_e = len(ef) if smearing is None else len(smearing)
    nl, nr = eig.left.shape[1], eig.right.shape[1]
    n_lr = nl * nr
    out = np.empty((n_batch, rules.n_sets, 2, n_lr * n_e))
    features = zip(
        pair_features(eig, eta)[::-1],
        smeared_kernel_features(eig.energies, ef, eta, smearing)[::-1],
        strict=True,
    )
    rad_index, ang_index = np.array(rules.rad_index), np.array(rules.ang_index)
    for part, (phi, psi) in enumerate(features):  # phi (Nk, F, nLR), psi (Nk, F, nE)
        n_f = phi.shape[1]
        phi = phi.reshape(n_batch * n_q, n_a * n_f, n_lr)
        psi = psi.reshape(n_batch * n_q, n_a, n_f, n_e)
        for j in np.unique(ang_index):
            # angular weights x Jacobian (P Q, A): the angular sums per radial node
            w = (rules.angular[:, j, None, :] * rules.jac).reshape(n_batch * n_q, n_a, 1, 1)
            if n_e <= n_lr:
                node = phi.transpose(0, 2, 1) @ (w * psi).reshape(n_batch * n_q, n_a * n_f, n_e)
            else:
                wphi = w * phi.reshape(n_batch * n_q, n_a, n_f, n_lr)
                node = wphi.reshape(n_batch * n_q, n_a * n_f, n_lr).transpose(0, 2, 1) @ (
                    psi.reshape(n_batch * n_q, n_a * n_f, n_e)
                )
            sets = np.flatnonzero(ang_index == j)
            # (P, sets, Q) @ (P, Q, nLR nE): the radial rules of those sets
            out[:, sets, part] = rules.radial[:, rad_index[sets]] @ node.reshape(
                n_batch, n_q, n_lr * n_e
            )
    return out.reshape(n_batch, rules.n_sets, 2, nl, nr, n_e)


def _isotropic_response(
    eig: EigenData,
    radial: np.ndarray,
    ef: np.ndarray,
    eta: float,
    weights: np.ndarray,
    angles: int,
    smearing: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`weighted_response` for angle-independent energies ``radial`` (P R, N)."""
    n_batch, n_q, n_w = weights.shape
    n_rad, n_e = n_q // angles, len(ef) if smearing is None else len(smearing)
    nl, nr = eig.left.shape[1], eig.right.shape[1]
    n = radial.shape[1]
    surface = pair_features(eig)[0]  # (Nk, F, nLR); the sea features are its last block
    n_f = surface.shape[1]
    # angular sums of the weighted operator features: (P R, nw, angles) @ (P R, angles, F nLR)
    w = weights.reshape(n_batch * n_rad, angles, n_w).transpose(0, 2, 1)
    summed = w @ surface.reshape(n_batch * n_rad, angles, n_f * nl * nr)
    summed = summed.reshape(n_batch * n_rad, n_w, n_f, nl * nr)
    # the Im surface features folded into the Re ones per radial node (see pair_features)
    sea_start = n + len(_pairs(n)[0])
    fold = _im_fold(radial, eta)  # (P R, pairs)
    summed[:, :, n:sea_start] += fold[:, None, :, None] * summed[:, :, sea_start:]
    summed = summed.reshape(n_batch, n_rad, n_w, n_f, nl * nr).transpose(0, 2, 4, 1, 3)
    out = np.empty((n_batch, n_w, 2, nl * nr, n_e))
    kernels = smeared_kernel_features(radial, ef, eta, smearing)[::-1]  # sea, surface
    parts = (summed[..., sea_start:], summed[..., :sea_start])
    for part, (phi, psi) in enumerate(zip(parts, kernels, strict=True)):
        f = phi.shape[-1]
        lhs = phi.reshape(n_batch, n_w, nl * nr, n_rad * f)
        # (P, nw, nLR, nEF), written in place
        np.matmul(lhs, psi.reshape(n_batch, 1, n_rad * f, n_e), out=out[:, :, part])
    return out.reshape(n_batch, n_w, 2, nl, nr, n_e)


def response_density(eig: EigenData, ef: np.ndarray, eta: float) -> np.ndarray:
    """Integrand of Lambda[A_a, B_b] per k point (before the k measure), both parts, all EF.

    Returns a real array of shape (Nk, nEF, 2, nL, nR): part 0 = sea (II), part 1 = surface (I).
    """
    ones = np.ones((len(eig.energies), 1, 1))
    return np.moveaxis(weighted_response(eig, ef, eta, ones)[:, 0], -1, 1)


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
    energies, vectors = hermitian_eigh(ham)
    drive = np.zeros_like(ham)
    if dm_dt is not None:
        drive = drive + np.einsum(
            "b,kbij->kij", np.asarray(dm_dt, float), model.exchange_derivative(k, m)
        )
    if force is not None:
        drive = drive + np.einsum("j,kjab->kab", np.asarray(force, float), model.velocity(k, m))
    drive_eig = to_eigenbasis(vectors, drive[:, None])[:, 0]
    ef_arr = np.array([float(ef)])
    out = {}
    for part, kernel in (("sea", sea_kernel), ("surface", surface_kernel)):
        rho_eig = kernel(energies, ef_arr, eta)[:, 0] * drive_eig
        out[part] = vectors @ rho_eig @ np.conj(vectors.swapaxes(-1, -2))
    return out
