"""Parameter sweeps: plan -> execute (injected map-like) -> collect -> write, with checkpoints.

A :class:`~spintorque.io.config.RunSpec` is turned into a :class:`Plan`: the Fermi level and
temperature axes are grouped into each :func:`spintorque.response` call (one call computes all of
them from shared diagonalisations), and the tasks are the product of the other swept axes.

Tasks run through a *map-like* callable ``mapper(fn, tasks)`` that yields ``fn(task)`` for every
task in any order: the builtin :func:`map` (serial), :class:`ProcessPoolMapper` (all local cores,
the default), or :class:`DaskMapper` (a ``dask.distributed`` LocalCluster or a running scheduler;
Dask is imported only when one is started). Results carry their task index and are collected in
plan order, so the result does not depend on the executor.

Nothing is lost: every finished point is written atomically to ``DIR/points/`` as it arrives; a
rerun of the same config in the same DIR loads them and computes only the rest; a finished run
is not recomputed; a different config in the same DIR is refused unless ``force=True``.

Output files in DIR: ``result.nc`` (all blocks, swept axes as coordinates), ``summary.json``
(written last: it marks the run complete), ``figures/*.png``, ``run.json`` (config + hash) and
``points/*.npz``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import shutil
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import xarray as xr

from . import __version__
from .errors import ConvergenceWarning, SpintorqueError
from .io.config import ENERGY_UNIT, GROUPED_AXES, Axis, RunSpec, angles_to_vector
from .io.netcdf import (
    atomic_path,
    json_default,
    read_dataset,
    read_json,
    remove_stale_temporaries,
    write_dataset,
    write_json,
)
from .responses import AXES, BLOCK_DESCRIPTIONS, CONVENTIONS, PARTS

Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]
ProgressCallback = Callable[[int, int], None]
BLOCK_NAMES = tuple(BLOCK_DESCRIPTIONS)


def present_blocks(ds: xr.Dataset) -> tuple[str, ...]:
    """The response blocks a result holds (all of them unless ``blocks`` was given)."""
    return tuple(name for name in BLOCK_NAMES if name in ds)


POINT_ATTRS = ("error_estimate", "converged", "n_kpoints", "dim")


class RunDirectoryError(SpintorqueError):
    """The output folder holds a run of a different config (rerun with force=True)."""


# ---------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Task:
    """One :func:`spintorque.response` call: a model by name and the response arguments."""

    index: int
    model_name: str
    model_params: tuple[tuple[str, Any], ...]
    arguments: tuple[tuple[str, Any], ...]
    label: str = ""


@dataclass(frozen=True)
class TaskResult:
    """A finished task: its index in the plan, the response Dataset and captured warnings."""

    index: int
    dataset: xr.Dataset = field(repr=False)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The tasks of a run, in row-major order over ``task_axes``."""

    spec: RunSpec
    task_axes: tuple[Axis, ...]
    tasks: tuple[Task, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.task_axes)

    def grouped_axis(self, name: str) -> Axis | None:
        return next((a for a in self.spec.axes if a.name == name), None)


def make_plan(spec: RunSpec) -> Plan:
    """Split the swept axes into grouped ones (ef, temperature) and tasks over the rest."""
    task_axes = tuple(a for a in spec.axes if a.name not in GROUPED_AXES)
    grouped = {a.name: list(a.values) for a in spec.axes if a.name in GROUPED_AXES}
    tasks = []
    for index, values in enumerate(itertools.product(*(a.values for a in task_axes))):
        point = dict(zip([a.name for a in task_axes], values, strict=True))
        model = dict(spec.model_params)
        model.update({a.name: point[a.name] for a in task_axes if a.kind == "model"})
        args = {k: v for k, v in spec.response.items() if k not in ("theta", "phi")}
        args.update({k: point[k] for k in point if k in ("eta", "rtol")})
        args.update(grouped)
        if "m" not in args:
            theta = point.get("theta", spec.response.get("theta", 0.0))
            phi = point.get("phi", spec.response.get("phi", 0.0))
            args["m"] = angles_to_vector(theta, phi)
        label = ", ".join(f"{k}={v:g}" for k, v in point.items())
        tasks.append(Task(index, spec.model_name, tuple(model.items()), tuple(args.items()), label))
    return Plan(spec, task_axes, tuple(tasks))


