"""Issue 22's classes of bad input, each ending in a clear error or a correct result: ground-truth tables
with out-of-range cells or misplaced arch strings, degenerate scores and batches, a proxy that raises in a
sweep, refused pickles, malformed user images, sweep addresses and store paths, and negative seeds.
(The gate's own cases are in test_baselines.py, the suites' usage errors in test_plugin.py.)"""

from __future__ import annotations

import bz2
import os
import pickle
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.bench import TableOracle
from harness.bench.table import SSS_TABLE, TSS_TABLE
from harness.cli import main
from harness.errors import DegenerateWarning, ForbiddenGlobalError

# --- ground-truth tables ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tables(data_root) -> dict[str, pd.DataFrame]:
    read = {name: pd.read_csv(data_root / name, keep_default_na=False, na_values=[""]) for name in (TSS_TABLE, SSS_TABLE)}
    return read


def doctored_root(tmp_path: Path, data_root: Path, name: str, frame: pd.DataFrame, official: bool = True) -> Path:
    """A data root whose table ``name`` is ``frame`` and whose other files are the real ones (linked)."""
    root = tmp_path / "data"
    (root / "nats-bench").mkdir(parents=True)
    os.symlink(data_root / "images", root / "images")
    for entry in (data_root / "nats-bench").iterdir():
        if entry.name != Path(name).name and (official or entry.name != "official"):
            os.symlink(entry, root / "nats-bench" / entry.name)
    frame.to_csv(root / name, index=False, compression={"method": "gzip", "compresslevel": 1})
    return root


@pytest.mark.parametrize("value, expected", [
    (np.inf, "not an accuracy in [0, 100]"), (150.0, "not an accuracy in [0, 100]"),
    (-3.0, "not an accuracy in [0, 100]"), ("high", "not a number"),
])
def test_out_of_range_accuracy_names_file_column_and_row(tmp_path, data_root, tables, value, expected):
    frame = tables[TSS_TABLE].astype({"cifar10/test_acc_200": object})
    frame.loc[7, "cifar10/test_acc_200"] = value
    root = doctored_root(tmp_path, data_root, TSS_TABLE, frame)
    with pytest.raises(ValueError, match=r"tss.csv.gz: column 'cifar10/test_acc_200', data row 7 \(line 9\)") as info:
        TableOracle.load("tss", root)
    assert expected in str(info.value)


def test_negative_time_and_every_bad_column_are_reported(tmp_path, data_root, tables):
    frame = tables[TSS_TABLE].copy()
    frame.loc[3, "cifar100/train_s_per_epoch"] = -1.0
    frame.loc[5, "ImageNet16-120/flops_m"] = np.inf
    root = doctored_root(tmp_path, data_root, TSS_TABLE, frame)
    with pytest.raises(ValueError) as info:
        TableOracle.load("tss", root)
    lines = str(info.value).splitlines()
    assert len(lines) == 2 and all("not a finite non-negative number" in line for line in lines)
    assert "'cifar100/train_s_per_epoch', data row 3" in lines[0] and "'ImageNet16-120/flops_m', data row 5" in lines[1]


def swap(frame: pd.DataFrame, column: str, i: int, j: int) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[[i, j], column] = frame.loc[[j, i], column].to_numpy()
    return frame


def test_swapped_tss_arch_strings_are_found(tmp_path, data_root, tables):
    frame = swap(tables[TSS_TABLE], "arch", 10, 20)
    with pytest.raises(ValueError, match=r"column 'arch': data row 10 \(line 12\) holds .*; data row 20"):
        TableOracle.load("tss", doctored_root(tmp_path / "a", data_root, TSS_TABLE, frame))
    # Without the official meta file the fingerprint still refuses the table, and says how to find the rows.
    with pytest.raises(ValueError, match="is not NATS-Bench's TSS arch list in official index order"):
        TableOracle.load("tss", doctored_root(tmp_path / "b", data_root, TSS_TABLE, frame, official=False))


def test_swapped_sss_channels_are_found(tmp_path, data_root, tables):
    frame = swap(tables[SSS_TABLE], "channels", 100, 30000)
    with pytest.raises(ValueError, match=r"column 'channels': data row 100 \(line 102\) holds '64:.*index 100 is '8:"):
        TableOracle.load("sss", doctored_root(tmp_path, data_root, SSS_TABLE, frame))


