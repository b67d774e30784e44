"""Configuration schema of ``spintorque dynamics CONFIG.toml`` (pydantic, unknown keys refused).

Units are in the key names (_nm, _T, _mT, _ns, _ps, _deg, _A_per_m2, _V_per_m); the electron
model's energies are in eV and lengths in nm. Example (see examples/dynamics_fmr.toml)::

    experiment = "ringdown"
    output = "out/fmr.nc"      # relative to the working directory
    figure = "out/fmr.png"

    [electrons]
    surface = "bi2se3"       # preset, or model = {kind = "DiracSurface", vf = 1.0, ...}
    ef = 0.1
    eta = 0.01

    [magnet]
    material = "eus"         # preset; any field below overrides it
    thickness_nm = 1.0

    [ringdown]
    axes = [[0, 0, 1], [1, 0, 0]]
    field_T = 0.1
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ParameterError

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

Vector = tuple[float, float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """An explicit continuum model (eV, nm)."""

    kind: Literal["DiracSurface", "Rashba2DEG"]
    delta: float
    cutoff: float = Field(gt=0)
    vf: float | None = Field(default=None, gt=0)
    mass: float | None = None
    warping: float = 0.0
    alpha: float | None = None


class ElectronsSpec(_Strict):
    """Electron model and response settings; ``surface`` (preset) or ``model``."""

    surface: str | None = None
    model: ModelSpec | None = None
    delta: float | None = None
    ef: float | None = None
    eta: float | None = Field(default=None, gt=0)
    temperature: float = Field(default=0.0, ge=0)
    rtol: float = Field(default=1e-5, ge=1e-10, lt=0.1)
    n_intervals: int = Field(default=12, ge=2, le=64)
    degree: int = Field(default=6, ge=1, le=12)

    @model_validator(mode="after")
    def _one_source(self) -> ElectronsSpec:
        if (self.surface is None) == (self.model is None):
            raise ValueError("give exactly one of electrons.surface (a preset) or electrons.model")
        if self.model is not None and (self.ef is None or self.eta is None):
            raise ValueError("electrons.ef and electrons.eta are required with electrons.model")
        return self


class MagnetSpec(_Strict):
    """Ferromagnet: a preset ``material`` and/or explicit SI values."""

    material: str | None = None
    ms_A_per_m: float | None = Field(default=None, gt=0)
    thickness_nm: float | None = Field(default=None, gt=0)
    g: float | None = Field(default=None, gt=0, lt=10)
    alpha0: float | None = Field(default=None, ge=0, lt=1)
    anisotropy_field_T: float | None = None
    anisotropy_axis: Vector | None = None
    demag_factors: Vector | None = None


class RingdownSpec(_Strict):
    axes: list[Vector] = [(0.0, 0.0, 1.0), (1.0, 0.0, 0.0)]
    field_T: float = Field(default=0.1, gt=0)
    cone_angle_deg: float = Field(default=3.0, gt=0, lt=30)
    periods: float = Field(default=30.0, gt=1, le=1e4)
    rtol: float = Field(default=1e-9, ge=1e-13, le=1e-3)


class AnisotropySpec(_Strict):
    ef: list[float]
    ringdown_fit: bool = True
    field_T: float = Field(default=0.1, gt=0)
    cone_angle_deg: float = Field(default=3.0, gt=0, lt=30)
    periods: float = Field(default=20.0, gt=1, le=1e4)


class ConeSpec(_Strict):
    axis: Vector = (0.0, 1.0, 0.0)
    field_direction: Vector = (1.0, 0.0, 0.0)
    theta_deg: list[float] = [float(t) for t in range(5, 85, 5)]
    n_phi: int = Field(default=64, ge=8, le=4096)


class SwitchingSpec(_Strict):
    current_density_A_per_m2: list[float]
    field_mT: list[float]
    conductor_thickness_nm: float = Field(gt=0)
    current_direction: Vector = (1.0, 0.0, 0.0)
    drive: Literal["current", "field"] = "current"
    pulse_ns: float = Field(default=5.0, gt=0)
    relax_ns: float = Field(default=3.0, gt=0)
    ramp_ns: float = Field(default=0.0, ge=0)
    ramp_steps: int = Field(default=10, ge=1, le=100)
    compare_parametrised: bool = True
    rtol: float = Field(default=1e-6, ge=1e-12, le=1e-2)


class TrajectorySpec(_Strict):
    m0: Vector = (0.0, 0.0, 1.0)
    duration_ns: float = Field(gt=0)
    field_T: Vector = (0.0, 0.0, 0.0)
    current_density_A_per_m2: Vector | None = None
    electric_field_V_per_m: Vector | None = None
    conductor_thickness_nm: float | None = Field(default=None, gt=0)
    dt_ps: float = Field(default=1.0, gt=0)
    rtol: float = Field(default=1e-8, ge=1e-13, le=1e-2)


EXPERIMENTS = ("ringdown", "damping_anisotropy", "cone_torque", "switching", "trajectory")


class DynamicsConfig(_Strict):
    """The whole file; the section named by ``experiment`` is required."""

    experiment: Literal["ringdown", "damping_anisotropy", "cone_torque", "switching", "trajectory"]
    output: str
    figure: str | None = None
    electrons: ElectronsSpec | None = None
    magnet: MagnetSpec = MagnetSpec()
    ringdown: RingdownSpec | None = None
    damping_anisotropy: AnisotropySpec | None = None
    cone_torque: ConeSpec | None = None
    switching: SwitchingSpec | None = None
    trajectory: TrajectorySpec | None = None

    @model_validator(mode="after")
    def _section(self) -> DynamicsConfig:
        if getattr(self, self.experiment) is None:
            if self.experiment == "ringdown":
                object.__setattr__(self, "ringdown", RingdownSpec())
            else:
                raise ValueError(
                    f"experiment = {self.experiment!r} needs a [{self.experiment}] section"
                )
        if self.experiment in ("damping_anisotropy", "cone_torque") and self.electrons is None:
            raise ValueError(f"experiment = {self.experiment!r} needs an [electrons] section")
        return self


def load_config(path: str | Path) -> DynamicsConfig:
    """Read and validate a TOML file; errors name the offending key (ParameterError)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ParameterError(f"config file {str(path)!r} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(data, source=str(path))


def parse_config(data: dict, *, source: str = "<dict>") -> DynamicsConfig:
    """Validate a parsed dict."""
    try:
        return DynamicsConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {loc}: {err['msg']} (got {err.get('input')!r})")
        raise ParameterError(f"{source}: invalid dynamics config\n" + "\n".join(lines)) from None


def deg(values) -> list[float]:
    """Degrees to radians."""
    return [math.radians(v) for v in values]
