"""Bi2Se3 thin film (four-band k.p across N quintuple layers): low-energy limit = DiracSurface.

Effective surface theory of the semi-infinite four-band model (W.-Y. Shan, H.-Z. Lu, S.-Q. Shen,
New J. Phys. 12, 043048 (2010)): each surface carries H = E0 + D k^2 +- A (k x sigma) with
    E0 = C + D1 M / B1,   A = A2 sqrt(1 - (D1/B1)^2),   D = D2 - B2 D1 / B1.
The discretised film reproduces these closed forms (the boundary-state algebra is the same on
the layer lattice); tolerances are stated per test.
"""

import numpy as np
import pytest

import spintorque as st
from spintorque.kernels import nonequilibrium_density_matrix

Z = np.array([0.0, 0.0, 1.0])


def _surface_theory(params):
    e0 = params["C"] + params["D1"] * params["M"] / params["B1"]
    vel = params["A2"] * np.sqrt(1 - (params["D1"] / params["B1"]) ** 2)
    curv = params["D2"] - params["B2"] * params["D1"] / params["B1"]
    return e0, vel, curv


def _near(film, k, m, e0, count=4):
    e = np.linalg.eigvalsh(film.hamiltonian(np.array([[k, 0.0]]), m))[0]
    return np.sort(e[np.argsort(np.abs(e - e0))[:count]])


def test_surface_bands_follow_effective_dirac_theory():
    # tolerance 1e-6 eV for k <= 0.02 / A (thick film: hybridisation ~ exp(-N d / penetration))
    film = st.models.TIThinFilm(n_layers=20, delta=0.0)
    e0, vel, curv = _surface_theory(film.params)
    for k in (0.0, 0.005, 0.01, 0.02):
        bands = _near(film, k, Z, e0)
        expected = np.array([-1, -1, 1, 1]) * vel * k + e0 + curv * k**2
        np.testing.assert_allclose(bands, expected, atol=1e-6)


def _top_layer_weight(film, e0):
    """Weight on the top layer of the top-surface state at k = 0 (from the film, delta = 0)."""
    e, v = np.linalg.eigh(film.hamiltonian(np.zeros((1, 2)), Z))
    states = v[0][:, np.argsort(np.abs(e[0] - e0))[:4]]
    depth = np.kron(np.diag(np.arange(film.n_layers)), np.eye(4))
    _, rot = np.linalg.eigh(states.conj().T @ depth @ states)
    top = states @ rot[:, -2:]
    return float(np.sum(np.abs(top[-4:]) ** 2) / 2)


def test_top_layer_exchange_gaps_only_the_top_surface():
    # first-order: the top Dirac cone gets the mass delta w / 2 (w = top-layer weight of the
    # surface state); the bottom cone stays gapless. Tolerance 1e-3 relative (order delta^2).
    n, delta = 12, 0.02
    clean_film = st.models.TIThinFilm(n_layers=n, delta=0.0)
    e0, _, _ = _surface_theory(clean_film.params)
    weight = _top_layer_weight(clean_film, e0)
    assert 0.8 < weight < 1.0
    bands = _near(st.models.TIThinFilm(n_layers=n, delta=delta), 0.0, Z, e0)
    assert bands[2] - bands[1] < 1e-5  # the bottom cone: degenerate Dirac point
    assert bands[3] - bands[0] == pytest.approx(delta * weight, rel=1e-3)


def test_drude_weight_is_twice_a_dirac_surface():
    # both surfaces conduct; the Fermi-surface part of sigma_xx at finite eta equals twice that
    # of DiracSurface(vf=A, mass=1/(2D)) at EF - E0. Tolerance 3e-3 (hybridisation, k^3 terms).
    n, eta, ef_rel = 6, 0.005, 0.05
    film = st.models.TIThinFilm(n_layers=n, delta=0.0, cutoff=0.1)
    e0, vel, curv = _surface_theory(film.params)
    res = st.response(film, ef=e0 + ef_rel, eta=eta, rtol=1e-4)
    dirac = st.models.DiracSurface(vf=vel, delta=0.0, cutoff=0.1, mass=1 / (2 * curv))
    ref = st.response(dirac, ef=ef_rel, eta=eta, rtol=1e-6)
    got = float(res.current_force.sel(part="surface", i="x", j="x"))
    assert got == pytest.approx(
        2 * float(ref.current_force.sel(part="surface", i="x", j="x")), rel=3e-3
    )


