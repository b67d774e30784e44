"""Anomalous Hall conductivity of lattice models: spintorque vs a plain grid (vs WannierBerri).

Cases (clean limit, eta -> 0, T = 0, sigma_xy in e^2/h):
  * QWZ Chern insulator, u = -1, EF = 1.5 (a metal: the Fermi line makes the integrand jump);
  * Rashba ferromagnet on the square lattice, t = 1, alpha_R = 0.3, exchange J m.sigma with
    J = 0.5 (spintorque's delta = 2 J = 1.0), m = z, EF = -1.0.

Routes, all in this run:
  1. spintorque: ``st.response(model, ef=EF, eta="clean", m=z, rtol=..., blocks="current_force")``
     (only the block the AHC needs), interband term,
     sigma_xy = 2 pi Lambda[v_x, v_y] (adaptive BZ cubature, smearing + Richardson).
  2. plain numpy: Kubo/Berry-curvature sum on an N x N uniform grid with the step occupation
     (diagonalise, velocity matrix elements, sum), N doubled until converged.
  3. WannierBerri (optional ``peers`` extra): the same model written as hr.dat by
     :func:`spintorque.io.write_wannier90_hr`, read by WannierBerri, AHC calculator on an
     N x N x 1 grid (its 3D conductivity times the 1 A cell height, in e^2/h).

The reference is spintorque at rtol = 1e-7 (the printed errors are relative to it; the plain
grid's own converged value is printed too). "time to 1e-4" is the first time at which a route's
result is within 1e-4 (relative) of the reference and stays so on every finer setting.

Run:  python benchmarks/ahc_lattice.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import spintorque as st
import spintorque.io

Z = np.array([0.0, 0.0, 1.0])
E2_OVER_H = 7.748091729e-5 / 2  # S (CODATA: 2 e^2/h = 7.748091729e-5 S)
ANGSTROM = 1e-10
TARGET = 1e-4


def spintorque_ahc(model, ef: float, rtol: float) -> tuple[float, float, float, int]:
    """(sigma_xy [e^2/h], its error estimate, seconds, k points) from the clean-limit response."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", st.ConvergenceWarning)
        res = st.response(model, ef=ef, eta="clean", m=Z, rtol=rtol, blocks="current_force")
    sel = {"term": "interband", "part": "total", "i": "x", "j": "y"}
    value = 2 * np.pi * float(res.current_force.sel(**sel))
    error = 2 * np.pi * float(res.current_force_error.sel(**sel))
    return value, error, time.perf_counter() - start, int(res.attrs["n_kpoints"])


def plain_uniform_ahc(model, ef: float, n: int, chunk: int = 65536) -> tuple[float, float]:
    """sigma_xy = 2 pi sum_{n != m} (f_n - f_m) Im(vx_nm vy_mn) / (e_n - e_m)^2 on an n x n grid."""
    start = time.perf_counter()
    b = model.k_domain.reciprocal_vectors
    s = (np.arange(n) + 0.5) / n
    red = np.stack(np.meshgrid(s, s, indexing="ij"), -1).reshape(-1, 2)
    total = 0.0
    for lo in range(0, len(red), chunk):
        k = red[lo : lo + chunk] @ b
        e, u = np.linalg.eigh(model.hamiltonian(k, Z))
        v = model.velocity(k, Z)
        ud = np.conj(np.swapaxes(u, -1, -2))
        vx, vy = ud @ v[:, 0] @ u, ud @ v[:, 1] @ u
        gap = e[:, :, None] - e[:, None, :]
        off = ~np.eye(e.shape[1], dtype=bool)
        inv2 = np.where(off, 1.0 / np.where(off, gap, 1.0) ** 2, 0.0)
        occ = (e < ef).astype(float)
        total += np.sum(
            (occ[:, :, None] - occ[:, None, :]) * np.imag(vx * np.swapaxes(vy, -1, -2)) * inv2
        )
    area = abs(np.linalg.det(b)) / (2 * np.pi) ** 2
    return 2 * np.pi * total * area / n**2, time.perf_counter() - start


