"""Material presets: a Bi2Se3 surface and ferromagnetic overlayers, with sources.

Each preset is a frozen dataclass; change a field with :func:`dataclasses.replace`. Values that
are interface or sample dependent (exchange splitting, broadening, Fermi level, film thickness,
damping of thin films) are representative choices and are marked as such in ``notes``; they are
not material constants. Raw model parameters are in eV and nm (:data:`spintorque.units.EV_NM`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ParameterError
from .models.continuum import DiracSurface
from .units import ELECTRON_VOLT, HBAR, MU_B, NANOMETRE, positive

__all__ = [
    "BI2SE3",
    "COFEB",
    "EUS",
    "FERROMAGNETS",
    "PERMALLOY",
    "SURFACES",
    "YIG",
    "FerromagnetMaterial",
    "TISurfaceMaterial",
    "ferromagnet",
    "surface",
]


@dataclass(frozen=True)
class TISurfaceMaterial:
    """Topological-insulator surface: parameters of :class:`spintorque.models.DiracSurface`.

    Parameters
    ----------
    name : label.
    vf : hbar vF in eV nm.  delta : exchange splitting Delta in eV (interface dependent).
    cutoff : k cutoff in 1/nm.  ef, eta : Fermi level and broadening in eV.
    warping : hexagonal warping in eV nm^3.  sources, notes : provenance.
    """

    name: str
    vf: float
    delta: float
    cutoff: float
    ef: float
    eta: float
    warping: float = 0.0
    sources: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        for key, unit in (("vf", "eV nm"), ("cutoff", "1/nm"), ("eta", "eV")):
            positive(key, getattr(self, key), unit)

    def model(self) -> DiracSurface:
        """The :class:`DiracSurface` (eV, nm) of this surface."""
        return DiracSurface(vf=self.vf, delta=self.delta, cutoff=self.cutoff, warping=self.warping)


@dataclass(frozen=True)
class FerromagnetMaterial:
    """A ferromagnetic layer for the macrospin LLG (SI units).

    Parameters
    ----------
    name : label.  ms : saturation magnetization Ms in A/m.  g : Lande g-factor.
    alpha0 : intrinsic Gilbert damping.  thickness : film thickness t_FM in m.
    anisotropy_field : uniaxial anisotropy field B_K = 2 K_u / Ms in T (mu0 H_K; the shape
        anisotropy of a film is separate, see ``demag_factors``).
    anisotropy_axis : easy axis.  demag_factors : (N_x, N_y, N_z), (0, 0, 1) for a film.
    insulating : whether the layer is an insulator (no current shunting).
    sources, notes : provenance.
    """

    name: str
    ms: float
    g: float
    alpha0: float
    thickness: float
    anisotropy_field: float = 0.0
    anisotropy_axis: tuple[float, float, float] = (0.0, 0.0, 1.0)
    demag_factors: tuple[float, float, float] = (0.0, 0.0, 1.0)
    insulating: bool = False
    sources: tuple[str, ...] = ()
    notes: str = field(default="")

    def __post_init__(self) -> None:
        positive("ms", self.ms, "A/m", upper=1e8)
        positive("thickness", self.thickness, "m", upper=1e-3)
        positive("g", self.g, "(g-factor)", upper=10.0)
        if not 0 <= self.alpha0 < 1:
            raise ParameterError(f"alpha0 must be in [0, 1), got {self.alpha0!r}")


# --- Bi2Se3 surface -----------------------------------------------------------------------
_BI2SE3_VF_M_PER_S = 5.0e5  # Dirac velocity, Xia et al. (2009)
_BI2SE3_BULK_GAP_EV = 0.3  # bulk band gap, Xia et al. (2009)
_BI2SE3_HBAR_VF = HBAR * _BI2SE3_VF_M_PER_S / (ELECTRON_VOLT * NANOMETRE)  # 0.329 eV nm

BI2SE3 = TISurfaceMaterial(
    name="Bi2Se3 surface",
    vf=_BI2SE3_HBAR_VF,
    delta=0.05,
    cutoff=_BI2SE3_BULK_GAP_EV / _BI2SE3_HBAR_VF,  # the Dirac cone up to the bulk gap
    ef=0.1,
    eta=0.01,
    sources=(
        "vF = 5e5 m/s and bulk gap 0.3 eV: Y. Xia et al., Nature Physics 5, 398 (2009)",
        "exchange gap opened by magnetic order on the Bi2Se3 surface: Y. L. Chen et al., "
        "Science 329, 659 (2010)",
    ),
    notes="hbar vF = 0.329 eV nm from vF; cutoff = 0.3 eV / hbar vF. delta (exchange splitting, "
    "interface dependent), ef and eta are representative choices, not material constants. "
    "Hexagonal warping (L. Fu, PRL 103, 266801 (2009)) is weak near the Dirac point and is off.",
)

# --- ferromagnets ---------------------------------------------------------------------------
PERMALLOY = FerromagnetMaterial(
    name="permalloy Ni80Fe20",
    ms=8.0e5,
    g=2.1,
    alpha0=0.01,
    thickness=5e-9,
    sources=(
        "Ms = 8.0e5 A/m: muMAG standard problem #4 (NIST), permalloy-like parameters",
        "g = 2.1: J. M. Shaw, H. T. Nembach, T. J. Silva, C. T. Boone, J. Appl. Phys. 114, "
        "243906 (2013)",
    ),
    notes="alpha0 = 0.01 and the 5 nm thickness are representative of sputtered films; "
    "in-plane magnet (shape anisotropy only).",
)

COFEB = FerromagnetMaterial(
    name="CoFeB (perpendicular, CoFeB/MgO)",
    ms=1.1e6,
    g=2.0,
    alpha0=0.02,
    thickness=1.0e-9,
    anisotropy_field=1.6,
    demag_factors=(0.0, 0.0, 1.0),
    sources=(
        "perpendicular anisotropy of thin CoFeB/MgO: S. Ikeda et al., Nature Materials 9, 721 "
        "(2010)",
    ),
    notes="representative values: Ms = 1.1e6 A/m, B_K = 1.6 T interface anisotropy so that the "
    "effective perpendicular anisotropy B_K - mu0 Ms = 0.22 T; alpha0 = 0.02; t = 1 nm.",
)

YIG = FerromagnetMaterial(
    name="YIG Y3Fe5O12",
    ms=1.4e5,
    g=2.0,
    alpha0=1e-4,
    thickness=20e-9,
    insulating=True,
    sources=(
        "4 pi Ms = 1750 G (Ms = 1.4e5 A/m), g = 2, bulk alpha ~ 3e-5: A. A. Serga, A. V. Chumak, "
        "B. Hillebrands, J. Phys. D: Appl. Phys. 43, 264002 (2010)",
    ),
    notes="alpha0 = 1e-4 is typical of thin films (bulk crystals reach ~3e-5); 20 nm film.",
)

_EUS_LATTICE_NM = 0.5968  # rock-salt lattice constant, 4 Eu per cubic cell
_EUS_MOMENT_MU_B = 7.0  # Eu2+ 4f7, S = 7/2, L = 0
EUS = FerromagnetMaterial(
    name="EuS",
    ms=4 * _EUS_MOMENT_MU_B * MU_B / (_EUS_LATTICE_NM * NANOMETRE) ** 3,  # 1.22e6 A/m at T = 0
    g=2.0,
    alpha0=1e-3,
    thickness=5e-9,
    insulating=True,
    sources=(
        "7 mu_B per Eu2+, a = 5.968 A, Tc = 16.6 K: A. Mauger and C. Godart, Physics Reports "
        "141, 51 (1986)",
        "EuS on Bi2Se3: P. Wei et al., PRL 110, 186807 (2013)",
    ),
    notes="Ms is the T = 0 value from the moment and lattice constant; alpha0 = 1e-3 is an "
    "assumed placeholder (set it from your sample). Ferromagnetic only below ~17 K.",
)

FERROMAGNETS: dict[str, FerromagnetMaterial] = {
    "permalloy": PERMALLOY,
    "cofeb": COFEB,
    "yig": YIG,
    "eus": EUS,
}
SURFACES: dict[str, TISurfaceMaterial] = {"bi2se3": BI2SE3}


def _lookup(table: dict, kind: str, name: str):
    try:
        return table[name.lower()]
    except KeyError:
        raise ParameterError(f"unknown {kind} {name!r}; choose one of {sorted(table)}") from None


def ferromagnet(name: str) -> FerromagnetMaterial:
    """Ferromagnet preset by name: permalloy, cofeb, yig, eus."""
    return _lookup(FERROMAGNETS, "ferromagnet", name)


def surface(name: str) -> TISurfaceMaterial:
    """Surface preset by name: bi2se3."""
    return _lookup(SURFACES, "surface", name)
