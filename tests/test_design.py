"""The import direction of docs/design.md holds: every module imports only modules of a lower layer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| (\d+) \| `(harness[\w.]*)` \|", re.MULTILINE)


def layers() -> dict[str, int]:
    return {module: int(layer) for layer, module in ROW.findall((ROOT / "docs" / "design.md").read_text())}


def owner(module: str, table: dict[str, int]) -> str:
    """The listed module a (sub)module belongs to: the longest listed prefix."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in table:
            return ".".join(parts[:n])
    raise AssertionError(f"{module} is in no layer of docs/design.md")


def imports(path: Path) -> set[str]:
    """harness modules imported anywhere in the file (function-level imports too), except under
    ``if TYPE_CHECKING:`` (annotations only)."""
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and getattr(node.test, "id", None) == "TYPE_CHECKING" for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "harness":
            for alias in node.names:  # `from harness import baselines` imports a module
                sub = ROOT.joinpath(*node.module.split("."), alias.name)
                is_module = sub.with_suffix(".py").is_file() or sub.is_dir()
                out.add(f"{node.module}.{alias.name}" if is_module else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "harness"}
    return out


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_has_a_layer_and_imports_downwards():
    table = layers()
    assert len(table) > 20, "docs/design.md lost its module table"
    against = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        me = owner(module_name(path), table)
        for target in imports(path):
            other = owner(target, table)
            if other != me and table[other] >= table[me]:
                against.append(f"{module_name(path)} (layer {table[me]}) imports {target} (layer {table[other]})")
    assert not against, "imports against docs/design.md's direction:\n" + "\n".join(against)


def test_the_check_sees_an_upward_import(tmp_path):
    table = layers()
    assert table[owner("harness.spaces.tss", table)] < table[owner("harness.report.page", table)]
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from harness.report import write_report\n")
    assert imports(bad) == {"harness.report"}
