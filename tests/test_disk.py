"""Bookkeeping of the disk integrator: component groups, the row store, and that grouping the
error statistics changes neither the mesh nor the result."""

import numpy as np
import pytest

import spintorque as st
from spintorque.analytic import _PointIntegrand
from spintorque.engine import ResponseIntegrand, block_tolerance, disk_geometry, make_integrator
from spintorque.integrate.contours import fermi_curves
from spintorque.integrate.disk import ComponentGroups, DiskIntegrator, _Store


def test_group_max_is_the_largest_entry_of_each_selection_per_last_index():
    rng = np.random.default_rng(3)
    shape = (2, 4, 3, 5)
    selections = ((slice(None), slice(0, 2), slice(0, 3)), (slice(None), slice(2, 4), slice(1, 3)))
    x = rng.normal(size=(7, int(np.prod(shape))))
    got = ComponentGroups(shape, selections).max(x)
    v = x.reshape(7, *shape)
    for g, sel in enumerate(selections):
        for e in range(shape[-1]):
            want = v[(slice(None), *sel, e)].reshape(7, -1).max(axis=1)
            np.testing.assert_array_equal(got[:, g * shape[-1] + e], want)


def test_group_max_over_leading_axes_of_a_strided_view():
    """The integrator passes (P, 3, C) views of its (P, sets, C) sums: the same maxima as
    row by row."""
    rng = np.random.default_rng(5)
    shape = (2, 3, 2, 4)
    selections = ((slice(None), slice(0, 2), slice(None)), (slice(None), slice(2, 3), slice(1, 2)))
    groups = ComponentGroups(shape, selections)
    sums = rng.normal(size=(6, 5, int(np.prod(shape))))
    view = sums[:, 1:4]
    got = groups.max(view)
    assert got.shape == (6, 3, len(selections) * shape[-1])
    for row in range(3):
        np.testing.assert_array_equal(got[:, row], groups.max(np.ascontiguousarray(view[:, row])))


def test_store_sums_survive_compaction():
    rng = np.random.default_rng(4)
    store = _Store()
    rows = np.concatenate(
        [store.append(*(rng.normal(size=(n, 6)) for _ in range(3))) for n in (5, 3, 4)]
    )
    live = rows[[1, 4, 6, 10]]
    weights = rng.normal(size=len(live))
    before = [store.weighted_sum(i, live, weights) for i in range(3)]
    stacked = [np.concatenate([c[i] for c in store.chunks]) for i in range(3)]
    for i in range(3):  # the sums are those of the rows
        np.testing.assert_allclose(before[i], weights @ stacked[i][live], rtol=1e-14)
    new_rows = store.compact(live[::-1])[::-1]  # any order of the live rows
    assert store.n_rows == len(live) and len(store.chunks) == 1
    for i in range(3):
        np.testing.assert_allclose(store.weighted_sum(i, new_rows, weights), before[i], rtol=1e-14)
        np.testing.assert_array_equal(store.chunks[0][i][new_rows], stacked[i][live])


def _integrals(model, m, integrand, wrapped, rtol, mesh_rtol=None):
    """The integrals of ``integrand`` and of its ``wrapped`` form on the mesh for
    ``mesh_rtol`` (default rtol), each block to rtol of its scale."""

    def tolerance(flat):
        value = integrand.energy_first(flat)
        return integrand.from_energy_first(block_tolerance(value, integrand.layout, rtol))

    mesh_rtol = rtol if mesh_rtol is None else mesh_rtol
    return [
        make_integrator(
            model, m, integrand.energies, integrand.eta, f, max_points=10**7, rtol=mesh_rtol
        ).integrate(tolerance)
        for f in (integrand, wrapped)
    ]


class _Ungrouped:
    """The response integrand without its component groups (per-component bookkeeping)."""

    def __init__(self, integrand):
        self.inner, self.width = integrand, integrand.width
        self.product_weights = integrand.product_weights  # the same arithmetic

    def weighted_sums(self, k, weights, angles=1):
        return self.inner.weighted_sums(k, weights, angles)


