"""bench/ imports go one way (registry -> cases -> shared helpers), and only tests, bench and docs import it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
PRODUCT = ("api.py", "scheduler", "rl", "xai", "web")


def imported(path: Path) -> set[str]:
    """Top-level and dotted module names `path` imports (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def bench_graph() -> dict[str, set[str]]:
    modules = {f"bench.{p.stem}": p for p in BENCH.glob("*.py") if p.stem != "__init__"}
    return {name: {m for m in imported(path) if m in modules} for name, path in modules.items()}


def test_bench_imports_have_no_cycle() -> None:
    graph = bench_graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for target in graph[module]:
                visit(target, (*path, module))
            done.add(module)

    for module in graph:
        visit(module, ())


def test_only_the_registry_and_the_runner_import_the_registry_or_cases() -> None:
    for module, targets in bench_graph().items():
        cases = {t for t in targets if t == "bench.cases" or t.startswith("bench.case_")}
        if module == "bench.__main__":
            assert cases == {"bench.cases"}, cases
        elif module != "bench.cases":
            assert not cases, f"{module} imports {cases}: a case or helper must not import cases or another case"


def test_no_product_module_imports_bench() -> None:
    files = [ROOT / "api.py"] + [p for top in PRODUCT[1:] for p in (ROOT / top).rglob("*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in files if any(m == "bench" or m.startswith("bench.") for m in imported(p))]
    assert offenders == []
