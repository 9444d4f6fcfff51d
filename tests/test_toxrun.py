"""The tox envs' command line (harness/toxrun.py): storage, timing gate only once a run is saved, extra args."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness import toxrun


def test_first_run_saves_and_gates_on_baselines_only(tmp_path):
    storage = tmp_path / ".benchmarks" / "torch241"
    assert not toxrun.has_saved_runs(storage)
    cmd = toxrun.suite_command("torch241", storage, toxrun.has_saved_runs(storage))
    assert cmd[:5] == [sys.executable, "-m", "pytest", "--pyargs", toxrun.SUITES]
    assert f"--benchmark-storage=file://{storage}" in cmd
    assert "--benchmark-save=torch241" in cmd and "--baseline-check" in cmd
    assert not any(a.startswith("--benchmark-compare") for a in cmd)


def test_later_runs_add_the_timing_gate_and_extra_args_come_last(tmp_path):
    storage = tmp_path / "store"
    (storage / "Linux-CPython-3.11-64bit").mkdir(parents=True)
    (storage / "Linux-CPython-3.11-64bit" / "0001_torch2130.json").write_text("{}")
    assert toxrun.has_saved_runs(storage)
    cmd = toxrun.suite_command("torch2130", storage, True, ["--proxies", "synflow"])
    assert "--benchmark-compare" in cmd and "--benchmark-compare-fail=mean:25%" in cmd
    assert cmd[-2:] == ["--proxies", "synflow"]


def test_relative_storage_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cmd = toxrun.suite_command("torch2130", Path("rel/store"), False)
    assert f"--benchmark-storage=file://{tmp_path / 'rel' / 'store'}" in cmd


@pytest.mark.parametrize("name", ["", "a b", "../x"])
def test_env_name_that_cannot_name_a_run_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match="cannot name a saved run"):
        toxrun.suite_command(name, tmp_path, False)


def test_main_runs_the_command_with_suite_args_first(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(toxrun.subprocess, "call", lambda cmd: calls.append(cmd) or 3)
    monkeypatch.setenv("SUITE_ARGS", "--devices 'cpu,cuda'")
    assert toxrun.main(["torch2141", str(tmp_path), "--runs", "5"]) == 3
    assert calls[0][-4:] == ["--devices", "cpu,cuda", "--runs", "5"]
    assert "+ " in capsys.readouterr().out
    assert toxrun.main(["torch2141"]) == 2
    assert "usage:" in capsys.readouterr().err
