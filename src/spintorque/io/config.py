"""Run configuration: TOML file -> validated, frozen :class:`RunSpec` (docs/config.md).

A config has three sections::

    [model]                 # a registered model and its parameters
    name = "DiracSurface"
    vf = 1.0
    delta = 0.2
    cutoff = 20.0

    [response]              # the arguments of spintorque.response (scalars)
    ef = 0.3
    eta = 0.02
    m = [0, 0, 1]           # or theta = 90, phi = 0 (degrees)

    [sweep]                 # optional: any of them as a list or a range; the run is the product
    eta = { start = 1e-3, stop = 1e-1, num = 9, log = true }
    theta = [0, 30, 60, 90]

Validation happens in two steps, both before any computation: the fixed schema with pydantic v2
(strict types, unknown keys forbidden), then what depends on the model (its name, its parameters,
swept keys). Every problem becomes one line of a single :class:`ConfigError` that names the key,
the value given and what is allowed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..engine import BLOCKS
from ..errors import ModelError, SpintorqueError
from ..models.registry import model_names, model_parameters

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FiniteFloat = Annotated[float, AllowInfNan(False)]
RESPONSE_AXES = ("ef", "eta", "temperature", "theta", "phi", "rtol")
GROUPED_AXES = ("temperature", "ef")  # computed together in one response() call
ENERGY_UNIT = "energy (model units; eV in the examples)"
AXIS_UNITS = {
    "ef": ENERGY_UNIT,
    "eta": ENERGY_UNIT,
    "temperature": ENERGY_UNIT,
    "theta": "degree",
    "phi": "degree",
    "rtol": "1",
}
_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ConfigError(SpintorqueError, ValueError):
    """A run configuration is invalid; the message lists every problem, one per line."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = list(problems)
        head = f"invalid config {source}" if source else "invalid config"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{head}:\n{lines}")


class ModelSection(BaseModel):
    """``[model]``: ``name`` plus the model's parameters (checked against the model later)."""

    model_config = ConfigDict(extra="allow", strict=True)
    name: str


BlockName = Literal[tuple(BLOCKS)]  # the response blocks spintorque.response can compute


class ResponseSection(BaseModel):
    """``[response]``: the scalar arguments of :func:`spintorque.response`."""

    model_config = _STRICT
    ef: FiniteFloat | None = None
    eta: FiniteFloat | None = Field(None, gt=0)
    m: list[FiniteFloat] | None = Field(None, min_length=3, max_length=3)
    theta: FiniteFloat | None = Field(None, ge=0, le=180)
    phi: FiniteFloat | None = None
    temperature: FiniteFloat = Field(0.0, ge=0)
    rtol: FiniteFloat = Field(1e-6, ge=1e-10, lt=0.1)
    max_points: int = Field(20_000_000, ge=1000)
    max_memory: int | None = Field(None, gt=0)
    on_unconverged: Literal["warn", "raise"] = "warn"
    blocks: list[BlockName] | None = Field(None, min_length=1)

    @field_validator("m")
    @classmethod
    def _nonzero_m(cls, m: list[float] | None) -> list[float] | None:
        if m is not None and math.hypot(*m) == 0:
            raise ValueError("m has zero length; give a direction such as [0, 0, 1]")
        return m

    @model_validator(mode="after")
    def _check_m(self) -> ResponseSection:
        if self.m is not None and (self.theta is not None or self.phi is not None):
            raise ValueError("give m either as a vector (m) or as angles (theta, phi), not both")
        return self


