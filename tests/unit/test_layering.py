"""The packages' layering, read from the source: the runtime packages (`pos_app`,
`stream_jobs`) import nothing from the local-stack tooling (`stack`) or the command line
(`posctl`), and no two parts of them import each other, directly or round a loop. A part
is a subpackage or top-level module (`pos_app.auth`, `pos_app.templating`,
`stream_jobs.sinks`). Imports inside functions count: they run too."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from pos_app.settings import REPO_ROOT

RUNTIME = ("pos_app", "stream_jobs")
TOOLING = ("stack", "posctl")
# Entry points that start the stream job or the rebuild from the app's command line.
MAY_IMPORT_STREAM_JOBS = {"pos_app.cli"}

Graph = dict[str, dict[str, list[str]]]  # part -> part it imports -> the modules that do


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """pos_app.auth.routes -> pos_app.auth; stack.install -> stack."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] in RUNTIME and len(parts) > 1 else parts[0]


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from pos_app import money` imports the module pos_app.money
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in RUNTIME + TOOLING}


def import_graph(packages: tuple[str, ...] = RUNTIME) -> Graph:
    graph: Graph = defaultdict(lambda: defaultdict(list))
    for package in packages:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            module = _module_name(path)
            source = part_of(module)
            for target in imported_modules(path):
                # The bare package (`from pos_app import money`) is only its empty __init__.
                if target not in RUNTIME and part_of(target) != source:
                    graph[source][part_of(target)].append(module)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected parts that import each other round a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def _explain(graph: Graph, component: list[str]) -> str:
    return "; ".join(
        f"{module} -> {target}"
        for source in component
        for target, modules in graph[source].items()
        if target in component
        for module in modules
    )


def test_no_import_cycle_between_parts_of_the_runtime() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "\n".join(f"{c}: {_explain(graph, c)}" for c in found)


def test_the_runtime_imports_nothing_from_the_tooling() -> None:
    graph = import_graph()
    offending = {
        f"{module} -> {target}"
        for targets in graph.values()
        for target, modules in targets.items()
        if target in TOOLING
        for module in modules
    }
    assert not offending, sorted(offending)


def test_the_app_imports_the_stream_job_only_from_its_command_line() -> None:
    graph = import_graph()
    offending = {
        f"{module} -> {target}"
        for source, targets in graph.items()
        if source.startswith("pos_app") and source not in MAY_IMPORT_STREAM_JOBS
        for target, modules in targets.items()
        if target.startswith("stream_jobs")
        for module in modules
    }
    assert not offending, sorted(offending)


def test_the_checks_see_a_cycle_and_a_tooling_import() -> None:
    """The checks above would fail on what they look for (as they did on issue 18's
    templating <-> auth loop and the stream job's use of stack.install)."""
    graph: Graph = {
        "pos_app.templating": {"pos_app.auth": ["pos_app.templating"]},
        "pos_app.auth": {"pos_app.templating": ["pos_app.auth.routes"]},
        "pos_app.money": {},
    }
    assert cycles(graph) == [["pos_app.auth", "pos_app.templating"]]
    assert part_of("stream_jobs.sales_stream") == "stream_jobs.sales_stream"
    assert part_of("stack.install") == "stack"
    assert imported_modules(REPO_ROOT / "posctl" / "cli.py") >= {"stack.install", "pos_app.cli"}
