"""The paper's small-eta closed forms, corrected (SPEC.md sec. 7), for any two-band model.

Write H(k) = e0 + h . tau, an observable A = a0 + a . tau and a generator B = b0 + b . tau
(tau: the Pauli matrices of the model's 2x2 basis; every block below is obtained by Pauli
decomposition of the model's own operators, so any two-band :class:`BlochModel` on a k disk
works). Bands e_1,2 = e0 +/- |h|, occupations f_1,2, Fermi-surface weights d_n = -f'_n =
delta(EF - e_n) >= 0 (T = 0). To order eta^0 (paper Eq. 10 with the corrections of SPEC.md
sec. 7; for A = sigma and B = D H it is the vector form there):

    Lambda_sea  =  h.(a x b) (f1 - f2) / (2|h|^3)  +  h.(a x b) (d1 + d2) / (2|h|^2)
    Lambda_surf = -h.(a x b) (d1 + d2) / (2|h|^2)
                  + sum_{s=+-} (a0 + s a.hhat)(b0 + s b.hhat) d_s / (2 eta)
                  + eta a_perp . b_perp (d1 + d2) / (2|h|^2),

a_perp = a - (a.hhat) hhat. The four k integrals, the "pieces",

    intrinsic     int h.(a x b)(f1 - f2)/(2|h|^3)      (area integral over the occupied region)
    berry         int h.(a x b)(d1 + d2)/(2|h|^2)      (Fermi contour)
    intraband     int sum_s (a0 + s a.hhat)(b0 + s b.hhat) d_s / 2   (Fermi contour, x 1/eta)
    transverse    int a_perp . b_perp (d1 + d2)/(2|h|^2)            (Fermi contour, x eta)

do not depend on eta: sea = intrinsic + berry, surface = -berry + intraband/eta + eta transverse,
and total = intrinsic + intraband/eta + eta transverse. The (f1 - f2) term is the whole
intrinsic response (the mixed Berry curvature of Kurebayashi et al., Nature Nanotech. 9, 211
(2014)). The eta term is the paper's (corrected) one; it is not the complete O(eta) correction
(the Lorentzian tails of the intraband term add to it), so the closed forms agree with the full
engine to O(eta): the 1/eta and eta^0 orders are exact. Paper Eq. (11), the conductivity, is
the A = v_i, B = v_j block (``current_force``); :func:`conductivity_closed_form` converts it.

How the T = 0 delta functions are integrated (exactly)
-------------------------------------------------------
Polar coordinates about the model's band centre k_c. Along each ray (angle phi) the Fermi
crossings r_j(phi) are bracketed on a fine radial grid and bisected to machine precision. The
contour integrals are done analytically in r:

    int d^2k/(2pi)^2 g(k) delta(EF - e_n(k)) = int dphi/(2pi)^2 sum_j r_j g(k_j) / |de_n/dr|(k_j),

and the area integral uses a Fermi-contour-adapted radial coordinate rho in [0, 1], mapped
piecewise linearly onto [0, r_1(phi), ..., r_N(phi), r_max(phi)] (r_max: the cutoff circle
|k| = cutoff), so the step of f1 - f2 sits exactly on panel boundaries of the existing adaptive
:class:`~spintorque.integrate.disk.DiskIntegrator` run over the unit rho disk (the contour
integrand is spread uniformly over that disk, weight 2, so both kinds share one integral). The
result is exact in the eta -> 0 sense, with no artificial smearing. Requirement: every ray from
k_c crosses the Fermi contours the same number of times (star-shaped contours); otherwise
:class:`~spintorque.errors.ParameterError` is raised.

Units: raw, hbar = e = 1, per unit area, Pauli sigma (SPEC.md sec. 2), as in
:func:`spintorque.response`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .engine import BLOCKS, block_tolerance, operator_slices
from .errors import ConvergenceWarning, ParameterError
from .integrate.disk import DiskIntegrator
from .models.base import PAULI, BlochModel, Disk
from .responses import AXES, CONVENTIONS, PARTS, pad_to_3d, validate_magnetization

PIECES = ("intrinsic", "berry", "intraband", "transverse")
N_RADIAL_SAMPLES = 2048  # radial grid that brackets Fermi crossings along each ray
N_BISECTIONS = 56  # bracket width / 2^56 < 1e-16 of the ray length
ANGLE_KEY_SCALE = 2.0**32  # integrator angles are 2 pi j / 2^p: exact integer keys


@dataclass(frozen=True)
class PauliOperators:
    """A stack of 2x2 operators O = o0 + o . tau at Nk points: scalar (Nk, n), vector (Nk, n, 3)."""

    scalar: np.ndarray
    vector: np.ndarray


def pauli_decompose(ops: np.ndarray) -> PauliOperators:
    """o0 = Tr O / 2 and o_c = Tr(O tau_c) / 2 for Hermitian 2x2 operators ``ops`` (..., 2, 2)."""
    scalar = 0.5 * np.real(ops[..., 0, 0] + ops[..., 1, 1])
    vector = 0.5 * np.real(np.einsum("...ij,cji->...c", ops, PAULI))
    return PauliOperators(scalar, vector)


def _operators(model: BlochModel, k: np.ndarray, m: np.ndarray):
    """(e0, h, left A, right B) at k: left = sigma | v | dH/dm, right = dH/dm | v (engine order)."""
    ham = pauli_decompose(model.hamiltonian(k, m))
    vel = np.asarray(model.velocity(k, m))
    exch = np.asarray(model.exchange_derivative(k, m))
    spin = np.broadcast_to(np.asarray(model.spin_operators), (len(k), 3, 2, 2))
    left = pauli_decompose(np.concatenate([spin, vel, exch], axis=1))
    right = pauli_decompose(np.concatenate([exch, vel], axis=1))
    return ham.scalar, ham.vector, left, right


def _triple(h: np.ndarray, left: PauliOperators, right: PauliOperators) -> np.ndarray:
    """h.(a x b) for every pair (A, B): (Nk, nL, nR)."""
    return np.einsum("kli,kri->klr", left.vector, np.cross(right.vector, h[:, None, :]))


def intrinsic_density(model: BlochModel, k: np.ndarray, m: np.ndarray, ef: float) -> np.ndarray:
    """h.(a x b)(f1 - f2)/(2|h|^3) at T = 0 at each k: (Nk, nL, nR); zero where f1 = f2."""
    e0, h, left, right = _operators(model, k, m)
    norm = np.linalg.norm(h, axis=1)
    occ_diff = (e0 + norm < ef).astype(float) - (e0 - norm < ef).astype(float)
    active = occ_diff != 0
    weight = np.zeros_like(norm)
    weight[active] = occ_diff[active] / (2.0 * norm[active] ** 3)
    return _triple(h, left, right) * weight[:, None, None]


def contour_densities(
    model: BlochModel, k: np.ndarray, m: np.ndarray, band: np.ndarray
) -> np.ndarray:
    """Coefficients of delta(EF - e_band) at points k on band ``band`` (0: e0 - |h|, 1: e0 + |h|).

    Returns (Nk, 3, nL, nR): berry h.(a x b)/(2|h|^2); intraband (a0 + s a.hhat)(b0 + s b.hhat)/2
    with s = +1 on the upper band; transverse a_perp . b_perp / (2|h|^2).
    """
    _, h, left, right = _operators(model, k, m)
    norm2 = np.sum(h**2, axis=1)
    hhat = h / np.sqrt(norm2)[:, None]
    sign = np.where(np.asarray(band) == 1, 1.0, -1.0)[:, None]
    a_par = np.einsum("kli,ki->kl", left.vector, hhat)
    b_par = np.einsum("kri,ki->kr", right.vector, hhat)
    a_band = left.scalar + sign * a_par
    b_band = right.scalar + sign * b_par
    berry = _triple(h, left, right) / (2 * norm2)[:, None, None]
    intraband = 0.5 * a_band[:, :, None] * b_band[:, None, :]
    dot = np.einsum("kli,kri->klr", left.vector, right.vector)
    transverse = (dot - a_par[:, :, None] * b_par[:, None, :]) / (2 * norm2)[:, None, None]
    return np.stack([berry, intraband, transverse], axis=1)


def _band_slope(
    model: BlochModel, k: np.ndarray, m: np.ndarray, band: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """de_n/dr = u . grad e_n with grad e_(+/-) = grad e0 +/- (grad h) . hhat."""
    h = pauli_decompose(model.hamiltonian(k, m)).vector
    vel = pauli_decompose(np.asarray(model.velocity(k, m)))  # scalar (Nk, dim), vector (Nk, dim, 3)
    hhat = h / np.linalg.norm(h, axis=1)[:, None]
    sign = np.where(np.asarray(band) == 1, 1.0, -1.0)
    grad = vel.scalar + sign[:, None] * np.einsum("kjc,kc->kj", vel.vector, hhat)
    return np.sum(grad * u, axis=1)


class ContourGeometry:
    """Rays from the band centre k_c, their Fermi crossings and the adapted radial coordinate.

    Parameters
    ----------
    model : two-band model on a :class:`Disk`.  m : unit magnetization.  ef : Fermi level.
    """

    def __init__(self, model: BlochModel, m: np.ndarray, ef: float) -> None:
        self.model, self.m, self.ef = model, m, float(ef)
        self.cutoff = float(model.k_domain.cutoff)
        center = np.asarray(model.band_center(m), dtype=float)
        self.center = center if np.hypot(*center) < 0.5 * self.cutoff else np.zeros(2)
        self.n_cross: int | None = None
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}

    def r_max(self, phi: np.ndarray) -> np.ndarray:
        """Distance from k_c to the circle |k| = cutoff along phi."""
        proj = self.center[0] * np.cos(phi) + self.center[1] * np.sin(phi)
        return -proj + np.sqrt(self.cutoff**2 - self.center @ self.center + proj**2)

    def _bands(self, k: np.ndarray) -> np.ndarray:
        ham = pauli_decompose(self.model.hamiltonian(k, self.m))
        norm = np.linalg.norm(ham.vector, axis=-1)
        return np.stack([ham.scalar - norm, ham.scalar + norm], axis=-1)

    def _ray_points(self, phi: np.ndarray, r: np.ndarray) -> np.ndarray:
        u = np.stack([np.cos(phi), np.sin(phi)], axis=-1)
        return self.center + r[..., None] * u

    def _crossings(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sorted crossing radii (n_phi, N) and their bands for angles ``phi``."""
        s = np.unique(
            np.concatenate(
                [
                    np.geomspace(1e-8, 1.0 / N_RADIAL_SAMPLES, 16),
                    np.linspace(0.0, 1.0, N_RADIAL_SAMPLES + 1),
                ]
            )
        )
        r = self.r_max(phi)[:, None] * s[None, :]
        k = self._ray_points(np.broadcast_to(phi[:, None], r.shape), r).reshape(-1, 2)
        diff = self._bands(k).reshape(len(phi), len(s), 2) - self.ef
        sign_change = diff[:, :-1, :] * diff[:, 1:, :] < 0
        counts = sign_change.sum(axis=(1, 2))
        if np.any(counts != counts[0]):
            raise ParameterError(
                f"the Fermi contours at ef={self.ef:g} are not star-shaped about the band centre "
                f"({self.center[0]:g}, {self.center[1]:g}): rays cross them "
                f"{sorted(set(counts.tolist()))} times; the closed forms need one crossing count "
                "for every direction"
            )
        ray, idx, band = np.nonzero(sign_change)
        lo, hi = r[ray, idx], r[ray, idx + 1]
        lo_sign = np.sign(diff[ray, idx, band])
        for _ in range(N_BISECTIONS):
            mid = 0.5 * (lo + hi)
            val = self._bands(self._ray_points(phi[ray], mid))[np.arange(len(mid)), band] - self.ef
            left = np.sign(val) == lo_sign
            lo, hi = np.where(left, mid, lo), np.where(left, hi, mid)
        radii = (0.5 * (lo + hi)).reshape(len(phi), -1)
        bands = band.reshape(len(phi), -1)
        order = np.argsort(radii, axis=1)
        return np.take_along_axis(radii, order, 1), np.take_along_axis(bands, order, 1)

    @staticmethod
    def angle_keys(phi: np.ndarray) -> np.ndarray:
        """Integer keys of angles: round(phi / 2 pi x 2^32) mod 2^32 (exact for 2 pi j / 2^p)."""
        keys = np.round(np.mod(phi, 2 * np.pi) / (2 * np.pi) * ANGLE_KEY_SCALE).astype(np.int64)
        return np.mod(keys, int(ANGLE_KEY_SCALE))

    @staticmethod
    def key_angles(keys: np.ndarray) -> np.ndarray:
        return 2 * np.pi * np.asarray(keys, dtype=float) / ANGLE_KEY_SCALE

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(radii (n, N), bands (n, N), r_max (n,)) for angle keys, cached per key."""
        missing = sorted({int(x) for x in np.unique(keys)} - self._cache.keys())
        if missing:
            angles = self.key_angles(missing)
            radii, bands = self._crossings(angles)
            if self.n_cross is None:
                self.n_cross = radii.shape[1]
            elif radii.shape[1] != self.n_cross:
                raise ParameterError(
                    f"the Fermi contours at ef={self.ef:g} are not star-shaped about the band "
                    f"centre: {self.n_cross} and {radii.shape[1]} crossings on different rays"
                )
            for key, rad, bnd, rmax in zip(missing, radii, bands, self.r_max(angles), strict=True):
                self._cache[key] = (rad, bnd, float(rmax))
        rows = [self._cache[int(x)] for x in keys]
        return (
            np.array([r[0] for r in rows]).reshape(len(rows), -1),
            np.array([r[1] for r in rows]).reshape(len(rows), -1),
            np.array([r[2] for r in rows]),
        )

    def prepare(self) -> int:
        """Find the crossing count on the integrator's first angular grid; return it."""
        self.lookup(self.angle_keys(2 * np.pi * np.arange(16) / 16))
        return int(self.n_cross)


