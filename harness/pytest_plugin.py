"""pytest glue for the benchmark suites: options, plugins, machine info, per-torch storage, the result table
and the baseline gate. Registered through the ``pytest11`` entry point, so it is active wherever the harness is
installed; it acts only on runs of the suites (``pytest --pyargs harness.suites``) or when its options are
given, and imports everything heavy lazily. The computations live in ``harness.suite_config``,
``harness.plugins`` and ``harness.baselines``.
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

SUITE_CONFIG = pytest.StashKey[sc.SuiteConfig]()
SUITE_ORACLES = pytest.StashKey[dict[str, Any]]()
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
    group.addoption("--latency-limit", dest="suite_latency_limit", type=sc.parse_latency_limit,
                    metavar="DEVICE<=MS", help="TSS searcher cases under a latency limit, e.g. pixel3<=5 "
                    f"(default: {sc.DEFAULT.latency_limit}; 'none': no such cases)")
    group.addoption("--pareto-device", dest="suite_pareto_device", type=sc.parse_device_or_none,
                    metavar="DEVICE", help="TSS searcher cases with latency on DEVICE as second objective "
                    f"(default: {sc.DEFAULT.pareto_device}; 'none': no such cases)")
    group.addoption("--warmup", dest="suite_warmup", type=sc.parse_warmup_or_none, metavar="PROXY:N",
                    help="zero-cost warm-up cases (random, rea, reinforce on TSS): the top 10 of N archs of the "
                    f"proxies' sample by PROXY first (default: {sc.DEFAULT.warmup}; 'none': no such cases)")
    group.addoption("--proxy-seconds", dest="suite_proxy_seconds", type=sc.parse_seconds, metavar="S",
                    help="the warm-up proxy's cost per arch, e.g. measured on a GPU (default: measured on CPU)")
    group.addoption("--free-proxy", dest="suite_free_proxy", action="store_true", default=None,
                    help="report the warm-up proxy's cost apart instead of charging it to the search budget")
    group.addoption("--protocol", dest="suite_protocol", type=sc.parse_protocol, metavar="NAME", default=None,
                    help="scoring protocol of the proxy cases: nats (default: NATS-Bench's networks), zc2021 "
                         "(Abdelfattah et al. 2021) or suitezero (NAS-Bench-Suite-Zero); see docs/protocols.md")
    group.addoption("--data", dest="suite_data", type=sc.parse_data_dir, metavar="PATH",
                    help="benchmark data root (default: $HARNESS_DATA_DIR)")
    group.addoption("--images-dir", dest="suite_images_dir", type=sc.parse_data_dir, metavar="PATH",
                    help="your own image files instead of the data root's samples: cifar-10-batches-py/, "
                         "cifar-100-python/ (torchvision layout), train_data_batch_1 (ImageNet16-120)")
    group.addoption("--store", dest="suite_store", type=sc.parse_store_path, metavar="PATH", default=None,
                    help="SQLite result store of proxy scores: read first, missing scores computed and added "
                         "(fill it with `python -m harness sweep --archs sample:N`)")
    group.addoption("--full", dest="suite_full", action="store_true",
                    help="publication scale: 1000 archs, 300 runs, seeds 0-2, cpu and cuda")
    group.addoption("--baseline-check", action="store_true",
                    help="fail when a suite metric regressed against the stored baselines")
    group.addoption("--baseline-update", action="store_true",
                    help="rewrite the stored baselines of the cases this run measured")
    group.addoption("--baseline-strict", action="store_true",
                    help="with --baseline-check: also fail on incomparable cases (measured at another arch count, "
                         "runs, batch size, seeds or protocol than their baselines); pytest's own --strict implies "
                         "it, and CI runs the gate that way")
    group.addoption("--baselines", type=Path, metavar="DIR", default=None,
                    help="baseline folder (default: baselines/ in pytest's rootdir, or in the current folder "
                         "when pytest has no config file there)")
    group.addoption("--report", dest="suite_report", type=Path, metavar="DIR", default=None,
                    help="write this run's report (Markdown page and figures, harness.report) into DIR")
    group.addoption("--plugins", dest="suite_plugins", type=sc.parse_plugins, metavar="MODULES", default=(),
                    help="your own proxies / searchers: comma list of module names or .py files, each defining "
                         "PROXY(IES) / SEARCHER(S) (installed entry points are found without this)")
    group.addoption("--proxy-timeout", dest="suite_proxy_timeout", type=sc.parse_timeout, metavar="SECONDS",
                    help=f"a proxy that takes longer on one arch scores NaN with the reason, and the run goes on "
                         f"(default: {sc.DEFAULT.proxy_timeout_s:g})")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Runs before pytest-benchmark opens its storage: keep each torch version's saved runs apart, so that
    # --benchmark-compare never compares timings across torch builds. Other projects' benchmarks are left alone.
    if getattr(config.option, "benchmark_storage", None) == BENCHMARK_DEFAULT_STORAGE and runs_suites(config):
        storage = project_dir(config) / ".benchmarks" / f"torch-{version('torch')}"
        config.option.benchmark_storage = f"file://{storage}"


def project_dir(config: pytest.Config) -> Path:
    """Where a suite run keeps ``.benchmarks/`` and ``baselines/``: the folder of the pytest config file (this
    repository's pyproject.toml, or the user's), else the folder pytest was started in. Not pytest's rootdir:
    without a config file that is the common ancestor of the arguments, which counts option values such as
    ``--data PATH`` and could be the data folder or the installed package."""
    if config.inipath is not None:
        return Path(config.inipath).parent
    return Path(config.invocation_params.dir)


def runs_suites(config: pytest.Config) -> bool:
    """Whether this session collects the harness suites (by module name or by a path inside them)."""
    suites = Path(__file__).resolve().parent / "suites"
    for arg in config.args:
        target = arg.split("::")[0]
        if target == "harness.suites" or target.startswith("harness.suites."):
            return True
        path = (config.invocation_params.dir / target).resolve()
        if path == suites or suites in path.parents:
            return True
    return False


def suite_config(config: pytest.Config) -> sc.SuiteConfig:
    """The run's resolved configuration (names checked against the registries), computed once."""
    if SUITE_CONFIG not in config.stash:
        from harness.bench import DATASETS
        from harness.plugins import load_plugins
        from harness.proxies import proxy_names
        from harness.searchers import searcher_names

        options = {dest: config.getoption(dest) for dest in sc.OPTION_FIELDS}
        try:
            load_plugins(config.getoption("suite_plugins"))
            valid = {"proxies": proxy_names(), "searchers": searcher_names(), "datasets": DATASETS}
            if config.getoption("baseline_check") and config.getoption("baseline_update"):
                raise ValueError("--baseline-check and --baseline-update exclude each other: check this run "
                                 "against the stored baselines, or rewrite them from it")
            resolved = sc.resolve(options, valid, full=config.getoption("suite_full"))
            config.stash[SUITE_ORACLES] = _check_inputs(resolved)
        except (ValueError, OSError) as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[SUITE_CONFIG] = resolved
    return config.stash[SUITE_CONFIG]


