"""Break curves r = b(phi) of the disk integrator: interpolation, nesting, exact mapping, and
the Fermi-contour curves that follow non-circular contours."""

import itertools

import numpy as np
import pytest

import spintorque as st
from spintorque.analytic import _PointIntegrand
from spintorque.integrate import contours
from spintorque.integrate.contours import fermi_curves
from spintorque.integrate.curves import BAND_LIMIT, BreakCurves, nest, ray_angles
from spintorque.integrate.disk import MEASURE, DiskIntegrator
from spintorque.kernels import band_energies


def wavy(phi, base=1.0):
    """A band-limited curve (harmonics below BAND_LIMIT): its interpolant is exact."""
    return base + 0.2 * np.cos(3 * phi) + 0.1 * np.sin(5 * phi - 0.3) + 0.05 * np.cos(7 * phi)


def test_interpolant_is_exact_on_the_rays_and_for_band_limited_curves():
    curves = BreakCurves(np.stack([wavy(ray_angles()), np.full(32, 0.7)]))
    assert curves.tail()[0] < 1e-14
    np.testing.assert_allclose(curves.at(ray_angles(), np.array([0, 1])), curves.radii, atol=1e-14)
    phi = np.random.default_rng(1).uniform(0, 2 * np.pi, 500)
    np.testing.assert_allclose(curves.at(phi, np.array([0]))[0], wavy(phi), atol=1e-13)
    np.testing.assert_array_equal(curves.at(phi, np.array([1]))[0], 0.7)
    # per-cell angles (P, nA) give the same values
    both = curves.at(np.stack([phi, phi]), np.array([0, 1]))
    np.testing.assert_allclose(both[0], wavy(phi), atol=1e-13)
    assert list(curves.circular) == [False, True]
    # harmonics from BAND_LIMIT on are dropped, and tail() says by how much
    rough = BreakCurves((wavy(ray_angles()) + 0.01 * np.cos(BAND_LIMIT * ray_angles()))[None])
    np.testing.assert_allclose(rough.at(phi, np.array([0]))[0], wavy(phi), atol=1e-13)
    np.testing.assert_allclose(rough.tail(), [0.01], rtol=1e-12)


def test_nest_keeps_a_nested_set_by_priority():
    phi = ray_angles()
    radii = np.stack(
        [
            np.full(32, 1.0),  # 0: circle, top priority
            1.0 + 0.3 * np.cos(phi),  # 1: crosses circle 0 -> dropped
            1.5 + 0.1 * np.cos(2 * phi),  # 2: kept
            np.full(32, 1.55),  # 3: within the width 0.1 of curve 2 somewhere -> dropped
            np.full(32, 2.5),  # 4: kept
            np.full(32, 3.5),  # 5: outside r_max -> dropped
        ]
    )
    widths = BreakCurves(np.full_like(radii, 0.1))
    kept = nest(BreakCurves(radii), widths, np.array([3, 2, 2, 1, 0, 3]), r_max=3.0)
    np.testing.assert_array_equal(kept.radii, radii[[0, 2, 4]])
    grid = kept.on_grid()
    assert np.all(np.diff(grid, axis=0) >= 0.1 - 1e-12)


@pytest.mark.parametrize("center", [(0.0, 0.0), (0.3, -0.2)])
def test_curved_layers_integrate_a_gaussian_exactly(center):
    """The mapping r = b_lo + u (b_hi - b_lo) between wavy curves is an exact change of
    variables: a Gaussian off the polar centre integrates to its closed form."""
    centre = np.asarray(center)
    k1, s = np.array([0.4, 0.25]), 0.3

    def gaussian(k):
        return np.exp(-np.sum((k - k1) ** 2, axis=1) / s**2)[:, None]

    phi = ray_angles()
    curves = BreakCurves(np.stack([0.5 * wavy(phi, 0.6), wavy(phi, 1.4)]))
    integrator = DiskIntegrator(
        _PointIntegrand(gaussian, 1), cutoff=6.0, center=centre, radial_breaks=curves
    )
    assert len(integrator.bounds) >= 4 and not np.all(integrator.bounds.circular)
    result = integrator.integrate(lambda v: 1e-11 * np.abs(v))
    exact = np.pi * s**2 * MEASURE
    assert result.converged
    assert abs(result.value[0] - exact) <= max(result.error[0], 1e-15) + 1e-13
    assert abs(result.value[0] - exact) <= 1e-10 * exact


