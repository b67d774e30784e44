"""Shared, session-cached electron tables for the dynamics tests (engine calls are costly)."""

import numpy as np
import pytest

import spintorque as st
from spintorque.dynamics import AxialTable, ElectronSettings

DIRAC = dict(vf=1.0, delta=0.2, cutoff=20.0)
SETTINGS = ElectronSettings(ef=0.3, eta=0.02, rtol=1e-6)


@pytest.fixture(scope="session")
def dirac_model():
    return st.models.DiracSurface(**DIRAC)


@pytest.fixture(scope="session")
def settings():
    return SETTINGS


@pytest.fixture(scope="session")
def dirac_table(dirac_model):
    """Whole-sphere axial table (13 engine calls)."""
    return AxialTable.build(dirac_model, SETTINGS, n_intervals=12)


class SyntheticTable:
    """Callable tensor table from closed-form functions of m (raw units), for exact checks.

    exchange_exchange = X(m); exchange_force: column x equals c (m x p) (a pure damping-like
    torque for a force along x); current_force = s0 diag(1, 1, 0).
    """

    def __init__(self, x=None, c=0.0, p=(0.0, 1.0, 0.0), s0=1.0):
        self.x, self.c, self.p, self.s0 = x, c, np.asarray(p, dtype=float), s0
        self.meta = {"kind": "synthetic"}

    def __call__(self, m):
        m = np.atleast_2d(m)
        out = np.zeros((len(m), 3, 3, 3))
        if self.x is not None:
            out[:, 0] = self.x(m)
        out[:, 1, :, 0] = self.c * np.cross(m, self.p)
        out[:, 2, 0, 0] = out[:, 2, 1, 1] = self.s0
        return out


@pytest.fixture
def synthetic():
    return SyntheticTable
