"""NATS-Bench search spaces: TSS (topology) and SSS (size)."""

from harness.spaces.base import Arch, SearchSpace, fixed_sample
from harness.spaces.sss import SizeSpace
from harness.spaces.tss import OPS, TopologySpace

SPACES = ("tss", "sss")

__all__ = ["OPS", "SPACES", "Arch", "SearchSpace", "SizeSpace", "TopologySpace", "fixed_sample"]
