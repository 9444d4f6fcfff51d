"""nasbench-harness command line: data checks, sweeps, the baseline gate and reports.

A thin face over the library; each command is a module in ``harness/commands`` with ``add_arguments(parser)``,
``run(args) -> int`` and a docstring."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import harness.commands


def _commands() -> dict[str, object]:
    return {
        m.name: importlib.import_module(f"harness.commands.{m.name}")
        for m in pkgutil.iter_modules(harness.commands.__path__)
        if not m.name.startswith("_")
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="examples:\n  python -m harness bench --proxies synflow,nwot --datasets "
                                            "cifar10\n  python -m harness gate RUN.json --strict\n"
                                            "  python -m harness <command> --help")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in sorted(_commands().items()):
        doc = (module.__doc__ or name).strip()
        p = sub.add_parser(name, help=doc.splitlines()[0], description=doc,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--data", default=None,
                       help="benchmark data root (default: $HARNESS_DATA_DIR)")
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"] and not {"-h", "--help"} & set(argv[1:]):  # pytest's options, verbatim
        from harness.commands import bench

        return bench.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ValueError, OSError) as exc:  # bad input or an unusable path: a message, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
