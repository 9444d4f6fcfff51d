"""Regularized evolution whose mutation changes two positions at once (a larger step than NATS-Bench's
single-edge mutation), to see whether bolder moves help or hurt on NATS-Bench."""

from harness.searchers.rea import RegularizedEvolution


class DoubleMutationREA(RegularizedEvolution):
    """REA (population 10, tournament 3) whose children are two successive single mutations of the parent."""

    name = "rea-double"

    def ask(self) -> int:
        if len(self.population) < self.population_size:
            return self.space.sample(self.rng)
        picks = self.rng.integers(len(self.population), size=self.sample_size)
        parent = max((self.population[i] for i in picks), key=lambda m: m[1])
        child = self.space.mutate(parent[0], self.rng)
        return self.space.mutate(child, self.rng)


SEARCHER = DoubleMutationREA
