"""Eigenbasis kernels vs brute-force energy quadrature of the Green-function formula (SPEC sec. 3).

The brute-force route never diagonalises: it inverts E - H + i eta at each energy, in the model
basis, and integrates the Bastin sea integrand over (-inf, EF] with scipy.integrate.quad.
"""

import numpy as np
import pytest
from scipy.integrate import quad

import spintorque as st
from spintorque.integrate.thermal import minus_fermi_derivative, thermal_grid
from spintorque.kernels import (
    eigendata,
    nonequilibrium_density_matrix,
    response_density,
    sea_integral,
)


def unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


class RandomModel(st.models.BlochModel):
    """A generic 4-band model: H(k) = H0 + kx Vx + ky Vy + kx ky Vxy + 0.15 m.S, random blocks."""

    n_bands, dim = 4, 2

    def __init__(self, seed=1):
        rng = np.random.default_rng(seed)

        def herm():
            a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
            return (a + a.conj().T) / 4

        self.h0, self.vx, self.vy, self.vxy = herm(), herm(), herm(), herm()
        self.spin_operators = np.array([np.kron(np.eye(2), p) for p in st.models.base.PAULI])
        self.k_domain = st.models.Disk(3.0)

    def hamiltonian(self, k, m):
        kx, ky = k[:, 0, None, None], k[:, 1, None, None]
        exch = 0.15 * np.einsum("b,bij->ij", m, self.spin_operators)
        return self.h0 + kx * self.vx + ky * self.vy + kx * ky * self.vxy + exch

    def velocity(self, k, m):
        kx, ky = k[:, 0, None, None], k[:, 1, None, None]
        return np.stack([self.vx + ky * self.vxy, self.vy + kx * self.vxy], axis=1)

    def exchange_derivative(self, k, m):
        return np.broadcast_to(0.15 * self.spin_operators, (len(k), 3, 4, 4)).copy()


def _operators(model, k, m):
    h = model.hamiltonian(k, m)[0]
    left = np.concatenate(
        [model.spin_operators, model.velocity(k, m)[0], model.exchange_derivative(k, m)[0]]
    )
    right = np.concatenate([model.exchange_derivative(k, m)[0], model.velocity(k, m)[0]])
    return h, left, right


def _green(h, energy, eta):
    return np.linalg.inv((energy + 1j * eta) * np.eye(len(h)) - h)


def _surface_trace(h, a, b, energy, eta):
    gr = _green(h, energy, eta)
    ga = gr.conj().T
    return np.trace(a @ (gr - ga) @ b @ ga - a @ gr @ b @ (gr - ga)).real / (4 * np.pi)


def _sea_trace(energy, h, a, b, eta):
    gr = _green(h, energy, eta)
    ga = gr.conj().T
    dgr, dga = -gr @ gr, -ga @ ga
    val = np.trace(a @ gr @ b @ dgr - a @ dgr @ b @ gr) - np.trace(
        a @ ga @ b @ dga - a @ dga @ b @ ga
    )
    return val.real / (4 * np.pi)


def _brute_force(model, k, m, ef, eta):
    h, left, right = _operators(model, k, m)
    out = np.zeros((2, len(left), len(right)))
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            out[1, i, j] = _surface_trace(h, a, b, ef, eta)
            out[0, i, j] = quad(
                _sea_trace, -np.inf, ef, args=(h, a, b, eta), epsabs=1e-13, epsrel=1e-11, limit=400
            )[0]
    return out


@pytest.mark.parametrize(
    "model_name, k, ef, eta",
    [
        ("dirac_full", (0.21, -0.13), 0.1, 0.05),
        ("dirac_full", (0.02, 0.01), -0.05, 0.01),  # near the gap: small interband splitting
        ("rashba", (0.4, 0.3), 0.2, 0.03),
        ("random", (0.3, -0.7), 0.4, 0.08),
    ],
)
def test_kernels_match_brute_force_green_functions(request, model_name, k, ef, eta):
    model = RandomModel() if model_name == "random" else request.getfixturevalue(model_name)
    m = unit([0.3, -0.5, 0.8])
    k = np.array([k])
    dens = response_density(eigendata(model, k, m), [ef], eta)[0, 0]
    ref = _brute_force(model, k, m, ef, eta)
    scale = np.max(np.abs(ref))
    np.testing.assert_allclose(dens, ref, atol=1e-9 * scale, rtol=0)