class _PointIntegrand:
    """Adapter of a pointwise integrand f(k) -> (Nk, C) to the DiskIntegrator's batch interface."""

    def __init__(self, func, n_components: int) -> None:
        self.func = func
        self.width = 2 * n_components  # floats held per k point while evaluating

    def __call__(self, k: np.ndarray) -> np.ndarray:
        return self.func(k)

    def weighted_sums(self, k: np.ndarray, weights: np.ndarray, angles: int = 1) -> np.ndarray:
        """sum over each batch of Q points of weight x f(k): (P, nw, C) for k (P, Q, 2)."""
        values = self.func(k.reshape(-1, k.shape[-1])).reshape(*k.shape[:2], -1)
        return np.einsum("pqw,pqc->pwc", weights, values)


def _adapted_integrand(geometry: ContourGeometry, n_out: tuple[int, int]) -> _PointIntegrand:
    """Integrand over the unit rho disk: intrinsic (area) + the three contour pieces (weight 2)."""
    model, m, ef = geometry.model, geometry.m, geometry.ef
    n_l, n_r = n_out

    def integrand(q: np.ndarray) -> np.ndarray:
        rho = np.hypot(q[:, 0], q[:, 1])
        phi = np.mod(np.arctan2(q[:, 1], q[:, 0]), 2 * np.pi)
        keys, inverse = np.unique(geometry.angle_keys(phi), return_inverse=True)
        uniq = geometry.key_angles(keys)
        radii, bands, rmax = geometry.lookup(keys)
        n_cross = radii.shape[1]
        nodes = np.concatenate([np.zeros((len(uniq), 1)), radii, rmax[:, None]], axis=1)[inverse]
        seg = np.minimum((rho * (n_cross + 1)).astype(int), n_cross)
        frac = rho * (n_cross + 1) - seg
        r0, r1 = (
            np.take_along_axis(nodes, seg[:, None], 1)[:, 0],
            np.take_along_axis(nodes, seg[:, None] + 1, 1)[:, 0],
        )
        r = r0 + frac * (r1 - r0)
        jac = r * (n_cross + 1) * (r1 - r0) / rho
        u = np.stack([np.cos(phi), np.sin(phi)], axis=1)
        out = np.zeros((len(q), 4, n_l, n_r))
        out[:, 0] = (
            intrinsic_density(model, geometry.center + r[:, None] * u, m, ef) * jac[:, None, None]
        )
        if n_cross:
            u_c = np.repeat(np.stack([np.cos(uniq), np.sin(uniq)], axis=1), n_cross, axis=0)
            k_c = geometry.center + radii.reshape(-1, 1) * u_c
            band = bands.ravel()
            weight = radii.ravel() / np.abs(_band_slope(model, k_c, m, band, u_c))
            dens = contour_densities(model, k_c, m, band) * weight[:, None, None, None]
            per_angle = dens.reshape(len(uniq), n_cross, 3, n_l, n_r).sum(axis=1)
            out[:, 1:] = 2.0 * per_angle[inverse]
        return out.reshape(len(q), -1)

    return _PointIntegrand(integrand, 4 * n_l * n_r)


