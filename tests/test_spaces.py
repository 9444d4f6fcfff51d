"""Search spaces: encodings, official index order, sampling, mutation and neighbours."""

import itertools

import numpy as np
import pytest

from harness.spaces import OPS, SizeSpace, TopologySpace
from harness.spaces.sss import CHANNELS
from harness.spaces.tss import format_arch


def test_tss_round_trip_every_arch(tss_oracle):
    space = tss_oracle.space
    assert space.size == 15625
    for i in range(space.size):
        s = space.arch(i)
        assert space.index(s) == i
        assert space.decode(space.encode(i)) == i
        assert format_arch(space.ops(i)) == s


def test_tss_index_order_is_official_not_itertools(tss_oracle):
    space = tss_oracle.space
    itertools_order = [format_arch(ops) for ops in itertools.product(OPS, repeat=6)]
    assert sorted(itertools_order) == sorted(space.arch(i) for i in range(space.size))
    assert [space.arch(i) for i in range(20)] != itertools_order[:20]
    # arch 11 of the official records
    assert space.arch(11) == "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"


def test_sss_round_trip_every_arch_is_itertools_order():
    space = SizeSpace()
    assert space.size == 32768
    for i, channels in enumerate(itertools.product(CHANNELS, repeat=5)):
        s = ":".join(map(str, channels))
        assert space.arch(i) == s
        assert space.index(s) == i
        assert space.decode(space.encode(i)) == i


def test_encode_all_matches_encode(tss_oracle):
    for space in (tss_oracle.space, SizeSpace()):
        table = space.encode_all()
        for i in (0, 11, 284, space.size - 1):
            assert tuple(table[i]) == space.encode(i)


@pytest.mark.parametrize("space_name", ["tss", "sss"])
def test_mutation_is_valid_different_and_one_position(space_name, tss_oracle):
    space = tss_oracle.space if space_name == "tss" else SizeSpace()
    rng = np.random.default_rng(0)
    for _ in range(2000):
        i = space.sample(rng)
        j = space.mutate(i, rng)
        assert 0 <= j < space.size and j != i
        assert sum(a != b for a, b in zip(space.encode(i), space.encode(j))) == 1


@pytest.mark.parametrize("space_name", ["tss", "sss"])
def test_neighbours(space_name, tss_oracle):
    space = tss_oracle.space if space_name == "tss" else SizeSpace()
    nbrs = space.neighbours(123)
    assert len(nbrs) == len(set(nbrs)) == space.n_positions * (space.n_choices - 1)
    assert 123 not in nbrs


def test_sampling_is_uniform_enough(tss_oracle):
    rng = np.random.default_rng(1)
    draws = [tss_oracle.space.sample(rng) for _ in range(20000)]
    assert len(set(draws)) > 11000  # ~11,460 distinct expected for 20k uniform draws over 15,625


@pytest.mark.parametrize(
    "arch, part",
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", "expected 3 nodes"),
        ("|conv_5x5~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|", "conv_5x5"),
        ("|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|", "nor_conv_3x3~1"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|", "needs 2 edges"),
        ("nor_conv_3x3~0+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|", "wrapped"),
    ],
)
def test_malformed_tss_arch_names_the_bad_part(arch, part, tss_oracle):
    with pytest.raises(ValueError, match=part):
        tss_oracle.space.index(arch)


@pytest.mark.parametrize("arch, part", [("8:16:24:32", "expected 5"), ("8:16:24:32:65", "'65'")])
def test_malformed_sss_arch_names_the_bad_part(arch, part):
    with pytest.raises(ValueError, match=part):
        SizeSpace().index(arch)


def test_index_out_of_range(tss_oracle):
    with pytest.raises(ValueError, match="15625 out of range"):
        tss_oracle.space.arch(15625)
    with pytest.raises(ValueError, match="-1 out of range"):
        SizeSpace().arch(-1)


def test_tss_rejects_incomplete_arch_list():
    with pytest.raises(ValueError, match="15625"):
        TopologySpace(["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
