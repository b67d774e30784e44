"""Figures from result Datasets (Agg canvas, no pyplot)."""

import sys

import numpy as np
import pytest
import xarray as xr

from spintorque import plotting
from spintorque.responses import AXES, PARTS


def fake_result(axes):
    """A result-shaped Dataset with known components: [x, y] ~ axis, [z, z] exact zero."""
    dims = [name for name, _ in axes] + ["part", "i", "j"]
    shape = [len(values) for _, values in axes] + [3, 3, 3]
    first = np.asarray(axes[0][1], dtype=float)
    data_vars = {}
    for block in plotting.BLOCKS:
        value = np.zeros(shape)
        value[..., 0, 1] = first.reshape((-1,) + (1,) * len(axes))
        value[..., 2, 2] = 1e-20  # numerical noise about zero: below its error
        data_vars[block] = (dims, value, {"definition": "Lambda[A, B]"})
        data_vars[f"{block}_error"] = (dims, np.full(shape, 1e-18))
    coords = {
        name: (name, np.asarray(values), {"units": "degree" if name == "theta" else "energy"})
        for name, values in axes
    }
    coords.update({"part": list(PARTS), "i": list(AXES), "j": list(AXES)})
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs["sweep_dims"] = '["' + '", "'.join(name for name, _ in axes) + '"]'
    return ds


def test_components_skip_zeros_and_noise():
    ds = fake_result([("theta", [0.0, 45.0, 90.0])])
    assert plotting._components(ds["spin_force"], ds["spin_force_error"]) == [("x", "y")]


def test_swept_axes_ignore_length_one_axes():
    ds = fake_result([("theta", [0.0, 90.0]), ("eta", [0.01])])
    assert plotting.swept_axes(ds) == ["theta"]


def test_log_axes_are_detected():
    ds = fake_result([("eta", np.geomspace(1e-3, 1e-1, 5))])
    assert plotting._is_log(ds["eta"])
    assert not plotting._is_log(fake_result([("eta", [0.1, 0.2, 0.3])])["eta"])


def test_write_figures_one_png_per_block_and_axis(tmp_path):
    ds = fake_result([("theta", [0.0, 45.0, 90.0]), ("eta", [0.01, 0.1])])
    paths = plotting.write_figures(ds, tmp_path, blocks=("spin_force",))
    assert sorted(p.name for p in paths) == ["spin_force_vs_eta.png", "spin_force_vs_theta.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*.tmp"))
    fig = plotting.block_figure(ds, "spin_force", "theta")
    assert len(fig.axes) == 1 and "eta=0.01" in fig._suptitle.get_text()


def test_single_point_gives_no_figures(tmp_path):
    ds = fake_result([("theta", [0.0])])
    assert plotting.write_figures(ds, tmp_path) == []


def test_plotting_does_not_touch_pyplot(tmp_path):
    if "matplotlib.pyplot" in sys.modules:
        pytest.skip("pyplot already imported by another test")
    plotting.write_figures(fake_result([("theta", [0.0, 90.0])]), tmp_path, blocks=("spin_force",))
    assert "matplotlib.pyplot" not in sys.modules
