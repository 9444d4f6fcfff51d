"""Convert official NATS-Bench files into the compact tables TableOracle reads (same columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm import tqdm

from harness.bench.datasets import DATASETS
from harness.bench.natsbench import NatsBenchOracle

TIME_COLUMNS = ("train_s_per_epoch", "valid_s_per_epoch")


def _accuracy_columns(space, dataset: str) -> dict[str, tuple[str, int]]:
    return {f"{metric}_acc_{epochs}": (metric, epochs) for metric, epochs in space.metrics_for(dataset)}


def table_from_nats(oracle: NatsBenchOracle, progress: bool = True) -> pd.DataFrame:
    """One row per index in official order; archs whose record file is absent stay NaN (never invented)."""
    space = oracle.space
    frame = pd.DataFrame({"index": np.arange(space.size)})
    frame[space.arch_column] = [space.arch(i) for i in range(space.size)]
    times = TIME_COLUMNS if space.has_times else ()
    columns: dict[str, np.ndarray] = {}
    for d in DATASETS:
        for col in [*_accuracy_columns(space, d), "params_mb", "flops_m", *times]:
            columns[f"{d}/{col}"] = np.full(space.size, np.nan)
    for i in tqdm(oracle.available(), desc=f"converting {space.name}", disable=not progress):
        for d in DATASETS:
            for col, (metric, epochs) in _accuracy_columns(space, d).items():
                columns[f"{d}/{col}"][i] = oracle.accuracy(i, d, metric, epochs)
            cost = oracle.cost(i, d)
            columns[f"{d}/params_mb"][i] = cost["params_mb"]
            columns[f"{d}/flops_m"][i] = cost["flops_m"]
            for col in times:
                columns[f"{d}/{col}"][i] = cost[col]
    return pd.concat([frame, pd.DataFrame(columns)], axis=1)
