"""Ground-truth oracles: optima, NATS-Bench semantics, agreement of both backends, clear errors."""

import math

import numpy as np
import pytest

from harness.bench import DATASETS, NatsBenchOracle, TableOracle, load_oracle
from harness.errors import DataNotFoundError

ARCH_11 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"


@pytest.mark.parametrize("dataset, optimum", [("cifar10", 94.37), ("cifar100", 73.51), ("ImageNet16-120", 47.31)])
def test_tss_optimum_test_accuracy_200(tss_oracle, dataset, optimum):
    _, best = tss_oracle.best(dataset, "test", 200)
    assert best == pytest.approx(optimum, abs=0.005)


def test_sss_has_validation_only(sss_oracle):
    index, best = sss_oracle.best("cifar10", "valid", 90)
    assert sss_oracle.space.arch(index) == "64:64:64:64:64" and best > 90
    with pytest.raises(ValueError, match="valid@90"):
        sss_oracle.accuracy(0, "cifar10", "test", 200)
    acc, seconds = sss_oracle.simulate_train_eval(0, "cifar10")
    assert acc == sss_oracle.accuracy(0, "cifar10", "valid", 90) and math.isnan(seconds)
    assert not sss_oracle.has_times("cifar10")


def test_arch_string_and_index_agree(tss_oracle):
    assert tss_oracle.accuracy(ARCH_11, "cifar10") == tss_oracle.accuracy(11, "cifar10")


def test_simulate_train_eval_nats_semantics(tss_oracle):
    acc, seconds = tss_oracle.simulate_train_eval(11, "cifar10", hp=12)
    # NATS-Bench's own simulate_train_eval on the official record of arch 11 charges 153.70 s, and its
    # signal is the cifar10-valid run's validation accuracy.
    assert seconds == pytest.approx(153.696, abs=0.01)
    assert acc == tss_oracle.accuracy(11, "cifar10", "valid", 12)
    cost = tss_oracle.cost(11, "cifar10")
    assert seconds == pytest.approx(12 * cost["train_s_per_epoch"] + cost["valid_s_per_epoch"])
    assert cost["params_mb"] == pytest.approx(0.802426) and cost["flops_m"] == pytest.approx(113.95137)
    assert not cost["valid_s_estimated"] and len(cost["latency_ms"]) == 27


def test_estimated_validation_time_is_flagged_and_small(tss_oracle):
    cost = tss_oracle.cost(9000, "cifar10")
    assert cost["valid_s_estimated"]
    assert 0 < cost["valid_s_per_epoch"] < 0.1 * 12 * cost["train_s_per_epoch"]


def test_accuracies_are_vectorised(tss_oracle):
    acc = tss_oracle.accuracies("cifar100", "test", 200)
    assert acc.shape == (15625,) and np.isfinite(acc).all()
    assert acc[284] == tss_oracle.accuracy(284, "cifar100")


def test_unknown_dataset_lists_valid_ones(tss_oracle):
    with pytest.raises(ValueError, match="unknown dataset 'cifar1000'; valid datasets: cifar10, cifar100"):
        tss_oracle.accuracy(0, "cifar1000")


def test_unavailable_metric_is_an_error(tss_oracle):
    with pytest.raises(ValueError, match="no 'valid' accuracy at 200 epochs"):
        tss_oracle.accuracy(0, "cifar100", "valid", 200)
    with pytest.raises(ValueError, match="hp=12"):
        tss_oracle.simulate_train_eval(0, "cifar100", hp=200)


def test_missing_data_folder_names_the_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    with pytest.raises(DataNotFoundError, match="HARNESS_DATA_DIR"):
        TableOracle.load("tss")
    with pytest.raises(DataNotFoundError, match="nats-bench/tss.csv.gz"):
        TableOracle.load("tss", tmp_path)