class RangeSpec(BaseModel):
    """A range in ``[sweep]``: ``{start, stop, num}`` (linear, or geometric with ``log = true``)
    or ``{start, stop, step}``; ``stop`` is included."""

    model_config = _STRICT
    start: FiniteFloat
    stop: FiniteFloat
    num: int | None = None
    step: FiniteFloat | None = Field(None, gt=0)
    log: bool = False

    @model_validator(mode="after")
    def _check(self) -> RangeSpec:
        if (self.num is None) == (self.step is None):
            raise ValueError("give exactly one of num (number of points) or step")
        if self.num is not None and self.num < 1:
            raise ValueError(f"num = {self.num} gives no points; num must be >= 1")
        if self.log and (self.step is not None or self.start <= 0 or self.stop <= 0):
            raise ValueError("log = true needs num and start, stop > 0")
        if self.step is not None and self.stop < self.start:
            raise ValueError(
                f"stop < start with step > 0 gives no points ({self.start} .. {self.stop})"
            )
        return self

    def values(self) -> list[float]:
        if self.num is not None:
            grid = np.geomspace if self.log else np.linspace
            return [float(v) for v in grid(self.start, self.stop, self.num)]
        count = math.floor((self.stop - self.start) / self.step * (1 + 1e-12) + 1e-9) + 1
        vals = self.start + self.step * np.arange(count)
        if abs(vals[-1] - self.stop) <= 1e-9 * self.step:
            vals[-1] = self.stop
        return [float(v) for v in vals]


class RunConfig(BaseModel):
    """The whole file."""

    model_config = _STRICT
    title: str = ""
    model: ModelSection
    response: ResponseSection
    sweep: dict[str, Any] = Field(default_factory=dict)


_SECTIONS: dict[str, type[BaseModel]] = {"": RunConfig, "response": ResponseSection}


@dataclass(frozen=True)
class Axis:
    """One swept parameter.

    ``kind`` is "response" or "model"; ``spacing`` is "list", "linear" or "log".
    """

    name: str
    values: tuple
    kind: str
    spacing: str = "list"

    @property
    def units(self) -> str:
        return AXIS_UNITS.get(self.name, "model parameter units")


@dataclass(frozen=True)
class RunSpec:
    """A validated run: the model by name, base response arguments, and the swept axes.

    ``response`` holds ef, eta, temperature, rtol, max_points, max_memory (if given),
    on_unconverged and either ``m`` (unit vector) or ``theta``/``phi`` (degrees). ``axes`` are
    in the order of ``[sweep]``.
    """

    model_name: str
    model_params: Mapping[str, Any]
    response: Mapping[str, Any]
    axes: tuple[Axis, ...] = ()
    title: str = ""
    source_text: str = ""
    source: str | None = field(default=None, compare=False)

    def normalised(self) -> dict[str, Any]:
        """JSON-ready config with defaults filled in and ranges expanded to values."""
        return {
            "title": self.title,
            "model": {"name": self.model_name, **self.model_params},
            "response": dict(self.response),
            "sweep": [[axis.name, list(axis.values)] for axis in self.axes],
        }

    @property
    def config_hash(self) -> str:
        """sha256 of the normalised config without the title (what the numbers depend on)."""
        data = self.normalised()
        data.pop("title")
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def n_tasks(self) -> int:
        return math.prod(len(a.values) for a in self.axes if a.name not in GROUPED_AXES)

    @property
    def n_points(self) -> int:
        return math.prod(len(a.values) for a in self.axes)