def test_layer_resolved_spin_density_top_and_bottom_opposite():
    # without exchange the film is mirror symmetric (z -> -z): the current-induced in-plane spin
    # density of the top half is minus that of the bottom half, and nonzero.
    n = 6
    kwargs = {"n_layers": n, "delta": 0.0, "cutoff": 0.1}
    top = st.models.TIThinFilm(spin_layers=range(n // 2, n), **kwargs)
    full = st.models.TIThinFilm(**kwargs)
    np.testing.assert_allclose(sum(top.layer_spin_operators()), full.spin_operators)
    # the per-k helper traces rho_neq layer by layer: its layer sum is Tr[sigma rho]
    k = np.array([[0.01, 0.004], [-0.003, 0.012]])
    force = np.array([1.0, 0.0])
    dens = st.models.layer_spin_density(top, k, Z, ef=0.08, eta=0.005, force=force)
    rho = nonequilibrium_density_matrix(full, k, Z, 0.08, 0.005, force=force)
    for part in ("sea", "surface"):
        direct = np.einsum("aij,kji->ka", full.spin_operators, rho[part])
        scale = np.max(np.abs(direct))
        np.testing.assert_allclose(dens[part].sum(axis=1), direct.real, atol=1e-12 * scale)
        assert np.max(np.abs(direct.imag)) < 1e-12 * scale
    res = st.response(top, ef=0.08, eta=0.005, rtol=1e-4)
    bottom = st.response(
        st.models.TIThinFilm(spin_layers=range(n // 2), **kwargs), ef=0.08, eta=0.005, rtol=1e-4
    )
    s_top = res.spin_force.sel(part="surface", i="y", j="x").item()
    s_bottom = bottom.spin_force.sel(part="surface", i="y", j="x").item()
    assert abs(s_top) > 1e-3
    assert s_bottom == pytest.approx(-s_top, rel=1e-6)


def _random_spin_matrices(rng):
    raw = rng.normal(size=(3, 4, 4)) + 1j * rng.normal(size=(3, 4, 4))
    return 0.5 * (raw + np.conj(raw.swapaxes(-1, -2)))


def test_default_spin_is_the_pseudospin_as_before():
    # spin_matrices=None keeps the pseudospin sigma (x) tau_0 (the behaviour before the option):
    # spin operators, exchange and Hamiltonian are identical, bit for bit, to the explicit form
    pauli = st.models.base.PAULI
    pseudo = np.stack([np.kron(s, np.eye(2)) for s in pauli])
    kwargs = {"n_layers": 3, "delta": 0.03, "exchange_layers": (1, 2), "spin_layers": (0, 2)}
    default = st.models.TIThinFilm(**kwargs)
    explicit = st.models.TIThinFilm(spin_matrices=pseudo, **kwargs)
    manual = np.zeros((3, 12, 12), dtype=complex)
    for layer in kwargs["spin_layers"]:
        manual[:, 4 * layer : 4 * layer + 4, 4 * layer : 4 * layer + 4] = pseudo
    assert np.array_equal(default.spin_operators, manual)
    assert default.spin_model == "pseudospin" and "spin_matrices" not in default.parameters()
    k = np.random.default_rng(3).uniform(-0.1, 0.1, (4, 2))
    m = np.array([0.6, 0.0, 0.8])
    for method in ("hamiltonian", "velocity", "exchange_derivative"):
        assert np.array_equal(getattr(default, method)(k, m), getattr(explicit, method)(k, m))
    assert np.array_equal(default.spin_operators, explicit.spin_operators)


def test_exchange_uses_the_same_spin_matrices():
    # dH/dm_b = (delta/2) sum over exchange layers of S_b, with the user's S; H Hermitian and
    # linear in m (finite difference exact up to rounding)
    rng = np.random.default_rng(5)
    spin = _random_spin_matrices(rng)
    n, delta, ex = 4, 0.07, (0, 3)
    film = st.models.TIThinFilm(n, delta, exchange_layers=ex, spin_matrices=spin)
    assert film.parameters()["spin_matrices"] == "custom"
    expected = np.zeros((3, 4 * n, 4 * n), dtype=complex)
    for layer in ex:
        expected[:, 4 * layer : 4 * layer + 4, 4 * layer : 4 * layer + 4] = 0.5 * delta * spin
    k = rng.uniform(-0.1, 0.1, (3, 2))
    m = np.array([0.0, 0.6, 0.8])
    dh_dm = film.exchange_derivative(k, m)
    assert dh_dm.shape == (3, 3, 4 * n, 4 * n)
    np.testing.assert_allclose(dh_dm, np.broadcast_to(expected, dh_dm.shape), atol=1e-15)
    layers = film.layer_spin_operators()
    np.testing.assert_allclose(layers[list(ex)].sum(axis=0) * 0.5 * delta, expected, atol=1e-15)
    np.testing.assert_allclose(film.spin_operators, layers.sum(axis=0), atol=1e-15)
    for b in range(3):
        step = np.zeros(3)
        step[b] = 1.0
        diff = film.hamiltonian(k, m + step) - film.hamiltonian(k, m)
        np.testing.assert_allclose(diff, np.broadcast_to(expected[b], diff.shape), atol=1e-13)
    ham = film.hamiltonian(k, m)
    np.testing.assert_allclose(ham, np.conj(ham.swapaxes(-1, -2)), atol=1e-14)
    ops = film.spin_operators
    np.testing.assert_allclose(ops, np.conj(ops.swapaxes(-1, -2)), atol=1e-15)


@pytest.mark.parametrize(
    "value, match",
    [
        (np.zeros((3, 2, 2)), r"spin_matrices must have shape \(3, 4, 4\)"),
        (np.zeros((4, 4)), r"spin_matrices must have shape \(3, 4, 4\)"),
        (np.full((3, 4, 4), np.nan), r"spin_matrices must be finite"),
        (np.triu(np.ones((4, 4)))[None].repeat(3, axis=0), r"spin_matrices must be Hermitian"),
        ("sigma", r"spin_matrices must be a numeric array"),
    ],
)
def test_spin_matrices_are_validated(value, match):
    with pytest.raises(st.ModelError, match=match):
        st.models.TIThinFilm(n_layers=2, spin_matrices=value)