def wannierberri_ahc(model, ef: float, n: int, workdir: Path) -> tuple[float, float] | None:
    """sigma_xy [e^2/h] from WannierBerri on an n x n x 1 grid, or None if it is not installed."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import wannierberri as wberri
            from wannierberri.system.system_hr import get_system_hr
    except ImportError:
        return None
    seed = workdir / model.name
    st.io.write_wannier90_hr(model, f"{seed}_hr.dat", m=Z)
    lattice = np.eye(3)
    lattice[:2, :2] = model.lattice_vectors
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        system = get_system_hr(
            str(seed), wannier_centers_cart=np.zeros((model.n_bands, 3)), real_lattice=lattice
        )
        grid = wberri.Grid(system, NK=(n, n, 1))
        calc = {
            "ahc": wberri.calculators.static.AHC(
                Efermi=np.array([ef]), tetra=True, kwargs_formula={"external_terms": False}
            )
        }
        result = wberri.run(
            system,
            grid=grid,
            calculators=calc,
            parallel=False,
            use_irred_kpt=False,
            symmetrize=False,
            fout_name=str(workdir / "wb"),
            print_progress_step_time=1e9,
        )
    sigma_3d = np.asarray(result.results["ahc"].data)[0, 2]  # S/m, z component = sigma_xy
    return float(sigma_3d * ANGSTROM / E2_OVER_H), time.perf_counter() - start


def time_to_target(rows: list[tuple[float, float]], reference: float) -> float | None:
    """First time after which every result is within TARGET (relative) of the reference."""
    ok_from = None
    for t, value in rows:
        good = abs(value - reference) <= TARGET * abs(reference)
        ok_from = (ok_from if ok_from is not None else t) if good else None
    return ok_from


def _row(
    label: str, value: float, reference: float, t: float, n_k: int, est: float | None = None
) -> str:
    rel = (value - reference) / reference
    est_txt = f"{est / abs(reference):>10.1e}" if est is not None else " " * 10
    return f"{label:<28}{value:>18.10f}{rel:>12.1e}{est_txt}{t:>10.2f}{n_k:>12d}"


def run_case(label: str, model, ef: float, quick: bool) -> None:
    print(f"\n=== {label}: EF = {ef} ===")
    reference, ref_err, ref_t, ref_n = spintorque_ahc(model, ef, 1e-7)
    print(f"reference (spintorque, rtol=1e-7): {reference:.10f} +- {ref_err:.1e}", end=" ")
    print(f"({ref_t:.1f} s, {ref_n} k points)")
    head = ("route", "sigma_xy [e^2/h]", "rel. error", "est.", "time [s]", "k points")
    print(f"{head[0]:<28}{head[1]:>18}{head[2]:>12}{head[3]:>10}{head[4]:>10}{head[5]:>12}")
    rows_st = []
    for rtol in (1e-2, 1e-3, 1e-4):
        val, err, t, nk = spintorque_ahc(model, ef, rtol)
        rows_st.append((t, val))
        print(_row(f"spintorque rtol={rtol:g}", val, reference, t, nk, err))
    rows_plain = []
    for n in (100, 200, 400, 800) if quick else (100, 200, 400, 800, 1600, 3200):
        val, t = plain_uniform_ahc(model, ef, n)
        rows_plain.append((t, val))
        print(_row(f"plain grid N={n}", val, reference, t, n * n))
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100, 200) if quick else (100, 200, 400, 800):
            out = wannierberri_ahc(model, ef, n, Path(tmp))
            if out is None:
                print("WannierBerri: not installed (pip install spintorque[peers])")
                break
            print(_row(f"WannierBerri tetra N={n}", out[0], reference, out[1], n * n))
    t_st, t_plain = time_to_target(rows_st, reference), time_to_target(rows_plain, reference)
    verdict = (
        f", speed-up {t_plain / t_st:.1f}x" if t_st and t_plain else " (not reached in this run)"
    )
    print(f"time to {TARGET:g} relative: spintorque {t_st} s, plain grid {t_plain} s{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller grids (a smoke run)")
    args = parser.parse_args()
    run_case("QWZ u=-1", st.models.QWZ(u=-1.0), 1.5, args.quick)
    run_case(
        "Rashba FM t=1 alpha=0.3 J=0.5",
        st.models.RashbaLattice(t=1.0, alpha=0.3, delta=1.0),
        -1.0,
        args.quick,
    )


if __name__ == "__main__":
    main()
