"""Process-level settings the harness reads or makes at import: OpenMP's wait policy label, malloc."""

from __future__ import annotations

import ctypes
import os
import platform
import subprocess
import sys

import pytest

from harness.malloc import GLIBC_SETTINGS, user_malloc_settings

# Whether an 8 MiB malloc is served by mmap (glibc's default for a fresh process) or from the heap.
MMAPPED = """
import ctypes{harness}
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
before = libc.mallinfo2().hblks
block = libc.malloc(8 << 20)
print(libc.mallinfo2().hblks - before)
"""


def _run(code: str, env_changes: dict[str, str | None]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in env_changes}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


@pytest.mark.parametrize("setting, label", [(None, "default"), ("", "default"), (" passive ", "PASSIVE"),
                                            ("ACTIVE", "ACTIVE"), ("spin", "default")])
def test_wait_policy_label_is_the_environments(setting: str | None, label: str) -> None:
    assert _run("import harness; print(harness.OMP_WAIT_POLICY)", {"OMP_WAIT_POLICY": setting}) == [label]


@pytest.mark.parametrize("env, dask_worker, expected", [
    ({}, False, False),
    ({"MALLOC_TRIM_THRESHOLD_": "65536"}, False, True),
    ({"MALLOC_TRIM_THRESHOLD_": "65536"}, True, False),  # Dask's nanny, not the user
    ({"MALLOC_TRIM_THRESHOLD_": "1000000"}, True, True),
    ({"MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_TOP_PAD_": "0"}, True, True),
    ({"MALLOC_MMAP_THRESHOLD_": "1"}, False, True),
    ({"MALLOC_TOP_PAD_": "0"}, False, True),
    ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"}, False, True),
    ({"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2"}, False, False)])
def test_user_malloc_settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], dask_worker: bool,
                              expected: bool) -> None:
    for name in (*GLIBC_SETTINGS, "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert user_malloc_settings(dask_worker) is expected


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or not hasattr(ctypes.CDLL(None), "mallinfo2"),
                    reason="malloc thresholds are set on glibc only (mallinfo2: glibc >= 2.33)")
def test_harness_keeps_large_blocks_in_the_heap_unless_the_user_set_malloc() -> None:
    clean = dict.fromkeys((*GLIBC_SETTINGS, "GLIBC_TUNABLES"))
    assert _run(MMAPPED.format(harness=""), clean) == ["1"]  # glibc's own start: an 8 MiB block is mmapped
    assert _run(MMAPPED.format(harness="\nimport harness"), clean) == ["0"]
    user = {**clean, "MALLOC_TRIM_THRESHOLD_": "65536"}
    assert _run(MMAPPED.format(harness="\nimport harness"), user) == ["1"]
    nanny = "\nimport harness.malloc\nharness.malloc.keep_freed_memory(dask_worker=True)"
    assert _run(MMAPPED.format(harness=nanny), user) == ["0"]  # the nanny's value is replaced in a Dask worker
