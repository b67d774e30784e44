"""Dense EF scans (and finite temperature, whose thermal grid is a dense scan): Fermi contours
kept a few widths apart with GK31 layers between them, against contours kept one width apart
with GK15 layers (the previous mesh), in the same run.

For each case it prints k points and median wall time (3 runs) of both routes, their ratios
and the largest deviation between the results relative to each block's scale (both converge
to rtol, so it must stay below ~2 rtol).

Run:  python benchmarks/dense_scans.py
"""

from __future__ import annotations

import numpy as np
from bench_common import ROUTE_COLUMNS, compare_routes

import spintorque as st
from spintorque.integrate import contours

DIRAC = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
RASHBA = st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=6.0)
EPS0 = st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=4.0, mass=1.0)
SCAN = np.linspace(-0.5, 0.5, 200)
TILTED = (0.6, 0.0, 0.8)
CASES = {
    "Dirac, 200 levels, rtol 1e-4": (DIRAC, {"ef": SCAN, "eta": 0.01, "m": TILTED, "rtol": 1e-4}),
    "Dirac, 200 levels, rtol 1e-6": (DIRAC, {"ef": SCAN, "eta": 0.01, "m": TILTED, "rtol": 1e-6}),
    "Dirac, 200 levels, rtol 1e-8": (DIRAC, {"ef": SCAN, "eta": 0.01, "m": TILTED, "rtol": 1e-8}),
    "Rashba, tilted m, 41 levels": (
        RASHBA,
        {"ef": np.linspace(0.0, 0.6, 41), "eta": 0.02, "m": (0.3, 0.1, 0.95), "rtol": 1e-6},
    ),
    "TI eps0, tilted m, 41 levels": (
        EPS0,
        {"ef": np.linspace(-0.5, 0.8, 41), "eta": 0.02, "m": (0.3, 0.2, 0.93), "rtol": 1e-6},
    ),
    "Dirac, one point, T = 2 eta": (
        DIRAC,
        {"ef": 0.3, "eta": 0.01, "m": TILTED, "rtol": 1e-6, "temperature": 0.02},
    ),
    "TI eps0, one point, T = eta": (
        EPS0,
        {"ef": 0.3, "eta": 0.02, "m": (0.3, 0.2, 0.93), "rtol": 1e-6, "temperature": 0.02},
    ),
}


def one_width():
    """The previous mesh: contours of different levels merged only below one width (GK15)."""
    original = contours.DENSE_CELL_WIDTHS
    contours.DENSE_CELL_WIDTHS = ((0.0, contours.MIN_CELL_WIDTHS),)
    return lambda: setattr(contours, "DENSE_CELL_WIDTHS", original)


def main() -> None:
    st.response(DIRAC, ef=0.2, eta=0.05, m=(0, 0, 1), rtol=1e-3)  # warm-up
    print(f"{'case (new: dense, baseline: one width)':40s} {ROUTE_COLUMNS}")
    for label, (model, kwargs) in CASES.items():
        print(f"{label:40s} {compare_routes(model, kwargs, one_width, repeats=3)}", flush=True)


if __name__ == "__main__":
    main()
