"""``spintorque paper-check``: the paper's claims, computed by the engine, in a rerunnable report.

    spintorque paper-check [--out DIR]        (or: python -m spintorque.paper_check --out DIR)

writes DIR/report.md, DIR/figures/*.png and DIR/data/*.nc. Everything is computed with fixed
grids and tolerances in float64 (no randomness, no timestamps in the files), so two runs give
identical files. The numbers are the full engine's (:func:`spintorque.response`); the closed
forms (:mod:`spintorque.analytic`, :mod:`spintorque.analytic_ti`) stand next to them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from . import paper_claims as pc
from .io.netcdf import atomic_path, write_dataset
from .paper_report import write_report

FIGURES = ("cone", "damping", "sea_surface", "conductivity", "eta_scaling", "convergence")


def compute_all(
    params: pc.CheckParameters, log: Callable[[str], None] = print
) -> dict[str, xr.Dataset]:
    """Every claim's Dataset, in report order."""
    out: dict[str, xr.Dataset] = {}
    steps = [
        ("cone", pc.claim_cone),
        ("damping", pc.claim_damping),
        ("sea_surface", pc.claim_sea_surface),
        ("conductivity", pc.claim_conductivity),
        ("eta_scaling", pc.claim_eta_scaling),
        ("convergence", pc.claim_convergence),
    ]
    for name, func in steps:
        start = time.perf_counter()
        out[name] = func(params)
        log(f"  {name}: {time.perf_counter() - start:.1f} s")
    out["slips"] = pc.claim_slips(params, out["sea_surface"])
    return out


# ---------------------------------------------------------------- figures
def _figure(ncols: int = 1, width: float = 5.0):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, 3.6), layout="constrained")
    return fig, [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80, metadata={"Software": None})


def plot_cone(ds: xr.Dataset, ax_pair) -> None:
    thetas = ds.theta.values
    fine = np.linspace(0, 0.5 * np.pi, 100)
    for delta, color in zip(ds.delta.values, ("C0", "C1", "C2"), strict=False):
        sel = ds.sel(delta=delta)
        label = f"Delta/EF = {delta / ds.attrs['ef']:.3g}"
        norm = float(sel.paper_amplitude)
        ax_pair[0].plot(thetas, sel.torque_engine / norm, "o", color=color, label=label + " engine")
        ax_pair[0].plot(thetas, sel.torque_closed_form / norm, "x", color=color, ms=8)
        ax_pair[0].plot(
            fine, float(sel.sin2_amplitude) / norm * np.sin(fine) ** 2, "-", color=color, lw=0.8
        )
        ax_pair[1].semilogy(thetas, np.abs(sel.residual), "o-", color=color, label=label)
    ax_pair[0].set(
        xlabel="cone angle theta",
        ylabel="<T_DL . y> / paper amplitude",
        title="cone-averaged damping-like torque (x: closed form)",
    )
    ax_pair[1].set(
        xlabel="cone angle theta",
        ylabel="|T / (A sin^2 theta) - 1|",
        title="residual of the sin^2 fit",
    )
    ax_pair[0].legend(fontsize=7)
    ax_pair[1].legend(fontsize=7)


def plot_damping(ds: xr.Dataset, ax_pair) -> None:
    x = ds.ef.values / ds.attrs["delta"]
    for k, eta in enumerate(ds.eta.values):
        sel = ds.sel(eta=eta)
        ax_pair[0].plot(x, sel.ratio, "o", color=f"C{k}", label=f"engine, eta = {eta:g}")
        ax_pair[0].plot(x, sel.ratio_exact, "-", color=f"C{k}", lw=0.8)
        ax_pair[1].semilogy(x, np.abs(sel.ratio / sel.ratio_exact - 1) + 1e-16, "o-", color=f"C{k}")
    ax_pair[0].plot(x, ds.ratio_clean, "k--", label="eta -> 0: EF^2/(2(EF^2 - Delta^2/4))")
    ax_pair[0].axhline(0.5, color="gray", ls=":", label="paper: 1/2")
    ax_pair[0].set(
        xscale="log",
        xlabel="EF / Delta",
        ylabel="alpha(axis y) / alpha(axis z)",
        title="damping ratio (lines: exact at that eta)",
    )
    ax_pair[1].set(
        xscale="log",
        xlabel="EF / Delta",
        ylabel="|engine / exact - 1|",
        title="engine vs exact ratio",
    )
    for ax in ax_pair:
        ax.set_xticks([0.6, 1, 2, 5], ["0.6", "1", "2", "5"])
        ax.minorticks_off()
    ax_pair[0].legend(fontsize=7)


