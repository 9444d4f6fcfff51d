"""Convert official NATS-Bench files into the compact tables TableOracle reads (same columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm import tqdm

from harness.bench.datasets import DATASETS
from harness.bench.natsbench import NatsBenchOracle

TSS_ACCURACIES = {
    "test_acc_200": ("test", 200),
    "test_acc_12": ("test", 12),
    "valid_acc_12": ("valid", 12),
}


def _tss_columns(dataset: str) -> dict[str, tuple[str, int]]:
    cols = dict(TSS_ACCURACIES)
    if dataset == "cifar10":
        cols["valid_acc_200"] = ("valid", 200)
    else:
        cols["valtest_acc_200"] = ("valtest", 200)
    return cols


def table_from_nats(oracle: NatsBenchOracle, progress: bool = True) -> pd.DataFrame:
    """One row per index in official order; archs whose record file is absent stay NaN (never invented)."""
    space = oracle.space
    frame = pd.DataFrame({"index": np.arange(space.size)})
    frame["arch" if space.name == "tss" else "channels"] = [space.arch(i) for i in range(space.size)]
    columns: dict[str, np.ndarray] = {}
    for d in DATASETS:
        names = _tss_columns(d) if space.name == "tss" else {"valid_acc_90": ("valid", 90)}
        for col in list(names) + ["params_mb", "flops_m"] + (
                ["train_s_per_epoch", "valid_s_per_epoch"] if space.name == "tss" else []):
            columns[f"{d}/{col}"] = np.full(space.size, np.nan)
    for i in tqdm(oracle.available(), desc=f"converting {space.name}", disable=not progress):
        for d in DATASETS:
            names = _tss_columns(d) if space.name == "tss" else {"valid_acc_90": ("valid", 90)}
            for col, (metric, epochs) in names.items():
                columns[f"{d}/{col}"][i] = oracle.accuracy(i, d, metric, epochs)
            cost = oracle.cost(i, d)
            columns[f"{d}/params_mb"][i] = cost["params_mb"]
            columns[f"{d}/flops_m"][i] = cost["flops_m"]
            if space.name == "tss":
                columns[f"{d}/train_s_per_epoch"][i] = cost["train_s_per_epoch"]
                columns[f"{d}/valid_s_per_epoch"][i] = cost["valid_s_per_epoch"]
    return pd.concat([frame, pd.DataFrame(columns)], axis=1)
