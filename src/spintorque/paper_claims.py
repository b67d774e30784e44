"""The paper's claims computed with the full engine, next to the closed forms (data only).

Each ``claim_*`` function returns an :class:`xarray.Dataset` (engine numbers, closed-form
numbers, fitted quantities in attrs); :mod:`spintorque.paper_check` turns them into the report.
Units are raw (hbar = e = 1, per area; SPEC.md sec. 2) in a system where vF = 1: energies in a
unit E0, lengths in vF/E0. The electric field is E = x (unit), so the force is F = -x.

Two reductions keep the report fast, both exact identities checked by the tests:

- Onsager (SPEC.md sec. 6): Lambda[A, v_j](-m) = Lambda[v_j, A](m) for A odd under time
  reversal, so <dH/dm>(-m) . F = current_exchange(m)^T F: one engine call gives both m and -m.
- Mirror y -> -y of the TI surface (and its disk): it maps the cone orbit point m(phi) onto
  m(phi + pi) and leaves F = -x unchanged, so the torque there is diag(-1, 1, -1) times the
  torque at m(phi); the engine is evaluated on the half orbit phi in [0, pi).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .analytic import closed_form_pieces, combine_pieces
from .analytic_ti import (
    damping_ratio_clean,
    damping_ratio_exact,
    operator_maps,
    spin_pieces,
    ti_pieces,
)
from .derived import damping_for_axis, gilbert_damping
from .engine import BLOCKS
from .models.continuum import DiracSurface, Rashba2DEG
from .responses import response

FORCE = np.array([-1.0, 0.0, 0.0])  # F = -e E for a unit field E along x
MIRROR_Y = np.diag([-1.0, 1.0, -1.0])  # an axial vector under y -> -y


@dataclass(frozen=True)
class CheckParameters:
    """Every number the report uses (fixed grids and tolerances: the report is deterministic)."""

    vf: float = 1.0
    cutoff: float = 20.0
    rtol: float = 1e-6
    cone_ef: float = 0.3
    cone_eta: float = 0.01
    cone_deltas: tuple[float, ...] = (0.06, 0.3, 0.9)
    cone_n_phi: tuple[int, ...] = (8, 8, 16)
    cone_thetas: tuple[float, ...] = (0.2, 0.5, 0.8, 1.1, 1.4)
    delta: float = 0.2
    damping_ef: tuple[float, ...] = (0.11, 0.12, 0.13, 0.14, 0.16, 0.2, 0.25, 0.3, 0.4, 0.6, 1.0)
    damping_etas: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05)
    sea_eta: float = 0.005
    hall_ef: tuple[float, ...] = tuple(np.round(np.linspace(-0.5, 0.5, 41), 10))
    hall_eta: float = 0.01
    scaling_ef: float = 0.3
    scaling_etas: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
    scaling_fit_max: float = 0.01
    convergence_etas: tuple[float, ...] = (0.02, 0.01, 0.005, 0.0025)
    rashba: dict = field(
        default_factory=lambda: {"mass": 0.5, "alpha": 0.5, "delta": 0.3, "cutoff": 4.0}
    )

    def ti(self, delta: float | None = None, **extra) -> DiracSurface:
        return DiracSurface(
            vf=self.vf,
            delta=self.delta if delta is None else delta,
            cutoff=extra.pop("cutoff", self.cutoff),
            **extra,
        )

    def rashba_model(self) -> Rashba2DEG:
        return Rashba2DEG(**self.rashba)


# ---------------------------------------------------------------- shared helpers
def exchange_odd_even(ds: xr.Dataset, force: np.ndarray = FORCE) -> tuple[np.ndarray, np.ndarray]:
    """<dH/dm> . F, odd and even under m -> -m, per part: two arrays (part, a).

    Works on engine and closed-form Datasets alike (same layout, no ef dim): X(m) =
    exchange_force(m) F and, by Onsager, X(-m) = current_exchange(m)^T F.
    """
    plus = np.einsum("paj,j->pa", ds.exchange_force.values, force)
    minus = np.einsum("pja,j->pa", ds.current_exchange.values, force)
    return 0.5 * (plus - minus), 0.5 * (plus + minus)


def fit_power(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log|y| against log x."""
    return float(np.polyfit(np.log(x), np.log(np.abs(y)), 1)[0])