def test_data_verify_reports_each_problem(tmp_path, data_root, tables, capsys):
    frame = swap(tables[TSS_TABLE], "arch", 1, 2)
    frame.loc[4, "cifar10/test_acc_12"] = 101.0
    root = doctored_root(tmp_path, data_root, TSS_TABLE, frame)
    assert main(["data", "--verify", "--data", str(root)]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM: benchmark table" in out and "'cifar10/test_acc_12', data row 4" in out
    assert main(["data", "--data", str(root)]) == 2  # without --verify: the load error itself
    assert "cifar10/test_acc_12" in capsys.readouterr().err


def test_convert_without_official_data_writes_nothing(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["data", "--convert", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert "no official NATS-Bench folder there" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- degenerate scores and batches ---------------------------------------------------------------------------

def write_cifar10(folder: Path, data: np.ndarray, labels: list[int]) -> Path:
    path = folder / "cifar-10-batches-py" / "data_batch_1"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({b"data": data, b"labels": labels}))
    return path


def test_constant_user_images_warn(tmp_path):
    from harness.images import load_batch

    write_cifar10(tmp_path, np.zeros((20, 3072), dtype=np.uint8), list(range(10)) * 2)
    with pytest.warns(DegenerateWarning, match="every image of the cifar10 batch is the same"):
        load_batch("cifar10", 8, images_dir=tmp_path)


def test_jacob_cov_at_batch_size_one_is_nan_with_the_cause(tss_oracle, data_root):
    from harness.images import load_batch
    from harness.scoring import score_all

    with pytest.warns(DegenerateWarning, match="a cifar10 batch of one image"):
        batch = load_batch("cifar10", 1, seed=0, data=data_root)
    with pytest.warns(DegenerateWarning, match="the batch holds 1 .use a batch size of at least 2"):
        value = score_all(tss_oracle.space, 5, ["jacob_cov"], "cifar10", batch)["jacob_cov"]
    assert np.isnan(value)


def test_a_proxy_that_raises_costs_only_its_own_score(monkeypatch, tss_oracle, data_root):
    """One arch's failing proxy becomes a NaN with its reason; the other proxies of the arch still score."""
    import harness.scoring
    from harness.images import load_batch
    from harness.sweep import _score_or_nan

    real = harness.scoring.score_all

    def failing(space, arch, proxies, *args, **kwargs):
        if "params" in proxies:
            raise np.linalg.LinAlgError("eigenvalues did not converge")
        return real(space, arch, proxies, *args, **kwargs)

    monkeypatch.setattr(harness.scoring, "score_all", failing)
    batch = load_batch("cifar10", 4, seed=0, data=data_root)
    scores, reasons = _score_or_nan(tss_oracle.space, 3, ("nwot", "params"), "cifar10", batch, 0, "cpu")
    assert np.isnan(scores["params"]) and np.isfinite(scores["nwot"])
    assert reasons == {"params": "LinAlgError: eigenvalues did not converge"}


def test_sweep_records_nan_and_counts_the_reason(tmp_path, tss_oracle, data_root):
    from harness.images import load_batch
    from harness.store import ResultStore
    from harness.sweep import Sweep, run_sweep

    with pytest.warns(DegenerateWarning):
        batch = load_batch("cifar10", 1, seed=0, data=data_root)
    sweep = Sweep(tss_oracle.space, "cifar10", ("jacob_cov", "params"), (0, 1))
    with ResultStore(tmp_path / "s.sqlite") as store:
        report = run_sweep(store, sweep, batch, workers=1, progress=False)
        stored = {p: store.get_many(k) for p, k in sweep.keys(batch).items()}
    assert report.computed_archs == 2 and report.written == 4
    ((reason, count),) = report.nan_reasons.items()
    assert count == 2 and reason.startswith("jacob_cov: DegenerateWarning: jacob_cov is NaN")
    assert "2 scores are NaN: 2 x jacob_cov" in report.summary()
    assert all(np.isnan(v) for v in stored["jacob_cov"].values()) and len(stored["params"]) == 2


# --- refused pickles, user images, sweep arguments, seeds ------------------------------------------------------

class _Exploit:
    def __reduce__(self):
        return (os.system, ("true",))


def test_refused_pickle_names_file_and_global_without_traceback(tmp_path, capsys):
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    (folder / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"meta_archs": _Exploit()})))
    assert main(["data", "--source", "nats", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(folder / "meta.pickle.pbz2") in err and "system is not allowed" in err
    assert "Traceback" not in err
    path = write_cifar10(tmp_path / "images", np.zeros((2, 3072), dtype=np.uint8), [0, 1])
    path.write_bytes(pickle.dumps({"data": _Exploit()}))
    from harness.images import load_batch

    with pytest.raises(ForbiddenGlobalError, match=f"image file {path}: global .*system is not allowed"):
        load_batch("cifar10", 2, images_dir=tmp_path / "images")


@pytest.mark.parametrize("data, labels, message", [
    (np.zeros((4, 3072), dtype=np.uint8), [0, 1, 2, 12], "holds labels 0..12; cifar10 has classes 0..9"),
    (np.zeros((4, 3072), dtype=np.uint8), [0, 1, -1, 2], "holds labels -1..2"),
    (np.zeros((4, 1024), dtype=np.uint8), [0, 1, 2, 3], "must hold 8-bit pixels of shape (N, 3072)"),
    (np.full((4, 3072), 300, dtype=np.int64), [0, 1, 2, 3], "must hold 8-bit pixels"),
    (np.zeros((4, 3072), dtype=np.uint8), [0, 1, 2], "must hold one integer label per image (4)"),
])
def test_malformed_user_images_name_the_file(tmp_path, data, labels, message):
    from harness.images import load_batch

    path = write_cifar10(tmp_path, data, labels)
    with pytest.raises(ValueError, match=f"image file {path}: .*{message.replace('(', '.').replace(')', '.')}"):
        load_batch("cifar10", 2, images_dir=tmp_path)


def test_sweep_scheduler_and_store_folder_are_checked_at_once(tmp_path, data_root, capsys):
    base = ["sweep", "--data", str(data_root), "--archs", "1", "--proxies", "params"]
    start = time.monotonic()
    with pytest.raises(SystemExit) as info:
        main([*base, "--store", str(tmp_path / "s.sqlite"), "--scheduler", "notaurl"])
    assert info.value.code == 2 and time.monotonic() - start < 5
    assert "--scheduler: expected a Dask scheduler address like tcp://HOST:PORT, got 'notaurl'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--store", str(tmp_path / "no" / "such" / "s.sqlite")])
    assert f"folder {tmp_path / 'no' / 'such'} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


