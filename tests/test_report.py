"""Reports: a report builds from a small real saved run, every figure is a PNG, the page's tables carry the
run's numbers, a partial run says what it lacks, and the analysis numbers are right on the ground truth."""

from __future__ import annotations

import copy
import json
import platform
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import stats

from harness.baselines import proxy_record, searcher_record
from harness.cli import main
from harness.hardware import Hardware, front, hv_regret
from harness.images import load_batch
from harness.proxies import proxy_names
from harness.report import analysis, write_report
from harness.report.load import load_runs
from harness.runner import run_search
from harness.scoring import score_all

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SEARCHERS = ("random", "rea", "reinforce")
CHEAP_PROXIES = ("params", "l2_norm")  # no forward pass: ~0.1 s per arch
SEEDS = (0, 1, 2)
LIMIT, PARETO = Hardware.limit("pixel3<=5"), Hardware("fpga")


def _searcher_case(oracle, searcher: str, dataset: str, hardware: Hardware | None = None, **budget) -> dict:
    trajs = [run_search(searcher, oracle, dataset, seed, hardware=hardware, **budget) for seed in SEEDS]
    reported = oracle.accuracies(dataset, *oracle.space.reported)
    optimum, hv = float(np.nanmax(reported)), None
    if hardware is not None and not hardware.pareto:
        optimum = hardware.optimum(oracle, reported)[1]
    if hardware is not None and hardware.pareto:
        lat = oracle.latencies(hardware.device)
        hv = [hv_regret(front(t.archs, t.valid_accs, lat), reported, lat) for t in trajs]
    mode = f"-{hardware.mode}" if hardware else ""
    return {"name": f"test_searcher[{searcher}-{oracle.space_name}-{dataset}-b0{mode}]",
            "extra_info": searcher_record(trajs, optimum, hv_regrets=hv), "stats": {"mean": 0.1, "rounds": len(SEEDS)}}


def _proxy_cases(oracle, dataset: str, n_archs: int = 12) -> list[dict]:
    proxies = [p for p in CHEAP_PROXIES if p in proxy_names()]
    if len(proxies) < 2:
        pytest.skip(f"need two of the cheap proxies {CHEAP_PROXIES}; registered: {proxy_names()}")
    archs = np.random.default_rng(0).choice(oracle.space.size, n_archs, replace=False).tolist()
    metric, epochs = oracle.space.reported
    accs = [oracle.accuracy(a, dataset, metric, epochs) for a in archs]
    batch = load_batch(dataset, batch_size=8, seed=0)
    per_arch = [score_all(oracle.space, a, proxies, dataset, batch, seed=0) for a in archs]
    return [{"name": f"test_proxy[{p}-{oracle.space_name}-{dataset}-cpu-s0]", "stats": {"mean": 0.01},
             "extra_info": proxy_record(p, oracle.space_name, dataset, "cpu", 0, archs, [s[p] for s in per_arch],
                                        accs, batch.source, f"{metric}@{epochs}", batch_size=len(batch),
                                        seconds_per_arch=0.01, n_boot=50)}
            for p in proxies]


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory, tss_oracle, sss_oracle) -> Path:
    torch.set_num_threads(2)
    benchmarks = [_searcher_case(tss_oracle, s, "cifar10", budget_s=3000) for s in SEARCHERS]
    benchmarks += [_searcher_case(sss_oracle, s, "cifar10", max_queries=25) for s in SEARCHERS[:2]]
    benchmarks += [_searcher_case(tss_oracle, s, "cifar10", LIMIT, budget_s=3000) for s in ("random", "rea")]
    benchmarks += [_searcher_case(tss_oracle, s, "cifar10", PARETO, budget_s=3000)
                   for s in ("random", "optuna-nsga2")]
    benchmarks += _proxy_cases(tss_oracle, "cifar10")
    run = {"machine_info": {"node": platform.node(), "python_version": platform.python_version(),
                            "torch_version": torch.__version__, "cuda_version": None, "gpu_name": None,
                            "cpu_threads": 2, "omp_wait_policy": "PASSIVE", "cpu": {"brand_raw": "test cpu"}},
           "commit_info": {"id": "0123456789abcdef", "dirty": False}, "datetime": "2025-01-01T00:00:00+00:00",
           "version": "5.1.0", "benchmarks": benchmarks}
    path = tmp_path_factory.mktemp("runs") / "0001_small.json"
    path.write_text(json.dumps(run))
    return path


