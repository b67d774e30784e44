"""Sweeps: planning, executors (serial, process pool, Dask), collection, checkpoints, resume."""

import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import spintorque as st
from spintorque import sweep
from spintorque.io.config import parse_config
from spintorque.io.netcdf import json_attr, read_dataset, write_dataset

CHEAP = """
[model]
name = "DiracSurface"
vf = 1.0
delta = 0.2
cutoff = 5.0

[response]
eta = 0.05
rtol = 1e-3
"""
SWEEP = (
    CHEAP
    + """
[sweep]
theta = [0, 90]
ef = [0.2, 0.3]
phi = [0, 45]
"""
)


def spec_of(text=SWEEP):
    return parse_config(text)


def test_plan_groups_ef_and_temperature_and_orders_tasks_row_major():
    text = SWEEP.replace("theta = [0, 90]", "theta = [0, 60, 90]")
    spec = spec_of(text.replace("phi = [0, 45]", "phi = [0, 45]\ntemperature = [0.0, 0.01]"))
    plan = sweep.make_plan(spec)
    assert [a.name for a in plan.task_axes] == ["theta", "phi"]
    assert plan.shape == (3, 2) and len(plan.tasks) == 6
    args = [dict(t.arguments) for t in plan.tasks]
    assert all(a["ef"] == [0.2, 0.3] and a["temperature"] == [0.0, 0.01] for a in args)
    assert args[1]["m"] == pytest.approx((0.0, 0.0, 1.0))  # theta=0, phi=45
    assert args[4]["m"] == (1.0, 0.0, 0.0)  # theta=90, phi=0: exact
    assert plan.tasks[3].label == "theta=60, phi=45"


def test_plan_of_model_parameters_and_response_axes():
    text = CHEAP.replace("delta = 0.2\n", "").replace("eta = 0.05\n", "ef = 0.3\n")
    plan = sweep.make_plan(spec_of(text + "[sweep]\ndelta = [0.1, 0.2]\neta = [0.05, 0.1]\n"))
    assert [dict(t.model_params)["delta"] for t in plan.tasks] == [0.1, 0.1, 0.2, 0.2]
    assert [dict(t.arguments)["eta"] for t in plan.tasks] == [0.05, 0.1, 0.05, 0.1]
    assert all(dict(t.arguments)["m"] == [0.0, 0.0, 1.0] for t in plan.tasks)


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    outcome = sweep.run(spec_of(), out, figures=False)
    return outcome, out


def test_result_layout_and_values_match_direct_calls(serial_run):
    outcome, out = serial_run
    ds = read_dataset(out / "result.nc")
    assert ds["spin_force"].dims == ("theta", "phi", "ef", "part", "i", "j")
    assert ds.sizes["theta"] == 2 and ds.sizes["phi"] == 2 and ds.sizes["ef"] == 2
    assert ds["error_estimate"].dims == ("theta", "phi")
    assert ds["theta"].attrs["units"] == "degree"
    assert int(ds.attrs["converged"]) == 1 and outcome.n_computed == 4
    config = json_attr(ds, "config")
    assert config["model"]["name"] == "DiracSurface" and config["sweep"][0][0] == "theta"
    assert json_attr(ds, "units")["theta, phi"] == "degree"
    point = ds.sel(theta=90, phi=45)
    m = point["magnetization"].values
    assert m == pytest.approx([np.sqrt(0.5), np.sqrt(0.5), 0.0], abs=1e-15)
    model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=5.0)
    direct = st.response(model, ef=[0.2, 0.3], eta=0.05, m=tuple(m), rtol=1e-3)
    for name in ("spin_exchange", "spin_force", "current_force_error"):
        np.testing.assert_array_equal(point[name].values, direct[name].values)
    assert (out / "summary.json").exists() and (out / "points" / "point_000003.npz").exists()


def test_collect_uses_plan_order_not_completion_order(serial_run, tmp_path):
    outcome, _ = serial_run
    reverse = lambda fn, items: reversed([fn(x) for x in items])  # noqa: E731
    again = sweep.run(spec_of(), tmp_path, mapper=reverse, figures=False)
    assert again.dataset.identical(outcome.dataset)


def test_process_pool_gives_bit_identical_results(serial_run, tmp_path):
    outcome, _ = serial_run
    with sweep.ProcessPoolMapper(2) as mapper:
        pooled = sweep.run(spec_of(), tmp_path, mapper=mapper, figures=False)
    assert pooled.dataset.identical(outcome.dataset)
    assert read_dataset(tmp_path / "result.nc").identical(read_dataset(serial_run[1] / "result.nc"))


def test_dask_local_cluster_gives_bit_identical_results(serial_run, tmp_path):
    pytest.importorskip("dask.distributed")
    outcome, _ = serial_run
    with sweep.executor("dask-local", workers=2) as mapper:
        distributed = sweep.run(spec_of(), tmp_path, mapper=mapper, figures=False)
        assert distributed.n_computed == 4
        assert len(mapper.client.scheduler_info()["workers"]) == 2
    assert distributed.dataset.identical(outcome.dataset)


def test_missing_dask_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(st.SpintorqueError, match=r"pip install 'spintorque\[dask\]'"):
        sweep.DaskMapper()