def load_config(path: str | Path) -> RunSpec:
    """Read and validate a TOML run config; :class:`ConfigError` if it is invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc.strerror or exc}"], str(path)) from None
    return parse_config(text, source=str(path))


def parse_config(config: str | Mapping[str, Any], *, source: str | None = None) -> RunSpec:
    """Validate a config given as TOML text or as an already-parsed mapping."""
    text = config if isinstance(config, str) else ""
    if isinstance(config, str):
        try:
            config = tomllib.loads(config)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"not valid TOML: {exc}"], source) from None
    try:
        run = RunConfig.model_validate(dict(config))
    except ValidationError as exc:
        raise ConfigError(_pydantic_problems(exc), source) from None
    problems: list[str] = []
    spec = _build_spec(run, text, source, problems)
    if problems:
        raise ConfigError(problems, source)
    return spec


# ---------------------------------------------------------------- error formatting


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _allowed_keys(section: tuple) -> list[str]:
    model = _SECTIONS.get(".".join(str(p) for p in section))
    return list(model.model_fields) if model else []


def _pydantic_problems(exc: ValidationError, prefix: tuple = ()) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = prefix + tuple(err["loc"])
        key, msg = _key(loc), err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            problems.append(f"{key}: missing; this key is required")
        elif err["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"{key} = {_show(err['input'])}: unknown key{hint}; allowed: {', '.join(allowed)}"
            )
        elif (
            err["type"] == "float_type" and isinstance(err["input"], (list, dict)) and len(loc) == 2
        ):
            problems.append(f"{key} = {_show(err['input'])}: {msg}; lists and ranges go in [sweep]")
        else:
            problems.append(f"{key} = {_show(err['input'])}: {msg}")
    return problems


def _model_error_key(msg: str, params: list[str]) -> str:
    """The parameter a model's error message is about (its first parameter name mentioned)."""
    words = msg.replace(",", " ").replace("=", " ").split()
    for word in words:
        if word in params:
            return word
    return "name"


# ---------------------------------------------------------------- second-stage validation


def _build_spec(run: RunConfig, text: str, source: str | None, problems: list[str]) -> RunSpec:
    name = run.model.name
    params = dict(run.model.model_extra or {})
    if name not in model_names():
        close = difflib.get_close_matches(name, model_names(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(
            f"model.name = {name!r}: unknown model{hint}; allowed: {', '.join(model_names())}"
        )
        return RunSpec(name, params, {})
    known = model_parameters(name)
    axes = _sweep_axes(run, list(known), problems)
    swept = {a.name for a in axes}
    for key, value in params.items():
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"model.{key} = {_show(value)}: unknown parameter of {name}{hint}; "
                f"allowed: {', '.join(known)}"
            )
        elif key in swept:
            problems.append(f"model.{key}: also given in [sweep]; give it in one place")
    required = [p for p, info in known.items() if info.required]
    for key in [p for p in required if p not in params and p not in swept]:
        problems.append(f"model.{key}: missing; {name} needs {', '.join(required)}")
    response = _response_base(run.response, axes, problems)
    if not problems:
        _check_model_values(name, params, axes, problems)
    return RunSpec(name, params, response, tuple(axes), run.title, text, source)


def _sweep_axes(run: RunConfig, model_params: list[str], problems: list[str]) -> list[Axis]:
    axes = []
    given = run.response.model_fields_set
    for key, raw in run.sweep.items():
        if key in RESPONSE_AXES:
            kind = "response"
        elif key in model_params:
            kind = "model"
        else:
            allowed = list(RESPONSE_AXES) + model_params
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"sweep.{key} = {_show(raw)}: not a sweepable parameter{hint}; "
                f"allowed: {', '.join(allowed)}"
            )
            continue
        if kind == "response" and key in given:
            problems.append(f"sweep.{key}: also given in [response]; give it in one place")
            continue
        axis = _parse_axis(key, raw, kind, problems)
        if axis is not None:
            axes.append(axis)
    return axes


