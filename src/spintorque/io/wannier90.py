"""Wannier90 tight-binding files: read and write seedname_hr.dat / seedname_tb.dat.

Formats (Wannier90 >= 2.1, hamiltonian_write_hr / hamiltonian_write_tb):

* ``_hr.dat``: header line; num_wann; nrpts; nrpts degeneracies ndegen (15 per line); then
  nrpts x num_wann^2 lines ``R1 R2 R3 m n Re Im`` with H_mn(R) = <m, 0|H|n, R> (eV).
* ``_tb.dat``: header; three lines with the lattice vectors a_1..a_3 (Angstrom); num_wann;
  nrpts; ndegen; for each R a line ``R1 R2 R3`` followed by num_wann^2 lines ``m n Re Im``;
  then the same for the position matrix <m, 0|r|n, R> (``m n Re_x Im_x Re_y Im_y Re_z Im_z``).

The model is H(k) = sum_R H(R) e^{ik.R} / ndegen(R) (the Wigner-Seitz degeneracy weights are
folded into the hoppings). From a tb.dat file the orbital positions are the Wannier centres
<n, 0|r|n, 0> (spinor partners share their mean centre) and enter the Bloch phases
(convention I, see :mod:`spintorque.models.tight_binding`); the off-diagonal position
elements are dropped (tight-binding approximation of the velocity). An hr.dat file carries no
lattice and no centres: the lattice is read from ``seedname.win`` next to it if present, else
``lattice_vectors`` must be given, and the positions default to zero.

Magnetization: Wannier functions come from a calculation at one magnetization. Either (a) the
file describes a nonmagnetic (or reference) system and the exchange enters as an added term
(delta/2) m . X (``delta``, ``exchange_operators``; X defaults to the spin operators), or
(b) ``delta = 0``: the model is fixed at the m of the calculation, and a set of files at
several m gives the m dependence (the exchange-driven blocks then vanish).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..models.tight_binding import TightBinding, _as_hoppings
from .netcdf import atomic_path

BOHR_IN_ANGSTROM = 0.529177210903  # CODATA 2018


class _Lines:
    """Numbered non-comment access to a text file, raising errors that name the line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.lines = path.read_text().splitlines()
        except OSError as exc:
            raise ModelError(f"cannot read Wannier90 file {path}: {exc}") from None
        self.pos = 0

    def error(self, msg: str, lineno: int | None = None) -> ModelError:
        line = self.pos if lineno is None else lineno
        return ModelError(f"{self.path.name}, line {line}: {msg}")

    def next(self, what: str, *, skip_blank: bool = True) -> list[str]:
        while self.pos < len(self.lines):
            self.pos += 1
            tokens = self.lines[self.pos - 1].split()
            if tokens or not skip_blank:
                return tokens
        raise ModelError(
            f"{self.path.name}: file is truncated: it ends at line {len(self.lines)} while "
            f"reading {what}"
        )

    def numbers(self, what: str, kinds: str) -> list:
        """Parse the next line as numbers; ``kinds`` is a string of 'i' (int) / 'f' (float)."""
        tokens = self.next(what)
        if len(tokens) != len(kinds):
            raise self.error(
                f"expected {len(kinds)} columns ({what}), got {len(tokens)}: {' '.join(tokens)!r}"
            )
        return [self._convert(t, k, what) for t, k in zip(tokens, kinds, strict=True)]

    def _convert(self, token: str, kind: str, what: str):
        try:
            return int(token) if kind == "i" else float(token.replace("D", "E").replace("d", "e"))
        except ValueError:
            expected = "an integer" if kind == "i" else "a number"
            raise self.error(
                f"non-numeric value {token!r} in {what} (expected {expected})"
            ) from None

    def integers(self, count: int, what: str) -> list[int]:
        """Read ``count`` integers spread over as many lines as needed (ndegen blocks)."""
        out: list[int] = []
        while len(out) < count:
            tokens = self.next(what)
            if len(out) + len(tokens) > count:
                raise self.error(f"too many values in {what}: expected {count} in all")
            out += [self._convert(t, "i", what) for t in tokens]
        return out

    def finish(self) -> None:
        for i in range(self.pos, len(self.lines)):
            if self.lines[i].strip():
                raise self.error("unexpected extra content after the last expected entry", i + 1)