def plot_sea_surface(ds: xr.Dataset, ax_pair) -> None:
    cases = list(ds.case.values)
    pos = np.arange(len(cases))
    for ax, key, title in (
        (ax_pair[0], "dl", "damping-like SOT S_DL . x"),
        (ax_pair[1], "hall", "sigma_xy (e^2/h)"),
    ):
        for k, part in enumerate(("sea", "surface")):
            ax.bar(
                pos + (k - 0.5) * 0.38,
                ds[f"{key}_engine"].sel(part=part),
                0.36,
                label=f"{part} (engine)",
            )
            ax.plot(pos + (k - 0.5) * 0.38, ds[f"{key}_closed"].sel(part=part), "k_", ms=14)
        ax.set_xticks(pos, cases, rotation=20, fontsize=7)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(title + " (bars: engine, marks: closed form)", fontsize=9)
        ax.legend(fontsize=7)


def plot_conductivity(ds: xr.Dataset, ax_pair) -> None:
    ef = ds.ef.values
    for ax, comp in ((ax_pair[0], "xx"), (ax_pair[1], "xy")):
        for part, style in (("sea", "--"), ("surface", ":"), ("total", "-")):
            ax.plot(ef, ds[f"sigma_{comp}_engine"].sel(part=part), style, label=f"{part} (engine)")
        ax.plot(ef, ds[f"sigma_{comp}_closed"].sel(part="total"), "k.", ms=3, label="closed form")
        ax.set(
            xlabel="EF",
            ylabel=f"sigma_{comp} (e^2/h)",
            title=f"sigma_{comp}, eta = {ds.attrs['eta']:g}",
        )
        ax.legend(fontsize=7)


def plot_eta_scaling(ds: xr.Dataset, ax_pair) -> None:
    eta = ds.eta.values
    for k, key in enumerate(pc.SCALING_QUANTITIES):
        ax = ax_pair[0] if pc.SCALING_QUANTITIES[key] < 0 else ax_pair[1]
        for model, style in zip(ds.model.values, ("o-", "s--"), strict=True):
            y = np.abs(ds[key].sel(model=model, part="total").values)
            slope = float(ds[f"{key}_slope"].sel(model=model))
            ax.loglog(eta, y / y[0], style, color=f"C{k}", label=f"{model} {key}: {slope:.3f}")
    ax_pair[0].set(
        xlabel="eta", ylabel="|total| / value at smallest eta", title="expected slope -1"
    )
    ax_pair[1].set(
        xlabel="eta",
        ylabel="|total| / value at smallest eta",
        title="expected slope 0",
        ylim=(0.5, 2.0),
    )
    for ax in ax_pair:
        ax.legend(fontsize=6)


def plot_convergence(ds: xr.Dataset, ax_pair) -> None:
    eta = ds.eta.values
    for c in ds.case.values:
        sel = ds.sel(case=c)
        label = f"{sel.model.item()} [{sel.form.item()[:9]}]"
        for ax, part in ((ax_pair[0], "total"), (ax_pair[1], "sea")):
            ax.loglog(
                eta,
                sel.error.sel(part=part),
                "o-",
                label=label + f" p={float(sel.order.sel(part=part)):.2f}",
            )
    for ax, part in ((ax_pair[0], "total"), (ax_pair[1], "sea")):
        ax.loglog(eta, eta / eta[0] * 0.05, "k:", label="~ eta")
        ax.set(xlabel="eta", ylabel="max |engine - closed| / eta^0 scale", title=f"{part} part")
        ax.legend(fontsize=6)


def write_figures(results: dict[str, xr.Dataset], folder: Path) -> list[Path]:
    """One PNG per claim under ``folder``."""
    plotters = {
        "cone": plot_cone,
        "damping": plot_damping,
        "sea_surface": plot_sea_surface,
        "conductivity": plot_conductivity,
        "eta_scaling": plot_eta_scaling,
        "convergence": plot_convergence,
    }
    paths = []
    for name in FIGURES:
        fig, axes = _figure(2)
        plotters[name](results[name], axes)
        paths.append(folder / f"{name}.png")
        _save(fig, paths[-1])
    return paths


def run_paper_check(
    out_dir: str | Path,
    params: pc.CheckParameters | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, xr.Dataset]:
    """Compute every claim and write ``out_dir``/report.md, figures/*.png and data/*.nc."""
    params = params or pc.CheckParameters()
    out = Path(out_dir)
    results = compute_all(params, log)
    for name, ds in results.items():
        write_dataset(ds, out / "data" / f"{name}.nc")
    write_figures(results, out / "figures")
    write_report(results, params, out / "report.md")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """``spintorque paper-check [--out DIR]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="spintorque paper-check", description=__doc__.splitlines()[0]
    )
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The paper-check options (shared with the ``spintorque`` command line)."""
    parser.add_argument(
        "--out", type=Path, default=Path("paper-check"), help="output folder (default: paper-check)"
    )


def run_from_args(args: argparse.Namespace) -> int:
    """Run the report for parsed arguments (``args.out``); print the run time; return 0."""
    start = time.perf_counter()
    print(f"paper-check -> {args.out}")
    run_paper_check(args.out)
    print(f"done in {time.perf_counter() - start:.1f} s: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
