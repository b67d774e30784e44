"""Wannier90 hr.dat / tb.dat reading and writing; one model built three ways gives one answer."""

from pathlib import Path

import numpy as np
import pytest

import spintorque as st
import spintorque.io

DATA = Path(__file__).parent / "data"
HR = DATA / "rashba_square_hr.dat"
TB = DATA / "rashba_square_tb.dat"
RASHBA = (
    "-2*t*(cos(kx) + cos(ky))*s0 + alpha*(sin(ky)*sx - sin(kx)*sy)"
    " + delta/2*(mx*sx + my*sy + mz*sz)"
)
M_TILT = np.array([0.36, 0.0, 0.48]) / 0.6
RNG = np.random.default_rng(11)


def _three_ways():
    builtin = st.models.RashbaLattice(t=1.0, alpha=0.3, delta=1.0)
    formula = st.models.from_formula(RASHBA, t=1.0, alpha=0.3, delta=1.0, lattice_vectors=np.eye(2))
    from_hr = st.io.read_wannier90(HR, dim=2, lattice_vectors=np.eye(3), delta=1.0)
    from_tb = st.io.read_wannier90(TB, dim=2, delta=1.0)
    return builtin, formula, from_hr, from_tb


def test_hr_and_tb_files_reproduce_the_builtin_operators():
    # the files hold H(+-x) doubled with ndegen = 2: the weights must be divided out
    models = _three_ways()
    k = RNG.uniform(-4, 4, (12, 2))
    for model in models[1:]:
        for method in ("hamiltonian", "velocity", "exchange_derivative"):
            np.testing.assert_allclose(
                getattr(model, method)(k, M_TILT), getattr(models[0], method)(k, M_TILT), atol=1e-12
            )
    np.testing.assert_allclose(models[3].positions, [[0.25, 0.25], [0.25, 0.25]])
    np.testing.assert_allclose(models[3].lattice_vectors, np.eye(2))


def test_formula_table_and_file_give_the_same_tensors():
    kwargs = {"ef": -1.0, "eta": 0.5, "m": M_TILT, "rtol": 1e-3}
    results = [st.response(model, **kwargs) for model in _three_ways()[:3]]
    for name in ("spin_exchange", "spin_force", "current_force", "current_exchange"):
        ref = results[0][name].values
        scale = np.max(np.abs(ref))
        for other in results[1:]:
            np.testing.assert_allclose(other[name].values, ref, atol=1e-9 * scale)


def test_hr_round_trip(tmp_path):
    model = st.io.read_wannier90(HR, lattice_vectors=np.eye(3))
    out = st.io.write_wannier90_hr(model, tmp_path / "copy_hr.dat")
    again = st.io.read_wannier90(out, lattice_vectors=np.eye(3))
    assert set(again.hoppings()) == set(model.hoppings())
    for r, mat in model.hoppings().items():
        np.testing.assert_allclose(again.hoppings()[r], mat, atol=1e-15)


def test_round_trip_of_a_random_3d_model_with_exchange(tmp_path):
    n = 4
    hop = {
        r: RNG.normal(size=(n, n)) + 1j * RNG.normal(size=(n, n))
        for r in [(0, 0, 0), (1, 0, 0), (0, 1, -1)]
    }
    hop[(0, 0, 0)] = hop[(0, 0, 0)] + hop[(0, 0, 0)].conj().T
    lattice = [[2.0, 0.0, 0.0], [1.0, 1.7, 0.0], [0.0, 0.3, 3.1]]
    model = st.models.TightBinding(lattice, hop, add_conjugates=True, spinor="blocked", delta=0.4)
    path = st.io.write_wannier90_hr(model, tmp_path / "x_hr.dat", m=M_TILT)
    (tmp_path / "x.win").write_text(
        "num_wann = 4\nbegin unit_cell_cart\nbohr\n"
        + "\n".join(" ".join(str(x / 0.529177210903) for x in row) for row in lattice)
        + "\nend unit_cell_cart\n"
    )
    fixed_m = st.io.read_wannier90(path, spinor="blocked")  # lattice from x.win
    np.testing.assert_allclose(fixed_m.lattice_vectors, lattice, atol=1e-12)
    k = RNG.uniform(-2, 2, (5, 3))
    np.testing.assert_allclose(
        fixed_m.hamiltonian(k, np.zeros(3)), model.hamiltonian(k, M_TILT), atol=1e-13
    )
    assert np.all(fixed_m.exchange_derivative(k, M_TILT) == 0)  # delta = 0: a model at fixed m


