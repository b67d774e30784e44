"""The response() API: labelled output, error estimates, EF/T dimensions, cutoff, user models."""

import itertools

import numpy as np
import pytest
from scipy.integrate import simpson

import spintorque as st
from spintorque.integrate.thermal import minus_fermi_derivative


def unit(v):
    return tuple(np.asarray(v) / np.linalg.norm(v))


BLOCK_NAMES = (
    "spin_exchange",
    "spin_force",
    "current_force",
    "current_exchange",
    "exchange_exchange",
    "exchange_force",
)


def test_dataset_layout_and_attrs(dirac):
    res = st.response(dirac, ef=0.3, eta=0.05, m=(0, 0, 1), rtol=1e-4)
    for name in BLOCK_NAMES:
        assert res[name].dims == ("part", "i", "j")
        assert res[f"{name}_error"].dims == ("part", "i", "j")
    assert list(res.part.values) == ["sea", "surface", "total"]
    assert list(res.i.values) == ["x", "y", "z"]
    np.testing.assert_allclose(
        res.spin_exchange.sel(part="total"),
        res.spin_exchange.sel(part="sea") + res.spin_exchange.sel(part="surface"),
    )
    for key in (
        "eta",
        "m",
        "rtol",
        "conventions",
        "error_estimate",
        "model",
        "model_vf",
        "model_delta",
    ):
        assert key in res.attrs
    assert "sigma not sigma/2" in res.attrs["conventions"]
    # a 2-D model has no current along z
    assert np.all(res.current_force.sel(i="z").values == 0)


@pytest.mark.parametrize("model_name", ["rashba", "dirac_mass"])
def test_error_estimate_is_honest(request, model_name):
    """A loose run's reported error bounds its actual deviation from a much tighter run."""
    if model_name == "dirac_mass":
        model = st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=6.0, mass=2.0)
    else:
        model = request.getfixturevalue(model_name)
    m = (0.6, 0.0, 0.8)
    loose = st.response(model, ef=0.1, eta=0.03, m=m, rtol=1e-3)
    tight = st.response(model, ef=0.1, eta=0.03, m=m, rtol=1e-8)
    assert loose.attrs["error_estimate"] <= 1e-3
    for name in BLOCK_NAMES:
        deviation = np.abs(loose[name] - tight[name]).values
        bound = loose[f"{name}_error"].values + tight[f"{name}_error"].values
        assert np.all(deviation <= bound + 1e-15), name
        scale = np.abs(tight[name].sel(part="total")).max().item()
        assert deviation.max() <= 1e-3 * scale, name


def test_fermi_level_list_equals_single_calls(dirac):
    efs = [-0.05, 0.12, 0.3]
    scan = st.response(dirac, ef=efs, eta=0.03, m=(0.6, 0, 0.8), rtol=1e-7)
    assert scan.spin_force.dims == ("ef", "part", "i", "j")
    for ef in efs:
        single = st.response(dirac, ef=ef, eta=0.03, m=(0.6, 0, 0.8), rtol=1e-7)
        for name in ("spin_force", "spin_exchange", "current_force"):
            scale = np.abs(single[name]).max().item()
            np.testing.assert_allclose(scan[name].sel(ef=ef), single[name], atol=1e-6 * scale)


def test_finite_temperature_equals_smearing_of_zero_temperature_scan(rashba):
    """Lambda(T, mu) = int d eps (-f'_T)(eps - mu) Lambda(0, eps), by Simpson on an EF scan."""
    mu, temp, eta = 0.2, 0.01, 0.03
    hot = st.response(rashba, ef=mu, eta=eta, m=(0, 0, 1), temperature=temp, rtol=1e-6)
    eps = np.linspace(mu - 16 * temp, mu + 16 * temp, 161)
    cold = st.response(rashba, ef=eps, eta=eta, m=(0, 0, 1), rtol=1e-6)
    weight = minus_fermi_derivative(eps - mu, temp)
    for name in ("spin_force", "current_force", "spin_exchange"):
        smeared = simpson(cold[name].values * weight[:, None, None, None], x=eps, axis=0)
        scale = np.abs(hot[name]).max().item()
        np.testing.assert_allclose(hot[name].values, smeared, atol=2e-5 * scale)
    # and temperature visibly matters at this T (the test can fail)
    zero = st.response(rashba, ef=mu, eta=eta, m=(0, 0, 1), rtol=1e-6)
    assert np.abs(zero.spin_force - hot.spin_force).max() > 1e-4 * np.abs(zero.spin_force).max()