def test_sea_integral_series_matches_closed_form_and_quadrature():
    """Im J(a, b) near degeneracy (series) and away (closed form) vs direct quadrature."""
    u = 0.03 + 0.02j  # EF - (a + b)/2, Im u = eta
    for d in [1e-9, 1e-4, 0.003, 0.0039, 0.0041, 0.02, 0.3]:
        a = 0.5 * d
        b = -0.5 * d

        # integrand of J with E measured from the mid point c = EF - u
        def integrand(e, part):
            val = (a - b) / ((e - (a - 1j * u.imag)) ** 2 * (e - (b - 1j * u.imag)) ** 2)
            return val.real if part == 0 else val.imag

        upper = u.real
        ref = complex(
            quad(integrand, -np.inf, upper, args=(0,), epsabs=1e-15, epsrel=1e-12, limit=400)[0],
            quad(integrand, -np.inf, upper, args=(1,), epsabs=1e-15, epsrel=1e-12, limit=400)[0],
        )
        got = float(sea_integral(np.array([d]), np.array([u]))[0])
        assert abs(got - ref.imag) <= 1e-9 * abs(ref) + 1e-12 * d / abs(u) ** 3


def test_surface_diagonal_kernel_is_drude_lorentzian_squared():
    """kappa_I(n, n) = (1/pi) eta^2 / ((EF - e)^2 + eta^2)^2, with energy integral 1/(2 eta)."""
    from spintorque.kernels import surface_kernel

    e = np.array([[0.1, 0.5]])
    eta = 0.02
    kern = surface_kernel(e, np.array([0.13]), eta)[0, 0]
    expect = eta**2 / ((0.13 - e[0]) ** 2 + eta**2) ** 2 / np.pi
    np.testing.assert_allclose(np.diag(kern).real, expect, rtol=1e-13)
    assert np.allclose(np.diag(kern).imag, 0)


def test_rho_neq_traces_give_the_response_density(dirac_full):
    """Tr[A rho_neq] for a force drive equals the spin_force / current_force integrand."""
    m = unit([0.2, 0.4, -0.9])
    k = np.array([[0.3, 0.1], [-0.2, 0.25]])
    force = np.array([0.7, -0.4])
    dmdt = np.array([0.1, 0.2, 0.3])
    rho = nonequilibrium_density_matrix(dirac_full, k, m, 0.15, 0.02, force=force, dm_dt=dmdt)
    dens = response_density(eigendata(dirac_full, k, m), [0.15], 0.02)[:, 0]  # (Nk, 2, 7, 5)
    drive = np.concatenate([dmdt, force])
    for part_index, part in enumerate(("sea", "surface")):
        r = rho[part]
        assert np.allclose(r, r.conj().swapaxes(-1, -2)), "rho_neq must be Hermitian"
        spin = np.einsum("aij,kji->ka", dirac_full.spin_operators, r).real
        expect = dens[:, part_index, :3, :] @ drive
        np.testing.assert_allclose(spin, expect, rtol=1e-12, atol=1e-14)


def test_thermal_smearing_matches_finite_temperature_green_function_quadrature(rashba):
    """Single k point: smearing the T = 0 kernels over EF == the Bastin formula with f_T."""
    m = unit([0.5, 0.1, 0.6])
    k = np.array([[0.5, -0.2]])
    mu, temp, eta = 0.25, 0.03, 0.02
    grid = thermal_grid(np.array([mu]), temp, eta, 1e-8)
    dens = response_density(eigendata(rashba, k, m), grid.energies, eta)[0]  # (nE, 2, nL, nR)
    smeared = np.einsum("e,epab->pab", grid.weights[0], dens)
    h, left, right = _operators(rashba, k, m)

    def fermi(e):
        return 0.5 * (1 - np.tanh((e - mu) / (2 * temp)))

    for i, j in [(0, 0), (1, 3), (3, 4), (4, 3), (2, 1)]:
        a, b = left[i], right[j]
        surf = quad(
            lambda e: minus_fermi_derivative(e - mu, temp) * _surface_trace(h, a, b, e, eta),
            mu - 40 * temp,
            mu + 40 * temp,
            epsabs=1e-13,
            epsrel=1e-11,
            limit=400,
        )[0]
        sea = quad(
            lambda e: fermi(e) * _sea_trace(e, h, a, b, eta),
            -np.inf,
            mu + 40 * temp,
            epsabs=1e-13,
            epsrel=1e-11,
            limit=400,
        )[0]
        scale = max(abs(surf), abs(sea), 1e-3)
        assert abs(smeared[1, i, j] - surf) < 1e-7 * scale
        assert abs(smeared[0, i, j] - sea) < 1e-7 * scale