def test_negative_seeds_are_errors_naming_the_argument(tss_oracle, data_root):
    from harness.images import load_batch
    from harness.metrics.rank import rank_metrics
    from harness.networks import build_network
    from harness.runner import run_search
    from harness.sweep import Sweep

    calls = [lambda: load_batch("cifar10", 4, seed=-1, data=data_root),
             lambda: build_network(tss_oracle.space, 0, "cifar10", seed=-1),
             lambda: run_search("random", tss_oracle, "cifar10", -1),
             lambda: rank_metrics([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], seed=-1),
             lambda: Sweep(tss_oracle.space, "cifar10", ("params",), (0,), seed=-1),
             lambda: load_batch("cifar10", 4, seed=1.5, data=data_root)]
    for call in calls:
        with pytest.raises(ValueError, match="seed must be a non-negative integer, got"):
            call()


def test_rank_metrics_say_what_is_degenerate():
    from harness.metrics.rank import rank_metrics

    with pytest.warns(DegenerateWarning, match="all 10 scores equal 1: the correlations are NaN"):
        out = rank_metrics([1.0] * 10, list(range(10)), n_boot=50)
    assert np.isnan(out["spearman"].value)
    with pytest.warns(DegenerateWarning, match="all 5 scores .5 of 10 dropped"):
        rank_metrics([1.0, -np.inf] * 5, list(range(10)), n_boot=0)
    with pytest.warns(DegenerateWarning, match="3 archs: the bootstrap CI of spearman"):
        rank_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], n_boot=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateWarning)  # 5 archs: a CI, and no warning
        out = rank_metrics([1.0, 2.0, 3.0, 5.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0], n_boot=300)
    assert np.isfinite([out["spearman"].ci_low, out["spearman"].ci_high]).all()
