"""Electronic response tensors as smooth functions of the magnetization direction m.

The LLG needs, at every m it visits, three raw blocks of :func:`spintorque.response` (total
part, hbar = e = 1, per area):

    exchange_exchange[a, b] = Lambda[dH/dm_a, dH/dm_b]   (damping, gyromagnetic term)
    exchange_force[a, j]    = Lambda[dH/dm_a, v_j]       (spin-orbit torque per unit force)
    current_force[i, j]     = Lambda[v_i, v_j]           (conductivity / e^2)

Engine calls cost ~0.1-0.5 s, so the tensors are computed once on a grid of directions and
interpolated smoothly:

- :class:`AxialTable` for models covariant under rotations about z (continuum models with an
  isotropic h_so and eps0: DiracSurface without warping, Rashba2DEG). Then
  T(R_z(phi) m0) = R_z(phi) T(m0) R_z(phi)^T for all three blocks (spin and velocity indices
  both rotate), and only T0(theta) = T(sin theta, 0, cos theta) is needed: it is analytic in
  theta and is interpolated by the barycentric formula on Chebyshev-Lobatto nodes
  (spectral convergence). Every other node is again a Lobatto set, which gives a free
  a-posteriori error estimate (``coarse_error``).
- :class:`SphereTable` for any model: least-squares fit on a Fibonacci grid of directions to
  polynomials in (mx, my, mz) of degree <= L (the span of the spherical harmonics up to L).

Either way :func:`interpolation_error` measures the error against direct engine evaluations at
off-grid directions; builders store it in ``table.meta``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..models.continuum import DiracSurface, Rashba2DEG
from ..responses import response

TENSORS = ("exchange_exchange", "exchange_force", "current_force")
MapLike = Callable[[Callable, Iterable], Iterable]
EXTRAPOLATION = 0.25  # fraction of a partial theta range an AxialTable may extrapolate


@dataclass(frozen=True)
class ElectronSettings:
    """Inputs of the engine besides model and m: energies in the model's unit (eV).

    ef : Fermi level.  eta : broadening (> 0).  temperature : k_B T (>= 0).
    rtol : engine tolerance.  part : "total", "sea" or "surface".
    """

    ef: float
    eta: float
    temperature: float = 0.0
    rtol: float = 1e-5
    part: str = "total"

    def __post_init__(self) -> None:
        if self.part not in ("total", "sea", "surface"):
            raise ParameterError(f"part must be 'total', 'sea' or 'surface', got {self.part!r}")


def engine_tensors(model, settings: ElectronSettings, m) -> np.ndarray:
    """The three blocks at one m from the engine, shape (3 blocks, 3, 3), raw units."""
    res = response(
        model,
        ef=settings.ef,
        eta=settings.eta,
        m=m,
        temperature=settings.temperature,
        rtol=settings.rtol,
        on_unconverged="raise",
        blocks=TENSORS,
    )
    return np.stack([res[name].sel(part=settings.part).values for name in TENSORS])


def _engine_batch(model, settings: ElectronSettings, ms: np.ndarray, map_fn: MapLike) -> np.ndarray:
    def one(m):
        return engine_tensors(model, settings, m)

    return np.stack(list(map_fn(one, [tuple(m) for m in ms])))


def rotation_z(phi: np.ndarray) -> np.ndarray:
    """Rotation matrices about z, shape (N, 3, 3)."""
    c, s = np.cos(phi), np.sin(phi)
    rot = np.zeros((len(phi), 3, 3))
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = c, -s, s, c
    rot[:, 2, 2] = 1.0
    return rot


def lobatto_nodes(low: float, high: float, n: int) -> np.ndarray:
    """n + 1 Chebyshev-Lobatto nodes on [low, high], ascending."""
    return 0.5 * (low + high) - 0.5 * (high - low) * np.cos(np.pi * np.arange(n + 1) / n)


def barycentric_matrix(nodes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Matrix W (len(x), len(nodes)) with W @ f(nodes) = Lobatto interpolant at x."""
    n = len(nodes) - 1
    w = (-1.0) ** np.arange(n + 1)
    w[0] *= 0.5
    w[-1] *= 0.5
    diff = x[:, None] - nodes[None, :]
    exact = diff == 0
    diff[exact] = 1.0
    terms = w / diff
    mat = terms / terms.sum(axis=1, keepdims=True)
    hit = exact.any(axis=1)
    mat[hit] = exact[hit].astype(float)
    return mat


def is_axially_symmetric(model) -> bool:
    """True for the built-in models whose response is covariant under rotations about z."""
    if isinstance(model, DiracSurface):
        return model.warping == 0
    return isinstance(model, Rashba2DEG)


