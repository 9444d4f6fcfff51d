"""The proxies' rank correlations with 200-epoch test accuracy over the suites' fixed arch sample, read
from a result store that a sweep filled (``python -m harness sweep ... --archs sample:N --store PATH``).

Prints a Markdown table: Spearman and Kendall with 95% bootstrap CIs, top-10% precision, archs used and
non-finite scores, and the image source. ``vote`` is combined from its members' stored scores.

    python benchmarks/proxy_correlations.py --store out/scores.sqlite --dataset cifar10 --archs sample:1000
    python benchmarks/proxy_correlations.py --store out/zc.sqlite --protocol zc2021 --archs sample:3000
"""

from __future__ import annotations

import argparse

from tabulate import tabulate

from harness.bench import load_oracle
from harness.images import load_batch
from harness.metrics.rank import rank_metrics
from harness.protocol import get_protocol
from harness.proxies import RelativeProxy, get_proxy, proxy_names
from harness.scoring import stored_scores
from harness.store import ResultStore
from harness.sweep import parse_archs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--archs", default="sample:1000",
                        help="as the sweep's --archs: sample:N (the suites' fixed sample), reference, ...")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--protocol", default="nats", help="scoring protocol of the stored scores (harness.protocol)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the protocol's")
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--data", default=None)
    args = parser.parse_args()

    oracle = load_oracle("tss", "table", args.data)
    archs = parse_archs(args.archs, oracle.space, args.data)
    accs = oracle.accuracies(args.dataset, "test", 200)[archs]
    batch = load_batch(args.dataset, args.batch_size, args.seed, args.data, protocol=get_protocol(args.protocol))
    per_arch = [n for n in proxy_names() if not isinstance(get_proxy(n), RelativeProxy)]
    with ResultStore(args.store) as store:
        scores = stored_scores(store, oracle.space, archs, per_arch, args.dataset, batch, args.seed)
    rows = []
    lacking = [f"{name} (some archs missing)" for name in per_arch if name not in scores]
    for name in proxy_names():
        proxy = get_proxy(name)
        if isinstance(proxy, RelativeProxy):
            if not all(m in scores for m in proxy.members):
                lacking.append(f"{name} (members missing)")
                continue
            scores[name] = proxy.combine({m: scores[m] for m in proxy.members})
    for name, s in sorted(scores.items()):
        m = rank_metrics(s, accs, n_boot=args.boot, seed=0)
        sp, kt, top = m["spearman"], m["kendall"], m["top10"]
        rows.append([name, f"{sp.value:.3f} [{sp.ci_low:.3f}, {sp.ci_high:.3f}]",
                     f"{kt.value:.3f} [{kt.ci_low:.3f}, {kt.ci_high:.3f}]", f"{top.value:.2f}", m["n"],
                     m["n_nonfinite"]])
    rows.sort(key=lambda r: -float(r[1].split()[0]))
    print(f"TSS {args.dataset}, {len(archs)} archs (--archs {args.archs}), test accuracy @200, protocol "
          f"{batch.protocol.name}, batch {len(batch)}, seed {args.seed}; images: {batch.source}\n")
    print(tabulate(rows, headers=["proxy", "Spearman [95% CI]", "Kendall [95% CI]", "top-10%", "n", "non-finite"],
                   tablefmt="github"))
    for item in lacking:
        print(f"\nnot in the store: {item}")


if __name__ == "__main__":
    main()