@pytest.mark.parametrize(
    ("m", "ef"), [((0.6, 0.0, 0.8), np.linspace(-0.3, 0.4, 9)), ((0.0, 0.8, 0.6), 0.25)]
)
def test_grouped_error_bookkeeping_gives_the_same_mesh_and_result(rashba, m, ef):
    """Per-group maxima are all that the scores and rates need: the same cells are refined and
    the same value and error come out as with one statistic per component."""
    m, energies = np.asarray(m), np.atleast_1d(ef)
    integrand = ResponseIntegrand(rashba, m, energies, 0.02)
    grouped, plain = _integrals(rashba, m, integrand, _Ungrouped(integrand), 1e-5, mesh_rtol=1e-6)
    assert grouped.iterations > 0  # the comparison covers refinement
    assert (grouped.n_points, grouped.n_panels) == (plain.n_points, plain.n_panels)
    np.testing.assert_allclose(grouped.value, plain.value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grouped.error, plain.error, rtol=1e-12, atol=1e-20)


def test_a_tolerance_that_differs_within_a_group_is_refused():
    def f(k):
        return np.stack([np.exp(-np.sum(k**2, axis=1)), np.ones(len(k))], axis=1)

    integrand = _PointIntegrand(f, 2)
    integrand.groups = ComponentGroups((2, 1), ((slice(None),),))
    integrator = DiskIntegrator(integrand, cutoff=2.0)
    with pytest.raises(ValueError, match="tolerance differs within component group 0"):
        integrator.integrate(lambda v: np.array([1e-8, 1e-6]))
    result = integrator.integrate(lambda v: np.full(2, 1e-10))  # uniform: accepted
    assert result.converged
    np.testing.assert_allclose(result.value[1], np.pi * 4.0 / (4 * np.pi**2), rtol=1e-10)


def _ring_integral(radius: np.ndarray, width: float, cutoff: float) -> float:
    """int_{|k| < cutoff} sum_j 1/((|k| - r_j)^2 + w^2) d^2k / (2 pi)^2, closed form."""
    a = np.asarray(radius)
    radial = 0.5 * np.log(((cutoff - a) ** 2 + width**2) / (a**2 + width**2)) + (a / width) * (
        np.arctan((cutoff - a) / width) + np.arctan(a / width)
    )
    return float(radial.sum() / (2 * np.pi))


def test_ridges_inside_layers_take_the_31_point_rule_and_integrate_exactly():
    """41 Lorentzian rings half a width apart (a dense EF scan's ridges), breaks at every fifth
    ring: the layers with rings inside use GK31 and the result meets the closed form within
    its estimate, with fewer points than GK15 layers one width apart."""
    width, cutoff = 0.01, 2.0
    rings = 0.5 + 0.5 * width * np.arange(41)

    def f(k):
        r = np.hypot(k[:, 0], k[:, 1])[:, None]
        return (1.0 / ((r - rings) ** 2 + width**2)).sum(axis=1, keepdims=True)

    exact = _ring_integral(rings, width, cutoff)
    wide = DiskIntegrator(
        _PointIntegrand(f, 1), cutoff=cutoff, radial_breaks=rings[::5], ridges=rings
    )
    assert wide.layer_rules.sum() == 8  # the eight layers between the breaks
    result = wide.integrate(lambda v: 1e-10 * np.abs(v))
    assert result.converged
    assert abs(result.value[0] - exact) <= result.error[0] + 1e-14 * exact
    assert abs(result.value[0] - exact) <= 1e-10 * exact
    narrow = DiskIntegrator(_PointIntegrand(f, 1), cutoff=cutoff, radial_breaks=rings[::2])
    assert not narrow.layer_rules.any()
    reference = narrow.integrate(lambda v: 1e-10 * np.abs(v))
    assert abs(reference.value[0] - exact) <= 1e-10 * exact
    assert result.n_points < reference.n_points


