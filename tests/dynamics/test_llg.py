"""Macrospin LLG: conservation laws, analytic solutions, dissipation, input errors."""

import math

import numpy as np
import pytest

import spintorque as st
from spintorque.dynamics import (
    Drive,
    Electrons,
    Macrospin,
    Magnet,
    Segment,
    crossing_event,
    integrate,
)
from spintorque.dynamics.llg import cross, solve3

GAMMA = 2.0 * 9.2740100783e-24 / 1.054571817e-34  # g = 2, by hand (CODATA 2018)


def test_larmor_precession_is_exact():
    """alpha = 0, B along z: m(t) = (cos wt, sin wt, 0) with w = gamma B (counter-clockwise)."""
    system = Macrospin(Magnet(ms=8e5, thickness=2e-9, g=2.0))
    b = 0.1
    ds = integrate(
        system,
        (1.0, 0.0, 0.0),
        Segment(1e-9, Drive(field=(0, 0, b))),
        dt=5e-12,
        rtol=1e-11,
        atol=1e-13,
    )
    w = GAMMA * b
    t = ds.time.values
    expected = np.stack([np.cos(w * t), np.sin(w * t), 0 * t], axis=1)
    assert np.max(np.abs(ds.m.values - expected)) < 1e-7


def test_gilbert_damping_analytic_solution():
    """tan(theta/2) = tan(theta0/2) exp(-alpha w t), phi = w t, w = gamma B / (1 + alpha^2)."""
    alpha, b, theta0 = 0.05, 0.2, 0.5
    system = Macrospin(Magnet(ms=8e5, thickness=2e-9, g=2.0, alpha0=alpha))
    m0 = (math.sin(theta0), 0.0, math.cos(theta0))
    ds = integrate(
        system, m0, Segment(2e-9, Drive(field=(0, 0, b))), dt=5e-12, rtol=1e-11, atol=1e-13
    )
    w = GAMMA * b / (1 + alpha**2)
    t = ds.time.values
    theta = 2 * np.arctan(math.tan(theta0 / 2) * np.exp(-alpha * w * t))
    expected = np.stack(
        [np.sin(theta) * np.cos(w * t), np.sin(theta) * np.sin(w * t), np.cos(theta)], axis=1
    )
    assert np.max(np.abs(ds.m.values - expected)) < 1e-7


def test_energy_conserved_without_damping():
    magnet = Magnet(
        ms=8e5,
        thickness=2e-9,
        g=2.1,
        anisotropy_field=0.3,
        anisotropy_axis=(1, 1, 0),
        demag_factors=(0.1, 0.2, 0.7),
    )
    ds = integrate(
        Macrospin(magnet),
        (0.3, -0.5, 0.8),
        Segment(2e-9, Drive(field=(0.02, -0.05, 0.1))),
        dt=2e-12,
        rtol=1e-11,
        atol=1e-13,
    )
    e = ds.energy_density.values
    assert np.ptp(e) < 1e-8 * np.max(np.abs(e))
    assert np.max(np.abs(ds.norm_error.values)) < 1e-9


def test_gyromagnetic_electron_term_conserves_energy(synthetic):
    """An antisymmetric X (w x . ) renormalises gamma only: no dissipation."""
    w = np.array([0.02, -0.01, 0.03])

    def antisym(m):
        mat = np.array([[0, -w[2], w[1]], [w[2], 0, -w[0]], [-w[1], w[0], 0]])
        return np.broadcast_to(mat, (len(m), 3, 3))

    magnet = Magnet(ms=8e5, thickness=2e-9, anisotropy_field=0.2)
    s_raw = magnet.spin_per_area * 1e-18
    table = synthetic(x=lambda m: antisym(m) * s_raw)
    ds = integrate(
        Macrospin(magnet, Electrons(table)),
        (0.6, 0.0, 0.8),
        Segment(2e-9, Drive(field=(0.05, 0, 0))),
        dt=2e-12,
        rtol=1e-11,
        atol=1e-13,
    )
    e = ds.energy_density.values
    assert np.ptp(e) < 1e-8 * np.max(np.abs(e))


def test_implicit_equation_solved_exactly(dirac_table):
    """The returned dm/dt satisfies the implicit LLG (with X . dm/dt inside) to round-off."""
    magnet = Magnet(ms=2e4, thickness=0.3e-9, alpha0=0.01, anisotropy_field=0.1)
    system = Macrospin(magnet, Electrons(dirac_table))
    drive = Drive(field=(0.01, 0.02, 0.05), electric_field=(2e6, -1e6, 0.0))
    rng = np.random.default_rng(3)
    m = rng.normal(size=(5, 3))
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    v = system.rate(m, drive)
    tensors = dirac_table(m)
    s_raw = magnet.spin_per_area * 1e-18
    force = -np.array([2e6, -1e6, 0.0]) * 1e-9  # F = -e E in eV/nm
    dhdm = np.einsum("nab,nb->na", tensors[:, 0], v) * 6.582119569e-16 + np.einsum(
        "naj,j->na", tensors[:, 1], force
    )
    rhs = (
        -magnet.gamma * np.cross(m, magnet.effective_field(m, drive.field))
        + magnet.alpha0 * np.cross(m, v)
        + np.cross(m, dhdm) / (s_raw * 6.582119569e-16)
    )
    assert np.max(np.abs(v - rhs)) < 1e-9 * np.max(np.abs(v))
    assert np.max(np.abs(np.sum(v * m, axis=1))) < 1e-9 * np.max(np.abs(v))


