"""NATS-Bench search spaces: TSS (topology) and SSS (size), and what the benchmark records for each."""

from harness.spaces.base import Arch, SearchSpace, fixed_sample
from harness.spaces.sss import SizeSpace
from harness.spaces.tss import OPS, TopologySpace

SPACE_CLASSES: dict[str, type[SearchSpace]] = {"tss": TopologySpace, "sss": SizeSpace}
SPACES = tuple(SPACE_CLASSES)

__all__ = ["OPS", "SPACES", "SPACE_CLASSES", "Arch", "SearchSpace", "SizeSpace", "TopologySpace", "fixed_sample"]
