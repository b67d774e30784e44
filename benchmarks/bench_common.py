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
