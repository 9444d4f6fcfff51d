"""NATS-Bench size search space (SSS): channel counts of 5 layers, each from {8, 16, ..., 64}."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.spaces.base import Arch, SearchSpace

CHANNELS = (8, 16, 24, 32, 40, 48, 56, 64)
# The cell every SSS arch uses (the ``genotype`` of every SSS record's arch_config).
GENOTYPE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


class SizeSpace(SearchSpace):
    """SSS; index = itertools.product order of the channel lists (first layer most significant)."""

    name = "sss"
    choices = tuple(str(c) for c in CHANNELS)
    n_positions = 5
    metrics = frozenset({("valid", 90)})  # the 90-epoch run's x-valid, training seed 777 only
    reported = ("valid", 90)
    search_hp = 90
    has_times = False
    arch_column = "channels"
    choice_noun, position_noun = "channel", "layer"

    def net_config(self, arch: Arch, num_classes: int) -> dict[str, Any]:
        """The ``infer.shape.tiny`` net with the five channel counts and the fixed SSS cell."""
        return {"name": "infer.shape.tiny", "channels": self.arch(arch), "genotype": GENOTYPE,
                "num_classes": num_classes}

    def _parse(self, arch: str) -> tuple[int, ...]:
        parts = arch.split(":")
        if len(parts) != self.n_positions:
            raise ValueError(f"SSS arch {arch!r}: expected {self.n_positions} channel counts joined by ':'")
        enc = []
        for layer, p in enumerate(parts):
            if p not in self.choices:
                raise ValueError(
                    f"SSS arch {arch!r}: layer {layer} channels {p!r} not in {{{', '.join(self.choices)}}}"
                )
            enc.append(self.choices.index(p))
        return tuple(enc)

    def _code_to_index(self, codes: np.ndarray) -> np.ndarray:
        return codes

    def _index_to_code(self, indices: np.ndarray) -> np.ndarray:
        return indices

    def arch(self, index: Arch) -> str:
        return ":".join(self.choices[e] for e in self.encode(index))

    def channels(self, index: Arch) -> tuple[int, ...]:
        return tuple(CHANNELS[e] for e in self.encode(index))