def test_temperature_list_adds_a_dimension(rashba):
    res = st.response(rashba, ef=[0.1, 0.2], eta=0.05, temperature=[0.0, 0.02], rtol=1e-4)
    assert res.current_force.dims == ("temperature", "ef", "part", "i", "j")
    single = st.response(rashba, ef=0.2, eta=0.05, temperature=0.02, rtol=1e-4)
    scale = np.abs(single.current_force).max().item()
    np.testing.assert_allclose(
        res.current_force.sel(temperature=0.02, ef=0.2), single.current_force, atol=1e-4 * scale
    )


def test_surface_part_is_cutoff_independent_and_sea_part_converges_as_one_over_cutoff():
    """Fermi-surface parts live at the Fermi contour; the sea part carries an O(1/kc) tail.

    The interband Fermi-surface tail is O(eta/(vF kc)); the Bastin sea part of the TI surface
    with EF in the band is a pure cutoff term (SPEC sec. 7), decaying like Delta/(vF kc).
    """
    ef, eta, m = 0.3, 0.02, (0.6, 0.0, 0.8)
    res = {
        kc: st.response(
            st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=kc), ef=ef, eta=eta, m=m, rtol=1e-8
        )
        for kc in (10.0, 20.0, 40.0)
    }
    surf = {kc: r.spin_force.sel(part="surface").values for kc, r in res.items()}
    scale = np.abs(surf[40.0]).max()
    assert np.abs(surf[10.0] - surf[40.0]).max() < 2 * eta / 10.0 * scale
    sea = {kc: r.spin_exchange.sel(part="sea", i="x", j="y").item() for kc, r in res.items()}
    d1, d2 = sea[10.0] - sea[20.0], sea[20.0] - sea[40.0]
    assert abs(d1) > 1e-3 * abs(sea[40.0])  # the sea part does depend on the cutoff
    assert d1 / d2 == pytest.approx(2.0, rel=0.05)  # ... as 1/kc


class TwoCopies(st.models.BlochModel):
    """A user model: two decoupled copies of a DiracSurface (4 bands), written from scratch."""

    n_bands, dim = 4, 2

    def __init__(self, inner):
        self.inner = inner
        self.k_domain = inner.k_domain
        self.spin_operators = np.array([np.kron(np.eye(2), s) for s in inner.spin_operators])

    def _double(self, ops):
        out = np.zeros((*ops.shape[:-2], 4, 4), dtype=complex)
        out[..., :2, :2] = ops
        out[..., 2:, 2:] = ops
        return out

    def hamiltonian(self, k, m):
        return self._double(self.inner.hamiltonian(k, m))

    def velocity(self, k, m):
        return self._double(self.inner.velocity(k, m))

    def exchange_derivative(self, k, m):
        return self._double(self.inner.exchange_derivative(k, m))


def test_user_model_object_works(dirac):
    m = (0.0, 0.6, 0.8)
    single = st.response(dirac, ef=0.25, eta=0.04, m=m, rtol=1e-7)
    double = st.response(TwoCopies(dirac), ef=0.25, eta=0.04, m=m, rtol=1e-7)
    for name in BLOCK_NAMES:
        scale = np.abs(single[name]).max().item()
        np.testing.assert_allclose(double[name], 2 * single[name], atol=1e-6 * scale)


