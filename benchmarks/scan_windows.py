"""EF scans split into groups of levels whose Fermi contours nest, against one k integral for
all levels, in the same run.

For each scan it prints the groups, k points and wall time of both routes, their ratios and
the largest deviation between the two results relative to each block's scale (both are
converged to rtol, so the deviation must stay below ~2 rtol).

Run:  python benchmarks/scan_windows.py
"""

from __future__ import annotations

import numpy as np
from bench_common import ROUTE_COLUMNS, compare_routes

import spintorque as st
from spintorque import engine

RASHBA = st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=6.0)
CASES = {
    "Rashba, in-plane m, 61 levels": (RASHBA, np.linspace(-0.1, 0.5, 61), 0.02, (1, 0, 0), 1e-4),
    "Rashba, tilted m, 41 levels": (
        RASHBA,
        np.linspace(0.0, 0.6, 41),
        0.02,
        (0.3, 0.1, 0.95),
        1e-6,
    ),
    "TI eps0, tilted m, 41 levels": (
        st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=4.0, mass=1.0),
        np.linspace(-0.5, 0.8, 41),
        0.02,
        (0.3, 0.2, 0.93),
        1e-6,
    ),
    "warped TI, tilted m, 41 levels": (
        st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=3.0, mass=2.0, warping=0.15),
        np.linspace(0.3, 0.9, 41),
        0.02,
        (0.6, 0.0, 0.8),
        1e-6,
    ),
    "Dirac, tilted m, 200 levels (circles)": (
        st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0),
        np.linspace(-0.5, 0.5, 200),
        0.01,
        (0.6, 0.0, 0.8),
        1e-6,
    ),
}


def one_group(model, m, energies, eta):
    return [(np.arange(len(energies)), None)]


def one_integral():
    """The baseline: all levels in one k integral."""
    original = engine.level_windows
    engine.level_windows = one_group
    return lambda: setattr(engine, "level_windows", original)


def main() -> None:
    st.response(RASHBA, ef=0.2, eta=0.05, m=(0, 0, 1), rtol=1e-3)  # warm-up
    print(f"{'case (new: groups, baseline: one)':40s} {'rtol':>6s} {'groups':>6s} {ROUTE_COLUMNS}")
    for label, (model, ef, eta, m, rtol) in CASES.items():
        m = np.asarray(m, dtype=float) / np.linalg.norm(m)
        n_groups = len(engine.level_windows(model, m, ef, eta))
        kwargs = {"ef": ef, "eta": eta, "m": m, "rtol": rtol}
        row = compare_routes(model, kwargs, one_integral)
        print(f"{label:40s} {rtol:6.0e} {n_groups:6d} {row}", flush=True)


if __name__ == "__main__":
    main()