def _header(src: _Lines, path: Path) -> tuple[int, int, np.ndarray]:
    (num_wann,) = src.numbers("num_wann", "i")
    if num_wann < 1:
        raise src.error(f"num_wann must be >= 1, got {num_wann}")
    (nrpts,) = src.numbers("nrpts", "i")
    if nrpts < 1:
        raise src.error(f"nrpts must be >= 1, got {nrpts}")
    start = src.pos + 1
    ndegen = np.array(src.integers(nrpts, f"the {nrpts} degeneracy weights ndegen"))
    if np.any(ndegen < 1):
        raise src.error(f"degeneracy weights must be >= 1 (lines {start}-{src.pos})")
    return num_wann, nrpts, ndegen


def _matrix_block(src: _Lines, num_wann: int, r_fixed: tuple | None, ncols: int, what: str):
    """num_wann^2 lines of one R block -> (R, matrix (num_wann, num_wann, ncols)) of complex."""
    kinds = ("iii" if r_fixed is None else "") + "ii" + "f" * (2 * ncols)
    mat = np.full((num_wann, num_wann, ncols), np.nan + 0j)
    r_seen = r_fixed
    for _ in range(num_wann**2):
        vals = src.numbers(what, kinds)
        if r_fixed is None:
            r, vals = tuple(vals[:3]), vals[3:]
            if r_seen is None:
                r_seen = r
            elif r != r_seen:
                raise src.error(
                    f"lattice vector {r} starts before the {num_wann}^2 entries of R = {r_seen} "
                    "are complete (wrong num_wann or missing lines)"
                )
        m, n = vals[0], vals[1]
        if not (1 <= m <= num_wann and 1 <= n <= num_wann):
            raise src.error(f"orbital index out of range 1..{num_wann}: m = {m}, n = {n}")
        if not np.isnan(mat[m - 1, n - 1, 0]):
            raise src.error(f"duplicate entry m = {m}, n = {n} for R = {r_seen}")
        z = np.array(vals[2::2]) + 1j * np.array(vals[3::2])
        mat[m - 1, n - 1] = z
    return r_seen, mat


def _hoppings(
    src: _Lines, num_wann: int, nrpts: int, ndegen: np.ndarray, tb: bool, ncols: int = 1
) -> dict:
    table: dict[tuple, np.ndarray] = {}
    for irpt in range(nrpts):
        r_fixed = None
        if tb:
            r_fixed = tuple(src.numbers("lattice vector R1 R2 R3", "iii"))
        what = (
            "hopping 'R1 R2 R3 m n Re Im'"
            if not tb
            else "entry 'm n Re Im'"
            if ncols == 1
            else "position entry"
        )
        r, mat = _matrix_block(src, num_wann, r_fixed, ncols, what)
        if r in table:
            raise src.error(f"lattice vector R = {r} appears twice")
        table[r] = mat / ndegen[irpt]
    return table


def _fold(table: dict, dim: int) -> dict:
    if dim == 3:
        return table
    out: dict[tuple, np.ndarray] = {}
    for r, mat in table.items():
        out[r[:2]] = out.get(r[:2], 0) + mat
    return out


def read_win_lattice(path: Path) -> np.ndarray | None:
    """unit_cell_cart of seedname.win (Angstrom; 'bohr' blocks converted), or None if absent."""
    if not path.exists():
        return None
    text = path.read_text()
    match = re.search(
        r"begin\s+unit_cell_cart(.*?)end\s+unit_cell_cart", text, re.IGNORECASE | re.DOTALL
    )
    if match is None:
        return None
    rows = [ln.split() for ln in match.group(1).strip().splitlines() if ln.strip()]
    scale = 1.0
    if rows and len(rows[0]) == 1:
        unit = rows.pop(0)[0].lower()
        scale = BOHR_IN_ANGSTROM if unit.startswith("bohr") else 1.0
    try:
        lat = np.array(rows, dtype=float) * scale
    except ValueError:
        raise ModelError(
            f"{path.name}: unit_cell_cart block is not a 3 x 3 table of numbers"
        ) from None
    if lat.shape != (3, 3):
        raise ModelError(
            f"{path.name}: unit_cell_cart must have 3 rows of 3 numbers, got shape {lat.shape}"
        )
    return lat


