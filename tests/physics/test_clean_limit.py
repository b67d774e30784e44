"""The clean limit eta -> 0: intraband coefficient of tau and interband limit, checked against
closed forms (massive Dirac), the finite-eta engine (O(eta) approach) and an independent
Berry-curvature (Fukui-Hatsugai-Suzuki) sum."""

import itertools

import numpy as np
import pytest

import spintorque as st

M_TILT = np.array([0.6, 0.0, 0.8])


def _dirac(delta=0.2, **kw):
    return st.models.DiracSurface(vf=1.0, delta=delta, cutoff=20.0, **kw)


def test_drude_coefficient_closed_form():
    # massive Dirac, m = z, M = delta/2: C_xx = int v_x^2 delta(EF - e) = (EF^2 - M^2) / (4 pi EF)
    ef, mass = 0.3, 0.1
    res = st.response(_dirac(), ef=ef, eta="clean", rtol=1e-6)
    coeff = res.current_force.sel(term="intraband_coefficient")
    assert float(coeff.sel(part="total", i="x", j="x")) == pytest.approx(
        (ef**2 - mass**2) / (4 * np.pi * ef), rel=1e-6
    )
    assert abs(float(coeff.sel(part="total", i="x", j="y"))) < 1e-9
    assert np.all(coeff.sel(part="sea").values == 0)  # no Fermi-sea part of order tau


@pytest.mark.parametrize("ef", [0.3, 0.6, 0.05, -0.05])
def test_intrinsic_hall_closed_form(ef):
    # -(1/2pi) int_occ Omega on the disk: sigma_xy = -(M/2)(1/|EF| - 1/E_c) in a band,
    # -(M/2)(1/M - 1/E_c) in the gap, E_c = sqrt(M^2 + (vF kc)^2)  (units e^2/h)
    mass, e_c = 0.1, np.hypot(0.1, 20.0)
    res = st.response(_dirac(), ef=ef, eta="clean", rtol=1e-6)
    sigma = 2 * np.pi * float(res.current_force.sel(term="interband", part="total", i="x", j="y"))
    expected = -(mass / 2) * (1 / max(abs(ef), mass) - 1 / e_c)
    assert sigma == pytest.approx(expected, rel=2e-5)


def test_finite_eta_approaches_clean_limit_at_rate_eta():
    model = _dirac(mass=2.0)
    clean = st.response(model, ef=0.3, eta="clean", m=M_TILT, rtol=1e-6)
    residuals = []
    etas = (0.02, 0.01, 0.005)
    for eta in etas:
        finite = st.response(model, ef=0.3, eta=eta, m=M_TILT, rtol=1e-6)
        worst = 0.0
        for name in ("spin_exchange", "spin_force", "current_force", "current_exchange"):
            pred = clean[name].sel(term="intraband_coefficient") / (2 * eta) + clean[name].sel(
                term="interband"
            )
            scale = float(
                np.max(np.abs(clean[name].sel(term="interband").values))
            )  # eta-independent
            worst = max(worst, float(np.max(np.abs((finite[name] - pred).values))) / scale)
        residuals.append(worst)
    # the residual Lambda(eta) - C tau - L, in units of the interband block, halves with eta
    assert residuals[-1] < 0.1
    for coarse, fine in itertools.pairwise(residuals):
        assert fine / coarse == pytest.approx(0.5, abs=0.05)


def fhs_berry_sum(model, weights_of_energy, n_mesh=240):
    """-(1/2pi) sum_n sum_plaquettes w(e_n(centre)) F_n: Berry-curvature sum from eigenvector
    link variables (FHS), independent of velocities; F_n = -arg(plaquette) ~ Omega dk^2."""
    b = model.k_domain.reciprocal_vectors
    s = np.arange(n_mesh) / n_mesh
    grid = np.stack(np.meshgrid(s, s, indexing="ij"), -1).reshape(-1, 2)
    m = np.array([0.0, 0.0, 1.0])
    _, vecs = np.linalg.eigh(model.hamiltonian(grid @ b, m))
    centres = np.linalg.eigvalsh(model.hamiltonian((grid + 0.5 / n_mesh) @ b, m)).reshape(
        n_mesh, n_mesh, -1
    )
    total = 0.0
    for band in range(vecs.shape[-1]):
        u = vecs[:, :, band].reshape(n_mesh, n_mesh, -1)

        def link(a, c):
            z = np.sum(np.conj(a) * c, axis=-1)
            return z / np.abs(z)

        lx, ly = link(u, np.roll(u, -1, 0)), link(u, np.roll(u, -1, 1))
        flux = -np.angle(lx * np.roll(ly, -1, 0) / (np.roll(lx, -1, 1) * ly))
        total += np.sum(weights_of_energy(centres[..., band]) * flux)
    return -total / (2 * np.pi)


@pytest.mark.parametrize("u", [-1.0, 3.0])
def test_interband_hall_in_gap_is_minus_chern_number(u):
    model = st.models.QWZ(u=u)
    res = st.response(model, ef=0.0, eta="clean", rtol=1e-6)
    sigma = 2 * np.pi * float(res.current_force.sel(term="interband", part="total", i="x", j="y"))
    chern = fhs_berry_sum(model, lambda e: (e < 0).astype(float), n_mesh=60)
    assert abs(chern - round(chern)) < 1e-9
    assert sigma == pytest.approx(round(chern), abs=1e-6)


def test_interband_hall_in_band_equals_berry_curvature_sum():
    # a metal (EF in the upper band) at temperature T: occupations f_T(e), no extrapolation
    model, ef, temp = st.models.QWZ(u=-1.0), 1.5, 0.1
    res = st.response(model, ef=ef, eta="clean", temperature=temp, rtol=1e-6)
    sigma = 2 * np.pi * float(res.current_force.sel(term="interband", part="total", i="x", j="y"))
    berry = fhs_berry_sum(model, lambda e: 0.5 * (1 - np.tanh(0.5 * (e - ef) / temp)))
    assert sigma == pytest.approx(berry, abs=2e-4)
    assert abs(sigma) > 0.05  # nonzero and far from quantised: a real Fermi-surface case


def test_clean_parameter_errors():
    model = _dirac()
    with pytest.raises(st.ParameterError, match="'clean'"):
        st.response(model, ef=0.3, eta="dirty")
    with pytest.raises(st.ParameterError, match="smearing applies only"):
        st.response(model, ef=0.3, eta=0.1, smearing=0.01)
    with pytest.raises(st.ParameterError, match="smearing must be a positive"):
        st.response(model, ef=0.3, eta="clean", smearing=-1.0)
