"""The three NATS-Bench datasets and the metrics the ground truth holds for each space."""

from __future__ import annotations

from functools import cache

from harness.errors import unknown_name

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}

# (metric, epochs) pairs each space's ground truth holds. 'valid' on cifar10 is the cifar10-valid run's
# x-valid; 'valtest' is the ori-test accuracy of cifar100 / ImageNet16-120 runs.
METRICS = {
    "tss": {("test", 200), ("test", 12), ("valid", 12), ("valid", 200), ("valtest", 200)},
    "sss": {("valid", 90)},
}

# Evaluation-set size over test-set size: NATS-Bench's valid time per epoch is the test time per epoch
# times this (cifar10-valid: 25,000 valid vs 10,000 test images; cifar100 / ImageNet16-120: x-valid and
# x-test are equal halves of ori-test).
VALID_PER_TEST = {"cifar10": 2.5, "cifar100": 1.0, "ImageNet16-120": 1.0}


def check_dataset(name: str) -> str:
    if name not in DATASETS:
        raise unknown_name("dataset", name, DATASETS)
    return name


@cache
def metrics_for(space: str, dataset: str) -> tuple[tuple[str, int], ...]:
    """The (metric, epochs) pairs NATS-Bench has for a dataset: cifar10 has no valtest run, the others no
    200-epoch validation split of their own."""
    absent = {("valtest", 200)} if dataset == "cifar10" else {("valid", 200)}
    return tuple(sorted(METRICS[space] - absent if space == "tss" else METRICS[space]))


def check_metric(space: str, metric: str, epochs: int, dataset: str) -> tuple[str, int]:
    if (metric, epochs) not in metrics_for(space, dataset):
        valid = [f"{m}@{e}" for m, e in metrics_for(space, dataset)]
        raise ValueError(
            f"{space} {dataset} has no {metric!r} accuracy at {epochs} epochs; available: {', '.join(valid)}"
        )
    return metric, int(epochs)
