"""Sweeps: planning from the store, a real SIGKILL mid-run then resume (each score stored once, equal to a
direct computation), and a real 2-process Dask LocalCluster giving the single-process scores."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import harness
from harness.store import ResultStore, Row
from harness.sweep import Sweep, Unit, _check_result, parse_archs, parse_proxies, plan, run_sweep

CHEAP = ("params", "nwot")  # one data-free, one data-dependent proxy; both fast
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tss(tss_oracle):
    return tss_oracle.space


@pytest.fixture(scope="module")
def batch(data_root):
    from harness.images import load_batch

    return load_batch("cifar10", 16, 0, data_root)


def direct_scores(space, archs, batch) -> dict[int, dict[str, float]]:
    """The single-process reference, on one thread like the workers."""
    from harness.scoring import score_all

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {a: score_all(space, a, list(CHEAP), "cifar10", batch, seed=0) for a in archs}
    finally:
        torch.set_num_threads(threads)


def stored(store: ResultStore, sweep: Sweep, batch) -> dict[int, dict[str, float]]:
    keys = sweep.keys(batch)
    by_proxy = {p: store.get_many(k, sweep.archs) for p, k in keys.items()}
    return {a: {p: by_proxy[p][a] for p in keys if a in by_proxy[p]} for a in sweep.archs}


def test_parse_archs(tss):
    assert parse_archs("all", tss) == list(range(15625))
    assert parse_archs("3", tss) == [0, 1, 2]
    assert parse_archs("10-12", tss) == [10, 11, 12]
    for bad in ("0", "5-4", "15620-15625", "x", "1-2-3", "-1"):
        with pytest.raises(ValueError, match="--archs"):
            parse_archs(bad, tss)
    with pytest.raises(ValueError, match=r"a count of archs must be in 1..15625"):
        parse_archs("0", tss)
    with pytest.raises(ValueError, match=r"arch sample size 0 must be in 1..15625"):
        parse_archs("sample:0", tss)


def test_parse_proxies():
    from harness.proxies import RelativeProxy, get_proxy, proxy_names

    every = parse_proxies("all")
    assert every and all(not isinstance(get_proxy(p), RelativeProxy) for p in every)
    relative = {p for p in proxy_names() if isinstance(get_proxy(p), RelativeProxy)}
    assert set(every) | relative == set(proxy_names())
    assert parse_proxies("nwot, params,nwot") == ("nwot", "params")
    with pytest.raises(ValueError, match="unknown proxy 'nope'"):
        parse_proxies("params,nope")
    if "vote" in proxy_names():
        with pytest.raises(ValueError, match=r"relative proxies \(vote\) compare archs"):
            parse_proxies("vote")


def test_plan_asks_only_for_missing_pairs(tmp_path, tss, batch):
    sweep = Sweep(tss, "cifar10", CHEAP, (4, 5, 6, 7))
    keys = sweep.keys(batch)
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.put_many([Row(keys["params"], 4, 1.0), Row(keys["nwot"], 4, float("nan")),
                        Row(keys["params"], 6, 2.0)])
        assert plan(store, keys, sweep.archs) == [Unit(5, CHEAP), Unit(6, ("nwot",)), Unit(7, CHEAP)]


def test_results_from_another_torch_or_harness_are_refused(tss, batch):
    keys = Sweep(tss, "cifar10", CHEAP, (1,)).keys(batch)
    scores = {"params": 1.0, "nwot": 2.0}
    code = {p: harness.__version__ for p in CHEAP}
    ours = (torch.__version__, code)
    _check_result(Unit(1, CHEAP), 1, scores, ours, keys)
    with pytest.raises(RuntimeError, match="worker runs torch 0.0.1"):
        _check_result(Unit(1, CHEAP), 1, scores, ("0.0.1", code), keys)
    with pytest.raises(RuntimeError, match="worker runs nwot's code 0.0.2"):
        _check_result(Unit(1, CHEAP), 1, scores, (torch.__version__, {**code, "nwot": "0.0.2"}), keys)
    with pytest.raises(RuntimeError, match="returned arch 2"):
        _check_result(Unit(1, CHEAP), 2, scores, ours, keys)
    with pytest.raises(RuntimeError, match="for arch 1"):
        _check_result(Unit(1, CHEAP), 1, {"params": 1.0}, ours, keys)


def _cli(store: Path, data_root: Path) -> list[str]:
    return [sys.executable, "-m", "harness", "sweep", "--data", str(data_root), "--space", "tss",
            "--dataset", "cifar10", "--proxies", ",".join(CHEAP), "--archs", "0-11", "--batch-size", "16",
            "--seed", "0", "--workers", "2", "--store", str(store), "--no-progress"]


def _count(path: Path) -> int:
    if not path.exists():
        return 0
    with ResultStore(path) as store:
        return store.count()


@pytest.mark.slow  # two CLI runs with worker processes: tens of seconds
def test_sigkill_then_resume_stores_every_score_once(tmp_path, tss, batch, data_root):
    path = tmp_path / "sweep.sqlite"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    sweep = Sweep(tss, "cifar10", CHEAP, tuple(range(12)))
    proc = subprocess.Popen(_cli(path, data_root), cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while _count(path) == 0:
            assert proc.poll() is None, f"sweep ended before writing anything:\n{proc.stdout.read()}"
            assert time.monotonic() < deadline, "sweep wrote nothing in 240 s"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, mid-sweep
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    with ResultStore(path) as store:
        before = stored(store, sweep, batch)
        audit = {p: store.computed_at(k) for p, k in sweep.keys(batch).items()}
    complete = [a for a, s in before.items() if len(s) == len(CHEAP)]
    assert all(len(s) in (0, len(CHEAP)) for s in before.values()), "an arch was written in part"
    assert 0 < len(complete) < 12, f"the kill should land mid-sweep; {len(complete)} of 12 archs were done"

    restarted = time.time()
    done = subprocess.run(_cli(path, data_root), cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    missing = 12 - len(complete)
    assert (f"12 archs: {len(complete)} already complete, computed {missing}, "
            f"wrote {missing * len(CHEAP)} scores in") in done.stdout

    with ResultStore(path) as store:
        after = stored(store, sweep, batch)
        assert store.count() == 12 * len(CHEAP)  # unique keys: one row per (proxy, arch)
        for proxy, key in sweep.keys(batch).items():
            stamps = store.computed_at(key)
            assert {a: stamps[a] for a in audit[proxy]} == audit[proxy], "a stored score was rewritten"
            assert all(stamps[a] >= restarted for a in stamps if a not in audit[proxy])
    assert {a: before[a] for a in complete} == {a: after[a] for a in complete}
    assert after == direct_scores(tss, range(12), batch)


@pytest.mark.slow  # starts a 2-process cluster
def test_dask_local_cluster_gives_single_process_scores(tmp_path, tss, batch):
    distributed = pytest.importorskip("distributed")
    sweep = Sweep(tss, "cifar10", CHEAP, (0, 7, 123))
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    with cluster, ResultStore(tmp_path / "s.sqlite") as store:
        report = run_sweep(store, sweep, batch, scheduler=cluster.scheduler_address, progress=False)
        assert (report.computed_archs, report.written, report.duplicates) == (3, 6, 0)
        again = run_sweep(store, sweep, batch, scheduler=cluster.scheduler_address, progress=False)
        assert (again.done_before, again.computed_archs, again.written) == (3, 0, 0)
        assert stored(store, sweep, batch) == direct_scores(tss, sweep.archs, batch)


def test_sweep_command_rejects_bad_arguments_before_any_work(tmp_path, data_root, capsys):
    from harness.cli import main

    store = str(tmp_path / "s.sqlite")
    base = ["sweep", "--data", str(data_root), "--archs", "1", "--proxies", "params", "--store", store]
    assert main([*base, "--device", "tpu"]) == 2
    assert "cpu, cuda or cuda:N" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main([*base, "--device", "cuda"]) == 2
        assert "CUDA is not available" in capsys.readouterr().err
    assert main([*base, "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert main([*base, "--seed", "-1"]) == 2
    assert "--seed must be a non-negative integer" in capsys.readouterr().err
    assert main([*base, "--dataset", ","]) == 2
    assert "--dataset names no dataset" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists()  # refused before the store was created


def test_sweep_command_scores_the_user_s_own_images(tmp_path, data_root, capsys):
    from harness.cli import main

    images = np.random.default_rng(0).integers(0, 256, size=(20, 3072), dtype=np.uint8)
    folder = tmp_path / "images" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    (folder / "data_batch_1").write_bytes(pickle.dumps({b"data": images, b"labels": list(range(10)) * 2}))
    args = ["sweep", "--data", str(data_root), "--archs", "2", "--proxies", "nwot", "--batch-size", "16",
            "--store", str(tmp_path / "s.sqlite"), "--workers", "1", "--no-progress"]
    assert main([*args, "--images-dir", str(tmp_path / "images")]) == 0
    assert "images 16 images of the user's cifar10 training set" in capsys.readouterr().out
    assert main(args) == 0  # the data root's images are another key: computed, not read back
    assert "computed 2" in capsys.readouterr().out
