"""Shared fixtures: small, cheap models and a random-direction helper."""

import pytest

import spintorque as st


@pytest.fixture
def dirac():
    return st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)


@pytest.fixture
def dirac_full():
    """TI surface with every term: quadratic eps0 and hexagonal warping."""
    return st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=6.0, mass=2.0, warping=0.15)


@pytest.fixture
def dirac_warped():
    """Warped TI surface on a smaller disk: no warping pockets, a non-circular Fermi contour
    at EF = 0.8 (radial range about 4 eta/v at eta = 0.02)."""
    return st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=3.0, mass=2.0, warping=0.15)


@pytest.fixture
def dirac_eps0():
    """TI surface with eps0 (no warping): in-plane m puts the Fermi contour off the band
    centre, so it is followed by an interpolated curve."""
    return st.models.DiracSurface(vf=1.0, delta=0.3, cutoff=4.0, mass=1.0)


@pytest.fixture
def rashba():
    return st.models.Rashba2DEG(mass=0.5, alpha=0.5, delta=0.3, cutoff=6.0)


@pytest.fixture
def bhz():
    """A 4-band BHZ-like formula model (orbital t, spin s) with an exchange on the spin. It is
    inversion symmetric: P = kron(s0, tz) maps H(k) to H(-k) and keeps the exchange, so every
    spin-velocity block (spin_force, current_exchange, exchange_force) vanishes."""
    return st.models.from_formula(
        "(C - D*(kx^2 + ky^2))*kron(s0, t0) + A*(kx*kron(sz, tx) - ky*kron(s0, ty))"
        " + (M - B*(kx^2 + ky^2))*kron(s0, tz)"
        " + delta/2*(mx*kron(sx, t0) + my*kron(sy, t0) + mz*kron(sz, t0))",
        A=1.0,
        B=-0.5,
        C=0.0,
        D=0.2,
        M=-0.2,
        delta=0.3,
        cutoff=4.0,
        spin_operators=["kron(sx, t0)", "kron(sy, t0)", "kron(sz, t0)"],
    )