def test_numerics_do_not_import_dask():
    import subprocess

    code = (
        "import sys, spintorque, spintorque.sweep, spintorque.cli, spintorque.io.config;"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')];"
        "assert 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_rerun_of_a_finished_run_does_no_work(serial_run):
    _, out = serial_run

    def refuse(fn, items):
        raise AssertionError("no task should run")

    again = sweep.run(spec_of(), out, mapper=refuse, figures=False)
    assert again.already_complete and again.n_computed == 0


def test_changed_config_is_refused_unless_forced(tmp_path):
    sweep.run(spec_of(CHEAP.replace("eta = 0.05", "eta = 0.05\nef = 0.3")), tmp_path, figures=False)
    other = spec_of(CHEAP.replace("eta = 0.05", "eta = 0.1\nef = 0.3"))
    with pytest.raises(sweep.RunDirectoryError, match=r"different config.*--force"):
        sweep.run(other, tmp_path, figures=False)
    forced = sweep.run(other, tmp_path, figures=False, force=True)
    assert (
        forced.n_computed == 1
        and read_dataset(tmp_path / "result.nc").attrs["config_hash"] == other.config_hash
    )


class Crash(Exception):
    pass


def crash_after(count):
    def mapper(fn, items):
        for i, item in enumerate(items):
            if i == count:
                raise Crash
            yield fn(item)

    return mapper


def test_interrupted_run_resumes_without_recomputing(serial_run, tmp_path):
    outcome, _ = serial_run
    with pytest.raises(Crash):
        sweep.run(spec_of(), tmp_path, mapper=crash_after(2), figures=False)
    points = sorted((tmp_path / "points").glob("*.npz"))
    assert len(points) == 2 and not (tmp_path / "result.nc").exists()
    stamps = {p: p.stat().st_mtime_ns for p in points}
    seen = []

    def counting(fn, items):
        items = list(items)
        seen.extend(t.index for t in items)
        return map(fn, items)

    resumed = sweep.run(spec_of(), tmp_path, mapper=counting, figures=False)
    assert seen == [2, 3] and resumed.n_reused == 2 and resumed.n_computed == 2
    assert all(p.stat().st_mtime_ns == stamp for p, stamp in stamps.items())
    assert resumed.dataset.identical(outcome.dataset)


def test_stale_temporaries_and_foreign_points_are_ignored(tmp_path):
    spec = spec_of(CHEAP.replace("eta = 0.05", "eta = 0.05\nef = 0.3"))
    sweep.run(spec, tmp_path, figures=False)
    (tmp_path / "summary.json").unlink()
    point = tmp_path / "points" / "point_000000.npz"
    good = point.read_bytes()
    (tmp_path / "points" / ".point_000000.npz.123.tmp").write_bytes(b"half a file")
    resumed = sweep.run(spec, tmp_path, figures=False)
    assert resumed.n_computed == 0 and resumed.n_reused == 1
    assert not list((tmp_path / "points").glob(".*.tmp"))
    (tmp_path / "summary.json").unlink()
    point.write_bytes(good[: len(good) // 2])  # a point file damaged outside our control
    again = sweep.run(spec, tmp_path, figures=False)
    assert again.n_computed == 1 and again.dataset.identical(resumed.dataset)


def test_task_errors_name_the_point(tmp_path):
    spec = spec_of(
        SWEEP.replace("rtol = 1e-3", "rtol = 1e-10\nmax_points = 1000\non_unconverged = 'raise'")
    )
    with pytest.raises(st.ConvergenceError, match=r"sweep point 0 \(theta=0, phi=0\)"):
        sweep.run(spec, tmp_path, figures=False)


def test_unconverged_points_are_recorded_and_warned(tmp_path):
    text = CHEAP.replace("rtol = 1e-3", "rtol = 1e-10\nmax_points = 1000")
    spec = spec_of(text.replace("eta = 0.05", "eta = 0.005\nef = 0.3"))
    with pytest.warns(st.ConvergenceWarning, match="1 of 1 sweep points did not converge"):
        outcome = sweep.run(spec, tmp_path, figures=False)
    assert int(outcome.dataset["converged"]) == 0 and outcome.warnings


def test_write_dataset_is_atomic_and_netcdf_safe(tmp_path, monkeypatch):
    ds = xr.Dataset(
        {"a": ("x", np.arange(3.0))},
        attrs={"config": {"k": [1, 2]}, "flag": True, "none": None, "v": [1.0, 2.0]},
    )
    path = write_dataset(ds, tmp_path / "r.nc")
    back = read_dataset(path)
    assert json_attr(back, "config") == {"k": [1, 2]} and back.attrs["flag"] == 1
    assert ds.attrs["flag"] is True  # the input is not modified

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(OSError):
        write_dataset(ds.assign(a=ds.a * 2), path)
    assert read_dataset(path).identical(back)  # the old file is intact
    assert [p.name for p in Path(tmp_path).iterdir()] == ["r.nc"]


def test_blocks_in_the_config_restrict_the_result_and_its_figures(tmp_path):
    text = CHEAP.replace("eta = 0.05", 'eta = 0.05\nblocks = ["current_force", "spin_force"]')
    spec = spec_of(text + "[sweep]\nef = [0.2, 0.3]\n")
    outcome = sweep.run(spec, tmp_path, figures=True)
    ds = outcome.dataset
    assert {"current_force", "spin_force"} <= set(ds.data_vars)
    assert "spin_exchange" not in ds and "exchange_force_error" not in ds
    assert sorted(p.name for p in outcome.figures) == [
        "current_force_vs_ef.png",
        "spin_force_vs_ef.png",
    ]
    full = st.response(
        st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=5.0), ef=[0.2, 0.3], eta=0.05, rtol=1e-3
    )
    scale = np.abs(full.current_force).max().item()
    np.testing.assert_allclose(ds.current_force, full.current_force, rtol=0, atol=1e-3 * scale)
