"""The reference-score loader: the yardstick file is read through the harness, renamed to our proxy names,
and a broken file is a clear error; and our scores rank archs as that other implementation does."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from harness.bench.reference import PROXY_COLUMNS, load_reference_scores, reference_archs
from harness.errors import DataNotFoundError
from harness.sweep import parse_archs


def test_reference_scores_load_with_our_names(data_root):
    frame = load_reference_scores(data_root)
    assert set(frame["dataset"]) == {"cifar10", "cifar100", "ImageNet16-120"}
    assert set(PROXY_COLUMNS.values()) <= set(frame.columns)
    assert "jacov" not in frame.columns
    archs = reference_archs(data_root)
    assert len(archs) == 725 and archs == sorted(archs) and 0 <= archs[0] and archs[-1] < 15625


def test_sweep_archs_reference(tss_oracle, data_root, sss_oracle):
    assert parse_archs("reference", tss_oracle.space, data_root) == reference_archs(data_root)
    with pytest.raises(ValueError, match="tss archs only"):
        parse_archs("reference", sss_oracle.space, data_root)


@pytest.mark.parametrize("content", [b"not gzip", gzip.compress(b"dataset,index\ncifar10,1\n"),
                                     gzip.compress(b"dataset,index,arch,val_accuracy," +
                                                   ",".join(PROXY_COLUMNS).encode() + b"\nmnist,1,a,1" +
                                                   b",1" * len(PROXY_COLUMNS) + b"\n")])
def test_broken_reference_file_is_a_clear_error(tmp_path, content):
    (tmp_path / "nats-bench").mkdir()
    (tmp_path / "nats-bench" / "reference-scores-725.csv.gz").write_bytes(content)
    with pytest.raises(DataNotFoundError, match="reference-scores-725"):
        load_reference_scores(tmp_path)


# Proxies whose definition the reference implementation shares and whose ranking it reproduces on all 725
# archs (Spearman >= 0.97 there; README "Agreement with another implementation").
AGREEING = ("params", "flops", "synflow", "nwot", "snip", "grad_norm", "fisher")


@pytest.mark.slow  # 13 networks scored: ~10 s
def test_our_scores_rank_archs_as_the_reference_implementation_does(tss_oracle, data_root):
    """A golden check against another implementation: every 60th reference arch on cifar10 (13 archs)."""
    from scipy.stats import spearmanr

    from harness.images import load_batch
    from harness.scoring import score_all

    reference = load_reference_scores(data_root)
    reference = reference[reference["dataset"] == "cifar10"].set_index("index")
    archs = reference_archs(data_root)[::60]
    batch = load_batch("cifar10", 32, seed=0, data=data_root)  # the reference's batch size
    ours = [score_all(tss_oracle.space, a, AGREEING, "cifar10", batch) for a in archs]
    for proxy in AGREEING:
        mine = np.array([row[proxy] for row in ours])
        theirs = reference.loc[archs, proxy].to_numpy()
        keep = np.isfinite(mine) & np.isfinite(theirs)
        assert keep.sum() >= 12, proxy
        assert spearmanr(mine[keep], theirs[keep]).statistic >= 0.9, proxy
