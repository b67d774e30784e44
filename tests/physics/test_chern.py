"""QWZ Hall conductance on the plateau = Chern number from Fukui-Hatsugai-Suzuki (independent).

FHS (J. Phys. Soc. Jpn. 74, 1674 (2005)): on an N x N mesh of the BZ, the U(1) link variables
U_mu(k) = <u(k)|u(k + mu)> / |.| of the occupied band give the lattice field strength
F(k) = arg[U_x(k) U_y(k + x) / (U_x(k + y) U_y(k))], and C = sum_k F / (2 pi) is an integer
for any N once the mesh resolves the gap. It uses eigenvectors only (no velocities, no Green
functions). With Omega = dA_y/dk_x - dA_x/dk_y, A = i<u|grad u>, the Kubo formula in
spintorque's conventions gives Lambda[v_x, v_y] = -sum_occ Omega / (2 pi)^2 integrated, i.e.
sigma_xy = 2 pi Lambda[v_x, v_y] = -C (units e^2/h) for a filled lower band.
"""

import numpy as np
import pytest

import spintorque as st


def fhs_chern(model, n_mesh: int = 60, band: int = 0) -> float:
    """Chern number C = (1/2pi) int Omega of one band (Fukui-Hatsugai-Suzuki, n_mesh^2 mesh)."""
    b = model.k_domain.reciprocal_vectors
    s = np.arange(n_mesh) / n_mesh
    grid = np.stack(np.meshgrid(s, s, indexing="ij"), axis=-1).reshape(-1, 2)
    _, vecs = np.linalg.eigh(model.hamiltonian(grid @ b, np.array([0.0, 0.0, 1.0])))
    u = vecs[:, :, band].reshape(n_mesh, n_mesh, -1)
    # QWZ has all orbital positions at 0, so H(k) is periodic and u(k + b) = u(k) up to a phase
    ux = np.roll(u, -1, axis=0)
    uy = np.roll(u, -1, axis=1)

    def link(a, c):
        z = np.sum(np.conj(a) * c, axis=-1)
        return z / np.abs(z)

    lx, ly = link(u, ux), link(u, uy)
    # plaquette product = exp(-i Omega dk^2) with Omega the standard Berry curvature
    flux = np.angle(lx * np.roll(ly, -1, axis=0) / (np.roll(lx, -1, axis=1) * ly))
    return float(-np.sum(flux) / (2 * np.pi))


@pytest.mark.parametrize("u, expected_abs", [(-1.0, 1), (1.0, 1), (-3.0, 0), (2.5, 0)])
def test_fhs_is_integer_and_nontrivial_only_for_small_u(u, expected_abs):
    chern = fhs_chern(st.models.QWZ(u=u))
    assert abs(chern - round(chern)) < 1e-9
    assert abs(round(chern)) == expected_abs


def test_fhs_sign_flips_with_u():
    assert round(fhs_chern(st.models.QWZ(u=-1.0))) == -round(fhs_chern(st.models.QWZ(u=1.0)))


@pytest.mark.parametrize("u", [-1.0, 1.0, -3.0, 2.5])
def test_qwz_sigma_xy_in_gap_equals_minus_chern(u):
    model = st.models.QWZ(u=u)
    chern = round(fhs_chern(model))
    # EF = 0 lies in the gap (|E| < 1) for these u; the in-gap finite-eta correction is O(eta^2)
    res = st.response(model, ef=0.0, eta=0.02, rtol=1e-5)
    sigma_xy = 2 * np.pi * float(res.current_force.sel(part="total", i="x", j="y"))
    sigma_yx = 2 * np.pi * float(res.current_force.sel(part="total", i="y", j="x"))
    assert sigma_xy == pytest.approx(-chern, abs=2e-4)
    assert sigma_yx == pytest.approx(chern, abs=2e-4)


def test_plateau_is_flat_across_the_gap():
    model = st.models.QWZ(u=-1.0)  # gap |E| < 1
    res = st.response(model, ef=[-0.5, 0.0, 0.5], eta=0.02, rtol=1e-5)
    sigma_xy = 2 * np.pi * res.current_force.sel(part="total", i="x", j="y").values
    np.testing.assert_allclose(sigma_xy, sigma_xy[1], atol=3e-4)
