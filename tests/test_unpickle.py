"""The restricted unpickler: NATS-Bench files load, anything else is refused before it runs."""

import bz2
import os
import pickle

import pytest

from harness.bench.unpickle import load_bz2_pickle


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_official_records_load(official_dir):
    record = load_bz2_pickle(official_dir / "NATS-tss-v1_0-3ffb9-simple" / "000011.pickle.pbz2")
    assert set(record) >= {"12", "200"}
    meta = load_bz2_pickle(official_dir / "NATS-tss-v1_0-3ffb9-simple" / "meta.pickle.pbz2")
    assert len(meta["meta_archs"]) == 15625


def test_forbidden_global_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pickle.pbz2"
    path.write_bytes(bz2.compress(pickle.dumps({"x": _Exploit()})))
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system"):
        load_bz2_pickle(path)
    assert not (tmp_path / "pwned").exists()


def test_corrupt_and_missing_files(tmp_path):
    bad = tmp_path / "bad.pickle.pbz2"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bz2"):
        load_bz2_pickle(bad)
    truncated = tmp_path / "trunc.pickle.pbz2"
    truncated.write_bytes(bz2.compress(pickle.dumps({"a": list(range(100))})[:20]))
    with pytest.raises(ValueError, match="corrupt"):
        load_bz2_pickle(truncated)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_bz2_pickle(tmp_path / "nope.pickle.pbz2")


def test_nats_bench_api_goes_through_the_restricted_unpickler(official_dir, tmp_path):
    """A tampered record in an official folder is refused by the real nats_bench API path."""
    from harness.bench import NatsBenchOracle

    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    src = official_dir / "NATS-tss-v1_0-3ffb9-simple"
    (folder / "meta.pickle.pbz2").write_bytes((src / "meta.pickle.pbz2").read_bytes())
    (folder / "000011.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"12": _Exploit()})))
    oracle = NatsBenchOracle("tss", tmp_path)
    with pytest.raises(pickle.UnpicklingError):
        oracle.accuracy(11, "cifar10")