def _parse_axis(key: str, raw: Any, kind: str, problems: list[str]) -> Axis | None:
    where = f"sweep.{key}"
    if isinstance(raw, dict):
        try:
            rng = RangeSpec.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, ("sweep", key)))
            return None
        values, spacing = rng.values(), ("log" if rng.log else "linear")
    elif isinstance(raw, list):
        if not raw:
            problems.append(f"{where} = []: an empty list gives no points; give at least one value")
            return None
        bad = [
            v
            for v in raw
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
        ]
        if bad:
            problems.append(
                f"{where} = {_show(raw)}: {_show(bad[0])} is not a finite number; "
                "a sweep list holds numbers"
            )
            return None
        values, spacing = list(raw), "list"
    else:
        problems.append(
            f"{where} = {_show(raw)}: give a list of values or a range table "
            "{start, stop, num} / {start, stop, step} (optionally log = true)"
        )
        return None
    if len(set(values)) != len(values):
        problems.append(f"{where} = {_show(raw)}: values must be distinct")
        return None
    if kind == "response":
        values = [float(v) for v in values]
        for value in values:
            try:
                ResponseSection.model_validate({key: value})
            except ValidationError as exc:
                problems.append(
                    f"{where} = {_show(raw)}: value {value!r}: {exc.errors()[0]['msg']}"
                )
                return None
    return Axis(key, tuple(values), kind, spacing)


def _response_base(
    section: ResponseSection, axes: list[Axis], problems: list[str]
) -> dict[str, Any]:
    swept = {a.name for a in axes}
    for key in ("ef", "eta"):
        if getattr(section, key) is None and key not in swept:
            problems.append(f"response.{key}: missing; give it in [response] or in [sweep]")
    base = section.model_dump(exclude={"m", "theta", "phi"})
    for key in swept & set(base):
        base.pop(key)
    base = {k: v for k, v in base.items() if v is not None}
    if section.theta is not None or section.phi is not None or swept & {"theta", "phi"}:
        theta, phi = section.theta, section.phi
        if section.m is not None:
            theta, phi = vector_to_angles(section.m)
        for key, value in (("theta", theta), ("phi", phi)):
            if key not in swept:
                base[key] = 0.0 if value is None else float(value)
    else:
        vec = np.asarray(section.m if section.m is not None else (0.0, 0.0, 1.0), dtype=float)
        base["m"] = (vec / np.linalg.norm(vec)).tolist()
    return base


def _check_model_values(name: str, params: dict, axes: list[Axis], problems: list[str]) -> None:
    """Build the model at the base values and at every value of each swept model parameter."""
    from ..models.registry import get_model

    known = list(model_parameters(name))
    model_axes = [a for a in axes if a.kind == "model"]
    base = dict(params, **{a.name: a.values[0] for a in model_axes})
    trials = [("model", None, base)]
    for axis in model_axes:
        trials += [(f"sweep.{axis.name}", v, dict(base, **{axis.name: v})) for v in axis.values[1:]]
    for where, value, kwargs in trials:
        try:
            get_model(name, **kwargs)
        except (ModelError, TypeError, ValueError) as exc:
            key = _model_error_key(str(exc), known)
            if where == "model":
                shown = kwargs.get(key, "<missing>")
                problems.append(f"model.{key} = {_show(shown)}: {exc}")
            else:
                problems.append(f"{where}: value {value!r}: {exc}")
            return


def vector_to_angles(m: Any) -> tuple[float, float]:
    """(theta, phi) in degrees of the direction ``m``; theta from z, phi from x."""
    x, y, z = (float(c) for c in m)
    theta = math.degrees(math.atan2(math.hypot(x, y), z))
    phi = math.degrees(math.atan2(y, x)) if (x or y) else 0.0
    return theta, phi


def _sincos_degrees(angle: float) -> tuple[float, float]:
    """(sin, cos) of an angle in degrees, exact at multiples of 90 degrees."""
    if float(angle) % 90.0 == 0.0:
        quarter = round(float(angle) / 90.0) % 4
        return ((0.0, 1.0), (1.0, 0.0), (0.0, -1.0), (-1.0, 0.0))[quarter]
    rad = math.radians(angle)
    return math.sin(rad), math.cos(rad)


def angles_to_vector(theta: float, phi: float) -> tuple[float, float, float]:
    """m = (sin t cos p, sin t sin p, cos t) for theta, phi in degrees."""
    st, ct = _sincos_degrees(theta)
    sp, cp = _sincos_degrees(phi)
    return (st * cp, st * sp, ct)
