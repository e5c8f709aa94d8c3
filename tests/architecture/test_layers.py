"""Layers point down: the import-linter contract in pyproject.toml, no import cycle, and string
imports (lazy modules, the package's export table) checked against the same order.

The contract (``[tool.importlinter]``) lists the layers top first; docs/how_it_works.md draws
the same diagram. Imports inside functions count (grimp sees them); imports under
``TYPE_CHECKING`` do not. The contract ignores no import.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

import featurekit

REPO = Path(__file__).resolve().parents[2]
PACKAGE = Path(featurekit.__file__).parent

NOT_IN_A_LAYER = {
    "featurekit": "the public API: imports udf and, through its export table, the layers listed there",
    "featurekit.ir": "a package docstring: the ir layers are ir.nodes, ir.analysis and ir.ops",
    "featurekit.artifact": "a package docstring: reading (artifact.load) sits above transform, writing below it",
}
ROOT_BELOW = "diff | testing"
"""The package itself (``import featurekit as fk``) sits just below this layer: what it exports
must come from lower layers, and only this layer and higher ones may import it."""

_MODULE_STRING = re.compile(r"^featurekit(\.[A-Za-z_]\w*)+(:[A-Za-z_]\w*)?$")


def _contract() -> dict:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    return contract


def _layers() -> list[list[str]]:
    """Bottom first: each layer's module names."""
    layers = [[f"featurekit.{tail.strip()}" for tail in re.split(r"[|:]", layer)] for layer in _contract()["layers"]]
    return layers[::-1]


def _position(module: str) -> tuple[int, str] | None:
    """(layer index from the bottom, the layer member holding ``module``), by longest prefix."""
    best: tuple[int, str] | None = None
    for index, members in enumerate(_layers()):
        for member in members:
            if module == member or module.startswith(member + "."):
                if best is None or len(member) > len(best[1]):
                    best = (index, member)
    return best


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("featurekit", exclude_type_checking_imports=True, cache_dir=None)


def test_the_graph_is_of_this_checkout() -> None:
    assert PACKAGE == REPO / "featurekit", f"featurekit imported from {PACKAGE}, not {REPO}: set PYTHONPATH"


def test_layers_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [str(lint), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "1 kept, 0 broken" in run.stdout


def test_the_contract_ignores_no_import() -> None:
    assert not _contract().get("ignore_imports"), "fix the upward import instead of ignoring it"


def test_every_module_has_a_layer(graph: grimp.ImportGraph) -> None:
    homeless = sorted(m for m in graph.modules if m not in NOT_IN_A_LAYER and _position(m) is None)
    assert not homeless, f"add these modules to a layer in pyproject.toml and docs/how_it_works.md: {homeless}"
    assert not graph.find_modules_directly_imported_by("featurekit.ir")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
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
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_import_cycle(graph: grimp.ImportGraph) -> None:
    shown = []
    for component in _cycles(graph):
        a, b = component[0], component[1]
        there = graph.find_shortest_chain(importer=a, imported=b) or ()
        back = graph.find_shortest_chain(importer=b, imported=a) or ()
        shown.append(" -> ".join([*there, *back[1:]]))
    assert not shown, "import cycles (imports inside functions count):\n" + "\n".join(shown)


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]
    graph.remove_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == []


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _string_imports() -> list[tuple[str, str, int]]:
    """(importer, target module, line) for every string constant naming a featurekit module:
    ``lazy("featurekit.x")``, the export table's values, ``"module:Class"`` registrations."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_STRING.match(node.value):
                found.append((_module_name(path), node.value.split(":")[0], node.lineno))
    return found


def _root_layer() -> int:
    """The index of the layer the package itself sits just below (``ROOT_BELOW``)."""
    names = [" | ".join(m[len("featurekit.") :] for m in members) for members in _layers()]
    return names.index(ROOT_BELOW)


def test_string_imports_point_down(graph: grimp.ImportGraph) -> None:
    imports = _string_imports()
    pairs = {(a, b) for a, b, _ in imports}
    assert ("featurekit.ir.ops.logic", "featurekit.analyzers") in pairs  # the scan sees lazy(...)
    assert ("featurekit", "featurekit.transform") in pairs  # and the export table
    wrong = []
    for importer, target, line in imports:
        if target not in graph.modules:
            wrong.append(f"{importer}:{line} names {target!r}, which is no featurekit module")
            continue
        above = _position(target)
        if importer == "featurekit":
            ok = above is not None and above[0] < _root_layer()
        else:
            below = _position(importer)
            ok = above is not None and below is not None and (below[1] == above[1] or above[0] < below[0])
        if not ok:
            wrong.append(f"{importer}:{line} imports {target!r} by name, which is not in a lower layer")
    assert not wrong, "\n".join(wrong)


def test_only_higher_layers_import_the_package(graph: grimp.ImportGraph) -> None:
    importers = graph.find_modules_that_directly_import("featurekit")
    low = sorted(m for m in importers if (_position(m) or (len(_layers()), ""))[0] < _root_layer())
    assert not low, (
        f"modules below {ROOT_BELOW!r} import the featurekit package (what it exports sits above them): {low}"
    )


def test_how_it_works_draws_the_contract() -> None:
    text = (REPO / "docs" / "how_it_works.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    drawn = [line.split(" — ", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert drawn == _contract()["layers"]
    assert all(" — " in line for line in block.splitlines() if line.strip()), (
        "one line per layer: name — what lives there"
    )


def test_a_spec_fits_without_importing_the_layers_above_it_by_hand() -> None:
    """Spec.fit reaches the transform layer through the hook the package binds (not an import)."""
    code = (
        "from featurekit.spec.load_yaml import spec_from_dict\n"
        "spec = spec_from_dict({'featurekit': 1, 'name': 's', 'version': '1.0.0',\n"
        "    'inputs': {'x': {'type': 'float'}}, 'features': {'x_z': 'zscore(x)'}})\n"
        "print(spec.fit([{'x': 1.0}, {'x': 3.0}]).transform_row({'x': 3.0}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "{'x_z': 1.0}"
