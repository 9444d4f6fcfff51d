"""A cache of proxy scores in one SQLite file, so that full-space sweeps resume and suites reuse them.

A score is keyed by everything that can change its value (``ScoreKey``: proxy, space, dataset, batch size,
image source, seed, device, dtype, torch and harness versions, scoring protocol) plus the arch index; a key that differs in any
part is a different entry, so a store never hands back a score computed under other conditions. Scores are
written once (``INSERT OR IGNORE`` on the unique key) and never overwritten; ``computed_at`` records when.

SQLite turns NaN into NULL, so each row carries an ``is_nan`` flag: NaN scores come back as NaN and stay
distinct from missing ones; +-inf is stored as such. The file runs in WAL mode with a busy timeout and short
transactions so that several processes can read and write it at once. Each process opens its own
``ResultStore``; a connection must not cross a fork.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Self

import harness
from harness.protocol import NATS

SCHEMA_VERSION = 2  # 2 added the protocol column; a version-1 file is migrated in place (its scores: nats)
APPLICATION = "nasbench-harness result store"
BUSY_TIMEOUT_MS = 60_000
_CHUNK = 500  # archs per IN (...) query, well under SQLite's bound-parameter limit

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE score_keys (
    id INTEGER PRIMARY KEY,
    proxy TEXT NOT NULL, space TEXT NOT NULL, dataset TEXT NOT NULL, batch_size INTEGER NOT NULL,
    image_source TEXT NOT NULL, seed INTEGER NOT NULL, device TEXT NOT NULL, dtype TEXT NOT NULL,
    torch_version TEXT NOT NULL, harness_version TEXT NOT NULL, protocol TEXT NOT NULL,
    UNIQUE (proxy, space, dataset, batch_size, image_source, seed, device, dtype, torch_version,
            harness_version, protocol)
);
CREATE TABLE scores (
    key_id INTEGER NOT NULL REFERENCES score_keys (id),
    arch INTEGER NOT NULL,
    value REAL,
    is_nan INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
    computed_at REAL NOT NULL,
    PRIMARY KEY (key_id, arch),
    CHECK ((is_nan = 1) = (value IS NULL))
) WITHOUT ROWID;
"""


class StoreError(ValueError):
    """The file is not a result store this harness can use; the message names the file."""


def _torch_version() -> str:
    import torch  # deferred: reading a store needs no torch

    return torch.__version__


@dataclass(frozen=True)
class ScoreKey:
    """Everything besides the arch that determines a proxy score."""

    proxy: str
    space: str
    dataset: str
    batch_size: int
    image_source: str
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"
    torch_version: str = field(default_factory=_torch_version)
    harness_version: str = harness.__version__
    protocol: str = NATS.key  #: ``Protocol.key``: its name and parameters

    @classmethod
    def for_batch(cls, proxy: str, space: str, dataset: str, batch, seed: int = 0,
                  device: str = "cpu", code_version: str = harness.__version__) -> ScoreKey:
        """The key of scores computed on ``batch`` (a ``harness.images.Batch``): its real size, source, dtype
        and protocol, so that a short or differently typed batch never shares entries with the usual one.
        ``code_version`` is the version of the code computing the proxy (a plugin's includes its own)."""
        return cls(proxy=proxy, space=space, dataset=dataset, batch_size=int(batch.inputs.shape[0]),
                   image_source=str(batch.source), seed=int(seed), device=str(device),
                   dtype=str(batch.inputs.dtype).removeprefix("torch."), harness_version=code_version,
                   protocol=batch.protocol.key)


_KEY_COLUMNS = tuple(f.name for f in fields(ScoreKey))


@dataclass(frozen=True)
class Row:
    """One score to write."""

    key: ScoreKey
    arch: int
    value: float


