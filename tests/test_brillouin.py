"""The adaptive Brillouin-zone integrator: closed forms, honest error estimates, budgets."""

import numpy as np
import pytest
from scipy.integrate import quad

import spintorque as st
from spintorque.integrate.brillouin import BrillouinIntegrator, initial_divisions

OBLIQUE = 2 * np.pi * np.linalg.inv(np.array([[1.0, 0.0], [0.4, 1.3]])).T


def _reduced(k: np.ndarray, b: np.ndarray) -> np.ndarray:
    return k @ np.linalg.inv(b)


def test_smooth_periodic_function_closed_form_oblique_cell():
    # int_0^1 ds / (1 - a cos 2 pi s) = 1 / sqrt(1 - a^2); measure |det B| / (2 pi)^2
    a1, a2 = 0.7, 0.4

    def f(k):
        s = _reduced(k, OBLIQUE)
        val = 1 / ((1 - a1 * np.cos(2 * np.pi * s[:, 0])) * (1 - a2 * np.cos(2 * np.pi * s[:, 1])))
        return np.stack([val, np.cos(2 * np.pi * s[:, 0])], axis=1)

    res = BrillouinIntegrator(f, OBLIQUE, divisions=4).integrate(lambda v: np.full(2, 1e-10))
    measure = abs(np.linalg.det(OBLIQUE)) / (2 * np.pi) ** 2
    exact = measure / np.sqrt((1 - a1**2) * (1 - a2**2))
    assert res.converged
    assert res.value[0] == pytest.approx(exact, rel=1e-10)
    assert abs(res.value[1]) < 1e-10
    assert abs(res.value[0] - exact) <= res.error[0] + 1e-14


def test_sharp_fermi_line_is_refined_and_error_is_honest():
    # a Lorentzian of width eta across a line in s1, times a smooth factor of s2 (mean 1)
    eta, level = 1e-3, 0.3
    b = 2 * np.pi * np.eye(2)

    def lorentz(s):
        return eta / ((np.cos(2 * np.pi * s) - level) ** 2 + eta**2)

    def f(k):
        s = _reduced(k, b)
        return (lorentz(s[:, 0]) * (1 + 0.5 * np.cos(2 * np.pi * s[:, 1])))[:, None]

    pts = [np.arccos(level) / (2 * np.pi), 1 - np.arccos(level) / (2 * np.pi)]
    exact = quad(lorentz, 0, 1, points=pts, epsabs=1e-13, epsrel=1e-13, limit=500)[0]
    integ = BrillouinIntegrator(f, b, divisions=initial_divisions(b, eta, 2 * np.pi))
    res = integ.integrate(lambda v: 1e-7 * np.abs(v))
    assert res.converged
    assert res.value[0] == pytest.approx(exact, rel=1e-6)
    assert abs(res.value[0] - exact) <= 10 * res.error[0]
    # adaptivity: far fewer points than a uniform grid resolving eta everywhere would need
    assert res.n_points < 2e6


def test_three_dimensional_measure():
    b = 2 * np.pi * np.diag([1.0, 0.5, 2.0])

    def f(k):
        s = _reduced(k, b)
        return (1 + 0.3 * np.cos(2 * np.pi * s[:, 2]) + np.sin(2 * np.pi * s[:, 0]))[:, None]

    res = BrillouinIntegrator(f, b, divisions=2).integrate(lambda v: np.full(1, 1e-12))
    assert res.value[0] == pytest.approx(abs(np.linalg.det(b)) / (2 * np.pi) ** 3, rel=1e-12)


def test_budget_exhaustion_reports_unconverged():
    b = 2 * np.pi * np.eye(2)

    def f(k):
        s = _reduced(k, b)
        return (1e-4 / ((np.cos(2 * np.pi * s[:, 0]) - 0.3) ** 2 + 1e-8))[:, None]

    res = BrillouinIntegrator(f, b, divisions=4, max_points=60_000).integrate(
        lambda v: 1e-12 * np.abs(v)
    )
    assert not res.converged and res.exhausted == "max_points"
    assert res.error[0] > 1e-12 * abs(res.value[0])
    # the memory budget: a refinement that would not fit is not evaluated
    small = BrillouinIntegrator(f, b, divisions=4, max_memory=5_000)
    res = small.integrate(lambda v: 1e-12 * np.abs(v))
    assert not res.converged and res.exhausted == "max_memory"
    assert small.n_points < 60_000


