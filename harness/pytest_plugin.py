"""pytest glue for the benchmark suites: options, machine info, per-torch storage, the result table and the
baseline gate. Loaded by the repository's root ``conftest.py``; everything heavy is imported lazily so that
``pytest tests`` pays nothing for it. The computations live in ``harness.suite_config`` and
``harness.baselines``.
"""

from __future__ import annotations

import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import harness
from harness import suite_config as sc
from harness.config import data_dir
from harness.errors import DataNotFoundError

SUITE_CONFIG = pytest.StashKey[sc.SuiteConfig]()
FINISH_NOTES = pytest.StashKey[str]()
# pytest-benchmark's default --benchmark-storage; any other value is the user's choice and is kept.
BENCHMARK_DEFAULT_STORAGE = "file://./.benchmarks"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "nasbench-harness suites (comma lists; 'all' = every registered name)")
    group.addoption("--proxies", dest="suite_proxies", type=sc.parse_names, metavar="NAMES",
                    help="zero-cost proxies to measure (default: all)")
    group.addoption("--searchers", dest="suite_searchers", type=sc.parse_names, metavar="NAMES",
                    help="searchers to run (default: all)")
    group.addoption("--datasets", dest="suite_datasets", type=sc.parse_names, metavar="NAMES",
                    help="cifar10, cifar100, ImageNet16-120 (default: all)")
    group.addoption("--devices", dest="suite_devices", type=sc.parse_names, metavar="NAMES",
                    help="cpu, cuda (default: cpu; --full: both; cuda rows skip without CUDA)")
    group.addoption("--seeds", dest="suite_seeds", type=sc.parse_seeds, metavar="SEEDS",
                    help="proxy minibatch+init seeds and searcher seed blocks, e.g. 0,1,2 or 0-2 (default: 0)")
    group.addoption("--archs", dest="suite_archs", type=sc.parse_positive_int, metavar="N",
                    help=f"archs in the proxies' fixed sample (default: {sc.DEFAULT.archs}; --full: {sc.FULL.archs})")
    group.addoption("--runs", dest="suite_runs", type=sc.parse_positive_int, metavar="N",
                    help=f"searcher runs per seed block (default: {sc.DEFAULT.runs}; --full: {sc.FULL.runs})")
    group.addoption("--space", dest="suite_space", type=sc.parse_names, metavar="NAMES",
                    help="tss, sss (default: proxies on tss, searchers on tss and sss)")
    group.addoption("--data", dest="suite_data", type=sc.parse_data_dir, metavar="PATH",
                    help="benchmark data root (default: $HARNESS_DATA_DIR)")
    group.addoption("--images-dir", dest="suite_images_dir", type=sc.parse_data_dir, metavar="PATH",
                    help="your own image files instead of the data root's samples: cifar-10-batches-py/, "
                         "cifar-100-python/ (torchvision layout), train_data_batch_1 (ImageNet16-120)")
    group.addoption("--store", dest="suite_store", type=Path, metavar="PATH", default=None,
                    help="SQLite result store of proxy scores: read first, missing scores computed and added "
                         "(fill it with `python -m harness sweep --archs sample:N`)")
    group.addoption("--full", dest="suite_full", action="store_true",
                    help="publication scale: 1000 archs, 300 runs, seeds 0-2, cpu and cuda")
    group.addoption("--baseline-check", action="store_true",
                    help="fail when a suite metric regressed against the stored baselines")
    group.addoption("--baseline-update", action="store_true",
                    help="rewrite the stored baselines of the cases this run measured")
    group.addoption("--baselines", type=Path, metavar="DIR", default=None,
                    help="baseline folder (default: <rootdir>/baselines)")
    group.addoption("--report", dest="suite_report", type=Path, metavar="DIR", default=None,
                    help="write this run's report (Markdown page and figures, harness.report) into DIR")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Runs before pytest-benchmark opens its storage: keep each torch version's saved runs apart, so that
    # --benchmark-compare never compares timings across torch builds.
    if getattr(config.option, "benchmark_storage", None) == BENCHMARK_DEFAULT_STORAGE:
        storage = config.rootpath / ".benchmarks" / f"torch-{version('torch')}"
        config.option.benchmark_storage = f"file://{storage}"


