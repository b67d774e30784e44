"""Command line: ``spintorque run | show | plot`` (argument parsing and printing only).

    spintorque run CONFIG.toml [--out DIR] [--workers N] [--dask local | --scheduler ADDRESS]
                               [--force] [--quiet] [--no-figures]
    spintorque show DIR/result.nc
    spintorque plot DIR/result.nc [--out FOLDER]
    spintorque dynamics CONFIG.toml [--output FILE.nc] [--figure FILE.png] [--no-figure]
    spintorque paper-check [--out DIR]

Exit status: 0 done, 1 a computation failed, 2 invalid input (config, output folder of another
config, missing file), 130 interrupted (finished points are kept; rerun to resume).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import SpintorqueError

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(SpintorqueError):
    """A command-line argument names something that does not exist or is not allowed."""


_VELOCITY_LEFT = ("current_force", "current_exchange")
_VELOCITY_RIGHT = ("spin_force", "current_force", "exchange_force")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``spintorque`` command."""
    parser = argparse.ArgumentParser(
        prog="spintorque",
        description="Spin-orbit torques, damping and conductivity from Bloch Hamiltonians.",
    )
    parser.add_argument("--version", action="version", version=f"spintorque {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a TOML config (one point or a sweep); resumable")
    run.add_argument("config", type=Path, help="TOML config, see docs/config.md")
    run.add_argument(
        "--out", type=Path, default=None, help="output folder (default: out/<config name>)"
    )
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local worker processes, or LocalCluster workers with --dask local "
        "(default: all cores; 1 = in this process)",
    )
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--dask",
        choices=["local"],
        default=None,
        help="run on a dask.distributed LocalCluster (needs spintorque[dask])",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run on an existing Dask cluster, e.g. tcp://host:8786 (docs/cluster.md)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="discard a run of a different config found in the output folder",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--no-figures", action="store_true", help="do not write PNG figures")
    run.set_defaults(func=cmd_run)

    show = sub.add_parser("show", help="print a summary of a result.nc")
    show.add_argument("result", type=Path)
    show.set_defaults(func=cmd_show)

    plot = sub.add_parser("plot", help="remake the figures of a result.nc")
    plot.add_argument("result", type=Path)
    plot.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the PNG files (default: figures/ next to the result)",
    )
    plot.set_defaults(func=cmd_plot)

    from .dynamics.cli import build_parser as dynamics_arguments  # macrospin LLG (docs/dynamics.md)

    dynamics = sub.add_parser("dynamics", help="macrospin LLG experiment from a TOML config")
    dynamics_arguments(dynamics).set_defaults(func=cmd_dynamics)

    from .paper_check import add_arguments as paper_check_arguments  # docs/paper.md

    paper = sub.add_parser("paper-check", help="the paper's claims: report, figures, data")
    paper_check_arguments(paper)
    paper.set_defaults(func=cmd_paper_check)
    return parser


def cmd_paper_check(args: argparse.Namespace) -> int:
    """``spintorque paper-check``: delegated to spintorque.paper_check."""
    from .paper_check import run_from_args

    return run_from_args(args)