# ---------------------------------------------------------------- claim (i): cone average
def cone_orbit(theta: float, n_phi: int) -> np.ndarray:
    """m(phi) = cos(theta) y + sin(theta) (sin(phi) x + cos(phi) z), phi = 2 pi j / n_phi."""
    phi = 2 * np.pi * np.arange(n_phi) / n_phi
    return np.stack(
        [np.sin(theta) * np.sin(phi), np.full(n_phi, np.cos(theta)), np.sin(theta) * np.cos(phi)],
        axis=1,
    )


def dl_torque_engine(
    model: DiracSurface, m: np.ndarray, ef: float, eta: float, rtol: float
) -> np.ndarray:
    """Damping-like torque density m x <dH/dm>_odd . F (total part) from one engine call."""
    res = response(model, ef=ef, eta=eta, m=m, rtol=rtol, on_unconverged="raise")
    odd, _ = exchange_odd_even(res)
    return np.cross(m, odd[-1])


def cone_average_engine(
    model: DiracSurface, theta: float, n_phi: int, ef: float, eta: float, rtol: float
) -> float:
    """Period average of the damping-like torque along the precession axis y (engine).

    Trapezoid rule on n_phi equally spaced orbit points; the half phi >= pi from the mirror.
    """
    half = cone_orbit(theta, n_phi)[: n_phi // 2]
    torques = np.array([dl_torque_engine(model, m, ef, eta, rtol) for m in half])
    full = np.concatenate([torques, torques @ MIRROR_Y])
    return float(full.mean(axis=0)[1])


def dl_torque_closed(
    vf: float, delta: float, m: np.ndarray, ef: float, eta: float, cutoff: float
) -> np.ndarray:
    """Damping-like torque density of the corrected Eqs. (12)-(14) (total part)."""
    _, right = operator_maps(vf, delta)
    coef = np.array(
        [1.0, 0.0, 1.0 / eta, eta]
    )  # total = intrinsic + intraband/eta + eta transverse
    x_plus, x_minus = (
        np.einsum("p,pab->ab", coef, spin_pieces(vf, delta, s * m, ef, cutoff)) for s in (1.0, -1.0)
    )
    exch = 0.5 * delta
    odd = 0.5 * exch * (x_plus - x_minus) @ right[3:].T @ FORCE[:2]
    return np.cross(m, odd)


def claim_cone(p: CheckParameters) -> xr.Dataset:
    """Claim (i): <T_DL . y> over the cone vs theta, for each Delta; sin^2 fit and residual."""
    thetas = np.asarray(p.cone_thetas)
    engine = np.zeros((len(p.cone_deltas), len(thetas)))
    closed = np.zeros_like(engine)
    for i, (delta, n_phi) in enumerate(zip(p.cone_deltas, p.cone_n_phi, strict=True)):
        model = p.ti(delta)
        for j, theta in enumerate(thetas):
            engine[i, j] = cone_average_engine(model, theta, n_phi, p.cone_ef, p.cone_eta, p.rtol)
            orbit = cone_orbit(theta, 256)
            closed[i, j] = np.mean(
                [
                    dl_torque_closed(p.vf, delta, m, p.cone_ef, p.cone_eta, p.cutoff)[1]
                    for m in orbit
                ]
            )
    s2 = np.sin(thetas) ** 2
    amp = engine @ s2 / (s2 @ s2)
    paper = np.asarray(p.cone_deltas) ** 2 / (32 * np.pi * p.vf * p.cone_ef)
    ds = xr.Dataset(
        {
            "torque_engine": (("delta", "theta"), engine),
            "torque_closed_form": (("delta", "theta"), closed),
            "sin2_amplitude": ("delta", amp),
            "paper_amplitude": ("delta", paper),
            "residual": (("delta", "theta"), engine / (amp[:, None] * s2) - 1),
        },
        coords={"delta": list(p.cone_deltas), "theta": thetas},
    )
    ds.attrs.update(
        {
            "ef": p.cone_ef,
            "eta": p.cone_eta,
            "n_phi": list(p.cone_n_phi),
            "units": "torque density per unit E (raw, hbar=e=1)",
        }
    )
    return ds


# ---------------------------------------------------------------- claim (ii): damping axes
def claim_damping(p: CheckParameters) -> xr.Dataset:
    """Claim (ii): damping for precession axes z and y and their ratio vs EF and eta.

    Damping per unit 1/s_FM (s_fm = 1), from the engine's sym(exchange_exchange).
    """
    model, efs = p.ti(), np.asarray(p.damping_ef)
    alpha = {"z": [], "y": []}
    for eta in p.damping_etas:
        for axis, m in (("z", (0.0, 0.0, 1.0)), ("y", (0.0, 1.0, 0.0))):
            res = response(model, ef=efs, eta=eta, m=m, rtol=p.rtol, on_unconverged="raise")
            tensor = gilbert_damping(res, s_fm=1.0).sel(part="total")
            alpha[axis].append(damping_for_axis(tensor, m).values)
    az, ay = np.array(alpha["z"]), np.array(alpha["y"])
    exact = np.array([damping_ratio_exact(p.vf, p.delta, efs, eta) for eta in p.damping_etas])
    dims = ("eta", "ef")
    return xr.Dataset(
        {
            "alpha_axis_z": (dims, az),
            "alpha_axis_y": (dims, ay),
            "ratio": (dims, ay / az),
            "ratio_exact": (dims, exact),
            "ratio_clean": ("ef", damping_ratio_clean(p.delta, efs)),
        },
        coords={"eta": list(p.damping_etas), "ef": efs},
        attrs={"delta": p.delta, "paper_ratio": 0.5, "units": "damping x s_FM (raw)"},
    )


# ---------------------------------------------------------------- claim (iii): sea vs surface
def _sea_surface_cases(p: CheckParameters) -> list[tuple[str, object, float]]:
    return [
        ("TI, EF in gap", p.ti(), 0.05),
        ("TI, EF in band", p.ti(), 0.3),
        ("Rashba, one band", p.rashba_model(), 0.1),
        ("Rashba, two bands", p.rashba_model(), 0.5),
    ]


def _dl_and_hall(ds: xr.Dataset, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Damping-like spin density S_DL . x per unit E and sigma_xy (e^2/h), per part."""
    odd, _ = exchange_odd_even(ds)
    return odd[:, 0] / (0.5 * delta), 2 * np.pi * ds.current_force.sel(i="x", j="y").values


def claim_sea_surface(p: CheckParameters) -> xr.Dataset:
    """Claim (iii): sea and surface parts of the damping-like SOT and of sigma_xy, m = z."""
    names, rows = [], {"dl_engine": [], "hall_engine": [], "dl_closed": [], "hall_closed": []}
    for name, model, ef in _sea_surface_cases(p):
        names.append(name)
        res = response(
            model, ef=ef, eta=p.sea_eta, m=(0, 0, 1), rtol=p.rtol, on_unconverged="raise"
        )
        closed = combine_pieces(closed_form_pieces(model, ef=ef, m=(0, 0, 1), rtol=1e-9), p.sea_eta)
        for tag, ds in (("engine", res), ("closed", closed)):
            dl, hall = _dl_and_hall(ds, model.delta)
            rows[f"dl_{tag}"].append(dl)
            rows[f"hall_{tag}"].append(hall)
    data = {key: (("case", "part"), np.array(val)) for key, val in rows.items()}
    return xr.Dataset(
        data,
        coords={"case": names, "part": ["sea", "surface", "total"]},
        attrs={"eta": p.sea_eta, "units": "S_DL: spin density per unit E; sigma_xy: e^2/h"},
    )


# ---------------------------------------------------------------- claim 4: conductivity vs EF
def claim_conductivity(p: CheckParameters) -> xr.Dataset:
    """sigma_xx and sigma_xy (e^2/h) vs EF, engine and TI closed form, m = z."""
    model, efs = p.ti(), np.asarray(p.hall_ef)
    res = response(model, ef=efs, eta=p.hall_eta, m=(0, 0, 1), rtol=p.rtol, on_unconverged="raise")
    closed = combine_pieces(ti_pieces(model, ef=efs, m=(0, 0, 1)), p.hall_eta)
    data = {}
    for tag, ds in (("engine", res), ("closed", closed)):
        sigma = 2 * np.pi * ds.current_force
        data[f"sigma_xx_{tag}"] = sigma.sel(i="x", j="x", drop=True)
        data[f"sigma_xy_{tag}"] = sigma.sel(i="x", j="y", drop=True)
    return xr.Dataset(data, attrs={"eta": p.hall_eta, "delta": p.delta, "units": "e^2/h"})


# ---------------------------------------------------------------- claim 5: eta scaling
SCALING_QUANTITIES = {
    "fieldlike_sot": -1.0,
    "intraband_damping": -1.0,
    "sigma_xx": -1.0,
    "dampinglike_sot": 0.0,
    "sigma_xy": 0.0,
    "gyromagnetic": 0.0,
}


def _scaling_row(res: xr.Dataset, delta: float) -> dict[str, np.ndarray]:
    odd, even = exchange_odd_even(res)
    spin = res.spin_exchange.values
    return {
        "fieldlike_sot": even[:, 1] / (0.5 * delta),
        "dampinglike_sot": odd[:, 0] / (0.5 * delta),
        "intraband_damping": 0.5 * (spin[:, 0, 0] + spin[:, 1, 1]),
        "gyromagnetic": 0.5 * (spin[:, 0, 1] - spin[:, 1, 0]),
        "sigma_xx": 2 * np.pi * res.current_force.values[:, 0, 0],
        "sigma_xy": 2 * np.pi * res.current_force.values[:, 0, 1],
    }


def claim_eta_scaling(p: CheckParameters) -> xr.Dataset:
    """Each quantity vs eta (m = z, EF in band) with fitted log-log slopes for eta <= fit_max.

    Two models: the TI surface (where every block is a linear image of Lambda[sigma, sigma], so
    the quantities of one slope class coincide) and the Rashba model (where they do not).
    """
    etas = np.asarray(p.scaling_etas)
    models = {"TI": (p.ti(), p.scaling_ef), "Rashba": (p.rashba_model(), 0.5)}
    data = {key: [] for key in SCALING_QUANTITIES}
    for model, ef in models.values():
        rows = [
            _scaling_row(
                response(model, ef=ef, eta=eta, m=(0, 0, 1), rtol=p.rtol, on_unconverged="raise"),
                model.delta,
            )
            for eta in etas
        ]
        for key in SCALING_QUANTITIES:
            data[key].append([r[key] for r in rows])
    dims = ("model", "eta", "part")
    ds = xr.Dataset(
        {key: (dims, np.array(val)) for key, val in data.items()},
        coords={"model": list(models), "eta": etas, "part": ["sea", "surface", "total"]},
    )
    fit = etas <= p.scaling_fit_max
    for key, expected in SCALING_QUANTITIES.items():
        ds[key].attrs["expected_slope"] = expected
        ds[f"{key}_slope"] = (
            "model",
            [
                fit_power(etas[fit], ds[key].sel(model=name, part="total").values[fit])
                for name in models
            ],
        )
    ds.attrs.update(
        {
            "ef": [ef for _, ef in models.values()],
            "delta": [mod.delta for mod, _ in models.values()],
            "fit_max_eta": p.scaling_fit_max,
        }
    )
    return ds


# ---------------------------------------------------------------- claim 6: closed forms vs engine
def _convergence_cases(p: CheckParameters) -> list[tuple[str, object, float, np.ndarray]]:
    tilt = np.array([0.3, 0.4, 0.8]) / np.linalg.norm([0.3, 0.4, 0.8])
    z = np.array([0.0, 0.0, 1.0])
    return [
        ("TI, tilted m, EF in band", p.ti(), 0.3, tilt),
        ("TI, tilted m, EF in gap", p.ti(), 0.05, tilt),
        ("TI + eps0 (mass 5), tilted m", p.ti(mass=5.0, cutoff=10.0), 0.3, tilt),
        ("Rashba, m = z, two bands", p.rashba_model(), 0.5, z),
        ("Rashba, m = z, one band", p.rashba_model(), 0.0, z),
    ]


def block_scales(pieces: xr.Dataset) -> dict[str, float]:
    """eta^0 scale of each block: max |intrinsic|, |berry| (else max |intraband|)."""
    out = {}
    for name in BLOCKS:
        blk = np.abs(pieces[name].values)
        scale = max(blk[..., 0, :, :].max(), blk[..., 1, :, :].max())
        out[name] = float(scale if scale > 0 else blk[..., 2, :, :].max())
    return out


def closed_form_error(
    engine: xr.Dataset, closed: xr.Dataset, scales: dict[str, float]
) -> np.ndarray:
    """max over blocks of |engine - closed| / block scale, per part (sea, surface, total)."""
    errs = [
        np.abs(engine[n].values - closed[n].values).max(axis=(-2, -1)) / scales[n] for n in BLOCKS
    ]
    return np.max(errs, axis=0)


def claim_convergence(p: CheckParameters) -> xr.Dataset:
    """Claim 6: |engine - closed form| vs eta for Eq. (10) (and Eqs. 12-14 on the TI)."""
    etas = np.asarray(p.convergence_etas)
    names, forms, errors = [], [], []
    for name, model, ef, m in _convergence_cases(p):
        routes = {"Eq. (10), k integral": closed_form_pieces(model, ef=ef, m=m, rtol=1e-9)}
        if isinstance(model, DiracSurface) and model.mass is None:
            routes["Eqs. (12)-(14), analytic"] = ti_pieces(model, ef=ef, m=m)
        engine = [
            response(model, ef=ef, eta=eta, m=m, rtol=1e-7, on_unconverged="raise") for eta in etas
        ]
        for form, pieces in routes.items():
            scales = block_scales(pieces)
            names.append(name)
            forms.append(form)
            errors.append(
                [
                    closed_form_error(e, combine_pieces(pieces, eta), scales)
                    for e, eta in zip(engine, etas, strict=True)
                ]
            )
    err = np.array(errors)  # (case, eta, part)
    orders = np.array(
        [[fit_power(etas, err[c, :, q]) for q in range(3)] for c in range(len(names))]
    )
    return xr.Dataset(
        {"error": (("case", "eta", "part"), err), "order": (("case", "part"), orders)},
        coords={
            "case": np.arange(len(names)),
            "model": ("case", names),
            "form": ("case", forms),
            "eta": etas,
            "part": ["sea", "surface", "total"],
        },
        attrs={"error_unit": "max over blocks of |engine - closed| / block eta^0 scale"},
    )


# ---------------------------------------------------------------- slips: evidence from the engine
def claim_slips(p: CheckParameters, sea: xr.Dataset) -> xr.Dataset:
    """Numbers behind the list of printed slips (docs/paper.md): TI surface, m = z, EF in band.

    engine: the full engine at eta = sea_eta; corrected: the closed form; printed: the paper's
    expression as printed (sign or factor as listed in SPEC.md sec. 7).
    """
    model, ef, eta = p.ti(), p.scaling_ef, p.sea_eta
    band = sea.sel(case="TI, EF in band")
    hall, dl = (float(band[f"{k}_engine"].sel(part="total")) for k in ("hall", "dl"))
    hall_c, dl_c = (float(band[f"{k}_closed"].sel(part="total")) for k in ("hall", "dl"))
    surf_berry = float(band.hall_closed.sel(part="surface"))
    res = response(model, ef=ef, eta=eta, m=(0, 0, 1), rtol=p.rtol, on_unconverged="raise")
    closed = combine_pieces(ti_pieces(model, ef=ef, m=(0, 0, 1)), eta)
    drude = 2 * np.pi * float(closed.current_force.sel(part="surface", i="x", j="x"))
    xx = {"i": "x", "j": "x"}
    chi = {part: float(res.spin_exchange.sel(part=part, **xx)) for part in ("sea", "surface")}
    rows = {
        "Eq. (11) Hall: intrinsic + f' piece (double count)": (hall, hall_c, hall_c + surf_berry),
        "Eq. (10) term 1 sign: sigma_xy": (hall, hall_c, -hall_c),
        "Eqs. (12)-(14) S1 sign: damping-like SOT": (dl, dl_c, -dl_c),
        "Eq. (11) Drude: sign and factor 4": (
            2 * np.pi * float(res.current_force.sel(part="total", **xx)),
            drude,
            -4 * drude,
        ),
        "Eq. (6) read with E - i eta: damping chi_xx": (
            chi["sea"] + chi["surface"],
            float(closed.spin_exchange.sel(part="total", **xx)),
            chi["sea"] - chi["surface"],
        ),
        "Eq. (10) eta term: O(eta) coefficient of chi_xx, m = y": _eta_term_evidence(p, model, ef),
    }
    values = np.array(list(rows.values()))
    data = {k: ("slip", values[:, c]) for c, k in enumerate(("engine", "corrected", "printed"))}
    return xr.Dataset(
        data, coords={"slip": list(rows)}, attrs={"ef": ef, "eta": eta, "delta": p.delta}
    )


def _eta_term_evidence(
    p: CheckParameters, model: DiracSurface, ef: float
) -> tuple[float, float, float]:
    """(chi_xx - intraband/eta)/eta at m = y (h_z = 0, where the eta term is the whole O(eta))."""
    eta = 0.005
    res = response(model, ef=ef, eta=eta, m=(0, 1, 0), rtol=1e-8, on_unconverged="raise")
    chi = spin_pieces(p.vf, p.delta, np.array([0.0, 1.0, 0.0]), ef, None)
    engine = (
        float(res.spin_exchange.sel(part="total", i="x", j="x")) / (0.5 * p.delta)
        - chi[2, 0, 0] / eta
    ) / eta
    full = 1.0 / (4 * np.pi * p.vf**2 * ef)  # the printed +eta Dh: whole Dh, opposite sign
    return engine, float(chi[3, 0, 0]), -full
