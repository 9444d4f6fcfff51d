"""Scoring protocols: named profiles, zero-cost-nas's NB201 network, per-arch augmented draws, and the protocol in
every store key, record and case key."""

from __future__ import annotations

import collections
import sqlite3

import numpy as np
import pytest
import torch
from torch import nn

from harness import baselines
from harness.images import augment, load_batch
from harness.networks import build_network
from harness.protocol import KEEP_WHEN_BN_REMOVED, NATS, PROTOCOLS, SUITEZERO, ZC2021, get_protocol
from harness.proxies import batchnorm_removed
from harness.scoring import score, score_all, score_key
from harness.store import _SCHEMA, APPLICATION, ResultStore, ScoreKey

ARCHS = (0, 11, 284, 5000)


def test_unknown_protocol_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown protocol 'zc'; valid protocols: nats, zc2021, suitezero"):
        get_protocol("zc")


def test_a_protocol_that_cannot_build_a_space_fails_before_any_work(sss_oracle, data_root):
    with pytest.raises(ValueError, match="zc2021 builds zc-nb201 networks, which exist for tss only, not sss"):
        build_network(sss_oracle.space, 0, "cifar10", protocol=ZC2021)
    SUITEZERO.check_space("sss")  # BatchNorm settings apply to any xautodl net


def test_keys_carry_name_and_parameters():
    assert ZC2021.key.startswith("zc2021 {") and '"batch_size":64' in ZC2021.key
    assert SUITEZERO.with_batch_size(64).key != SUITEZERO.key
    assert {p.key for p in PROTOCOLS.values()} == {NATS.key, ZC2021.key, SUITEZERO.key}


def _executed_convs(net: nn.Module, x: torch.Tensor) -> collections.Counter:
    shapes: collections.Counter = collections.Counter()
    handles = [m.register_forward_hook(lambda m, i, o: shapes.update([tuple(m.weight.shape)]))
               for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    return shapes


@pytest.mark.parametrize("arch", ARCHS)
def test_zc_nb201_runs_the_same_layers_as_the_nats_net(tss_oracle, arch):
    """zero-cost-nas's net holds every op of every edge but runs only the arch's: the same convolutions,
    in number and shape, as NATS-Bench's own net of that arch."""
    x = torch.randn(2, 3, 32, 32)
    nats = build_network(tss_oracle.space, arch, "cifar10")
    zc = build_network(tss_oracle.space, arch, "cifar10", protocol=ZC2021)
    assert _executed_convs(zc, x) == _executed_convs(nats, x)
    n_convs = sum(isinstance(m, nn.Conv2d) for m in zc.modules())
    assert n_convs == 1 + 15 * 6 * 2 + 2 * 3  # stem, two convs per edge in every cell, reductions
    cell_bns = [m for m in zc.cells.modules() if isinstance(m, nn.BatchNorm2d) and not hasattr(m, KEEP_WHEN_BN_REMOVED)]
    assert cell_bns and all(not m.affine and not m.track_running_stats for m in cell_bns)


def test_bn_free_copy_keeps_the_marked_reduction_batchnorm(tss_oracle):
    zc = build_network(tss_oracle.space, 11, "cifar10", protocol=ZC2021)
    bns = [m for m in zc.modules() if isinstance(m, nn.BatchNorm2d)]
    kept = [m for m in bns if getattr(m, KEEP_WHEN_BN_REMOVED, False)]
    assert len(kept) == 4  # two per reduction block
    def passes_through(m: nn.BatchNorm2d) -> bool:
        x = torch.randn(2, m.num_features, 4, 4)
        return m(x) is x

    with batchnorm_removed(zc):
        assert all(passes_through(m) for m in bns if m not in kept)
        assert not any(passes_through(m) for m in kept)


def test_suitezero_changes_only_the_batchnorm_of_the_nats_net(tss_oracle):
    nats = build_network(tss_oracle.space, 284, "cifar10")
    sz = build_network(tss_oracle.space, 284, "cifar10", protocol=SUITEZERO)
    assert all(not m.affine and not m.track_running_stats for m in sz.modules() if isinstance(m, nn.BatchNorm2d))
    convs = lambda net: [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert all(torch.equal(a, b) for a, b in zip(convs(nats), convs(sz), strict=True))  # same seeded init
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():  # train mode: an affine BN at init is the identity after normalising
        torch.testing.assert_close(sz(x)[1], nats(x)[1])


def test_per_arch_draws_are_reproducible_and_differ_between_archs(data_root):
    batch = load_batch("cifar10", seed=3, data=data_root, protocol=ZC2021)
    assert batch.source.startswith("per-arch draws: 64 real CIFAR-10") and "random crop + flip" in batch.source
    a, again, b = batch.for_arch(11), batch.for_arch(11), batch.for_arch(12)
    assert torch.equal(a.inputs, again.inputs) and not torch.equal(a.inputs, b.inputs)
    assert len(a) == 64 and a.protocol is ZC2021
    fixed = load_batch("cifar10", seed=3, data=data_root)
    assert fixed.for_arch(11) is fixed


def test_augment_crops_from_zero_padding_and_flips():
    rng = np.random.default_rng(0)
    images = np.full((200, 32, 32, 3), 200, np.uint8)
    images[:, :, :16] = 100  # left half darker: a flip moves it right
    out = augment(images, rng)
    assert out.shape == images.shape and out.dtype == np.uint8
    assert (out == 0).any() and (out[:, 16:24, 8:24] != 0).all()  # padding only at the borders (<= 4 px)
    flipped = out[:, 16, 20, 0] == 100  # column 20 shows the left half only when flipped
    assert 60 < flipped.sum() < 140
    assert np.array_equal(augment(images, np.random.default_rng(0)), out)


@pytest.mark.parametrize("protocol", [ZC2021, SUITEZERO])
def test_score_equals_score_all_under_each_protocol(tss_oracle, data_root, protocol):
    batch = load_batch("cifar10", 8, seed=0, data=data_root, protocol=protocol)
    names = ["synflow", "snip", "fisher", "jacob_cov", "nwot"]
    together = score_all(tss_oracle.space, 284, names, "cifar10", batch)
    for name in names:
        assert score(name, tss_oracle.space, 284, "cifar10", batch, time=False).value == together[name]
    assert all(np.isfinite(v) for v in together.values())


def test_store_keys_differ_by_protocol(tss_oracle, data_root):
    keys = {score_key("synflow", tss_oracle.space, "cifar10", load_batch("cifar10", 8, data=data_root, protocol=p))
            for p in PROTOCOLS.values()}
    assert len({k.protocol for k in keys}) == 3


def test_a_version_1_store_is_migrated_and_its_scores_read_as_nats(tmp_path):
    path = tmp_path / "old.sqlite"
    old_schema = _SCHEMA.replace(", protocol TEXT NOT NULL", "").replace(",\n            harness_version, protocol)",
                                                                          ",\n            harness_version)")
    assert old_schema != _SCHEMA
    conn = sqlite3.connect(path)
    for statement in old_schema.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("application", APPLICATION), ("schema_version", "1")])
    conn.execute("INSERT INTO score_keys VALUES (7, 'synflow', 'tss', 'cifar10', 64, 'src', 0, 'cpu', 'float32', "
                 "'2.13.0', '0.3.0')")
    conn.execute("INSERT INTO score_keys VALUES (8, 'synflow', 'tss', 'cifar10', 32, 'src', 0, 'cpu', 'float32', "
                 "'2.13.0', '0.3.0')")
    conn.execute("INSERT INTO scores VALUES (7, 3, 1.5, 0, 0)")
    conn.execute("INSERT INTO scores VALUES (8, 3, 2.5, 0, 0)")
    conn.commit()
    conn.close()
    with ResultStore(path) as store:
        key = ScoreKey("synflow", "tss", "cifar10", 64, "src", 0, "cpu", "float32", "2.13.0", "0.3.0")
        assert key.protocol == NATS.key and store.get_many(key) == {3: 1.5}
        at_32 = ScoreKey("synflow", "tss", "cifar10", 32, "src", 0, "cpu", "float32", "2.13.0", "0.3.0",
                         NATS.with_batch_size(32).key)
        assert store.get_many(at_32) == {3: 2.5}
    with ResultStore(path) as store:  # opened again: already version 2
        assert len(store.keys()) == 2


