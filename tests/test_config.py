"""Run configs: schema, ranges, normalisation, hashing, and one clear message per mistake."""

from pathlib import Path

import numpy as np
import pytest

import spintorque as st
from spintorque.io.config import (
    ConfigError,
    angles_to_vector,
    load_config,
    parse_config,
    vector_to_angles,
)
from spintorque.models.registry import get_model, model_names, model_parameters, model_registry

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RUN_EXAMPLES = [
    "ti_surface",
    "ti_ef_sweep",
    "ti_eta_sweep",
    "ti_m_angle_sweep",
    "rashba_delta_temperature",
]

BASE = """
[model]
name = "DiracSurface"
vf = 1.0
delta = 0.2
cutoff = 5.0

[response]
ef = 0.3
eta = 0.05
rtol = 1e-3
"""


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="test.toml")
    return str(info.value)


@pytest.mark.parametrize("name", RUN_EXAMPLES)
def test_shipped_examples_are_valid(name):
    spec = load_config(EXAMPLES / f"{name}.toml")
    assert spec.model_name in model_names()
    assert spec.n_tasks >= 1


def test_examples_cover_the_required_runs():
    names = {p.stem for p in EXAMPLES.glob("*.toml")}
    assert {"ti_surface", "ti_ef_sweep", "ti_eta_sweep", "ti_m_angle_sweep"} <= names
    assert load_config(EXAMPLES / "ti_surface.toml").axes == ()
    assert [a.name for a in load_config(EXAMPLES / "ti_ef_sweep.toml").axes] == ["ef"]
    eta = load_config(EXAMPLES / "ti_eta_sweep.toml").axes[0]
    assert eta.name == "eta" and eta.spacing == "log"
    np.testing.assert_allclose(np.diff(np.log(eta.values)), np.log(10) / 4)
    angles = load_config(EXAMPLES / "ti_m_angle_sweep.toml")
    assert [a.name for a in angles.axes] == ["theta", "phi"] and angles.n_tasks == 26


def test_defaults_and_normalised_m():
    spec = parse_config(BASE.replace("rtol = 1e-3", "m = [0, 0, 2]"))
    assert spec.response["m"] == [0.0, 0.0, 1.0]
    assert spec.response["temperature"] == 0.0 and spec.response["rtol"] == 1e-6
    assert spec.response["on_unconverged"] == "warn"
    assert "max_memory" not in spec.response  # the response's default budget
    assert spec.n_tasks == 1 and spec.n_points == 1
    budget = parse_config(BASE.replace("rtol = 1e-3", "max_memory = 2000000000"))
    assert budget.response["max_memory"] == 2_000_000_000


def test_ranges_expand_with_stop_included():
    spec = parse_config(
        BASE.replace("ef = 0.3\n", "").replace("eta = 0.05\n", "").replace("delta = 0.2\n", "")
        + """
[sweep]
ef = { start = -0.2, stop = 0.2, num = 5 }
theta = { start = 0, stop = 90, step = 15 }
eta = { start = 0.01, stop = 1.0, num = 3, log = true }
delta = [0.1, 0.3]
"""
    )
    axes = {a.name: a for a in spec.axes}
    np.testing.assert_allclose(axes["ef"].values, [-0.2, -0.1, 0.0, 0.1, 0.2])
    assert axes["theta"].values == (0, 15, 30, 45, 60, 75, 90)
    np.testing.assert_allclose(axes["eta"].values, [0.01, 0.1, 1.0])
    assert axes["delta"].kind == "model" and axes["ef"].kind == "response"
    assert spec.n_tasks == 7 * 3 * 2  # ef is grouped into each task
    assert spec.n_points == 5 * 7 * 3 * 2
    assert "eta" not in spec.response and spec.response["phi"] == 0.0


def test_m_vector_becomes_base_angles_when_angles_are_swept():
    spec = parse_config(BASE.replace("rtol = 1e-3", "m = [0, 1, 0]") + "[sweep]\ntheta = [0, 90]\n")
    assert spec.response["phi"] == pytest.approx(90.0)
    assert "m" not in spec.response


def test_angles_are_exact_at_right_angles():
    assert angles_to_vector(90, 0) == (1.0, 0.0, 0.0)
    assert angles_to_vector(90, 90) == (0.0, 1.0, 0.0)
    assert angles_to_vector(180, 270) == (-0.0, 0.0, -1.0)
    m = angles_to_vector(37.0, 123.0)
    assert np.linalg.norm(m) == pytest.approx(1.0, abs=1e-15)
    assert vector_to_angles(m) == pytest.approx((37.0, 123.0))