@pytest.mark.parametrize(
    ("model", "m", "levels", "dense"),
    [
        ("dirac", (0.6, -0.2, 0.7), [-0.4, 0.1, 0.5], False),
        ("dirac_eps0", (0.6, -0.2, 0.7), [-0.4, 0.1, 0.5], False),
        # contours that cross between levels: the scan is split into nested groups
        ("rashba", (1.0, 0.0, 0.0), [0.45, 0.15, 0.3, 0.35], False),
        # levels half a Lorentzian width apart: GK31 layers between contours a few widths apart
        ("dirac", (0.6, -0.2, 0.7), np.linspace(0.2, 0.3, 11), True),  # circles
        ("rashba", (1.0, 0.0, 0.0), np.linspace(0.3, 0.34, 9), True),  # followed curves
        ("dirac_eps0", (0.6, -0.2, 0.7), np.linspace(0.2, 0.26, 7), True),  # off-centre
    ],
)
def test_a_scan_equals_its_single_points(model, m, levels, dense, request):
    """The engine's component order (energy last) maps back to (nE, part, nL, nR), and the
    groups of levels with nested contours back to the caller's order: each level of a scan
    agrees with a single-point run within the tolerance (isotropic bands about the band
    centre, an off-centre contour followed by a curve, a scan split into groups, dense scans
    whose contours between the kept ones lie inside GK31 layers, which single points have
    not)."""
    from spintorque.engine import level_windows

    model = request.getfixturevalue(model)
    m = np.asarray(m) / np.linalg.norm(m)
    levels = np.asarray(levels, dtype=float)
    rules = [
        make_integrator(
            model,
            m,
            levels[w],
            0.02,
            ResponseIntegrand(model, m, levels[w], 0.02),
            max_points=10**7,
            curves=c,
        ).layer_rules
        for w, c in level_windows(model, m, levels, 0.02)
    ]
    assert any(r.any() for r in rules) or not dense
    scan = st.response(model, ef=levels, eta=0.02, m=m, rtol=1e-6)
    for i, ef in enumerate(levels):
        single = st.response(model, ef=ef, eta=0.02, m=m, rtol=1e-6)
        for name in ("spin_exchange", "current_force", "spin_force"):
            ref = single[name].values
            np.testing.assert_allclose(
                scan[name].isel(ef=i).values, ref, rtol=0, atol=3e-6 * np.abs(ref).max()
            )


def test_the_memory_budget_stops_refinement_before_it_is_exceeded():
    """Stored cells grow as cells x components: a refinement that would take the store over
    max_memory is not evaluated, and the result says so (converged False, "max_memory")."""
    rings = np.array([0.5, 0.9])

    def f(k):
        r = np.hypot(k[:, 0], k[:, 1])[:, None]
        return 1.0 / ((r - rings) ** 2 + 1e-6)  # two narrow rings, two components

    budget = 2_000
    small = DiskIntegrator(_PointIntegrand(f, 2), cutoff=2.0, max_memory=budget)
    result = small.integrate(lambda v: 1e-10 * np.abs(v))
    assert not result.converged and result.exhausted == "max_memory"
    assert small.store.n_rows * small.store.row_bytes <= budget
    full = DiskIntegrator(_PointIntegrand(f, 2), cutoff=2.0).integrate(lambda v: 1e-10 * np.abs(v))
    assert full.converged and full.exhausted == ""
    assert result.n_points < full.n_points


def test_the_default_memory_budget_is_shared_among_pool_workers(monkeypatch):
    from spintorque.integrate import budget

    monkeypatch.setattr(budget, "_workers", 1)
    alone = budget.default_memory_budget()
    assert alone == budget.physical_memory() // 2 > 0
    budget.share_among_workers(4)
    assert budget.default_memory_budget() == budget.physical_memory() // 8
    assert DiskIntegrator(_PointIntegrand(np.ones_like, 1), cutoff=1.0).max_memory == alone // 4


class _OddInLayer:
    """f(k) = u^13 / |k| with u = (|k| - 0.75) / 0.25 for 0.5 < |k| < 1, else 0: with the
    Jacobian r the radial profile of the layer [0.5, 1] is odd about its centre, where every
    symmetric rule (K15, G7, L5) integrates it exactly, so |Q - Q_hi| is zero there and only
    the odd null rule (degree 11) sees it."""

    width = 1

    def weighted_sums(self, k, weights, angles=1):
        r = np.hypot(k[..., 0], k[..., 1])
        f = np.where((r > 0.5) & (r < 1.0), ((r - 0.75) / 0.25) ** 13 / r, 0.0)
        return np.einsum("pq,pqw->pw", f, weights)[..., None]


