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