class ResultStore:
    """The score cache in ``path`` (created with its parent folder when missing)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"result store {self.path} is a folder, not a file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key_ids: dict[ScoreKey, int] = {}
        self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._open_schema()
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")  # WAL keeps it consistent; only the last
            # commits can be lost on power failure, and those are recomputed on resume
        except sqlite3.OperationalError as exc:  # locked past the timeout, unreadable, disk full
            self._conn.close()
            raise StoreError(f"cannot open result store {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:  # not an SQLite file at all
            self._conn.close()
            raise StoreError(f"{self.path} is not a usable result store (SQLite says: {exc})") from exc
        except StoreError:
            self._conn.close()
            raise

    def _open_schema(self) -> None:
        """Create the schema in an empty file, else check it is ours and of this version."""
        with self._transaction(immediate=True):  # one creator when several processes open a new file
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION))])
                return
            meta = {}
            if "meta" in tables:
                try:
                    meta = dict(self._conn.execute("SELECT name, value FROM meta").fetchall())
                except sqlite3.DatabaseError:
                    meta = {}
            if meta.get("application") != APPLICATION:
                raise StoreError(f"{self.path} is an SQLite file but not a {APPLICATION} "
                                 f"(tables: {', '.join(sorted(tables))}); use another store file")
            if meta.get("schema_version") == "1":
                self._migrate_from_1()
                return
            if meta.get("schema_version") != str(SCHEMA_VERSION):
                raise StoreError(f"result store {self.path} has schema version {meta.get('schema_version')}, "
                                 f"this harness reads version {SCHEMA_VERSION}; use a new store file")

    def _migrate_from_1(self) -> None:
        """Version 1 had no protocol column: every score in it was computed under ``nats`` (the only protocol
        then) at its key's batch size, so its keys get that protocol's key and every score stays reusable
        (inside the open transaction)."""
        # new table first, then drop and rename: renaming the old one would rewrite scores' REFERENCES to it
        keys_table = next(st for st in _SCHEMA.split(";") if "CREATE TABLE score_keys" in st)
        self._conn.execute(keys_table.replace("score_keys", "score_keys_v2", 1))
        old_columns = ", ".join(c for c in _KEY_COLUMNS if c != "protocol")
        self._conn.execute(f"INSERT INTO score_keys_v2 (id, {old_columns}, protocol) "
                           f"SELECT id, {old_columns}, '' FROM score_keys")
        for (size,) in self._conn.execute("SELECT DISTINCT batch_size FROM score_keys_v2").fetchall():
            self._conn.execute("UPDATE score_keys_v2 SET protocol = ? WHERE batch_size = ?",
                               (NATS.with_batch_size(size).key, size))
        self._conn.execute("DROP TABLE score_keys")
        self._conn.execute("ALTER TABLE score_keys_v2 RENAME TO score_keys")
        self._conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),))

    def _transaction(self, immediate: bool = False):
        return _Transaction(self._conn, immediate)

    # -- keys ------------------------------------------------------------------------------------------

    def _key_id(self, key: ScoreKey, create: bool) -> int | None:
        if key in self._key_ids:
            return self._key_ids[key]
        values = tuple(asdict(key)[c] for c in _KEY_COLUMNS)
        where = " AND ".join(f"{c} = ?" for c in _KEY_COLUMNS)
        if create:
            self._conn.execute(f"INSERT OR IGNORE INTO score_keys ({', '.join(_KEY_COLUMNS)}) "
                               f"VALUES ({', '.join('?' * len(_KEY_COLUMNS))})", values)
        row = self._conn.execute(f"SELECT id FROM score_keys WHERE {where}", values).fetchone()
        if row is None:
            return None
        self._key_ids[key] = row[0]
        return row[0]

    def keys(self) -> list[ScoreKey]:
        """Every key that has scores stored."""
        rows = self._conn.execute(f"SELECT {', '.join(_KEY_COLUMNS)} FROM score_keys ORDER BY id").fetchall()
        return [ScoreKey(**dict(zip(_KEY_COLUMNS, r))) for r in rows]

    # -- reads -----------------------------------------------------------------------------------------

    def _rows(self, key: ScoreKey, archs: Iterable[int] | None, columns: str) -> Iterator[tuple]:
        key_id = self._key_id(key, create=False)
        if key_id is None:
            return
        if archs is None:
            yield from self._conn.execute(f"SELECT {columns} FROM scores WHERE key_id = ?", (key_id,))
            return
        wanted = sorted({int(a) for a in archs})
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            yield from self._conn.execute(
                f"SELECT {columns} FROM scores WHERE key_id = ? AND arch IN ({', '.join('?' * len(chunk))})",
                (key_id, *chunk))

    def get_many(self, key: ScoreKey, archs: Iterable[int] | None = None) -> dict[int, float]:
        """Stored scores of ``archs`` (all when None) under ``key``; missing archs are absent."""
        return {arch: math.nan if is_nan else value
                for arch, value, is_nan in self._rows(key, archs, "arch, value, is_nan")}

    def computed_at(self, key: ScoreKey, archs: Iterable[int] | None = None) -> dict[int, float]:
        """When each stored score was written (Unix seconds): the audit trail of a sweep."""
        return dict(self._rows(key, archs, "arch, computed_at"))

    def missing(self, key: ScoreKey, archs: Iterable[int]) -> list[int]:
        """The archs (in the given order, without repeats) that have no score under ``key``."""
        archs = list(dict.fromkeys(int(a) for a in archs))
        have = {r[0] for r in self._rows(key, archs, "arch")}
        return [a for a in archs if a not in have]

    def count(self, key: ScoreKey | None = None) -> int:
        """Scores stored under ``key``, or in the whole file when None."""
        if key is None:
            return self._conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
        key_id = self._key_id(key, create=False)
        if key_id is None:
            return 0
        return self._conn.execute("SELECT COUNT(*) FROM scores WHERE key_id = ?", (key_id,)).fetchone()[0]

    # -- writes ----------------------------------------------------------------------------------------

    def put_many(self, rows: Iterable[Row | tuple[ScoreKey, int, float]]) -> int:
        """Write scores in one short transaction; scores already stored are kept, not replaced.

        Returns how many rows were new."""
        rows = [r if isinstance(r, Row) else Row(*r) for r in rows]
        if not rows:
            return 0
        now = time.time()
        with self._transaction(immediate=True):
            params = []
            for r in rows:
                value = float(r.value)
                nan = math.isnan(value)
                key_id = self._key_id(r.key, create=True)
                params.append((key_id, int(r.arch), None if nan else value, int(nan), now))
            before = self._conn.total_changes  # after the score_keys inserts: count only new scores
            self._conn.executemany("INSERT OR IGNORE INTO scores (key_id, arch, value, is_nan, computed_at) "
                                   "VALUES (?, ?, ?, ?, ?)", params)
            return self._conn.total_changes - before

    # -- lifetime --------------------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"


class _Transaction:
    """BEGIN ... COMMIT, rolled back on error; IMMEDIATE takes the write lock up front so that two writers
    wait on the busy timeout instead of failing on a lock upgrade."""

    def __init__(self, conn: sqlite3.Connection, immediate: bool):
        self._conn, self._immediate = conn, immediate

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE" if self._immediate else "BEGIN")

    def __exit__(self, exc_type, *exc) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
