"""The Markdown text of ``spintorque paper-check``: one section per claim, numbers from the data.

Verdicts are computed from the Datasets of :mod:`spintorque.paper_claims` with the thresholds
stated in each section. No timestamps or run times are written, so reruns are identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from . import paper_claims as pc
from .io.netcdf import atomic_path

SIN2_TOLERANCE = 1e-3  # claim (i) "holds" if the sin^2 fit residual is below this


def _para(text: str) -> str:
    """One Markdown paragraph from an indented multi-line string."""
    return " ".join(text.split())


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def fmt(x: object) -> str:
        return f"{x:.6g}" if isinstance(x, (float, np.floating)) else str(x)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def _section(
    title: str,
    intro: str,
    head: Sequence[str],
    rows: Sequence[Sequence[object]],
    figure: str,
    outro: str | None = None,
) -> str:
    """A report section: title, intro paragraph, table, optional verdict, figure."""
    parts = [title, _para(intro), "", _table(head, rows), ""]
    if outro is not None:
        parts += [_para(outro), ""]
    return "\n".join([*parts, f"![{figure}](figures/{figure}.png)"])


def section_cone(ds: xr.Dataset) -> str:
    rows = []
    for delta in ds.delta.values:
        sel = ds.sel(delta=delta)
        res = float(np.max(np.abs(sel.residual)))
        closed = float(np.max(np.abs(sel.torque_engine / sel.torque_closed_form - 1)))
        verdict = "holds" if res < SIN2_TOLERANCE else "fails"
        amps = [float(sel.sin2_amplitude), float(sel.paper_amplitude)]
        rows.append([f"{delta / ds.attrs['ef']:.3g}", *amps, res, closed, verdict])
    intro = f"""m precesses on a cone about y, E along x; EF = {ds.attrs["ef"]},
        eta = {ds.attrs["eta"]}, orbit points n_phi = {ds.attrs["n_phi"]}. The damping-like
        torque density per unit E along the axis, averaged over the period (engine at every
        orbit point), is fitted to A sin^2(theta); "holds" means a residual below
        {SIN2_TOLERANCE:g}. Paper amplitude (EF in the band, eta -> 0): Delta^2/(32 pi vF EF)."""
    outro = """The closed form (corrected Eqs. 12-14: intrinsic part -S1/(4 pi vF^2 E*),
        E* = max(|EF|, |h_z|)) follows the engine in every case. sin^2 fails exactly when EF
        enters the exchange gap over part of the orbit (Delta sin(theta)/2 > EF), where E* is no
        longer constant; for Delta/EF < 2 it holds up to O(eta) corrections."""
    head = [
        "Delta/EF",
        "fitted A",
        "paper A",
        "max sin^2 residual",
        "max abs(engine/closed - 1)",
        "verdict",
    ]
    return _section(
        "## 1. Cone-averaged anti-damping torque ~ sin^2(theta) (claim i)",
        intro,
        head,
        rows,
        "cone",
        outro,
    )


def section_damping(ds: xr.Dataset) -> str:
    rows = []
    for eta in ds.eta.values:
        sel = ds.sel(eta=eta)
        worst = float(np.max(np.abs(sel.ratio / sel.ratio_exact - 1)))
        rows.append(
            [
                float(eta),
                float(sel.ratio[-1]),
                float(sel.ratio_exact[-1]),
                float(sel.ratio[0]),
                float(sel.ratio_exact[0]),
                worst,
            ]
        )
    x = ds.ef.values / ds.attrs["delta"]
    intro = f"""Delta = {ds.attrs["delta"]}. Ratio alpha(axis y) / alpha(axis z) from the
        engine's damping tensor (mean over the plane normal to the axis), against the exact
        finite-eta ratio (SPEC.md sec. 7) and the paper's 1/2."""
    outro = """Verdict: 1/2 only for EF >> Delta and eta -> 0; the eta -> 0 ratio is
        EF^2/(2(EF^2 - Delta^2/4)), above 1 for EF < Delta/sqrt(2). The engine follows the exact
        finite-eta ratio at every EF and eta."""
    head = [
        "eta",
        f"ratio, EF/Delta={x[-1]:.3g}",
        "exact",
        f"ratio, EF/Delta={x[0]:.3g}",
        "exact",
        "max abs(engine/exact - 1)",
    ]
    return _section(
        "## 2. Gilbert damping: in-plane vs out-of-plane axis (claim ii)",
        intro,
        head,
        rows,
        "damping",
        outro,
    )


def section_sea_surface(ds: xr.Dataset) -> str:
    keys = ("dl_engine", "dl_closed", "hall_engine", "hall_closed")
    rows = [
        [case] + [float(ds[k].sel(case=case, part=q)) for k in keys for q in ("sea", "surface")]
        for case in ds.case.values
    ]
    head = [
        "case",
        "S_DL sea",
        "S_DL surf",
        "closed sea",
        "closed surf",
        "sxy sea",
        "sxy surf",
        "closed sea",
        "closed surf",
    ]
    intro = f"""m = z, E along x, eta = {ds.attrs["eta"]}. S_DL: damping-like spin density per
        unit E; sigma_xy in e^2/h. Closed form: sea = intrinsic + berry, surface = -berry
        (+ O(eta))."""
    outro = """Verdict: false. TI with EF in the band: the sea part is only the
        O(Delta/(vF kc)) cutoff term (plus O(eta)); EF in the gap: all sea. Rashba with both bands
        occupied: the sea part vanishes; with one band occupied the ratio depends on EF (about
        2:1 at this EF, but from -0.9 to 2 across the one-band window)."""
    return _section(
        "## 3. Fermi sea vs Fermi surface (claim iii)",
        intro,
        head,
        rows,
        "sea_surface",
        outro,
    )


