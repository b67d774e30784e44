"""Engine vs a plain fixed-grid evaluation, and the cost of a 200-point EF scan.

Prints, from one run on this machine (timings are ratios measured in the same run):
1. one full point (all blocks, sea + surface, rtol 1e-6) of DiracSurface at eta = 0.01 with
   the adaptive engine, and a plain fixed-grid numpy evaluation (uniform polar grid: midpoint
   rule in |k|, trapezoid in the angle, same kernels): the cheapest of a family of such grids
   (radial and angular counts varied independently, steps of sqrt 2) whose error against a
   reference run at rtol 1e-10 is at most (a) the requested 1e-6 and (b) the error the engine
   actually delivered (m is tilted, so the Fermi circle is off-centre and the grid cannot
   exploit isotropy);
2. a 200-point EF scan in one call against single points (timed in turn, round by round).

Run:  python benchmarks/engine_vs_grid.py [--scan-only]   (--scan-only: part 2 alone)
"""

from __future__ import annotations

import sys
import time

import numpy as np

import spintorque as st
from spintorque.engine import BLOCKS, operator_slices
from spintorque.kernels import eigendata, response_density

MODEL = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
EF, ETA, M = 0.3, 0.01, np.array([0.6, 0.0, 0.8])  # tilted m: no isotropy to exploit
RTOL = 1e-6


def flatten(res) -> dict[str, np.ndarray]:
    return {name: res[name].sel(part=["sea", "surface"]).values for name in BLOCKS}


def relative_error(values: dict, reference: dict) -> float:
    """Largest |error| relative to each block's largest entry (the engine's own measure)."""
    worst = 0.0
    for name, ref in reference.items():
        worst = max(worst, np.abs(values[name] - ref).max() / np.abs(ref).max())
    return worst


def fixed_grid(n_r: int, n_phi: int) -> dict[str, np.ndarray]:
    """Uniform polar grid over the whole disk, plain numpy, in chunks of radial lines."""
    cutoff = MODEL.cutoff
    dr = cutoff / n_r
    phi = 2 * np.pi * np.arange(n_phi) / n_phi
    total = 0.0
    for start in range(0, n_r, 4096):
        r = (np.arange(start, min(start + 4096, n_r)) + 0.5) * dr
        k = np.stack(
            np.broadcast_arrays(r[:, None] * np.cos(phi), r[:, None] * np.sin(phi)), -1
        ).reshape(-1, 2)
        dens = response_density(eigendata(MODEL, k, M), [EF], ETA)[:, 0]
        weight = np.repeat(r, n_phi) * dr * (2 * np.pi / n_phi) / (4 * np.pi**2)
        total = total + np.einsum("k,kpab->pab", weight, dens)
    left, right = operator_slices(2)
    out = {}
    for name, (lname, rname) in BLOCKS.items():
        block = total[:, left[lname], right[rname]]
        out[name] = np.pad(block, [(0, 0), (0, 3 - block.shape[1]), (0, 3 - block.shape[2])])
    return out


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    reference = flatten(st.response(MODEL, ef=EF, eta=ETA, m=M, rtol=1e-10))
    st.response(MODEL, ef=EF, eta=ETA, m=M, rtol=RTOL)  # warm-up (imports, caches)
    runs = [timed(lambda: st.response(MODEL, ef=EF, eta=ETA, m=M, rtol=RTOL)) for _ in range(7)]
    res, t_engine = runs[0][0], float(np.median([t for _, t in runs]))  # median: noisy machine
    err_engine = relative_error(flatten(res), reference)
    print(
        f"engine     : {t_engine:8.3f} s  {res.attrs['n_kpoints']:>10d} k points  "
        f"error {err_engine:.2e}"
        f"  (estimate {res.attrs['error_estimate']:.2e})"
    )
    # the cheapest plain grids that reach (a) the requested accuracy and (b) the accuracy the
    # engine actually delivered: candidates in order of size (radial and angular counts chosen
    # independently, steps of sqrt 2 in each)
    candidates = sorted(
        (
            (int(2000 * 2 ** (i / 2)), int(16 * 2 ** (j / 2)))
            for i in range(-2, 11)
            for j in range(7)
        ),
        key=lambda c: c[0] * c[1],
    )
    position = 0
    for label, target in (("requested rtol", RTOL), ("engine's actual error", err_engine)):
        while position < len(candidates):
            n_r, n_phi = candidates[position]
            grid, t_grid = timed(lambda: fixed_grid(n_r, n_phi))
            err_grid = relative_error(grid, reference)
            print(
                f"fixed grid : {t_grid:8.3f} s  {n_r:6d} x {n_phi:3d} points  error {err_grid:.2e}"
            )
            if err_grid <= target:
                break
            position += 1
        print(
            f"speed-up over the cheapest fixed grid with error <= {target:.1e} ({label}): "
            f"{t_grid / t_engine:.0f}x ({n_r * n_phi / res.attrs['n_kpoints']:.0f}x fewer k points)"
        )

    scan_cost()


def scan_cost(repeats: int = 7) -> None:
    """A 200-point EF scan in one call against single points. The scan and four single points
    spread over it are timed in turn, ``repeats`` rounds (the machine's speed drifts: each
    round's ratio uses that round's times); medians over the rounds."""
    efs = np.linspace(-0.5, 0.5, 200)

    def scan():
        return st.response(MODEL, ef=efs, eta=ETA, m=M, rtol=RTOL)

    singles = [lambda e=e: st.response(MODEL, ef=e, eta=ETA, m=M, rtol=RTOL) for e in efs[::50]]
    for fn in (scan, *singles):  # warm-up
        fn()
    t_scan, t_single, ratios = [], [], []
    for _ in range(repeats):
        runs = [timed(fn) for fn in singles]
        result, seconds = timed(scan)
        t_scan.append(seconds)
        t_single.append(float(np.median([t for _, t in runs])))
        ratios.append(seconds / t_single[-1])
    single_points = [res.attrs["n_kpoints"] for res, _ in runs]
    median = float(np.median(t_single))
    print(
        f"200-point EF scan: {np.median(t_scan):.3f} s, {result.attrs['n_kpoints']} k points; "
        f"median single point {median:.3f} s; scan / single = {np.median(ratios):.2f} "
        f"(rounds {min(ratios):.2f}-{max(ratios):.2f}; target < 3); "
        f"200 separate calls would take ~{200 * median / np.median(t_scan):.0f}x longer"
    )
    print(
        f"k points: scan {result.attrs['n_kpoints']}, single points {single_points} "
        f"(scan / median single = {result.attrs['n_kpoints'] / np.median(single_points):.1f})"
    )


if __name__ == "__main__":
    if "--scan-only" in sys.argv:
        scan_cost()
    else:
        main()
