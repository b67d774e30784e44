"""Macrospin LLG dynamics driven by the computed torques and damping (SPEC.md sec. 5).

Frozen objects: :class:`Magnet`, :class:`Drive`, :class:`Electrons` (a tensor table from
:mod:`.tensors`), :class:`Macrospin`; :func:`integrate` runs the LLG; experiments: :func:`ringdown`,
:func:`damping_anisotropy`, :func:`cone_torque`, :func:`switching_diagram`; :func:`sot_at` and
:func:`micromagnetic_parameters` hand the torques to micromagnetic codes. See docs/dynamics.md.
"""

from .fmr import damping_anisotropy, fit_ringdown, local_system, ringdown, tensor_damping
from .integrate import Segment, crossing_event, integrate
from .llg import Drive, Electrons, Macrospin, Magnet, ParametrisedSOT
from .sot import cone_torque, micromagnetic_parameters, sot_at
from .switching import dl_threshold_field, lee_threshold_field, switching_diagram
from .tensors import AxialTable, ElectronSettings, SphereTable, build_table, interpolation_error

__all__ = [
    "AxialTable",
    "Drive",
    "ElectronSettings",
    "Electrons",
    "Macrospin",
    "Magnet",
    "ParametrisedSOT",
    "Segment",
    "SphereTable",
    "build_table",
    "cone_torque",
    "crossing_event",
    "damping_anisotropy",
    "dl_threshold_field",
    "fit_ringdown",
    "integrate",
    "interpolation_error",
    "lee_threshold_field",
    "local_system",
    "micromagnetic_parameters",
    "ringdown",
    "sot_at",
    "switching_diagram",
    "tensor_damping",
]
