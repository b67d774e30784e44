"""spintorque: spin-orbit torques, Gilbert damping and conductivity from Bloch Hamiltonians.

Linear-response Keldysh (Kubo-Bastin) formalism, Fermi sea and Fermi surface parts, for
continuum and lattice models. See SPEC.md for the conventions: hbar = e = 1 in raw results.
"""

__version__ = "0.1.0"

from . import io, models
from .errors import (
    ConvergenceError,
    ConvergenceWarning,
    InputWarning,
    ModelError,
    ParameterError,
    SpintorqueError,
    SpintorqueWarning,
)
from .responses import response

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "InputWarning",
    "ModelError",
    "ParameterError",
    "SpintorqueError",
    "SpintorqueWarning",
    "__version__",
    "io",
    "models",
    "response",
]

from .derived import conductivity, damping_for_axis, gilbert_damping, spin_orbit_torque

__all__ += ["conductivity", "damping_for_axis", "gilbert_damping", "spin_orbit_torque"]
