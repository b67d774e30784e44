"""Tensor tables: interpolation error against direct engine calls, covariance, fits, refusals."""

import math

import numpy as np
import pytest

import spintorque as st
from spintorque.dynamics import AxialTable, ElectronSettings, SphereTable, interpolation_error
from spintorque.dynamics.tensors import TENSORS, fibonacci_sphere, off_grid_directions


def test_axial_table_matches_engine_off_grid(dirac_table, dirac_model, settings):
    """Off-node polar angles and random azimuths (tests rotation covariance too)."""
    err = interpolation_error(
        dirac_table, dirac_model, settings, off_grid_directions(dirac_table, 3, seed=7)
    )
    assert set(err) == set(TENSORS)
    assert max(err.values()) < 1e-6


def test_coarse_estimate_is_conservative(dirac_table, dirac_model, settings):
    measured = interpolation_error(
        dirac_table, dirac_model, settings, off_grid_directions(dirac_table, 2, seed=2)
    )
    coarse = dirac_table.meta["coarse_error"]
    assert all(coarse[k] >= measured[k] for k in TENSORS)
    assert max(coarse.values()) < 1e-2


def test_table_values_on_nodes_are_engine_values(dirac_table, dirac_model, settings):
    theta = dirac_table.theta[5]
    m = np.array([math.sin(theta), 0.0, math.cos(theta)])
    res = st.response(dirac_model, ef=settings.ef, eta=settings.eta, m=m, rtol=settings.rtol)
    direct = res.exchange_exchange.sel(part="total").values
    # to rounding of the block's scale (the table asks for fewer blocks: its sums are
    # ordered differently, and entries that vanish by symmetry are pure rounding)
    assert np.allclose(dirac_table(m)[0, 0], direct, rtol=1e-12, atol=1e-12 * np.abs(direct).max())


def _smooth(m):
    """A smooth non-polynomial tensor field on the sphere, (N, 3, 3, 3)."""
    a = np.array([0.3, -0.2, 0.5])
    base = np.exp(m @ a)[:, None, None] * np.einsum("ni,nj->nij", m, m)
    return np.stack(
        [base, base * 2.0, np.cos(m[:, :1, None] + m[:, None, 1:2]) * np.ones((1, 3, 3))], axis=1
    )


def test_sphere_fit_is_exact_for_polynomials():
    ms = fibonacci_sphere(120)

    def poly(m):
        x, y, z = m.T
        val = 1 + x * y * z - 2 * z**3 + x**4 * y
        return np.broadcast_to(val[:, None, None, None], (len(m), 3, 3, 3)).copy()

    table = SphereTable.fit(ms, poly(ms), degree=5)
    test = fibonacci_sphere(37) @ np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    assert np.max(np.abs(table(test) - poly(test))) < 1e-10


def test_sphere_fit_converges_for_smooth_fields():
    test = fibonacci_sphere(50) @ np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))[0]
    errors = []
    for degree in (4, 8):
        ms = fibonacci_sphere(2 * (degree + 1) ** 2)
        table = SphereTable.fit(ms, _smooth(ms), degree)
        errors.append(np.max(np.abs(table(test) - _smooth(test))))
    assert errors[1] < 1e-4 and errors[1] < errors[0] / 100


@pytest.mark.slow
def test_sphere_table_of_warped_surface_matches_engine():
    """No axial symmetry (warping breaks it by ~1 %): degree-3 fit on 26 directions vs engine."""
    model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=1.5, warping=0.5)
    settings = ElectronSettings(ef=0.3, eta=0.02, rtol=1e-4)
    table = SphereTable.build(model, settings, degree=3, n_points=26)
    err = interpolation_error(table, model, settings, off_grid_directions(table, 3, seed=5))
    assert max(err.values()) < 2e-3
    # the fit is not hiding a symmetric answer: rotating m about z changes the tensor by more
    m = np.array([0.6, 0.0, 0.8])
    rot = np.array(
        [[math.cos(0.4), -math.sin(0.4), 0], [math.sin(0.4), math.cos(0.4), 0], [0, 0, 1]]
    )
    a, b = table(m)[0, 1], table(rot @ m)[0, 1]
    assert np.max(np.abs(rot @ a @ rot.T - b)) > 3 * max(err.values()) * np.max(np.abs(a))


def test_refusals(dirac_model, settings):
    warped = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0, warping=0.05)
    with pytest.raises(st.ParameterError, match="not covariant under rotations about z"):
        AxialTable.build(warped, settings)
    with pytest.raises(st.ParameterError, match="n_intervals must be an even integer"):
        AxialTable.build(dirac_model, settings, n_intervals=5)
    table = AxialTable(np.linspace(0.0, 0.2, 3), np.zeros((3, 3, 3, 3)))
    with pytest.raises(st.ParameterError, match="outside the tabulated range"):
        table(np.array([[1.0, 0.0, 0.0]]))
    with pytest.raises(st.ParameterError, match="too few for degree"):
        SphereTable.fit(fibonacci_sphere(10), np.zeros((10, 3, 3, 3)), degree=4)