def section_conductivity(ds: xr.Dataset) -> str:
    wanted = (-0.3, 0.0, 0.05, 0.15, 0.3, 0.5)
    picks = [float(e) for e in ds.ef.values if round(float(e), 6) in wanted]
    names = [f"sigma_{c}_{t}" for c in ("xx", "xy") for t in ("engine", "closed")]
    rows = [[e] + [float(ds[n].sel(ef=e, part="total")) for n in names] for e in picks]
    intro = f"""TI surface, m = z, Delta = {ds.attrs["delta"]}, eta = {ds.attrs["eta"]};
        e^2/h. Closed form (corrected Eq. 11): in the gap sigma_xy = -1/2 plus the cutoff term,
        in the band -(Delta/2)/(2 EF) (counted once); sigma_xx = (EF^2 - h_z^2)/(4 eta |EF|)."""
    head = ["EF", "sigma_xx engine", "closed", "sigma_xy engine", "closed"]
    return _section(
        "## 4. sigma_xx (Drude) and sigma_xy vs EF",
        intro,
        head,
        rows,
        "conductivity",
    )


def section_scaling(ds: xr.Dataset) -> str:
    rows = [
        [key, ds[key].attrs["expected_slope"], *map(float, ds[f"{key}_slope"].values)]
        for key in pc.SCALING_QUANTITIES
    ]
    intro = f"""m = z, EF = {ds.attrs["ef"]} (TI, Rashba): slopes of log|total| vs log(eta)
        for eta <= {ds.attrs["fit_max_eta"]}. Field-like SOT (S_FL . y), intraband damping
        (symmetric in-plane spin_exchange) and sigma_xx go as 1/eta; damping-like SOT
        (S_DL . x), sigma_xy and the gyromagnetic (antisymmetric, interband) spin_exchange as
        eta^0. On the TI surface every block is a linear image of Lambda[sigma, sigma], so the
        quantities of one class coincide there."""
    head = ["quantity", "expected", *(f"slope {m}" for m in ds.model.values)]
    return _section(
        "## 5. eta scaling of each part",
        intro,
        head,
        rows,
        "eta_scaling",
    )


def section_convergence(ds: xr.Dataset) -> str:
    rows = [
        [
            ds.model.values[c],
            ds.form.values[c],
            *(float(ds.error[c, -1, q]) for q in range(3)),
            *(float(ds.order[c, q]) for q in range(3)),
        ]
        for c in ds.case.values
    ]
    eta = float(ds.eta.values[-1])
    etas = ", ".join(f"{e:g}" for e in ds.eta.values)
    intro = f"""Error = {ds.attrs["error_unit"]}; order = fitted slope of log(error) over
        eta in {etas}."""
    outro = """The 1/eta and eta^0 terms are exact: each part converges at order 1 (the
        paper's eta term is not the complete O(eta) correction). With EF in the gap there is no
        Fermi surface and the total converges at order 2; elsewhere O(eta) pieces of the sea and
        surface parts partly cancel in the total."""
    head = [
        "model",
        "closed form",
        f"sea err (eta={eta:g})",
        "surface err",
        "total err",
        "order sea",
        "order surface",
        "order total",
    ]
    return _section(
        "## 6. Closed forms against the engine as eta -> 0",
        intro,
        head,
        rows,
        "convergence",
        outro,
    )


def section_slips(ds: xr.Dataset) -> str:
    rows = [
        [s, *(float(ds[k].sel(slip=s)) for k in ("engine", "corrected", "printed"))]
        for s in ds.slip.values
    ]
    intro = f"""TI surface, Delta = {ds.attrs["delta"]}, EF = {ds.attrs["ef"]},
        eta = {ds.attrs["eta"]}, m = z unless stated. "As printed" evaluates the paper's
        expression with the printed sign or factor (docs/paper.md lists each slip)."""
    return "\n".join(
        [
            "## 7. The printed slips, in numbers",
            _para(intro),
            "",
            _table(["slip", "engine", "corrected closed form", "as printed"], rows),
        ]
    )


def write_report(results: dict[str, xr.Dataset], params: pc.CheckParameters, path: Path) -> None:
    """Write the Markdown report to ``path`` (atomically)."""
    head = f"""Generated by `spintorque paper-check`. Raw units: hbar = e = 1, vF = 1 (energies
        in a unit E0, lengths in vF/E0), per area, Pauli sigma; E = x, so the force is F = -x.
        Engine: `spintorque.response` (rtol = {params.rtol}, cutoff = {params.cutoff}); closed
        forms: `spintorque.analytic` (paper Eqs. 10-11, corrected) and `spintorque.analytic_ti`
        (Eqs. 12-14). Data: `data/*.nc`. docs/paper.md has the formalism and the list of slips."""
    sections = [
        section_cone(results["cone"]),
        section_damping(results["damping"]),
        section_sea_surface(results["sea_surface"]),
        section_conductivity(results["conductivity"]),
        section_scaling(results["eta_scaling"]),
        section_convergence(results["convergence"]),
        section_slips(results["slips"]),
    ]
    title = "# Paper check: Mahfouzi & Kioussis, damping/anti-damping on a 2D helical surface"
    with atomic_path(path) as tmp:
        tmp.write_text("\n\n".join([title, _para(head), *sections]) + "\n", encoding="utf-8")
