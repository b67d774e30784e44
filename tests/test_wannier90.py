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
