"""Bloch models: the interface and the built-in continuum models."""

from .base import BlochModel, BrillouinZone, Disk, check_model
from .continuum import DiracSurface, Rashba2DEG, TwoBandContinuum

__all__ = ["BlochModel", "BrillouinZone", "DiracSurface", "Disk", "Rashba2DEG", "TwoBandContinuum", "check_model"]
