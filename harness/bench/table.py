"""TableOracle: NATS-Bench ground truth from the compact tables, as arrays indexed by arch index."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.bench.datasets import DATASETS, VALID_PER_TEST
from harness.bench.natsbench import FOLDERS
from harness.bench.oracle import Oracle
from harness.bench.unpickle import load_bz2_pickle
from harness.config import data_dir, data_file
from harness.errors import DataNotFoundError
from harness.spaces import SizeSpace, TopologySpace
from harness.spaces.tss import OFFICIAL_ORDER_SHA256, official_order_digest

TSS_TABLE = "nats-bench/tss.csv.gz"
TSS_TRAIN_INFO = "nats-bench/tss-train-info-first1000.csv.gz"
TSS_LATENCY = "nats-bench/tss-latency-ms.csv.gz"
SSS_TABLE = "nats-bench/sss.csv.gz"


def _is_accuracy(column: str) -> bool:
    return "_acc_" in column or column.endswith("_accuracy")


def _out_of_range(column: str, values: pd.Series) -> tuple[np.ndarray, str]:
    """Rows of a numeric column outside its range: accuracies are percentages, everything else (times,
    costs, latencies, losses, indices) a finite non-negative amount. Blanks (unknown) are in range."""
    v = values.to_numpy(dtype=np.float64)
    if _is_accuracy(column):
        return np.flatnonzero(~np.isnan(v) & ~((v >= 0) & (v <= 100))), "an accuracy in [0, 100]"
    return np.flatnonzero(~np.isnan(v) & ~(np.isfinite(v) & (v >= 0))), "a finite non-negative number"


def _cell(path: Path, column: str, rows: np.ndarray, column_values: pd.Series, expected: str) -> str:
    first = int(rows[0])
    more = f" ({len(rows)} such rows)" if len(rows) > 1 else ""
    return (f"benchmark table {path}: column {column!r}, data row {first} (line {first + 2}) holds "
            f"{column_values.iloc[first]!r}, not {expected}{more}")


def read_table(path: Path, required: list[str], index: str = "index") -> pd.DataFrame:
    """A table whose rows are in ``index`` order and whose measurement columns (every column but the arch
    string) hold numbers in range (:func:`_out_of_range`) or blanks (unknown: a conversion of partial official
    data leaves archs without a record empty, and ``data --verify`` counts them); any other cell is an error
    naming its file, column and row (every bad column, one line each), not a value a search or a fit would
    serve as the truth."""
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])  # only an empty cell is unknown
    except Exception as exc:  # gzip/CSV errors: say which file
        raise ValueError(f"benchmark table {path} is unreadable: {type(exc).__name__}: {exc}") from exc
    missing = [c for c in [index, *required] if c not in frame.columns]
    if missing:
        raise ValueError(f"benchmark table {path} lacks columns {missing}")
    problems = []
    for name in frame.columns:
        if name in ("arch", "channels"):
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = np.flatnonzero((values.isna() & frame[name].notna()).to_numpy())
        if len(bad):
            problems.append(_cell(path, name, bad, frame[name], "a number"))
            continue
        bad, expected = _out_of_range(name, values)
        if len(bad):
            problems.append(_cell(path, name, bad, frame[name], expected))
        frame[name] = values
    if problems:
        raise ValueError("\n".join(problems))
    if index == "index" and not (frame[index].to_numpy() == np.arange(len(frame))).all():
        raise ValueError(f"benchmark table {path}: rows must be in index order 0..{len(frame) - 1}")
    return frame


def _check_rows(path: Path, column: str, found: list[str], expected: list[str]) -> None:
    """Every row's arch string is the one its index decodes to; else an error naming the rows."""
    bad = [i for i, (f, e) in enumerate(zip(found, expected, strict=True)) if f != e]
    if bad:
        shown = "; ".join(f"data row {i} (line {i + 2}) holds {found[i]!r}, index {i} is {expected[i]!r}"
                          for i in bad[:3])
        more = f" (and {len(bad) - 3} more rows)" if len(bad) > 3 else ""
        raise ValueError(f"benchmark table {path}: column {column!r}: {shown}{more}")