def test_unconverged_result_warns_or_raises(dirac):
    with pytest.warns(st.ConvergenceWarning, match="not converged"):
        res = st.response(dirac, ef=0.3, eta=0.0005, rtol=1e-9, max_points=1000)
    assert res.attrs["converged"] == 0
    assert res.attrs["error_estimate"] > 1e-9
    with pytest.raises(st.ConvergenceError, match="max_points"):
        st.response(dirac, ef=0.3, eta=0.0005, rtol=1e-9, max_points=1000, on_unconverged="raise")
    # the memory budget names itself (stored cells grow as k points x levels)
    with pytest.warns(st.ConvergenceWarning, match="max_memory=9.31e-05 GiB"):
        res = st.response(dirac, ef=[0.1, 0.2, 0.3], eta=0.0005, rtol=1e-9, max_memory=1e5)
    assert res.attrs["converged"] == 0
    for bad in (-1.0, float("nan"), "big"):
        with pytest.raises(st.ParameterError, match="max_memory"):
            st.response(dirac, ef=0.3, eta=0.01, max_memory=bad)


@pytest.mark.parametrize(
    "model_name, ef, eta, m, rtol",
    [
        # a Lorentzian much narrower than the first mesh: refined from the rate-scaled estimate
        ("dirac", 0.3, 0.002, (0.6, 0.0, 0.8), 1e-5),
        # an EF scan denser than eta: the merged ~2 eta/v cells
        ("dirac", np.linspace(-0.4, 0.4, 41), 0.01, (0.6, 0.0, 0.8), 1e-4),
        # contours far from circular about k0, followed by interpolated curves: Rashba with
        # in-plane m, and a warped surface with EF high in the band
        ("rashba", 0.2, 0.02, (1.0, 0.0, 0.0), 1e-4),
        ("dirac_warped", 0.8, 0.02, (0.6, 0.0, 0.8), 1e-4),
        # off-centre contours (eps0 with in-plane m): cases that caught underestimates next
        # to curves (8 first angles: 1.3x; curves up to the rays' Nyquist harmonic: 3.6x)
        ("dirac_eps0", 0.252, 0.0103, unit((-0.17, -0.98, 0.0)), 1e-6),
        ("dirac_eps0", 0.843, 0.0279, unit((-0.91, 0.36, -0.22)), 1e-5),
        ("dirac_eps0", 0.3935, 0.00954, unit((0.868, -0.0161, -0.496)), 5.5e-6),
        # warped, massive surface: non-circular contours (was 95x underestimated at eta 0.02
        # before the contour's radial range got resolved rings)
        pytest.param("dirac_full", 0.25, 0.04, (0.6, 0.0, 0.8), 1e-4, marks=pytest.mark.slow),
        # 4 bands, blocks that vanish by symmetry (pure quadrature error), tilted m
        ("bhz", 0.5, 0.02, (0.8, 0.0, 0.6), 1e-5),
        # a scan whose contours cross between levels: integrated in nested groups
        ("rashba", [0.15, 0.25, 0.35, 0.45], 0.02, (1.0, 0.0, 0.0), 1e-4),
    ],
)
def test_error_estimate_is_honest_across_regimes(request, model_name, ef, eta, m, rtol):
    """Componentwise: |loose - tight| <= the loose run's estimate (+ the tight one's), up to
    rounding (1e-13 of the block's scale: the estimates cover the quadrature error only, and
    entries that vanish by symmetry differ between two meshes at the 1e-15 level)."""
    model = request.getfixturevalue(model_name)
    loose = st.response(model, ef=ef, eta=eta, m=m, rtol=rtol)
    tight = st.response(model, ef=ef, eta=eta, m=m, rtol=1e-3 * rtol)
    assert loose.attrs["converged"] == 1
    for name in BLOCK_NAMES:
        deviation = np.abs(loose[name] - tight[name]).values
        bound = loose[f"{name}_error"].values + tight[f"{name}_error"].values
        rounding = 1e-13 * np.abs(tight[name].values).max()
        assert np.all(deviation <= bound + rounding), name


