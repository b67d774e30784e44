"""Figures from result Datasets: each response block against each swept axis.

matplotlib is imported lazily, inside the functions, and used through its object-oriented API
with the Agg canvas (no pyplot, no global backend switch), so importing this module is cheap and
safe in headless jobs.

Each figure is a grid of the block's components (rows i, columns j; components that vanish
everywhere, within their error estimate, are left out) with the Fermi-sea (dashed),
Fermi-surface (dotted) and total (solid) parts against one swept axis; other swept axes are held
at their first value (stated in the title).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .engine import BLOCKS as ENGINE_BLOCKS
from .io.netcdf import atomic_path

BLOCKS = tuple(ENGINE_BLOCKS)  # every response block, in the engine's order
PART_STYLES = {"sea": "--", "surface": ":", "total": "-"}


def swept_axes(ds: xr.Dataset) -> list[str]:
    """Dimensions of ``ds`` that were swept and have more than one value."""
    names = (
        json.loads(ds.attrs.get("sweep_dims", "[]"))
        if "sweep_dims" in ds.attrs
        else [d for d in ("ef", "temperature") if d in ds.dims]
    )
    return [n for n in names if n in ds.dims and ds.sizes[n] > 1]


def _is_log(coord: xr.DataArray) -> bool:
    if coord.attrs.get("spacing") == "log":
        return True
    values = np.asarray(coord.values, dtype=float)
    if len(values) < 3 or np.any(values <= 0):
        return False
    ratios = values[1:] / values[:-1]
    return bool(np.ptp(np.log(ratios)) < 1e-6 and abs(np.log(ratios[0])) > 1e-3)


def _components(block: xr.DataArray, error: xr.DataArray | None) -> list[tuple[str, str]]:
    """(i, j) pairs that are nonzero somewhere: above 1e-12 of the block's scale and above
    their own error estimate (so that numerical noise about an exact zero is not plotted)."""
    scale = float(np.max(np.abs(block.values))) if block.size else 0.0
    keep = []
    for i in block["i"].values:
        for j in block["j"].values:
            comp = float(np.max(np.abs(block.sel(i=i, j=j).values)))
            err = 0.0 if error is None else float(np.max(error.sel(i=i, j=j).values))
            if scale > 0 and comp > max(1e-12 * scale, err):
                keep.append((str(i), str(j)))
    return keep


def _axis_label(ds: xr.Dataset, axis: str) -> str:
    units = ds[axis].attrs.get("units", "")
    short = "deg" if units == "degree" else ("energy" if units.startswith("energy") else "")
    return f"{axis} ({short})" if short else axis


def block_figure(ds: xr.Dataset, block: str, axis: str) -> Any:
    """A matplotlib Figure of ``ds[block]`` against the swept ``axis``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    others = {d: 0 for d in [*swept_axes(ds), "ef", "temperature"] if d != axis and d in ds.dims}
    data = ds[block].isel(others)
    error = ds[f"{block}_error"].isel(others) if f"{block}_error" in ds else None
    comps = _components(data, error)
    rows = [i for i in "xyz" if any(c[0] == i for c in comps)] or ["x"]
    cols = [j for j in "xyz" if any(c[1] == j for c in comps)] or ["x"]
    fig = Figure(figsize=(1.0 + 2.9 * len(cols), 1.4 + 2.3 * len(rows)))
    FigureCanvasAgg(fig)
    top = 1.0 - 1.0 / fig.get_figheight()
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.08, top=top, wspace=0.4, hspace=0.55)
    x = np.asarray(ds[axis].values, dtype=float)
    log = _is_log(ds[axis])
    first = None
    for row, i in enumerate(rows):
        for col, j in enumerate(cols):
            if (i, j) not in comps:
                continue
            ax = fig.add_subplot(len(rows), len(cols), len(cols) * row + col + 1)
            if log:
                ax.set_xscale("log")
                ax.minorticks_off()  # log minor ticks make drawing several times slower
            for part, style in PART_STYLES.items():
                ax.plot(x, data.sel(part=part, i=i, j=j).values, style, label=part)
            ax.set_title(f"[{i}, {j}]", fontsize=9)
            ax.tick_params(labelsize=8)
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
            ax.set_xlabel(_axis_label(ds, axis), fontsize=8)
            first = first or ax
    if first is not None:
        first.legend(fontsize=8)
    else:
        fig.text(0.5, 0.5, f"{block} vanishes identically", ha="center")
    fixed = ", ".join(f"{d}={float(ds[d].values[0]):g}" for d in others)
    definition = ds[block].attrs.get("definition", "")
    title = f"{block}  {definition}  (raw units: hbar=e=1, per area)"
    fig.suptitle(title + (f"\nat {fixed}" if fixed else ""), fontsize=10)
    return fig


def write_figures(
    ds: xr.Dataset,
    folder: str | os.PathLike,
    *,
    blocks: tuple[str, ...] | None = None,
    dpi: int = 100,
) -> list[Path]:
    """Write ``<block>_vs_<axis>.png`` for every block (default: those in ``ds``) and swept
    axis; return the paths.

    A result with no swept axis (a single point) has nothing to plot and gives no files.
    """
    blocks = tuple(b for b in BLOCKS if b in ds) if blocks is None else blocks
    folder = Path(folder)
    paths = []
    for axis in swept_axes(ds):
        for block in blocks:
            fig = block_figure(ds, block, axis)
            path = folder / f"{block}_vs_{axis}.png"
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format="png", dpi=dpi)
            paths.append(path)
    return paths
