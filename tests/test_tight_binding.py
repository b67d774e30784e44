"""TightBinding and the named lattice models: closed forms, derivatives, limits, validation."""

import numpy as np
import pytest

import spintorque as st
from spintorque.models.base import PAULI, check_model

SX, SY, SZ = PAULI
M_TILT = np.array([0.3, -0.4, np.sqrt(1 - 0.25)])
RNG = np.random.default_rng(7)


def _pauli_expand(h0, hvec):
    return h0[:, None, None] * np.eye(2) + np.einsum("kc,cij->kij", hvec, PAULI)


def test_qwz_closed_form():
    model = st.models.QWZ(u=-1.3, delta=0.2)
    k = RNG.uniform(-np.pi, np.pi, (20, 2))
    kx, ky = k.T
    d = np.stack([np.sin(kx), np.sin(ky), -1.3 + np.cos(kx) + np.cos(ky)], 1) + 0.1 * M_TILT
    np.testing.assert_allclose(model.hamiltonian(k, M_TILT), _pauli_expand(0 * kx, d), atol=1e-14)


def test_rashba_lattice_closed_form():
    t, alpha, delta = 1.0, 0.3, 1.0
    model = st.models.RashbaLattice(t=t, alpha=alpha, delta=delta)
    k = RNG.uniform(-np.pi, np.pi, (20, 2))
    kx, ky = k.T
    h0 = -2 * t * (np.cos(kx) + np.cos(ky))
    hv = np.stack([alpha * np.sin(ky), -alpha * np.sin(kx), 0 * kx], 1) + 0.5 * delta * M_TILT
    np.testing.assert_allclose(model.hamiltonian(k, M_TILT), _pauli_expand(h0, hv), atol=1e-14)


@pytest.mark.parametrize(
    "lattice, continuum, shift",
    [
        (
            st.models.RashbaLattice(t=1.0, alpha=0.3, delta=0.4, a=0.5),
            st.models.Rashba2DEG(mass=2.0, alpha=-0.15, delta=0.4, cutoff=5.0),
            -4.0,
        ),
        (
            st.models.LatticeDiracSurface(vf=1.2, delta=0.2, a=0.5, mass=0.3),
            st.models.DiracSurface(vf=1.2, delta=0.2, cutoff=5.0, mass=0.3),
            0.0,
        ),
    ],
)
def test_continuum_limit(lattice, continuum, shift):
    # relative corrections O((k a)^2): halving k quarters the difference of H - H(0)
    direction = np.array([[0.6, 0.8]])
    errs = []
    for kk in (0.04, 0.02):
        k = kk * direction
        diff = lattice.hamiltonian(k, M_TILT) - continuum.hamiltonian(k, M_TILT) - shift * np.eye(2)
        errs.append(np.max(np.abs(diff)))
        vdiff = lattice.velocity(k, M_TILT) - continuum.velocity(k, M_TILT)
        assert np.max(np.abs(vdiff)) < 0.01
    assert errs[0] < 1e-3
    assert errs[1] / errs[0] == pytest.approx(1 / 8, rel=0.05)  # cubic in k: (k a)^2 relative


def _random_spinful_model(positions):
    n_orb = 2
    n = 2 * n_orb
    hop = {}
    for r in [(0, 0), (1, 0), (0, 1), (1, 1), (-1, 2)]:
        mat = RNG.normal(size=(n, n)) + 1j * RNG.normal(size=(n, n))
        if r == (0, 0):
            mat = mat + mat.conj().T
        hop[r] = 0.3 * mat
    lattice = [[1.0, 0.2], [-0.3, 1.1]]
    return st.models.TightBinding(
        lattice, hop, positions=positions, spinor="blocked", delta=0.7, add_conjugates=True
    )


def test_velocity_is_derivative_of_hamiltonian_with_positions():
    model = _random_spinful_model(positions=np.tile(RNG.uniform(0, 1, (2, 2)), (2, 1)))
    check_model(model, M_TILT)
    k = RNG.uniform(-3, 3, (5, 2))
    h = 1e-6
    for j in range(2):
        dk = np.zeros(2)
        dk[j] = h
        fd = (model.hamiltonian(k + dk, M_TILT) - model.hamiltonian(k - dk, M_TILT)) / (2 * h)
        np.testing.assert_allclose(model.velocity(k, M_TILT)[:, j], fd, atol=1e-7)


def test_positions_are_a_gauge_for_energies_not_for_velocities():
    tau = np.tile(RNG.uniform(0, 1, (2, 2)), (2, 1))  # blocked spinors: partners share a site
    with_tau = _random_spinful_model(tau)
    without = st.models.TightBinding(
        with_tau.lattice_vectors, with_tau.hoppings(), spinor="blocked", delta=0.7
    )
    k = RNG.uniform(-3, 3, (6, 2))
    e1 = np.linalg.eigvalsh(with_tau.hamiltonian(k, M_TILT))
    e2 = np.linalg.eigvalsh(without.hamiltonian(k, M_TILT))
    np.testing.assert_allclose(e1, e2, atol=1e-12)
    assert np.max(np.abs(with_tau.velocity(k, M_TILT) - without.velocity(k, M_TILT))) > 1e-3


