"""score / score_all / score_batch: costs recorded, shared passes give exactly the one-at-a-time values,
relative proxies over a batch of archs, the CUDA path where a GPU exists."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from harness.images import load_batch
from harness.networks import build_network
from harness.proxies import get_proxy, proxy_names
from harness.scoring import ScoreResult, _split_on_oom, score, score_all, score_batch

PER_ARCH = [n for n in proxy_names() if n != "vote"]
ZC_SIX = ["grad_norm", "snip", "grasp", "fisher", "jacob_cov", "synflow"]


@pytest.fixture(scope="module")
def batch(data_root):
    return load_batch("cifar10", 8, seed=0, data=data_root)


def test_score_records_value_time_memory_device(tss_oracle, batch):
    result = score("snip", tss_oracle.space, 284, "cifar10", batch)
    assert isinstance(result, ScoreResult) and result.device == "cpu"
    assert math.isfinite(result.value) and result.seconds > 0 and result.peak_mem_bytes is None
    with_build = score("snip", tss_oracle.space, 284, "cifar10", batch, include_build=True)
    assert with_build.value == result.value
    measured = score("snip", tss_oracle.space, 284, "cifar10", batch, time=False, memory=True)
    assert math.isnan(measured.seconds) and measured.value == result.value


def test_cpu_peak_memory_is_the_computation_s_not_the_process_s(tss_oracle, data_root):
    """Traced allocations: the same for a warmed-up process (RSS growth would read ~0 there), larger for a
    larger batch, and GraSP's double backward holds more than snip's single backward."""
    def peak(name: str, n: int) -> int:
        b = load_batch("cifar10", n, seed=0, data=data_root)
        return score(name, tss_oracle.space, 284, "cifar10", b, time=False, memory=True).peak_mem_bytes

    first = peak("snip", 8)
    assert first > 1_000_000 and peak("snip", 8) == first
    assert peak("snip", 16) > 1.5 * first
    assert peak("grasp", 8) > first
    with pytest.raises(ValueError, match="separate calls"):
        score("snip", tss_oracle.space, 284, "cifar10", load_batch("cifar10", 8, data=data_root), memory=True)


def test_cpu_memory_is_refused_inside_another_profiler():
    from torch.profiler import profile

    from harness.meter import Meter

    with profile(), pytest.raises(RuntimeError, match="another profiler is running"):
        Meter(torch.device("cpu"), time=False, memory=True).__enter__()
    with pytest.raises(RuntimeError, match="trace is empty"), \
            Meter(torch.device("cpu"), time=False, memory=True), profile():
        torch.ones(1000).sum()


@pytest.mark.parametrize(("n", "fits_at", "tried"), [(64, 3, [1, 2, 4]), (7, 7, [1, 7]), (100, 6, [1, 2, 4, 10])])
def test_cuda_out_of_memory_splits_the_batch(n, fits_at, tried):
    calls = []

    def run(split: int) -> int:
        calls.append(split)
        if split < fits_at:
            raise torch.cuda.OutOfMemoryError("fake")
        return split

    assert _split_on_oom(run, n, torch.device("cuda")) == tried[-1] and calls == tried
    with pytest.raises(torch.cuda.OutOfMemoryError):  # one image per chunk and still too big
        _split_on_oom(lambda split: run(0), 4, torch.device("cuda"))
    with pytest.raises(torch.cuda.OutOfMemoryError):  # not a CUDA run: nothing to split for
        _split_on_oom(lambda split: run(0), 4, torch.device("cpu"))


@pytest.mark.parametrize("arch", [68])  # the cheapest cell with all five ops
def test_score_all_equals_one_at_a_time(tss_oracle, batch, arch):
    together = score_all(tss_oracle.space, arch, PER_ARCH, "cifar10", batch, seed=3)
    assert list(together) == PER_ARCH
    for name in PER_ARCH:
        alone = score(name, tss_oracle.space, arch, "cifar10", batch, seed=3).value
        assert together[name] == pytest.approx(alone, rel=1e-9, abs=1e-12), name


def test_score_all_on_a_subset_and_sss(sss_oracle, data_root):
    batch = load_batch("cifar100", 8, seed=0, data=data_root)
    together = score_all(sss_oracle.space, "8:16:24:32:40", ZC_SIX, "cifar100", batch)
    assert set(together) == set(ZC_SIX) and all(math.isfinite(v) for v in together.values())
    assert together["grasp"] == score("grasp", sss_oracle.space, "8:16:24:32:40", "cifar100", batch).value


def test_vote_needs_a_batch_of_archs(tss_oracle, batch):
    space = tss_oracle.space
    with pytest.raises(ValueError, match="score_batch"):
        score("vote", space, 11, "cifar10", batch)
    with pytest.raises(ValueError, match="score_batch"):
        score_all(space, 11, ["snip", "vote"], "cifar10", batch)
    archs = [0, 68, 284]
    out = score_batch(space, archs, ["vote", "snip"], "cifar10", batch)
    members = {m: np.array([score(m, space, a, "cifar10", batch).value for a in archs])
               for m in ("synflow", "jacob_cov", "snip")}
    assert out["vote"].tolist() == get_proxy("vote").combine(members).tolist()
    assert out["snip"].tolist() == members["snip"].tolist()
    assert ((0 <= out["vote"]) & (out["vote"] <= 1)).all()


def test_unknown_proxy_in_scoring(tss_oracle, batch):
    with pytest.raises(ValueError, match="unknown proxy"):
        score_all(tss_oracle.space, 11, ["snip", "nope"], "cifar10", batch)


def test_bad_device_batch_or_proxy_list_is_a_clear_error(tss_oracle, batch):
    space = tss_oracle.space
    for fn in (lambda **kw: score("params", space, 0, **kw), lambda **kw: score_all(space, 0, ["params"], **kw),
               lambda **kw: score_batch(space, [0, 1], ["params"], **kw)):
        with pytest.raises(ValueError, match="'tpu' is not a torch device"):
            fn(dataset="cifar10", batch=batch, device="tpu")
        with pytest.raises(ValueError, match="the harness runs on cpu, cuda or cuda:N"):
            fn(dataset="cifar10", batch=batch, device="meta")
        if not torch.cuda.is_available():
            with pytest.raises(ValueError, match="CUDA is not available here"):
                fn(dataset="cifar10", batch=batch, device="cuda")
        with pytest.raises(ValueError, match=r"loaded for cifar10 .* built for cifar100: load_batch\('cifar100'"):
            fn(dataset="cifar100", batch=batch)
    with pytest.raises(TypeError, match=r"got the string 'synflow' \(use \['synflow'\]\)"):
        score_all(space, 0, "synflow", "cifar10", batch)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_scores_match_cpu(tss_oracle, batch):
    cpu = score_all(tss_oracle.space, 11, ZC_SIX, "cifar10", batch)
    gpu = score_all(tss_oracle.space, 11, ZC_SIX, "cifar10", batch, device="cuda")
    for name in ZC_SIX:
        assert gpu[name] == pytest.approx(cpu[name], rel=1e-3), name
    result = score("grasp", tss_oracle.space, 11, "cifar10", batch, device="cuda", memory=True)
    assert result.device.startswith("cuda") and result.peak_mem_bytes > 0 and result.seconds > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_out_of_memory_on_the_device_splits_and_scores(tss_oracle, data_root, monkeypatch):
    """Under a memory cap of half a whole-batch GraSP, the allocator's real error is caught and the batch is
    scored in chunks."""
    from harness import scoring

    big = load_batch("cifar10", 64, seed=0, data=data_root)
    whole = score("grasp", tss_oracle.space, 11, "cifar10", big, device="cuda", time=False, memory=True)
    splits = []

    class RecordingPasses(scoring.Passes):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            splits.append(self.split)

    monkeypatch.setattr(scoring, "Passes", RecordingPasses)
    dev = torch.device("cuda")
    torch.cuda.empty_cache()
    cap = torch.cuda.memory_allocated(dev) + whole.peak_mem_bytes // 2
    torch.cuda.set_per_process_memory_fraction(cap / torch.cuda.get_device_properties(dev).total_memory, dev)
    try:
        value = score_all(tss_oracle.space, 11, ["grasp"], "cifar10", big, device="cuda")["grasp"]
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, dev)
    assert splits[0] == 1 and splits[-1] > 1, splits
    # the chunked GraSP is the CPU's with the same chunks
    net = build_network(tss_oracle.space, 11, "cifar10", 0)
    cpu = get_proxy("grasp")(net, big.inputs, big.targets, F.cross_entropy, splits[-1])
    assert value == pytest.approx(cpu, rel=1e-3)


def test_score_batch_reads_and_fills_a_store(tss_oracle, batch, tmp_path, monkeypatch):
    """With a store, score_batch computes only what the store lacks and returns the same values."""
    from harness import scoring
    from harness.store import ResultStore, ScoreKey

    archs, proxies = [0, 11, 284], ["params", "nwot", "vote"]
    fresh = score_batch(tss_oracle.space, archs, proxies, "cifar10", batch)
    with ResultStore(tmp_path / "s.sqlite") as store:
        first = score_batch(tss_oracle.space, archs, proxies, "cifar10", batch, store=store)
        key = ScoreKey.for_batch("nwot", "tss", "cifar10", batch)
        assert sorted(store.get_many(key)) == archs  # vote's members were stored, per arch
        calls = []
        monkeypatch.setattr(scoring, "score_all", lambda *a, **k: calls.append(a) or {})
        again = score_batch(tss_oracle.space, archs, proxies, "cifar10", batch, store=store)
        # the read-only view: complete proxies only, in the order asked
        held = scoring.stored_scores(store, tss_oracle.space, [284, 0], ["nwot", "zen"], "cifar10", batch)
        assert list(held) == ["nwot"] and list(held["nwot"]) == [fresh["nwot"][2], fresh["nwot"][0]]
        assert scoring.stored_scores(store, tss_oracle.space, [0, 1], ["nwot"], "cifar10", batch) == {}
    assert calls == []  # everything came from the store
    for name in proxies:
        np.testing.assert_array_equal(first[name], fresh[name])
        np.testing.assert_array_equal(again[name], fresh[name])