def test_fermi_curves_follow_the_non_circular_rashba_contours():
    """Rashba with in-plane m: the two Fermi contours are not circles about the band-touching
    point; between the rays the interpolated Fermi curves stay on the contour to within 1% of
    the Lorentzian width."""
    model = st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=6.0)
    m, ef, eta = np.array([1.0, 0.0, 0.0]), 0.2, 0.02
    center = np.asarray(model.band_center(m))
    r_max = 6.0 - np.hypot(*center)
    curves = fermi_curves(model, m, np.array([ef]), eta, r_max, center).breaks(r_max)
    shaped = np.flatnonzero(~curves.circular)
    assert len(shaped) >= 2
    phi = np.linspace(0, 2 * np.pi, 997, endpoint=False)
    radius = curves.at(phi, shaped)
    k = center + radius[..., None] * np.stack([np.cos(phi), np.sin(phi)], -1)
    bands = band_energies(model.hamiltonian(k.reshape(-1, 2), m)).reshape(*radius.shape, 2)
    deviation = np.abs(bands - ef).min(axis=-1).max(axis=-1)  # worst angle, nearest band
    on_contour = deviation < 0.01 * eta
    assert on_contour.sum() == 2  # one Fermi curve per band


@pytest.mark.parametrize(
    "model, ef, eta, m",
    [
        (
            st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=6.0),
            0.2,
            0.05,
            (1.0, 0.0, 0.0),
        ),
        (
            st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=3.0, mass=2.0, warping=0.15),
            0.8,
            0.02,
            (0.6, 0.0, 0.8),
        ),
    ],
    ids=["rashba_in_plane", "warped"],
)
def test_contour_following_agrees_with_circular_rings_and_sectors(monkeypatch, model, ef, eta, m):
    """Two routes through the same integral: curves along the contours, and (following
    switched off) circles with angular sectors; they agree within their error estimates."""
    kw = dict(ef=ef, eta=eta, m=m, rtol=1e-6)
    following = st.response(model, **kw)
    monkeypatch.setattr(contours, "FOLLOW_CONTOURS", False)
    rings = st.response(model, **kw)
    assert following.attrs["converged"] == rings.attrs["converged"] == 1
    assert following.attrs["n_kpoints"] < rings.attrs["n_kpoints"]
    for name in ("spin_exchange", "spin_force", "current_force", "current_exchange"):
        deviation = np.abs(following[name] - rings[name]).values
        bound = following[f"{name}_error"].values + rings[f"{name}_error"].values
        assert np.all(deviation <= bound + 1e-14), name


def _crossing(a: np.ndarray, b: np.ndarray) -> bool:
    diff = a - b
    return bool(diff.max() > 0 and diff.min() < 0)


def test_levels_are_grouped_so_that_their_fermi_contours_nest():
    """Rashba with in-plane m: the two bands' contours are off-centre in opposite directions, so
    a contour of one level crosses contours of other levels. Each group of levels has nested
    contours only, and each new group starts because its first level crosses the group before
    (greedy, in ascending energy). Circular contours (isotropic Dirac) stay one group."""
    model = st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=6.0)
    m, efs = np.array([1.0, 0.0, 0.0]), np.linspace(0.0, 0.5, 11)
    center = np.asarray(model.band_center(m))
    r_max = 6.0 - np.hypot(*center)
    m_rashba, center_rashba = m, center
    curves = contours.fermi_curves(model, m, efs, 0.02, r_max, center)
    windows = contours.nested_windows(curves, efs[::-1])
    assert len(windows) > 1
    assert sorted(np.concatenate(windows)) == list(range(len(efs)))
    fermi = curves.priority == 3
    grid, level = BreakCurves(curves.radii[fermi]).on_grid(), curves.level[fermi]
    energies = efs[::-1]
    for w, window in enumerate(windows):
        inside = np.isin(level, energies[window])
        if w:  # groups are consecutive in energy
            assert energies[windows[w - 1]].max() < energies[window].min()
        for i, j in itertools.combinations(np.flatnonzero(inside), 2):
            assert level[i] == level[j] or not _crossing(grid[i], grid[j])
        if w:  # the group starts at a level that crosses the previous group
            first = np.flatnonzero(level == energies[window].min())
            before = np.flatnonzero(np.isin(level, energies[windows[w - 1]]))
            assert any(_crossing(grid[i], grid[j]) for i in first for j in before)
    dirac = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
    m = np.array([0.6, 0.0, 0.8])
    center = np.asarray(dirac.band_center(m))
    levels = np.linspace(-0.5, 0.5, 200)
    circles = contours.fermi_curves(dirac, m, levels, 0.01, 20.0 - np.hypot(*center), center)
    assert len(contours.nested_windows(circles, levels)) == 1
    # the curves of a subset of levels are those computed for that subset alone
    sub = contours.fermi_curves(model, m_rashba, efs[3:6], 0.02, r_max, center_rashba)
    again = curves.of_levels(efs[3:6])
    np.testing.assert_array_equal(sub.radii, again.radii)
    np.testing.assert_array_equal(sub.level, again.level)


