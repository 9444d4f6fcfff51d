"""What every NATS-Bench search space offers: a product of categorical choices, addressed by an index."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

Arch = int | str


class SearchSpace(ABC):
    """A product space: ``n_positions`` slots (edges, layers), each with ``n_choices`` options.

    Architectures are addressed by their official index (an ``int``); ``encode`` gives the choice per
    position, ``arch`` the string NATS-Bench prints. Searchers work on indices and encodings only.
    """

    name: str
    choices: tuple[str, ...]  # the options of one position (op names, channel counts as strings)
    n_positions: int
    # What NATS-Bench records for the space; every place whose behaviour depends on the space reads these.
    metrics: ClassVar[frozenset[tuple[str, int]]]  # (metric, epochs) pairs the ground truth holds
    reported: ClassVar[tuple[str, int]]  # what search runs report and proxies are ranked against
    search_hp: ClassVar[int]  # training epochs the search protocol simulates per query
    has_times: ClassVar[bool]  # whether training times are recorded (time budgets), else budgets count queries
    arch_column: ClassVar[str]  # the compact table's column of arch strings
    choice_noun: ClassVar[str]  # what one choice is ("op", "channel"), for labels
    position_noun: ClassVar[str]  # what one position is ("edge", "layer")
    has_train_info: ClassVar[bool] = False  # per-arch training losses exist (TSS archs 0..999)
    published_optima: ClassVar[dict[str, float]] = {}  # dataset -> published best reported accuracy

    def metrics_for(self, dataset: str) -> tuple[tuple[str, int], ...]:
        """The (metric, epochs) pairs the ground truth holds for ``dataset``."""
        return tuple(sorted(self.metrics))

    def check_metric(self, metric: str, epochs: int, dataset: str) -> tuple[str, int]:
        if (metric, epochs) not in self.metrics_for(dataset):
            valid = [f"{m}@{e}" for m, e in self.metrics_for(dataset)]
            raise ValueError(f"{self.name} {dataset} has no {metric!r} accuracy at {epochs} epochs; "
                             f"available: {', '.join(valid)}")
        return metric, int(epochs)

    @abstractmethod
    def net_config(self, arch: Arch, num_classes: int) -> dict[str, Any]:
        """The xautodl network config NATS-Bench's ``get_net_config`` gives for ``arch``."""

    def position_labels(self) -> list[str]:
        """A label per position, for tables and figures."""
        return [f"{self.position_noun} {p}" for p in range(self.n_positions)]

    @property
    def n_choices(self) -> int:
        return len(self.choices)

    @property
    def size(self) -> int:
        return self.space_size()

    @classmethod
    def space_size(cls) -> int:
        """The number of archs, known without the benchmark's arch list (option checks use it)."""
        return len(cls.choices) ** cls.n_positions

    def __len__(self) -> int:
        return self.size

    @abstractmethod
    def _parse(self, arch: str) -> tuple[int, ...]:
        """The encoding of an arch string; ValueError naming the bad part when it is malformed."""

    @abstractmethod
    def _code_to_index(self, codes: np.ndarray) -> np.ndarray:
        """Official indices of mixed-radix codes (position 0 most significant)."""

    @abstractmethod
    def _index_to_code(self, indices: np.ndarray) -> np.ndarray:
        """Mixed-radix codes of official indices."""

    @abstractmethod
    def arch(self, index: Arch) -> str:
        """The arch string of an index."""

    def check_index(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"{self.name} arch index must be an int, got {type(index).__name__}")
        if not 0 <= index < self.size:
            raise ValueError(f"{self.name} arch index {index} out of range [0, {self.size})")
        return int(index)

    def index(self, arch: Arch | Sequence[int]) -> int:
        """Official index of an index, an arch string or an encoding (tuple of choice numbers)."""
        if isinstance(arch, str):
            return self.decode(self._parse(arch))
        if isinstance(arch, (tuple, list, np.ndarray)):
            return self.decode(arch)
        return self.check_index(arch)

    def encode(self, index: Arch) -> tuple[int, ...]:
        """The choice number at each position."""
        code = int(self._index_to_code(np.asarray([self.index(index)]))[0])
        digits = []
        for _ in range(self.n_positions):
            code, digit = divmod(code, self.n_choices)
            digits.append(digit)
        return tuple(reversed(digits))

    def decode(self, encoding: Sequence[int]) -> int:
        """The index of an encoding; ValueError when its length or a choice is out of range."""
        enc = [int(e) for e in encoding]
        if len(enc) != self.n_positions:
            raise ValueError(f"{self.name} encoding needs {self.n_positions} positions, got {len(enc)}")
        code = 0
        for pos, e in enumerate(enc):
            if not 0 <= e < self.n_choices:
                raise ValueError(f"{self.name} position {pos}: choice {e} out of range [0, {self.n_choices})")
            code = code * self.n_choices + e
        return int(self._code_to_index(np.asarray([code]))[0])

    def encode_all(self) -> np.ndarray:
        """(size, n_positions) choice numbers of every index, for vectorised analysis."""
        codes = self._index_to_code(np.arange(self.size))
        weights = self.n_choices ** np.arange(self.n_positions - 1, -1, -1)
        return (codes[:, None] // weights[None, :]) % self.n_choices

    def sample(self, rng: np.random.Generator) -> int:
        """A uniformly random index."""
        return int(rng.integers(self.size))

    def mutate(self, index: Arch, rng: np.random.Generator) -> int:
        """Change one position to a different choice (NATS-Bench's single-edge / single-layer mutation)."""
        enc = list(self.encode(index))
        pos = int(rng.integers(self.n_positions))
        offset = int(rng.integers(1, self.n_choices))
        enc[pos] = (enc[pos] + offset) % self.n_choices
        return self.decode(enc)

    def neighbours(self, index: Arch) -> list[int]:
        """Every index that differs in exactly one position."""
        enc = self.encode(index)
        out = []
        for pos in range(self.n_positions):
            for c in range(self.n_choices):
                if c != enc[pos]:
                    out.append(self.decode(enc[:pos] + (c,) + enc[pos + 1 :]))
        return out


FIXED_SAMPLE_SEED = 201


def fixed_sample(space: SearchSpace, n: int) -> np.ndarray:
    """The first ``n`` indices of the space's one fixed seeded permutation.

    Suites, sweeps and reports all draw their arch samples here, so a smaller sample is a subset of a larger
    one and scores cached by a sweep serve every later suite run.
    """
    if not 0 < n <= space.size:
        raise ValueError(f"arch sample size {n} must be in 1..{space.size} for {space.name}")
    return np.random.default_rng(FIXED_SAMPLE_SEED).permutation(space.size)[:n]
