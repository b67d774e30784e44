"""Figures of the dynamics experiments (matplotlib imported lazily, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def trajectory_axes(fig, m: np.ndarray, t_ns: np.ndarray, title: str = "") -> None:
    """A 3D path on the unit sphere (left) and m_x, m_y, m_z versus time (right)."""
    ax3 = fig.add_subplot(1, 2, 1, projection="3d")
    u, v = np.mgrid[0 : 2 * np.pi : 40j, 0 : np.pi : 20j]
    ax3.plot_wireframe(
        np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.85", lw=0.3
    )
    ax3.plot(m[:, 0], m[:, 1], m[:, 2], lw=0.8)
    ax3.set(xlabel="m_x", ylabel="m_y", zlabel="m_z", title=title)
    ax = fig.add_subplot(1, 2, 2)
    for k, name in enumerate("xyz"):
        ax.plot(t_ns, m[:, k], label=f"m_{name}")
    ax.set(xlabel="time (ns)", ylabel="m")
    ax.legend()


def plot_trajectory(ds: xr.Dataset, path: str | Path) -> Path:
    plt = _plt()
    fig = plt.figure(figsize=(10, 4.5))
    trajectory_axes(fig, ds.m.values, ds.time.values * 1e9, "m(t)")
    return _save(fig, path)


def _axis_label(n) -> str:
    return "(" + ", ".join(f"{float(v):.3g}" for v in n) + ")"


def plot_ringdown(ds: xr.Dataset, path: str | Path) -> Path:
    """Cone angle theta(t)/theta(0) per axis with the fitted decay; alpha per axis."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels = []
    for k in range(ds.sizes["axis"]):
        sub = ds.isel(axis=k)
        ok = np.isfinite(sub.time.values)
        t, m = sub.time.values[ok], sub.m.values[ok]
        n = np.asarray(sub.axis_vector.values)
        theta = np.arccos(np.clip(m @ n / np.linalg.norm(m, axis=1), -1, 1))
        label = _axis_label(n)
        labels.append(label)
        line = a1.plot(t * 1e9, theta / theta[0], lw=0.8, label=f"axis {label}")[0]
        fit = np.tan(theta[0] / 2) * np.exp(-float(sub.decay_rate) * t)
        a1.plot(t * 1e9, 2 * np.arctan(fit) / theta[0], "--", color=line.get_color(), lw=1)
    a1.set(
        xlabel="time (ns)",
        ylabel="cone angle theta(t) / theta(0)",
        title="ring-down (dashed: fits)",
    )
    a1.legend(fontsize=8)
    x = np.arange(len(labels))
    a2.plot(x, ds.alpha_fit.values, "o", ms=8, label="ring-down fit Gamma/omega")
    a2.plot(x, ds.alpha_ringdown_predicted.values, "kx", ms=8, label="tensor a/(1+b)")
    a2.set_xticks(x, labels, rotation=20)
    a2.set(xlabel="precession axis", ylabel="damping alpha", title="fitted vs tensor damping")
    a2.legend(fontsize=8)
    return _save(fig, path)


def plot_anisotropy(ds: xr.Dataset, path: str | Path) -> Path:
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    ef = ds.ef.values
    a1.plot(ef, ds.alpha_out_of_plane, "o-", label="tensor, axis z")
    a1.plot(ef, ds.alpha_in_plane, "s-", label="tensor, axis x")
    if "alpha_fit_in_plane" in ds:
        a1.plot(ef, ds.alpha_fit_out_of_plane, "kx", label="ring-down fits")
        a1.plot(ef, ds.alpha_fit_in_plane, "kx")
    a1.set(xlabel="E_F (eV)", ylabel="alpha_el", yscale="log")
    a1.legend()
    a2.plot(ef, ds.ratio_in_out, "o-", label="tensor")
    if "ratio_fit_in_out" in ds:
        a2.plot(ef, ds.ratio_fit_in_out, "kx", label="ring-down")
    a2.plot(ef, ds.ratio_clean_limit, "--", label="eta -> 0: EF^2/(2(EF^2 - Delta^2/4))")
    a2.axhline(0.5, color="0.6", lw=0.5)
    a2.set(xlabel="E_F (eV)", ylabel="alpha(in-plane axis) / alpha(out-of-plane axis)")
    a2.legend()
    return _save(fig, path)


def plot_cone(ds: xr.Dataset, path: str | Path) -> Path:
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    th = np.degrees(ds.theta.values)
    for key in ("total", "dampinglike", "fieldlike"):
        a1.plot(th, ds[f"torque_{key}_si"], "o-", ms=3, label=key)
    a1.set(xlabel="cone angle (deg)", ylabel="<n . torque> per unit E (C/m)")
    a1.legend()
    ratio = ds.ratio_dampinglike_sin2
    a2.plot(th, ratio / ratio.values[0], "o-")
    a2.set(xlabel="cone angle (deg)", ylabel="DL torque / sin^2(theta), normalised")
    return _save(fig, path)


def plot_switching(ds: xr.Dataset, path: str | Path) -> Path:
    plt = _plt()
    panels = ["final_mz"] + (["final_mz_parametrised"] if "final_mz_parametrised" in ds else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.5), squeeze=False)
    b_mt = ds.field.values * 1e3
    j = ds.current_density.values
    for ax, name in zip(axes[0], panels, strict=True):
        mesh = ax.pcolormesh(
            b_mt, j, ds[name].values, cmap="RdBu", vmin=-1, vmax=1, shading="nearest"
        )
        for key, style in (("threshold_exact", "k-"), ("threshold_lee", "k--")):
            for sign in (1, -1):
                ax.plot(b_mt, sign * ds[key].values, style, lw=1)
        ax.set(xlabel="in-plane field mu0 H_x (mT)", ylabel="current density J (A/m^2)", title=name)
        fig.colorbar(mesh, ax=ax, label="final m_z")
    return _save(fig, path)


PLOTTERS = {
    "ringdown": plot_ringdown,
    "damping_anisotropy": plot_anisotropy,
    "cone_torque": plot_cone,
    "switching": plot_switching,
    "trajectory": plot_trajectory,
}


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
