"""A 3-D lattice model through the Brillouin-zone integrator, against an independent route."""

import numpy as np
import pytest

import spintorque as st

SX, SY, SZ = st.models.base.PAULI


def cubic_rashba(t=1.0, lam=0.3, delta=0.8):
    """Simple cubic lattice (a = 1), spin-orbit lam (sin ky sx - sin kx sy) and exchange."""
    hop = {(0, 0, 0): np.zeros((2, 2), complex)}
    # lam sin(k_d) s = lam (e^{i k_d} - e^{-i k_d}) / (2i) s: hopping lam s / (2i) along +d
    for direction, s in ((0, -SY), (1, SX), (2, None)):
        r = [0, 0, 0]
        r[direction] = 1
        hop[tuple(r)] = -t * np.eye(2) + (0 if s is None else lam / 2j * s)
    return st.models.TightBinding(
        np.eye(3), hop, add_conjugates=True, spinor="interleaved", delta=delta
    )


def uniform_grid_surface_terms(model, m, ef, eta, n):
    """Fermi-surface (Bastin I) Lambda[A, B] on an n^3 midpoint grid, written out from the
    Green functions (independent of spintorque.kernels): for A in (sigma, v), B = v."""
    axis = 2 * np.pi * (np.arange(n) + 0.5) / n
    k = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    e, u = np.linalg.eigh(model.hamiltonian(k, m))
    ud = np.conj(u.swapaxes(-1, -2))[:, None]
    vel = ud @ model.velocity(k, m) @ u[:, None]
    spin = ud @ np.asarray(model.spin_operators)[None] @ u[:, None]
    g_r = 1.0 / (ef - e + 1j * eta)
    g_a = np.conj(g_r)
    kappa = (
        (g_r - g_a)[:, :, None] * g_a[:, None, :] - g_r[:, :, None] * (g_r - g_a)[:, None, :]
    ) / (4 * np.pi)  # [m, n]

    def term(a, b):  # sum_nm A_nm B_mn kappa(m, n), BZ average = integral d^3k/(2pi)^3 (a = 1)
        return np.einsum("knm,kmn,kmn->k", a, b, kappa).real.mean()

    current = np.array([[term(vel[:, i], vel[:, j]) for j in range(3)] for i in range(3)])
    spin_force = np.array([[term(spin[:, a], vel[:, j]) for j in range(3)] for a in range(3)])
    return current, spin_force


@pytest.mark.slow
def test_cubic_lattice_surface_terms_match_a_uniform_grid():
    model = cubic_rashba()
    m, ef, eta = np.array([0.0, 0.6, 0.8]), -1.5, 0.5
    res = st.response(model, ef=ef, eta=eta, m=m, rtol=1e-2, blocks=("current_force", "spin_force"))
    assert res.attrs["converged"] == 1
    # eta = 0.5 is several grid spacings: the periodic midpoint rule is accurate to ~1e-7 here
    current, spin_force = uniform_grid_surface_terms(model, m, ef, eta, 64)
    for name, grid in (("current_force", current), ("spin_force", spin_force)):
        engine = res[name].sel(part="surface").values
        scale = np.abs(grid).max()
        bound = res[f"{name}_error"].sel(part="surface").values + 1e-5 * scale
        assert np.all(np.abs(engine - grid) <= bound), name
    # the symmetric conductivity is positive definite, the in-plane spin response nonzero
    assert np.all(np.linalg.eigvalsh(0.5 * (current + current.T)) > 0)
    assert np.abs(spin_force[:2, :2]).max() > 1e-3
