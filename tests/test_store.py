"""The SQLite result store: exact keys, faithful NaN/inf, clear errors on foreign files, no lost writes."""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
from dataclasses import replace

import pytest

from harness.store import SCHEMA_VERSION, ResultStore, Row, ScoreKey, StoreError

KEY = ScoreKey(proxy="nwot", space="tss", dataset="cifar10", batch_size=64, image_source="cifar10-train-2000",
               seed=0, device="cpu", dtype="float32", torch_version="2.13.0+cpu", harness_version="0.1.0")


def test_roundtrip_keeps_nan_inf_and_tells_nan_from_missing(tmp_path):
    values = {0: 1.25, 1: math.nan, 2: math.inf, 3: -math.inf, 4: -0.0, 5: 1e300}
    with ResultStore(tmp_path / "s.sqlite") as store:
        assert store.put_many([(KEY, a, v) for a, v in values.items()]) == len(values)
    with ResultStore(tmp_path / "s.sqlite") as store:  # reopened: read from disk
        got = store.get_many(KEY, [0, 1, 2, 3, 4, 5, 6])
        assert set(got) == set(values)  # arch 6 missing: absent, not NaN
        assert math.isnan(got[1])
        assert {a: v for a, v in got.items() if a != 1} == {a: v for a, v in values.items() if a != 1}
        assert store.missing(KEY, [6, 1, 0, 7, 6]) == [6, 7]
        assert store.count(KEY) == len(values) and store.count() == len(values)
        everything = store.get_many(KEY)  # archs=None: the whole key
        assert set(everything) == set(values) and math.isnan(everything[1])


@pytest.mark.parametrize("field, other", [
    ("proxy", "synflow"), ("space", "sss"), ("dataset", "cifar100"), ("batch_size", 32),
    ("image_source", "samples-20"), ("seed", 1), ("device", "cuda"), ("dtype", "float64"),
    ("torch_version", "2.12.0"), ("harness_version", "0.2.0"),
])
def test_any_other_key_part_is_a_miss(tmp_path, field, other):
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.put_many([Row(KEY, 7, 3.5)])
        other_key = replace(KEY, **{field: other})
        assert store.get_many(other_key, [7]) == {}
        assert store.missing(other_key, [7]) == [7]
        assert store.count(other_key) == 0
        assert store.get_many(KEY, [7]) == {7: 3.5}


def test_scores_are_written_once_and_never_replaced(tmp_path):
    with ResultStore(tmp_path / "s.sqlite") as store:
        assert store.put_many([(KEY, 1, 1.0)]) == 1
        first = store.computed_at(KEY)[1]
        assert store.put_many([(KEY, 1, 2.0), (KEY, 2, 2.0)]) == 1
        assert store.get_many(KEY) == {1: 1.0, 2: 2.0}
        assert store.computed_at(KEY)[1] == first


def test_long_arch_lists_are_chunked(tmp_path):
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.put_many([(KEY, a, float(a)) for a in range(0, 3000, 2)])
        assert len(store.get_many(KEY, range(3000))) == 1500
        assert store.missing(KEY, range(3000)) == list(range(1, 3000, 2))


def test_not_sqlite_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"these are not the scores you are looking for\n" * 50)
    with pytest.raises(StoreError, match="notes.sqlite.*not a usable result store"):
        ResultStore(path)


def test_foreign_sqlite_is_a_clear_error(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE results (x REAL)")
    with pytest.raises(StoreError, match="other.db.*not a nasbench-harness result store.*results"):
        ResultStore(path)


def test_other_schema_version_is_a_clear_error(tmp_path):
    path = tmp_path / "old.sqlite"
    ResultStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match=f"old.sqlite has schema version {SCHEMA_VERSION + 1}"):
        ResultStore(path)


def test_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        ResultStore(tmp_path)


def test_store_is_in_wal_mode(tmp_path):
    ResultStore(tmp_path / "s.sqlite").close()
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _writer(path: str, worker: int, n: int) -> None:
    """Each worker writes its own archs one short transaction at a time, plus archs every worker writes."""
    with ResultStore(path) as store:
        for i in range(n):
            store.put_many([(KEY, worker * 10_000 + i, float(i)), (replace(KEY, proxy="shared"), i, float(i))])


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "s.sqlite")  # not created yet: the writers race to create it too
    n_workers, n = 4, 150
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, n)) for w in range(n_workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * n_workers
    with ResultStore(path) as store:
        assert store.count(KEY) == n_workers * n
        assert store.missing(KEY, [w * 10_000 + i for w in range(n_workers) for i in range(n)]) == []
        assert store.get_many(replace(KEY, proxy="shared")) == {i: float(i) for i in range(n)}
