"""Cost of Fermi contours that are not circles about the band centre: contour-following curves
against the baseline of circular rings with angular sectors (following switched off), in the
same run.

For each case it prints k points and wall time of both routes, their ratios, and the largest
deviation between the two results relative to each block's scale
(both are converged to rtol, so that deviation must stay below ~2 rtol).

Run:  python benchmarks/noncircular_contours.py
"""

from __future__ import annotations

import numpy as np
from bench_common import ROUTE_COLUMNS, compare_routes

import spintorque as st
from spintorque.integrate import contours

RASHBA = st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=6.0)
WARPED = st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=3.0, mass=2.0, warping=0.15)
CASES = {
    "Rashba, in-plane m": (RASHBA, 0.2, 0.02, (1.0, 0.0, 0.0)),
    "Rashba, tilted m": (RASHBA, 0.2, 0.02, (0.6, 0.0, 0.8)),
    "warped TI, EF 0.8": (WARPED, 0.8, 0.02, (0.6, 0.0, 0.8)),
    "Rashba, in-plane m, 61-level scan": (RASHBA, np.linspace(-0.1, 0.5, 61), 0.02, (1, 0, 0)),
}


def rings():
    """The baseline: circular rings with sectors instead of curves along the contours."""
    contours.FOLLOW_CONTOURS = False
    return lambda: setattr(contours, "FOLLOW_CONTOURS", True)


def main() -> None:
    st.response(RASHBA, ef=0.2, eta=0.05, m=(0, 0, 1), rtol=1e-3)  # warm-up
    print(f"{'case (new: curves, baseline: rings)':40s} {'rtol':>6s} {ROUTE_COLUMNS}")
    for label, (model, ef, eta, m) in CASES.items():
        for rtol in (1e-4, 1e-6):
            kwargs = {"ef": ef, "eta": eta, "m": m, "rtol": rtol}
            print(f"{label:40s} {rtol:6.0e} {compare_routes(model, kwargs, rings)}", flush=True)


if __name__ == "__main__":
    main()
