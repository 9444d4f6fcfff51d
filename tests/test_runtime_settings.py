"""Process-level settings the harness reads or makes at import: OpenMP's wait policy label, malloc."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from harness.malloc import user_malloc_settings


def _import_harness(env_changes: dict[str, str | None]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in env_changes}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    code = "import harness; print(harness.OMP_WAIT_POLICY); print(harness.MALLOC_KEEPS_FREED)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


@pytest.mark.parametrize("setting, label", [(None, "the OpenMP runtime's default (spin, then sleep)"),
                                            ("", "the OpenMP runtime's default (spin, then sleep)"),
                                            (" passive ", "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_wait_policy_label_is_the_environments(setting: str | None, label: str) -> None:
    assert _import_harness({"OMP_WAIT_POLICY": setting})[0] == label


@pytest.mark.parametrize("env, expected", [({}, False),
                                           ({"MALLOC_TRIM_THRESHOLD_": "65536"}, True),
                                           ({"MALLOC_MMAP_THRESHOLD_": "1"}, True),
                                           ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"}, True),
                                           ({"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2"}, False)])
def test_user_malloc_settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool) -> None:
    for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert user_malloc_settings() is expected


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc thresholds are set on glibc only")
def test_malloc_thresholds_set_unless_the_user_set_them() -> None:
    assert _import_harness({"MALLOC_TRIM_THRESHOLD_": None, "GLIBC_TUNABLES": None})[1] == "True"
    assert _import_harness({"MALLOC_TRIM_THRESHOLD_": "65536"})[1] == "False"
