"""Bloch models: the interface and the built-in continuum models."""

from .base import BlochModel, BrillouinZone, Disk, check_model
from .continuum import DiracSurface, Rashba2DEG, TwoBandContinuum

__all__ = [
    "BlochModel",
    "BrillouinZone",
    "DiracSurface",
    "Disk",
    "Rashba2DEG",
    "TwoBandContinuum",
    "check_model",
]

# lattice and real-material models (issue 5)
from .lattice import QWZ, LatticeDiracSurface, RashbaLattice, TIThinFilm, layer_spin_density
from .tight_binding import TightBinding, spin_matrices

__all__ += [
    "QWZ",
    "LatticeDiracSurface",
    "RashbaLattice",
    "TIThinFilm",
    "TightBinding",
    "from_formula",
    "layer_spin_density",
    "spin_matrices",
]


def __getattr__(name: str):
    """Formula models import sympy: load them on first use, not with the package."""
    if name in ("from_formula", "FormulaModel"):
        from . import formula

        return getattr(formula, name)
    raise AttributeError(f"module 'spintorque.models' has no attribute {name!r}")
