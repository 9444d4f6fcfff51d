"""Another implementation's zero-cost proxy scores (NAS-Bench-Suite-Zero, 725 TSS archs x 3 datasets), the
yardstick our proxies are checked against: do they rank the same archs the same way?

The file (``nats-bench/reference-scores-725.csv.gz`` under the data root) is long-format CSV: ``dataset,
index, arch, val_accuracy`` and one column per proxy. Its networks use BatchNorm without affine parameters or
running statistics and a batch of 32: the ``suitezero`` scoring protocol (``harness.protocol``) reproduces that.
"""

from __future__ import annotations

import os

import pandas as pd

from harness.bench.datasets import DATASETS
from harness.config import data_file
from harness.errors import DataNotFoundError

REFERENCE_FILE = "nats-bench/reference-scores-725.csv.gz"
REFERENCE_SPACE = "tss"  # the space the reference file scores
# reference column -> our proxy of the same definition
PROXY_COLUMNS = {"flops": "flops", "params": "params", "synflow": "synflow", "grasp": "grasp",
                 "fisher": "fisher", "grad_norm": "grad_norm", "l2_norm": "l2_norm", "plain": "plain",
                 "nwot": "nwot", "epe_nas": "epe_nas", "jacov": "jacob_cov", "snip": "snip"}
_ID_COLUMNS = ("dataset", "index", "arch", "val_accuracy")


def load_reference_scores(data: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The reference scores, proxy columns renamed to our proxy names; a malformed file is an error that
    names it."""
    path = data_file(REFERENCE_FILE, data)
    try:
        frame = pd.read_csv(path)
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as exc:
        raise DataNotFoundError(f"{path} is not a readable reference-score CSV: {exc}") from exc
    missing = [c for c in (*_ID_COLUMNS, *PROXY_COLUMNS) if c not in frame.columns]
    if missing:
        raise DataNotFoundError(f"{path} lacks the columns {missing}")
    unknown = sorted(set(frame["dataset"]) - set(DATASETS))
    if unknown:
        raise DataNotFoundError(f"{path} has rows for unknown datasets {unknown}")
    return frame.rename(columns=PROXY_COLUMNS)


def reference_archs(data: str | os.PathLike[str] | None = None) -> list[int]:
    """The TSS indices the reference scored (on any dataset), ascending."""
    return sorted(int(i) for i in load_reference_scores(data)["index"].unique())
