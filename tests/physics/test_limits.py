"""Closed-form limits of the engine: Drude, massive-Dirac Hall effect, exact TI-surface damping.

Each test compares the full engine (k integral of the Bastin kernels) with an independent closed
form derived by hand (SPEC.md sec. 6-7).
"""

import numpy as np
import pytest

import spintorque as st


def _tensor(res, block, part="total"):
    return res[block].sel(part=part).values


def _dirac_drude(vf, hz, ef, eta):
    """tau sum_k v_x^2 delta(EF - e_k) for the upper massive-Dirac band (EF > |hz|).

    e = sqrt(vf^2 k^2 + hz^2): kF = sqrt(EF^2 - hz^2)/vf, band velocity v = vf^2 kF / EF;
    int d^2k/(2pi)^2 v^2 cos^2(phi) delta(EF - e) = kF v / (4 pi).
    """
    kf = np.sqrt(ef**2 - hz**2) / vf
    v = vf**2 * kf / ef
    return kf * v / (4 * np.pi) / (2 * eta)


def test_drude_limit_of_the_surface_conductivity():
    """eta Lambda_I[v_x, v_x] -> eta tau sum v^2 delta(EF - e) as eta -> 0 (Richardson in eta)."""
    model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=10.0)
    ef, hz = 0.3, 0.1
    scaled = []
    for eta in (2e-3, 1e-3):
        res = st.response(model, ef=ef, eta=eta, m=(0, 0, 1), rtol=1e-8)
        scaled.append(eta * _tensor(res, "current_force", "surface")[0, 0])
    expect = eta * _dirac_drude(1.0, hz, ef, 1e-3)
    # the O(eta^0) remainder makes eta*Lambda linear in eta: Richardson removes it
    extrapolated = 2 * scaled[1] - scaled[0]
    assert abs(scaled[1] / expect - 1) < 1e-2  # leading order already at eta/EF ~ 3e-3
    # what remains is O((eta/EF)^2) ~ 4e-5
    assert abs(extrapolated / expect - 1) < 1e-4


def test_drude_limit_rashba_two_fermi_circles():
    """Rashba 2DEG with m = z: both spin-split bands contribute tau sum_n v_n^2 delta(EF - e_n)."""
    mass, alpha, delta = 0.5, 0.3, 0.2
    model = st.models.Rashba2DEG(mass=mass, alpha=alpha, delta=delta, cutoff=8.0)
    ef = 0.4
    # e_pm(k) = k^2/(2 mass) +- sqrt(alpha^2 k^2 + (delta/2)^2): Fermi momenta by root finding
    from scipy.optimize import brentq

    def band(k, s):
        return k**2 / (2 * mass) + s * np.sqrt(alpha**2 * k**2 + (delta / 2) ** 2)

    def slope(k, s):
        return k / mass + s * alpha**2 * k / np.sqrt(alpha**2 * k**2 + (delta / 2) ** 2)

    drude = 0.0
    for s in (+1, -1):
        kf = brentq(lambda k: band(k, s) - ef, 1e-9, 5.0)
        drude += kf * slope(kf, s) / (4 * np.pi)  # int d^2k/(2pi)^2 v_x^2 delta = kF v/(4 pi)
    scaled = []
    for eta in (2e-3, 1e-3):
        res = st.response(model, ef=ef, eta=eta, m=(0, 0, 1), rtol=1e-8)
        scaled.append(2 * eta * _tensor(res, "current_force", "surface")[0, 0])
    extrapolated = 2 * scaled[1] - scaled[0]
    assert abs(extrapolated / drude - 1) < 1e-4


