"""Property-based tests (hypothesis) of every parser and loader of user input: arch strings, option values,
table cells, run and baseline files. Whatever is generated, the result is a value or one of the harness's own
errors (ValueError and its subclasses, OSError for files, argparse's ArgumentTypeError for options), never
another exception."""

from __future__ import annotations

import argparse
import copy
import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import baselines, suite_config
from harness.bench.table import read_table
from harness.errors import check_seed
from harness.runs import load_run
from harness.spaces import SizeSpace
from harness.spaces.tss import OPS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OWN_ERRORS = (ValueError, OSError)
OPTION_ERRORS = (argparse.ArgumentTypeError,)

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=12)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def outcome(fn, *args, errors=OWN_ERRORS):
    """``fn(*args)``, or the error if it is one of ``errors``; anything else fails the test."""
    try:
        return fn(*args)
    except errors as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        return exc


# --- arch strings ----------------------------------------------------------------------------------------------

tss_like = st.lists(st.lists(st.tuples(st.sampled_from([*OPS, "conv", ""]), st.sampled_from(["~0", "~1", "~2", "", "~"])),
                             min_size=0, max_size=4), min_size=0, max_size=4).map(
    lambda nodes: "+".join("|" + "|".join(op + src for op, src in node) + "|" for node in nodes))


@SETTINGS
@given(text=st.one_of(st.text(max_size=60), tss_like))
def test_tss_arch_strings(tss_oracle, text):
    result = outcome(tss_oracle.space.index, text)
    if isinstance(result, int):
        assert tss_oracle.space.arch(result) == text


@SETTINGS
@given(text=st.one_of(st.text(max_size=30), st.lists(st.sampled_from(["8", "16", "64", "7", "", " 8"]), max_size=6)
                      .map(":".join)))
def test_sss_arch_strings(text):
    space = SizeSpace()
    result = outcome(space.index, text)
    if isinstance(result, int):
        assert space.arch(result) == text


# --- option values ---------------------------------------------------------------------------------------------

@SETTINGS
@given(text=st.text(max_size=30))
@pytest.mark.parametrize("parser", [suite_config.parse_names, suite_config.parse_seeds, suite_config.parse_positive_int,
                                    suite_config.parse_scheduler, suite_config.parse_data_dir])
def test_option_parsers(parser, text):
    outcome(parser, text, errors=OPTION_ERRORS)


@SETTINGS
@given(text=st.one_of(st.text(max_size=20), st.from_regex(r"(sample:)?-?\d{1,6}(-\d{1,6})?", fullmatch=True)))
def test_sweep_archs(tss_oracle, data_root, text):
    from harness.sweep import parse_archs

    result = outcome(parse_archs, text, tss_oracle.space, data_root)
    if isinstance(result, list):
        assert result and all(0 <= a < tss_oracle.space.size for a in result)


@SETTINGS
@given(text=st.text(max_size=30))
def test_sweep_proxies_and_datasets(text):
    from harness.commands.sweep import _datasets
    from harness.sweep import parse_proxies

    outcome(parse_proxies, text)
    outcome(_datasets, text)


@SETTINGS
@given(seed=json_values)
def test_seeds(seed):
    result = outcome(check_seed, seed)
    if not isinstance(result, Exception):
        assert result >= 0 and result == seed


# --- table cells -----------------------------------------------------------------------------------------------

cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10, 1000).map(str),
                  st.text(alphabet="0123456789.-+eEinfaNx ", max_size=8), st.just(""))


@SETTINGS
@given(rows=st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=6))
def test_table_cells(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        lines = ["index,arch,cifar10/test_acc_200,cifar10/flops_m"]
        lines += [f"{i},a{i},{a},{b}" for i, (a, b, _) in enumerate(rows)]
        path.write_text("\n".join(lines) + "\n")
        frame = outcome(read_table, path, ["cifar10/test_acc_200"])
    if not isinstance(frame, Exception):
        acc, flops = frame["cifar10/test_acc_200"].dropna(), frame["cifar10/flops_m"].dropna()
        assert ((acc >= 0) & (acc <= 100)).all() and ((flops >= 0) & flops.map(math.isfinite)).all()


# --- run and baseline files ----------------------------------------------------------------------------------------

PROXY = baselines.proxy_record("synflow", "tss", "cifar10", "cpu", 0, [1, 2, 3, 4], [1.0, 2.0, 4.0, 3.0],
                               [50.0, 60.0, 70.0, 80.0], "s", "test@200", batch_size=64, n_boot=0)
SEARCHER = {"kind": "searcher", "searcher": "rea", "space": "tss", "dataset": "cifar10", "budget": 100.0,
            "budget_kind": "seconds", "reported_metric": "test@200", "seeds": [0, 1], "runs": 2,
            "auc_regret_runs": [1.0, 2.0], "trajectories": [{"final_reported": 90.0}, {"final_reported": 91.0}]}


@st.composite
def doctored_benchmarks(draw):
    """Valid suite records with some fields deleted or replaced by arbitrary JSON values."""
    out = []
    for record in draw(st.lists(st.sampled_from([PROXY, SEARCHER]), min_size=1, max_size=3)):
        info = copy.deepcopy(record)
        for name in draw(st.lists(st.sampled_from(sorted(info)), max_size=3)):
            if draw(st.booleans()):
                info.pop(name, None)
            else:
                info[name] = draw(json_values)
        bench = {"name": "test", "extra_info": info}
        if draw(st.booleans()):
            bench["stats"] = draw(st.one_of(json_values, st.just({"median": 1.0, "min": 0.5, "max": 2.0})))
        out.append(draw(st.one_of(st.just(bench), json_values)) if draw(st.integers(0, 9)) == 0 else bench)
    return out


@SETTINGS
@given(benchmarks=doctored_benchmarks())
def test_run_records(benchmarks):
    outcome(baselines.summarise, benchmarks)


@SETTINGS
@given(content=st.one_of(json_values.map(json.dumps), st.binary(max_size=40).map(lambda b: b.decode("latin1")),
                         doctored_benchmarks().map(lambda b: json.dumps({"benchmarks": b}))))
def test_run_files(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.json"
        path.write_text(content, encoding="latin1" if not content.isascii() else "utf-8")
        run = outcome(load_run, path)
        if isinstance(run, dict):
            outcome(baselines.summarise, run["benchmarks"])


BASELINE = {"key": "proxy/tss/cifar10/synflow/cpu", "kind": "proxy", "scale": {"n_archs": 50, "seeds": [0]},
            "metrics": {"spearman": {"value": 0.7, "ci_low": 0.6, "ci_high": 0.8}}}


@st.composite
def doctored_baselines(draw):
    raw = copy.deepcopy(BASELINE)
    target = draw(st.sampled_from([raw, raw["metrics"], raw["metrics"]["spearman"], raw["scale"]]))
    for name in draw(st.lists(st.sampled_from(sorted(target) or ["x"]), max_size=2)):
        if draw(st.booleans()):
            target.pop(name, None)
        else:
            target[name] = draw(json_values)
    return draw(st.one_of(st.just(raw), json_values)) if draw(st.integers(0, 9)) == 0 else raw


@SETTINGS
@given(raw=doctored_baselines())
def test_baseline_files(raw):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "b.json").write_text(json.dumps(raw))
        loaded = outcome(baselines.load_baselines, folder)
    if isinstance(loaded, dict):
        # whatever loaded can be judged against a run of itself
        summaries = list(loaded.values())
        baselines.format_report(baselines.compare({s.key: s for s in summaries}, loaded))
