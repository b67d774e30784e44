"""spintorque.units: every conversion against a hand computation or an exact physical identity."""

import math

import numpy as np
import pytest
import xarray as xr

import spintorque as st
from spintorque import units

# CODATA 2018 literals, typed in by hand (independent of scipy.constants; scipy may use CODATA
# 2022, which differs by ~1e-9, hence rel=1e-8 below)
HBAR_EV_S = 6.582119569e-16  # eV s
MU_B_J_PER_T = 9.2740100783e-24
E2_OVER_H_S = 3.874045865e-5  # e^2/h in S
GAMMA_ELECTRON = 1.76085963023e11  # |gamma_e| in rad s^-1 T^-1
G_ELECTRON = 2.00231930436256


def test_time_unit_is_hbar_over_ev():
    assert units.EV_NM.time == pytest.approx(HBAR_EV_S, rel=1e-9)


def test_force_of_field_by_hand():
    # e E = 1.602e-19 C x 1e7 V/m = 1e7 eV/m = 0.01 eV/nm, and F = -e E
    assert units.EV_NM.force_from_field([1e7, 0.0, 0.0]) == pytest.approx(
        [-0.01, 0.0, 0.0], rel=1e-12
    )


def test_spin_per_area_by_hand():
    s = units.spin_per_area(8e5, 2e-9, 2.0)
    assert s == pytest.approx(8e5 * 2e-9 / (2.0 * MU_B_J_PER_T), rel=1e-8)
    assert units.EV_NM.spin_per_area(s) == pytest.approx(s * 1e-18, rel=1e-12)


def test_gyromagnetic_ratio_of_the_electron():
    assert units.gyromagnetic_ratio(G_ELECTRON) == pytest.approx(GAMMA_ELECTRON, rel=1e-8)


def test_one_millitesla_is_ten_oersted():
    assert units.field_to_oersted(1e-3) == pytest.approx(10.0, rel=1e-9)


def test_sheet_conductance_quantum():
    cf = xr.DataArray(1 / (2 * np.pi))
    out = units.sheet_conductance(xr.Dataset({"current_force": cf}))
    assert float(out.sheet_conductance_e2h) == pytest.approx(1.0, rel=1e-14)
    assert float(out.sheet_conductance) == pytest.approx(E2_OVER_H_S, rel=1e-9)
    assert out.sheet_conductance.attrs["units"] == "S"


def test_gilbert_damping_against_closed_form():
    """alpha_el for an out-of-plane axis vs SPEC sec. 7 exact Dirac-surface formula."""
    vf, delta, ef, eta = 1.0, 0.2, 0.3, 0.02
    ms, t_fm, g = 1e5, 0.5e-9, 2.0
    res = st.response(
        st.models.DiracSurface(vf=vf, delta=delta, cutoff=20.0),
        ef=ef,
        eta=eta,
        m=(0, 0, 1),
        rtol=1e-6,
    )
    alpha = units.gilbert_damping_si(res, ms=ms, thickness=t_fm, g=g)
    hz = delta / 2
    t = (hz**2 - ef**2 + eta**2) / (2 * ef * eta)
    theta = np.pi / 2 - np.arctan(t)
    lam_inplane = (1 + theta * (eta / ef - t)) / (4 * np.pi**2 * vf**2)  # nm^-2
    s_nm2 = ms * t_fm / (g * MU_B_J_PER_T) * 1e-18
    expected = (delta / 2) ** 2 * lam_inplane / s_nm2
    assert float(alpha.sel(part="total", i="x", j="x")) == pytest.approx(expected, rel=1e-5)
    assert alpha.attrs["units"] == "1"


@pytest.fixture(scope="module")
def dirac_sot():
    model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
    kw = dict(ef=0.3, eta=0.02, rtol=1e-6)
    return st.spin_orbit_torque(model, m=(0, 0, 1), field=(1, 0, 0), **kw), st.response(
        model, m=(0, 0, 1), **kw
    )


def test_sot_efficiencies_of_the_dirac_surface(dirac_sot):
    """S = (z x j)/vF exactly: xi_FL = Delta t_c/(hbar vF), xi_DL = (s_yx/s_xx) xi_FL."""
    sot, res = dirac_sot
    t_c = 5e-9
    fields = units.sot_fields(sot, ms=1e6, thickness=1e-9, conductor_thickness=t_c)
    xi_fl = 0.2 * (t_c / 1e-9) / 1.0  # Delta [eV] t_c [nm] / (hbar vF [eV nm])
    sigma = st.conductivity(res).sel(part="total")
    hall = float(sigma.sel(i="y", j="x") / sigma.sel(i="x", j="x"))
    assert float(fields.xi_fieldlike.sel(part="total")) == pytest.approx(xi_fl, rel=1e-9)
    assert float(fields.xi_dampinglike.sel(part="total")) == pytest.approx(hall * xi_fl, rel=1e-6)
    assert fields.p.values == pytest.approx([0, 1, 0])


def test_effective_fields_by_hand(dirac_sot):
    """B = hbar xi J / (2 e Ms t_FM) in mT and Oe, at the reference 1e11 A/m^2."""
    sot, _ = dirac_sot
    ms, t_fm = 1e6, 1e-9
    fields = units.sot_fields(sot, ms=ms, thickness=t_fm, conductor_thickness=5e-9)
    xi = float(fields.xi_fieldlike.sel(part="total"))
    hbar_js = HBAR_EV_S * 1.602176634e-19
    b_mt = 1e3 * hbar_js * xi * 1e11 / (2 * 1.602176634e-19 * ms * t_fm)
    assert float(fields.field_fieldlike_mT.sel(part="total")) == pytest.approx(b_mt, rel=1e-8)
    assert float(fields.field_fieldlike_Oe.sel(part="total")) == pytest.approx(10 * b_mt, rel=1e-8)
    assert fields.field_fieldlike_Oe.attrs["units"] == "Oe"


def test_torkance_per_current_is_per_field_over_conductance(dirac_sot):
    sot, _ = dirac_sot
    t_c = 8e-9
    tk = units.torkance(sot, conductor_thickness=t_c)
    per_field = tk.torkance_fieldlike_per_field.sel(part="total")
    per_j = tk.torkance_fieldlike_per_current_density.sel(part="total")
    ratio = per_field / tk.sheet_conductance_EE * t_c
    assert np.allclose(per_j.values, ratio.values, rtol=1e-12, atol=0)
    # raw torque per raw E (e/nm) -> C/m: x e / 1e-9 m
    raw = sot.torque_fieldlike.sel(part="total")
    assert np.allclose(per_field.values, raw.values * 1.602176634e-19 / 1e-9, rtol=1e-12)
    assert tk.torkance_fieldlike_per_field.attrs["units"] == "C/m"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(ms=0.0, thickness=1e-9, g=2.0), "ms"),
        (dict(ms=-8e5, thickness=1e-9, g=2.0), "ms"),
        (dict(ms=8e5, thickness=0.0, g=2.0), "thickness"),
        (dict(ms=8e5, thickness=1e-9, g=math.nan), "g"),
    ],
)
def test_bad_inputs_name_the_parameter(kwargs, name):
    with pytest.raises(st.ParameterError, match=rf"^{name} must be in \(0, "):
        units.spin_per_area(**kwargs)


def test_parallel_m_and_p_is_refused(dirac_sot):
    sot, _ = dirac_sot
    with pytest.raises(st.ParameterError, match="parallel"):
        units.sot_fields(sot, ms=1e6, thickness=1e-9, conductor_thickness=5e-9, normal=(0, 1, 0))
