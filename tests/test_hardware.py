"""Hardware-aware search: the latency limit, two objectives, the Pareto front and its hypervolume."""

from __future__ import annotations

import numpy as np
import pytest

from harness.hardware import Hardware, front, hv_regret
from harness.metrics.pareto import hypervolume, pareto_mask
from harness.runner import run_search


def test_limit_parses_and_rejects_malformed_text():
    assert Hardware.limit("pixel3<=10") == Hardware("pixel3", 10.0)
    assert Hardware.limit(" titan_rtx_1 <= 2.5ms ").mode == "titan_rtx_1-le-2.5ms"
    assert Hardware("fpga").mode == "fpga-pareto"
    for bad in ("pixel3<10", "pixel3<=", "pixel3<=-1", "pixel3<=nan", "<=3", "pixel3<=1e"):
        with pytest.raises(ValueError, match="expected a latency limit like 'pixel3<=10'"):
            Hardware.limit(bad)


def test_unknown_device_lists_the_27(tss_oracle):
    with pytest.raises(ValueError, match="unknown device 'iphone'; valid devices: 1080ti_1, ") as info:
        run_search("rea", tss_oracle, "cifar10", seed=0, hardware=Hardware.limit("iphone<=5"))
    assert len(str(info.value).split(": ", 1)[1].split(", ")) == 27


def test_sss_has_no_latencies(sss_oracle):
    with pytest.raises(ValueError, match="no latencies for sss"):
        run_search("rea", sss_oracle, "cifar10", seed=0, hardware=Hardware.limit("pixel3<=5"))


def test_infeasible_limit_is_an_error_before_the_run(tss_oracle):
    fastest = tss_oracle.latencies("fpga").min()
    with pytest.raises(ValueError, match=r"no tss arch meets latency\(fpga\) <= 0.5 ms \(the fastest takes"):
        run_search("random", tss_oracle, "cifar10", seed=0, hardware=Hardware("fpga", 0.5))
    assert fastest > 0.5


@pytest.mark.parametrize("searcher", ["random", "rea", "optuna-tpe"])
def test_constrained_run_reports_only_feasible_archs_and_pays_only_for_them(tss_oracle, searcher):
    hw = Hardware.limit("pixel3<=5")
    lat = tss_oracle.latencies("pixel3")
    traj = run_search(searcher, tss_oracle, "cifar10", seed=1, hardware=hw)
    assert traj.mode == "pixel3-le-5ms" and traj.n_rejected > 0
    assert (lat[traj.archs] <= 5).all()  # only feasible archs were trained (and so charged)
    seconds = [tss_oracle.simulate_train_eval(int(a), "cifar10")[1] for a in traj.archs]
    assert traj.times == pytest.approx(np.cumsum(seconds))
    _, optimum = hw.optimum(tss_oracle, tss_oracle.accuracies("cifar10"))
    assert traj.final_reported <= optimum < tss_oracle.best("cifar10")[1]


def test_constrained_optimum_is_the_best_feasible_arch(tss_oracle):
    acc, lat = tss_oracle.accuracies("cifar100"), tss_oracle.latencies("raspi4")
    index, value = Hardware("raspi4", 20.0).optimum(tss_oracle, acc)
    assert lat[index] <= 20 and value == acc[lat <= 20].max()


def test_pareto_mask_and_hypervolume_by_hand():
    acc = np.array([90.0, 92.0, 91.0, 95.0, 95.0, np.nan])
    lat = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 0.5])
    assert pareto_mask(acc, lat).tolist() == [True, True, False, True, False, False]
    # staircase from latency 1 to the reference 6 over accuracy 80: 10*1 + 12*2 + 15*2
    assert hypervolume(acc, lat, 80.0, 6.0) == pytest.approx(64.0)
    assert hypervolume(acc[:0], lat[:0], 80.0, 6.0) == 0.0


def test_hv_regret_is_zero_for_the_true_front_and_positive_for_a_search(tss_oracle):
    acc, lat = tss_oracle.accuracies("cifar10"), tss_oracle.latencies("fpga")
    true = np.flatnonzero(pareto_mask(acc, lat))
    assert hv_regret(true, acc, lat) == pytest.approx(0.0)
    traj = run_search("optuna-nsga2", tss_oracle, "cifar10", seed=0, hardware=Hardware("fpga"))
    found = front(traj.archs, traj.valid_accs, lat)
    assert 0.0 < hv_regret(found, acc, lat) < 1.0
