"""``spintorque dynamics CONFIG.toml``: run a macrospin experiment, write NetCDF and a figure."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import ParameterError, SpintorqueError


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Arguments of the dynamics command (also used as a subparser by spintorque.cli)."""
    parser = parser or argparse.ArgumentParser(prog="spintorque dynamics", description=__doc__)
    parser.add_argument("config", help="TOML file (see spintorque.dynamics.config)")
    parser.add_argument("--output", help="NetCDF path (overrides the config's output)")
    parser.add_argument("--figure", help="figure path (overrides the config's figure)")
    parser.add_argument("--no-figure", action="store_true", help="do not draw the figure")
    return parser


def run_args(args: argparse.Namespace) -> int:
    """Execute parsed arguments; relative paths in the config start at the working directory."""
    from .config import load_config
    from .experiments import run, write
    from .plots import PLOTTERS

    config = load_config(args.config)
    output = Path(args.output or config.output)
    figure = args.figure or config.figure
    start = time.perf_counter()
    ds = run(config)
    write(ds, output)
    print(f"{config.experiment}: wrote {output} ({time.perf_counter() - start:.1f} s)")
    if figure and not args.no_figure:
        print(f"figure: {PLOTTERS[config.experiment](ds, figure)}")
    return 0


def run_checked(args: argparse.Namespace) -> int:
    """run_args with errors reported: 2 for invalid input, 1 for a failed computation."""
    try:
        return run_args(args)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SpintorqueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (``python -m spintorque.dynamics.cli``); returns the exit status."""
    return run_checked(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