def test_hash_depends_on_the_physics_only():
    ranged = parse_config(
        BASE.replace("ef = 0.3\n", "") + "[sweep]\nef = {start = 0.1, stop = 0.3, num = 3}\n"
    )
    listed = parse_config(BASE.replace("ef = 0.3\n", "") + "[sweep]\nef = [0.1, 0.2, 0.3]\n")
    titled = parse_config(
        'title = "x"\n'
        + BASE.replace("ef = 0.3\n", "")
        + "[sweep]\nef = {start = 0.1, stop = 0.3, num = 3}\n"
    )
    assert ranged.config_hash == titled.config_hash
    assert [a.values for a in ranged.axes] == [a.values for a in listed.axes]
    assert ranged.config_hash == listed.config_hash
    assert (
        parse_config(BASE).config_hash
        != parse_config(BASE.replace("eta = 0.05", "eta = 0.06")).config_hash
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: t + "\n[extra]\nx = 1\n",
            ["extra", "unknown key", "allowed: title, model, response, sweep"],
        ),
        (
            lambda t: t.replace("eta = 0.05", "eta = 0.05\netta = 1"),
            ["response.etta", "did you mean 'eta'"],
        ),
        (
            lambda t: t.replace("eta = 0.05", 'eta = "0.05"'),
            ["response.eta", "'0.05'", "valid number"],
        ),
        (lambda t: t.replace("eta = 0.05", "eta = 0.0"), ["response.eta = 0.0", "greater than 0"]),
        (lambda t: t.replace("eta = 0.05", "eta = -1"), ["response.eta = -1", "greater than 0"]),
        (
            lambda t: t.replace("rtol = 1e-3", "rtol = 0.2"),
            ["response.rtol = 0.2", "less than 0.1"],
        ),
        (
            lambda t: t.replace("rtol = 1e-3", "rtol = 0.0"),
            ["response.rtol = 0.0", "greater than or equal"],
        ),
        (
            lambda t: t.replace("rtol = 1e-3", "m = [0, 0, 0]"),
            ["response.m = [0, 0, 0]", "zero length"],
        ),
        (lambda t: t.replace("rtol = 1e-3", "m = [0, 1]"), ["response.m", "at least 3"]),
        (lambda t: t.replace("rtol = 1e-3", "m = [0, 0, 1]\ntheta = 3"), ["either as a vector"]),
        (lambda t: t.replace("rtol = 1e-3", "temperature = -0.1"), ["response.temperature = -0.1"]),
        (
            lambda t: t.replace("ef = 0.3", "ef = [0.1, 0.2]"),
            ["response.ef = [0.1, 0.2]", "go in [sweep]"],
        ),
        (lambda t: t.replace("ef = 0.3\n", ""), ["response.ef: missing"]),
        (
            lambda t: (
                t.replace("ef = 0.3\n", "")
                + "[sweep]\nef = {start = 0.5, stop = 0.1, step = 0.1}\n"
            ),
            ["sweep.ef", "gives no points"],
        ),
        (
            lambda t: (
                t.replace("ef = 0.3\n", "") + "[sweep]\nef = {start = 0.1, stop = 0.5, num = 0}\n"
            ),
            ["sweep.ef", "num = 0 gives no points"],
        ),
        (
            lambda t: t.replace("ef = 0.3\n", "") + "[sweep]\nef = []\n",
            ["sweep.ef = []", "no points"],
        ),
        (
            lambda t: t.replace("ef = 0.3\n", "") + "[sweep]\nef = {start = 0.1, stop = 0.5}\n",
            ["sweep.ef", "exactly one of num"],
        ),
        (
            lambda t: (
                t.replace("ef = 0.3\n", "")
                + "[sweep]\nef = {start = 0.1, stop = 0.5, num = 3, lg = 1}\n"
            ),
            ["sweep.ef.lg", "unknown key"],
        ),
        (lambda t: t.replace("ef = 0.3\n", "") + "[sweep]\nef = [0.1, 'a']\n", ["sweep.ef", "'a'"]),
        (
            lambda t: t.replace("ef = 0.3\n", "") + "[sweep]\nef = [0.1, 0.1]\n",
            ["sweep.ef", "distinct"],
        ),
        (lambda t: t + "[sweep]\nef = [0.1, 0.2]\n", ["sweep.ef: also given in [response]"]),
        (
            lambda t: t.replace("eta = 0.05\n", "") + "[sweep]\neta = [0.1, -0.1]\n",
            ["sweep.eta", "value -0.1", "greater than 0"],
        ),
        (
            lambda t: t + "[sweep]\ndelt = [0.1]\n",
            ["sweep.delt", "did you mean 'delta'", "allowed: ef"],
        ),
        (lambda t: t + "[sweep]\ndelta = [0.1]\n", ["model.delta: also given in [sweep]"]),
        (
            lambda t: t + "[sweep]\ntheta = [0, 200]\n",
            ["sweep.theta", "value 200.0", "less than or equal to 180"],
        ),
        (
            lambda t: t.replace("vf = 1.0\n", ""),
            ["model.vf: missing", "DiracSurface needs vf, delta, cutoff"],
        ),
        (
            lambda t: t.replace('"DiracSurface"', '"DiracSurfce"'),
            ["model.name = 'DiracSurfce'", "did you mean 'DiracSurface'", "allowed:", "Rashba2DEG"],
        ),
        (
            lambda t: t.replace("vf = 1.0", "vf = 1.0\nvff = 2"),
            ["model.vff", "unknown parameter", "allowed: vf"],
        ),
        (lambda t: t.replace("vf = 1.0", "vf = -1.0"), ["model.vf = -1.0", "vf must be > 0"]),
        (
            lambda t: t.replace("cutoff = 5.0", 'cutoff = "big"'),
            ["model.cutoff = 'big'", "real number"],
        ),
        (
            lambda t: t.replace("cutoff = 5.0\n", "") + "[sweep]\ncutoff = [5.0, -1.0]\n",
            ["sweep.cutoff: value -1.0", "cutoff"],
        ),
        (lambda t: t.replace("[model]", "[model\n"), ["not valid TOML"]),
        (
            lambda t: t.replace("eta = 0.05", 'eta = 0.05\nblocks = ["current"]'),
            ["response.blocks[0] = 'current'", "'current_force'"],
        ),
        (
            lambda t: t.replace("eta = 0.05", "eta = 0.05\nblocks = []"),
            ["response.blocks", "at least 1 item"],
        ),
        (lambda t: t.replace('name = "DiracSurface"', ""), ["model.name: missing"]),
        (
            lambda t: t.replace("eta = 0.05", "eta = 0.05\nmax_memory = 0"),
            ["response.max_memory", "greater than 0"],
        ),
    ],
)
def test_invalid_configs_give_one_clear_message(edit, expected):
    message = problems(edit(BASE))
    assert message.startswith("invalid config test.toml:")
    for part in expected:
        assert part in message, f"{part!r} not in:\n{message}"