@pytest.fixture(scope="module")
def report(saved_run, tmp_path_factory, tss_oracle, sss_oracle) -> Path:
    return write_report([saved_run], tmp_path_factory.mktemp("report"), {"tss": tss_oracle, "sss": sss_oracle})


def _table(page: str, section: str, first_header: str) -> list[dict[str, str]]:
    """Rows, as dicts, of the Markdown tables whose first column is ``first_header`` under the heading
    ``section`` (e.g. '### tss / cifar10' inside '## Searchers')."""
    top, sub = section.split(" > ")
    text = page.split(f"\n{top}\n", 1)[1].split("\n## ", 1)[0]
    text = text.split(f"\n{sub}\n", 1)[1].split("\n### ", 1)[0]
    rows, headers = [], None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            headers = None
        elif cells[0] == first_header:
            headers = cells
        elif headers and not set(cells[0]) <= set("-:"):
            rows.append(dict(zip(headers, cells)))
    return rows


def test_every_figure_is_a_png_with_a_deterministic_name(report: Path):
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report.read_text())
    expected = {"anytime_tss_cifar10.png", "final_tss_cifar10.png", "accuracy_loss_tss_cifar10.png",
                "anytime_sss_cifar10.png", "proxy_correlation_tss_cifar10.png", "proxy_scatter_tss_cifar10.png",
                "proxy_heatmap_tss_cifar10.png", "proxy_time.png", "ops_tss_cifar10.png", "ops_sss_cifar10.png",
                "population_tss_cifar10.png", "population_sss_cifar10.png", "diversity_tss_cifar10.png",
                "policy_tss_cifar10_reinforce.png", "landscape_tss_cifar10.png", "landscape_sss_cifar10.png",
                "pareto_tss_cifar10.png"}
    assert expected <= set(linked)
    assert set(linked) == {p.name for p in report.parent.glob("*.png")}
    for name in linked:
        path = report.parent / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        with Image.open(path) as im:
            im.verify()
            assert im.size[0] > 300 and im.size[1] > 200


def test_searcher_table_matches_the_run(report: Path, saved_run: Path):
    run = json.loads(saved_run.read_text())
    rows = {r["searcher"]: r for r in _table(report.read_text(), "## Searchers > ### tss / cifar10", "searcher")}
    finals = {}
    for b in run["benchmarks"]:
        info = b["extra_info"]
        if info["kind"] != "searcher" or info["space"] != "tss":
            continue
        row = rows[f"{info['searcher']} [{info['mode']}]" if info["mode"] else info["searcher"]]
        assert float(row["optimum"]) == pytest.approx(info["optimum"], abs=0.005)
        if "hv_regret" in info:
            assert float(row["HV regret"]) == pytest.approx(info["hv_regret"], abs=5e-5)
        if info["mode"]:
            continue
        mean, std = (float(v) for v in row["final acc (%) mean ± std"].split(" ± "))
        assert mean == pytest.approx(info["final_mean"], abs=0.005)
        assert std == pytest.approx(info["final_std"], abs=0.005)
        assert float(row["AUC regret"]) == pytest.approx(info["auc_regret"], abs=5e-4)
        finals[info["searcher"]] = [t["final_reported"] for t in info["trajectories"]]
    p = stats.mannwhitneyu(finals["rea"], finals["random"], alternative="greater").pvalue
    assert float(rows["rea"]["p (greater)"]) == pytest.approx(p, rel=1e-2)
    assert rows["random"]["p (greater)"] == "-"
    assert rows["random [pixel3-le-5ms]"]["p (greater)"] == "-"  # each mode is tested against its own random
    assert rows["rea [pixel3-le-5ms]"]["p (greater)"] != "-"


def test_proxy_table_matches_the_run(report: Path, saved_run: Path):
    run = json.loads(saved_run.read_text())
    rows = {r["proxy"]: r for r in _table(report.read_text(), "## Proxies > ### tss / cifar10", "proxy")}
    proxies = [b["extra_info"] for b in run["benchmarks"] if b["extra_info"]["kind"] == "proxy"]
    assert set(rows) == {p["proxy"] for p in proxies}
    for info in proxies:
        value, lo, hi = (float(v) for v in re.findall(r"-?\d+\.\d+", rows[info["proxy"]]["Spearman [95% CI]"]))
        assert (value, lo, hi) == pytest.approx((info["spearman"], info["spearman_ci_low"],
                                                 info["spearman_ci_high"]), abs=5e-4)
        assert int(rows[info["proxy"]]["archs"]) == info["n_archs"]


