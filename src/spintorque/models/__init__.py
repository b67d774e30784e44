"""Bloch models: the interface and the built-in continuum models."""

from .base import BlochModel, BrillouinZone, Disk, check_model
from .continuum import DiracSurface, Rashba2DEG, TwoBandContinuum

__all__ = ["BlochModel", "BrillouinZone", "DiracSurface", "Disk", "Rashba2DEG", "TwoBandContinuum", "check_model"]

# lattice and real-material models (issue 5)
from .formula import FormulaModel, from_formula  # noqa: E402
from .lattice import QWZ, LatticeDiracSurface, RashbaLattice  # noqa: E402
from .tight_binding import TightBinding, spin_matrices  # noqa: E402

__all__ += ["FormulaModel", "from_formula", "QWZ", "LatticeDiracSurface", "RashbaLattice", "TightBinding", "spin_matrices"]