@pytest.mark.parametrize(
    "model, m, isotropic",
    [
        (st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=5.0), (0.6, 0.0, 0.8), True),
        (st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=5.0), (0, 0, 1), True),
        (st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=5.0), (0.6, 0, 0.8), False),
    ],
)
def test_isotropic_factorisation_equals_the_pointwise_sums(model, m, isotropic):
    """Rings about the band centre: with angle-independent energies the kernels are evaluated
    per radial node and the operator features summed over angles first; the quadrature sums
    are the same as point by point (and models whose energies depend on the angle are
    detected and summed point by point)."""
    from spintorque.kernels import isotropic_energies, weighted_response

    rng = np.random.default_rng(3)
    m = unit(m)
    n_batch, n_rad, n_ang = 3, 5, 8
    radii = rng.uniform(0.05, 2.0, (n_batch, n_rad))
    phi = 2 * np.pi * np.arange(n_ang) / n_ang
    center = np.asarray(model.band_center(m))
    k = center + radii[..., None, None] * np.stack([np.cos(phi), np.sin(phi)], -1)
    eig = eigendata(model, k.reshape(-1, 2), m)
    weights = rng.uniform(0.0, 1.0, (n_batch, n_rad * n_ang, 4))
    ef = np.linspace(-0.6, 0.9, 7)
    assert (isotropic_energies(eig.energies, n_ang, 0.02) is not None) == isotropic
    fast = weighted_response(eig, ef, 0.02, weights, angles=n_ang)
    plain = weighted_response(eig, ef, 0.02, weights)
    scale = np.abs(plain).max(axis=(-2, -1), keepdims=True)
    np.testing.assert_allclose(fast / scale, plain / scale, rtol=0, atol=1e-13)
    # smearing the kernels before the sums (finite T) is the same linear map applied after
    smearing = rng.normal(size=(4, len(ef)))
    after = plain @ smearing.T  # the Fermi level is the last axis
    for angles in (1, n_ang):
        before = weighted_response(eig, ef, 0.02, weights, angles=angles, smearing=smearing)
        scale = np.abs(after).max(axis=(-2, -1), keepdims=True)
        np.testing.assert_allclose(before / scale, after / scale, rtol=0, atol=1e-13)


@pytest.mark.parametrize("n_levels", [3, 60])  # weights on the kernel / operator side
@pytest.mark.parametrize("smeared", [False, True])
def test_product_rules_give_the_sums_of_their_full_weights(n_levels, smeared):
    """The disk integrator's rules radial x angular (ProductWeights: products once per angular
    rule, then radial sums) give the same quadrature sums as the full weight array, on a model
    whose energies depend on the angle (no isotropic shortcut), with and without smearing."""
    from spintorque.integrate.rules import ProductWeights
    from spintorque.kernels import weighted_response

    rng = np.random.default_rng(5)
    model = st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=5.0)
    m = unit((0.6, 0.2, 0.8))
    n_batch, n_rad, n_ang = 3, 15, 8
    k = rng.uniform(-1.0, 1.0, (n_batch * n_rad * n_ang, 2))
    rules = ProductWeights(
        radial=rng.normal(size=(n_batch, 4, n_rad)),
        angular=rng.normal(size=(n_batch, 3, n_ang)),
        jac=rng.uniform(0.1, 1.0, (n_batch, n_rad, n_ang)),
        rad_index=(0, 1, 2, 0, 3),
        ang_index=(0, 0, 0, 1, 2),
    )
    eig = eigendata(model, k, m)
    ef = np.linspace(-0.3, 0.6, n_levels)
    smearing = rng.normal(size=(5, n_levels)) if smeared else None
    product = weighted_response(eig, ef, 0.03, rules, smearing=smearing)
    full = weighted_response(eig, ef, 0.03, rules.full(), smearing=smearing)
    assert product.shape == full.shape == (n_batch, 5, 2, 8, 5, 5 if smeared else n_levels)
    scale = np.abs(full).max(axis=(-3, -2, -1), keepdims=True)
    np.testing.assert_allclose(product / scale, full / scale, rtol=0, atol=1e-13)
