"""Exceptions and warnings raised by spintorque."""

from __future__ import annotations


class SpintorqueError(Exception):
    """Base class of spintorque's exceptions."""


class ParameterError(SpintorqueError, ValueError):
    """An input parameter is out of its allowed range or of the wrong type."""


class ModelError(SpintorqueError, ValueError):
    """A model is malformed (wrong shapes, non-Hermitian, non-finite, bad parameters)."""


class ConvergenceError(SpintorqueError, RuntimeError):
    """An integrator could not reach the requested tolerance and was asked to raise."""


class SpintorqueWarning(UserWarning):
    """Base class of spintorque's warnings (the test suite turns them into errors)."""


class ConvergenceWarning(SpintorqueWarning):
    """An integral did not reach the requested tolerance; the result carries its error estimate."""


class InputWarning(SpintorqueWarning):
    """An input was accepted after a correction (e.g. a non-unit m was normalised)."""