@pytest.mark.parametrize(
    ("m", "levels"),
    [((0.6, 0.0, 0.8), np.linspace(0.25, 0.45, 41)), ((1.0, 0.0, 0.0), np.linspace(0.3, 0.5, 41))],
    ids=["circles", "curves"],
)
def test_a_dense_scan_puts_breaks_on_contours_a_few_widths_apart(monkeypatch, m, levels):
    """Levels denser than eta: inside the range of their contours only contours are break
    curves (graded curves are dropped), no two nearer than dense_cell_widths x w; the contours
    in between are ridges, more than a width from every break. A single level keeps the mesh
    it has without the dense merge (no ridge, same breaks)."""
    model = st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=6.0)
    m, eta = np.asarray(m), 0.02
    center = np.asarray(model.band_center(m))
    r_max = 6.0 - np.hypot(*center)
    curves = fermi_curves(model, m, levels, eta, r_max, center)
    rtol = 1e-6
    breaks, is_contour = curves.breaks(r_max, rtol), curves.offset == 0
    ridges = curves.ridges(breaks)
    assert len(ridges) > 0
    contour_rows = {row.tobytes() for row in curves.radii[is_contour]}
    mean = breaks.radii.mean(axis=1)
    width = curves.widths[is_contour].min()
    checked = 0
    for band_lo, band_hi in _contour_ranges(curves):
        inside = (mean > band_lo + 1e-12) & (mean < band_hi - 1e-12)
        checked += inside.sum()
        assert all(row.tobytes() in contour_rows for row in breaks.radii[inside])
        gaps = np.diff(mean[inside])
        assert np.all(gaps >= (1 - 1e-6) * contours.dense_cell_widths(rtol) * width)
    assert checked >= 4
    gap = np.abs(ridges.radii[:, None] - breaks.radii[None]).mean(axis=2).min(axis=1)
    assert np.all(gap > width)
    single = fermi_curves(model, m, levels[:1], eta, r_max, center)
    one = single.breaks(r_max)
    assert len(single.ridges(one)) == 0
    monkeypatch.setattr(contours, "DENSE_CELL_WIDTHS", ((0.0, contours.MIN_CELL_WIDTHS),))
    np.testing.assert_array_equal(single.breaks(r_max).radii, one.radii)


def _contour_ranges(curves):
    """(lo, hi) mean radii spanned by each band's contours (bands: contours of one level sorted
    by radius, the j-th of each level)."""
    mean = curves.radii[curves.offset == 0].mean(axis=1)
    level = curves.level[curves.offset == 0]
    per_level = [np.sort(mean[level == lv]) for lv in np.unique(level)]
    n = min(len(p) for p in per_level)
    return [(min(p[j] for p in per_level), max(p[j] for p in per_level)) for j in range(n)]


def test_more_graded_offsets_keep_contour_priority_and_the_result(monkeypatch):
    """A fourth graded offset: the graded curves rank below the contours (priority 3 marks
    them) by distance, and the response agrees with the default mesh's within the estimates."""
    model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
    m, ef, eta = np.array([0.6, 0.0, 0.8]), 0.3, 0.02
    default = st.response(model, ef=ef, eta=eta, m=m, rtol=1e-6)
    monkeypatch.setattr(contours, "GRADED_OFFSETS", np.array([2.0, 8.0, 32.0, 128.0]))
    curves = fermi_curves(model, m, np.array([ef]), eta, 19.0, np.zeros(2))
    graded = np.isfinite(curves.offset) & (curves.offset != 0)
    assert np.all(curves.priority[curves.offset == 0] == 3)
    for offset, rank in zip((2.0, 8.0, 32.0, 128.0), (2, 1, 0, -1), strict=True):
        assert np.all(curves.priority[graded & (np.abs(curves.offset) == offset)] == rank)
    finer = st.response(model, ef=ef, eta=eta, m=m, rtol=1e-6)
    for block in ("spin_exchange", "current_force"):
        bound = default[f"{block}_error"] + finer[f"{block}_error"]
        assert np.all(np.abs(default[block] - finer[block]) <= bound + 1e-15)


@pytest.mark.parametrize("levels", [np.array([0.3]), np.linspace(-0.5, 0.5, 200)])
def test_isotropic_bands_are_searched_on_one_ray(monkeypatch, levels):
    """A Dirac cone about its (shifted) centre is isotropic: its crossings, found on one ray and
    copied, equal those the search on all 32 rays finds (to rounding of the regula falsi)."""
    model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
    m = np.array([0.6, 0.0, 0.8])
    center, r_max = model.band_center(m), 20.0 - np.hypot(*model.band_center(m))
    searched = []
    original = contours.isotropic_energies
    monkeypatch.setattr(
        contours,
        "isotropic_energies",
        lambda *a: searched.append(original(*a) is not None) or original(*a),
    )
    one_ray = fermi_curves(model, m, levels, 0.01, r_max, center)
    monkeypatch.setattr(contours, "isotropic_energies", lambda *a: None)
    every_ray = fermi_curves(model, m, levels, 0.01, r_max, center)
    assert searched == [True]
    assert len(one_ray.radii) == len(every_ray.radii) > 0
    np.testing.assert_allclose(one_ray.radii, every_ray.radii, rtol=1e-12, atol=1e-12 * r_max)
    np.testing.assert_allclose(one_ray.widths, every_ray.widths, rtol=1e-9)
    for name in ("priority", "level", "offset"):
        np.testing.assert_array_equal(getattr(one_ray, name), getattr(every_ray, name))
