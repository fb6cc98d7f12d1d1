"""The architecture, checked: every import of every product module read with ``ast`` (also those
inside functions, ``importlib.import_module("...")`` arguments and strings that name one of our
modules, as lazy-import tables do), then

- no import cycle between modules;
- imports run one way (see ``ALLOWED``): ``cli -> jobs -> collectors, analysis, store, measures -> core``
  and ``dashboard -> measures -> analysis, store``; collectors and analysis import only the kernel;
  the kernel imports nothing of ours outside itself; only the CLI starts the dashboard;
- no product module over ``MAX_LINES`` lines.

A failure names the module, the line and the import.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dipwatch", "collectors", "analysis", "dashboard")
MAX_LINES = 600
LONG_ALLOWED: set[str] = set()  # none: every product module is under MAX_LINES

# Layers by dotted-name prefix, the longest prefix wins.
LAYERS = {
    "dipwatch": "core",  # the package itself holds only __version__
    "dipwatch.core": "core",
    "dipwatch.resources": "core",
    "collectors": "collectors",
    "analysis": "analysis",
    "dipwatch.store": "store",
    "dipwatch.measures": "measures",
    "dipwatch.jobs": "jobs",
    "dipwatch.cli": "cli",
    "dashboard": "dashboard",
}
# Which layers each layer may import (its own included). The CLI may start the dashboard.
ALLOWED = {
    "core": {"core"},
    "collectors": {"collectors", "core"},
    "analysis": {"analysis", "core"},
    "store": {"store", "core"},
    "measures": {"measures", "analysis", "store", "core"},
    "jobs": {"jobs", "collectors", "analysis", "store", "measures", "core"},
    "dashboard": {"dashboard", "measures", "analysis", "store", "core"},
    "cli": {"cli", "jobs", "collectors", "analysis", "store", "measures", "core", "dashboard"},
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    path: str  # its file, relative to the root
    line: int
    target: str  # the module imported
    text: str  # the import as written


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name, or None when it is not ours."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:end]))
        if layer:
            return layer
    return None


def product_files(root: Path) -> dict[str, Path]:
    """Every product module under ``root``, by dotted name."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, root: Path, known: set[str]) -> list[Import]:
    """The imports of one module, resolved to the modules of ours they load."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, str(path))
    lines = source.splitlines()
    relpath = path.relative_to(root).as_posix()
    found = []

    def add(node: ast.AST, target: str) -> None:
        text = lines[node.lineno - 1].strip()
        found.append(Import(module, relpath, node.lineno, target, text))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, alias.name)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, path.name == "__init__.py", node)
            for alias in node.names:  # `from dipwatch import store_lite` imports a module
                sub = f"{target}.{alias.name}"
                add(node, sub if sub in known else target)
        elif isinstance(node, ast.Call) and _is_import_module(node.func):
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                add(node, argument.value)
            elif isinstance(argument, ast.JoinedStr):  # f"dipwatch.cli.{name}": its literal prefix
                prefix = "".join(v.value for v in argument.values if isinstance(v, ast.Constant))
                add(node, prefix.rstrip("."))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # A table of lazy imports ("dipwatch.cli.status:status", as the CLI's command table
            # holds): a string naming one of our modules counts as importing it.
            named = node.value.partition(":")[0]
            if named in known and named != module:
                add(node, named)
    return [i for i in found if layer_of(i.target)]


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id == "import_module")


def all_imports(root: Path) -> tuple[dict[str, Path], list[Import]]:
    modules = product_files(root)
    known = set(modules)
    found = [i for name, path in modules.items() for i in imports_of(name, path, root, known)]
    return modules, found


def layer_violations(found: list[Import]) -> list[str]:
    problems = []
    for imp in found:
        source, target = layer_of(imp.module), layer_of(imp.target)
        if target not in ALLOWED[source]:
            problems.append(f"{imp.path}:{imp.line}: {imp.module} ({source}) imports {imp.target} "
                            f"({target}), against the layers: `{imp.text}`")
    return problems


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The module of ours an import loads (``dipwatch.store.Outage`` style names: the module)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def cycles(modules: dict[str, Path], found: list[Import]) -> list[str]:
    """Each import cycle between modules, once, as the chain of import lines that closes it."""
    edges: dict[str, dict[str, Import]] = {name: {} for name in modules}
    for imp in found:
        target = _resolve(imp.target, modules)
        if target and target != imp.module:
            edges[imp.module].setdefault(target, imp)
    # Tarjan's strongly connected components: a component of more than one module holds a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    problems = []
    for component in components:
        members = set(component)
        chain = [f"{imp.path}:{imp.line}: `{imp.text}`"
                 for name in component for target, imp in edges[name].items() if target in members]
        problems.append(f"import cycle between {', '.join(component)}:\n    " + "\n    ".join(chain))
    return problems


def long_modules(root: Path, modules: dict[str, Path], allowed: set[str]) -> list[str]:
    problems = []
    for path in modules.values():
        relpath = path.relative_to(root).as_posix()
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES and relpath not in allowed:
            problems.append(f"{relpath}: {count} lines, over {MAX_LINES}; split it by concept")
    return problems


@pytest.fixture(scope="module")
def product():
    return all_imports(ROOT)


def test_every_module_of_ours_has_a_layer(product):
    modules, _ = product
    assert [name for name in modules if layer_of(name) is None] == []


def test_no_import_cycle(product):
    problems = cycles(*product)
    assert not problems, "\n".join(problems)


def test_imports_follow_the_layers(product):
    problems = layer_violations(product[1])
    assert not problems, "\n".join(problems)


def test_no_module_over_the_line_limit(product):
    problems = long_modules(ROOT, product[0], LONG_ALLOWED)
    assert not problems, "\n".join(problems)


# The checker itself can fail: a planted tree with a cycle, a back-import and a long module.
def _plant(root: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_finds_a_planted_cycle_and_back_imports(tmp_path):
    _plant(tmp_path, {
        "dipwatch/__init__.py": "",
        "dipwatch/core/__init__.py": "",
        "dipwatch/core/records.py": "def load():\n    from dipwatch.jobs import ingest\n",
        "dipwatch/jobs/__init__.py": "",
        "dipwatch/jobs/ingest.py": "from dipwatch.core import records\nfrom . import collect\n",
        "dipwatch/jobs/collect.py": "from dipwatch.jobs.ingest import save\n",
        "dipwatch/cli/__init__.py": "",
        "collectors/__init__.py": "",
        "collectors/files.py": "import importlib\nimportlib.import_module('dipwatch.store')\n",
        "collectors/lazy.py": "LATER = {'app': 'dashboard.app:create_app'}\n",
        "analysis/__init__.py": "from collectors import files\n",
        "dashboard/__init__.py": "",
        "dashboard/app.py": "from dipwatch.cli import main\n" + "x = 1\n" * (MAX_LINES + 1),
    })
    modules, found = all_imports(tmp_path)
    found_cycles = cycles(modules, found)
    assert len(found_cycles) == 1  # core.records -> jobs.ingest <-> jobs.collect -> ...: one component
    assert any("dipwatch.jobs.collect" in c and "dipwatch/jobs/ingest.py:2: `from . import collect`" in c
               for c in found_cycles)
    problems = "\n".join(layer_violations(found))
    assert "dipwatch/core/records.py:2: dipwatch.core.records (core) imports dipwatch.jobs.ingest" in problems
    assert "collectors/files.py:2: collectors.files (collectors) imports dipwatch.store (store)" in problems
    assert "analysis (analysis) imports collectors.files (collectors)" in problems
    assert "dashboard.app (dashboard) imports dipwatch.cli (cli)" in problems
    assert "collectors/lazy.py:1: collectors.lazy (collectors) imports dashboard.app (dashboard)" in problems
    assert long_modules(tmp_path, modules, set()) == [
        f"dashboard/app.py: {MAX_LINES + 2} lines, over {MAX_LINES}; split it by concept"]
