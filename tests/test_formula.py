"""Formula-string models: parsing, exact derivatives, equivalence with built-ins, clear errors."""

import numpy as np
import pytest

import spintorque as st

DIRAC = "vf*(kx*sy - ky*sx) + delta/2*(mx*sx + my*sy + mz*sz)"
QWZ = "sin(kx)*sx + sin(ky)*sy + (u + cos(kx) + cos(ky))*sz"
M_TILT = np.array([0.48, 0.0, 0.6]) / np.linalg.norm([0.48, 0.0, 0.6])
RNG = np.random.default_rng(3)


def test_dirac_formula_equals_builtin_operators():
    f = st.models.from_formula(DIRAC, vf=1.3, delta=0.2, cutoff=20.0)
    d = st.models.DiracSurface(vf=1.3, delta=0.2, cutoff=20.0)
    k = RNG.normal(size=(10, 2))
    for method in ("hamiltonian", "velocity", "exchange_derivative"):
        np.testing.assert_allclose(
            getattr(f, method)(k, M_TILT), getattr(d, method)(k, M_TILT), atol=1e-14
        )


def test_dirac_formula_equals_builtin_response():
    kwargs = {"ef": 0.3, "eta": 0.05, "m": M_TILT, "rtol": 1e-5}
    a = st.response(st.models.from_formula(DIRAC, vf=1.0, delta=0.2, cutoff=10.0), **kwargs)
    b = st.response(st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=10.0), **kwargs)
    for name in ("spin_exchange", "spin_force", "current_force"):
        scale = np.max(np.abs(b[name].values))
        np.testing.assert_allclose(a[name].values, b[name].values, atol=1e-9 * scale)


def test_lattice_formula_equals_qwz():
    f = st.models.from_formula(QWZ, u=-1.2, lattice_vectors=np.eye(2))
    q = st.models.QWZ(u=-1.2)
    k = RNG.uniform(-4, 4, (10, 2))
    for method in ("hamiltonian", "velocity", "exchange_derivative"):
        np.testing.assert_allclose(
            getattr(f, method)(k, M_TILT), getattr(q, method)(k, M_TILT), atol=1e-14
        )
    assert isinstance(f.k_domain, st.models.BrillouinZone)


def test_derivatives_are_exact():
    # warping and a k-dependent exchange: compare the symbolic derivatives with finite differences
    f = st.models.from_formula(
        (
            "k2/(2*mass)*s0 + vf*(kx*sy - ky*sx) + lam*(kx^3 - 3*kx*ky^2)*sz"
            " + (1 + g*k2)*J*(mx*sx + my*sy + mz*sz)"
        ).replace("k2", "(kx^2 + ky^2)"),
        mass=0.7,
        vf=1.1,
        lam=0.3,
        g=0.2,
        J=0.15,
        cutoff=5.0,
    )
    k = RNG.normal(size=(6, 2))
    h = 1e-6
    for j in range(2):
        dk = np.eye(2)[j] * h
        fd = (f.hamiltonian(k + dk, M_TILT) - f.hamiltonian(k - dk, M_TILT)) / (2 * h)
        np.testing.assert_allclose(f.velocity(k, M_TILT)[:, j], fd, atol=1e-7)
    for b in range(3):
        dm = np.eye(3)[b] * h
        fd = (f.hamiltonian(k, M_TILT + dm) - f.hamiltonian(k, M_TILT - dm)) / (2 * h)
        np.testing.assert_allclose(f.exchange_derivative(k, M_TILT)[:, b], fd, atol=1e-7)


def test_kronecker_products_build_a_four_band_model():
    spin = ["kron(sx, t0)", "kron(sy, t0)", "kron(sz, t0)"]
    f = st.models.from_formula(
        "A*(kx*kron(sx, tx) + ky*kron(sy, tx)) + (M - B*(kx^2 + ky^2))*kron(s0, tz)"
        " + J/2*mz*kron(sz, t0)",
        A=1.0,
        B=0.5,
        M=0.2,
        J=0.1,
        cutoff=4.0,
        spin_operators=spin,
    )
    assert f.n_bands == 4
    s = f.spin_operators
    np.testing.assert_allclose(s[0] @ s[1] - s[1] @ s[0], 2j * s[2], atol=1e-14)
    # kron(a, b)[(i, j), (k, l)] = a[i, k] b[j, l]: the first factor is outermost
    h = f.hamiltonian(np.array([[0.0, 0.0]]), np.array([0.0, 0.0, 1.0]))[0]
    np.testing.assert_allclose(np.diag(h).real, [0.25, -0.15, 0.15, -0.25], atol=1e-14)
    st.models.check_model(f, M_TILT)


@pytest.mark.parametrize(
    "formula, kwargs, match",
    [
        ("vf*(kx*sy - ky*sx", {"vf": 1.0}, "malformed formula"),
        ("vf*kx*sy +* sx", {"vf": 1.0}, "malformed formula"),
        ("kx*sx + I*ky*sy", {}, "not Hermitian"),
        ("sin(sx)*kx", {}, "inside sin"),
        ("kx*sx + kron(sx, sy)", {}, "different sizes"),
        ("kx*sx + q*sz", {}, r"parameter\(s\) \['q'\] without a value"),
        ("kx*sx", {"vf": 1.0}, r"\['vf'\] do not appear"),
        ("kx + ky", {}, "no Pauli matrix"),
        ("kx*sx + kz*sz", {}, "uses kz"),
        ("kx*sx + sz/(kx - kx)", {}, "non-finite"),
        ("kx*kron(sx, tz)", {}, "give spin_operators"),
        ("kx*sx", {"vf": "fast"}, "vf"),
        ("kx > 1", {}, "not an algebraic"),
    ],
)
def test_bad_formulas_raise_clear_errors(formula, kwargs, match):
    with pytest.raises(st.ModelError, match=match):
        st.models.from_formula(formula, cutoff=5.0, **kwargs)


def test_domain_errors():
    with pytest.raises(st.ModelError, match="exactly one of cutoff"):
        st.models.from_formula("kx*sx")
    with pytest.raises(st.ModelError, match="exactly one of cutoff"):
        st.models.from_formula("kx*sx", cutoff=1.0, lattice_vectors=np.eye(2))
    with pytest.raises(st.ModelError, match="not periodic"):
        st.models.from_formula("kx*sx", lattice_vectors=np.eye(2))
    with pytest.raises(st.ModelError, match="spin_operators must have shape"):
        st.models.from_formula("kx*sx", cutoff=1.0, spin_operators=np.zeros((3, 4, 4)))
