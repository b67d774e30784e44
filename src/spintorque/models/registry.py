"""Models by name: the registry that configs and the command line use.

Every concrete :class:`~spintorque.models.BlochModel` subclass exported by
:mod:`spintorque.models` is registered under its class name, so models added to that package
later are picked up without touching this file. Parameters are passed by name to the class
constructor, which validates them (raising :class:`~spintorque.ModelError` naming the parameter).

Examples
--------
>>> from spintorque.models.registry import get_model, model_names
>>> "DiracSurface" in model_names()
True
>>> get_model("DiracSurface", vf=1.0, delta=0.2, cutoff=10.0)
DiracSurface(vf=1.0, delta=0.2, cutoff=10.0)
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from typing import Any

from ..errors import ModelError
from .base import BlochModel

# Exported classes that are bases for other models, not models one can build by name.
_BASE_CLASSES = frozenset({"BlochModel", "TwoBandContinuum"})


@dataclass(frozen=True)
class ParameterInfo:
    """One constructor parameter of a registered model.

    ``required`` marks the model's main physical parameters (positional-or-keyword, or without a
    default): a config must state them. Keyword-only parameters with defaults are options.
    """

    name: str
    required: bool
    default: Any


def model_registry() -> dict[str, type[BlochModel]]:
    """Name -> class for every concrete BlochModel subclass exported by spintorque.models."""
    from .. import models

    names = getattr(models, "__all__", None) or dir(models)
    registry = {}
    for name in names:
        obj = getattr(models, name, None)
        if (
            inspect.isclass(obj)
            and issubclass(obj, BlochModel)
            and not inspect.isabstract(obj)
            and obj.__name__ not in _BASE_CLASSES
            and not name.startswith("_")
        ):
            registry[name] = obj
    return dict(sorted(registry.items()))


def model_names() -> list[str]:
    """Sorted names of the registered models."""
    return list(model_registry())


def model_class(name: str) -> type[BlochModel]:
    """The class registered under ``name``; :class:`ModelError` listing the names if unknown."""
    registry = model_registry()
    if not isinstance(name, str) or name not in registry:
        close = difflib.get_close_matches(str(name), list(registry), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ModelError(f"unknown model {name!r}{hint}; allowed: {', '.join(registry)}")
    return registry[name]


def model_parameters(name: str) -> dict[str, ParameterInfo]:
    """Constructor parameters of model ``name`` in signature order."""
    signature = inspect.signature(model_class(name).__init__)
    out = {}
    for param in list(signature.parameters.values())[1:]:  # skip self
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        has_default = param.default is not param.empty
        required = not has_default or param.kind is not param.KEYWORD_ONLY
        out[param.name] = ParameterInfo(
            param.name, required, param.default if has_default else None
        )
    return out


def get_model(name: str, **params: Any) -> BlochModel:
    """Build the model registered as ``name`` from its parameters given by name.

    Parameters
    ----------
    name : registered model name, e.g. ``"DiracSurface"`` or ``"Rashba2DEG"``.
    **params : constructor parameters; unknown names are refused with the allowed ones listed.
        Values are validated by the model (ModelError naming the parameter).

    Returns
    -------
    BlochModel
    """
    known = model_parameters(name)
    for key in params:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ModelError(
                f"unknown parameter {key!r} for model {name}{hint}; allowed: {', '.join(known)}"
            )
    return model_class(name)(**params)


def __getattr__(attr: str) -> Any:
    """``MODEL_REGISTRY`` is computed on access so that later-added models appear in it."""
    if attr == "MODEL_REGISTRY":
        return model_registry()
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
