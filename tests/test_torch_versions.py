"""What changes with the torch version: cuDNN's IEEE float32 flags and the profiler's event clock (feature
checks, both sides), and the gate's note when the baselines come from another torch."""

from __future__ import annotations

import json
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import torch

from harness import baselines
from harness.cli import main
from harness.meter import peak_traced_bytes
from harness.proxies._passes import ieee_cudnn


def _recording_flags(calls: list[dict], with_precision: bool):
    """A stand-in for torch.backends.cudnn.flags with or without the newer fp32_precision argument."""
    if with_precision:
        @contextmanager
        def flags(enabled=False, benchmark=False, deterministic=False, allow_tf32=True, fp32_precision="none"):
            calls.append({"enabled": enabled, "benchmark": benchmark, "deterministic": deterministic,
                          "allow_tf32": allow_tf32, "fp32_precision": fp32_precision})
            yield
    else:
        @contextmanager
        def flags(enabled=False, benchmark=False, deterministic=False, allow_tf32=True):
            calls.append({"enabled": enabled, "benchmark": benchmark, "deterministic": deterministic,
                          "allow_tf32": allow_tf32})
            yield
    return flags


@pytest.mark.parametrize("with_precision", [True, False])
def test_ieee_cudnn_uses_fp32_precision_only_where_torch_has_it(monkeypatch, with_precision):
    calls: list[dict] = []
    monkeypatch.setattr(torch.backends.cudnn, "flags", _recording_flags(calls, with_precision))
    with ieee_cudnn(torch.device("cuda")):
        pass
    expected = {"enabled": True, "benchmark": False, "deterministic": True, "allow_tf32": False}
    assert calls == [{**expected, "fp32_precision": "ieee"} if with_precision else expected]
    with ieee_cudnn(torch.device("cpu")):
        pass
    assert len(calls) == 1  # CPU passes leave cuDNN alone


def test_ieee_cudnn_accepted_by_the_installed_torch():
    with ieee_cudnn(torch.device("cuda")):  # builds and enters the real flags; no GPU needed
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.allow_tf32


def test_torch_version_note():
    assert baselines.torch_version_note("2.13.0+cpu", {"2.13.0+cpu"}) == ""
    assert baselines.torch_version_note(None, {"2.13.0+cpu"}) == ""
    note = baselines.torch_version_note("2.4.1", {"2.13.0+cpu"})
    assert "torch 2.4.1" in note and "torch 2.13.0+cpu" in note and "timings are report-only" in note


def test_gate_command_says_when_the_baselines_come_from_another_torch(tmp_path, capsys):
    record = baselines.proxy_record("params", "tss", "cifar10", "cpu", 0, [1, 2, 3, 4, 5], [1.0, 2.0, 3.0, 5.0, 4.0],
                                    [70.0, 71.0, 72.0, 73.0, 74.0], "cifar10 test (seed 0)", "test@200", batch_size=64,
                                    n_boot=50)
    bench = {"name": "params", "extra_info": record, "stats": {"median": 0.01, "min": 0.01, "max": 0.01}}
    paths = {}
    for torch_version, seconds in [("2.13.0+cpu", 0.01), ("2.4.1", 0.05)]:
        path = tmp_path / f"{torch_version}.json"
        path.write_text(json.dumps({"machine_info": {"torch_version": torch_version}, "datetime": "2026-01-02",
                                    "benchmarks": [{**bench, "stats": dict.fromkeys(("median", "min", "max"),
                                                                                    seconds)}]}))
        paths[torch_version] = str(path)
    store = str(tmp_path / "baselines")
    assert main(["gate", paths["2.13.0+cpu"], "--baselines", store, "--update"]) == 0
    capsys.readouterr()
    assert main(["gate", paths["2.13.0+cpu"], "--baselines", store]) == 0
    assert "torch differs" not in capsys.readouterr().out
    assert main(["gate", paths["2.4.1"], "--baselines", store]) == 0  # 5x slower: reported, not failed
    out = capsys.readouterr().out
    assert "torch differs: this run used torch 2.4.1" in out and "slower" in out


class _Event:
    """A profiler ``[memory]`` event as newer torch (``start_ns``) or older torch (``start_us`` only) gives it."""

    def __init__(self, start_us: int, nbytes: int, has_ns: bool):
        self._us, self._nbytes = start_us, nbytes
        if has_ns:
            self.start_ns = lambda: self._us * 1000

    def name(self) -> str:
        return "[memory]"

    def device_type(self):
        return torch.autograd.DeviceType.CPU

    def nbytes(self) -> int:
        return self._nbytes

    def start_us(self) -> int:
        return self._us


@pytest.mark.parametrize("has_ns", [True, False])
def test_peak_traced_bytes_orders_events_with_either_clock(has_ns):
    # Recorded out of order: in time order the level goes 100, 300, 50, 250 -> peak 300.
    events = [_Event(t, n, has_ns) for t, n in [(3, -250), (1, 100), (4, 200), (2, 200)]]
    prof = SimpleNamespace(profiler=SimpleNamespace(kineto_results=SimpleNamespace(events=lambda: events)))
    assert peak_traced_bytes(prof) == 300