def test_corrupt_table_is_a_clear_error(tmp_path):
    (tmp_path / "nats-bench").mkdir()
    (tmp_path / "nats-bench" / "tss.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="unreadable"):
        TableOracle.load("tss", tmp_path)


@pytest.fixture
def data_copy(data_root, tmp_path):
    """The data root copied (without the official records), for breaking it."""
    import shutil

    shutil.copytree(data_root, tmp_path / "data", ignore=shutil.ignore_patterns("official"))
    return tmp_path / "data"


def test_missing_or_corrupt_train_info_is_an_error_not_a_lost_time_budget(data_copy, capsys):
    """Only what needs a validation time needs the train-info table: accuracies still load, and a timed
    search fails naming the file instead of falling back to a query budget."""
    from harness.cli import main
    from harness.runner import run_search

    info = data_copy / "nats-bench" / "tss-train-info-first1000.csv.gz"
    info.write_bytes(info.read_bytes()[:3000])
    with pytest.raises(ValueError, match="tss-train-info-first1000.csv.gz is unreadable"):
        TableOracle.load("tss", data_copy).simulate_train_eval(11, "cifar10")
    info.unlink()
    oracle = TableOracle.load("tss", data_copy)
    assert oracle.accuracy(11, "cifar10") == pytest.approx(91.58, abs=0.01)
    for use in (lambda: oracle.simulate_train_eval(11, "cifar10"), lambda: oracle.cost(11, "cifar10"),
                lambda: run_search("random", oracle, "cifar10", 0)):
        with pytest.raises(DataNotFoundError, match="tss-train-info-first1000.csv.gz not found"):
            use()
    assert main(["data", "--data", str(data_copy), "--verify"]) == 1
    assert "validation times: benchmark data file nats-bench/tss-train-info" in capsys.readouterr().out


def test_a_bad_cell_names_its_file_column_and_row_and_a_blank_one_is_unknown(data_copy, capsys):
    import pandas as pd

    from harness.cli import main

    path = data_copy / "nats-bench" / "tss.csv.gz"
    frame = pd.read_csv(path).astype({"cifar10/train_s_per_epoch": object})
    frame.loc[7, "cifar10/train_s_per_epoch"] = "abc"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"tss.csv.gz: column 'cifar10/train_s_per_epoch', data row 7 \(line 9\) "
                                         r"holds 'abc'"):
        TableOracle.load("tss", data_copy)
    frame.loc[7, "cifar10/train_s_per_epoch"] = "N/A"  # only an empty cell means unknown
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="holds 'N/A'"):
        TableOracle.load("tss", data_copy)
    frame.loc[[0, 7], "cifar10/train_s_per_epoch"] = None
    frame.to_csv(path, index=False)
    oracle = TableOracle.load("tss", data_copy)
    assert math.isnan(oracle.simulate_train_eval(7, "cifar10")[1])
    assert oracle.simulate_train_eval(11, "cifar10")[1] == pytest.approx(153.696, abs=0.01)
    assert oracle.has_times("cifar10")  # an unknown arch 0 does not turn the time budget off
    main(["data", "--data", str(data_copy), "--verify"])
    assert "tss cifar10/train_s_per_epoch: 15623 of 15625 archs" in capsys.readouterr().out


@pytest.mark.parametrize("space", ["tss", "sss"])
def test_both_backends_agree_on_official_archs(space, official_dir, tss_oracle, sss_oracle):
    table = tss_oracle if space == "tss" else sss_oracle
    nats = NatsBenchOracle(space, official_dir)
    assert nats.available() == [0, 11, 284]
    assert [nats.space.arch(i) for i in (0, 11, 284)] == [table.space.arch(i) for i in (0, 11, 284)]
    metrics = [("test", 200), ("test", 12), ("valid", 12)] if space == "tss" else [("valid", 90)]
    for i in (0, 11, 284):
        for d in DATASETS:
            for metric, epochs in metrics:
                assert nats.accuracy(i, d, metric, epochs) == pytest.approx(table.accuracy(i, d, metric, epochs), abs=1e-4)
            a_acc, a_s = nats.simulate_train_eval(i, d)
            b_acc, b_s = table.simulate_train_eval(i, d)
            assert a_acc == pytest.approx(b_acc, abs=1e-4)
            assert a_s == pytest.approx(b_s, abs=1e-3) or (math.isnan(a_s) and math.isnan(b_s))
            for key in ("params_mb", "flops_m"):
                assert nats.cost(i, d)[key] == pytest.approx(table.cost(i, d)[key], rel=1e-5)


def test_nats_backend_missing_record_and_folder(official_dir, tmp_path):
    nats = NatsBenchOracle("tss", official_dir)
    with pytest.raises(DataNotFoundError, match="000001.pickle.pbz2"):
        nats.accuracy(1, "cifar10")
    with pytest.raises(DataNotFoundError, match="TORCH_HOME"):
        NatsBenchOracle("tss", tmp_path)


def test_load_oracle_names(official_dir):
    assert isinstance(load_oracle("tss", "nats", official_dir), NatsBenchOracle)
    with pytest.raises(ValueError, match="valid sources: table, nats"):
        load_oracle("tss", "csv")
    with pytest.raises(ValueError, match="valid spaces: tss, sss"):
        load_oracle("xss")


def test_data_command_converts_official_folder(official_dir, tmp_path, capsys):
    from harness.cli import main

    assert main(["data", "--convert", str(official_dir), "--out", str(tmp_path)]) == 0
    converted = TableOracle.load("tss", tmp_path)
    assert np.isfinite(converted.accuracies("cifar10")).sum() == 3
    assert converted.simulate_train_eval(11, "cifar10")[1] == pytest.approx(153.696, abs=0.01)
    assert math.isnan(converted.accuracy(1, "cifar10"))  # absent records stay unknown
    assert "3 archs with a record; the other 15622 have no record file" in capsys.readouterr().out
    assert main(["data", "--data", str(tmp_path), "--verify"]) == 1  # incomplete source fails verification
    assert "3 of 15625" in capsys.readouterr().out


def test_data_command_verifies_shared_data(data_root, capsys):
    from harness.cli import main

    assert main(["data", "--data", str(data_root), "--verify"]) == 0
    assert "verify: OK" in capsys.readouterr().out