def compute_task(task: Task) -> TaskResult:
    """Run one task (in whichever process the executor chose); warnings are captured."""
    from .models.registry import get_model
    from .responses import response

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = get_model(task.model_name, **dict(task.model_params))
            ds = response(model, **dict(task.arguments))
        except SpintorqueError as exc:
            where = f"sweep point {task.index}" + (f" ({task.label})" if task.label else "")
            try:
                named = type(exc)(f"{where}: {exc}")
            except TypeError:  # an exception class with another signature: keep it as it is
                raise exc from None
            raise named from exc
    return TaskResult(task.index, ds, tuple(str(w.message) for w in caught))


# ---------------------------------------------------------------------------- executors


_C = TypeVar("_C", bound="_Closing")


class _Closing:
    """Context-manager protocol calling ``close()`` on exit."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProcessPoolMapper(_Closing):
    """Map-like over a local :class:`~concurrent.futures.ProcessPoolExecutor`.

    The pool starts on the first call with more than one item (a single item runs in this
    process) and yields results as they complete. Use as a context manager to shut it down.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or os.cpu_count() or 1
        self._pool = None

    def __call__(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        items = list(items)
        if len(items) <= 1 or self.max_workers == 1:
            return map(fn, items)
        workers = min(self.max_workers, len(items))
        if self._pool is None:
            self._pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(workers,))
        # chunks of tasks per submission: cheap points (~10 ms) would otherwise spend a large
        # share of the pool's CPU on inter-process traffic; ~8 chunks per worker keep the load
        # balanced and the loss on an interruption small (finished chunks are persisted)
        size = max(1, len(items) // (CHUNKS_PER_WORKER * workers))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        futures = [self._pool.submit(_run_chunk, fn, chunk) for chunk in chunks]  # eager start
        return (result for future in as_completed(futures) for result in future.result())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


CHUNKS_PER_WORKER = 8


def _run_chunk(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """Pool worker: ``fn`` over a chunk of items."""
    return [fn(item) for item in items]


def _init_worker(workers: int = 1) -> None:
    """Pool worker set-up: leave Ctrl-C to the driver (which stops the run and keeps finished
    points), use one BLAS thread, so that the workers do not oversubscribe the cores, and take
    a 1/workers share of the default memory budget (:mod:`spintorque.integrate.budget`)."""
    import signal

    from threadpoolctl import threadpool_limits

    from .integrate.budget import share_among_workers

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threadpool_limits(1)
    share_among_workers(workers)


def import_distributed() -> Any:
    """Import ``dask.distributed`` or raise a clear error naming the optional extra."""
    try:
        import dask.distributed as distributed
    except ImportError as exc:
        raise SpintorqueError(
            "running on Dask needs the optional dependency dask[distributed]: "
            "pip install 'spintorque[dask]'  (or run without --dask/--scheduler to use the "
            f"local process pool); import failed with: {exc}"
        ) from None
    return distributed


class DaskMapper(_Closing):
    """Map-like over a ``dask.distributed`` client.

    ``scheduler=None`` starts a :class:`dask.distributed.LocalCluster` (``n_workers``
    single-threaded worker processes) on the first call; otherwise connects to the scheduler at
    that address (e.g. one started by dask-jobqueue, see docs/cluster.md). Results are yielded as
    they complete.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        n_workers: int | None = None,
        dashboard_address: str | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers or os.cpu_count() or 1
        self.dashboard_address = dashboard_address
        self.client = None
        self._cluster = None
        self._distributed = import_distributed()

    def start(self) -> Any:
        """Start or connect the client (idempotent) and return it."""
        if self.client is None:
            import logging

            dist = self._distributed
            if self.scheduler is None:
                self._cluster = dist.LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=self.dashboard_address,
                    silence_logs=logging.ERROR,
                )
                self.client = dist.Client(self._cluster)
            else:
                self.client = dist.Client(self.scheduler)
        return self.client

    def __call__(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        if not items:
            return iter(())
        client = self.start()
        futures = client.map(fn, items, pure=False)
        return (future.result() for future in self._distributed.as_completed(futures))

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


# ---------------------------------------------------------------------------- run folder


class RunDirectory:
    """The files of one run in ``path``; see the module docstring."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.points = self.path / "points"
        self.result = self.path / "result.nc"
        self.summary = self.path / "summary.json"
        self.record = self.path / "run.json"
        self.figures = self.path / "figures"

    def stored_hash(self) -> str | None:
        if not self.record.exists():
            return None
        return read_json(self.record).get("config_hash")

    def is_complete(self, spec: RunSpec) -> bool:
        if not (self.summary.exists() and self.result.exists()):
            return False
        return read_json(self.summary).get("config_hash") == spec.config_hash

    def prepare(self, spec: RunSpec, *, force: bool) -> None:
        """Check the stored config hash (refuse a different config unless ``force``) and
        record this run's config."""
        stored = self.stored_hash()
        if stored is not None and stored != spec.config_hash:
            if not force:
                raise RunDirectoryError(
                    f"{self.path} holds a run of a different config (hash {stored[:12]} != "
                    f"{spec.config_hash[:12]}); use --force to discard it, or another --out"
                )
            self.clear()
        elif force:
            self.clear()
        self.points.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path)
        remove_stale_temporaries(self.points)
        if not self.record.exists():
            write_json(
                {
                    "config_hash": spec.config_hash,
                    "spintorque_version": __version__,
                    "config": spec.normalised(),
                    "config_toml": spec.source_text,
                },
                self.record,
            )

    def clear(self) -> None:
        """Remove this package's files (never anything else in the folder)."""
        for path in (self.summary, self.result, self.record):
            path.unlink(missing_ok=True)
        for folder in (self.points, self.figures):
            if folder.is_dir():
                shutil.rmtree(folder)

    def point_path(self, index: int) -> Path:
        return self.points / f"point_{index:06d}.npz"

    def save_point(self, result: TaskResult, config_hash: str) -> None:
        """Write one finished point atomically (a small .npz: arrays + JSON metadata)."""
        ds = result.dataset
        meta = {
            "task_index": result.index,
            "config_hash": config_hash,
            "warnings": list(result.warnings),
            "attrs": {k: ds.attrs[k] for k in POINT_ATTRS},
            "dims": {name: list(ds[name].dims) for name in ds.data_vars},
        }
        arrays = {name: np.asarray(ds[name].values) for name in ds.data_vars}
        # not fsynced: a killed run keeps it (page cache); after a power cut an unreadable
        # point is simply recomputed
        path = self.point_path(result.index)
        with atomic_path(path, durable=False) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, __meta__=np.array(json.dumps(meta, default=json_default)), **arrays)

    def load_point(self, path: Path) -> tuple[TaskResult, str] | None:
        """(result, config hash) of a point file, or None if it cannot be read."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["__meta__"]))
                arrays = {name: (dims, data[name]) for name, dims in meta["dims"].items()}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None  # e.g. truncated by a power cut: the point is recomputed
        ds = xr.Dataset(arrays, attrs=meta["attrs"])
        return TaskResult(meta["task_index"], ds, tuple(meta["warnings"])), meta["config_hash"]

    def load_points(self, plan: Plan) -> dict[int, TaskResult]:
        """Finished points of this config (files of another config or unreadable are ignored)."""
        done = {}
        for task in plan.tasks:
            path = self.point_path(task.index)
            loaded = self.load_point(path) if path.exists() else None
            if (
                loaded is not None
                and loaded[1] == plan.spec.config_hash
                and loaded[0].index == task.index
            ):
                done[task.index] = loaded[0]
        return done


# ---------------------------------------------------------------------------- execute and collect


@dataclass
class RunOutcome:
    """What :func:`run` did: the result, how many tasks it computed and reused, the files."""

    dataset: xr.Dataset
    directory: RunDirectory
    n_tasks: int
    n_computed: int
    n_reused: int
    already_complete: bool = False
    figures: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def execute(
    plan: Plan,
    mapper: Mapper = map,
    *,
    done: dict[int, TaskResult] | None = None,
    on_result: Callable[[TaskResult], None] | None = None,
    progress: ProgressCallback | None = None,
) -> dict[int, TaskResult]:
    """Run the tasks not in ``done`` through ``mapper``; return all results by task index.

    ``on_result`` is called on each new result as it arrives (to persist it); ``progress(done,
    total)`` once before the first and after every result.
    """
    results = dict(done or {})
    pending = [t for t in plan.tasks if t.index not in results]
    total = len(plan.tasks)
    stream = mapper(compute_task, pending)  # eager executors start their workers here
    if progress is not None:
        progress(len(results), total)
    for result in stream:
        if on_result is not None:
            on_result(result)
        results[result.index] = result
        if progress is not None:
            progress(len(results), total)
    missing = [t.index for t in plan.tasks if t.index not in results]
    if missing:
        raise SpintorqueError(f"the executor returned no result for tasks {missing[:10]}")
    return results


def collect(plan: Plan, results: dict[int, TaskResult]) -> xr.Dataset:
    """One Dataset: every block with the task axes prepended, in plan order."""
    dims = [a.name for a in plan.task_axes]
    shape = plan.shape
    ordered = [results[t.index].dataset for t in plan.tasks]
    names = present_blocks(ordered[0])
    inner = list(ordered[0][names[0]].dims)
    data_vars = {}
    for name in names:
        for var in (name, f"{name}_error"):
            stacked = np.stack([np.asarray(ds[var].values, dtype=float) for ds in ordered])
            data_vars[var] = (
                dims + inner,
                stacked.reshape(shape + stacked.shape[1:]),
                _block_attrs(var),
            )
    per_point = {
        "error_estimate": (float, "largest error estimate relative to its block's scale"),
        "converged": (np.int8, "1 if the point met rtol"),
        "n_kpoints": (np.int64, "k points evaluated"),
    }
    for key, (dtype, meaning) in per_point.items():
        values = np.array([ds.attrs[key] for ds in ordered], dtype=dtype).reshape(shape)
        data_vars[key] = (dims, values, {"long_name": meaning})
    mags = np.array([dict(t.arguments)["m"] for t in plan.tasks], dtype=float)
    data_vars["magnetization"] = (
        [*dims, "i"],
        mags.reshape((*shape, 3)),
        {"long_name": "unit magnetization direction m"},
    )
    ds = xr.Dataset(data_vars, coords=_coords(plan))
    ds.attrs.update(_result_attrs(plan, ds, int(ordered[0].attrs["dim"])))
    return ds


def _block_attrs(var: str) -> dict[str, str]:
    name = var.removesuffix("_error")
    formula, meaning = BLOCK_DESCRIPTIONS[name]
    if var.endswith("_error"):
        return {
            "long_name": f"absolute error estimate of {name}",
            "units": "raw (hbar=e=1, per area)",
        }
    return {"long_name": meaning, "definition": formula, "units": "raw (hbar=e=1, per area)"}


def _coords(plan: Plan) -> dict[str, Any]:
    coords: dict[str, Any] = {}
    for axis in plan.task_axes:
        coords[axis.name] = (
            axis.name,
            np.asarray(axis.values),
            {"units": axis.units, "kind": f"{axis.kind} parameter", "spacing": axis.spacing},
        )
    for name in ("temperature", "ef"):
        axis = plan.grouped_axis(name)
        attrs = {"units": ENERGY_UNIT, "kind": "response parameter"}
        if axis is not None:
            coords[name] = (
                name,
                np.asarray(axis.values, dtype=float),
                dict(attrs, spacing=axis.spacing),
            )
        else:
            coords[name] = ((), float(plan.spec.response[name]), attrs)
    coords.update({"part": list(PARTS), "i": list(AXES), "j": list(AXES)})
    return coords


def _result_attrs(plan: Plan, ds: xr.Dataset, dim: int) -> dict[str, Any]:
    spec = plan.spec
    units = {
        "energies (ef, eta, temperature, delta)": ENERGY_UNIT,
        "lengths": "model length unit (nm in the examples); k in inverse length",
        "blocks": "raw, hbar = e = 1, per unit area, Pauli sigma",
        "theta, phi": "degree",
    }
    return {
        "title": spec.title,
        "model": spec.model_name,
        "model_parameters": json.dumps(dict(spec.model_params)),
        "config": json.dumps(spec.normalised()),
        "config_toml": spec.source_text,
        "config_hash": spec.config_hash,
        "sweep_dims": json.dumps([a.name for a in spec.axes]),
        "n_tasks": len(plan.tasks),
        "conventions": CONVENTIONS,
        "units": json.dumps(units),
        "dim": dim,
        "error_estimate": float(ds["error_estimate"].max()),
        "converged": int(bool(ds["converged"].all())),
        "spintorque_version": __version__,
    }


def summary(ds: xr.Dataset) -> dict[str, Any]:
    """JSON-ready summary of a result Dataset (tensors included for a single point)."""
    sweep = json.loads(ds.attrs.get("sweep_dims", "[]"))
    out: dict[str, Any] = {
        "title": ds.attrs.get("title", ""),
        "model": ds.attrs.get("model"),
        "model_parameters": json.loads(ds.attrs.get("model_parameters", "{}")),
        "config_hash": ds.attrs.get("config_hash"),
        "spintorque_version": ds.attrs.get("spintorque_version"),
        "conventions": ds.attrs.get("conventions"),
        "sweep": {name: np.asarray(ds[name].values).tolist() for name in sweep},
        "n_points": math.prod(ds.sizes[name] for name in sweep),
        "n_tasks": int(ds.attrs.get("n_tasks", 1)),
        "converged": bool(ds["converged"].all()),
        "n_unconverged": int((ds["converged"] == 0).sum()),
        "max_error_estimate": float(ds["error_estimate"].max()),
    }
    if not sweep:
        out["blocks"] = {
            name: {part: ds[name].sel(part=part).values.tolist() for part in PARTS}
            for name in present_blocks(ds)
        }
    return out


# ---------------------------------------------------------------------------- the whole run


def run(
    spec: RunSpec,
    out_dir: str | os.PathLike,
    *,
    mapper: Mapper = map,
    force: bool = False,
    figures: bool = True,
    progress: ProgressCallback | None = None,
) -> RunOutcome:
    """Run (or resume) a validated config into ``out_dir``; see the module docstring.

    Parameters
    ----------
    spec : validated config (:func:`spintorque.io.config.load_config`).
    out_dir : output folder (created if needed).
    mapper : map-like executor ``mapper(fn, tasks)``; results may come in any order.
    force : discard a run of a different config found in ``out_dir``.
    figures : write PNG figures (matplotlib, Agg) of each block against each swept axis.
    progress : ``progress(done, total)`` callback.

    Returns
    -------
    RunOutcome
    """
    directory = RunDirectory(out_dir)
    if not force and directory.is_complete(spec):
        ds = read_dataset(directory.result)
        n = int(ds.attrs.get("n_tasks", 1))
        return RunOutcome(ds, directory, n, 0, n, already_complete=True)
    directory.prepare(spec, force=force)
    plan = make_plan(spec)
    done = directory.load_points(plan)
    n_reused = len(done)
    results = execute(
        plan,
        mapper,
        done=done,
        progress=progress,
        on_result=lambda r: directory.save_point(r, spec.config_hash),
    )
    ds = collect(plan, results)
    write_dataset(ds, directory.result)
    paths = []
    if figures:
        from .plotting import write_figures

        paths = write_figures(ds, directory.figures)
    write_json(summary(ds), directory.summary)
    messages = sorted({msg for r in results.values() for msg in r.warnings})
    n_bad = int((ds["converged"] == 0).sum())
    if n_bad:
        warnings.warn(
            f"{n_bad} of {len(plan.tasks)} sweep points did not converge to "
            f"rtol={spec.response.get('rtol', 'swept')}; see converged and "
            f"error_estimate in {directory.result}",
            ConvergenceWarning,
            stacklevel=2,
        )
    return RunOutcome(
        ds,
        directory,
        len(plan.tasks),
        len(plan.tasks) - n_reused,
        n_reused,
        figures=paths,
        warnings=messages,
    )


@contextlib.contextmanager
def executor(
    kind: str = "processes", *, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Mapper]:
    """Context manager yielding a mapper: ``"serial"``, ``"processes"``, ``"dask-local"`` or
    ``"dask"`` (connect to ``scheduler``)."""
    if kind == "serial":
        yield map
    elif kind == "processes":
        with ProcessPoolMapper(workers) as mapper:
            yield mapper
    elif kind in ("dask-local", "dask"):
        with DaskMapper(
            scheduler if kind == "dask" else None,
            workers,
            dashboard_address=":0" if kind == "dask-local" else None,
        ) as mapper:
            yield mapper
    else:
        raise ValueError(f"unknown executor {kind!r}; allowed: serial, processes, dask-local, dask")
