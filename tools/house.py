"""Measure the house rules of ARCHITECTURE.md from the code: ``python tools/house.py``.

* the longest functions (lines, from ``ast``) and those with the most parameters;
* the longest modules;
* import circles between the package's modules (imports anywhere in a module count,
  also those inside functions: a circle through a lazy import is still a circle).

Exit 1 when a limit is passed (``--check``), so that the rules can gate CI once met.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rebalance"
LIMITS = {"function_lines": 120, "command_lines": 80, "parameters": 15, "module_lines": 800}


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def functions(tree: ast.AST) -> list[tuple[str, int, int]]:
    """(qualified name, lines, parameters) of every function and method."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                args = child.args
                count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
                count += bool(args.vararg) + bool(args.kwarg)
                if args.args and args.args[0].arg in ("self", "cls"):
                    count -= 1
                lines = (child.end_lineno or child.lineno) - child.lineno + 1
                found.append((f"{prefix}{child.name}", lines, count))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return found


def imports(name: str, tree: ast.AST, known: set[str]) -> set[str]:
    """The package modules that ``name`` imports (anywhere in it)."""
    out = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                parent = name.split(".")[: -node.level] if not name.endswith("__init__") else []
                base = ".".join([*parent, node.module])
            targets = [base, *(f"{base}.{a.name}" for a in node.names)]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target != "rebalance":
                out.add(target)
    return out


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def measure() -> dict[str, object]:
    """Every function (name, lines, parameters), module lengths, circles, and what is over."""
    found = modules()
    trees = {name: ast.parse(path.read_text()) for name, path in found.items()}
    lengths = {name: len(path.read_text().splitlines()) for name, path in found.items()}
    rows = [
        (f"{name}.{f}", lines, params)
        for name, t in trees.items()
        for f, lines, params in functions(t)
    ]
    graph = {name: imports(name, tree, set(found)) for name, tree in trees.items()}
    commands = [r for r in rows if r[0].startswith("rebalance.cli") and r[0].endswith("_command")]
    over = {
        "functions over 120 lines": [r for r in rows if r[1] > LIMITS["function_lines"]],
        "commands over 80 lines": [r for r in commands if r[1] > LIMITS["command_lines"]],
        # a command's parameters are its flags (one line each): its lines are its limit
        "functions over 15 parameters": [
            r for r in rows if r[2] > LIMITS["parameters"] and r not in commands
        ],
        "modules over 800 lines": [
            (n, v, 0) for n, v in lengths.items() if v > LIMITS["module_lines"]
        ],
    }
    return {
        "rows": rows,
        "commands": commands,
        "lengths": lengths,
        "circles": circles(graph),
        "over": over,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a limit is passed")
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    found = measure()
    rows, commands = found["rows"], found["commands"]
    lengths, groups, over = found["lengths"], found["circles"], found["over"]
    assert isinstance(rows, list) and isinstance(commands, list)
    assert isinstance(lengths, dict) and isinstance(groups, list) and isinstance(over, dict)
    print("longest functions:")
    for name, lines, params in sorted(rows, key=lambda r: -r[1])[: args.top]:
        print(f"  {lines:5d} lines  {params:3d} params  {name}")
    print("most parameters (commands aside: their parameters are their flags):")
    library = [r for r in rows if r not in commands]
    for name, lines, params in sorted(library, key=lambda r: -r[2])[: args.top]:
        print(f"  {params:5d} params {lines:4d} lines  {name}")
    print("longest modules:")
    for name, n in sorted(lengths.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {n:5d} lines  {name}")
    print("import circles:" if groups else "import circles: none")
    for group in groups:
        print("  " + " ↔ ".join(group))
    failed = False
    for what, items in over.items():
        print(f"{what}: {len(items)}")
        failed = failed or bool(items)
    return 1 if args.check and (failed or groups) else 0


if __name__ == "__main__":
    sys.exit(main())