def test_solve3_against_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(20, 3, 3)), rng.normal(size=(20, 3))
    assert np.allclose(
        solve3(a, b), np.linalg.solve(a, b[..., None])[..., 0], rtol=1e-10, atol=1e-12
    )
    assert np.allclose(cross(a[:, 0], b), np.cross(a[:, 0], b))


def test_electron_damping_is_dissipative(dirac_table):
    """Electron term only (alpha0 = 0, no current): the magnetic energy decreases monotonically."""
    magnet = Magnet(ms=2e4, thickness=0.5e-9, anisotropy_field=0.1)
    system = Macrospin(magnet, Electrons(dirac_table))
    ds = integrate(
        system,
        (0.5, 0.3, 0.81),
        Segment(2e-9, Drive(field=(0.0, 0.02, 0.05))),
        dt=5e-12,
        rtol=1e-10,
        atol=1e-12,
    )
    e = ds.energy_density.values
    assert np.all(np.diff(e) <= 1e-9 * np.max(np.abs(e)))
    # the tensor damping here is ~0.01-0.02: over ~10 periods a sizeable part of the excess goes
    e_min = magnet.energy_density(np.array([[0.0, 0.0, 1.0]]), np.array([0.0, 0.02, 0.05]))[0]
    assert (e[0] - e[-1]) > 0.2 * (e[0] - e_min)
    assert np.max(np.abs(ds.norm_error.values)) < 1e-8


def test_norm_stays_one_with_current_drive(dirac_table):
    magnet = Magnet(
        ms=1e6, thickness=1e-9, alpha0=0.02, anisotropy_field=1.6, demag_factors=(0, 0, 1)
    )
    drive = Drive(field=(0.02, 0, 0), current_density=(5e11, 0, 0), conductor_thickness=5e-9)
    ds = integrate(
        Macrospin(magnet, Electrons(dirac_table)),
        (0.1, 0.0, 0.99),
        Segment(1e-9, drive),
        dt=2e-12,
        rtol=1e-8,
        atol=1e-10,
    )
    assert np.max(np.abs(ds.norm_error.values)) < 1e-6


def test_switching_event_time_analytic():
    """Field against m: m . z crosses 0 at t = (1 + a^2) ln(1/tan(theta0/2)) / (a gamma B)."""
    alpha, b, theta0 = 0.1, 0.05, 0.1
    system = Macrospin(Magnet(ms=8e5, thickness=2e-9, g=2.0, alpha0=alpha))
    ev = crossing_event((0, 0, 1), terminal=True)
    ds = integrate(
        system,
        (math.sin(theta0), 0, math.cos(theta0)),
        Segment(10e-9, Drive(field=(0, 0, -b))),
        dt=1e-11,
        rtol=1e-11,
        atol=1e-13,
        events=[ev],
    )
    expected = (1 + alpha**2) * math.log(1 / math.tan(theta0 / 2)) / (alpha * GAMMA * b)
    assert ds.attrs["event_0_times"][0] == pytest.approx(expected, rel=1e-7)
    assert ds.time.values[-1] < 10e-9  # terminal event stopped the run


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (dict(ms=0.0, thickness=1e-9), r"^ms must be in \(0, 1e\+08\) A/m, got 0.0"),
        (dict(ms=-1e5, thickness=1e-9), r"^ms must be in"),
        (dict(ms=8e5, thickness=-1e-9), r"^thickness must be in \(0, 0.001\) m"),
        (dict(ms=8e5, thickness=1e-9, alpha0=1.5), r"^alpha0 must be in \[0, 1\)"),
        (dict(ms=8e5, thickness=1e-9, demag_factors=(0.5, 0.5, 0.5)), r"^demag_factors"),
    ],
)
def test_bad_magnet_inputs(kwargs, pattern):
    with pytest.raises(st.ParameterError, match=pattern):
        Magnet(**kwargs)


def test_bad_time_steps_and_tolerances():
    system = Macrospin(Magnet(ms=8e5, thickness=2e-9))
    seg = Segment(1e-9, Drive(field=(0, 0, 1.0)))  # period 36 ps
    with pytest.raises(
        st.ParameterError, match=r"^dt = 5e-11 s cannot resolve the precession .* use dt <"
    ):
        integrate(system, (1, 0, 0), seg, dt=5e-11)
    with pytest.raises(st.ParameterError, match=r"^dt must be in \(0, "):
        integrate(system, (1, 0, 0), seg, dt=-1e-12)
    with pytest.raises(st.ParameterError, match=r"^rtol must be in \[1e-13, 1e-2\]"):
        integrate(system, (1, 0, 0), seg, dt=1e-12, rtol=0.5)
    with pytest.raises(st.ParameterError, match=r"^max_step must be in \(0, "):
        integrate(system, (1, 0, 0), seg, dt=1e-12, max_step=0.0)
    with pytest.raises(st.ParameterError, match=r"^duration must be in \(0, 1\) s"):
        Segment(-1e-9, Drive())
    with pytest.raises(st.ParameterError, match="either electric_field or current_density"):
        Drive(electric_field=(1, 0, 0), current_density=(1, 0, 0), conductor_thickness=1e-9)
    with pytest.raises(st.ParameterError, match=r"^conductor_thickness \(m\) is required"):
        Drive(current_density=(1e11, 0, 0))
    with pytest.raises(st.ParameterError, match=r"^conductor_thickness must be in \(0, 0.001\) m"):
        Drive(current_density=(1e11, 0, 0), conductor_thickness=-1.0)
