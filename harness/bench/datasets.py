"""The three NATS-Bench datasets."""

from __future__ import annotations

from harness.errors import unknown_name

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}

# Evaluation-set size over test-set size: NATS-Bench's valid time per epoch is the test time per epoch
# times this (cifar10-valid: 25,000 valid vs 10,000 test images; cifar100 / ImageNet16-120: x-valid and
# x-test are equal halves of ori-test).
VALID_PER_TEST = {"cifar10": 2.5, "cifar100": 1.0, "ImageNet16-120": 1.0}


def check_dataset(name: str) -> str:
    if name not in DATASETS:
        raise unknown_name("dataset", name, DATASETS)
    return name
