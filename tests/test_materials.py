"""Material presets: values against published numbers, validity, errors."""

import math

import pytest

import spintorque as st
from spintorque import materials
from spintorque.dynamics import Magnet

MU0 = 4e-7 * math.pi * (1 + 5.5e-10)  # mu0 to 1e-9 (CODATA 2018)


def test_bi2se3_velocity_and_cutoff():
    # hbar vF for vF = 5e5 m/s: 6.582e-16 eV s x 5e5 m/s = 3.291e-10 eV m = 0.3291 eV nm
    assert materials.BI2SE3.vf == pytest.approx(0.3291, rel=1e-3)
    assert materials.BI2SE3.vf * materials.BI2SE3.cutoff == pytest.approx(0.3, rel=1e-12)
    model = materials.BI2SE3.model()
    assert isinstance(model, st.models.DiracSurface)
    assert model.delta == materials.BI2SE3.delta


@pytest.mark.parametrize(
    ("preset", "mu0_ms_tesla", "rel"),
    [
        (materials.YIG, 0.175, 0.02),  # 4 pi Ms = 1750 G
        (materials.PERMALLOY, 1.005, 0.01),  # Ms = 8.0e5 A/m
        (materials.EUS, 1.535, 0.01),  # 7 mu_B per Eu, a = 5.968 A: 1.2216e6 A/m
    ],
)
def test_magnetizations(preset, mu0_ms_tesla, rel):
    assert MU0 * preset.ms == pytest.approx(mu0_ms_tesla, rel=rel)


def test_every_preset_cites_a_source_and_builds_a_magnet():
    for mat in materials.FERROMAGNETS.values():
        assert mat.sources and all(len(s) > 20 for s in mat.sources)
        magnet = Magnet.from_material(mat)
        assert magnet.ms == mat.ms and magnet.thickness == mat.thickness
    assert materials.BI2SE3.sources


def test_cofeb_is_perpendicular():
    mat = materials.COFEB
    assert mat.anisotropy_field - MU0 * mat.ms > 0  # B_K,eff > 0 for a film


def test_lookup_errors_list_choices():
    with pytest.raises(st.ParameterError, match=r"unknown ferromagnet 'iron'.*permalloy"):
        materials.ferromagnet("iron")
    assert materials.ferromagnet("CoFeB") is materials.COFEB
    with pytest.raises(st.ParameterError, match="ms must be in"):
        materials.FerromagnetMaterial(name="x", ms=-1.0, g=2.0, alpha0=0.0, thickness=1e-9)