@pytest.mark.parametrize("mz", [1.0, -1.0])
def test_massive_dirac_hall_in_the_gap(mz):
    """EF in the exchange gap: sigma_xy = -sign(M) (1 - |M|/E_c)/2 e^2/h with M = Delta mz / 2.

    E_c = sqrt(M^2 + vF^2 kc^2) is the band energy at the cutoff (the occupied band's Berry
    flux inside the disk); corrections are O(eta/|M|).
    """
    vf, delta, cutoff = 1.0, 0.4, 20.0
    model = st.models.DiracSurface(vf=vf, delta=delta, cutoff=cutoff)
    mass = delta * mz / 2
    e_c = np.hypot(mass, vf * cutoff)
    expect = -np.sign(mass) * (1 - abs(mass) / e_c) / 2
    values = []
    for eta in (2e-3, 1e-3):
        res = st.response(model, ef=0.0, eta=eta, m=(0, 0, mz), rtol=1e-8)
        values.append(float(st.conductivity(res).sel(part="total", i="x", j="y")))
    assert abs(values[1] - expect) < 5e-3
    assert abs(2 * values[1] - values[0] - expect) < 2e-5
    # in the gap the Hall response is all Fermi sea (SPEC sec. 7)
    res = st.response(model, ef=0.0, eta=1e-3, m=(0, 0, mz), rtol=1e-8)
    surf = float(st.conductivity(res).sel(part="surface", i="x", j="y"))
    assert abs(surf) < 5e-3


def test_massive_dirac_hall_in_the_band_falls_off_as_m_over_2ef():
    """EF in band: intrinsic sigma_xy = -(M/2)(1/EF - 1/E_c) e^2/h (eta -> 0), M = Delta mz/2."""
    vf, delta, cutoff = 1.0, 0.2, 20.0
    model = st.models.DiracSurface(vf=vf, delta=delta, cutoff=cutoff)
    mass = delta / 2
    e_c = np.hypot(mass, vf * cutoff)
    efs = np.array([0.15, 0.3, 0.6])
    expect = -(mass / 2) * (1 / efs - 1 / e_c)
    sig = {}
    for eta in (2e-3, 1e-3):
        res = st.response(model, ef=efs, eta=eta, m=(0, 0, 1), rtol=1e-8)
        sig[eta] = st.conductivity(res).sel(part="total", i="x", j="y").values
    extrapolated = 2 * sig[1e-3] - sig[2e-3]
    np.testing.assert_allclose(extrapolated, expect, rtol=2e-3)
    # and the exact shape (M / 2EF in e^2/h units) without the cutoff term differs visibly
    assert np.all(np.abs(extrapolated + mass / (2 * efs)) > 1e-4)


def _exact_ti_symmetric(vf, hz, ef, eta):
    """SPEC sec. 7: exact sym Lambda[sigma, sigma] of the TI surface (EF > 0, T = 0, kc -> inf)."""
    t = (hz**2 - ef**2 + eta**2) / (2 * ef * eta)
    theta = np.pi / 2 - np.arctan(t)
    inplane = (1 + theta * (eta / ef - t)) / (4 * np.pi**2 * vf**2)
    zz = (eta * theta / ef + hz**2 * (theta - t / (1 + t**2)) / (ef * eta)) / (4 * np.pi**2 * vf**2)
    return inplane, zz


@pytest.mark.parametrize("ef, eta", [(0.3, 0.02), (0.05, 0.03), (0.5, 0.004)])
def test_exact_ti_surface_symmetric_spin_response(ef, eta):
    """Finite-eta closed form of sym Lambda[sigma, sigma] (m = z) vs the engine.

    The symmetric part is pure Fermi surface (the sea kernel is antisymmetric) and converges
    with the cutoff like eta/(vF kc)^2 ... so a large cutoff reproduces kc -> infinity.
    """
    vf, delta = 1.0, 0.2
    model = st.models.DiracSurface(vf=vf, delta=delta, cutoff=200.0)
    res = st.response(model, ef=ef, eta=eta, m=(0, 0, 1), rtol=1e-7)
    chi = _tensor(res, "spin_exchange") / (delta / 2)  # Lambda[sigma, sigma]
    sym = 0.5 * (chi + chi.T)
    inplane, zz = _exact_ti_symmetric(vf, delta / 2, ef, eta)
    # cutoff remainder of the interband Fermi-surface tail ~ eta / (4 pi^2 vF^2 kc)
    tol = 2 * eta / (4 * np.pi**2 * vf * 200.0)
    assert abs(sym[0, 0] - inplane) < tol + 1e-6 * inplane
    assert abs(sym[1, 1] - inplane) < tol + 1e-6 * inplane
    assert abs(sym[2, 2] - zz) < tol + 1e-6 * zz
