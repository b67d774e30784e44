"""The ``spintorque`` command: run, show, plot, exit codes, and resume after SIGKILL."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spintorque import cli
from spintorque.io.netcdf import read_dataset, read_json

SRC = Path(__file__).resolve().parents[1] / "src"
POINT = """
title = "cheap point"
[model]
name = "DiracSurface"
vf = 1.0
delta = 0.2
cutoff = 5.0

[response]
ef = 0.3
eta = 0.05
m = [0, 0, 1]
rtol = 1e-3
"""
SWEEP = (
    POINT.replace("m = [0, 0, 1]\n", "")
    + """
[sweep]
theta = [0, 90]
"""
)


def write(tmp_path, text, name="run.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def command(*args):
    """argv for running the CLI in a fresh interpreter (as the installed script does)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    return [sys.executable, "-m", "spintorque.cli", *map(str, args)], env


def test_single_point_run_prints_tensors_and_writes_files(tmp_path, capsys):
    out = tmp_path / "out"
    status = cli.main(
        ["run", str(write(tmp_path, POINT)), "--out", str(out), "--workers", "1", "--quiet"]
    )
    text = capsys.readouterr().out
    assert status == 0
    assert "spin_force = Lambda[sigma_a, v_j]" in text and "surface" in text and "j=x" in text
    assert "1 task(s) computed" in text
    assert (out / "result.nc").exists() and (out / "summary.json").exists()
    summary = read_json(out / "summary.json")
    assert summary["converged"] and summary["n_points"] == 1
    assert len(summary["blocks"]["spin_force"]["total"]) == 3
    assert not (out / "figures").exists()  # nothing is swept: nothing to plot

    assert cli.main(["run", str(write(tmp_path, POINT)), "--out", str(out), "--quiet"]) == 0
    assert "nothing to do" in capsys.readouterr().out

    assert cli.main(["show", str(out / "result.nc")]) == 0
    shown = capsys.readouterr().out
    assert "DiracSurface" in shown and "cheap point" in shown and "exchange_force" in shown


def test_sweep_run_show_and_plot(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert (
        cli.main(
            ["run", str(write(tmp_path, SWEEP)), "--out", str(out), "--workers", "2", "--quiet"]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "sweep theta" in text and "2 task(s) computed" in text and "6 figures" in text
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figures == sorted(f"{b}_vs_theta.png" for b in cli_blocks())
    for png in (out / "figures").glob("*.png"):
        png.unlink()
    assert cli.main(["plot", str(out / "result.nc")]) == 0
    assert "wrote 6 figures" in capsys.readouterr().out
    assert len(list((out / "figures").glob("*.png"))) == 6
    assert cli.main(["show", str(out / "result.nc")]) == 0
    assert "2 values, 0 .. 90" in capsys.readouterr().out


def cli_blocks():
    from spintorque.plotting import BLOCKS

    return BLOCKS


def test_changed_config_in_the_same_folder_needs_force(tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        cli.main(
            ["run", str(write(tmp_path, POINT)), "--out", str(out), "--workers", "1", "--quiet"]
        )
        == 0
    )
    changed = write(tmp_path, POINT.replace("eta = 0.05", "eta = 0.06"), "changed.toml")
    capsys.readouterr()
    assert cli.main(["run", str(changed), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "different config" in err and "--force" in err
    assert (
        cli.main(["run", str(changed), "--out", str(out), "--quiet", "--force", "--workers", "1"])
        == 0
    )
    assert read_dataset(out / "result.nc").attrs["config"].count('"eta": 0.06') == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            POINT.replace("eta = 0.05", "eta = -0.05"),
            "response.eta = -0.05: Input should be greater than 0",
        ),
        (POINT.replace('"DiracSurface"', '"Dirac"'), "model.name = 'Dirac': unknown model"),
        (POINT.replace("rtol = 1e-3", "rtol = 1e-3\nspeed = 2"), "response.speed = 2: unknown key"),
    ],
)
def test_invalid_config_exits_2_with_the_message(tmp_path, capsys, text, expected):
    out = tmp_path / "never"
    assert cli.main(["run", str(write(tmp_path, text)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not out.exists()  # nothing started


def test_invalid_config_in_a_real_process_has_no_traceback(tmp_path):
    argv, env = command(
        "run", write(tmp_path, POINT.replace("rtol = 1e-3", "rtol = 0.5")), "--out", tmp_path / "o"
    )
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "response.rtol = 0.5" in proc.stderr and "less than 0.1" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_missing_files_and_bad_arguments(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "none.toml")]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    assert cli.main(["show", str(tmp_path / "none.nc")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["run", str(write(tmp_path, POINT)), "--workers", "0"]) == 2
    assert (
        cli.main(["run", str(write(tmp_path, POINT)), "--workers", "2", "--scheduler", "tcp://h:1"])
        == 2
    )
    assert "does not apply" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "x.toml", "--dask", "local", "--scheduler", "tcp://h:1"])
    assert info.value.code == 2


def test_missing_dask_is_reported_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    status = cli.main(
        ["run", str(write(tmp_path, SWEEP)), "--out", str(tmp_path / "o"), "--dask", "local"]
    )
    err = capsys.readouterr().err
    assert status == 1 and "pip install 'spintorque[dask]'" in err


def test_progress_bar_counts_points(capsys):
    bar = cli.RichProgress(enabled=True)
    for done in range(4):
        bar(done, 3)
    bar.close()
    err = capsys.readouterr().err
    assert "3/3" in err and "pt/s" in err and "ETA" in err
    quiet = cli.RichProgress(enabled=False)
    quiet(0, 3)
    quiet.close()
    assert capsys.readouterr().err == ""


def test_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert "spintorque" in capsys.readouterr().out


def test_sigkill_then_rerun_resumes_and_matches_an_uninterrupted_run(tmp_path, capsys):
    text = SWEEP.replace("theta = [0, 90]", "theta = { start = 0, stop = 170, step = 10 }")
    config = write(tmp_path, text)
    out = tmp_path / "killed"
    argv, env = command("run", config, "--out", out, "--workers", "1", "--quiet", "--no-figures")
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while len(list((out / "points").glob("*.npz"))) < 3 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    finished = {p: p.stat().st_mtime_ns for p in (out / "points").glob("*.npz")}
    assert 3 <= len(finished) < 18, "the run was not interrupted mid-way"
    assert not (out / "result.nc").exists()

    assert (
        cli.main(
            ["run", str(config), "--out", str(out), "--workers", "1", "--quiet", "--no-figures"]
        )
        == 0
    )
    assert f"resumed: {len(finished)} of 18 tasks were already done" in capsys.readouterr().out
    assert all(p.stat().st_mtime_ns == stamp for p, stamp in finished.items())  # not recomputed

    fresh = tmp_path / "fresh"
    assert (
        cli.main(
            ["run", str(config), "--out", str(fresh), "--workers", "1", "--quiet", "--no-figures"]
        )
        == 0
    )
    assert read_dataset(out / "result.nc").identical(read_dataset(fresh / "result.nc"))
