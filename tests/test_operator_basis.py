"""Operators that are multiples of others: the relations found, the block algebra, and the
engine's result against integrating every operator (the route without relations)."""

import numpy as np
import pytest

import spintorque as st
from spintorque import engine
from spintorque.engine import operator_layout
from spintorque.kernels import eigendata
from spintorque.operator_basis import (
    BasisMismatch,
    OperatorBasis,
    find_operator_basis,
    identity_basis,
)

M_TILTED = np.array([0.6, 0.0, 0.8])


def test_dirac_operators_are_multiples_of_the_pauli_matrices(dirac):
    """H = vf (z x k) . sigma + (delta/2) m . sigma: v_x = vf sigma_y, v_y = -vf sigma_x and
    dH/dm_b = (delta/2) sigma_b, so 3 x 3 basis pairs carry all 8 x 5 operator pairs."""
    basis = find_operator_basis(dirac, M_TILTED, operator_layout(2))
    # catalogue: sigma_x, sigma_y, sigma_z, v_x, v_y, dH/dm_x, dH/dm_y, dH/dm_z
    np.testing.assert_array_equal(basis.rep, [0, 1, 2, 1, 0, 0, 1, 2])
    half = 0.5 * dirac.delta
    np.testing.assert_allclose(basis.coeff, [1, 1, 1, dirac.vf, -dirac.vf, half, half, half])
    np.testing.assert_array_equal(basis.left_basis, [0, 1, 2])
    np.testing.assert_array_equal(basis.right_basis, [0, 1, 2])


def test_rashba_keeps_its_velocities(rashba):
    """v_j = k_j / mass + alpha (...) is no constant multiple of a Pauli matrix: 5 x 5 pairs."""
    basis = find_operator_basis(rashba, M_TILTED, operator_layout(2))
    assert len(basis.left_basis) == 5 and len(basis.right_basis) == 5
    np.testing.assert_array_equal(basis.rep[5:], [0, 1, 2])
    np.testing.assert_allclose(basis.coeff[5:], 0.5 * rashba.delta)


def test_bhz_exchange_is_a_multiple_of_its_spin(bhz):
    basis = find_operator_basis(bhz, M_TILTED, operator_layout(2))
    np.testing.assert_array_equal(basis.rep[5:], [0, 1, 2])
    assert len(basis.left_basis) == 5


def _random_basis(rng):
    """6 catalogue operators: 3 basis ones, a multiple, a vanishing one, another multiple."""
    rep = np.array([0, 1, 2, 1, 0, 2])
    coeff = np.array([1.0, 1.0, 1.0, -2.5, 0.0, 0.75])
    return OperatorBasis(("spin", "velocity"), (3, 3), rep, coeff, np.arange(6), np.array([5, 3]))


def test_expand_and_reduce_tolerance_against_loops():
    rng = np.random.default_rng(3)
    basis = _random_basis(rng)
    n_l, n_r = len(basis.left_basis), len(basis.right_basis)
    assert (n_l, n_r) == (3, 2)
    value = rng.normal(size=(4, 2, n_l, n_r))
    full = basis.expand(value)
    error = basis.expand(np.abs(value), magnitude=True)
    tol = rng.uniform(0.1, 1.0, size=(4, 2, 6, 2))
    reduced = basis.reduce_tolerance(tol)
    expected_tol = np.full_like(reduced, np.inf)
    for a, ua in enumerate(basis.left):
        i = list(basis.left_basis).index(basis.rep[ua])
        for b, ub in enumerate(basis.right):
            j = list(basis.right_basis).index(basis.rep[ub])
            c = basis.coeff[ua] * basis.coeff[ub]
            np.testing.assert_allclose(full[..., a, b], c * value[..., i, j], rtol=1e-15)
            np.testing.assert_allclose(error[..., a, b], abs(c) * np.abs(value[..., i, j]))
            if c != 0:
                limit = tol[..., a, b] / abs(c)
                expected_tol[..., i, j] = np.minimum(expected_tol[..., i, j], limit)
    np.testing.assert_allclose(reduced, expected_tol, rtol=1e-15)
    # the defining property: errors within the reduced tolerance meet every entry's tolerance
    within = basis.expand(reduced, magnitude=True)
    finite = np.isfinite(within)
    assert np.all(within[finite] <= tol[finite] * (1 + 1e-12))


