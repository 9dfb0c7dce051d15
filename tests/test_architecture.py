"""The dependency direction of the packages, read from the imports (ast), as docs/ARCHITECTURE.md draws it.

Every import of one of our packages, at module level or inside a function, is an arrow. An arrow that
ALLOWED does not list fails, and so does any cycle between packages or between the modules of a package.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: dict[str, set[str]] = {
    "scheduler.core": set(),
    "rl": {"scheduler.core"},
    "xai": {"scheduler.core"},
    "scheduler.settings": {"scheduler.core"},
    "scheduler.data": {"scheduler.core"},
    "scheduler.store": {"scheduler.core"},
    "scheduler.timeshift": {"scheduler.data", "scheduler.core"},
    "scheduler.placement": {"scheduler.timeshift", "scheduler.data", "scheduler.core", "scheduler.settings", "rl"},
    "scheduler.service": {
        "scheduler.execution",
        "scheduler.store",
        "scheduler.placement",
        "scheduler.timeshift",
        "scheduler.data",
        "scheduler.core",
        "scheduler.settings",
        "rl",
        "xai",
    },
    "scheduler.execution": {"scheduler.store", "scheduler.placement", "scheduler.timeshift", "scheduler.data", "scheduler.core", "rl"},
    "scheduler.dispatch": {"scheduler.core", "rl"},  # the dispatch study (docs/dispatch.md)
    "scheduler.sim": {"scheduler.placement", "scheduler.timeshift", "scheduler.data", "scheduler.core", "rl"},
    "scheduler.studies": {
        "scheduler.sim",
        "scheduler.placement",
        "scheduler.timeshift",
        "scheduler.data",
        "scheduler.core",
        "scheduler.settings",
        "rl",
    },
    "scheduler.cli": {
        "scheduler.dispatch",
        "scheduler.service",
        "scheduler.execution",
        "scheduler.store",
        "scheduler.studies",
        "scheduler.sim",
        "scheduler.placement",
        "scheduler.timeshift",
        "scheduler.data",
        "scheduler.core",
        "scheduler.settings",
        "rl",
    },
    "scheduler.main": {"scheduler.cli"},  # `python -m scheduler` (scheduler/__main__.py)
    "web": {
        "scheduler.service",
        "scheduler.execution",
        "scheduler.studies",
        "scheduler.sim",
        "scheduler.placement",
        "scheduler.timeshift",
        "scheduler.data",
        "scheduler.core",
        "scheduler.settings",
        "rl",
        "xai",
    },
    "api": {"web", "scheduler.service", "scheduler.placement", "scheduler.settings", "xai"},
}
"""Package -> the packages it may import. `web` may reach the studies (POST /simulate runs them); nothing
imports `web` or `scheduler.cli` but `api` and `python -m scheduler`."""

PRODUCT = ("api.py", "scheduler", "rl", "xai", "web")
OURS = ("scheduler", "rl", "xai", "web", "api")


def package_of(module: str) -> str:
    """The layer a dotted module belongs to: the longest LAYERS key that is a prefix of it."""
    if module == "scheduler":
        return "scheduler.core"  # the namespace's own __init__: a docstring, nothing else
    if module == "scheduler.__main__" or module.startswith("scheduler.evaluate") or module.startswith("scheduler.plan"):
        return "scheduler.main"  # the CLI shims and `python -m scheduler`
    best = max((key for key in LAYERS if module == key or module.startswith(key + ".")), key=len, default=None)
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS"
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    found = {}
    for entry in PRODUCT:
        paths = [ROOT / entry] if entry.endswith(".py") else sorted((ROOT / entry).rglob("*.py"))
        found.update({module_name(p): p for p in paths if "_build" not in p.parts})
    return found


def imports_of(path: Path, module: str) -> set[str]:
    """Every module of ours that `path` imports, resolved to a module name (not to a name inside one)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in OURS}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = product_modules()

    def resolve(name: str) -> str | None:  # "scheduler.core.jobs.JobIn" -> "scheduler.core.jobs"
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    return {
        module: {target for name in imports_of(path, module) if (target := resolve(name)) and target != module}
        for module, path in modules.items()
    }


def test_every_arrow_points_down(graph: dict[str, set[str]]) -> None:
    wrong = sorted(
        f"{source} -> {target}"
        for source, targets in graph.items()
        for target in targets
        if package_of(target) != package_of(source) and package_of(target) not in LAYERS[package_of(source)]
    )
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as its nodes in order, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_cycle_between_packages(graph: dict[str, set[str]]) -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        edges[package_of(source)].update(package_of(t) for t in targets if package_of(t) != package_of(source))
    cycle = find_cycle(edges)
    assert cycle is None, "packages import each other: " + " -> ".join(cycle or [])


def test_no_cycle_between_modules(graph: dict[str, set[str]]) -> None:
    cycle = find_cycle(graph)
    assert cycle is None, "modules import each other: " + " -> ".join(cycle or [])


def test_every_package_says_what_it_is_for_and_what_it_may_import() -> None:
    missing = [
        str(init.relative_to(ROOT))
        for entry in PRODUCT
        if not entry.endswith(".py")
        for init in sorted((ROOT / entry).rglob("__init__.py"))
        if "import" not in (ast.get_docstring(ast.parse(init.read_text())) or "")
    ]
    assert not missing, "packages without a docstring naming what they may import: " + ", ".join(missing)


def test_the_checker_sees_a_wrong_arrow_and_a_cycle() -> None:
    """The test above can fail: an arrow up and a two-package cycle are both reported."""
    assert package_of("scheduler.core.jobs") == "scheduler.core"
    assert "scheduler.service" not in LAYERS[package_of("scheduler.core.jobs")]
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
