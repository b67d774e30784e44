"""glibc malloc tuning (spintorque.integrate.heap): freed blocks stay in the process for reuse."""

import ctypes
import os
import subprocess
import sys

import pytest

PROBE = """
import os, sys
import numpy as np
from spintorque.integrate.heap import retain_freed_memory

def resident():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

applied = retain_freed_memory() if sys.argv[1] == "tuned" else False
block = np.ones(20 * 2**20 // 8)  # 20 MiB, touched
before = resident()
del block
print(int(applied), before - resident())
"""


def _glibc() -> bool:
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    return sys.platform.startswith("linux") and hasattr(libc, "gnu_get_libc_version")


def _probe(mode: str, **env: str) -> tuple[bool, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    ).stdout.split()
    return bool(int(out[0])), int(out[1])


pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="resident memory from /proc/self/statm"
)


@pytest.mark.skipif(not _glibc(), reason="glibc malloc only")
def test_freed_block_is_kept_for_reuse():
    # default glibc: a 20 MiB block is mmap-ed and returned to the system when freed
    applied, released = _probe("default")
    assert not applied and released > 15 * 2**20
    # tuned: it comes from the heap and stays there (below the 64 MiB trim threshold)
    applied, released = _probe("tuned")
    assert applied and released < 2 * 2**20


def test_opt_out_leaves_malloc_alone():
    applied, released = _probe("tuned", SPINTORQUE_MALLOC_TUNING="0")
    assert not applied
    if _glibc():
        assert released > 15 * 2**20
