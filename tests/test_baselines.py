"""The baseline gate on real small runs: broken proxies and searchers are caught, an unchanged run passes,
and a run with other seeds (noise, not change) does not flap. The gate is pure, so the runs are fed to it
as the suite records they would be (``proxy_record`` / ``searcher_record`` of real computations)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from harness import baselines
from harness.baselines import Estimate, proxy_record, searcher_record
from harness.cli import main
from harness.protocol import NATS
from harness.runner import run_search
from harness.runs import load_run

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
                              proxy_scores["accuracies"], proxy_scores["source", seed], "test@200", batch_size=16,
                              n_boot=300))


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
    assert not baselines.regressions(comparisons) and not baselines.failures(comparisons)
    assert [c.status for c in baselines.failures(comparisons, strict=True)] == ["incomparable"]
    report = baselines.format_report(comparisons)
    assert "budget: 1.0 -> 2.0" in report and "baseline cases not in this run: 1 searcher" in report
    assert "searcher/tss/cifar10/gone" not in report
    assert "searcher/tss/cifar10/gone" in baselines.format_report(comparisons, verbose=True)


def test_missing_cases_are_summarised_per_kind():
    """A pared-down run against the full baselines: one line of counts, not every name on one line."""
    base = {f"proxy/tss/cifar10/p{i}/cpu": baselines.CaseSummary(f"proxy/tss/cifar10/p{i}/cpu", "proxy", {}, {})
            for i in range(40)}
    base |= {f"searcher/tss/cifar10/s{i}": baselines.CaseSummary(f"searcher/tss/cifar10/s{i}", "searcher", {}, {})
             for i in range(26)}
    report = baselines.format_report(baselines.compare({}, base))
    assert "baseline cases not in this run: 40 proxy, 26 searcher (names with -v)" in report
    assert max(len(line) for line in report.splitlines()) < 120
    verbose = baselines.format_report(baselines.compare({}, base), verbose=True).splitlines()
    assert "  proxy/tss/cifar10/p0/cpu" in verbose and len(verbose) == 66 + 2


# --- what must never pass silently -------------------------------------------------------------------------

@pytest.mark.parametrize("base, current", [
    (Estimate(math.nan, math.nan, math.nan), Estimate(0.70, 0.65, 0.75)),  # a NaN baseline can never fail
    (Estimate(0.70, 0.65, 0.75), Estimate(math.inf, math.inf, math.inf)),  # not an "improvement +inf"
    (Estimate(0.70, 0.65, 0.75), Estimate(-math.inf, 0.6, 0.8)),
    (Estimate(0.70, -math.inf, 0.75), Estimate(0.10, 0.05, 0.15)),  # an infinite CI hides any change
    (Estimate(math.nan, math.nan, math.nan), Estimate(math.nan, math.nan, math.nan)),
])
def test_non_finite_values_are_regressions(base, current):
    (comparison,) = baselines.compare(summary("proxy", spearman=current), summary("proxy", spearman=base))
    assert comparison.status == "regression"
    assert "not a finite number" in comparison.note


@pytest.mark.parametrize("field, base_value, current_value", [
    ("n_archs", 50, 10), ("seeds", [0], [0, 1]), ("batch_size", 64, 16), ("protocol", "nats", "other"),
])
def test_another_scale_is_incomparable_and_fails_under_strict(field, base_value, current_value):
    def case(value):
        (key, s), = summary("proxy", spearman=Estimate(0.7, 0.65, 0.75)).items()
        return {key: baselines.CaseSummary(key, "proxy", s.metrics, {**s.scale, field: value})}

    comparisons = baselines.compare(case(current_value), case(base_value))
    assert [c.status for c in comparisons] == ["incomparable"] and field in comparisons[0].note
    assert not baselines.failures(comparisons) and baselines.failures(comparisons, strict=True)
    assert "INCOMPARABLE" in baselines.format_report(comparisons, strict=True)


def test_runs_differing_from_the_baseline_are_incomparable(rea_records):
    fewer = dict(rea_records["rea"], trajectories=rea_records["rea"]["trajectories"][:5],
                 auc_regret_runs=rea_records["rea"]["auc_regret_runs"][:5], seeds=list(range(5)))
    result = statuses([bench(fewer)], [bench(rea_records["rea"])])
    assert set(result.values()) == {"incomparable"}


def test_old_baselines_without_batch_size_and_protocol_read_as_the_defaults():
    key = "proxy/tss/cifar10/x/cpu"
    metrics = {"spearman": Estimate(0.7, 0.65, 0.75)}
    old = {key: baselines.CaseSummary(key, "proxy", metrics, {"n_archs": 50, "seeds": [0], "image_source": "s"})}
    now = {key: baselines.CaseSummary(key, "proxy", metrics, {"n_archs": 50, "seeds": [0], "image_source": "s",
                                                              "batch_size": 64, "protocol": NATS.key})}
    assert [c.status for c in baselines.compare(now, old)] == ["unchanged"]


def test_a_folder_without_baselines_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no baseline files"):
        baselines.load_baselines(tmp_path)


@pytest.mark.parametrize("edit, message", [
    (lambda raw: raw["metrics"]["spearman"].update(value="0.7"), "metrics.spearman: field 'value' is '0.7'"),
    (lambda raw: raw["metrics"]["spearman"].update(ci_low=True), "metrics.spearman: field 'ci_low' is True"),
    (lambda raw: raw.pop("scale"), "lacks the field 'scale'"),
    (lambda raw: raw.update(kind="other"), "field 'kind' is 'other'"),
    (lambda raw: raw["metrics"].update(accuracy={}), "metrics ['accuracy'] are not proxy metrics"),
])
def test_malformed_baseline_files_name_the_file_and_field(tmp_path, edit, message):
    (path,) = baselines.write_baselines(tmp_path, summary("proxy", spearman=Estimate(0.7, 0.6, 0.8)), "t", "d")
    raw = json.loads(path.read_text())
    edit(raw)
    path.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        baselines.load_baselines(tmp_path)
    assert str(path) in str(info.value)


def test_a_result_store_given_as_a_run_is_named(tmp_path):
    from harness.store import ResultStore

    with ResultStore(tmp_path / "scores.sqlite"):
        pass
    with pytest.raises(ValueError, match="scores.sqlite is an SQLite file"):
        load_run(tmp_path / "scores.sqlite")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="binary.json is not a pytest-benchmark JSON file: not UTF-8"):
        load_run(tmp_path / "binary.json")


@pytest.mark.parametrize("edit, message", [
    (lambda info: info.pop("n_archs"), "lacks the field 'n_archs'"),
    (lambda info: info.update(spearman="high"), "field 'spearman' is 'high', not a number"),
    (lambda info: info.update(seed=None), "field 'seed' is None, not an integer"),
    (lambda info: info.pop("proxy"), "lacks the field 'proxy'"),
])
def test_run_records_missing_fields_name_the_benchmark_and_field(edit, message):
    record = proxy_record("synflow", "tss", "cifar10", "cpu", 0, [1, 2, 3], [1.0, 2.0, 3.0], [50.0, 60.0, 70.0],
                          "s", "test@200", batch_size=64, n_boot=0)
    edit(record)
    with pytest.raises(ValueError, match=re.escape(f"benchmark 'test': extra_info {message}")):
        baselines.summarise([bench(record)])


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
    # An existing folder without baselines is an error too; a run at another scale fails under --strict.
    (tmp_path / "nothing").mkdir()
    assert main(["gate", good, "--baselines", str(tmp_path / "nothing")]) == 2
    assert "holds no baseline files" in capsys.readouterr().err
    few = dict(rea_records["rea"], trajectories=rea_records["rea"]["trajectories"][:5], seeds=list(range(5)),
               auc_regret_runs=rea_records["rea"]["auc_regret_runs"][:5])
    few_runs = save("few.json", few)
    assert main(["gate", few_runs, "--baselines", store]) == 0
    assert "1 incomparable" in capsys.readouterr().out
    assert main(["gate", few_runs, "--baselines", store, "--strict"]) == 1
    assert "INCOMPARABLE" in capsys.readouterr().out
    record = dict(rea_records["rea"])
    del record["budget"]
    assert main(["gate", save("fieldless.json", record), "--baselines", store]) == 2
    assert "fieldless.json: benchmark 'test': extra_info lacks the field 'budget'" in capsys.readouterr().err