def test_every_problem_is_listed_at_once():
    message = problems(BASE.replace("eta = 0.05", "eta = -1").replace("rtol = 1e-3", "rtol = 5.0"))
    assert "response.eta" in message and "response.rtol" in message


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_config_error_is_a_spintorque_error():
    assert issubclass(ConfigError, st.SpintorqueError) and issubclass(ConfigError, ValueError)


# ---------------------------------------------------------------- model registry


def test_registry_has_the_continuum_models_and_every_exported_model_class():
    registry = model_registry()
    assert registry["DiracSurface"] is st.models.DiracSurface
    assert registry["Rashba2DEG"] is st.models.Rashba2DEG
    exported = [getattr(st.models, n) for n in st.models.__all__]
    concrete = {
        c.__name__ for c in exported if isinstance(c, type) and issubclass(c, st.models.BlochModel)
    }
    assert set(registry) == concrete - {"BlochModel", "TwoBandContinuum"}
    from spintorque.models import registry as module

    assert module.MODEL_REGISTRY == registry


def test_get_model_builds_by_name_and_refuses_unknowns():
    model = get_model("Rashba2DEG", mass=0.5, alpha=0.2, delta=0.1, cutoff=4.0)
    assert isinstance(model, st.models.Rashba2DEG) and model.alpha == 0.2
    with pytest.raises(st.ModelError, match=r"allowed: .*DiracSurface.*Rashba2DEG"):
        get_model("Graphene")
    with pytest.raises(st.ModelError, match=r"unknown parameter 'alfa'.*did you mean 'alpha'"):
        get_model("Rashba2DEG", alfa=1.0)
    with pytest.raises(st.ModelError, match="delta"):
        get_model("DiracSurface", delta="x")
    params = model_parameters("DiracSurface")
    assert [p for p, info in params.items() if info.required] == ["vf", "delta", "cutoff"]