def cmd_dynamics(args: argparse.Namespace) -> int:
    """``spintorque dynamics``: delegated to spintorque.dynamics.cli (2 = invalid input)."""
    from .dynamics.cli import run_checked

    return run_checked(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spintorque`` command; returns the exit status."""
    from .io.config import ConfigError
    from .sweep import RunDirectoryError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, RunDirectoryError, UsageError) as exc:
        _error(exc)
        return EXIT_INPUT
    except SpintorqueError as exc:
        _error(exc)
        return EXIT_FAILED
    except KeyboardInterrupt:
        _console(stderr=True).print(
            "interrupted: finished points are saved; rerun the same command to resume"
        )
        return EXIT_INTERRUPTED


def _error(exc: BaseException, label: str = "error", style: str = "bold red") -> None:
    """Print ``label: message`` on stderr; the message is not parsed as rich markup."""
    from rich.text import Text

    _console(stderr=True).print(Text.assemble((f"{label}:", style), " ", str(exc)))


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, markup=False)
    if not console.is_terminal:  # files and pipes: do not wrap tables at 80 columns
        console = Console(stderr=stderr, highlight=False, markup=False, width=120)
    return console


# ---------------------------------------------------------------------------- run


class RichProgress:
    """``progress(done, total)`` callback drawing a rich progress bar on stderr.

    Silent when ``enabled`` is false; started on the first call with work left to do.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            if done >= total or total <= 1:
                return
            self._start(done, total)
        self._bar.update(self._task, completed=done)

    def _start(self, done: int, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                return Text(f"{speed:.2f} pt/s" if speed else "-- pt/s")

        self._bar = Progress(
            TextColumn("points"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=_console(stderr=True),
        )
        self._bar.start()
        self._task = self._bar.add_task("sweep", total=total, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _executor_kind(args: argparse.Namespace) -> str:
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    if args.scheduler:
        if args.workers is not None:
            raise UsageError(
                "--workers does not apply to --scheduler (the cluster has its workers)"
            )
        return "dask"
    if args.dask == "local":
        return "dask-local"
    return "serial" if args.workers == 1 else "processes"


def cmd_run(args: argparse.Namespace) -> int:
    """``spintorque run``: validate, run or resume, report."""
    from .errors import SpintorqueWarning
    from .io.config import load_config
    from .sweep import executor, run

    spec = load_config(args.config)  # all validation before anything starts
    out = args.out if args.out is not None else Path("out") / args.config.stem
    kind = _executor_kind(args)
    progress = RichProgress(enabled=not args.quiet and sys.stderr.isatty())
    start = time.perf_counter()
    try:
        with (
            executor(kind, workers=args.workers, scheduler=args.scheduler) as mapper,
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always", SpintorqueWarning)
            outcome = run(
                spec,
                out,
                mapper=mapper,
                force=args.force,
                figures=not args.no_figures,
                progress=progress,
            )
    finally:
        progress.close()
    _report_run(outcome, kind, time.perf_counter() - start, [str(w.message) for w in caught])
    return EXIT_OK


def _report_run(outcome: Any, kind: str, seconds: float, messages: list[str]) -> None:
    console = _console()
    ds, folder = outcome.dataset, outcome.directory.path
    if outcome.already_complete:
        console.print(f"nothing to do: {folder} already holds the finished result of this config")
    elif outcome.n_reused:
        console.print(
            f"resumed: {outcome.n_reused} of {outcome.n_tasks} tasks were already done, "
            f"computed {outcome.n_computed}"
        )
    if not json.loads(ds.attrs.get("sweep_dims", "[]")):
        print_tensors(ds, console)
    else:
        print_header(ds, console)
    if not outcome.already_complete:
        console.print(
            f"{outcome.n_computed} task(s) computed in {seconds:.1f} s ({kind}); "
            f"wrote {outcome.directory.result}, {outcome.directory.summary.name}"
            + (f" and {len(outcome.figures)} figures" if outcome.figures else "")
        )
    for msg in sorted(set(messages) | set(outcome.warnings)):
        _error(msg, "warning", "yellow")


# ---------------------------------------------------------------------------- show / plot


def _load(path: Path) -> Any:
    from .io.netcdf import read_dataset

    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    return read_dataset(path)


def cmd_show(args: argparse.Namespace) -> int:
    """``spintorque show``: header, and the tensors of a single-point result."""
    ds = _load(args.result)
    console = _console()
    print_header(ds, console)
    if not json.loads(ds.attrs.get("sweep_dims", "[]")):
        print_tensors(ds, console)
    return EXIT_OK


def cmd_plot(args: argparse.Namespace) -> int:
    """``spintorque plot``: remake the PNG figures."""
    from .plotting import swept_axes, write_figures

    ds = _load(args.result)
    folder = args.out if args.out is not None else args.result.parent / "figures"
    console = _console()
    if not swept_axes(ds):
        console.print("nothing to plot: this result has no swept axis (a single point)")
        return EXIT_OK
    paths = write_figures(ds, folder)
    console.print(f"wrote {len(paths)} figures in {folder}")
    return EXIT_OK


def print_header(ds: Any, console: Any) -> None:
    """Model, parameters, sweep axes, convergence of a result Dataset."""
    from rich.table import Table

    table = Table(title=ds.attrs.get("title") or "spintorque result", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    params = json.loads(ds.attrs.get("model_parameters", "{}"))
    table.add_row(
        "model", f"{ds.attrs.get('model')}  " + ", ".join(f"{k}={v}" for k, v in params.items())
    )
    config = json.loads(ds.attrs.get("config", "{}"))
    fixed = {k: v for k, v in config.get("response", {}).items()}
    table.add_row("response", ", ".join(f"{k}={v}" for k, v in fixed.items()))
    for name in json.loads(ds.attrs.get("sweep_dims", "[]")):
        values = ds[name].values
        units = ds[name].attrs.get("units", "")
        table.add_row(
            f"sweep {name}",
            f"{len(values)} values, {values.min():g} .. {values.max():g}"
            + (f" ({units})" if units else ""),
        )
    n_bad = int((ds["converged"] == 0).sum())
    status = "all converged" if n_bad == 0 else f"{n_bad} point(s) NOT converged"
    table.add_row(
        "accuracy",
        f"{status}; largest relative error {float(ds['error_estimate'].max()):.2g}",
        style=None if n_bad == 0 else "yellow",
    )
    table.add_row("conventions", str(ds.attrs.get("conventions", "")))
    table.add_row(
        "version",
        f"spintorque {ds.attrs.get('spintorque_version', '?')}, "
        f"config hash {str(ds.attrs.get('config_hash', ''))[:12]}",
    )
    console.print(table)


def _fmt(value: float, error: float) -> Any:
    from rich.text import Text

    return Text("~0", style="dim") if abs(value) <= error else Text(f"{value:.6g}")


def print_tensors(ds: Any, console: Any) -> None:
    """One table per block: rows (part, i), columns j; entries within their error of zero dim."""
    from rich.table import Table

    from .plotting import BLOCKS

    dim = int(ds.attrs.get("dim", 3))
    for name in (b for b in BLOCKS if b in ds):
        block, error = ds[name], ds[f"{name}_error"]
        rows = "xy" if dim == 2 and name in _VELOCITY_LEFT else "xyz"
        cols = "xy" if dim == 2 and name in _VELOCITY_RIGHT else "xyz"
        title = f"{name} = {block.attrs.get('definition', '')}: {block.attrs.get('long_name', '')}"
        table = Table(title=title, title_justify="left")
        table.add_column("part")
        table.add_column("i")
        for j in cols:
            table.add_column(f"j={j}", justify="right")
        for part in ("sea", "surface", "total"):
            for i in rows:
                cells = [
                    _fmt(
                        float(block.sel(part=part, i=i, j=j)), float(error.sel(part=part, i=i, j=j))
                    )
                    for j in cols
                ]
                table.add_row(part if i == rows[0] else "", i, *cells)
            if part != "total":
                table.add_section()
        console.print(table)
    console.print(
        "raw units: hbar = e = 1, per unit area, Pauli sigma; ~0: zero within the error estimate"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
