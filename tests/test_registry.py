"""One registry for proxies and searchers: the same rules and errors for built-in parts, entry points and
plugin modules; a failing proxy or searcher is its own error, not the run's."""

from __future__ import annotations

import math
import sys
import textwrap
import types
from importlib.metadata import EntryPoint

import numpy as np
import pytest
import torch

import harness
from harness.plugins import load_plugins
from harness.proxies import REGISTRY as PROXIES
from harness.proxies import Proxy, get_proxy, proxy_names
from harness.registry import Origin, PluginWarning, Registry, RegistryError
from harness.runner import run_search
from harness.scoring import Failure, score_all, score_batch, score_key
from harness.searchers import REGISTRY as SEARCHERS
from harness.searchers import Searcher, get_searcher, searcher_names
from harness.store import ResultStore


@pytest.fixture
def fresh(monkeypatch):
    """Empty copies of both registries (built-in parts rediscovered), so a test's plugins do not leak."""
    for registry in (PROXIES, SEARCHERS):
        monkeypatch.setattr(registry, "_parts", {})
        monkeypatch.setattr(registry, "_origins", {})
        monkeypatch.setattr(registry, "_broken", {})
        monkeypatch.setattr(registry, "_discovered", False)


def plugin_file(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_built_in_parts_follow_one_rule():
    assert {"synflow", "zen", "vote", "grasp"} <= set(proxy_names())
    assert {"random", "rea", "reinforce", "ppo", "local"} <= set(searcher_names())
    assert PROXIES.origin("synflow") == Origin("harness.proxies.synflow", harness.__version__)
    assert SEARCHERS.origin("random").source == "harness.searchers.random"


def test_a_plugin_file_registers_proxies_and_searchers(fresh, tmp_path):
    path = plugin_file(tmp_path, "mine", """
        from harness.proxies import Proxy
        from harness.searchers.random import RandomSearch

        def weights(net, inputs, targets, loss_fn):
            return sum(p.numel() for p in net.parameters())

        class Greedy(RandomSearch):
            name = "greedy-random"

        PROXIES = [Proxy.from_function("n_weights", weights, mode=None)]
        SEARCHER = Greedy
    """)
    assert load_plugins([str(path)]) == ["n_weights", "greedy-random"]
    assert "n_weights" in proxy_names() and get_searcher("greedy-random").name == "greedy-random"
    assert load_plugins([str(path)]) == ["n_weights", "greedy-random"]  # loading it again registers nothing twice
    origin = PROXIES.origin("n_weights")
    assert origin.source.startswith("plugin file") and origin.version.startswith(harness.__version__ + "+sha256.")


def test_a_changed_plugin_file_is_a_new_version(fresh, tmp_path, monkeypatch):
    body = "from harness.proxies import Proxy\nPROXY = Proxy.from_function('c', lambda *a: {v}, mode=None)\n"
    path = tmp_path / "c.py"
    path.write_text(body.format(v=1.0))
    load_plugins([str(path)])
    before = PROXIES.origin("c").version
    for attr, value in (("_parts", {}), ("_origins", {}), ("_discovered", False)):
        monkeypatch.setattr(PROXIES, attr, value)
    path.write_text(body.format(v=2.0))
    load_plugins([str(path)])
    assert PROXIES.origin("c").version != before


@pytest.mark.parametrize("body, message", [
    ("X = 1", "defines no PROXY"),
    ("raise RuntimeError('boom')", "failed to import: RuntimeError"),
    ("from harness.proxies import Proxy\nPROXY = Proxy.from_function('synflow', lambda *a: 0.0)",
     "'synflow' is registered twice: by harness.proxies.synflow and by plugin file"),
    ("PROXY = 42", "a proxy is a harness.proxies.Proxy"),
    ("SEARCHER = dict", "a searcher is a subclass of harness.searchers.Searcher"),
])
def test_bad_plugins_are_clear_errors(fresh, tmp_path, body, message):
    with pytest.raises(RegistryError, match=message):
        load_plugins([str(plugin_file(tmp_path, "bad", body))])


def test_a_missing_plugin_is_named(fresh):
    with pytest.raises(RegistryError, match="no_such_plugin_module"):
        load_plugins(["no_such_plugin_module"])
    with pytest.raises(RegistryError, match="not found"):
        load_plugins(["./nowhere.py"])


def test_entry_points_load_skip_broken_ones_and_check_names(monkeypatch, recwarn):
    good = types.ModuleType("ep_good")
    good.PROXY = Proxy.from_function("ep_proxy", lambda *a: 1.0, mode=None)
    sys.modules["ep_good"] = good
    points = [EntryPoint("ep_proxy", "ep_good:PROXY", "nasbench_harness.proxies"),
              EntryPoint("broken", "ep_missing_module:PROXY", "nasbench_harness.proxies")]
    monkeypatch.setattr("harness.registry.entry_points", lambda group: points)
    registry = Registry("proxy", "harness.proxies", "PROXY", lambda p: p)
    assert "ep_proxy" in registry.names() and "synflow" in registry.names()
    assert any(issubclass(w.category, PluginWarning) and "broken" in str(w.message) for w in recwarn)
    with pytest.raises(RegistryError, match="'broken' failed to load from entry point broken"):
        registry.get("broken")  # asked for by name: the failure is the error
    points[:] = [EntryPoint("other_name", "ep_good:PROXY", "nasbench_harness.proxies")]
    with pytest.raises(RegistryError, match="named 'other_name' but defines the proxy 'ep_proxy'"):
        Registry("proxy", "harness.proxies", "PROXY", lambda p: p).names()


def test_proxy_declarations_are_checked():
    with pytest.raises(ValueError, match="shared passes run in train mode"):
        Proxy("x", lambda p: 0.0, needs={"grad"}, bn=False)
    with pytest.raises(ValueError, match="unknown passes"):
        Proxy("x", lambda p: 0.0, needs={"synflow"})
    with pytest.raises(ValueError, match="mode"):
        Proxy("x", lambda p: 0.0, mode="inference")


def test_failing_proxies_score_nan_with_the_reason_and_the_rest_go_on(fresh, tmp_path, tss_oracle, cifar10_batch):
    path = plugin_file(tmp_path, "flaky", """
        import time
        from harness.proxies import Proxy

        def raises(net, inputs, targets, loss_fn):
            raise RuntimeError("no idea")

        def text(net, inputs, targets, loss_fn):
            return "high"

        def slow(net, inputs, targets, loss_fn):
            time.sleep(60)
            return 1.0

        PROXIES = [Proxy.from_function("raises", raises), Proxy.from_function("text", text),
                   Proxy.from_function("slow", slow)]
    """)
    load_plugins([str(path)])
    failures: list[Failure] = []
    names = ["raises", "text", "slow", "synflow"]
    values = score_all(tss_oracle.space, 11, names, "cifar10", cifar10_batch, failures=failures, time_limit_s=5)
    assert all(math.isnan(values[n]) for n in names[:3]) and math.isfinite(values["synflow"])
    reasons = {f.proxy: f.reason for f in failures}
    assert "no idea" in reasons["raises"] and "not a number" in reasons["text"]
    assert "took more than 5 s" in reasons["slow"]
    with pytest.raises(RuntimeError, match="no idea"):  # without a failures list the error propagates
        score_all(tss_oracle.space, 11, ["raises"], "cifar10", cifar10_batch)

    with ResultStore(tmp_path / "s.sqlite") as store:
        got = score_batch(tss_oracle.space, [11, 12], ["raises", "synflow"], "cifar10", cifar10_batch,
                          store=store, failures=(failed := []))
        assert np.isnan(got["raises"]).all() and len(failed) == 2
        key = score_key("raises", tss_oracle.space, "cifar10", cifar10_batch)
        assert store.get_many(key, [11, 12]) == {}  # a failure is not stored: a later run tries again
        assert key.harness_version == PROXIES.origin("raises").version != harness.__version__


def test_a_searcher_asking_outside_the_space_is_named(fresh, tss_oracle):
    class Wild(Searcher):
        name = "wild"

        def ask(self) -> int:
            return 10**9

        def tell(self, arch, valid_acc, seconds) -> None: ...

        def state(self) -> dict:
            return {}

    SEARCHERS.register(Wild, Origin("test", "0"))
    with pytest.raises(ValueError, match="searcher 'wild' asked arch 1000000000, outside tss"):
        run_search("wild", tss_oracle, "cifar10", seed=0)


def test_proxy_conditions_are_applied_and_restored(tss_oracle):
    from harness.networks import build_network

    net = build_network(tss_oracle.space, 11, "cifar10").eval()
    seen = {}

    def look(net, inputs, targets, loss_fn):
        seen.update(training=net.training, dtype=next(net.parameters()).dtype, input=inputs.dtype)
        return 0.0

    Proxy.from_function("look", look, mode="train", dtype=torch.float64)(net, torch.zeros(2, 3, 32, 32),
                                                                       torch.zeros(2, dtype=torch.long))
    assert seen == {"training": True, "dtype": torch.float64, "input": torch.float64}
    assert not net.training and next(net.parameters()).dtype == torch.float32
    assert get_proxy("synflow").bn is False and get_proxy("flops").mode == "eval"