@dataclass(frozen=True)
class AxialTable:
    """Tensors T0(theta) on Lobatto nodes in [theta_low, theta_high], rotated about z.

    values : (n_nodes, 3 blocks, 3, 3) raw.  meta : provenance and error estimates.
    """

    theta: np.ndarray
    values: np.ndarray
    meta: dict = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        model,
        settings: ElectronSettings,
        *,
        theta_range=(0.0, math.pi),
        n_intervals: int = 16,
        map_fn: MapLike = map,
    ) -> AxialTable:
        """Evaluate the engine at n_intervals + 1 polar angles (n_intervals even, >= 2)."""
        if not is_axially_symmetric(model):
            raise ParameterError(
                f"{model!r} is not covariant under rotations about z; use SphereTable"
            )
        low, high = (float(v) for v in theta_range)
        if not (0 <= low < high <= math.pi):
            raise ParameterError(
                f"theta_range must satisfy 0 <= low < high <= pi, got {theta_range!r}"
            )
        if n_intervals < 2 or n_intervals % 2:
            raise ParameterError(f"n_intervals must be an even integer >= 2, got {n_intervals!r}")
        theta = lobatto_nodes(low, high, n_intervals)
        ms = np.stack([np.sin(theta), np.zeros_like(theta), np.cos(theta)], axis=1)
        values = _engine_batch(model, settings, ms, map_fn)
        table = cls(theta, values, {"kind": "axial", "model": repr(model), **settings.__dict__})
        table.meta["coarse_error"] = table.coarse_error()
        return table

    @property
    def theta_range(self) -> tuple[float, float]:
        return float(self.theta[0]), float(self.theta[-1])

    def polar(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Polar and azimuthal angles of unit vectors m (N, 3).

        A partial range is extrapolated (polynomially) by up to EXTRAPOLATION of its width, so
        that trial stages of the integrator slightly outside do not fail; beyond that it raises.
        """
        theta = np.arccos(np.clip(m[:, 2], -1.0, 1.0))
        low, high = self.theta_range
        slack = 1e-9 + EXTRAPOLATION * (high - low) * (low > 0 or high < math.pi)
        if np.any(theta < low - slack) or np.any(theta > high + slack):
            bad = theta[(theta < low - slack) | (theta > high + slack)][0]
            raise ParameterError(
                f"m at polar angle {bad:.6g} rad lies outside the tabulated range "
                f"[{low:.6g}, {high:.6g}] rad; build the table over a wider theta_range"
            )
        return theta, np.arctan2(m[:, 1], m[:, 0])

    def __call__(self, m: np.ndarray) -> np.ndarray:
        """Interpolated blocks at unit vectors m (N, 3) -> (N, 3 blocks, 3, 3)."""
        m = np.atleast_2d(np.asarray(m, dtype=float))
        theta, phi = self.polar(m)
        body = np.einsum("nk,kbij->nbij", barycentric_matrix(self.theta, theta), self.values)
        rot = rotation_z(phi)
        return np.einsum("nia,nkab,njb->nkij", rot, body, rot)

    def coarse_error(self) -> dict[str, float]:
        """Error of the half-node interpolant at the dropped nodes, relative to each block's scale.

        An upper estimate of the error of the full interpolant (which converges faster).
        """
        coarse = barycentric_matrix(self.theta[::2], self.theta[1::2]) @ self.values[::2].reshape(
            len(self.theta[::2]), -1
        )
        diff = np.abs(coarse.reshape(self.values[1::2].shape) - self.values[1::2])
        return _relative(diff, self.values)

    def to_dataset(self) -> xr.Dataset:
        """Labelled copy (dims theta, block, i, j); attrs are the metadata."""
        return _table_dataset(self.values, {"theta": self.theta}, "theta", self.meta)


@dataclass(frozen=True)
class SphereTable:
    """Least-squares polynomial fit of the tensors on the unit sphere (any model).

    coefficients : (n_basis, 3 blocks, 3, 3).  degree : L.  meta : provenance, fit residual.
    """

    coefficients: np.ndarray
    degree: int
    meta: dict = field(default_factory=dict)

    @staticmethod
    def basis(m: np.ndarray, degree: int) -> np.ndarray:
        """Monomials x^a y^b z^c, c <= 1, a + b + c <= L: the (L+1)^2-dim span of Y_lm, l <= L."""
        x, y, z = m[:, 0], m[:, 1], m[:, 2]
        cols = []
        for c in (0, 1):
            for total in range(degree + 1 - c):
                for a in range(total + 1):
                    cols.append(x**a * y ** (total - a) * z**c)
        return np.stack(cols, axis=1)

    @classmethod
    def fit(
        cls, ms: np.ndarray, values: np.ndarray, degree: int, meta: dict | None = None
    ) -> SphereTable:
        """Fit samples values (N, 3, 3, 3) at unit vectors ms (N, 3)."""
        design = cls.basis(ms, degree)
        if len(ms) < 1.5 * design.shape[1]:
            raise ParameterError(
                f"{len(ms)} directions are too few for degree {degree}; "
                f"give at least {math.ceil(1.5 * design.shape[1])}"
            )
        flat = values.reshape(len(ms), -1)
        coef, *_ = np.linalg.lstsq(design, flat, rcond=None)
        resid = np.abs(design @ coef - flat).reshape(values.shape)
        table = cls(coef.reshape(design.shape[1], *values.shape[1:]), degree, dict(meta or {}))
        table.meta["fit_residual"] = _relative(resid, values)
        return table

    @classmethod
    def build(
        cls,
        model,
        settings: ElectronSettings,
        *,
        degree: int = 6,
        n_points: int | None = None,
        map_fn: MapLike = map,
    ) -> SphereTable:
        """Engine at n_points Fibonacci directions (default 2 (L+1)^2), then fit."""
        if not (isinstance(degree, int) and 1 <= degree <= 12):
            raise ParameterError(f"degree must be an integer in [1, 12], got {degree!r}")
        n_points = n_points or 2 * (degree + 1) ** 2
        ms = fibonacci_sphere(n_points)
        values = _engine_batch(model, settings, ms, map_fn)
        return cls.fit(
            ms, values, degree, {"kind": "sphere", "model": repr(model), **settings.__dict__}
        )

    def __call__(self, m: np.ndarray) -> np.ndarray:
        m = np.atleast_2d(np.asarray(m, dtype=float))
        return np.einsum("nk,kbij->nbij", self.basis(m, self.degree), self.coefficients)


def fibonacci_sphere(n: int) -> np.ndarray:
    """n nearly uniform unit vectors (golden-angle spiral), shape (n, 3)."""
    k = np.arange(n) + 0.5
    z = 1 - 2 * k / n
    phi = math.pi * (1 + math.sqrt(5)) * k
    r = np.sqrt(1 - z**2)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


def _relative(diff: np.ndarray, values: np.ndarray) -> dict[str, float]:
    scale = np.max(np.abs(values), axis=(0, 2, 3))
    err = np.max(diff, axis=(0, 2, 3)) / np.where(scale > 0, scale, 1.0)
    return {name: float(e) for name, e in zip(TENSORS, err, strict=True)}


def _table_dataset(values, coords: dict, dim: str, meta: dict) -> xr.Dataset:
    data = xr.DataArray(
        values,
        dims=(dim, "block", "i", "j"),
        coords={**coords, "block": list(TENSORS), "i": list("xyz"), "j": list("xyz")},
        attrs={"units": "raw (hbar=e=1, per area)"},
    )
    attrs = {k: (str(v) if isinstance(v, dict) else v) for k, v in meta.items()}
    return xr.Dataset({"tensors": data}, attrs=attrs)


def interpolation_error(table, model, settings: ElectronSettings, ms) -> dict[str, float]:
    """Max |table - engine| at the directions ms, relative to each block's largest entry there."""
    ms = np.atleast_2d(np.asarray(ms, dtype=float))
    ms = ms / np.linalg.norm(ms, axis=1, keepdims=True)
    direct = np.stack([engine_tensors(model, settings, m) for m in ms])
    return _relative(np.abs(table(ms) - direct), direct)


def off_grid_directions(table, n: int = 4, seed: int = 1) -> np.ndarray:
    """Test directions inside a table's domain, away from its nodes, with random azimuths."""
    rng = np.random.default_rng(seed)
    if isinstance(table, AxialTable):
        mids = 0.5 * (table.theta[1:] + table.theta[:-1])
        theta = mids[np.linspace(0, len(mids) - 1, n).round().astype(int)]
    else:
        theta = np.arccos(rng.uniform(-1, 1, n))
    phi = rng.uniform(0, 2 * math.pi, n)
    return np.stack(
        [np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=1
    )


def build_table(
    model,
    settings: ElectronSettings,
    *,
    theta_range=(0.0, math.pi),
    n_intervals: int = 16,
    degree: int = 6,
    n_validate: int = 3,
    map_fn: MapLike = map,
):
    """AxialTable if the model allows it, else SphereTable; validated against the engine.

    ``meta["interpolation_error"]`` holds the measured error at ``n_validate`` off-grid
    directions (relative to each block's scale); 0 skips the check.
    """
    if is_axially_symmetric(model):
        table = AxialTable.build(
            model, settings, theta_range=theta_range, n_intervals=n_intervals, map_fn=map_fn
        )
    else:
        table = SphereTable.build(model, settings, degree=degree, map_fn=map_fn)
    if n_validate:
        table.meta["interpolation_error"] = interpolation_error(
            table, model, settings, off_grid_directions(table, n_validate)
        )
    return table
