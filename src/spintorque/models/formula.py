"""Bloch models from formula strings, differentiated exactly with sympy and compiled to numpy.

Example::

    st.models.from_formula("vf*(kx*sy - ky*sx) + delta/2*(mx*sx + my*sy + mz*sz)",
                           vf=1.0, delta=0.2, cutoff=20.0)

Recognised names
----------------
* ``kx, ky`` (and ``kz`` for 3D lattices): crystal momentum (inverse length).
* ``mx, my, mz``: the magnetization direction m; dH/dm_b is taken symbolically, so the exchange
  coupling is whatever the formula says (e.g. ``delta/2*(mx*sx + my*sy + mz*sz)``).
* ``s0, sx, sy, sz`` and ``t0, tx, ty, tz``: two sets of 2 x 2 Pauli matrices (identity first).
  Both act on the same 2-dimensional space; larger spaces are built with ``kron(a, b, ...)``,
  the Kronecker product (``kron(sz, tx)`` = sigma_z (x) tau_x, first factor outermost).
  A scalar term stands for scalar x identity.
* Functions and constants of sympy (``sin, cos, exp, sqrt, pi, I`` ...); ``^`` means power.
* Every other name is a parameter and must be given as a keyword argument.

The k domain is the disk |k| <= ``cutoff`` (continuum) or the Brillouin zone of
``lattice_vectors`` (periodic formula, e.g. ``sin(kx)``; periodicity is checked). H is checked
to be Hermitian at random points; velocities dH/dk_j and dH/dm_b are exact derivatives,
compiled with :func:`sympy.lambdify` to vectorised numpy. Spin operators default to the Pauli
matrices for 2 x 2 models; larger models must give them (an array or three formulas).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from ..errors import ModelError
from .base import PAULI, BlochModel, BrillouinZone, Disk
from .continuum import _real

K_NAMES = ("kx", "ky", "kz")
M_NAMES = ("mx", "my", "mz")
PAULI_NAMES = {"s0": 3, "sx": 0, "sy": 1, "sz": 2, "t0": 3, "tx": 0, "ty": 1, "tz": 2}
_PAULI_MATRICES = [
    sympy.Matrix(p.real.astype(int)) + sympy.I * sympy.Matrix(p.imag.astype(int)) for p in PAULI
]
_PAULI_MATRICES.append(sympy.eye(2))
HERMITICITY_TOL = 1e-10
KRON = sympy.Function("kron")


def _symbols() -> dict[str, sympy.Basic]:
    names = {n: sympy.Symbol(n, real=True) for n in (*K_NAMES, *M_NAMES)}
    names.update({n: sympy.Symbol(n, commutative=False) for n in PAULI_NAMES})
    names["kron"] = KRON
    return names


def parse_formula(text: str) -> sympy.Expr:
    """Parse a formula string (Pauli names noncommutative); malformed text raises ModelError."""
    if not isinstance(text, str) or not text.strip():
        raise ModelError(f"formula must be a non-empty string, got {text!r}")
    local = _symbols()
    try:
        expr = parse_expr(
            text, local_dict=local, transformations=(*standard_transformations, convert_xor)
        )
    except Exception as exc:  # sympy raises SyntaxError, TokenError, TypeError, ...
        raise ModelError(f"malformed formula {text!r}: {type(exc).__name__}: {exc}") from None
    if not isinstance(expr, sympy.Basic) or isinstance(expr, sympy.logic.boolalg.Boolean):
        raise ModelError(f"formula {text!r} is not an algebraic expression")
    return expr


def to_matrix(expr: sympy.Basic, text: str = "") -> sympy.Matrix | sympy.Expr:
    """Turn a parsed formula into a sympy Matrix (or a scalar expression if it has no Pauli)."""
    if not expr.has(*[sympy.Symbol(n, commutative=False) for n in PAULI_NAMES], KRON):
        return expr
    if isinstance(expr, sympy.Symbol) and expr.name in PAULI_NAMES:
        return _PAULI_MATRICES[PAULI_NAMES[expr.name]]
    if isinstance(expr, sympy.Add):
        return _combine([to_matrix(a, text) for a in expr.args], text, add=True)
    if isinstance(expr, sympy.Mul):
        return _combine([to_matrix(a, text) for a in expr.args], text, add=False)
    if isinstance(expr, sympy.Pow) and expr.exp.is_Integer and int(expr.exp) >= 0:
        base = to_matrix(expr.base, text)
        return base ** int(expr.exp)
    if expr.func == KRON:
        if not expr.args:
            raise ModelError(f"kron() needs at least one argument in formula {text!r}")
        out = sympy.Matrix([[1]])
        for arg in expr.args:
            factor = to_matrix(arg, text)
            factor = factor if isinstance(factor, sympy.MatrixBase) else sympy.Matrix([[factor]])
            out = sympy.kronecker_product(out, factor)
        return out
    raise ModelError(
        f"formula {text!r}: cannot use a Pauli matrix inside {expr.func.__name__}(...); "
        "only sums, products, integer powers and kron() of matrices are allowed"
    )


def _combine(parts: list, text: str, *, add: bool):
    sizes = {p.shape[0] for p in parts if isinstance(p, sympy.MatrixBase)}
    if len(sizes) > 1:
        raise ModelError(
            f"formula {text!r} combines matrices of different sizes {sorted(sizes)}; "
            "use kron() to build larger spaces consistently"
        )
    n = sizes.pop()
    if add:
        return sum(
            (p if isinstance(p, sympy.MatrixBase) else p * sympy.eye(n) for p in parts),
            sympy.zeros(n),
        )
    out = sympy.eye(n)
    for p in parts:
        out = out @ p if isinstance(p, sympy.MatrixBase) else out * p
    return out


def _compile(matrix: sympy.Matrix, args: Sequence[sympy.Symbol]) -> Callable[..., np.ndarray]:
    """Vectorised numpy function of ``args`` returning (Nk, n, n) complex for array inputs."""
    shape = matrix.shape
    func = sympy.lambdify(args, list(matrix), modules="numpy")

    def evaluate(*values: np.ndarray) -> np.ndarray:
        nk = len(values[0])
        entries = func(*values)
        out = np.empty((nk, len(entries)), dtype=complex)
        for i, entry in enumerate(entries):
            out[:, i] = np.broadcast_to(entry, (nk,))
        return out.reshape(nk, *shape)

    return evaluate


class FormulaModel(BlochModel):
    """A Bloch model compiled from a formula; build it with :func:`from_formula`."""

    def __init__(self, formula, matrix, dim, domain, spin_operators, params, name) -> None:
        self.formula = formula
        self.dim = dim
        self.k_domain = domain
        self.n_bands = matrix.shape[0]
        self.spin_operators = spin_operators
        self._params = params
        self._label = name
        sym = _symbols()
        ks = [sym[n] for n in K_NAMES[:dim]]
        ms = [sym[n] for n in M_NAMES]
        args = [*ks, *ms]
        self.matrix = matrix
        self._h = _compile(matrix, args)
        self._v = [_compile(matrix.diff(kj), args) for kj in ks]
        self._dm = [_compile(matrix.diff(mb), args) for mb in ms]

    def _args(self, k: np.ndarray, m: np.ndarray) -> list[np.ndarray]:
        k = np.atleast_2d(np.asarray(k, dtype=float))
        m = np.asarray(m, dtype=float)
        return [k[:, j] for j in range(self.dim)] + [np.full(len(k), m[b]) for b in range(3)]

    def hamiltonian(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        return self._h(*self._args(k, m))

    def velocity(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        args = self._args(k, m)
        return np.stack([v(*args) for v in self._v], axis=1)

    def exchange_derivative(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        args = self._args(k, m)
        return np.stack([d(*args) for d in self._dm], axis=1)

    def parameters(self) -> dict[str, float]:
        return dict(self._params)

    @property
    def name(self) -> str:
        return self._label or "FormulaModel"

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"from_formula({self.formula!r}, {args})"


def _substitute_parameters(expr: sympy.Basic, text: str, params: dict) -> tuple[sympy.Basic, dict]:
    reserved = set(K_NAMES) | set(M_NAMES) | set(PAULI_NAMES)
    free = {s.name for s in expr.free_symbols} - reserved
    missing = sorted(free - set(params))
    if missing:
        raise ModelError(
            f"formula {text!r} uses parameter(s) {missing} without a value; "
            f"pass them as keywords, e.g. {missing[0]}=1.0"
        )
    unused = sorted(set(params) - free)
    if unused:
        raise ModelError(
            f"parameter(s) {unused} do not appear in formula {text!r} "
            f"(its parameters: {sorted(free) or 'none'})"
        )
    values = {name: _real(name, value) for name, value in params.items()}
    subs = {s: values[s.name] for s in expr.free_symbols if s.name in values}
    return expr.subs(subs), values


def _domain(cutoff, lattice_vectors, text: str) -> tuple[int, Disk | BrillouinZone]:
    if (cutoff is None) == (lattice_vectors is None):
        raise ModelError(
            "give exactly one of cutoff (continuum disk) or lattice_vectors (periodic lattice)"
        )
    if cutoff is not None:
        return 2, Disk(_real("cutoff", cutoff, positive=True))
    lat = np.asarray(lattice_vectors, dtype=float)
    if (
        lat.ndim != 2
        or lat.shape[0] != lat.shape[1]
        or lat.shape[0] not in (2, 3)
        or abs(np.linalg.det(lat)) < 1e-12
    ):
        raise ModelError(
            f"lattice_vectors must be an invertible (2, 2) or (3, 3) array, got {lat.tolist()}"
        )
    return lat.shape[0], BrillouinZone(2 * np.pi * np.linalg.inv(lat).T)


def _spin(spin_operators, n: int, text: str) -> np.ndarray:
    if spin_operators is None:
        if n != 2:
            raise ModelError(
                f"formula {text!r} gives a {n} x {n} model: give spin_operators (a (3, {n}, {n}) "
                "array or three formulas such as 'kron(sx, t0)')"
            )
        return PAULI.copy()
    if len(spin_operators) == 3 and all(isinstance(s, str) for s in spin_operators):
        mats = []
        for s in spin_operators:
            mat = to_matrix(parse_formula(s), s)
            if not isinstance(mat, sympy.MatrixBase) or mat.free_symbols:
                raise ModelError(f"spin operator formula {s!r} must be a constant matrix")
            mats.append(np.array(mat.evalf(), dtype=complex))
        spin_operators = mats
    arr = np.asarray(spin_operators, dtype=complex)
    if arr.shape != (3, n, n):
        raise ModelError(f"spin_operators must have shape (3, {n}, {n}), got {arr.shape}")
    return arr


def from_formula(
    formula: str,
    *,
    cutoff: float | None = None,
    lattice_vectors: object | None = None,
    spin_operators: object | None = None,
    name: str | None = None,
    **parameters: float,
) -> FormulaModel:
    """Build a Bloch model from a formula string (see the module docstring for the names).

    Parameters
    ----------
    formula : H(k; m) in sympy syntax with Pauli matrices ``s0, sx, sy, sz`` / ``t0, tx, ty, tz``
        and ``kron(...)``; energies in the unit of the parameters.
    cutoff : disk radius (inverse length) for a continuum model, or
    lattice_vectors : (dim, dim) rows a_i (length) for a periodic lattice formula.
    spin_operators : (3, N, N) array or three formulas; default Pauli for N = 2.
    name : label recorded in results.
    **parameters : values of every other symbol in the formula (reals).

    Returns
    -------
    FormulaModel, usable with :func:`spintorque.response`.

    Examples
    --------
    >>> import spintorque as st
    >>> model = st.models.from_formula("vf*(kx*sy - ky*sx) + delta/2*(mx*sx + my*sy + mz*sz)",
    ...                                vf=1.0, delta=0.2, cutoff=20.0)
    >>> model.n_bands
    2
    """
    expr = parse_formula(formula)
    dim, domain = _domain(cutoff, lattice_vectors, formula)
    if dim == 2 and expr.has(_symbols()["kz"]):
        raise ModelError(f"formula {formula!r} uses kz but the model is two-dimensional")
    expr, values = _substitute_parameters(expr, formula, parameters)
    matrix = to_matrix(expr, formula)
    if matrix.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise ModelError(f"formula {formula!r} gives non-finite values (division by zero?)")
    if not isinstance(matrix, sympy.MatrixBase):
        raise ModelError(
            f"formula {formula!r} has no Pauli matrix: a scalar is a 1-band model without spin; "
            "write it as (...)*s0 if that is what you mean"
        )
    model = FormulaModel(
        formula, matrix, dim, domain, _spin(spin_operators, matrix.shape[0], formula), values, name
    )
    _validate(model)
    return model


def _validate(model: FormulaModel) -> None:
    """Hermiticity, finiteness and (for lattices) periodicity at random points."""
    rng = np.random.default_rng(1)
    m = rng.normal(size=3)
    m /= np.linalg.norm(m)
    if isinstance(model.k_domain, Disk):
        k = rng.uniform(-1, 1, (8, model.dim)) * model.k_domain.cutoff / np.sqrt(model.dim)
    else:
        k = rng.uniform(0, 1, (8, model.dim)) @ model.k_domain.reciprocal_vectors
    with np.errstate(all="ignore"):
        h = model.hamiltonian(k, m)
    if not np.all(np.isfinite(h)):
        raise ModelError(f"formula {model.formula!r} gives non-finite values (division by zero?)")
    scale = max(1.0, float(np.max(np.abs(h))))
    bad = np.abs(h - np.conj(h.swapaxes(-1, -2))) > HERMITICITY_TOL * scale
    if np.any(bad):
        _, i, j = np.argwhere(bad)[0]
        entry, mirror = model.matrix[i, j], model.matrix[j, i]
        raise ModelError(
            f"formula {model.formula!r} is not Hermitian: H[{i},{j}] = {entry} but "
            f"conj(H[{j},{i}]) = {sympy.conjugate(mirror)}"
        )
    if isinstance(model.k_domain, BrillouinZone):
        for b in model.k_domain.reciprocal_vectors:
            if np.max(np.abs(model.hamiltonian(k + b, m) - h)) > 1e-9 * scale:
                raise ModelError(
                    f"formula {model.formula!r} is not periodic on the lattice: "
                    f"H(k + b) != H(k) for b = {np.round(b, 6).tolist()}"
                )