def test_check_refuses_a_relation_that_fails():
    basis = _random_basis(np.random.default_rng(0))
    ops = np.zeros((5, 6, 2, 2), dtype=complex)
    ops[:, :3] = st.models.base.PAULI
    ops[:, 3] = -2.5 * ops[:, 1]
    ops[:, 5] = 0.75 * ops[:, 2]
    basis.check(ops)  # the relations hold
    ops[2, 5, 0, 0] += 1e-9
    with pytest.raises(BasisMismatch, match=r"operator 5 is not 0\.75 x operator 2"):
        basis.check(ops)


def _without_relations(monkeypatch):
    """Make the engine integrate every operator (the route before operator relations)."""
    monkeypatch.setattr(
        engine,
        "find_operator_basis",
        lambda model, m, layout: identity_basis(
            int(model.dim), layout.left_sets, layout.right_sets
        ),
    )


def _assert_same(res, ref):
    """Same k points; values to rounding of the largest entry (blocks that vanish by symmetry
    are rounding alone); estimates to rounding of the rate factors."""
    assert res.attrs["n_kpoints"] == ref.attrs["n_kpoints"]
    values = [name for name in ref.data_vars if not name.endswith("_error")]
    scale = max(float(np.abs(ref[name]).max()) for name in values)
    for name in values:
        np.testing.assert_allclose(res[name], ref[name], rtol=0, atol=1e-13 * scale)
        error = f"{name}_error"
        np.testing.assert_allclose(res[error], ref[error], rtol=1e-6, atol=1e-12 * scale)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("dirac", dict(ef=np.linspace(-0.4, 0.4, 9), eta=0.02)),
        ("dirac", dict(ef=0.3, eta=0.02, temperature=[0.0, 0.02])),
        ("rashba", dict(ef=[0.2, 0.5], eta=0.05)),
        ("bhz", dict(ef=0.3, eta=0.05)),
        ("qwz", dict(ef=[-0.5, 0.3], eta=0.1)),  # a lattice model: the Brillouin-zone route
    ],
)
def test_relations_give_the_full_operator_result(request, monkeypatch, name, kwargs):
    """Same mesh, values to rounding, same estimates: the relations only skip products."""
    if name == "qwz":
        model = st.models.QWZ(u=-1.3, delta=0.2)
    else:
        model = request.getfixturevalue(name)
    m = np.array([0.3, -0.5, 0.81]) / np.linalg.norm([0.3, -0.5, 0.81])
    res = st.response(model, m=m, rtol=1e-5, **kwargs)
    _without_relations(monkeypatch)
    ref = st.response(model, m=m, rtol=1e-5, **kwargs)
    _assert_same(res, ref)


class _LocalBump(st.models.DiracSurface):
    """dH/dm_z picks up a sigma_x part within |k - k0| < 0.004, where no sample point lies:
    the relation dH/dm_z = (delta/2) sigma_z holds at the samples and fails there."""

    def exchange_derivative(self, k, m):
        ops = super().exchange_derivative(k, m)
        near = np.hypot(*(k - self.band_center(m)).T) < 0.004
        ops[near, 2] += 0.1 * st.models.base.PAULI[0]
        return ops


def test_a_relation_that_fails_between_samples_falls_back(monkeypatch):
    model = _LocalBump(vf=1.0, delta=0.2, cutoff=20.0)
    basis = find_operator_basis(model, M_TILTED, operator_layout(2))
    assert basis.rep[7] == 2  # accepted at the samples
    with pytest.raises(BasisMismatch):
        eigendata(model, model.band_center(M_TILTED)[None] + 1e-3, M_TILTED, basis=basis)
    used = []
    original = engine.integrate_levels
    monkeypatch.setattr(
        engine, "integrate_levels", lambda *args: used.append(args[-1]) or original(*args)
    )
    res = st.response(model, ef=0.1, eta=0.02, m=M_TILTED, rtol=1e-5)
    assert len(used) == 2 and used[0] is not None and used[1] is None  # with, then without
    _without_relations(monkeypatch)
    _assert_same(res, st.response(model, ef=0.1, eta=0.02, m=M_TILTED, rtol=1e-5))
