"""What a suite run measures: the option parsers and the two scale profiles, kept apart from pytest.

Parsers follow pytest-benchmark's ``parse_*`` convention (argparse ``type=`` callables that raise
``argparse.ArgumentTypeError``), so a malformed value is rejected by the command-line parser itself. Names
(proxies, searchers, ...) are checked later by :func:`resolve`, against the registries, because discovering
the registries imports torch and the plugin must stay cheap for runs that never touch the suites.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import unknown_name
from harness.protocol import DEFAULT as DEFAULT_PROTOCOL
from harness.protocol import get_protocol
from harness.spaces import SPACE_CLASSES, SPACES

ALL = "all"
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class SuiteConfig:
    """One run's scale and selection. ``None`` in a name field means every registered name."""

    proxies: tuple[str, ...] | None
    searchers: tuple[str, ...] | None
    datasets: tuple[str, ...]
    devices: tuple[str, ...]
    seeds: tuple[int, ...]
    archs: int  # size of the fixed arch sample each proxy scores
    runs: int  # searcher runs per seed block
    proxy_spaces: tuple[str, ...]
    searcher_spaces: tuple[str, ...]
    sss_queries: int  # SSS has no training times, so its searcher budget counts queries
    latency_limit: str  # hardware-aware TSS searcher cases under 'DEVICE<=MS' ('': none)
    pareto_device: str  # two-objective TSS searcher cases, latency on this device ('': none)
    warmup: str  # zero-cost warm-up TSS searcher cases, 'PROXY:N' over the proxies' fixed sample ('': none)
    proxy_seconds: float | None = None  # the warm-up proxy's cost per arch (None: measured on CPU)
    free_proxy: bool = False  # report the warm-up proxy's cost apart instead of charging it
    protocol: str = DEFAULT_PROTOCOL  # the scoring protocol's name (harness.protocol)
    batch_size: int | None = None  # None: the protocol's
    timing_rounds: int = 5  # pytest-benchmark rounds of one proxy on one network
    data: Path | None = None  # data root override (None: $HARNESS_DATA_DIR)
    images_dir: Path | None = None  # the user's own CIFAR / ImageNet16 files (None: the data root's images)
    store: Path | None = None  # SQLite result store read before scoring and filled after (None: no cache)
    proxy_timeout_s: float = 300.0  # a proxy slower than this on one arch scores NaN with the reason


# Default: sized for `pytest suites` in < 15 min on 2 cores, which holds while score_all of every proxy
# costs <= 2 s per arch (the proxies' own target); the searchers take about a minute. Full: publication scale.
DEFAULT = SuiteConfig(proxies=None, searchers=None, datasets=("cifar10", "cifar100", "ImageNet16-120"),
                      devices=("cpu",), seeds=(0,), archs=50, runs=20, proxy_spaces=("tss",),
                      searcher_spaces=("tss", "sss"), sss_queries=100, latency_limit="pixel3<=5",
                      pareto_device="pixel3", warmup="synflow:50")
FULL = dataclasses.replace(DEFAULT, devices=DEVICES, seeds=(0, 1, 2), archs=1000, runs=300, timing_rounds=10)

# pytest option dest -> SuiteConfig field it overrides.
OPTION_FIELDS = {"suite_proxies": "proxies", "suite_searchers": "searchers", "suite_datasets": "datasets",
                 "suite_devices": "devices", "suite_seeds": "seeds", "suite_archs": "archs",
                 "suite_runs": "runs", "suite_space": "space", "suite_data": "data",
                 "suite_store": "store", "suite_images_dir": "images_dir",
                 "suite_proxy_timeout": "proxy_timeout_s",
                 "suite_latency_limit": "latency_limit", "suite_pareto_device": "pareto_device",
                 "suite_warmup": "warmup", "suite_proxy_seconds": "proxy_seconds",
                 "suite_free_proxy": "free_proxy", "suite_protocol": "protocol"}
NONE = "none"  # turns an optional case family off


def parse_names(string: str) -> tuple[str, ...]:
    """A comma list of names (order kept, duplicates dropped); ``all`` selects every registered name."""
    names = tuple(dict.fromkeys(part.strip() for part in string.split(",") if part.strip()))
    if not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of names or {ALL!r}, got {string!r}")
    if ALL in names and len(names) > 1:
        raise argparse.ArgumentTypeError(f"{ALL!r} cannot be combined with other names: {string!r}")
    return names


def parse_plugins(string: str) -> tuple[str, ...]:
    """A comma list of plugin module names and .py files (imported later, by ``harness.plugins``)."""
    plugins = tuple(dict.fromkeys(part.strip() for part in string.split(",") if part.strip()))
    if not plugins:
        raise argparse.ArgumentTypeError(f"expected module names or .py files separated by commas, got {string!r}")
    return plugins


def parse_timeout(string: str) -> float:
    """A time limit: seconds > 0."""
    value = parse_seconds(string)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {string!r}")
    return value


