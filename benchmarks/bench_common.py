"""Helpers shared by the benchmark scripts (run them as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

import spintorque as st
from spintorque.engine import BLOCKS


def timed_response(patch: Callable[[], Callable[[], None]] | None, *args, **kwargs):
    """``st.response(*args, **kwargs)`` and its wall time; ``patch()`` (if given) switches a
    route before the call and returns the function that restores it."""
    restore = patch() if patch is not None else None
    try:
        start = time.perf_counter()
        res = st.response(*args, **kwargs)
        return res, time.perf_counter() - start
    finally:
        if restore is not None:
            restore()


def block_deviation(a, b) -> float:
    """Largest |a - b| over sea and surface, relative to each block's largest entry in b."""
    worst = 0.0
    for name in BLOCKS:
        x, y = a[name].sel(part=["sea", "surface"]).values, b[name].sel(part=["sea", "surface"])
        scale = np.abs(y.values).max()
        worst = max(worst, float(np.abs(x - y.values).max() / scale))
    return worst


ROUTE_COLUMNS = (
    f"{'points new / baseline':>23s} {'ratio':>6s} {'time new / baseline':>21s} "
    f"{'speed-up':>8s} {'deviation':>9s}"
)


def compare_routes(
    model, kwargs: dict, baseline: Callable[[], Callable[[], None]], repeats: int = 1
) -> str:
    """One case by the current route and by ``baseline`` (a patch, see :func:`timed_response`),
    each the median of ``repeats`` timed runs: k points, wall time, their ratios baseline / new
    and the largest deviation (:func:`block_deviation`), formatted under ROUTE_COLUMNS."""
    kwargs = dict(kwargs, m=np.asarray(kwargs["m"], dtype=float) / np.linalg.norm(kwargs["m"]))
    results = []
    for patch in (None, baseline):
        runs = [timed_response(patch, model, **kwargs) for _ in range(repeats)]
        results.append((runs[0][0], float(np.median([t for _, t in runs]))))
    (new, t_new), (base, t_base) = results
    p_new, p_base = new.attrs["n_kpoints"], base.attrs["n_kpoints"]
    return (
        f"{p_new:>10d} / {p_base:<10d} {p_base / p_new:6.2f} {t_new:8.3f} / {t_base:<8.3f} s "
        f"{t_base / t_new:8.2f} {block_deviation(new, base):9.1e}"
    )
