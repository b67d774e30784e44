"""Keep freed heap memory for reuse, so that the engine's temporaries are not faulted in again.

Every engine call allocates numpy temporaries that grow with k points x Fermi levels: a
200-level scan of DiracSurface at rtol 1e-6 holds about 25 MB of them at its peak. glibc's
malloc returns the free top of its heap to the operating system once it exceeds the trim
threshold (by default twice the largest freed mmap-ed block, i.e. a few MB to tens of MB), so
the next call touches fresh pages again and pays one page fault per 4 KiB. Measured on the
development machine (a VM, ~3.5 us per fault): ~5 600 faults and ~20 ms of a ~80 ms scan;
with the settings below, ~1 000 faults and ~60 ms (``benchmarks/engine_vs_grid.py``).

:func:`retain_freed_memory` sets M_MMAP_THRESHOLD = 32 MiB and M_TRIM_THRESHOLD = 64 MiB, the
state that glibc's own dynamic thresholds reach after the process frees its first 32 MiB
block: blocks below 32 MiB come from the heap, and up to 64 MiB of free heap top is kept. The
setting is process-wide (the cost: a process may keep up to 64 MiB it no longer uses); it is
applied once, on the first engine call, and only with glibc. Set the environment variable
``SPINTORQUE_MALLOC_TUNING=0`` to leave malloc alone.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

MMAP_THRESHOLD = 32 * 2**20  # bytes; glibc's largest dynamic mmap threshold (64-bit)
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (glibc malloc.h)
OPT_OUT = "SPINTORQUE_MALLOC_TUNING"


@functools.cache
def retain_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see the module docstring) once per process.

    Returns True if they were set; False where the C library is not glibc, or where
    ``SPINTORQUE_MALLOC_TUNING=0`` asks to leave malloc alone.
    """
    if os.environ.get(OPT_OUT, "1").strip() == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    # glibc only: musl's mallopt does nothing, other allocators have other parameters
    if not (hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt")):
        return False
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
