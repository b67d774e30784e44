"""Public entry point :func:`response` and the labelled result Dataset.

Raw conventions (SPEC.md sec. 2, 4): hbar = e = 1, per unit area, Pauli sigma (not sigma/2).
Every block Lambda[A, B] is the change of <A> per unit rate dX_B/dt of the generator B:

    spin_exchange[a, b]     = Lambda[sigma_a, dH/dm_b]   spin density per unit dm_b/dt
    spin_force[a, j]        = Lambda[sigma_a, v_j]       spin density per unit force F_j = -d_j mu
    current_force[i, j]     = Lambda[v_i, v_j]           particle current per unit force
    current_exchange[i, b]  = Lambda[v_i, dH/dm_b]       particle current per unit dm_b/dt (pumping)
    exchange_exchange[a, b] = Lambda[dH/dm_a, dH/dm_b]   <dH/dm_a> per unit dm_b/dt (damping)
    exchange_force[a, j]    = Lambda[dH/dm_a, v_j]       <dH/dm_a> per unit force (torque)

For the models of SPEC.md sec. 1, dH/dm = (Delta/2) sigma, so the last two are (Delta/2) times
the first two; for models where the exchange acts on part of the basis (a layer, an orbital)
they are the ones that give the torque on m.
"""

from __future__ import annotations

import difflib
import math
import warnings

import numpy as np
import xarray as xr

from . import __version__
from .engine import BLOCKS, compute_blocks
from .errors import ConvergenceError, ConvergenceWarning, InputWarning, ParameterError
from .integrate.budget import default_memory_budget
from .models.base import check_model

PARTS = ("sea", "surface", "total")
AXES = ("x", "y", "z")
CONVENTIONS = "hbar=e=1, per area, sigma not sigma/2; G^R=(E-H+i eta)^-1; force F=-grad(mu)"
BLOCK_DESCRIPTIONS = {
    "spin_exchange": ("Lambda[sigma_a, dH/dm_b]", "spin density per unit dm_b/dt"),
    "spin_force": ("Lambda[sigma_a, v_j]", "spin density per unit force F_j"),
    "current_force": ("Lambda[v_i, v_j]", "particle current per unit force F_j (conductivity/e^2)"),
    "current_exchange": ("Lambda[v_i, dH/dm_b]", "particle current per unit dm_b/dt (pumping)"),
    "exchange_exchange": ("Lambda[dH/dm_a, dH/dm_b]", "<dH/dm_a> per unit dm_b/dt"),
    "exchange_force": ("Lambda[dH/dm_a, v_j]", "<dH/dm_a> per unit force F_j"),
}
ALLOWED_KEYWORDS = (
    "ef",
    "eta",
    "m",
    "temperature",
    "rtol",
    "max_points",
    "max_memory",
    "on_unconverged",
    "smearing",
    "blocks",
)


def _blocks(value: object) -> tuple[str, ...] | None:
    """Validate the ``blocks`` option: None (all) or block names (a string or a sequence)."""
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else value
    try:
        names = tuple(names)
    except TypeError:
        raise ParameterError(
            f"blocks must be a block name or a sequence of them, got {value!r}"
        ) from None
    bad = [n for n in names if n not in BLOCKS]
    if bad or not names:
        what = f"unknown {', '.join(map(repr, bad))}" if bad else "none given"
        raise ParameterError(
            f"blocks must name at least one of {', '.join(BLOCKS)}; {what} (got {value!r})"
        )
    return names


