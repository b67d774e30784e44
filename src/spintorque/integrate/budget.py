"""The memory budget of the adaptive integrators.

Both integrators keep, per cell (disk) or box (Brillouin zone), the cell's sums of every output
component and their error differences, so their memory grows as cells x components: a scan or a
finite-temperature point carries every Fermi level in the components (2 x nL x nR x nE; nE reaches
several hundred at T >> eta), and millions of k points then hold tens of GB (a random sweep of
finite-T scans at tight rtol was killed by the operating system for lack of memory; one of its
points held 6.4 GB). Before evaluating a refinement, an integrator checks that its stored arrays
would stay within ``max_memory`` bytes; if not, it stops and returns its result with
converged=False and ``exhausted = "max_memory"``, as it does with ``"max_points"`` for the point
budget.

The default is half the machine's physical memory, shared among the workers of a local process
pool (:class:`spintorque.sweep.ProcessPoolMapper` calls :func:`share_among_workers` in each
worker). Dask workers keep the default of their machine; give ``max_memory`` explicitly there.
"""

from __future__ import annotations

import os

FALLBACK_MEMORY = 4 * 2**30  # bytes, where the physical memory cannot be read
_workers = 1  # processes of this machine's pool that share the default budget


def share_among_workers(workers: int) -> None:
    """Divide the default budget of this process among ``workers`` pool processes."""
    global _workers
    _workers = max(1, int(workers))


def physical_memory() -> int:
    """The machine's physical memory in bytes, or FALLBACK_MEMORY where it cannot be read."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_MEMORY
    return int(total) if total > 0 else FALLBACK_MEMORY


def default_memory_budget() -> int:
    """Half the physical memory (bytes), divided among the pool's workers."""
    return physical_memory() // (2 * _workers)