def test_page_lists_runs_machine_and_data(report: Path):
    page = report.read_text()
    assert torch.__version__ in page and "0001_small" in page and "0123456789" in page
    lines = page.split("## Runs and machines")[1].split("\n## ")[0].strip().splitlines()
    headers, _, row = ([c.strip() for c in line.strip("|").split("|")] for line in lines[:3])
    run = dict(zip(headers, row))
    assert run["OpenMP wait policy"] == "PASSIVE" and run["CPU threads"] == "2"
    assert "$HARNESS_DATA_DIR/nats-bench/tss.csv.gz" in page
    lacks = page.split("## What the run(s) lack")[1].split("\n## ")[0]
    assert "searcher cases on sss: none for dataset(s) cifar100, ImageNet16-120" in lacks
    assert "searcher cases on sss/cifar10: none for" in lacks and "reinforce" in lacks


def test_partial_run_builds_and_says_what_is_missing(saved_run: Path, tmp_path: Path, tss_oracle):
    run = json.loads(saved_run.read_text())
    partial = copy.deepcopy(run)
    partial["benchmarks"] = [b for b in run["benchmarks"]
                             if b["extra_info"]["kind"] == "searcher" and b["extra_info"]["space"] == "tss"]
    del partial["benchmarks"][0]["extra_info"]["trajectories"]
    del partial["benchmarks"][1]["extra_info"]["final_mean"]
    src = tmp_path / "0002_partial.json"
    src.write_text(json.dumps(partial))
    out = tmp_path / "out"
    assert main(["report", str(src), "--out", str(out)]) == 0
    page = (out / "README.md").read_text()
    assert "no proxy cases in the run(s)" in page
    assert "has no trajectories" in page and "lacks final_mean" in page
    assert not list(out.glob("proxy_*.png"))
    assert (out / "anytime_tss_cifar10.png").is_file()


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys):
    bad = tmp_path / "0003_broken.json"
    bad.write_text('{"benchmarks": [')
    with pytest.raises(ValueError, match="0003_broken.json is not a pytest-benchmark JSON file"):
        load_runs([bad])
    assert main(["report", str(tmp_path / "absent.json"), "--out", str(tmp_path / "o")]) == 2
    assert "absent.json not found" in capsys.readouterr().err


def test_neighbours_and_op_frequencies_match_the_space(tss_oracle, sss_oracle):
    for oracle in (tss_oracle, sss_oracle):
        space = oracle.space
        idx = np.array([0, 11, 284, space.size - 1])
        got = analysis.neighbour_indices(space, idx)
        for row, i in zip(got, idx):
            assert sorted(row.tolist()) == sorted(space.neighbours(int(i)))
        freqs = analysis.op_frequencies(space.encode_all(), space.n_choices)
        assert freqs == pytest.approx(np.full((space.n_positions, space.n_choices), 1 / space.n_choices))


def test_mutation_landscape_is_exact(tss_oracle):
    tbl = analysis.mutation_landscape(tss_oracle, "cifar10", fracs=(0.05,)).iloc[0]
    acc = tss_oracle.accuracies("cifar10")
    good = acc >= np.sort(acc)[-round(0.05 * len(acc))]
    # brute force with the space's own neighbours(), over every good parent
    brute = np.mean([good[n] for p in np.flatnonzero(good) for n in tss_oracle.space.neighbours(int(p))])
    assert tbl["p_good_base"] == pytest.approx(0.05, abs=1e-3)
    assert tbl["p_good_after_mutating_random"] == pytest.approx(0.05, abs=2e-3)
    assert tbl["p_good_after_mutating_good"] == pytest.approx(brute, abs=1e-12)
    corr = analysis.landscape_correlations(tss_oracle, "cifar10")
    assert corr["fdc_spearman"] < 0 < corr["neighbour_spearman"]


def test_rea_exploits_more_than_random(saved_run: Path, tss_oracle):
    rs = load_runs([saved_run])
    q = rs.queries[rs.queries["space"] == "tss"]
    share = analysis.exploitation(q, tss_oracle.space).set_index("searcher")["mutation_of_top_share"]
    assert share["rea"] > 0.4 > share["random"]
