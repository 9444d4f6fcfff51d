"""The baseline gate on real small runs: broken proxies and searchers are caught, an unchanged run passes,
and a run with other seeds (noise, not change) does not flap. The gate is pure, so the runs are fed to it
as the suite records they would be (``proxy_record`` / ``searcher_record`` of real computations)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness import baselines
from harness.baselines import Estimate, proxy_record, searcher_record
from harness.cli import main
from harness.runner import run_search

SEARCH_RUNS = 30
PROXY_ARCHS = 30
PROXIES = ("synflow", "nwot")


def bench(record: dict, median: float | None = None) -> dict:
    """A pytest-benchmark JSON entry around a suite record (``median`` seconds per round, if timed)."""
    entry = {"name": "test", "extra_info": record}
    if median is not None:
        entry["stats"] = {"median": median, "min": 0.9 * median, "max": 1.1 * median}
    return entry


def statuses(current: list[dict], baseline: list[dict]) -> dict[tuple[str, str], str]:
    comparisons = baselines.compare(baselines.summarise(current), baselines.summarise(baseline))
    return {(c.key, c.metric): c.status for c in comparisons}


# --- searchers: REA on TSS cifar100, and REA that ignores fitness ----------------------------------------

@pytest.fixture(scope="module")
def rea_records(tss_oracle) -> dict[str, dict]:
    """Records of REA (two seed blocks) and of REA with a tournament of one, i.e. parents picked blindly."""
    _, optimum = tss_oracle.best("cifar100")

    def record(hparams: dict, block: int) -> dict:
        seeds = range(block * SEARCH_RUNS, (block + 1) * SEARCH_RUNS)
        return searcher_record([run_search("rea", tss_oracle, "cifar100", s, hparams=hparams) for s in seeds],
                               optimum)

    return {"rea": record({}, 0), "rea_other_seeds": record({}, 1), "blind": record({"sample_size": 1}, 1)}


def test_searcher_record_schema(rea_records):
    rec = rea_records["rea"]
    assert rec["kind"] == "searcher" and rec["searcher"] == "rea" and rec["runs"] == SEARCH_RUNS
    assert rec["seeds"] == list(range(SEARCH_RUNS)) and len(rec["trajectories"]) == SEARCH_RUNS
    assert rec["regret_mean"] == pytest.approx(rec["optimum"] - rec["final_mean"])
    assert rec["regret_at_0.25"] >= rec["regret_at_0.5"] >= rec["regret_at_1.0"] >= 0
    json.dumps(rec, allow_nan=False)  # plain JSON values


def test_unchanged_searcher_run_passes(rea_records):
    result = statuses([bench(rea_records["rea"])], [bench(rea_records["rea"])])
    assert set(result.values()) == {"unchanged"}


def test_searcher_with_other_seeds_does_not_flap(rea_records):
    result = statuses([bench(rea_records["rea_other_seeds"])], [bench(rea_records["rea"])])
    assert set(result.values()) == {"unchanged"}, result


def test_rea_ignoring_fitness_is_caught(rea_records):
    result = statuses([bench(rea_records["blind"])], [bench(rea_records["rea"])])
    key = "searcher/tss/cifar100/rea"
    assert result[(key, "final_mean")] == "regression"
    assert result[(key, "auc_regret")] == "regression"
    # ... and fixing it again reads as an improvement, which never fails the gate.
    back = statuses([bench(rea_records["rea"])], [bench(rea_records["blind"])])
    assert back[(key, "final_mean")] == "improvement"


# --- proxies: real scores of a small TSS sample, two seeds (minibatch + init) -------------------------------

@pytest.fixture(scope="module")
def proxy_scores(tss_oracle, data_root) -> dict:
    from harness.images import load_batch
    from harness.scoring import score_all

    archs = np.random.default_rng(7).choice(tss_oracle.space.size, PROXY_ARCHS, replace=False)
    accuracies = tss_oracle.accuracies("cifar10")[archs]
    out = {"archs": archs, "accuracies": accuracies}
    for seed in (0, 1):
        batch = load_batch("cifar10", 16, seed=seed, data=data_root)
        rows = [score_all(tss_oracle.space, int(a), list(PROXIES), "cifar10", batch, seed=seed) for a in archs]
        out[seed] = {p: np.array([r[p] for r in rows]) for p in PROXIES}
        out["source", seed] = batch.source
    return out


def proxy_bench(proxy_scores: dict, proxy: str, seed: int, scores: np.ndarray) -> dict:
    return bench(proxy_record(proxy, "tss", "cifar10", "cpu", seed, proxy_scores["archs"], scores,
                              proxy_scores["accuracies"], proxy_scores["source", seed], "test@200", n_boot=300))


@pytest.mark.parametrize("proxy", PROXIES)
def test_proxy_gate_on_real_scores(proxy_scores, proxy):
    key = f"proxy/tss/cifar10/{proxy}/cpu"
    base = [proxy_bench(proxy_scores, proxy, 0, proxy_scores[0][proxy])]
    assert baselines.summarise(base)[key].metrics["spearman"].value > 0.3  # a proxy worth gating

    unchanged = statuses(base, base)
    other_seed = statuses([proxy_bench(proxy_scores, proxy, 1, proxy_scores[1][proxy])], base)
    flipped = statuses([proxy_bench(proxy_scores, proxy, 1, -proxy_scores[1][proxy])], base)
    random = np.random.default_rng(3).normal(size=PROXY_ARCHS)
    randomised = statuses([proxy_bench(proxy_scores, proxy, 1, random)], base)

    assert set(unchanged.values()) == {"unchanged"}
    assert set(other_seed.values()) == {"unchanged"}, other_seed
    assert flipped[key, "spearman"] == flipped[key, "kendall"] == "regression"
    assert randomised[key, "spearman"] == "regression"


def test_seeds_pool_into_one_case(proxy_scores):
    records = [proxy_bench(proxy_scores, "nwot", s, proxy_scores[s]["nwot"]) for s in (0, 1)]
    summary = baselines.summarise(records)
    (case,) = summary.values()
    assert case.scale["seeds"] == [0, 1]
    rho = [r["extra_info"]["spearman"] for r in records]
    est = case.metrics["spearman"]
    assert est.value == pytest.approx(np.mean(rho))
    assert est.ci_low < min(rho) and est.ci_high > max(rho)


# --- the rules themselves ---------------------------------------------------------------------------------

def summary(kind: str, **metrics: Estimate) -> dict[str, baselines.CaseSummary]:
    key = f"{kind}/tss/cifar10/x" + ("/cpu" if kind == "proxy" else "")
    scale = {"image_source": "s"} if kind == "proxy" else {"budget": 1.0, "budget_kind": "seconds",
                                                          "reported_metric": "test@200"}
    return {key: baselines.CaseSummary(key, kind, dict(metrics), scale)}


@pytest.mark.parametrize("current, expected", [
    (Estimate(0.70, 0.69, 0.71), "unchanged"),   # certain but smaller than the minimum effect (0.05)
    (Estimate(0.55, 0.30, 0.80), "unchanged"),   # larger than the minimum effect but inside the CIs
    (Estimate(0.60, 0.59, 0.61), "regression"),  # both
    (Estimate(0.85, 0.84, 0.86), "improvement"),
    (Estimate(math.nan, math.nan, math.nan), "regression"),  # a proxy that became constant
])
def test_min_effect_and_confidence_both_needed(current, expected):
    base = summary("proxy", spearman=Estimate(0.72, 0.71, 0.73))
    (comparison,) = baselines.compare(summary("proxy", spearman=current), base)
    assert comparison.status == expected


def test_lower_is_better_for_regret_and_time_is_reported_not_gated():
    base = summary("searcher", auc_regret=Estimate(1.0, 0.95, 1.05), seconds=Estimate(1.0, 0.9, 1.1))
    cur = summary("searcher", auc_regret=Estimate(1.5, 1.45, 1.55), seconds=Estimate(1.8, 1.7, 1.9))
    result = {c.metric: c.status for c in baselines.compare(cur, base)}
    assert result == {"auc_regret": "regression", "seconds": "unchanged"}  # 1.8x slower is within 2x
    cur = summary("searcher", auc_regret=Estimate(0.5, 0.45, 0.55), seconds=Estimate(2.5, 2.4, 2.6))
    comparisons = baselines.compare(cur, base)
    assert {c.metric: c.status for c in comparisons} == {"auc_regret": "improvement", "seconds": "slower"}
    assert baselines.regressions(comparisons) == []  # timings never fail the quality gate


def test_new_missing_and_incomparable_cases_are_reported_not_failed():
    base = summary("searcher", final_mean=Estimate(94.0, 93.9, 94.1))
    other_budget = {k: baselines.CaseSummary(k, v.kind, v.metrics, {**v.scale, "budget": 2.0})
                    for k, v in base.items()}
    new = summary("proxy", spearman=Estimate(0.7, 0.6, 0.8))
    comparisons = baselines.compare({**other_budget, **new}, {**base, "searcher/tss/cifar10/gone": base[
        "searcher/tss/cifar10/x"]})
    assert sorted(c.status for c in comparisons) == ["incomparable", "missing", "new"]
    assert not baselines.regressions(comparisons)
    report = baselines.format_report(comparisons)
    assert "budget: 1.0 -> 2.0" in report and "searcher/tss/cifar10/gone" in report


# --- files and the CLI ---------------------------------------------------------------------------------------

def test_baseline_files_round_trip(tmp_path):
    cases = {**summary("proxy", spearman=Estimate(0.7, math.nan, 0.8)),
             **summary("searcher", final_mean=Estimate(94.0, 93.9, 94.1))}
    written = baselines.write_baselines(tmp_path, cases, "2.13.0+cpu", "2026-01-01")
    assert sorted(p.name for p in written) == ["proxy.tss.cifar10.x.cpu.json", "searcher.tss.cifar10.x.json"]
    raw = json.loads(written[0].read_text())
    assert raw["torch_version"] == "2.13.0+cpu" and raw["metrics"]["spearman"]["direction"] == "higher"
    loaded = baselines.load_baselines(tmp_path)
    assert loaded.keys() == cases.keys()
    assert math.isnan(loaded["proxy/tss/cifar10/x/cpu"].metrics["spearman"].ci_low)
    assert loaded["searcher/tss/cifar10/x"].metrics == cases["searcher/tss/cifar10/x"].metrics
    (tmp_path / "broken.json").write_text("{}")
    with pytest.raises(ValueError, match="broken.json"):
        baselines.load_baselines(tmp_path)


def test_gate_command(tmp_path, rea_records, capsys):
    def save(name: str, record: dict) -> str:
        path = tmp_path / name
        path.write_text(json.dumps({"machine_info": {"torch_version": "2.13.0+cpu"}, "datetime": "2026-01-02T00:00",
                                    "benchmarks": [bench(record, median=0.01)]}))
        return str(path)

    good, broken = save("good.json", rea_records["rea"]), save("broken.json", rea_records["blind"])
    store = str(tmp_path / "baselines")
    assert main(["gate", good, "--baselines", store, "--update"]) == 0
    assert json.loads((tmp_path / "baselines" / "searcher.tss.cifar100.rea.json").read_text())["date"] == "2026-01-02"
    capsys.readouterr()
    assert main(["gate", good, "--baselines", store]) == 0
    assert "3 unchanged" in capsys.readouterr().out
    assert main(["gate", broken, "--baselines", store]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "final_mean" in out
    (tmp_path / "empty.json").write_text(json.dumps({"benchmarks": []}))
    assert main(["gate", str(tmp_path / "empty.json"), "--baselines", store]) == 2
    assert "holds no suite benchmarks" in capsys.readouterr().err
    # A mistyped baselines folder is an error, not a pass with every case "new".
    assert main(["gate", good, "--baselines", str(tmp_path / "baselinez")]) == 2
    assert "baselines folder" in capsys.readouterr().err
    # A folder for the run, or an unwritable baselines path: a message and exit 2, not a traceback.
    assert main(["gate", str(tmp_path), "--baselines", store]) == 2
    assert "is a folder: give one saved run" in capsys.readouterr().err
    assert main(["gate", good, "--baselines", good, "--update"]) == 2
    assert "error:" in capsys.readouterr().err