@pytest.mark.parametrize("ef", [0.5, [0.2, 0.5]])
def test_finite_temperature_error_covers_the_truncated_energy_window(dirac, ef):
    """T comparable to eta, a response that grows with EF: the smeared value misses the weight of
    -df/d eps beyond the energy grid, and the estimate must include it (it did not: the
    deviation from a 1000x tighter run was 28-49x the estimate, the k integral and the
    trapezoid rule being far more accurate than rtol)."""
    kw = {"ef": ef, "eta": 0.03, "m": (0.6, 0.0, 0.8), "temperature": 0.08}
    loose = st.response(dirac, rtol=1e-6, **kw)
    tight = st.response(dirac, rtol=1e-9, **kw)
    assert loose.attrs["converged"] == 1
    for name in BLOCK_NAMES:
        deviation = np.abs(loose[name] - tight[name]).values
        bound = loose[f"{name}_error"].values + tight[f"{name}_error"].values
        assert np.all(deviation <= bound + 1e-13 * np.abs(tight[name].values).max()), name


def test_both_finite_temperature_routes_agree_and_crossing_contours_take_the_grouped_one(
    dirac, rashba, monkeypatch
):
    """Smearing the kernels before the k sum equals integrating the grid's levels and smearing
    after, within the estimates; with contours that cross between levels (Rashba, in-plane m)
    the grouped route is taken."""
    from spintorque import engine

    kw = {"ef": [0.2, 0.3], "eta": 0.02, "m": (0.6, 0.0, 0.8), "temperature": 0.03, "rtol": 1e-7}
    before = st.response(dirac, **kw)
    monkeypatch.setattr(engine, "SMEAR_BEFORE_K_SUM", False)
    after = st.response(dirac, **kw)
    assert before.attrs["n_kpoints"] != after.attrs["n_kpoints"]  # two routes, two meshes
    for name in BLOCK_NAMES:
        deviation = np.abs(before[name] - after[name]).values
        bound = before[f"{name}_error"].values + after[f"{name}_error"].values
        assert np.all(deviation <= bound + 1e-13 * np.abs(after[name].values).max()), name
    monkeypatch.setattr(engine, "SMEAR_BEFORE_K_SUM", True)

    def refuse(*args):
        raise AssertionError("crossing contours must take the grouped route")

    monkeypatch.setattr(engine, "_smeared_integral", refuse)
    hot = st.response(rashba, ef=0.3, eta=0.05, m=(1, 0, 0), temperature=0.02, rtol=1e-3)
    assert hot.attrs["converged"] == 1


def test_blocks_that_vanish_by_symmetry_converge_with_the_others(bhz):
    """The inversion-symmetric 4-band model: the spin-velocity blocks are zero, so their values
    are quadrature error only, with the absolute size of the other blocks' errors. They are
    held to rtol x TOLERANCE_FLOOR x the largest block (a floor of 1e-9 asked them for ~1e-15
    and the integral ran out of 4.7 M k points); the result is zero within that."""
    from spintorque.engine import TOLERANCE_FLOOR

    res = st.response(bhz, ef=0.5, eta=0.02, m=(0.8, 0.0, 0.6), rtol=1e-7, on_unconverged="raise")
    assert res.attrs["n_kpoints"] < 1_000_000
    overall = max(float(np.abs(res[name].values).max()) for name in BLOCK_NAMES)
    assert np.abs(res["spin_exchange"].values).max() > 0.1 * overall  # not all zero
    for name in ("spin_force", "current_exchange", "exchange_force"):
        assert np.abs(res[name].values).max() <= 1e-7 * TOLERANCE_FLOOR * overall, name
        assert res[f"{name}_error"].values.max() <= 1e-7 * TOLERANCE_FLOOR * overall, name


