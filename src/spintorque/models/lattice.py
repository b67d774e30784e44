"""Named lattice models built on :class:`~spintorque.models.tight_binding.TightBinding`.

All are square lattices of constant ``a`` (length) in 2D unless stated; k in inverse length,
hbar = 1, energies in one unit. The exchange term is (delta/2) m . sigma on every site unless
stated (the thin film puts it on the top layer only).

* :class:`QWZ` — the Qi-Wu-Zhang Chern insulator
  H = sin(kx a) sx + sin(ky a) sy + (u + cos(kx a) + cos(ky a)) sz   (energy unit 1),
  X.-L. Qi, Y.-S. Wu, S.-C. Zhang, Phys. Rev. B 74, 085308 (2006).
* :class:`RashbaLattice` — Rashba ferromagnet
  H = -2t (cos kx a + cos ky a) + alpha (sin ky a sx - sin kx a sy) + (delta/2) m . sigma.
  For k a << 1 it is :class:`~spintorque.models.Rashba2DEG` with mass = 1/(2 t a^2) and Rashba
  parameter -alpha a (energy x length), shifted by -4t.
* :class:`LatticeDiracSurface` — a lattice-regularised TI surface
  H = (2 - cos kx a - cos ky a)/(mass a^2) + (vf/a)(-sin ky a sx + sin kx a sy)
      + (delta/2) m . sigma.
  For k a << 1 it is :class:`~spintorque.models.DiracSurface` (vf, delta, mass) with relative
  corrections O((k a)^2). The fermion doublers at (pi, 0), (0, pi), (pi, pi) are pushed up to
  energies 2/(mass a^2), 2/(mass a^2), 4/(mass a^2) by the particle-hole-asymmetric Wilson
  term, which keeps time-reversal symmetry (a Wilson mass on sigma_z would break it).
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .base import PAULI, BlochModel, Disk
from .continuum import _real
from .tight_binding import TightBinding

SX, SY, SZ = PAULI
ID2 = np.eye(2, dtype=complex)
SQUARE = ((1, 0), (0, 1))


def _square(a: float) -> np.ndarray:
    return a * np.eye(2)


def _nearest_neighbour(onsite: np.ndarray, hop_x: np.ndarray, hop_y: np.ndarray) -> dict:
    """{R: H(R)} for a square lattice with H(+x) = hop_x, H(+y) = hop_y and their conjugates."""
    return {
        (0, 0): onsite,
        (1, 0): hop_x,
        (-1, 0): np.conj(hop_x.T),
        (0, 1): hop_y,
        (0, -1): np.conj(hop_y.T),
    }


class QWZ(TightBinding):
    """Qi-Wu-Zhang Chern insulator on the square lattice (Pauli matrices are a pseudospin).

    H = sin(kx a) sx + sin(ky a) sy + (u + cos(kx a) + cos(ky a)) sz + (delta/2) m . sigma.

    Gapped unless u in {-2, 0, 2}; the lower band has Chern number C = 0 for |u| > 2 and
    |C| = 1 for 0 < |u| < 2 with opposite signs on the two sides of u = 0 (the sign in this
    package's conventions is fixed by the Fukui-Hatsugai-Suzuki test).

    Parameters
    ----------
    u : mass parameter (energy, in units of the hopping).
    delta : optional exchange coupling of the pseudospin to m (energy), default 0.
    a : lattice constant (length).
    """

    def __init__(self, u: float = -1.0, *, delta: float = 0.0, a: float = 1.0) -> None:
        self.u = _real("u", u)
        self.a = _real("a", a, positive=True)
        hoppings = _nearest_neighbour(self.u * SZ, 0.5 * (SZ - 1j * SX), 0.5 * (SZ - 1j * SY))
        super().__init__(
            _square(self.a), hoppings, spin_operators=PAULI, delta=_real("delta", delta), name="QWZ"
        )

    def parameters(self) -> dict[str, float]:
        return {"u": self.u, "delta": self.delta, "a": self.a}


class RashbaLattice(TightBinding):
    """Rashba ferromagnet on the square lattice.

    H = -2t (cos kx a + cos ky a) + alpha (sin ky a sx - sin kx a sy) + (delta/2) m . sigma.

    Parameters
    ----------
    t : nearest-neighbour hopping (energy); the kinetic term is -t per bond.
    alpha : Rashba hopping amplitude (energy).
    delta : exchange splitting (energy): exchange (delta/2) m . sigma, so an exchange
        constant J m . sigma is delta = 2 J.
    a : lattice constant (length).
    """

    def __init__(
        self, t: float = 1.0, alpha: float = 0.3, delta: float = 1.0, *, a: float = 1.0
    ) -> None:
        self.t = _real("t", t)
        self.alpha = _real("alpha", alpha)
        self.a = _real("a", a, positive=True)
        hop_x = -self.t * ID2 + 0.5j * self.alpha * SY
        hop_y = -self.t * ID2 - 0.5j * self.alpha * SX
        hoppings = _nearest_neighbour(0 * ID2, hop_x, hop_y)
        super().__init__(
            _square(self.a),
            hoppings,
            spin_operators=PAULI,
            delta=_real("delta", delta),
            name="RashbaLattice",
        )

    def parameters(self) -> dict[str, float]:
        return {"t": self.t, "alpha": self.alpha, "delta": self.delta, "a": self.a}


class LatticeDiracSurface(TightBinding):
    """Lattice-regularised topological-insulator surface (reduces to DiracSurface for k a << 1).

    H = (2 - cos kx a - cos ky a) / (mass a^2) + (vf/a)(-sin ky a sx + sin kx a sy)
        + (delta/2) m . sigma.

    Parameters
    ----------
    vf : Dirac velocity hbar vF (energy x length), > 0.
    delta : exchange splitting (energy).
    a : lattice constant (length).
    mass : mass of the regularising term (hbar^2 / (energy x length^2)), > 0; default
        a / (2 vf), which puts the doublers 4 vf / a above the Dirac point.
    """

    def __init__(
        self, vf: float = 1.0, delta: float = 0.2, *, a: float = 1.0, mass: float | None = None
    ) -> None:
        self.vf = _real("vf", vf, positive=True)
        self.a = _real("a", a, positive=True)
        self.mass = self.a / (2 * self.vf) if mass is None else _real("mass", mass, positive=True)
        wilson = 1.0 / (self.mass * self.a**2)
        vel = self.vf / self.a
        # -vf sin(ky a)/a sx: H(+y) = (i vf / 2a) sx ; +vf sin(kx a)/a sy: H(+x) = (-i vf / 2a) sy
        hop_x = -0.5 * wilson * ID2 - 0.5j * vel * SY
        hop_y = -0.5 * wilson * ID2 + 0.5j * vel * SX
        hoppings = _nearest_neighbour(2 * wilson * ID2, hop_x, hop_y)
        super().__init__(
            _square(self.a),
            hoppings,
            spin_operators=PAULI,
            delta=_real("delta", delta),
            name="LatticeDiracSurface",
        )

    def parameters(self) -> dict[str, float]:
        return {"vf": self.vf, "delta": self.delta, "a": self.a, "mass": self.mass}


# --- thin film of a 3D topological insulator -------------------------------------------------

# Four-band k.p parameters of Bi2Se3 in the convention of Zhang et al. (energies eV, lengths A):
#   H = eps(k) + M(k) Gamma_5 + A1 kz Gamma_3 + A2 (kx Gamma_1 + ky Gamma_2),
#   eps = C + D1 kz^2 + D2 kp^2,  M = M - B1 kz^2 - B2 kp^2  (band inversion: M B1 > 0).
# zhang2009: H. Zhang et al., Nat. Phys. 5, 438 (2009), the fitted Bi2Se3 parameters of their
#   four-band model. Cross-checked: the same eight numbers are quoted by several public NumPy
#   codes of this model (slab spectra, Green functions).
# liu2010: C.-X. Liu et al., Phys. Rev. B 82, 045122 (2010), their table of Bi2Se3 parameters
#   of the four-band model H0 = eps + M Gamma_5 + B0 Gamma_4 kz + A0 (Gamma_1 ky - Gamma_2 kx),
#   eps = C0 + C1 kz^2 + C2 kp^2, M = M0 + M1 kz^2 + M2 kp^2 with C0 = -0.0083 eV,
#   C1 = 5.74, C2 = 30.4 eV A^2, M0 = -0.28 eV, M1 = 6.86, M2 = 44.5 eV A^2, B0 = 2.26,
#   A0 = 3.33 eV A (cross-checked against a public Fortran code citing the same table; their
#   k^3 terms R1 = 50.6, R2 = -113.3 eV A^3 are not in this model). Written here in the Zhang
#   convention: M = -M0, B1 = M1, B2 = M2 (the orbital swap tau_x maps M Gamma_5 -> -M Gamma_5
#   and leaves Gamma_1,2,3 alone), A1 = B0, A2 = A0, C = C0, D1 = C1, D2 = C2. The two forms
#   differ by a basis change (Liu's in-plane term is Zhang's rotated by 90 degrees about z, and
#   Gamma_4 kz vs Gamma_3 kz), so the spectra agree.
BI2SE3 = {
    "zhang2009": {
        "C": -0.0068,
        "D1": 1.3,
        "D2": 19.6,
        "M": 0.28,
        "B1": 10.0,
        "B2": 56.6,
        "A1": 2.2,
        "A2": 4.1,
    },
    "liu2010": {
        "C": -0.0083,
        "D1": 5.74,
        "D2": 30.4,
        "M": 0.28,
        "B1": 6.86,
        "B2": 44.5,
        "A1": 2.26,
        "A2": 3.33,
    },
}
QUINTUPLE_LAYER = 9.54  # Angstrom: c / 3 of Bi2Se3 (c = 28.64 A)


def _kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.kron(a, b)


# basis of one layer: (spin up, down) x (orbital P1+, P2-), spin outermost
GAMMA_1 = _kron(SX, SX)  # A2 kx
GAMMA_2 = _kron(SY, SX)  # A2 ky
GAMMA_3 = _kron(SZ, SX)  # A1 kz
GAMMA_5 = _kron(ID2, SZ)  # M(k)
LAYER_SPIN = np.stack([_kron(s, ID2) for s in PAULI])  # sigma (x) tau_0: the pseudospin
SPIN_MATRICES_TOL = 1e-10  # Hermiticity tolerance of user spin matrices (relative)


def _spin_matrices(value) -> np.ndarray:
    """Validate the per-layer spin matrices S_b (3, 4, 4); None -> the pseudospin LAYER_SPIN."""
    if value is None:
        return LAYER_SPIN.copy()
    try:
        arr = np.array(value, dtype=complex)
    except (TypeError, ValueError):
        raise ModelError(
            "spin_matrices must be a numeric array of shape (3, 4, 4) (S_x, S_y, S_z in the "
            f"layer basis), got {type(value).__name__}"
        ) from None
    if arr.shape != (3, 4, 4):
        raise ModelError(f"spin_matrices must have shape (3, 4, 4), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ModelError("spin_matrices must be finite (found nan or inf)")
    err = np.max(np.abs(arr - np.conj(arr.swapaxes(-1, -2))))
    if err > SPIN_MATRICES_TOL * max(1.0, np.max(np.abs(arr))):
        raise ModelError(
            f"spin_matrices must be Hermitian matrices (max |S - S^dagger| = {err:.3g})"
        )
    return arr


class TIThinFilm(BlochModel):
    """Thin film of a 3D TI: four-band k.p model of Bi2Se3 discretised across N quintuple layers.

    In-plane the model is the continuum k.p Hamiltonian (disk |k| <= cutoff, k in 1/A); across
    the film kz -> finite differences on ``n_layers`` sites spaced by ``spacing`` (one site per
    quintuple layer, open boundaries):  kz^2 -> (2 - 2 cos kz d)/d^2, kz -> sin(kz d)/d, i.e.
    hoppings between neighbouring layers
        T = -D1/d^2 + (B1/d^2) Gamma_5 - i A1/(2d) Gamma_3   (layer l -> l + 1).
    The exchange (delta/2) m . S acts on the layers ``exchange_layers`` (default: the top
    layer, index n_layers - 1; layer 0 is the bottom). Spin operators are S summed over
    ``spin_layers`` (default all): pick the top half to get the top-surface spin density from
    :func:`spintorque.response`; :meth:`layer_spin_operators` gives every layer. The exchange and
    the spin operators use the same per-layer matrices S = (S_x, S_y, S_z), so that
    dH/dm_b = (delta/2) sum_{exchange layers} S_b always matches the spin that is measured.

    The 4-band basis per layer is (|P1+ up>, |P2- up>, |P1+ down>, |P2- down>), as in Zhang et
    al.; "up/down" is the J_z = +-1/2 pseudospin. By default S = sigma (x) tau_0, the pseudospin
    (``spin_matrices=None``). The physical spin of these states is not the pseudospin: in the
    atomic-orbital analysis of Liu et al. (2010) each orbital's |+1/2> = u |p_z, up> +
    v |p_+, down> (and its time-reversed partner). For real u, v, and with no inter-orbital
    spin matrix elements (the two orbitals have opposite parity), the Pauli spin is per orbital
    S_x,y = u^2 sigma_x,y and S_z = (u^2 - v^2) sigma_z. The coefficients u, v (or the
    equivalent spin-projection / g-factor matrix elements) could not be verified from a
    published table, so no such preset is shipped; enter them through ``spin_matrices``, e.g.
    ``np.stack([np.kron(s, np.diag(w[b])) for b, s in enumerate(PAULI)])`` with
    w[b] = (weight on P1+, weight on P2-) for S_b. Spin results are in units of that S (Pauli
    normalisation: the default has eigenvalues +-1).

    Parameters
    ----------
    n_layers : number of quintuple layers N (>= 1); 4N bands.
    delta : exchange splitting Delta (eV) on the exchange layers.
    parameters : "zhang2009" (Nat. Phys. 5, 438) or "liu2010" (PRB 82, 045122), or a dict
        with keys C, D1, D2, M, B1, B2, A1, A2 (eV, A).
    spacing : layer spacing d (A), default one quintuple layer, 9.54 A.
    cutoff : in-plane k cutoff (1/A).
    exchange_layers, spin_layers : sequences of layer indices.
    spin_matrices : (3, 4, 4) Hermitian array S_b in the layer basis above, used for the spin
        operators and the exchange of every layer; default (None) the pseudospin
        sigma (x) tau_0. Raises ModelError (naming ``spin_matrices``) for a wrong shape,
        non-finite or non-Hermitian entries.
    """

    dim = 2

    def __init__(
        self,
        n_layers: int = 10,
        delta: float = 0.05,
        *,
        parameters: str | dict = "zhang2009",
        spacing: float = QUINTUPLE_LAYER,
        cutoff: float = 0.3,
        exchange_layers: tuple[int, ...] | None = None,
        spin_layers: tuple[int, ...] | None = None,
        spin_matrices: np.ndarray | None = None,
    ) -> None:
        if (
            isinstance(n_layers, bool)
            or not isinstance(n_layers, (int, np.integer))
            or n_layers < 1
        ):
            raise ModelError(f"n_layers must be a positive integer, got {n_layers!r}")
        self.n_layers = int(n_layers)
        self.n_bands = 4 * self.n_layers
        self.delta = _real("delta", delta)
        self.spacing = _real("spacing", spacing, positive=True)
        self.cutoff = _real("cutoff", cutoff, positive=True)
        self.k_domain = Disk(self.cutoff)
        self.params = self._parameter_set(parameters)
        self.spin_matrices = _spin_matrices(spin_matrices)
        self.spin_model = "pseudospin" if spin_matrices is None else "custom"
        self.parameter_set = parameters if isinstance(parameters, str) else "custom"
        self.exchange_layers = self._layers(
            exchange_layers, (self.n_layers - 1,), "exchange_layers"
        )
        self.spin_layers = self._layers(spin_layers, tuple(range(self.n_layers)), "spin_layers")
        self.spin_operators = self.layer_spin_operators()[list(self.spin_layers)].sum(axis=0)
        self._exchange = (
            0.5 * self.delta * self.layer_spin_operators()[list(self.exchange_layers)].sum(axis=0)
        )
        self._static = self._static_part()

    @staticmethod
    def _parameter_set(parameters) -> dict[str, float]:
        keys = ("C", "D1", "D2", "M", "B1", "B2", "A1", "A2")
        if isinstance(parameters, str):
            if parameters not in BI2SE3:
                raise ModelError(
                    f"parameters must be one of {sorted(BI2SE3)} or a dict, got {parameters!r}"
                )
            return dict(BI2SE3[parameters])
        if not isinstance(parameters, dict) or set(parameters) != set(keys):
            raise ModelError(f"a parameter dict must have exactly the keys {keys}")
        return {k: _real(k, parameters[k]) for k in keys}

    def _layers(self, layers, default, label) -> tuple[int, ...]:
        layers = default if layers is None else tuple(int(x) for x in layers)
        if not layers or any(not 0 <= x < self.n_layers for x in layers):
            raise ModelError(
                f"{label} must be layer indices in 0..{self.n_layers - 1}, got {layers!r}"
            )
        return layers

    def layer_spin_operators(self) -> np.ndarray:
        """The spin matrices S_b on each layer separately, shape (n_layers, 3, 4N, 4N)."""
        out = np.zeros((self.n_layers, 3, self.n_bands, self.n_bands), dtype=complex)
        for layer in range(self.n_layers):
            sl = slice(4 * layer, 4 * layer + 4)
            out[layer, :, sl, sl] = self.spin_matrices
        return out

    def _static_part(self) -> np.ndarray:
        """k-independent part: on-site C + 2 D1/d^2 + (M - 2 B1/d^2) Gamma_5, layer hoppings."""
        p, d2 = self.params, self.spacing**2
        onsite = (p["C"] + 2 * p["D1"] / d2) * np.eye(4) + (p["M"] - 2 * p["B1"] / d2) * GAMMA_5
        hop = (
            -p["D1"] / d2 * np.eye(4)
            + p["B1"] / d2 * GAMMA_5
            - 0.5j * p["A1"] / self.spacing * GAMMA_3
        )
        shift = np.eye(self.n_layers, k=1)
        return (
            np.kron(np.eye(self.n_layers), onsite)
            + np.kron(shift, hop)
            + np.kron(shift.T, hop.conj().T)
        )

    def _add_blocks(self, base: np.ndarray, blocks: np.ndarray) -> np.ndarray:
        """base (4N, 4N) + block-diagonal copies of blocks (Nk, 4, 4) -> (Nk, 4N, 4N)."""
        nk, n = len(blocks), self.n_layers
        out = np.broadcast_to(base, (nk, 4 * n, 4 * n)).copy()
        view = out.reshape(nk, n, 4, n, 4)
        idx = np.arange(n)
        view[:, idx, :, idx, :] += blocks[None]  # advanced indices first: (n, nk, 4, 4)
        return out

    def hamiltonian(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        k = np.atleast_2d(np.asarray(k, dtype=float))
        p = self.params
        k2 = np.sum(k**2, axis=1)[:, None, None]
        blocks = (
            p["D2"] * k2 * np.eye(4)
            - p["B2"] * k2 * GAMMA_5
            + p["A2"] * (k[:, 0, None, None] * GAMMA_1 + k[:, 1, None, None] * GAMMA_2)
        )
        base = self._static + np.einsum("b,bij->ij", np.asarray(m, dtype=float), self._exchange)
        return self._add_blocks(base, blocks)

    def velocity(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        k = np.atleast_2d(np.asarray(k, dtype=float))
        p = self.params
        out = []
        for j, gamma in enumerate((GAMMA_1, GAMMA_2)):
            kj = k[:, j, None, None]
            blocks = 2 * p["D2"] * kj * np.eye(4) - 2 * p["B2"] * kj * GAMMA_5 + p["A2"] * gamma
            out.append(
                self._add_blocks(np.zeros((self.n_bands, self.n_bands), dtype=complex), blocks)
            )
        return np.stack(out, axis=1)

    def exchange_derivative(self, k: np.ndarray, m: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._exchange, (len(k), 3, self.n_bands, self.n_bands)).copy()

    def parameters(self) -> dict[str, float]:
        return {
            "n_layers": self.n_layers,
            "delta": self.delta,
            "spacing": self.spacing,
            "cutoff": self.cutoff,
            **self.params,
            **({} if self.spin_model == "pseudospin" else {"spin_matrices": "custom"}),
        }


def layer_spin_density(
    film: TIThinFilm,
    k: np.ndarray,
    m: np.ndarray,
    ef: float,
    eta: float,
    *,
    dm_dt: np.ndarray | None = None,
    force: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Layer-resolved nonequilibrium spin density Tr[sigma_layer rho_neq(k)] at k points.

    Traces :func:`spintorque.kernels.nonequilibrium_density_matrix` (drive dH/dm . dm_dt +
    v . force, T = 0) with every layer's spin operator. Returns {"sea", "surface"} arrays of
    shape (Nk, n_layers, 3) (Pauli, per k point; integrate with d^2k/(2 pi)^2). For integrated
    layer-resolved responses, build the film with ``spin_layers`` and call
    :func:`spintorque.response`.
    """
    from ..kernels import nonequilibrium_density_matrix

    rho = nonequilibrium_density_matrix(film, k, m, ef, eta, dm_dt=dm_dt, force=force)
    ops = film.layer_spin_operators()
    return {part: np.einsum("lbij,kji->klb", ops, r).real for part, r in rho.items()}