@dataclass(frozen=True)
class PiecesResult:
    """The four eta-independent pieces (4, nL, nR) of every block at one EF, with errors."""

    value: np.ndarray
    error: np.ndarray
    converged: bool
    n_points: int


def closed_form_pieces_raw(
    model: BlochModel, ef: float, m: np.ndarray, rtol: float, max_points: int
) -> PiecesResult:
    """Integrate the four pieces at one Fermi level (raw arrays, engine operator order)."""
    if not isinstance(model.k_domain, Disk) or int(model.n_bands) != 2:
        raise ParameterError(
            "the closed forms need a two-band continuum model on a k disk, "
            f"got n_bands={model.n_bands}, domain {type(model.k_domain).__name__}"
        )
    dim = int(model.dim)
    n_out = (6 + dim, 3 + dim)
    geometry = ContourGeometry(model, m, ef)
    n_cross = geometry.prepare()
    breaks = np.arange(1, n_cross + 1) / (n_cross + 1)
    integrator = DiskIntegrator(
        _adapted_integrand(geometry, n_out), cutoff=1.0, radial_breaks=breaks, max_points=max_points
    )

    def tolerance(flat: np.ndarray) -> np.ndarray:
        # (intrinsic, berry) and (intraband, transverse) share a scale, as sea/surface do
        grouped = flat.reshape(2, 2, *n_out)
        return block_tolerance(grouped, dim, rtol).ravel()

    result = integrator.integrate(tolerance)
    shape = (4, *n_out)
    return PiecesResult(
        result.value.reshape(shape), result.error.reshape(shape), result.converged, result.n_points
    )


