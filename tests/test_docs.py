"""The user docs stay current: docs/results.md's generated block is what benchmarks/results_tables.py writes
from the committed baselines, every command's --help shows an example, and the README's API has docstrings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("results_tables", ROOT / "benchmarks" / "results_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_tables_equal_what_the_script_writes(tmp_path):
    script = load_script()
    page = ROOT / "docs" / "results.md"
    copy = tmp_path / "results.md"
    copy.write_text(page.read_text())
    script.write(copy, ROOT / "baselines")
    assert copy.read_text() == page.read_text(), (
        "docs/results.md is stale: python benchmarks/results_tables.py --write docs/results.md")


def test_the_tables_follow_the_baselines(tmp_path):
    script = load_script()
    baselines = tmp_path / "baselines"
    baselines.mkdir()
    source = ROOT / "baselines" / "proxy.tss.cifar10.synflow.cpu.json"
    text = source.read_text()
    (baselines / source.name).write_text(text)
    before = script.tables(baselines)
    (baselines / source.name).write_text(text.replace('"value": 0.776057', '"value": 0.5'))
    after = script.tables(baselines)
    assert "0.776 [" in before and "0.500 [" in after


def test_every_command_help_shows_an_example(capsys):
    import pytest

    from harness.cli import _commands, main

    for name in [None, *_commands()]:
        with pytest.raises(SystemExit):
            main(["--help"] if name is None else [name, "--help"])
        out = capsys.readouterr().out
        assert f"python -m harness {name or ''}".strip() in out, f"{name or 'harness'} --help shows no example"


def test_the_readme_api_has_docstrings():
    from harness.bench import Oracle, load_oracle
    from harness.images import load_batch
    from harness.proxies import Proxy, RelativeProxy
    from harness.runner import run_search
    from harness.scoring import score, score_all, score_batch
    from harness.searchers import Searcher
    from harness.spaces import SearchSpace

    api = [load_oracle, load_batch, score, score_all, score_batch, run_search, Proxy, Proxy.from_function,
           RelativeProxy, Searcher, Searcher.ask, Searcher.tell, SearchSpace, SearchSpace.index, Oracle.accuracy,
           Oracle.simulate_train_eval, Oracle.cost, Oracle.best]
    assert [f.__qualname__ for f in api if not (f.__doc__ or "").strip()] == []