@pytest.mark.parametrize("null", [True, False])
def test_the_radial_error_includes_the_odd_null_rule(monkeypatch, null):
    """A cell whose integrand is odd about its centre (every symmetric rule exact, Q - Q_hi
    = 0) still gets d_hi = |N_odd| > 0; with the null rule's weights zeroed it gets none (the
    check can fail)."""
    from spintorque.integrate import disk
    from spintorque.integrate.rules import RadialRule

    if not null:
        zero = RadialRule(disk.GK15.nodes, disk.GK15.weights, 0 * disk.GK15.null, 0.01)
        monkeypatch.setattr(disk, "RADIAL_RULES", (zero, disk.GK31))
    integrator = DiskIntegrator(_OddInLayer(), cutoff=2.0, radial_breaks=np.array([0.5, 1.0]))
    result = integrator.integrate(lambda value: np.full(value.shape, 1.0))
    assert abs(result.value[0]) < 1e-15  # exact: the odd part integrates to zero
    d_null = abs(disk.MEASURE * 2 * np.pi * 0.25 * (disk.GK15.null @ disk.GK15.nodes**13))
    if null:
        np.testing.assert_allclose(result.error[0], d_null, rtol=1e-12)
        assert d_null > 1e-6
    else:
        assert result.error[0] < 1e-15


class _OddInAngle:
    """f(k) = v^13 / |k| with v = (phi - pi/4) / (pi/4): odd in the angle about the centre of
    the sector [0, pi/2] (every symmetric rule exact there, K15 - G7 = 0 along the angle)."""

    width = 1

    def weighted_sums(self, k, weights, angles=1):
        r = np.hypot(k[..., 0], k[..., 1])
        v = (np.arctan2(k[..., 1], k[..., 0]) - np.pi / 4) / (np.pi / 4)
        return np.einsum("pq,pqw->pw", v**13 / r, weights)[..., None]


@pytest.mark.parametrize("null", [True, False])
def test_the_angular_error_of_a_sector_includes_the_odd_null_rule(monkeypatch, null):
    """A sector whose integrand is odd in the angle about its centre gets an angular d_hi =
    |N_odd| > 0 (with the null rule's weights zeroed: none)."""
    from spintorque.integrate import disk
    from spintorque.integrate.rules import RadialRule

    if not null:
        zero = RadialRule(disk.GK15.nodes, disk.GK15.weights, 0 * disk.GK15.null, 0.01)
        monkeypatch.setattr(disk, "GK15", zero)
    integrator = DiskIntegrator(_OddInAngle(), cutoff=2.0, radial_breaks=np.array([0.5, 1.0]))
    layer = int(np.flatnonzero(np.isclose(integrator.bounds.on_grid()[:, 0], 0.5))[0])
    one = np.ones(1)
    sector = disk._Cells(
        one.astype(int) * disk.INNER, one.astype(int) * layer, 0 * one, one, 0 * one,
        one * np.pi / 2, one.astype(int) * disk.SECTOR, 0 * one.astype(int),
    )  # fmt: skip
    integrator.store, integrator.groups = _Store(), disk._Each()
    cells = integrator._evaluate(sector)
    assert abs(integrator.store.chunks[0][0][0, 0]) < 1e-15  # exact: zero
    # radial sum of the Jacobian r x 1/r = the layer width 0.5; angular: N_odd on v^13
    d_null = abs(disk.MEASURE * 0.5 * (np.pi / 4) * (disk.GK15.null @ disk.GK15.nodes**13))
    if null:
        np.testing.assert_allclose(cells.ang[0, 0], d_null, rtol=1e-12)
        assert d_null > 1e-6
    else:
        assert cells.ang[0, 0] < 1e-15