def test_blocks_option_computes_only_those_blocks_with_the_same_values(dirac):
    m = (0.6, 0.0, 0.8)
    full = st.response(dirac, ef=0.3, eta=0.02, m=m, rtol=1e-7)
    for blocks in ("current_force", ("spin_exchange", "exchange_force")):
        part = st.response(dirac, ef=0.3, eta=0.02, m=m, rtol=1e-7, blocks=blocks)
        names = (blocks,) if isinstance(blocks, str) else blocks
        assert set(part.data_vars) == {*names, *(f"{n}_error" for n in names)}
        assert part.attrs["blocks"] == ",".join(names)
        for name in names:
            scale = np.abs(full[name]).max().item()
            np.testing.assert_allclose(part[name], full[name], rtol=0, atol=1e-7 * scale)
    sigma = st.conductivity(full)
    np.testing.assert_allclose(
        st.conductivity(st.response(dirac, ef=0.3, eta=0.02, m=m, blocks="current_force")),
        sigma,
        rtol=0,
        atol=1e-5 * np.abs(sigma).max().item(),
    )


def test_blocks_option_in_the_clean_limit():
    qwz = st.models.QWZ(u=-1.0)
    kwargs = dict(ef=1.5, eta="clean", m=(0, 0, 1), rtol=1e-3)
    full = st.response(qwz, **kwargs)
    part = st.response(qwz, blocks="current_force", **kwargs)
    assert set(part.data_vars) == {"current_force", "current_force_error"}
    sel = dict(term="interband", part="total", i="x", j="y")
    ref = float(full.current_force.sel(**sel))
    assert abs(float(part.current_force.sel(**sel)) - ref) <= 2e-3 * abs(ref)


@pytest.mark.parametrize("blocks", ["spin", ("current_force", "torque"), (), 3])
def test_blocks_option_rejects_unknown_names(dirac, blocks):
    with pytest.raises(st.ParameterError, match="blocks must"):
        st.response(dirac, ef=0.3, eta=0.05, blocks=blocks)


def test_derived_quantities_name_a_missing_block(dirac):
    res = st.response(dirac, ef=0.3, eta=0.05, rtol=1e-4, blocks="spin_force")
    with pytest.raises(st.ParameterError, match=r"no current_force.*blocks including"):
        st.conductivity(res)
    with pytest.raises(st.ParameterError, match="no exchange_exchange"):
        st.gilbert_damping(res, s_fm=10.0)


def test_thin_annulus_at_the_rashba_band_bottom_matches_radial_quadrature():
    """EF 1e-6 above the minimum of the lower Rashba band (a ring of width 0.002 between the
    ray samples) with eta = 1e-7: the engine against scipy quad along the radius (m = z makes
    the integrand isotropic; its angular average is exact with 8 angles)."""
    from scipy.integrate import quad

    from spintorque.engine import operator_slices
    from spintorque.kernels import eigendata, response_density

    model = st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.02, cutoff=3.0)
    m = np.array([0.0, 0.0, 1.0])
    k = np.linspace(0.2, 0.3, 200001)
    e = np.linalg.eigvalsh(model.hamiltonian(np.c_[k, 0 * k], m))[:, 0]
    ef, eta = e.min() + 1e-6, 1e-7
    res = st.response(model, ef=ef, eta=eta, m=m, rtol=1e-6, blocks="current_force")
    phis = np.arange(8) * np.pi / 4
    left, right = operator_slices(2)

    def radial(kr):
        pts = np.c_[kr * np.cos(phis), kr * np.sin(phis)]
        dens = response_density(eigendata(model, pts, m), [ef], eta)[:, 0, 1]  # surface part
        return dens[:, left["velocity"], right["velocity"]][:, 0, 0].mean() * kr / (2 * np.pi)

    roots = k[np.flatnonzero(np.diff(np.sign(e - ef)))]
    assert len(roots) == 2  # an annulus
    edges = [0.0, roots[0] - 0.01, roots[0], roots[1], roots[1] + 0.01, model.cutoff]
    exact = sum(
        quad(radial, a, b, limit=2000, epsabs=0, epsrel=1e-10)[0]
        for a, b in itertools.pairwise(edges)
    )
    value = float(res.current_force.sel(part="surface", i="x", j="x"))
    error = float(res.current_force_error.sel(part="surface", i="x", j="x"))
    assert abs(value - exact) <= error + 1e-9 * abs(exact)
    assert abs(value - exact) <= 1e-6 * abs(exact)