def _check_official_order(path: Path, archs: list[str], data) -> None:
    """TSS indices follow NATS-Bench's own arch list, which no rule derives: the table's arch column must
    hash to that list's fingerprint. The rows that differ are named from the official meta file under the
    data root where it is there; else the message says where to put it."""
    if len(archs) == TopologySpace.space_size() and official_order_digest(archs) == OFFICIAL_ORDER_SHA256:
        return
    meta = data_dir(data) / "nats-bench" / "official" / FOLDERS["tss"] / "meta.pickle.pbz2"
    if len(archs) == TopologySpace.space_size() and meta.is_file():
        _check_rows(path, "arch", archs, list(load_bz2_pickle(meta)["meta_archs"]))
    raise ValueError(f"benchmark table {path}: column 'arch' is not NATS-Bench's TSS arch list in official index "
                     f"order ({len(archs)} rows, sha256 {official_order_digest(archs)[:12]}..., expected "
                     f"{TopologySpace.space_size()} rows, {OFFICIAL_ORDER_SHA256[:12]}...); the rows that differ "
                     f"are named when the official {meta.relative_to(data_dir(data))} is under the data root")


class TableOracle(Oracle):
    """Vectorised oracle: one float array per (dataset, column), indexed by official arch index."""

    def __init__(self, space, columns: dict[str, np.ndarray], latency: dict[str, np.ndarray], source: str,
                 data: str | os.PathLike[str] | None = None):
        self.space = space
        self.columns = columns
        self.latency = latency
        self.source = source
        self._data = data  # where the train-info table is read, on the first need of a validation time
        self._valid_times: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def load(cls, space: str = "tss", data: str | os.PathLike[str] | None = None) -> TableOracle:
        """Load a space's tables from the data root (``$HARNESS_DATA_DIR`` unless ``data`` is given)."""
        loaders = {"tss": cls._load_tss, "sss": cls._load_sss}
        if space not in loaders:
            raise ValueError(f"unknown space {space!r}; valid spaces: {', '.join(loaders)}")
        return loaders[space](data)

    @classmethod
    def _load_tss(cls, data) -> TableOracle:
        path = data_file(TSS_TABLE, data)
        frame = read_table(path, ["index", "arch"] + [f"{d}/test_acc_200" for d in DATASETS])
        archs = frame["arch"].astype(str).tolist()
        _check_official_order(path, archs, data)
        space = TopologySpace(archs)
        columns = {c: frame[c].to_numpy(dtype=np.float64) for c in frame.columns if "/" in c}
        latency = {}
        try:
            lat = read_table(data_file(TSS_LATENCY, data), ["index"])
            latency = {c: lat[c].to_numpy(dtype=np.float64) for c in lat.columns if c not in ("index", "arch")}
        except DataNotFoundError:
            pass  # latency is optional: cost() then reports none
        return cls(space, columns, latency, str(path), data)

    @classmethod
    def _load_sss(cls, data) -> TableOracle:
        path = data_file(SSS_TABLE, data)
        frame = read_table(path, ["index", "channels"] + [f"{d}/valid_acc_90" for d in DATASETS])
        space = SizeSpace()
        if len(frame) != space.size:
            raise ValueError(f"{path}: SSS needs {space.size} rows, got {len(frame)}")
        expected = [":".join(c) for c in itertools.product(space.choices, repeat=space.n_positions)]
        _check_rows(path, "channels", frame["channels"].astype(str).tolist(), expected)
        columns = {c: frame[c].to_numpy(dtype=np.float64) for c in frame.columns if "/" in c}
        return cls(space, columns, {}, str(path), data)

    def valid_times(self, dataset: str) -> tuple[np.ndarray, np.ndarray]:
        """Validation seconds per epoch of every arch and whether each is estimated: the table's own column
        (a converted official table has it), else from the train-info table (``_valid_seconds``), read here
        and not at load, so that accuracies and proxies never need it; its absence is an error naming it."""
        if dataset not in self._valid_times:
            column = self.columns.get(f"{dataset}/valid_s_per_epoch")
            if column is not None:
                self._valid_times[dataset] = column, np.zeros(len(column), dtype=bool)
            else:
                self._valid_times[dataset] = _valid_seconds(self._col(dataset, "train_s_per_epoch"), dataset,
                                                            self._data)
        return self._valid_times[dataset]

    def has_times(self, dataset: str) -> bool:
        """Decided from the whole training-time column (a blank arch 0 is one unknown arch, not a table
        without times); a time budget also needs the validation times, so they are read here."""
        train = self.columns.get(f"{dataset}/train_s_per_epoch")
        if train is None or not np.isfinite(train).any():
            return False
        self.valid_times(dataset)
        return True

    # -- Oracle -------------------------------------------------------------------------------------
    def _col(self, dataset: str, name: str) -> np.ndarray:
        return self.columns.get(f"{dataset}/{name}", np.full(self.space.size, np.nan))

    def _accuracy(self, index: int, dataset: str, metric: str, epochs: int) -> float:
        return self._col(dataset, f"{metric}_acc_{epochs}")[index]

    def _accuracies(self, dataset: str, metric: str, epochs: int) -> np.ndarray:
        return self._col(dataset, f"{metric}_acc_{epochs}")

    def _simulate(self, index: int, dataset: str, hp: int) -> tuple[float, float]:
        acc = self.columns.get(f"{dataset}/valid_acc_{hp}")
        if acc is None:
            raise ValueError(
                f"{self.source} holds no validation accuracy after {hp} epochs for {dataset} "
                f"(simulate_train_eval here supports hp={self.space.search_hp})"
            )
        train = self.columns.get(f"{dataset}/train_s_per_epoch")
        if train is None:
            return float(acc[index]), float("nan")
        seconds = hp * train[index] + self.valid_times(dataset)[0][index]
        return float(acc[index]), float(seconds)

    def _latency_table(self) -> dict[str, np.ndarray]:
        return self.latency

    def _cost(self, index: int, dataset: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "params_mb": float(self._col(dataset, "params_mb")[index]),
            "flops_m": float(self._col(dataset, "flops_m")[index]),
            "train_s_per_epoch": float(self._col(dataset, "train_s_per_epoch")[index]),
        }
        if self.space.has_times:
            valid, estimated = self.valid_times(dataset)
            out.update(valid_s_per_epoch=float(valid[index]), valid_s_estimated=bool(estimated[index]))
        else:  # NATS-Bench's size-space data here has no times
            out.update(valid_s_per_epoch=float("nan"), valid_s_estimated=False)
        out["latency_ms"] = {dev: float(v[index]) for dev, v in self.latency.items()}
        return out


