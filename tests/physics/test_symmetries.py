"""Symmetries every response must obey: dissipation, Onsager reciprocity, sea antisymmetry."""

import numpy as np
import pytest

import spintorque as st

DIRECTIONS = [(1.0, 0.0, 0.0), (0.36, -0.48, 0.8), (-0.6, 0.64, -0.48)]


def _models():
    return {
        "dirac": st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=8.0),
        "dirac_full": st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=4.0, mass=2.0, warping=0.1),
        "rashba": st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.15, cutoff=5.0),
    }


@pytest.fixture(scope="module")
def responses():
    """Responses at +m and -m for each model and direction (module-wide cache)."""
    out = {}
    for name, model in _models().items():
        for m in DIRECTIONS:
            for sign in (1, -1):
                mm = tuple(sign * np.array(m))
                out[name, mm] = st.response(model, ef=0.15, eta=0.05, m=mm, rtol=1e-6)
    return out


def _block(res, name, part):
    return res[name].sel(part=part).values


@pytest.mark.parametrize("name", ["dirac", "dirac_full", "rashba"])
def test_dissipative_blocks_are_positive_semidefinite(responses, name):
    for m in DIRECTIONS:
        res = responses[name, m]
        for block in ("spin_exchange", "current_force", "exchange_exchange"):
            chi = _block(res, block, "total")
            dim = 2 if block == "current_force" else 3
            sym = 0.5 * (chi + chi.T)[:dim, :dim]
            eig = np.linalg.eigvalsh(sym)
            assert eig.min() > -1e-6 * eig.max(), (block, m, eig)


@pytest.mark.parametrize("name", ["dirac", "dirac_full", "rashba"])
def test_sea_part_is_antisymmetric(responses, name):
    """kappa_II is antisymmetric, so Lambda_II[A, B] = -Lambda_II[B, A] for Hermitian A, B."""
    for m in DIRECTIONS:
        res = responses[name, m]
        for block in ("spin_exchange", "current_force", "exchange_exchange"):
            chi = _block(res, block, "sea")
            scale = np.abs(_block(res, block, "total")).max()
            assert np.abs(chi + chi.T).max() < 1e-6 * scale


@pytest.mark.parametrize("name", ["dirac", "dirac_full", "rashba"])
@pytest.mark.parametrize("part", ["sea", "surface"])
def test_onsager_reciprocity(responses, name, part):
    """Lambda[A, B](m) = Lambda[B, A](-m) for A, B odd under time reversal, part by part.

    Hence spin_force(m) = (2/Delta) current_exchange(-m)^T, current_force(m) = current_force(-m)^T,
    and exchange_exchange(m) = exchange_exchange(-m)^T.
    """
    delta = _models()[name].delta
    for m in DIRECTIONS:
        plus, minus = responses[name, m], responses[name, tuple(-np.array(m))]
        spin_force = _block(plus, "spin_force", part)[:, :2]
        pumping = _block(minus, "current_exchange", part)[:2, :]
        scale = np.abs(_block(plus, "spin_force", "total")).max()
        np.testing.assert_allclose(spin_force, (2 / delta) * pumping.T, atol=1e-6 * scale)
        for block in ("current_force", "exchange_exchange"):
            a, b = _block(plus, block, part), _block(minus, block, part)
            scale = np.abs(_block(plus, block, "total")).max()
            np.testing.assert_allclose(a, b.T, atol=1e-6 * scale)


def test_exchange_blocks_are_delta_over_two_times_spin_blocks(responses):
    """For dH/dm = (Delta/2) sigma: Lambda[dH/dm, B] = (Delta/2) Lambda[sigma, B]."""
    res = responses["dirac_full", DIRECTIONS[2]]
    delta = _models()["dirac_full"].delta
    np.testing.assert_allclose(
        res.exchange_exchange.values, delta / 2 * res.spin_exchange.values, rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        res.exchange_force.values, delta / 2 * res.spin_force.values, rtol=1e-12, atol=1e-15
    )


def test_rotation_about_z_covariance():
    """Without warping the TI surface is isotropic: rotating m about z rotates every tensor."""
    model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=8.0, mass=3.0)
    angle = 0.7
    rot = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    m = np.array([0.6, 0.0, 0.8])
    a = st.response(model, ef=0.2, eta=0.05, m=m, rtol=1e-7)
    b = st.response(model, ef=0.2, eta=0.05, m=rot @ m, rtol=1e-7)
    for block in ("spin_exchange", "spin_force", "current_force", "current_exchange"):
        for part in ("sea", "surface"):
            ta, tb = _block(a, block, part), _block(b, block, part)
            scale = np.abs(_block(a, block, "total")).max()
            np.testing.assert_allclose(rot @ ta @ rot.T, tb, atol=1e-6 * scale)