def test_initial_divisions_follow_eta_over_v():
    b = 2 * np.pi * np.eye(2)
    coarse = initial_divisions(b, 0.5, 1.0)
    fine = initial_divisions(b, 0.01, 1.0)
    assert coarse[0] < fine[0]
    assert np.all(initial_divisions(b, 1e-9, 1.0) == 48)


def test_response_on_lattice_meets_rtol():
    # the error estimate is honest: a tighter run agrees with the looser one within its estimate
    model = st.models.RashbaLattice(t=1.0, alpha=0.3, delta=1.0)
    loose = st.response(model, ef=-1.0, eta=0.2, rtol=1e-3)
    tight = st.response(model, ef=-1.0, eta=0.2, rtol=1e-5)
    assert loose.attrs["converged"] == 1
    for name in ("current_force", "spin_force", "spin_exchange"):
        diff = np.abs(loose[name] - tight[name]).values
        assert np.all(diff <= loose[f"{name}_error"].values + 1e-12)
        scale = np.max(np.abs(tight[name].sel(part="total").values))
        assert np.max(diff) <= 1e-3 * scale


def test_chern_number_independent_of_lattice_geometry():
    # same hoppings on an oblique lattice: the Hall conductance is topological; a mirrored
    # lattice (det < 0) reverses it. Checks the |det B| measure and the Cartesian velocities.
    qwz = st.models.QWZ(u=-1.0)
    oblique = st.models.TightBinding(
        [[1.0, 0.0], [0.4, 1.3]], qwz.hoppings(), spin_operators=qwz.spin_operators
    )
    mirror = st.models.TightBinding(
        [[1.0, 0.0], [0.0, -1.0]], qwz.hoppings(), spin_operators=qwz.spin_operators
    )
    values = []
    for model in (qwz, oblique, mirror):
        res = st.response(model, ef=0.0, eta=0.02, rtol=1e-5)
        values.append(2 * np.pi * float(res.current_force.sel(part="total", i="x", j="y")))
    assert values[1] == pytest.approx(values[0], abs=1e-3)
    assert values[2] == pytest.approx(-values[0], abs=1e-3)
    assert abs(values[0]) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("null", [True, False])
def test_the_box_error_includes_the_odd_null_rule(monkeypatch, null):
    """f = v^13 in the first box, v = (s_x - 1/16) / (1/16) (odd about the box centre: K15 and
    G7 both exact, K15 - G7 = 0), zero elsewhere: the box error along x is |N_odd| > 0; with
    the null rule's weights zeroed it is zero (the check can fail)."""
    from spintorque.integrate import brillouin
    from spintorque.integrate.rules import GK15, RadialRule

    if not null:
        monkeypatch.setattr(
            brillouin, "GK15", RadialRule(GK15.nodes, GK15.weights, 0 * GK15.null, 0.01)
        )

    def odd_in_first_box(k):
        s = k / (2 * np.pi)
        inside = (s[:, 0] < 1 / 8) & (s[:, 1] < 1 / 8)
        return np.where(inside, ((s[:, 0] - 1 / 16) * 16) ** 13, 0.0)[:, None]

    integrator = BrillouinIntegrator(odd_in_first_box, 2 * np.pi * np.eye(2), divisions=8)
    result = integrator.integrate(lambda value: np.ones_like(value))
    assert abs(result.value[0]) < 1e-15
    d_null = (1 / 16) ** 2 * 2 * abs(GK15.null @ GK15.nodes**13)  # measure 1, sum of K15 = 2
    if null:
        np.testing.assert_allclose(result.error[0], d_null, rtol=1e-12)
    else:
        assert result.error[0] < 1e-15