def test_graded_layers_take_the_31_point_rule_below_the_graded_rtol():
    """A single Fermi level: at rtol 1e-6 the two graded layers 2-8 widths from the contour
    use GK31 and the first mesh already meets the tolerance (with GK15 there it did not: the
    5-point rule is 5% off in those cells, so their rate is not trusted); at rtol 1e-4 every
    layer keeps GK15."""
    from spintorque.integrate import contours

    model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
    m, ef, eta = np.array([0.6, 0.0, 0.8]), np.array([0.3]), 0.01
    integrand = ResponseIntegrand(model, m, ef, eta)
    _, center, r_max = disk_geometry(model, m)
    curves = fermi_curves(model, m, ef, eta, r_max, center)
    k_f, width = curves.radii[curves.offset == 0][0, 0], curves.widths[curves.offset == 0][0, 0]
    for rtol, n_gk31 in ((1e-6, 2), (1e-4, 0)):
        integrator = make_integrator(model, m, ef, eta, integrand, max_points=10**7, rtol=rtol)
        layers = np.flatnonzero(integrator.layer_rules == 1)
        assert len(layers) == n_gk31
        bounds = integrator.bounds.on_grid()[:, 0]
        for layer in layers:
            offsets = np.sort(np.abs(bounds[[layer, layer + 1]] - k_f) / width)
            np.testing.assert_allclose(offsets, [2.0, 8.0], rtol=0.05)

        def tolerance(flat, rtol=rtol):
            value = integrand.energy_first(flat)
            return integrand.from_energy_first(block_tolerance(value, integrand.layout, rtol))

        result = integrator.integrate(tolerance)
        assert result.converged
        if rtol < contours.GK31_GRADED_RTOL:
            assert result.iterations == 0


class _OneBatchPerCall:
    """The response integrand without ``weighted_sums_batches``: one call per group chunk."""

    def __init__(self, integrand):
        self.inner, self.width, self.groups = integrand, integrand.width, integrand.groups
        self.product_weights = integrand.product_weights

    def weighted_sums(self, k, weights, angles=1):
        return self.inner.weighted_sums(k, weights, angles)


def test_joined_batches_give_the_sums_of_separate_calls(rashba):
    """Cells of different rules evaluated in one call (one diagonalisation for all their
    points) give the same integral, error and mesh as one call per group; the mesh has GK15
    and GK31 rings, sectors and the outer region, so several groups are joined."""
    m, ef = np.array([0.6, 0.0, 0.8]), np.linspace(0.1, 0.3, 9)
    integrand = ResponseIntegrand(rashba, m, ef, 0.02)
    joined, separate = _integrals(rashba, m, integrand, _OneBatchPerCall(integrand), 1e-6)
    assert (joined.n_points, joined.n_panels) == (separate.n_points, separate.n_panels)
    np.testing.assert_allclose(joined.value, separate.value, rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(joined.error, separate.error, rtol=1e-10, atol=1e-20)


class _OneCellPerChunk:
    """The response integrand, claiming so many floats per k point that every evaluation chunk
    holds one cell (and no chunks are joined)."""

    def __init__(self, integrand):
        self.inner, self.groups = integrand, integrand.groups
        self.width, self.product_weights = 10**9, integrand.product_weights

    def weighted_sums(self, k, weights, angles=1):
        return self.inner.weighted_sums(k, weights, angles)


def test_chunked_evaluation_gives_the_same_integral(rashba):
    """Cells evaluated one per call (the smallest memory chunks) give the same integral, error
    and mesh as the default chunks, which join them into few calls."""
    m, ef = np.array([0.6, 0.0, 0.8]), np.linspace(0.1, 0.3, 5)
    integrand = ResponseIntegrand(rashba, m, ef, 0.02)
    default, chunked = _integrals(rashba, m, integrand, _OneCellPerChunk(integrand), 1e-5)
    assert (default.n_points, default.n_panels) == (chunked.n_points, chunked.n_panels)
    # rounding only: matrix products of other shapes sum in another order
    scale = np.abs(default.value).max()
    np.testing.assert_allclose(default.value, chunked.value, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(default.error, chunked.error, rtol=1e-6, atol=1e-13 * scale)