def _parse_hr(path: Path) -> tuple[dict, None, None]:
    src = _Lines(path)
    src.next("the header line", skip_blank=False)
    num_wann, nrpts, ndegen = _header(src, path)
    table = _hoppings(src, num_wann, nrpts, ndegen, tb=False)
    src.finish()
    return {r: m[..., 0] for r, m in table.items()}, None, None


def _parse_tb(path: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    src = _Lines(path)
    src.next("the header line", skip_blank=False)
    lattice = np.array([src.numbers(f"lattice vector a_{i + 1}", "fff") for i in range(3)])
    num_wann, nrpts, ndegen = _header(src, path)
    table = _hoppings(src, num_wann, nrpts, ndegen, tb=True)
    pos_table = _hoppings(src, num_wann, nrpts, ndegen, tb=True, ncols=3)
    src.finish()
    origin = pos_table.get((0, 0, 0))
    if origin is None:
        raise ModelError(
            f"{path.name}: the position blocks have no R = (0, 0, 0) entry (Wannier centres)"
        )
    centres = np.array(
        [
            np.diagonal(origin[..., d]).real * ndegen[list(pos_table).index((0, 0, 0))]
            for d in range(3)
        ]
    ).T
    return {r: m[..., 0] for r, m in table.items()}, lattice, centres


def _partner_mean(positions: np.ndarray, spinor: str) -> np.ndarray:
    """Give each spinor pair the mean of their centres (so that spin is on-site)."""
    n = len(positions)
    pairs = (
        [(2 * i, 2 * i + 1) for i in range(n // 2)]
        if spinor == "interleaved"
        else [(i, i + n // 2) for i in range(n // 2)]
    )
    out = positions.copy()
    for a, b in pairs:
        out[a] = out[b] = 0.5 * (positions[a] + positions[b])
    return out


def read_wannier90(
    path: str | Path,
    *,
    dim: int = 3,
    lattice_vectors: Sequence | np.ndarray | None = None,
    spinor: str | None = "interleaved",
    spin_operators: np.ndarray | None = None,
    delta: float = 0.0,
    exchange_operators: np.ndarray | None = None,
    positions: np.ndarray | None = None,
    name: str | None = None,
) -> TightBinding:
    """Read a Wannier90 ``seedname_hr.dat`` or ``seedname_tb.dat`` file into a TightBinding model.

    Parameters
    ----------
    path : the file; ``*_tb.dat`` is read as tb.dat, anything else as hr.dat.
    dim : 3, or 2 for a layer: hoppings are summed over R3 (k_z = 0) and the in-plane 2 x 2
        block of the lattice vectors is used.
    lattice_vectors : (3, 3) rows a_i (Angstrom); default from the tb.dat file or from
        ``seedname.win`` (unit_cell_cart) next to an hr.dat file.
    spinor : ordering of the spinor Wannier functions, "interleaved" (Wannier90's
        ``spinors = true`` order: up, down per projection) or "blocked" (all up, then all down);
        used to build the spin operators unless ``spin_operators`` is given.
    spin_operators : (3, N, N) spin (Pauli) operators in the Wannier basis.
    delta, exchange_operators : added exchange (delta/2) m . X (eV); see the module docstring.
    positions : (N, dim) orbital positions (Angstrom); default the tb.dat centres, else zero.
    name : label of the model (default: the file's seedname).

    Returns
    -------
    TightBinding (energies in eV, lengths in Angstrom, k in 1/Angstrom).

    Raises
    ------
    ModelError naming the file and the line for malformed files (truncated, wrong counts,
    non-numeric entries, duplicate or out-of-range entries).
    """
    path = Path(path)
    if dim not in (2, 3):
        raise ModelError(f"dim must be 2 or 3, got {dim!r}")
    is_tb = path.name.endswith("_tb.dat")
    table, file_lattice, centres = _parse_tb(path) if is_tb else _parse_hr(path)
    seed = re.sub(r"_(hr|tb)\.dat$", "", path.name)
    lattice = lattice_vectors if lattice_vectors is not None else file_lattice
    if lattice is None:
        lattice = read_win_lattice(path.with_name(seed + ".win"))
    if lattice is None:
        raise ModelError(
            f"{path.name} carries no lattice vectors: pass lattice_vectors (rows a_i, Angstrom) "
            f"or put {seed}.win with a unit_cell_cart block next to it"
        )
    lattice = np.asarray(lattice, dtype=float)
    if lattice.shape != (3, 3):
        raise ModelError(
            f"lattice_vectors must be a (3, 3) array for a Wannier90 file, got {lattice.shape}"
        )
    if positions is None and centres is not None and spin_operators is None and spinor is not None:
        centres = _partner_mean(centres, spinor)
    if positions is None:
        positions = None if centres is None else centres[:, :dim]
    return TightBinding(
        lattice[:dim, :dim],
        _fold(table, dim),
        positions=positions,
        spin_operators=spin_operators,
        spinor=spinor or "interleaved",
        delta=delta,
        exchange_operators=exchange_operators,
        name=name or seed,
    )


def _table_with_exchange(model: TightBinding, m: Sequence[float] | None) -> dict:
    """The model's {R: H(R)}, plus (delta/2) m . X added to H(R = 0) when ``m`` is given."""
    table = model.hoppings()
    if m is not None:
        zero = (0,) * model.dim
        exch = (
            0.5
            * model.delta
            * np.einsum("b,bij->ij", np.asarray(m, dtype=float), model.exchange_operators)
        )
        table[zero] = table.get(zero, 0) + exch
    return table


def _as_r3(r: tuple) -> tuple[int, int, int]:
    """A 2D or 3D lattice vector as the three integers of the file (R3 = 0 for 2D)."""
    return tuple(int(x) for x in r) + (0,) * (3 - len(r))


def _counts_and_weights(n: int, keys: list) -> list[str]:
    """num_wann, nrpts and the ndegen lines (all 1, 15 per line, Wannier90's '(15I5)')."""
    ones = ["    1"] * len(keys)
    return [f"{n:12d}", f"{len(keys):12d}"] + [
        "".join(ones[i : i + 15]) for i in range(0, len(keys), 15)
    ]


def _entry_lines(mat: np.ndarray, prefix: str = "") -> list[str]:
    """Lines 'prefix m n Re Im [Re Im ...]' of one (N, N) or (N, N, c) block, column-major.

    Full double precision (17 digits after the point in e-notation) so that reading back gives
    the same numbers.
    """
    mat = mat.reshape(mat.shape[0], mat.shape[1], -1)
    n = mat.shape[0]
    lines = []
    for col in range(n):
        for row in range(n):
            values = " ".join(f"{z.real: .17e} {z.imag: .17e}" for z in mat[row, col])
            lines.append(f"{prefix}{row + 1:5d}{col + 1:5d}  {values}")
    return lines


def _write_lines(path: str | Path, lines: list[str]) -> Path:
    """Write the lines atomically (temporary file next to ``path``, then os.replace)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


def write_wannier90_hr(
    model: TightBinding,
    path: str | Path,
    *,
    m: Sequence[float] | None = None,
    header: str | None = None,
) -> Path:
    """Write a TightBinding model as a Wannier90 ``_hr.dat`` file (all ndegen = 1), atomically.

    Parameters
    ----------
    model : the model; 2D models are written with R3 = 0.
    path : output file.
    m : if given, the exchange term (delta/2) m . X is added to H(R = 0); by default only the
        hoppings are written (the exchange is re-added when reading with ``delta``).
    header : first line (default names spintorque and the model).

    Full double precision is written (Wannier90 itself writes 6 decimals), so reading the file
    back gives the same model to ~1e-15 relative. Orbital positions are not part of the format
    (see :func:`write_wannier90_tb`). The file is written to a temporary file in the same
    folder and renamed, so a reader never sees a half-written file.
    """
    table = _table_with_exchange(model, m)
    keys = sorted(table, key=_as_r3)
    lines = [header or f"written by spintorque from {model.name}"]
    lines += _counts_and_weights(model.n_bands, keys)
    for r in keys:
        r3 = _as_r3(r)
        lines += _entry_lines(table[r], prefix=f"{r3[0]:5d}{r3[1]:5d}{r3[2]:5d}")
    return _write_lines(path, lines)


def _tb_lattice(lattice: object, dim: int) -> np.ndarray:
    """(3, 3) lattice rows for the file: a (3, 3) array as is, a (2, 2) one with a_3 = z."""
    try:
        lat = np.asarray(lattice, dtype=float)
    except (TypeError, ValueError):
        raise ModelError(f"lattice must be a real (3, 3) or ({dim}, {dim}) array") from None
    if lat.shape == (2, 2) and dim == 2:
        lat = np.block([[lat, np.zeros((2, 1))], [np.zeros((1, 2)), np.ones((1, 1))]])
    if lat.shape != (3, 3) or not np.all(np.isfinite(lat)):
        raise ModelError(
            f"lattice must be a finite (3, 3) array (or (2, 2) for a 2D model), got {lat.shape}"
        )
    if abs(np.linalg.det(lat)) < 1e-12 * np.max(np.abs(lat)) ** 3:
        raise ModelError("lattice vectors must be linearly independent")
    return lat


def _tb_positions(positions: object, n: int, dim: int) -> np.ndarray:
    """(N, 3) Cartesian centres for the file from (N, dim) or (N, 3) positions (z = 0 padded)."""
    try:
        pos = np.asarray(positions, dtype=float)
    except (TypeError, ValueError):
        raise ModelError(f"positions must be a real ({n}, {dim}) or ({n}, 3) array") from None
    if pos.ndim != 2 or pos.shape[0] != n or pos.shape[1] not in (dim, 3):
        raise ModelError(
            f"positions must have shape ({n}, {dim}) or ({n}, 3) (Angstrom), got {pos.shape}"
        )
    if not np.all(np.isfinite(pos)):
        raise ModelError("positions must be finite")
    return np.pad(pos, ((0, 0), (0, 3 - pos.shape[1])))


def write_wannier90_tb(
    model_or_hoppings: TightBinding | Mapping,
    path: str | Path,
    *,
    lattice: Sequence | np.ndarray | None = None,
    positions: Sequence | np.ndarray | None = None,
    m: Sequence[float] | None = None,
    header: str | None = None,
) -> Path:
    """Write a Wannier90 ``seedname_tb.dat`` file (lattice, H(R), position blocks), atomically.

    The layout is Wannier90's (hamiltonian_write_tb, >= 2.1): header line; the lattice
    vectors a_1, a_2, a_3 (Angstrom), one per line; num_wann; nrpts; the ndegen weights
    (all 1 here, 15 per line); for each R a blank line, ``R1 R2 R3`` and num_wann^2 lines
    ``m n Re Im`` of H_mn(R) = <m, 0|H|n, R> (eV); then the same R list for the position
    operator, lines ``m n Re_x Im_x Re_y Im_y Re_z Im_z`` of <m, 0|r|n, R> (Angstrom). Only
    the Wannier centres are known to a tight-binding model: they are written on the diagonal
    at R = 0, every other position element is zero (an R = 0 block is added if the model has
    none). Full double precision is written, so :func:`read_wannier90` gives back the same
    hoppings and centres.

    Parameters
    ----------
    model_or_hoppings : a TightBinding model, or a hopping table {R: H(R)} (R tuples of 2 or 3
        integers, H(-R) = H(R)^dagger; validated as :class:`TightBinding` does).
    path : output file; name it ``seedname_tb.dat`` so that :func:`read_wannier90` reads it as
        a tb.dat file. (The argument order is that of :func:`write_wannier90_hr`.)
    lattice : (3, 3) rows a_i (Angstrom), or (2, 2) for a 2D model (then a_3 = (0, 0, 1));
        default the model's lattice (required with a hopping table).
    positions : (N, dim) or (N, 3) Cartesian centres (Angstrom); default the model's
        positions, or zero for a hopping table.
    m : only with a model: add the exchange (delta/2) m . X to H(R = 0), as
        :func:`write_wannier90_hr` does.
    header : first line (default names spintorque and the model).

    Returns
    -------
    The path written. The file goes to a temporary file in the same folder and is renamed, so
    a reader never sees a half-written file.

    Examples
    --------
    >>> import numpy as np, spintorque as st, tempfile, pathlib
    >>> model = st.models.RashbaLattice(t=1.0, alpha=0.3, delta=0.5)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "rashba_tb.dat"
    >>> again = st.io.read_wannier90(st.io.write_wannier90_tb(model, out), dim=2, delta=0.5)
    >>> k = np.array([[0.3, -0.2]])
    >>> bool(np.allclose(again.hamiltonian(k, [0, 0, 1]), model.hamiltonian(k, [0, 0, 1])))
    True
    """
    if isinstance(model_or_hoppings, TightBinding):
        model = model_or_hoppings
        table = _table_with_exchange(model, m)
        dim, name = model.dim, model.name
        lattice = model.lattice_vectors if lattice is None else lattice
        positions = model.positions if positions is None else positions
    elif isinstance(model_or_hoppings, Mapping):
        if m is not None:
            raise ModelError("m needs a TightBinding model (a hopping table has no exchange)")
        if lattice is None:
            raise ModelError("a hopping table carries no lattice: pass lattice (rows a_i, A)")
        keys = list(model_or_hoppings)
        dim = len(np.atleast_1d(keys[0])) if keys else 0
        if dim not in (2, 3):
            raise ModelError(
                "hopping keys must be tuples of 2 or 3 integers (lattice vectors R), got "
                f"{keys[0] if keys else 'an empty table'!r}"
            )
        r_int, h_r = _as_hoppings(model_or_hoppings, dim, add_conjugates=False)
        table = {tuple(int(x) for x in r): h for r, h in zip(r_int, h_r, strict=True)}
        name = "a hopping table"
    else:
        raise ModelError(
            "model_or_hoppings must be a TightBinding model or a mapping {R: H(R)}, got "
            f"{type(model_or_hoppings).__name__}"
        )
    n = next(iter(table.values())).shape[0]
    lat = _tb_lattice(lattice, dim)
    centres = _tb_positions(np.zeros((n, dim)) if positions is None else positions, n, dim)
    zero = (0,) * dim
    table.setdefault(zero, np.zeros((n, n), dtype=complex))
    keys = sorted(table, key=_as_r3)
    lines = [header or f"written by spintorque from {name}"]
    lines += [" ".join(f"{x: .17e}" for x in row) for row in lat]
    lines += _counts_and_weights(n, keys)
    for r in keys:
        lines += ["", "{:5d}{:5d}{:5d}".format(*_as_r3(r))]
        lines += _entry_lines(table[r])
    origin = np.zeros((n, n, 3), dtype=complex)
    origin[np.arange(n), np.arange(n)] = centres
    empty = np.zeros((n, n, 3), dtype=complex)
    for r in keys:
        lines += ["", "{:5d}{:5d}{:5d}".format(*_as_r3(r))]
        lines += _entry_lines(origin if r == zero else empty)
    return _write_lines(path, lines)


__all__ = ["read_wannier90", "read_win_lattice", "write_wannier90_hr", "write_wannier90_tb"]