def suite_config(config: pytest.Config) -> sc.SuiteConfig:
    """The run's resolved configuration (names checked against the registries), computed once."""
    if SUITE_CONFIG not in config.stash:
        from harness.bench import DATASETS
        from harness.proxies import proxy_names
        from harness.searchers import searcher_names

        options = {dest: config.getoption(dest) for dest in sc.OPTION_FIELDS}
        valid = {"proxies": proxy_names(), "searchers": searcher_names(), "datasets": DATASETS}
        try:
            if config.getoption("baseline_check") and config.getoption("baseline_update"):
                raise ValueError("--baseline-check and --baseline-update exclude each other: check this run "
                                 "against the stored baselines, or rewrite them from it")
            resolved = sc.resolve(options, valid, full=config.getoption("suite_full"))
            data_dir(resolved.data)  # every suite reads the data root: a missing one is one usage error
        except (ValueError, DataNotFoundError) as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[SUITE_CONFIG] = resolved
    return config.stash[SUITE_CONFIG]


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    import torch

    cuda = torch.cuda.is_available()
    machine_info.update(torch_version=torch.__version__, cuda_version=torch.version.cuda,
                        gpu_name=torch.cuda.get_device_name(0) if cuda else None,
                        cpu_threads=torch.get_num_threads(), omp_wait_policy=harness.OMP_WAIT_POLICY)


def _benchmarks(config: pytest.Config) -> list[dict[str, Any]]:
    """This session's benchmarks as pytest-benchmark writes them to JSON (without raw timings). They live on
    pytest-benchmark's session object (``config._benchmarksession``), which has no public accessor."""
    session = getattr(config, "_benchmarksession", None)
    if session is None:
        return []
    return [b.as_dict(include_data=False) for b in session.benchmarks if not b.has_error]


def _baseline_dir(config: pytest.Config) -> Path:
    return config.getoption("baselines") or config.rootpath / "baselines"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    messages = []
    if config.getoption("baseline_check") or config.getoption("baseline_update"):
        messages.append(_gate(session, exitstatus))
    if config.getoption("suite_report") is not None:
        messages.append(_report(session))
    if messages:
        config.stash[FINISH_NOTES] = "\n".join(messages)


def _gate(session: pytest.Session, exitstatus: int) -> str:
    """--baseline-update writes the baselines of a passing run; --baseline-check fails on a regression."""
    from harness import baselines

    config = session.config
    current = baselines.summarise(_benchmarks(config))
    directory = _baseline_dir(config)
    if config.getoption("baseline_update"):
        if exitstatus != 0:
            return "baselines NOT updated: the run did not pass"
        import torch

        written = baselines.write_baselines(directory, current, torch.__version__, datetime.date.today().isoformat())
        return f"wrote {len(written)} baseline(s) to {directory}"
    try:
        stored = baselines.load_baselines(directory)
    except (FileNotFoundError, ValueError) as exc:
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return f"baseline gate not run: {exc}"
    comparisons = baselines.compare(current, stored)
    if baselines.regressions(comparisons):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    import torch

    note = baselines.torch_version_note(torch.__version__, baselines.stored_torch_versions(directory))
    return "\n".join(filter(None, [f"compared with {directory}", note, baselines.format_report(comparisons)]))


def _report(session: pytest.Session) -> str:
    from harness.report import write_report

    config = session.config
    run = {"machine_info": config._benchmarksession.get_machine_info(),
           "datetime": datetime.datetime.now(datetime.UTC).isoformat(), "benchmarks": _benchmarks(config)}
    try:
        page = write_report([run], config.getoption("suite_report"), data=config.getoption("suite_data"))
    except (ValueError, FileNotFoundError) as exc:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return f"report NOT written: {exc}"
    return f"report written to {page}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    benchmarks = _benchmarks(config)
    if any(b.get("extra_info", {}).get("kind") for b in benchmarks):
        from harness import baselines

        terminalreporter.write_sep("=", "suite measurements")
        terminalreporter.write_line(baselines.format_run(benchmarks))
    if FINISH_NOTES in config.stash:
        terminalreporter.write_sep("=", "baseline gate / report")
        terminalreporter.write_line(config.stash[FINISH_NOTES])

