"""Config schema, NetCDF output with units, the ``spintorque dynamics`` command, the examples."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import spintorque as st
from spintorque.dynamics.cli import main
from spintorque.dynamics.config import load_config, parse_config

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("dynamics_*.toml"))

TRAJECTORY = """
experiment = "trajectory"
output = "{tmp}/traj.nc"
figure = "{tmp}/traj.png"

[magnet]
material = "permalloy"
alpha0 = 0.05

[trajectory]
m0 = [0.2, 0.0, 0.98]
field_T = [0.05, 0.0, 0.0]
duration_ns = 0.5
dt_ps = 2.0
"""


def test_examples_parse():
    assert len(EXAMPLES) >= 2
    for path in EXAMPLES:
        assert load_config(path).experiment


def test_unknown_key_is_named():
    with pytest.raises(st.ParameterError, match=r"magnet\.ms: Extra inputs are not permitted"):
        parse_config(
            {
                "experiment": "trajectory",
                "output": "x.nc",
                "magnet": {"ms": 1.0},
                "trajectory": {"duration_ns": 1.0},
            }
        )


def test_missing_section_and_bad_values():
    with pytest.raises(st.ParameterError, match=r"needs a \[switching\] section"):
        parse_config({"experiment": "switching", "output": "x.nc"})
    with pytest.raises(
        st.ParameterError, match=r"magnet\.thickness_nm: Input should be greater than 0"
    ):
        parse_config(
            {
                "experiment": "trajectory",
                "output": "x.nc",
                "magnet": {"thickness_nm": -1.0},
                "trajectory": {"duration_ns": 1.0},
            }
        )


def test_trajectory_command_writes_netcdf_with_units(tmp_path, capsys):
    config = tmp_path / "traj.toml"
    config.write_text(TRAJECTORY.format(tmp=tmp_path.as_posix()))
    assert main([str(config)]) == 0
    ds = xr.open_dataset(tmp_path / "traj.nc", engine="h5netcdf")
    assert ds.m.attrs["units"] == "1" and ds.time.attrs["units"] == "s"
    assert ds.energy_density.attrs["units"] == "J/m^3"
    assert ds.attrs["ms_A_per_m"] == pytest.approx(8e5)
    assert np.max(np.abs(np.linalg.norm(ds.m.values, axis=1) - 1)) < 1e-6
    assert (tmp_path / "traj.png").stat().st_size > 1000
    assert "wrote" in capsys.readouterr().out


def test_invalid_input_exits_with_2(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(
        TRAJECTORY.format(tmp=tmp_path.as_posix()).replace("alpha0 = 0.05", "alpha0 = 5.0")
    )
    assert main([str(config)]) == 2
    assert "magnet.alpha0" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.toml")]) == 2


def test_main_cli_has_the_dynamics_subcommand(tmp_path):
    from spintorque.cli import main as spintorque_main

    config = tmp_path / "traj.toml"
    config.write_text(TRAJECTORY.format(tmp=tmp_path.as_posix()))
    assert spintorque_main(["dynamics", str(config), "--no-figure"]) == 0
    assert (tmp_path / "traj.nc").exists() and not (tmp_path / "traj.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_run(path, tmp_path):
    assert (
        main(
            [str(path), "--output", str(tmp_path / "out.nc"), "--figure", str(tmp_path / "out.png")]
        )
        == 0
    )
    assert (tmp_path / "out.nc").exists()