def _blocks(arr: np.ndarray, dim: int) -> dict[str, np.ndarray]:
    """Split (..., nL, nR) into the named response blocks, zero-padded to 3 x 3."""
    left, right = operator_slices(dim)
    return {name: pad_to_3d(arr[..., left[ln], right[rn]]) for name, (ln, rn) in BLOCKS.items()}


def closed_form_pieces(
    model: BlochModel, *, ef, m=(0.0, 0.0, 1.0), rtol: float = 1e-8, max_points: int = 5_000_000
) -> xr.Dataset:
    """The eta-independent k integrals of the corrected Eq. (10), per block.

    Returns a Dataset with each block (dims [ef,] piece, i, j; piece in intrinsic, berry,
    intraband, transverse) and ``<block>_error``; :func:`combine_pieces` turns it into the
    sea/surface/total layout of :func:`spintorque.response` at any eta.
    """
    m_vec = validate_magnetization(m)
    ef_arr = np.atleast_1d(np.asarray(ef, dtype=float))
    results = [closed_form_pieces_raw(model, float(e), m_vec, rtol, max_points) for e in ef_arr]
    dim = int(model.dim)
    values = _blocks(np.stack([r.value for r in results]), dim)
    errors = _blocks(np.stack([r.error for r in results]), dim)
    dims = ("ef", "piece", "i", "j")
    data = {}
    for name in BLOCKS:
        data[name] = (dims, values[name])
        data[f"{name}_error"] = (dims, errors[name])
    ds = xr.Dataset(
        data, coords={"ef": ef_arr, "piece": list(PIECES), "i": list(AXES), "j": list(AXES)}
    )
    if np.ndim(ef) == 0:
        ds = ds.isel(ef=0)
    converged = all(r.converged for r in results)
    if not converged:
        warnings.warn(
            f"closed-form k integral not converged to rtol={rtol:g}",
            ConvergenceWarning,
            stacklevel=2,
        )
    ds.attrs.update(model_attrs(model))
    ds.attrs.update(
        {
            "m": m_vec.tolist(),
            "rtol": rtol,
            "converged": int(converged),
            "n_kpoints": int(sum(r.n_points for r in results)),
            "conventions": CONVENTIONS,
            "method": "closed forms (SPEC.md sec. 7), T = 0 Fermi contours",
        }
    )
    return ds