def test_spinor_orderings_build_spin_operators():
    inter = st.io.read_wannier90(HR, lattice_vectors=np.eye(3), spinor="interleaved")
    blocked = st.io.read_wannier90(HR, lattice_vectors=np.eye(3), spinor="blocked")
    np.testing.assert_allclose(inter.spin_operators, st.models.base.PAULI)
    np.testing.assert_allclose(blocked.spin_operators, st.models.base.PAULI)  # one orbital: same
    with pytest.raises(st.ModelError, match="spinor ordering"):
        st.io.read_wannier90(HR, lattice_vectors=np.eye(3), spinor="sideways")


def test_missing_lattice_is_a_clear_error():
    with pytest.raises(st.ModelError, match="no lattice vectors"):
        st.io.read_wannier90(HR)


def _mutate(tmp_path, source, edit, name="bad_hr.dat"):
    lines = source.read_text().splitlines()
    path = tmp_path / name
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def _replace(lineno, text):
    def edit(lines):
        lines[lineno - 1] = text
        return lines

    return edit


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda lines: lines[:-3], r"truncated: it ends at line 29 while reading hopping"),
        (lambda lines: lines[:2], r"truncated: it ends at line 2 while reading nrpts"),
        (_replace(2, "           3"), r"line 9: lattice vector \(0, -1, 0\) starts before"),
        (_replace(3, "           8"), r"line 5: too many values in the 8 degeneracy weights"),
        (_replace(2, "         two"), r"line 2: non-numeric value 'two' in num_wann"),
        (
            _replace(6, "   -1    0    0    2    1    0.3OO000    0.000000"),
            r"line 6: non-numeric value '0.3OO000'",
        ),
        (_replace(6, "   -1    0    0    2    1    0.300000"), r"line 6: expected 7 columns"),
        (
            _replace(6, "   -1    0    0    3    1    0.300000    0.000000"),
            r"line 6: orbital index out of range",
        ),
        (
            _replace(6, "   -1    0    0    1    1    0.300000    0.000000"),
            r"line 6: duplicate entry",
        ),
        (
            _replace(4, "    2    1    1    1    0    1    2"),
            r"line 4: degeneracy weights must be >= 1",
        ),
        (
            lambda lines: [*lines, "    9    9    9    1    1    1.0    0.0"],
            r"line 33: unexpected extra content",
        ),
    ],
)
def test_malformed_hr_files_name_the_line(tmp_path, edit, match):
    with pytest.raises(st.ModelError, match=match):
        st.io.read_wannier90(_mutate(tmp_path, HR, edit), lattice_vectors=np.eye(3))


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda lines: lines[:-20], r"truncated: it ends at line 71 while reading position entry"),
        (_replace(3, "  0.0  1.0"), r"line 3: expected 3 columns \(lattice vector a_2\)"),
        (_replace(9, "   -1    0"), r"line 9: expected 3 columns \(lattice vector R1 R2 R3\)"),
    ],
)
def test_malformed_tb_files_name_the_line(tmp_path, edit, match):
    with pytest.raises(st.ModelError, match=match):
        st.io.read_wannier90(_mutate(tmp_path, TB, edit, name="bad_tb.dat"))


def test_unreadable_file(tmp_path):
    with pytest.raises(st.ModelError, match="cannot read"):
        st.io.read_wannier90(tmp_path / "absent_hr.dat", lattice_vectors=np.eye(3))


def _same_model(a, b, k, m=M_TILT, atol=0.0):
    assert set(a.hoppings()) == set(b.hoppings())
    for r, mat in a.hoppings().items():
        np.testing.assert_allclose(b.hoppings()[r], mat, rtol=0, atol=atol)
    np.testing.assert_allclose(b.positions, a.positions, rtol=0, atol=atol)
    np.testing.assert_allclose(b.lattice_vectors, a.lattice_vectors, rtol=0, atol=atol)
    for method in ("hamiltonian", "velocity", "exchange_derivative"):
        np.testing.assert_allclose(getattr(b, method)(k, m), getattr(a, method)(k, m), atol=1e-14)


def test_tb_round_trip_keeps_hamiltonian_and_positions(tmp_path):
    # tb.dat -> model -> tb.dat -> model: the same hoppings (ndegen folded in), centres, lattice
    k = RNG.uniform(-4, 4, (8, 3))
    first = st.io.read_wannier90(TB, delta=1.0)
    np.testing.assert_allclose(first.positions, [[0.25, 0.25, 5.0]] * 2)
    out = st.io.write_wannier90_tb(first, tmp_path / "copy_tb.dat")
    second = st.io.read_wannier90(out, delta=1.0)
    _same_model(first, second, k)
    again = st.io.write_wannier90_tb(second, tmp_path / "again_tb.dat", header="x")
    assert again.read_text().splitlines()[1:] == out.read_text().splitlines()[1:]
    # the 2D reading of the same file (R3 summed, in-plane centres) survives the trip too
    flat = st.io.read_wannier90(TB, dim=2, delta=1.0)
    flat_again = st.io.read_wannier90(
        st.io.write_wannier90_tb(flat, tmp_path / "flat_tb.dat"), dim=2, delta=1.0
    )
    _same_model(flat, flat_again, k[:, :2])


