"""Damping-like switching of a perpendicular macrospin against the analytic macrospin threshold."""

import math

import numpy as np
import pytest

import spintorque as st
from spintorque.dynamics import (
    Electrons,
    Macrospin,
    Magnet,
    ParametrisedSOT,
    dl_threshold_field,
    lee_threshold_field,
    sot_at,
    switching_diagram,
)
from spintorque.dynamics.switching import current_for_field, up_state

B_K = 0.5
# alpha = 0.5: overdamped enough that the up state is lost at the saddle-node (for small alpha a
# precessional instability can come first); ramped current: the quasi-static setting
MAGNET = Magnet(ms=1e6, thickness=1e-9, g=2.0, alpha0=0.5, anisotropy_field=B_K)
T_C = 5e-9


def test_threshold_formula_against_brute_force():
    """max over t of (B_K/2) sin 2t - B_x cos t on the up branch, by dense sampling."""
    t = np.linspace(0, math.pi / 2, 200001)
    for b_x in (0.0, 0.05, 0.2, 0.4):
        t0 = math.asin(b_x / B_K)
        branch = t >= t0
        brute = np.max(0.5 * B_K * np.sin(2 * t[branch]) - b_x * np.cos(t[branch]))
        assert dl_threshold_field(B_K, b_x) == pytest.approx(brute, rel=1e-9)
    assert dl_threshold_field(B_K, 0.0) == pytest.approx(lee_threshold_field(B_K, 0.0), rel=1e-12)
    small = 1e-3
    assert dl_threshold_field(B_K, small) - lee_threshold_field(B_K, small) < 10 * small**2 / B_K
    with pytest.raises(st.ParameterError, match="must be below b_k"):
        dl_threshold_field(B_K, 0.6)


def test_up_state_is_the_tilted_minimum():
    m = up_state(MAGNET, (0.2, 0.0, 0.0))
    assert m == pytest.approx([0.4, 0.0, math.sqrt(1 - 0.16)], abs=1e-6)


def _first_switching_current(system, b_x, j_c, **kwargs):
    currents = -j_c * np.linspace(0.96, 1.04, 17)  # B_DL < 0 switches for B_x > 0
    out = switching_diagram(
        system,
        currents,
        [b_x],
        conductor_thickness=T_C,
        pulse=5e-9,
        relax=3e-9,
        ramp=2e-9,
        ramp_steps=10,
        **kwargs,
    )
    switched = out.switched.values[:, 0]
    assert switched[0] == 0 and switched[-1] == 1
    return abs(currents[np.argmax(switched)]), out


@pytest.mark.parametrize("b_x", [0.05, 0.3])
def test_parametrised_dl_switching_threshold(b_x):
    xi = 0.1
    j_c = current_for_field(dl_threshold_field(B_K, b_x), MAGNET, xi)
    j_sim, out = _first_switching_current(Macrospin(MAGNET, sot=ParametrisedSOT(xi)), b_x, j_c)
    assert j_sim == pytest.approx(j_c, rel=0.01)
    assert float(out.threshold_exact[0]) == pytest.approx(j_c, rel=1e-12)
    if b_x == 0.3:  # the first-order formula is off at large B_x, the exact one is not
        assert abs(float(out.threshold_lee[0]) / j_c - 1) > 0.3


def test_electron_path_dl_switching_threshold(synthetic):
    """The same threshold through the electron tensors (implicit LLG, raw -> SI, current drive).

    Synthetic table: <dH/dm> = c (m x p) F_x, sigma = s0 (raw). By hand: B_DL = c e E / (l Ms t)
    with E = J t_c hbar / (e^2 s0), so xi_DL = 2 c t_c / (l s0).
    """
    c, s0 = 2e-3, 1.0
    xi = 2 * c * (T_C / 1e-9) / s0
    table = synthetic(c=c, s0=s0)
    system = Macrospin(MAGNET, Electrons(table))
    assert sot_at(table, (0, 0, 1), magnet=MAGNET, conductor_thickness=T_C)[
        "xi_DL"
    ] == pytest.approx(xi, rel=1e-12)
    b_x = 0.05
    j_c = current_for_field(dl_threshold_field(B_K, b_x), MAGNET, xi)
    j_sim, _ = _first_switching_current(system, b_x, j_c)
    assert j_sim == pytest.approx(j_c, rel=0.01)
