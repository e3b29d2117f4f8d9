"""The layout guard: searchkit's modules form layers without cycles, stay small, and keep Whoosh inside its engine.

import-linter (``make lint``) checks which layer may import which; these checks add what it does not: no cycle among
modules at all (imports inside functions count, as they run sooner or later), no module over 450 lines, and Whoosh
named only by the modules of ``searchkit/engines/whoosh/``. Each failure names the modules at fault.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "searchkit"
MAX_LINES = 450
WHOOSH_ENGINE = "searchkit.engines.whoosh"


def module_name(path: Path, root: Path) -> str:
    """``searchkit/search/parse.py`` → ``searchkit.search.parse``; a package's ``__init__.py`` is the package."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path) -> dict[str, Path]:
    """Every module under ``package`` (a folder holding an ``__init__.py``), by its dotted name."""
    root = package.parent
    return {module_name(path, root): path for path in sorted(package.rglob("*.py"))}


def imported_names(path: Path, name: str) -> Iterator[str]:
    """The dotted names the module ``name`` at ``path`` imports, anywhere in it (functions, classes and
    ``if TYPE_CHECKING:`` blocks included); ``from a import b`` gives ``a.b``, which is the module ``b`` if there
    is one and else a name in ``a`` (see :func:`import_graph`), and relative imports are made absolute."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")
                anchor = parts if is_package else parts[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield from (base if alias.name == "*" else f"{base}.{alias.name}" for alias in node.names)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Which of the package's modules each of them imports: ``import a.b.c`` and ``from a.b import c`` lead to
    the module ``a.b.c`` if there is one, else to the nearest package above it that is a module."""
    found = modules(package)
    graph: dict[str, set[str]] = {}
    for name, path in found.items():
        targets = set()
        for imported in imported_names(path, name):
            while imported and imported not in found:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (and modules importing themselves), each sorted:
    every module of a component reaches every other. Tarjan's algorithm, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))
    return sorted(found)


def long_modules(package: Path, limit: int = MAX_LINES) -> dict[str, int]:
    """The modules of more than ``limit`` lines, with their length."""
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules(package).items()}
    return {name: count for name, count in lengths.items() if count > limit}


def whoosh_importers(package: Path) -> list[str]:
    """The modules outside the Whoosh engine's subpackage that import ``whoosh`` (or any module of it)."""
    return sorted(
        name
        for name, path in modules(package).items()
        if not (name == WHOOSH_ENGINE or name.startswith(WHOOSH_ENGINE + "."))
        and any(imported == "whoosh" or imported.startswith("whoosh.") for imported in imported_names(path, name))
    )


# --- the checks on searchkit ------------------------------------------------------------------------------------------


def test_no_import_cycle_among_searchkit_modules():
    found = cycles(import_graph(PACKAGE))
    assert not found, "import cycles:\n" + "\n".join(" ↔ ".join(component) for component in found)


def test_no_import_cycle_in_the_text_and_corpus_layers():
    # The part of the check above that holds already (corpus.markdown once imported corpus.articles, which imports
    # it back to read Markdown): it keeps holding while the rest is being fixed.
    found = [
        component
        for component in cycles(import_graph(PACKAGE))
        if any(name.startswith(("searchkit.text", "searchkit.corpus")) for name in component)
    ]
    assert not found, "import cycles:\n" + "\n".join(" ↔ ".join(component) for component in found)


def test_no_module_over_450_lines():
    found = long_modules(PACKAGE)
    assert not found, "modules over 450 lines: " + ", ".join(f"{name} ({n})" for name, n in sorted(found.items()))


def test_whoosh_is_imported_only_by_the_whoosh_engine():
    found = whoosh_importers(PACKAGE)
    assert not found, "modules importing whoosh outside searchkit/engines/whoosh/: " + ", ".join(found)


# --- the checks themselves, on packages made for them --------------------------------------------------------------


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_a_cycle_through_an_import_inside_a_function_is_found_and_named(tmp_path: Path):
    package = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": "def thing():\n    from pkg import c\n    return c\n",
            "pkg/c.py": "from . import a\n",
            "pkg/d.py": "import pkg.a\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/e.py": "from ..sub import f\n",
            "pkg/sub/f.py": "from pkg.sub.e import *\n",
        },
    )
    graph = import_graph(package)
    assert graph["pkg.b"] == {"pkg.c"} and graph["pkg.c"] == {"pkg.a"} and graph["pkg.d"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"], ["pkg.sub.e", "pkg.sub.f"]]


def test_a_package_without_cycles_passes(tmp_path: Path):
    package = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "import os\nfrom pkg import c\n",
            "pkg/c.py": "",
        },
    )
    assert cycles(import_graph(package)) == []


def test_long_modules_and_whoosh_importers_are_named(tmp_path: Path):
    package = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/long.py": "x = 1\n" * 451,
            "pkg/short.py": "x = 1\n" * 450,
            "pkg/face.py": "def f():\n    from whoosh.query import Term\n",
        },
    )
    assert long_modules(package) == {"pkg.long": 451}
    assert whoosh_importers(package) == ["pkg.face"]


def test_the_whoosh_engine_may_import_whoosh():
    found = modules(PACKAGE)
    schema = f"{WHOOSH_ENGINE}.schema"
    assert "whoosh.fields" in set(imported_names(found[schema], schema))
    assert not [name for name in whoosh_importers(PACKAGE) if name.startswith(WHOOSH_ENGINE)]


def test_every_subpackage_is_installed_by_pip_install():
    # pyproject.toml names the packages one by one (web/ is installed as searchkit.web): a subpackage left
    # out would be missing from `pip install .` while every test run from the checkout passes.
    import tomllib

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    declared = set(project["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(root).parts)
        for init in (root / "searchkit").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - declared == set()