def test_tb_and_hr_files_of_one_model_agree(tmp_path):
    # a random 3D model with exchange written both ways: the same H(k), v(k) at random k
    # (hr.dat carries no centres: they are passed back by hand)
    n = 4
    hop = {
        r: RNG.normal(size=(n, n)) + 1j * RNG.normal(size=(n, n))
        for r in [(0, 0, 0), (1, 0, 0), (0, 1, -1), (2, -1, 0)]
    }
    hop[(0, 0, 0)] = hop[(0, 0, 0)] + hop[(0, 0, 0)].conj().T
    lattice = [[2.0, 0.0, 0.0], [1.0, 1.7, 0.0], [0.0, 0.3, 3.1]]
    pos = np.array([[0.1, 0.2, 0.3], [0.5, -0.4, 1.0]] * 2)  # blocked: partners share centres
    model = st.models.TightBinding(
        lattice, hop, add_conjugates=True, spinor="blocked", delta=0.4, positions=pos
    )
    tb = st.io.write_wannier90_tb(model, tmp_path / "x_tb.dat", m=M_TILT)
    hr = st.io.write_wannier90_hr(model, tmp_path / "x_hr.dat", m=M_TILT)
    from_tb = st.io.read_wannier90(tb, spinor="blocked")
    from_hr = st.io.read_wannier90(hr, spinor="blocked", lattice_vectors=lattice, positions=pos)
    np.testing.assert_allclose(from_tb.positions, pos, atol=1e-15)
    k = RNG.uniform(-2, 2, (9, 3))
    zero = np.zeros(3)
    for method in ("hamiltonian", "velocity"):
        np.testing.assert_allclose(
            getattr(from_tb, method)(k, zero), getattr(from_hr, method)(k, zero), atol=1e-13
        )
        np.testing.assert_allclose(
            getattr(from_tb, method)(k, zero), getattr(model, method)(k, M_TILT), atol=1e-13
        )


def test_tb_writer_accepts_a_hopping_table(tmp_path):
    sx, sy, sz = st.models.base.PAULI
    hop = {(0, 0): 0.1 * sz, (1, 0): (sz - 1j * sx) / 2, (0, 1): (sz - 1j * sy) / 2}
    model = st.models.TightBinding(np.eye(2), hop, add_conjugates=True)
    table = model.hoppings()
    out = st.io.write_wannier90_tb(table, tmp_path / "qwz_tb.dat", lattice=np.eye(2))
    back = st.io.read_wannier90(out, dim=2)
    _same_model(model, back, RNG.uniform(-3, 3, (5, 2)))
    np.testing.assert_allclose(st.io.read_wannier90(out).lattice_vectors, np.eye(3))


def test_tb_writer_is_atomic_and_replaces(tmp_path):
    target = tmp_path / "m_tb.dat"
    target.write_text("old content\n")
    model = st.io.read_wannier90(TB)
    st.io.write_wannier90_tb(model, target)
    st.io.write_wannier90_hr(model, tmp_path / "m_hr.dat")
    assert target.read_text().startswith("written by spintorque")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m_hr.dat", "m_tb.dat"]  # no temps


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (({(0, 0): np.eye(2)},), {}, r"carries no lattice"),
        (({(0, 0): np.eye(2)},), {"lattice": np.eye(2), "m": (0, 0, 1)}, r"m needs a Tight"),
        (({(0,): np.eye(2)},), {"lattice": np.eye(2)}, r"tuples of 2 or 3 integers"),
        (({(1, 0): np.eye(2)},), {"lattice": np.eye(2)}, r"has no partner"),
        (({(0, 0): np.eye(2)},), {"lattice": np.ones((2, 2))}, r"linearly independent"),
        (({(0, 0): np.eye(2)},), {"lattice": np.eye(2), "positions": [0, 0]}, r"positions must"),
        (("model.npz",), {}, r"TightBinding model or a mapping"),
    ],
)
def test_tb_writer_errors(tmp_path, args, kwargs, match):
    with pytest.raises(st.ModelError, match=match):
        st.io.write_wannier90_tb(*args, tmp_path / "bad_tb.dat", **kwargs)
    assert not list(tmp_path.iterdir())