def parse_protocol(string: str) -> str:
    """A scoring protocol's name (``harness.protocol``: nats, zc2021, suitezero)."""
    try:
        return get_protocol(string.strip()).name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_positive_int(string: str) -> int:
    try:
        value = int(string)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {string!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def parse_seeds(string: str) -> tuple[int, ...]:
    """Comma list of non-negative seeds; ``A-B`` is the inclusive range (``0-2`` = ``0,1,2``)."""
    seeds: list[int] = []
    for part in (p.strip() for p in string.split(",")):
        lo, sep, hi = part.partition("-")
        try:
            first, last = (int(lo), int(hi)) if sep else (int(part), int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected seeds like '0,1,2' or '0-2', got {string!r}") from None
        if first < 0 or last < first:
            raise argparse.ArgumentTypeError(f"bad seed range {part!r} in {string!r}")
        seeds.extend(range(first, last + 1))
    return tuple(dict.fromkeys(seeds))


def parse_latency_limit(string: str) -> str:
    """``DEVICE<=MS`` (e.g. ``pixel3<=5``), or ``none`` (returned as ''); the device is checked against the
    data when a case binds it."""
    if string.strip() == NONE:
        return ""
    from harness.hardware import Hardware

    try:
        Hardware.limit(string)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, or {NONE!r}") from None
    return string.strip()


def parse_warmup_or_none(string: str) -> str:
    """``PROXY:N`` (e.g. ``synflow:50``; N at most the proxies' sample, ``--archs``), or ``none`` ('')."""
    if string.strip() == NONE:
        return ""
    name, sep, count = string.strip().partition(":")
    if not sep or not name or not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"expected a warm-up like 'synflow:50' (proxy:archs), or {NONE!r}, "
                                         f"got {string!r}")
    return string.strip()


def parse_seconds(string: str) -> float:
    """A cost in seconds: a finite number >= 0."""
    try:
        value = float(string)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds (a number >= 0), got {string!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected seconds (a finite number >= 0), got {string!r}")
    return value


def parse_device_or_none(string: str) -> str:
    """A latency device name (checked against the data when a case binds it), or ``none`` (returned as '')."""
    name = string.strip()
    if not name.replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(f"expected a device name such as 'pixel3', or {NONE!r}, got {string!r}")
    return "" if name == NONE else name


def parse_data_dir(string: str) -> Path:
    """A folder given on the command line (data root, images); it must exist (the loaders check its files)."""
    path = _path(string)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"folder {path} does not exist")
    return path


def _path(string: str) -> Path:
    try:
        return Path(string).expanduser().resolve()
    except (ValueError, RuntimeError, OSError) as exc:  # a NUL byte, an unknown ~user, a symlink loop
        raise argparse.ArgumentTypeError(f"{string!r} is not a usable path: {exc}") from None


def parse_store_path(string: str) -> Path:
    """A result store file: created when missing, but only in a folder that exists (a mistyped folder is an
    error, not a new tree of folders holding a store no later run finds)."""
    path = _path(string)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"result store {path} is a folder; give a file path, e.g. {path}/scores.sqlite")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"result store {path}: folder {path.parent} does not exist")
    return path


def parse_scheduler(string: str) -> str:
    """A Dask scheduler address, ``tcp://HOST:PORT`` (``tls://``, ``ucx://``, ``ws://``, ``wss://`` too), checked
    before any connection: a malformed one would otherwise stall on connection retries."""
    match = re.fullmatch(r"(tcp|tls|ucx|ws|wss)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(\d{1,5})", string.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise argparse.ArgumentTypeError(f"expected a Dask scheduler address like tcp://HOST:PORT, got {string!r}")
    return string.strip()


def select(kind: str, requested: Sequence[str] | None, valid: Sequence[str]) -> tuple[str, ...]:
    """``requested`` checked against ``valid`` (``None`` or ``all``: every valid name, in registry order)."""
    if requested is None or tuple(requested) == (ALL,):
        return tuple(valid)
    for name in requested:
        if name not in valid:
            raise unknown_name(kind, name, valid)
    return tuple(requested)


def resolve(options: Mapping[str, Any], valid: Mapping[str, Sequence[str]], full: bool = False) -> SuiteConfig:
    """The run's configuration: the profile, overridden by the options the user gave (``None`` = not given).

    ``options`` maps :data:`OPTION_FIELDS` keys to parsed values; ``valid`` maps ``proxies``, ``searchers``,
    ``datasets`` to the registered names. Raises ValueError naming the valid choices for an unknown name.
    """
    profile = FULL if full else DEFAULT
    given = {OPTION_FIELDS[k]: v for k, v in options.items() if k in OPTION_FIELDS and v is not None}
    space = given.pop("space", None)
    if space is not None:
        spaces = select("space", space, SPACES)
        given["proxy_spaces"] = given["searcher_spaces"] = spaces
    cfg = dataclasses.replace(profile, **given)
    for space_cls in SPACE_CLASSES.values():
        if space_cls.name in cfg.proxy_spaces and cfg.archs > space_cls.space_size():
            raise ValueError(f"--archs {cfg.archs}: {space_cls.name} has {space_cls.space_size()} archs")
    for space_name in cfg.proxy_spaces:
        get_protocol(cfg.protocol).check_space(space_name)
    if cfg.warmup:
        proxy, _, count = cfg.warmup.partition(":")
        if proxy not in valid["proxies"]:
            raise unknown_name("proxy", proxy, valid["proxies"])
        if int(count) > cfg.archs and "warmup" in given:
            raise ValueError(f"--warmup {cfg.warmup}: the warm-up draws from the proxies' sample of --archs "
                             f"{cfg.archs} archs")
        if int(count) > cfg.archs:  # the profile's warm-up shrinks with a smaller --archs
            cfg = dataclasses.replace(cfg, warmup=f"{proxy}:{cfg.archs}")
    return dataclasses.replace(
        cfg,
        proxies=select("proxy", cfg.proxies, valid["proxies"]),
        searchers=select("searcher", cfg.searchers, valid["searchers"]),
        datasets=select("dataset", cfg.datasets, valid["datasets"]),
        devices=select("device", cfg.devices, DEVICES),
    )