def _check_inputs(suite: sc.SuiteConfig) -> dict[str, Any]:
    """Every file the run reads, read once now: a missing, empty or corrupt data root, image folder or result
    store is one usage error naming it, not a failure per case. Returns the oracles, which the suites reuse."""
    from harness.bench import load_oracle
    from harness.images import load_batch
    from harness.protocol import get_protocol
    from harness.store import ResultStore

    data_dir(suite.data)
    oracles = {space: load_oracle(space, data=suite.data)
               for space in dict.fromkeys(suite.proxy_spaces + suite.searcher_spaces)}
    if suite.proxies:
        for dataset in suite.datasets:
            load_batch(dataset, suite.batch_size, suite.seeds[0], data=suite.data, images_dir=suite.images_dir,
                       protocol=get_protocol(suite.protocol))
    if suite.store is not None:
        ResultStore(suite.store).close()
    return oracles


def suite_oracles(config: pytest.Config) -> dict[str, Any]:
    """The oracle of each space the run uses, loaded (and checked) once by :func:`suite_config`."""
    suite_config(config)
    return config.stash[SUITE_ORACLES]


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
    return config.getoption("baselines") or project_dir(config) / "baselines"


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
    try:
        current = baselines.summarise(_benchmarks(config))
    except ValueError as exc:
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return f"baseline gate not run: {exc}"
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
    strict = config.getoption("baseline_strict") or _pytest_strict(config)
    if baselines.failures(comparisons, strict=strict):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    import torch

    report = baselines.format_report(comparisons, verbose=config.getoption("verbose") > 0, strict=strict)
    note = baselines.torch_version_note(torch.__version__, baselines.stored_torch_versions(directory))
    return "\n".join(filter(None, [f"compared with {directory}", note, report]))


def _pytest_strict(config: pytest.Config) -> bool:
    """pytest's own ``--strict`` (the ``strict`` ini option, pytest >= 9): a strict run gets a strict gate."""
    try:
        return bool(config.getini("strict"))
    except ValueError:  # an older pytest without the option
        return False


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

