"""Two saved runs side by side (harness/compare.py and `harness compare`): pairing by case, score agreement
(identical / close / different), metrics beyond noise, timings as report-only ratios, trajectories."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness import compare
from harness.baselines import proxy_record, searcher_record
from harness.cli import main
from harness.runner import run_search

ARCHS = list(range(100, 140))
# Accuracies and the first run's scores of a small fixture: the pairing logic is under test, not a proxy.
ACCS = np.linspace(60.0, 90.0, len(ARCHS))
SCORES = ACCS * 3.0 + np.sin(np.arange(len(ARCHS))) * 20.0


def proxy_bench(scores, proxy: str = "synflow", seed: int = 0, archs=ARCHS, median: float = 0.01) -> dict:
    record = proxy_record(proxy, "tss", "cifar10", "cpu", seed, archs, scores, ACCS[:len(archs)],
                          "cifar10 test (seed 0)", "test@200", batch_size=64, n_boot=200)
    return {"name": proxy, "extra_info": record, "stats": {"median": median, "min": median, "max": median}}


def saved(torch_version: str, benchmarks: list[dict]) -> dict:
    return {"machine_info": {"torch_version": torch_version}, "datetime": "2026-01-02T00:00",
            "benchmarks": benchmarks}


def test_relative_difference_is_symmetric_and_zero_for_equal_values():
    rel = compare.relative_difference(np.array([1.0, 0.0, -2.0, 4.0]), np.array([1.1, 0.0, -2.0, -4.0]))
    assert rel == pytest.approx([0.1 / 1.1, 0.0, 0.0, 2.0])


@pytest.mark.parametrize("factor, status", [(1.0, "identical"), (1 + 1e-7, "close"), (1 + 1e-3, "different")])
def test_agreement_status_by_relative_difference(factor, status):
    agreement = compare.agree_scores("proxy/tss/cifar10/synflow/cpu", 0, ARCHS, list(SCORES), ARCHS,
                                     list(SCORES * factor))
    assert agreement.status == status and agreement.n_archs == len(ARCHS)
    assert agreement.max_rel_diff == pytest.approx(abs(factor - 1) / factor, rel=1e-6)
    assert agreement.rank_corr == pytest.approx(1.0)


def test_agreement_pairs_by_arch_and_counts_nonfinite_mismatches():
    order = np.random.default_rng(0).permutation(len(ARCHS))
    archs_b = [ARCHS[i] for i in order][:30]  # B scored a shuffled subset
    scores_b = [float(SCORES[i]) for i in order][:30]
    same = compare.agree_scores("k/s/d/p/cpu", 0, ARCHS, list(SCORES), archs_b, scores_b)
    assert (same.status, same.n_archs) == ("identical", 30)
    nan_in_both = compare.agree_scores("k/s/d/p/cpu", 0, ARCHS, [None, *SCORES[1:]], ARCHS, [None, *SCORES[1:]])
    assert nan_in_both.status == "identical"
    nan_in_one = compare.agree_scores("k/s/d/p/cpu", 0, ARCHS, [None, *SCORES[1:]], ARCHS, list(SCORES))
    assert (nan_in_one.status, nan_in_one.nonfinite_mismatch, nan_in_one.max_rel_diff) == ("different", 1, 0.0)
    with pytest.raises(ValueError, match="no arch in common"):
        compare.agree_scores("k/s/d/p/cpu", 0, [1, 2], [1.0, 2.0], [3], [1.0])


def test_runs_pair_by_case_and_seed_and_roll_up_per_proxy():
    run_a = saved("2.13.0+cpu", [proxy_bench(SCORES), proxy_bench(SCORES, seed=1), proxy_bench(SCORES, "nwot")])
    run_b = saved("2.4.1", [proxy_bench(SCORES), proxy_bench(SCORES * (1 + 1e-3), seed=1),
                            proxy_bench(SCORES, "zen")])
    agreements = compare.score_agreements(run_a, run_b)
    assert [(s.proxy, s.seed, s.status) for s in agreements] == [("synflow", 0, "identical"),
                                                                  ("synflow", 1, "different")]
    table = compare.format_scores(agreements)
    assert "1 identical, 1 different" in table and "0.000999" in table and "rtol 1e-05" in table


def test_metrics_beyond_noise_and_timings_as_report_only_ratios():
    noisy = SCORES + np.random.default_rng(1).normal(0, 200, len(ARCHS))  # ranks scrambled: spearman drops
    run_a = saved("2.13.0+cpu", [proxy_bench(SCORES, median=0.01), proxy_bench(SCORES, "nwot", median=0.01)])
    run_b = saved("2.4.1", [proxy_bench(noisy, median=0.01), proxy_bench(SCORES, "nwot", median=0.03)])
    verdicts = {(c.key, c.metric): c.status for c in compare.compare_runs(run_a, run_b)}
    assert verdicts["proxy/tss/cifar10/synflow/cpu", "spearman"] == "regression"
    assert verdicts["proxy/tss/cifar10/nwot/cpu", "spearman"] == "unchanged"
    assert verdicts["proxy/tss/cifar10/nwot/cpu", "seconds"] == "slower"
    text = compare.format_metrics(compare.compare_runs(run_a, run_b))
    assert "WORSE beyond noise" in text and "slower (report-only)" in text and "x3.00" in text
    assert "geometric mean x1.73" in text  # sqrt(1 * 3)
    assert "nwot/cpu  spearman" not in text  # within noise: listed only with show_all
    assert "within noise" in compare.format_metrics(compare.compare_runs(run_a, run_b), show_all=True)


def test_trajectories_of_the_same_seeds_agree(tss_oracle):
    _, optimum = tss_oracle.best("cifar10")

    def record(seeds) -> dict:
        runs = [run_search("random", tss_oracle, "cifar10", s, hparams={}) for s in seeds]
        return {"name": "random", "extra_info": searcher_record(runs, optimum)}

    run_a, run_b = saved("a", [record([0, 1, 2])]), saved("b", [record([0, 1, 5])])
    (agreement,) = compare.trajectory_agreements(run_a, run_b)
    assert (agreement.key, agreement.runs, agreement.identical) == ("searcher/tss/cifar10/random", 2, 2)
    assert "random" in compare.format_trajectories([agreement])


def test_compare_command(tmp_path, capsys):
    paths = []
    for name, run in [("a.json", saved("2.13.0+cpu", [proxy_bench(SCORES)])),
                      ("b.json", saved("2.4.1", [proxy_bench(SCORES * (1 + 1e-7), median=0.05)]))]:
        paths.append(str(tmp_path / name))
        (tmp_path / name).write_text(json.dumps(run))
    assert main(["compare", *paths]) == 0
    out = capsys.readouterr().out
    assert "torch 2.13.0+cpu" in out and "torch 2.4.1" in out and "slower (report-only)" in out
    assert "1 close" in out
    assert main(["compare", *paths, "--rtol", "1e-8"]) == 0
    assert "1 different" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["compare", *paths, "--rtol", "nan"])
    assert main(["compare", paths[0], str(tmp_path / "missing.json")]) == 2
    assert "error:" in capsys.readouterr().err
    assert not math.isnan(compare.RTOL)


def test_relative_proxy_over_different_samples_is_incomparable():
    # vote ranks each arch against the rest of its sample: 10 archs and 40 archs give other values.
    run_a = saved("2.13.0+cpu", [proxy_bench(SCORES, "vote"), proxy_bench(SCORES, "synflow")])
    run_b = saved("2.4.1", [proxy_bench(SCORES[:10], "vote", archs=ARCHS[:10]),
                            proxy_bench(SCORES[:10], "synflow", archs=ARCHS[:10])])
    statuses = {s.proxy: (s.status, s.n_archs) for s in compare.score_agreements(run_a, run_b)}
    assert statuses == {"vote": ("incomparable", 10), "synflow": ("identical", 10)}
    assert "incomparable" in compare.format_scores(compare.score_agreements(run_a, run_b))
    same_sample = compare.score_agreements(run_a, saved("2.4.1", [proxy_bench(SCORES, "vote")]))
    assert [s.status for s in same_sample] == ["identical"]
