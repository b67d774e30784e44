"""Wannier90 tight-binding files: read seedname_hr.dat / seedname_tb.dat, write hr.dat.

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
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..models.tight_binding import TightBinding

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


def write_wannier90_hr(
    model: TightBinding,
    path: str | Path,
    *,
    m: Sequence[float] | None = None,
    header: str | None = None,
) -> Path:
    """Write a TightBinding model as a Wannier90 ``_hr.dat`` file (all ndegen = 1).

    Parameters
    ----------
    model : the model; 2D models are written with R3 = 0.
    path : output file.
    m : if given, the exchange term (delta/2) m . X is added to H(R = 0); by default only the
        hoppings are written (the exchange is re-added when reading with ``delta``).
    header : first line (default names spintorque and the model).

    Full double precision is written (Wannier90 itself writes 6 decimals), so reading the file
    back gives the same model to ~1e-15 relative. Orbital positions are not part of the format.
    """
    path = Path(path)
    table = model.hoppings()
    if m is not None:
        zero = (0,) * model.dim
        exch = (
            0.5
            * model.delta
            * np.einsum("b,bij->ij", np.asarray(m, dtype=float), model.exchange_operators)
        )
        table[zero] = table.get(zero, 0) + exch
    n = model.n_bands
    keys = sorted(table, key=lambda r: tuple(r) + (0,) * (3 - len(r)))
    lines = [header or f"written by spintorque from {model.name}", f"{n:12d}", f"{len(keys):12d}"]
    ones = ["    1"] * len(keys)
    lines += ["".join(ones[i : i + 15]) for i in range(0, len(keys), 15)]
    for r in keys:
        r3 = tuple(r) + (0,) * (3 - len(r))
        mat = table[r]
        for col in range(n):
            for row in range(n):
                z = mat[row, col]
                lines.append(
                    f"{r3[0]:5d}{r3[1]:5d}{r3[2]:5d}{row + 1:5d}{col + 1:5d}"
                    f"  {z.real: .17e} {z.imag: .17e}"
                )
    path.write_text("\n".join(lines) + "\n")
    return path


__all__ = ["read_wannier90", "read_win_lattice", "write_wannier90_hr"]