def _valid_seconds(train: np.ndarray, dataset: str, data) -> tuple[np.ndarray, np.ndarray]:
    """Validation seconds per epoch, which the main table lacks.

    Exact for archs 0..999, whose test time per epoch the train-info table records (NATS-Bench's validation
    time is that times VALID_PER_TEST). For the rest it is a least-squares line on training time fitted to
    those 1,000 archs (correlation 0.96; the validation epoch is ~3% of a 12-epoch query's cost), and
    flagged as estimated. Without the train-info table there are no validation times, hence no simulated
    time budget: its absence is an error naming the file.
    """
    n = len(train)
    out, estimated = np.full(n, np.nan), np.zeros(n, dtype=bool)
    path = data_file(TSS_TRAIN_INFO, data)
    info = read_table(path, [f"{dataset}_hp12_test_all_time"], index="nats_index")
    known = info["nats_index"].to_numpy()
    if not (np.issubdtype(known.dtype, np.integer) and ((known >= 0) & (known < n)).all()
            and len(np.unique(known)) == len(known)):
        raise ValueError(f"benchmark table {path}: nats_index must hold distinct whole numbers in 0..{n - 1}")
    measured = info[f"{dataset}_hp12_test_all_time"].to_numpy(dtype=np.float64) / 12 * VALID_PER_TEST[dataset]
    fit = np.isfinite(train[known]) & np.isfinite(measured)
    if fit.sum() >= 2:  # unknown (blank) times stay unknown
        slope, intercept = np.polyfit(train[known][fit], measured[fit], 1)
        out[:] = slope * train + intercept
    out[known] = measured
    estimated[:] = True
    estimated[known] = False
    return out, estimated
