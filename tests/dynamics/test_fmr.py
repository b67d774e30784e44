"""FMR ring-down: fitted damping vs the tensor from direct engine calls; paper claim (ii)."""

import math

import numpy as np
import pytest

import spintorque as st
from spintorque.dynamics import (
    Macrospin,
    Magnet,
    damping_anisotropy,
    fit_ringdown,
    local_system,
    ringdown,
)
from spintorque.units import gilbert_damping_si

MAGNET = Magnet(ms=2e4, thickness=0.5e-9, g=2.0)  # small s_FM: alpha_el ~ 0.006-0.01


def _direct_alpha(model, settings, axis):
    """derived.damping_for_axis of units.gilbert_damping_si at m = axis (no table, no LLG)."""
    res = st.response(model, ef=settings.ef, eta=settings.eta, m=axis, rtol=settings.rtol)
    alpha = gilbert_damping_si(res, ms=MAGNET.ms, thickness=MAGNET.thickness, g=MAGNET.g)
    return float(st.damping_for_axis(alpha.sel(part="total"), axis))


@pytest.mark.parametrize("axis", [(0.0, 0.0, 1.0), (1.0, 0.0, 0.0), (0.6, 0.0, 0.8)])
def test_ringdown_decay_equals_tensor_damping(dirac_model, settings, axis):
    system = local_system(Macrospin(MAGNET), dirac_model, settings, axis, 0.05)
    out = ringdown(system, axis, field=0.1, cone_angle=0.05, periods=12, rtol=1e-9)
    expected = _direct_alpha(dirac_model, settings, axis)
    assert float(out.alpha_fit) == pytest.approx(expected, rel=1e-2)
    # the gyromagnetic correction a/(1+b) is resolved well beyond that
    assert float(out.alpha_fit) == pytest.approx(float(out.alpha_ringdown_predicted), rel=2e-3)
    assert out.linewidth_field.attrs["units"] == "mT"


def test_fit_recovers_a_known_ringdown():
    gamma_true, omega_true = 3e7, 2 * math.pi * 4e9
    t = np.linspace(0, 5e-9, 4001)
    theta = 2 * np.arctan(np.tan(0.02) * np.exp(-gamma_true * t))
    m = np.stack(
        [
            np.sin(theta) * np.cos(omega_true * t),
            np.sin(theta) * np.sin(omega_true * t),
            np.cos(theta),
        ],
        1,
    )
    fit = fit_ringdown(m, t, (0, 0, 1))
    assert fit["decay_rate"] == pytest.approx(gamma_true, rel=1e-9)
    assert fit["angular_frequency"] == pytest.approx(omega_true, rel=1e-9)


def _closed_form(hz, vf, ef, eta):
    """SPEC sec. 7: exact symmetric Lambda[sigma, sigma] (in-plane, zz) of the Dirac surface."""
    t = (hz**2 - ef**2 + eta**2) / (2 * ef * eta)
    theta = math.pi / 2 - math.atan(t)
    inplane = (1 + theta * (eta / ef - t)) / (4 * math.pi**2 * vf**2)
    zz = (eta * theta / ef + hz**2 * (theta - t / (1 + t**2)) / (ef * eta)) / (
        4 * math.pi**2 * vf**2
    )
    return inplane, zz


def test_damping_anisotropy_against_closed_form(dirac_model, settings):
    """alpha(x)/alpha(z) = (L_in(0) + L_zz(0)) / (2 L_in(Delta/2)), -> 1/2 for EF >> Delta."""
    efs = [0.3, 0.6]
    out = damping_anisotropy(
        dirac_model, MAGNET, efs, eta=settings.eta, rtol=1e-6, ringdown_fit=False
    )
    for ef, ratio in zip(efs, out.ratio_in_out.values, strict=True):
        in_0, zz_0 = _closed_form(0.0, 1.0, ef, settings.eta)
        in_z, _ = _closed_form(0.1, 1.0, ef, settings.eta)
        assert ratio == pytest.approx(0.5 * (in_0 + zz_0) / in_z, rel=1e-5)
    assert np.all(np.abs(out.ratio_in_out.values - 0.5) < 0.1)
    assert np.allclose(out.ratio_clean_limit, [e**2 / (2 * (e**2 - 0.01)) for e in efs])


@pytest.mark.slow
def test_damping_anisotropy_ringdown_fits(dirac_model, settings):
    out = damping_anisotropy(dirac_model, MAGNET, [0.3], eta=settings.eta, rtol=1e-6, periods=10)
    assert float(out.ratio_fit_in_out[0]) == pytest.approx(float(out.ratio_in_out[0]), rel=1e-2)


def test_ringdown_refuses_a_non_equilibrium_axis():
    magnet = Magnet(ms=8e5, thickness=2e-9, demag_factors=(0, 0, 1))  # mu0 Ms = 1 T > field
    with pytest.raises(st.ParameterError, match="not a stable equilibrium"):
        ringdown(Macrospin(magnet), (0, 0, 1), field=0.1)
    with pytest.raises(st.ParameterError, match=r"^cone_angle must be in \(0, 0.5\) rad"):
        ringdown(Macrospin(magnet), (1, 0, 0), field=0.1, cone_angle=1.0)
