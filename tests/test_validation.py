"""Bad input gets a clear, specific error naming the parameter and what is allowed."""

import numpy as np
import pytest

import spintorque as st


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"eta": 0.0}, r"eta must be in \(0"),
        ({"eta": -0.1}, r"eta must be in \(0"),
        ({"eta": float("nan")}, "eta must be in"),
        ({"eta": "small"}, "eta must be a positive number or .clean."),
        ({"ef": float("nan")}, "ef must be finite"),
        ({"ef": [0.1, float("inf")]}, "ef must be finite"),
        ({"ef": []}, "ef is empty"),
        ({"temperature": -0.01}, "temperature must be >= 0"),
        ({"rtol": 0.5}, r"rtol must be in \[1e-10, 0.1\)"),
        ({"rtol": 0.0}, "rtol must be in"),
        ({"m": (0, 0, 0)}, "m has zero length"),
        ({"m": (0, 1)}, "m must be a 3-vector"),
        ({"m": (0, float("nan"), 1)}, "m must be finite"),
        ({"on_unconverged": "ignore"}, "on_unconverged must be 'warn' or 'raise'"),
    ],
)
def test_bad_response_arguments(dirac, kwargs, match):
    args = {"ef": 0.3, "eta": 0.05, "m": (0, 0, 1)} | kwargs
    with pytest.raises(st.ParameterError, match=match):
        st.response(dirac, **args)


def test_unknown_keyword_names_the_keyword_and_suggests(dirac):
    with pytest.raises(
        TypeError, match=r"unknown keyword 'temprature'.*did you mean 'temperature'"
    ):
        st.response(dirac, ef=0.3, eta=0.05, temprature=0.01)


def test_non_unit_m_is_normalised_with_a_warning(dirac):
    with pytest.warns(st.InputWarning, match="normalised"):
        res = st.response(dirac, ef=0.3, eta=0.05, m=(0, 0, 2), rtol=1e-3)
    assert res.attrs["m"] == [0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: st.models.DiracSurface(vf=-1.0), "vf must be > 0"),
        (lambda: st.models.DiracSurface(cutoff=0.0), "cutoff must be > 0"),
        (lambda: st.models.DiracSurface(delta=float("nan")), "delta must be finite"),
        (lambda: st.models.DiracSurface(mass=0.0), "mass must be nonzero"),
        (lambda: st.models.Rashba2DEG(mass=-1.0), "mass must be > 0"),
        (lambda: st.models.Rashba2DEG(alpha="big"), "alpha must be a real number"),
    ],
)
def test_bad_model_parameters(build, match):
    with pytest.raises(st.ModelError, match=match):
        build()


class NonHermitian(st.models.DiracSurface):
    def hamiltonian(self, k, m):
        h = super().hamiltonian(k, m)
        h[:, 0, 1] += 0.1
        return h


class WrongShape(st.models.DiracSurface):
    def velocity(self, k, m):
        return super().velocity(k, m)[:, :1]


def test_malformed_user_models_are_refused():
    with pytest.raises(st.ModelError, match="hamiltonian is not Hermitian"):
        st.response(NonHermitian(), ef=0.3, eta=0.05)
    with pytest.raises(
        st.ModelError, match=r"velocity returned shape \(4, 1, 2, 2\), expected \(4, 2, 2, 2\)"
    ):
        st.response(WrongShape(), ef=0.3, eta=0.05)
    with pytest.raises(st.ModelError, match="has no method hamiltonian"):
        st.response(object(), ef=0.3, eta=0.05)


def test_derived_quantities_validate(dirac):
    res = st.response(dirac, ef=0.3, eta=0.05, rtol=1e-3)
    with pytest.raises(st.ParameterError, match="s_fm must be a finite positive number"):
        st.gilbert_damping(res, s_fm=0.0)
    with pytest.raises(st.ParameterError, match="field must be a finite nonzero 3-vector"):
        st.spin_orbit_torque(dirac, ef=0.3, eta=0.05, m=(0, 0, 1), field=(0, 0, 0))
    assert np.isfinite(st.gilbert_damping(res, s_fm=10.0).values).all()