def model_attrs(model: BlochModel) -> dict[str, object]:
    """The model's name and parameters, as :func:`spintorque.response` records them."""
    attrs: dict[str, object] = {"model": getattr(model, "name", type(model).__name__)}
    params = model.parameters() if hasattr(model, "parameters") else {}
    attrs.update({f"model_{key}": val for key, val in params.items()})
    return attrs


def combine_pieces(pieces: xr.Dataset, eta: float) -> xr.Dataset:
    """sea = intrinsic + berry; surface = -berry + intraband/eta + eta transverse; total = sum.

    Returns the layout of :func:`spintorque.response` (dims [ef,] part, i, j).
    """
    if not (np.isfinite(eta) and eta > 0):
        raise ParameterError(f"eta must be a finite positive number, got {eta!r}")
    coef = {"sea": [1.0, 1.0, 0.0, 0.0], "surface": [0.0, -1.0, 1.0 / eta, eta]}
    coef["total"] = [s + f for s, f in zip(coef["sea"], coef["surface"], strict=True)]
    weights = xr.DataArray(
        [coef[p] for p in PARTS],
        dims=("part", "piece"),
        coords={"part": list(PARTS), "piece": list(PIECES)},
    )
    out = {}
    for name in BLOCKS:
        out[name] = xr.dot(weights, pieces[name], dim="piece")
        out[f"{name}_error"] = xr.dot(np.abs(weights), pieces[f"{name}_error"], dim="piece")
    dims = [d for d in ("ef", "part", "i", "j") if d in out["spin_exchange"].dims]
    ds = xr.Dataset({k: v.transpose(*dims) for k, v in out.items()})
    ds.attrs.update(pieces.attrs)
    ds.attrs["eta"] = float(eta)
    return ds