def _energies(name: str, value: object, *, minimum: float | None = None) -> tuple[np.ndarray, bool]:
    """Validate a scalar or 1-D sequence of finite reals; return (array, was_scalar)."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name} must be a real number or a sequence of them, got {value!r}"
        ) from None
    if arr.ndim > 1:
        raise ParameterError(f"{name} must be a number or a 1-D sequence, got shape {arr.shape}")
    if arr.size == 0:
        raise ParameterError(f"{name} is empty; give at least one value")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be finite (no NaN or inf), got {value!r}")
    if minimum is not None and np.any(arr < minimum):
        raise ParameterError(f"{name} must be >= {minimum}, got {value!r}")
    return np.atleast_1d(arr), arr.ndim == 0


def validate_magnetization(m: object) -> np.ndarray:
    """Return m as a unit 3-vector.

    A finite nonzero vector whose length differs from 1 by more than 1e-9 is normalised with an
    :class:`InputWarning`; zero, non-finite or wrongly shaped m is refused.
    """
    try:
        vec = np.asarray(m, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"m must be a 3-vector of reals, got {m!r}") from None
    if vec.shape != (3,):
        raise ParameterError(f"m must be a 3-vector (mx, my, mz), got shape {vec.shape}")
    if not np.all(np.isfinite(vec)):
        raise ParameterError(f"m must be finite, got {m!r}")
    norm = float(np.linalg.norm(vec))
    if norm == 0:
        raise ParameterError(
            "m has zero length; give the magnetization direction, e.g. m=(0, 0, 1)"
        )
    if abs(norm - 1.0) > 1e-9:
        warnings.warn(
            f"m = {tuple(vec)} has length {norm:.6g}; normalised to a unit vector",
            InputWarning,
            stacklevel=3,
        )
    return vec / norm


def _check_scalar(
    name: str, value: object, low: float, high: float, *, low_open: bool = True
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    ok = math.isfinite(value) and (value > low if low_open else value >= low) and value < high
    if not ok:
        bracket = "(" if low_open else "["
        raise ParameterError(f"{name} must be in {bracket}{low:g}, {high:g}), got {value!r}")
    return value


def response(
    model, *, ef, eta, m=(0.0, 0.0, 1.0), temperature=0.0, rtol=1e-6, **options
) -> xr.Dataset:
    """Linear-response tensors of a Bloch model (SPEC.md sec. 3-4), Fermi sea and Fermi surface.

    Parameters
    ----------
    model : a :class:`spintorque.models.BlochModel` (or any object with that interface).
    ef : Fermi level(s) (energy); a sequence adds an ``ef`` dimension. At T > 0 it is the
        chemical potential.
    eta : broadening eta = hbar/(2 tau) (energy), > 0; or "clean" for the eta -> 0 limit with
        a ``term`` dimension (intraband_coefficient of tau, interband limit); see
        :mod:`spintorque.clean` (option ``smearing``: its Fermi-surface smearing, energy).
    m : magnetization direction (3-vector); normalised with a warning if not of unit length.
    temperature : k_B T (energy), >= 0; a sequence adds a ``temperature`` dimension.
    rtol : relative tolerance, 1e-10 <= rtol < 0.1: every entry of every block is converged to
        rtol times the largest entry of that block (at each EF and T); a block smaller than
        1e-4 of the largest block (one that vanishes by symmetry) to rtol x 1e-4 x that.
    max_points : k-point budget (default 2e7). max_memory : bytes the k integrator may hold
        (default half the physical memory, shared among a process pool's workers; its stored
        cells grow as k points x Fermi levels, and finite T carries hundreds of levels).
    on_unconverged : "warn" (default) or "raise".
    blocks : the block names to compute (default all); fewer blocks need fewer operators, and
        the cost of the operator algebra and k sums drops with them (e.g. ``"current_force"``
        for conductivities, about 10x less than all six). Only those variables are returned.

    Returns
    -------
    xarray.Dataset with variables spin_exchange, spin_force, current_force, current_exchange,
    exchange_exchange, exchange_force (dims [temperature,] [ef,] part, i, j; part in sea, surface,
    total; i, j in x, y, z; velocity components outside a 2-D model's plane are 0) and
    ``<name>_error`` with their absolute error estimates. attrs hold the inputs, the conventions
    and ``error_estimate`` (largest error relative to its block scale).

    Examples
    --------
    >>> import spintorque as st
    >>> model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
    >>> res = st.response(model, ef=0.3, eta=0.05, m=(0, 0, 1), rtol=1e-4)
    >>> float(res.current_force.sel(part="surface", i="x", j="x")) > 0
    True
    """
    unknown = set(options) - {"max_points", "max_memory", "on_unconverged", "smearing", "blocks"}
    if unknown:
        name = sorted(unknown)[0]
        close = difflib.get_close_matches(name, ALLOWED_KEYWORDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TypeError(
            f"response() got an unknown keyword {name!r}{hint}; "
            f"allowed: {', '.join(ALLOWED_KEYWORDS)}"
        )
    max_points = int(options.get("max_points", 20_000_000))
    max_memory = options.get("max_memory")
    if max_memory is not None:
        max_memory = int(_check_scalar("max_memory", max_memory, 0.0, math.inf))
    on_unconverged = options.get("on_unconverged", "warn")
    if on_unconverged not in ("warn", "raise"):
        raise ParameterError(f"on_unconverged must be 'warn' or 'raise', got {on_unconverged!r}")
    ef_arr, ef_scalar = _energies("ef", ef)
    t_arr, t_scalar = _energies("temperature", temperature, minimum=0.0)
    clean = isinstance(eta, str) and eta == "clean"
    if isinstance(eta, str) and not clean:
        raise ParameterError(f"eta must be a positive number or 'clean', got {eta!r}")
    if not clean:
        eta = _check_scalar("eta", eta, 0.0, math.inf)
        if "smearing" in options:
            raise ParameterError("smearing applies only with eta='clean'")
    rtol = _check_scalar("rtol", rtol, 1e-10, 0.1, low_open=False)
    blocks = _blocks(options.get("blocks"))
    m_vec = validate_magnetization(m)
    check_model(model, m_vec)
    if clean:  # the eta -> 0 limit, terms separated (see spintorque.clean)
        from .clean import clean_response

        return clean_response(
            model,
            ef_arr,
            ef_scalar,
            t_arr,
            t_scalar,
            m_vec,
            rtol,
            max_points=max_points,
            on_unconverged=on_unconverged,
            smearing=options.get("smearing"),
            blocks=blocks,
            max_memory=max_memory,
        )

    raw = compute_blocks(
        model,
        ef_arr,
        eta,
        m_vec,
        t_arr,
        rtol,
        max_points=max_points,
        blocks=blocks,
        max_memory=max_memory,
    )
    if not raw.converged:
        msg = (
            f"response not converged to rtol={rtol:g}: achieved {raw.relative_error:.3g} with "
            f"{raw.n_points} k points; " + unconverged_advice(raw.exhausted, max_points, max_memory)
        )
        if on_unconverged == "raise":
            raise ConvergenceError(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    return _to_dataset(raw, model, ef_arr, ef_scalar, t_arr, t_scalar, eta, m_vec, rtol)


def unconverged_advice(exhausted: tuple[str, ...], max_points: int, max_memory: int | None) -> str:
    """What stopped an unconverged integral and what to change."""
    if "max_memory" in exhausted:
        budget = default_memory_budget() if max_memory is None else max_memory
        return (
            f"the k integrator reached its memory budget (max_memory={budget / 2**30:.3g} GiB: "
            "its stored cells grow as k points x Fermi levels); raise max_memory or rtol, or "
            "split the ef / temperature list"
        )
    if "max_points" in exhausted:
        return f"max_points={max_points} reached; raise max_points or rtol"
    return (
        "the k integrals converged but the total estimate (with the thermal quadrature, or "
        "Brillouin-zone boxes at their smallest width) exceeds it; raise rtol"
    )


def pad_to_3d(block: np.ndarray) -> np.ndarray:
    """Zero-pad the last two axes to 3 (velocity of a 2-D model has no z component)."""
    out = np.zeros((*block.shape[:-2], 3, 3), dtype=block.dtype)
    out[..., : block.shape[-2], : block.shape[-1]] = block
    return out


def _with_total(arr: np.ndarray) -> np.ndarray:
    """(..., 2, i, j) sea/surface -> (..., 3, i, j) with the total."""
    return np.concatenate([arr, arr.sum(axis=-3, keepdims=True)], axis=-3)


def _to_dataset(raw, model, ef, ef_scalar, temps, t_scalar, eta, m, rtol) -> xr.Dataset:
    # scalar EF / T: index in numpy and keep them as scalar coordinates (xarray isel per
    # variable costs more than the rest of a single-point response)
    index = (0 if t_scalar else slice(None), 0 if ef_scalar else slice(None))
    dims = [d for d, scalar in (("temperature", t_scalar), ("ef", ef_scalar)) if not scalar]
    dims += ["part", "i", "j"]
    data_vars = {}
    for name in raw.blocks:
        value = _with_total(pad_to_3d(raw.blocks[name][index]))
        err = pad_to_3d(raw.errors[name][index])
        err = np.concatenate([err, err.sum(axis=-3, keepdims=True)], axis=-3)
        formula, meaning = BLOCK_DESCRIPTIONS[name]
        attrs = {"long_name": meaning, "definition": formula, "units": "raw (hbar=e=1, per area)"}
        data_vars[name] = (dims, value, attrs)
        data_vars[f"{name}_error"] = (
            dims,
            err,
            {"long_name": f"absolute error estimate of {name}"},
        )
    ds = xr.Dataset(
        data_vars,
        coords={
            "temperature": temps[0] if t_scalar else temps,
            "ef": ef[0] if ef_scalar else ef,
            "part": list(PARTS),
            "i": list(AXES),
            "j": list(AXES),
        },
    )
    ds.attrs.update(
        {
            "model": model.name if hasattr(model, "name") else type(model).__name__,
            "dim": int(model.dim),
            "n_bands": int(model.n_bands),
            "eta": eta,
            "m": m.tolist(),
            "rtol": rtol,
            "conventions": CONVENTIONS,
            "error_estimate": raw.relative_error,
            "converged": int(raw.converged),
            "n_kpoints": raw.n_points,
            "blocks": ",".join(raw.blocks),
            "spintorque_version": __version__,
        }
    )
    params = model.parameters() if hasattr(model, "parameters") else {}
    for key, val in params.items():
        ds.attrs[f"model_{key}"] = val
    return ds
