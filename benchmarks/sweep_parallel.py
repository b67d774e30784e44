"""Parallel efficiency of a sweep: the same 200-point sweep serially and on the process pool.

    python benchmarks/sweep_parallel.py [--points 200] [--workers N] [--dask]

Runs the whole user path (plan -> execute -> persist each point -> collect -> result.nc, no
figures) into temporary folders, first with the builtin ``map`` in this process, then with the
process pool over ``--workers`` processes (default: all cores), optionally on a Dask LocalCluster.
Prints the wall times, their ratio (speed-up) and the parallel efficiency
speed-up / workers, and checks that both results are bit-identical. The target is >= 80 % on 2
cores. Other jobs on the machine lower the figure: the load average is printed with it.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import tempfile
import time

from spintorque import sweep
from spintorque.io.config import parse_config

CONFIG = """
title = "benchmark: TI surface, magnetization-angle grid"
[model]
name = "DiracSurface"
vf = 1.0
delta = 0.2
cutoff = 5.0

[response]
ef = 0.3
eta = 0.05
rtol = 1e-3

[sweep]
theta = {{ start = 0, stop = 180, num = {n_theta} }}
phi = {{ start = 0, stop = 90, num = {n_phi} }}
"""


def make_spec(points: int):
    n_phi = 10 if points >= 20 else 1
    n_theta = math.ceil(points / n_phi)
    return parse_config(CONFIG.format(n_theta=n_theta, n_phi=n_phi))


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (pool workers, once joined)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed_run(spec, make_mapper) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, result) of one run; the mapper's workers are joined before the
    CPU time is read."""
    with tempfile.TemporaryDirectory() as folder:
        cpu, start = cpu_seconds(), time.perf_counter()
        with make_mapper() as mapper:
            outcome = sweep.run(spec, folder, mapper=mapper, figures=False)
        return time.perf_counter() - start, cpu_seconds() - cpu, outcome.dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster")
    args = parser.parse_args()
    spec = make_spec(args.points)
    serial_mapper = lambda: contextlib.nullcontext(map)  # noqa: E731
    timed_run(make_spec(1), serial_mapper)  # warm up imports and caches
    print(
        f"sweep of {spec.n_tasks} tasks on {args.workers} workers ({os.cpu_count()} cores; "
        f"load average before: {os.getloadavg()[0]:.2f})"
    )
    t_serial, cpu_serial, serial = timed_run(spec, serial_mapper)
    print(
        f"serial (map)      : {t_serial:8.2f} s wall {cpu_serial:8.2f} s CPU "
        f"({1e3 * t_serial / spec.n_tasks:.1f} ms/point)"
    )
    t_pool, cpu_pool, pooled = timed_run(spec, lambda: sweep.ProcessPoolMapper(args.workers))
    report("process pool", t_serial, cpu_serial, t_pool, cpu_pool, args.workers)
    assert pooled.identical(serial), "process-pool result differs from the serial one"
    if args.dask:
        with sweep.executor("dask-local", workers=args.workers) as mapper:
            mapper.start()  # cluster start-up is not part of the sweep time
            t_dask, _, distributed = timed_run(spec, lambda: contextlib.nullcontext(mapper))
        report("dask LocalCluster", t_serial, math.nan, t_dask, math.nan, args.workers)
        assert distributed.identical(serial), "Dask result differs from the serial one"
    print(f"results bit-identical across executors; load average after: {os.getloadavg()[0]:.2f}")
    print(
        "wall efficiency = serial wall / (workers x parallel wall): the figure of merit on an "
        "otherwise idle machine; CPU ratio = serial CPU / parallel CPU (all processes): the share "
        "of the parallel run's work that is useful, insensitive to other jobs on the machine."
    )


def report(name, t_serial, cpu_serial, t_par, cpu_par, workers) -> None:
    speedup = t_serial / t_par
    cpu = f"{cpu_par:8.2f} s CPU" if math.isfinite(cpu_par) else " " * 14
    ratio = f", CPU ratio {100 * cpu_serial / cpu_par:.0f} %" if math.isfinite(cpu_par) else ""
    print(
        f"{name:<18}: {t_par:8.2f} s wall {cpu}  ratio {speedup:.2f}x  "
        f"wall efficiency {100 * speedup / workers:.0f} %{ratio}"
    )


if __name__ == "__main__":
    main()