def closed_form(
    model: BlochModel,
    *,
    ef,
    eta: float,
    m=(0.0, 0.0, 1.0),
    rtol: float = 1e-8,
    max_points: int = 5_000_000,
) -> xr.Dataset:
    """Corrected paper Eq. (10) (and Eq. (11) in ``current_force``) for a two-band model.

    Parameters
    ----------
    model : two-band model on a k disk (e.g. DiracSurface, Rashba2DEG, TwoBandContinuum).
    ef : Fermi level(s) (energy), T = 0.  eta : broadening (energy).  m : magnetization direction.
    rtol : tolerance of the k integrals (relative to each block's scale).

    Returns
    -------
    Dataset in the layout of :func:`spintorque.response` (blocks with dims [ef,] part, i, j and
    ``<block>_error``), raw units (hbar = e = 1, per area); exact to O(eta) as eta -> 0.

    Examples
    --------
    >>> import spintorque as st
    >>> from spintorque.analytic import closed_form
    >>> model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
    >>> cf = closed_form(model, ef=0.05, eta=0.01, rtol=1e-6)  # EF in the exchange gap
    >>> round(float(cf.current_force.sel(part="total", i="x", j="y")) * 4 * 3.141592653589793, 3)
    -0.995
    """
    return combine_pieces(
        closed_form_pieces(model, ef=ef, m=m, rtol=rtol, max_points=max_points), eta
    )


def conductivity_closed_form(
    model: BlochModel, *, ef, eta: float, m=(0.0, 0.0, 1.0), rtol: float = 1e-8
) -> xr.DataArray:
    """Corrected paper Eq. (11): sigma_ij in units of e^2/h (2 pi Lambda[v_i, v_j]).

    Intrinsic Hall part h.(d_i h x d_j h)(f1 - f2)/(2|h|^3) (sea + surface, counted once),
    Drude part tau sum_n v_n,i v_n,j delta(EF - e_n) (tau = 1/(2 eta)), and the transverse
    eta term, each integrated over the Fermi sea / contour.
    """
    res = closed_form(model, ef=ef, eta=eta, m=m, rtol=rtol)
    sigma = 2 * np.pi * res["current_force"]
    sigma.attrs = {"long_name": "conductivity sigma_ij (closed form)", "units": "e^2/h"}
    return sigma.rename("conductivity")
