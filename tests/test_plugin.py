"""The suites' pytest plugin, end to end: a tiny subset of the real suites runs in a subprocess (pytester),
saves a pytest-benchmark run with the suite records, writes baselines, and is gated against them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import harness
from harness import pytest_plugin
from harness.bench import DATASETS
from harness.protocol import ZC2021
from harness.suite_config import DEFAULT, FULL, parse_names, parse_seeds, resolve

pytest_plugins = ["pytester"]

SUITES = str(Path(__file__).resolve().parents[1] / "harness" / "suites")
# Two cheap proxies, two cheap searchers, one dataset, both spaces for searchers, no hardware / warm-up modes.
NO_MODES = ["--latency-limit", "none", "--pareto-device", "none", "--warmup", "none"]
TINY = ["--proxies", "params,synflow", "--searchers", "random,rea", "--datasets", "cifar10", "--archs", "6",
        "--runs", "4", "--devices", "cpu,cuda", "-p", "no:cacheprovider", "-rs", *NO_MODES]


def run_suites(pytester: pytest.Pytester, data_root: Path, *args: str) -> pytest.RunResult:
    store = pytester.path / "store"
    return pytester.runpytest_subprocess(SUITES, *TINY, "--data", str(data_root),
                                         f"--benchmark-storage=file://{store}", *args)


def test_tiny_suite_saves_records_and_gates(pytester, data_root):
    baselines_dir = pytester.path / "baselines"
    devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]  # a cuda row runs where CUDA is
    first = run_suites(pytester, data_root, "--benchmark-save=tiny", "--baseline-update",
                       "--baselines", str(baselines_dir), "--report", str(pytester.path / "report"))
    assert first.ret == 0, first.stdout.str()
    first.stdout.fnmatch_lines(["*suite measurements*", "*params*tss*cifar10*cpu*", "*rea*sss*cifar10*0-3*queries*",
                                f"*wrote {4 + 2 * len(devices)} baseline(s)*", "*report written to*README.md"])
    assert "rea" in (pytester.path / "report" / "README.md").read_text()
    if not torch.cuda.is_available():
        first.stdout.fnmatch_lines(["*SKIPPED*cuda row: torch.cuda.is_available() is False*"])

    (saved,) = (pytester.path / "store").glob("*/0001_tiny.json")
    run = json.loads(saved.read_text())
    assert {"torch_version", "cuda_version", "gpu_name", "cpu_threads"} <= run["machine_info"].keys()
    assert run["machine_info"]["omp_wait_policy"] == harness.OMP_WAIT_POLICY
    infos = [b["extra_info"] for b in run["benchmarks"]]
    proxy = next(i for i in infos if i["kind"] == "proxy" and i["proxy"] == "synflow")
    assert proxy["n_archs"] == 6 and len(proxy["scores"]) == 6 and proxy["seconds_per_arch"] > 0
    searcher = next(i for i in infos if i["kind"] == "searcher" and i["space"] == "sss")
    assert searcher["budget_kind"] == "queries" and searcher["runs"] == 4 and len(searcher["trajectories"]) == 4
    assert sorted(p.name for p in baselines_dir.glob("*.json")) == sorted([
        *(f"proxy.tss.cifar10.{proxy}.{device}.json" for proxy in ("params", "synflow") for device in devices),
        "searcher.sss.cifar10.random.json", "searcher.sss.cifar10.rea.json",
        "searcher.tss.cifar10.random.json", "searcher.tss.cifar10.rea.json"])

    # Timings depend on the machine's load (other jobs on 2 cores slow a proxy tenfold): leave them out of
    # these baselines, which the gate then does not time-check, so the test judges only the measurements.
    for path in baselines_dir.glob("*.json"):
        raw = json.loads(path.read_text())
        del raw["metrics"]["seconds"]
        path.write_text(json.dumps(raw))
    # The same run again passes the gate; then a doctored baseline (rea far better than it is) fails it.
    again = run_suites(pytester, data_root, "--baseline-check", "--baselines", str(baselines_dir))
    assert again.ret == 0, again.stdout.str()
    again.stdout.fnmatch_lines(["*baseline gate*", "*unchanged*"])
    doctored = baselines_dir / "searcher.tss.cifar10.rea.json"
    raw = json.loads(doctored.read_text())
    raw["metrics"]["final_mean"].update(value=99.0, ci_low=98.9, ci_high=99.1)
    doctored.write_text(json.dumps(raw))
    failed = run_suites(pytester, data_root, "--baseline-check", "--baselines", str(baselines_dir),
                        "--searchers", "rea", "--proxies", "params")
    assert failed.ret == pytest.ExitCode.TESTS_FAILED
    failed.stdout.fnmatch_lines(["*REGRESSION*searcher/tss/cifar10/rea*final_mean*"])


def test_a_protocol_names_its_cases_records_and_baselines(pytester, data_root):
    baselines_dir = pytester.path / "baselines"
    result = run_suites(pytester, data_root, "--protocol", "zc2021", "--proxies", "synflow", "--archs", "4",
                        "--devices", "cpu", "-k", "test_proxy", "--benchmark-save=zc", "--baseline-update",
                        "--baselines", str(baselines_dir))
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*synflow [[]zc2021[]]*", "*test_proxy?synflow-tss-cifar10-cpu-s0-zc2021?*"])
    assert [p.name for p in baselines_dir.glob("*.json")] == ["proxy.tss.cifar10.synflow.cpu.zc2021.json"]
    (saved,) = (pytester.path / "store").glob("*/0001_zc.json")
    (info,) = [b["extra_info"] for b in json.loads(saved.read_text())["benchmarks"]]
    assert info["protocol"] == ZC2021.key and info["image_source"].startswith("per-arch draws: 64 real CIFAR-10")


def test_tiny_suite_runs_the_hardware_and_warmup_modes(pytester, data_root):
    store = pytester.path / "store"
    result = pytester.runpytest_subprocess(
        SUITES, "-k", "searcher", "--searchers", "random,optuna-nsga2", "--datasets", "cifar10", "--space", "tss",
        "--archs", "6", "--runs", "2", "--latency-limit", "pixel3<=5", "--pareto-device", "fpga",
        "--warmup", "synflow:6", "--proxy-seconds", "0.5", "-p", "no:cacheprovider", "--data", str(data_root),
        f"--benchmark-storage=file://{store}", "--benchmark-save=modes")
    assert result.ret == 0, result.stdout.str()
    (saved,) = store.glob("*/0001_modes.json")
    infos = {(i["searcher"], i["mode"]): i for i in (b["extra_info"] for b in json.loads(saved.read_text())
                                                     ["benchmarks"])}
    assert set(infos) == {("random", ""), ("random", "pixel3-le-5ms"), ("random", "fpga-pareto"),
                          ("optuna-nsga2", "fpga-pareto"), ("random", "warm-synflow-6")}
    assert infos["random", "pixel3-le-5ms"]["optimum"] < infos["random", ""]["optimum"]
    assert 0 < infos["optuna-nsga2", "fpga-pareto"]["hv_regret"] < 1
    warm = infos["random", "warm-synflow-6"]
    assert warm["proxy_cost_source"] == "cpu, given" and warm["trajectories"][0]["proxy_seconds"] == 3.0


@pytest.mark.parametrize("args, message", [
    (["--proxies", "synflow,nosuch"], "*unknown proxy 'nosuch'; valid proxies: *synflow*"),
    (["--archs", "0"], "*--archs: expected a positive integer, got 0*"),
    (["--images-dir", "/no/such/folder"], "*folder /no/such/folder does not exist*"),
    (["--baseline-check", "--baseline-update"], "*--baseline-check and --baseline-update exclude each other*"),
    (["--archs", "20000"], "*--archs 20000: tss has 15625 archs*"),
    (["--seeds", "-1"], "*--seeds: expected seeds like '0,1,2' or '0-2', got '-1'*"),
    (["--store", "/no/such/folder/s.sqlite"], "*--store: result store /no/such/folder/s.sqlite: folder * does not*"),
    (["--latency-limit", "pixel3<5"], "*--latency-limit: expected a latency limit like 'pixel3<=10'*"),
    (["--warmup", "synflow:60"], "*--warmup synflow:60: the warm-up draws from the proxies' sample of --archs 50*"),
    (["--warmup", "nosuch:5"], "*unknown proxy 'nosuch'; valid proxies: *synflow*"),
    (["--proxy-seconds", "-1"], "*--proxy-seconds: expected seconds (a finite number >= 0)*"),
    (["--protocol", "zc2020"], "*--protocol: unknown protocol 'zc2020'; valid protocols: nats, zc2021, suitezero*"),
    (["--protocol", "zc2021", "--space", "sss"], "*protocol zc2021 builds zc-nb201 networks, which exist for tss only*"),
])
def test_bad_options_are_usage_errors(pytester, args, message):
    result = pytester.runpytest_subprocess(SUITES, "--collect-only", "-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_missing_data_root_is_one_usage_error(pytester, monkeypatch):
    monkeypatch.setenv("HARNESS_DATA_DIR", "/no/such/data")
    result = pytester.runpytest_subprocess(SUITES, "--collect-only", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*benchmark data folder /no/such/data (from HARNESS_DATA_DIR / --data) does not exist*"])


@pytest.mark.parametrize("make", ["empty", "corrupt table", "corrupt store"])
def test_unusable_data_root_or_store_is_one_usage_error(pytester, data_root, make):
    root = pytester.path / "data"
    (root / "nats-bench").mkdir(parents=True)
    args = ["--data", str(root)]
    if make != "empty":
        for entry in (data_root / "nats-bench").iterdir():
            (root / "nats-bench" / entry.name).symlink_to(entry)
        (root / "images").symlink_to(data_root / "images")
    if make == "corrupt table":
        (root / "nats-bench" / "sss.csv.gz").unlink()
        (root / "nats-bench" / "sss.csv.gz").write_bytes(b"not gzip")
    if make == "corrupt store":
        (pytester.path / "s.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
        args += ["--store", str(pytester.path / "s.sqlite")]
    result = pytester.runpytest_subprocess(SUITES, "-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    expected = {"empty": "*benchmark data file nats-bench/tss.csv.gz not found under*",
                "corrupt table": "*benchmark table */sss.csv.gz is unreadable*",
                "corrupt store": "*s.sqlite is not a usable result store*"}[make]
    result.stderr.fnmatch_lines([expected])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_storage_is_kept_apart_per_torch_version_for_suite_runs_only(tmp_path):
    def configure(storage: str, args: tuple[str, ...] = ("harness.suites",)) -> str:
        config = SimpleNamespace(option=SimpleNamespace(benchmark_storage=storage), inipath=None,
                                 args=list(args), invocation_params=SimpleNamespace(dir=tmp_path))
        pytest_plugin.pytest_configure(config)
        return config.option.benchmark_storage

    assert configure("file://./.benchmarks") == f"file://{tmp_path}/.benchmarks/torch-{torch.__version__}"
    assert configure("file://./.benchmarks", (SUITES + "/test_proxies.py::test_proxy",)).endswith(torch.__version__)
    assert configure("file:///somewhere/else") == "file:///somewhere/else"  # the user's choice stands
    # another project's benchmarks, in a session where the plugin is merely installed, are left alone
    assert configure("file://./.benchmarks", ("tests",)) == "file://./.benchmarks"


def test_profiles_and_overrides():
    valid = {"proxies": ["nwot", "synflow"], "searchers": ["random", "rea"], "datasets": list(DATASETS)}
    default = resolve({}, valid)
    assert default.proxies == ("nwot", "synflow") and default.archs == DEFAULT.archs
    assert default.proxy_spaces == ("tss",) and default.searcher_spaces == ("tss", "sss")
    full = resolve({"suite_archs": 7, "suite_space": ("sss",), "suite_searchers": ("rea",)}, valid, full=True)
    assert (full.archs, full.runs, full.seeds) == (7, FULL.runs, FULL.seeds)
    assert full.proxy_spaces == full.searcher_spaces == ("sss",) and full.searchers == ("rea",)
    assert default.images_dir is None and resolve({"suite_images_dir": Path("/x")}, valid).images_dir == Path("/x")
    assert parse_names(" a, b,a ") == ("a", "b") and parse_seeds("0-2,5") == (0, 1, 2, 5)
    with pytest.raises(ValueError, match="valid devices: cpu, cuda"):
        resolve({"suite_devices": ("tpu",)}, valid)