def test_records_and_case_keys_name_a_non_default_protocol():
    def record(protocol: str) -> dict:
        return baselines.proxy_record("synflow", "tss", "cifar10", "cpu", 0, [0, 1, 2], [1.0, 2.0, 3.0],
                                      [50.0, 60.0, 70.0], "src", "test@200", batch_size=64, protocol=protocol,
                                      n_boot=0)
    assert baselines.case_key(record(NATS.key)) == "proxy/tss/cifar10/synflow/cpu"
    assert baselines.case_key(record(ZC2021.key)) == "proxy/tss/cifar10/synflow/cpu/zc2021"
    assert record(ZC2021.key)["protocol"] == ZC2021.key


def test_sweep_refuses_an_unknown_protocol_or_space_before_creating_the_store(tmp_path, data_root):
    from harness.cli import main

    store = tmp_path / "s.sqlite"
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "--protocol", "nope", "--store", str(store), "--archs", "2"])
    assert exc.value.code == 2 and not store.exists()
    assert main(["sweep", "--protocol", "zc2021", "--space", "sss", "--store", str(store), "--archs", "2",
                 "--no-progress"]) != 0
    assert not store.exists()


def test_per_arch_draws_from_the_users_own_files(tmp_path):
    import pickle

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    entry = {"data": rng.integers(0, 256, (100, 3072), dtype=np.uint8), "labels": list(rng.integers(0, 10, 100))}
    (folder / "data_batch_1").write_bytes(pickle.dumps({k: (v if k == "data" else [int(x) for x in v])
                                                        for k, v in entry.items()}))
    batch = load_batch("cifar10", 16, seed=0, images_dir=tmp_path, protocol=ZC2021)
    assert "of the user's cifar10 training set" in batch.source and batch.source.startswith("per-arch draws")
    first, second = batch.for_arch(1), batch.for_arch(2)
    assert len(first) == 16 and not torch.equal(first.inputs, second.inputs)
    assert torch.equal(first.inputs, batch.for_arch(1).inputs)
