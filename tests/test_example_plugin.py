"""The worked example of bringing your own proxy and searcher (examples/my-proxy), as a user would run it:
the harness and the example are built as wheels and installed into a fresh virtual environment, the suites run
from a folder outside this repository over the example's proxy (found through its entry points) beside
synflow, its baselines are written there and checked, and a sign flip of the proxy fails the gate."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "my-proxy"
SUITE = ["--pyargs", "harness.suites", "-p", "no:cacheprovider", "--proxies", "zico,synflow",
         "--searchers", "rea-double", "--datasets", "cifar10", "--space", "tss", "--archs", "20", "--runs", "3",
         "--baselines", "my-baselines"]


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], check=False, cwd=cwd, capture_output=True, text=True,
                          timeout=900)


def wheel(source: Path, out: Path) -> Path:
    done = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", out,
               source, cwd=out)
    assert done.returncode == 0, done.stderr
    name = "nasbench_harness" if source == ROOT else "my_proxy"
    return max(out.glob(f"{name}-*.whl"), key=lambda p: p.stat().st_mtime)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh virtual environment holding the two wheels. Third-party packages (torch and the rest, ~1.4 GB
    and minutes to install) are read from this interpreter's site-packages through a .pth path entry, which
    adds their folder to sys.path without running this environment's own .pth files (its editable harness)."""
    home = tmp_path_factory.mktemp("venv")
    env = home / "env"
    assert run(sys.executable, "-m", "venv", env, cwd=home).returncode == 0
    site = next(env.glob("lib/python*/site-packages"))
    (site / "_third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    dist = home / "dist"
    dist.mkdir()
    wheels = [wheel(ROOT, dist), wheel(EXAMPLE, dist)]
    done = run(env / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", *wheels, cwd=home)
    assert done.returncode == 0, done.stderr
    return env


@pytest.mark.slow
def test_a_user_benchmarks_and_gates_their_own_proxy(venv, tmp_path, data_root):
    python = venv / "bin" / "python"
    where = run(python, "-c", "import harness, my_proxy; print(harness.__file__); print(my_proxy.__file__)",
                cwd=tmp_path)
    assert all(str(venv) in line for line in where.stdout.split()), where.stdout  # not this checkout's

    first = run(python, "-m", "pytest", *SUITE, "--data", data_root, "--baseline-update", "--benchmark-save=mine",
                cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert "zico" in first.stdout and "rea-double" in first.stdout
    assert {p.name for p in (tmp_path / "my-baselines").glob("*.json")} >= {
        "proxy.tss.cifar10.zico.cpu.json", "searcher.tss.cifar10.rea-double.json"}
    assert list((tmp_path / ".benchmarks").rglob("*_mine.json"))

    again = run(python, "-m", "pytest", *SUITE, "--data", data_root, "--baseline-check", cwd=tmp_path)
    assert again.returncode == 0, again.stdout[-3000:]

    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    source = broken / "my_proxy" / "zico.py"
    source.write_text(source.read_text().replace("    return score\n", "    return -score\n"))
    (broken / "pyproject.toml").write_text((broken / "pyproject.toml").read_text().replace(
        'version = "0.1.0"', 'version = "0.1.1"'))
    dist = tmp_path / "dist"
    dist.mkdir()
    done = run(python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel(broken, dist),
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    flipped = run(python, "-m", "pytest", *SUITE, "--data", data_root, "--baseline-check", cwd=tmp_path)
    assert flipped.returncode == 1, flipped.stdout[-3000:]
    assert "REGRESSION" in flipped.stdout and "proxy/tss/cifar10/zico/cpu" in flipped.stdout