def test_hall_plateau_independent_of_orbital_positions():
    # convention I vs II: the Chern number of a filled band does not depend on tau
    qwz = st.models.QWZ(u=-1.0)
    # the pseudospin Pauli matrices are not on-site once the two orbitals sit apart: no spin
    shifted = st.models.TightBinding(
        np.eye(2),
        qwz.hoppings(),
        positions=[[0.0, 0.0], [0.3, 0.2]],
        spin_operators=np.zeros((3, 2, 2)),
    )
    values = []
    for model in (qwz, shifted):
        res = st.response(model, ef=0.0, eta=0.02, rtol=1e-5)
        values.append(2 * np.pi * float(res.current_force.sel(part="total", i="x", j="y")))
    assert values[1] == pytest.approx(values[0], abs=1e-3)


def test_spin_matrices_orderings():
    for ordering in ("interleaved", "blocked"):
        s = st.models.spin_matrices(3, ordering)
        np.testing.assert_allclose(s[0] @ s[1] - s[1] @ s[0], 2j * s[2], atol=1e-14)
        np.testing.assert_allclose(s[2] @ s[2], np.eye(6), atol=1e-14)
    inter = st.models.spin_matrices(2, "interleaved")
    assert np.allclose(np.diag(inter[2]).real, [1, -1, 1, -1])
    assert np.allclose(np.diag(st.models.spin_matrices(2, "blocked")[2]).real, [1, 1, -1, -1])


def test_builtins_pass_check_model_and_exchange_derivative():
    for model in (
        st.models.QWZ(u=1.0, delta=0.3),
        st.models.RashbaLattice(),
        st.models.LatticeDiracSurface(),
    ):
        check_model(model, M_TILT)
        k = RNG.uniform(-1, 1, (3, 2))
        h = 1e-6
        for b in range(3):
            dm = np.zeros(3)
            dm[b] = h
            fd = (model.hamiltonian(k, M_TILT + dm) - model.hamiltonian(k, M_TILT - dm)) / (2 * h)
            np.testing.assert_allclose(model.exchange_derivative(k, M_TILT)[:, b], fd, atol=1e-8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"hoppings": {(0, 0): SZ, (1, 0): SX}}, r"partner R = \(-1, 0\)"),
        ({"hoppings": {(0, 0): SZ, (1, 0): SX, (-1, 0): SY}}, "Hermiticity"),
        ({"hoppings": {(0, 0): SZ, (1,): SX}}, "tuple of 2 integers"),
        ({"hoppings": {(0, 0): np.eye(3)}}, "cannot carry spinors"),
        ({"hoppings": {(0, 0): SZ, (1, 0): np.eye(3)}}, "square matrix of shape"),
        ({"hoppings": {}}, "non-empty"),
        ({"hoppings": {(0, 0): SZ}, "lattice_vectors": [[1, 0], [2, 0]]}, "linearly independent"),
        ({"hoppings": {(0, 0): SZ}, "lattice_vectors": [1, 0]}, "shape"),
        ({"hoppings": {(0, 0): SZ}, "spinor": "diagonal"}, "spinor ordering"),
        ({"hoppings": {(0, 0): SZ}, "positions": [[0, 0]]}, "positions"),
        ({"hoppings": {(0, 0): SZ}, "positions": [[0, 0], [0.5, 0]]}, "different positions"),
        ({"hoppings": {(0, 0): SZ}, "spin_operators": np.ones((3, 2, 2)) * 1j}, "Hermitian"),
    ],
)
def test_bad_input_is_refused(kwargs, match):
    args = {"lattice_vectors": np.eye(2)}
    args.update(kwargs)
    lattice = args.pop("lattice_vectors")
    hoppings = args.pop("hoppings")
    with pytest.raises(st.ModelError, match=match):
        st.models.TightBinding(lattice, hoppings, **args)


def test_bad_model_parameters_are_refused():
    with pytest.raises(st.ModelError, match="u must be"):
        st.models.QWZ(u="one")
    with pytest.raises(st.ModelError, match="a must be > 0"):
        st.models.RashbaLattice(a=-1.0)


@pytest.mark.slow
def test_lattice_dirac_surface_responses_reduce_to_continuum():
    # clean-limit Fermi-surface coefficients (Drude, Edelstein) of LatticeDiracSurface vs
    # DiracSurface(mass) at EF = 0.2, tilted m: relative difference O((kF a)^2): 5.8 % at a = 1,
    # a quarter of that at a = 1/2 (tolerance: ratio 0.25 +- 0.07, below 2 % at a = 1/2)
    m = (0.6, 0.0, 0.8)
    ref = st.response(
        st.models.DiracSurface(vf=1.0, delta=0.1, mass=0.5, cutoff=3.0),
        ef=0.2,
        eta="clean",
        m=m,
        rtol=1e-6,
    )
    diffs = []
    for a in (1.0, 0.5):
        lat = st.models.LatticeDiracSurface(vf=1.0, delta=0.1, a=a, mass=0.5)
        res = st.response(lat, ef=0.2, eta="clean", m=m, rtol=1e-4)
        worst = 0.0
        for name in ("spin_force", "current_force"):
            sel = {"term": "intraband_coefficient", "part": "total"}
            got, want = res[name].sel(**sel).values, ref[name].sel(**sel).values
            worst = max(worst, np.max(np.abs(got - want)) / np.max(np.abs(want)))
        diffs.append(worst)
    assert diffs[1] < 0.02
    assert diffs[1] / diffs[0] == pytest.approx(0.25, abs=0.07)
