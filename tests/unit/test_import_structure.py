"""Static contracts on the import structure of ``avr_gui`` (issue 15).

- The module graph has no cycle. Edges come from every ``import`` and ``from ... import``
  statement, top level or inside a function, except those under ``if TYPE_CHECKING:``
  (they never run). A submodule importing its own parent package (``from avr_gui.core.video
  import probe`` inside ``core/video/reader.py``) is an edge to the package ``__init__``,
  which imports the submodule back: that is a cycle too.
- Nothing under ``avr_gui/core/`` imports a Qt binding or pyqtgraph.
- Importing the feature-encoder registry and listing its names loads none of the heavy
  runtimes (torch, PyAV, OpenCV, the pose pipeline).

The checks are plain functions (:func:`import_cycles`, :func:`core_qt_imports`,
:func:`heavy_modules_after_listing`) so they can be run on their own::

    python tests/unit/test_import_structure.py
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import avr_gui

PACKAGE = Path(avr_gui.__file__).resolve().parent
QT_ROOTS = frozenset({"PySide6", "PySide2", "shiboken6", "shiboken2", "pyqtgraph"})
#: Modules that must stay unloaded after importing and listing the encoder registry.
HEAVY_ROOTS = (
    "torch",
    "av",
    "cv2",
    "mediapipe",
    "ai_edge_litert",
    "tflite_runtime",
    "onnxruntime",
    "avr_gui.core.features.pose.blazepose",
)


# --------------------------------------------------------------------- the graph


@dataclass(frozen=True)
class ImportStmt:
    """One import statement, resolved to absolute dotted names.

    Attributes
    ----------
    line : int
    module : str
        ``X`` of ``import X`` / ``from X import ...`` (relative forms resolved).
    names : tuple of str
        The imported names of a ``from`` import (empty for ``import X``).
    type_checking : bool
        Under ``if TYPE_CHECKING:``, so it never runs.
    """

    line: int
    module: str
    names: tuple[str, ...]
    type_checking: bool


@dataclass
class ImportGraph:
    """Modules of a package and the import edges between them.

    Attributes
    ----------
    edges : dict
        ``module -> {imported module: first line of the import}``; only modules of the
        package itself appear.
    """

    edges: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, src: str, dst: str, line: int) -> None:
        """Record that ``src`` imports ``dst`` at ``line`` (self-imports are dropped)."""
        if src != dst:
            self.edges[src].setdefault(dst, line)


def module_name(path: Path, root: Path) -> str:
    """Dotted name of the module in ``path``; ``root`` is the top package's folder."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def iter_imports(tree: ast.AST, package: str) -> Iterator[ImportStmt]:
    """Every import statement in ``tree``, relative ones resolved against ``package``.

    Parameters
    ----------
    tree : ast.AST
        A parsed module.
    package : str
        The package the module belongs to (the module itself for an ``__init__``).

    Yields
    ------
    ImportStmt
    """

    def visit(node: ast.AST, guarded: bool) -> Iterator[ImportStmt]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield ImportStmt(node.lineno, alias.name, (), guarded)
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            yield ImportStmt(node.lineno, mod, tuple(a.name for a in node.names), guarded)
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, True)
            for child in node.orelse:
                yield from visit(child, guarded)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child, guarded)

    yield from visit(tree, False)


def parse_package(root: Path) -> dict[str, tuple[Path, list[ImportStmt]]]:
    """``module -> (file, its imports)`` for every ``.py`` file under ``root``."""
    out: dict[str, tuple[Path, list[ImportStmt]]] = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name = module_name(path, root)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        out[name] = (path, list(iter_imports(tree, package)))
    return out


def build_import_graph(root: Path) -> ImportGraph:
    """The import graph of the package in folder ``root``, without importing anything.

    ``import a.b`` is an edge to ``a.b``; ``from a import b`` is an edge to ``a`` and,
    when ``a.b`` is a module, to ``a.b`` too. Names that are not modules of the package
    resolve to their longest prefix that is one. Imports under ``if TYPE_CHECKING:``
    are left out.

    Parameters
    ----------
    root : pathlib.Path
        Folder of the top package (the one holding its ``__init__.py``).

    Returns
    -------
    ImportGraph
    """
    parsed = parse_package(root)
    modules = set(parsed)
    graph = ImportGraph({name: {} for name in parsed})

    def internal(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    for src, (_, stmts) in parsed.items():
        for stmt in stmts:
            if stmt.type_checking:
                continue
            target = internal(stmt.module)
            if target is not None:
                graph.add(src, target, stmt.line)
            for name in stmt.names:
                sub = f"{stmt.module}.{name}"
                if sub in modules:
                    graph.add(src, sub, stmt.line)
    return graph


def strongly_connected(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of a graph (Tarjan, iterative).

    Parameters
    ----------
    edges : dict
        ``node -> successors``.

    Returns
    -------
    list of list of str
        Every component, each sorted.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in edges:
        if start in index:
            continue
        # Each frame: (node, iterator over its successors); emulates the recursion.
        work: list[tuple[str, Iterator[str]]] = []
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work.append((start, iter(edges.get(start, ()))))
        while work:
            node, succ = work[-1]
            advanced = False
            for nxt in succ:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(sorted(component))
    return out


def import_cycles(root: Path = PACKAGE) -> list[str]:
    """Human-readable description of every import cycle in the package at ``root``.

    Parameters
    ----------
    root : pathlib.Path, optional
        Folder of the top package; default ``avr_gui``.

    Returns
    -------
    list of str
        One entry per strongly connected component of more than one module, listing its
        modules and the import lines that tie them together; empty when there is none.
    """
    graph = build_import_graph(root)
    reports = []
    for component in strongly_connected(graph.edges):
        if len(component) < 2:
            continue
        members = set(component)
        lines = [f"cycle among {len(component)} modules: {', '.join(component)}"]
        for src in component:
            for dst, line in sorted(graph.edges[src].items()):
                if dst in members:
                    lines.append(f"    {src}:{line} imports {dst}")
        reports.append("\n".join(lines))
    return reports


# ------------------------------------------------------------------------------- Qt


def core_qt_imports(root: Path = PACKAGE) -> list[str]:
    """``file:line imports X`` for every Qt / pyqtgraph import under ``root/core``.

    Imports under ``if TYPE_CHECKING:`` count too: the core should not even name Qt.
    """
    found = []
    for name, (path, stmts) in parse_package(root).items():
        if not (name + ".").startswith(f"{root.name}.core."):
            continue
        for stmt in stmts:
            top = stmt.module.split(".")[0]
            if top in QT_ROOTS or top.startswith(("PyQt", "PySide")):
                found.append(f"{path.relative_to(root.parent)}:{stmt.line} imports {stmt.module}")
    return found


# ------------------------------------------------------------------- private names


def private_name_imports(root: Path = PACKAGE) -> list[str]:
    """``file:line imports module._name`` for every private name imported across modules.

    A name that starts with ``_`` belongs to its module; another module that needs it
    means the name should be public (or the code should move). Dunder names
    (``__version__``) and importing a public name under a private alias are fine.
    """
    modules = parse_package(root)
    found = []
    for path, stmts in modules.values():
        for stmt in stmts:
            if not (stmt.module + ".").startswith(root.name + "."):
                continue
            for name in stmt.names:
                if name.startswith("_") and not name.startswith("__"):
                    if f"{stmt.module}.{name}" in modules:
                        continue  # a private *module* (e.g. ``_kernels``): imported whole
                    where = path.relative_to(root.parent)
                    found.append(f"{where}:{stmt.line} imports {stmt.module}.{name}")
    return found


# ------------------------------------------------------------------------ registry

_LIST_REGISTRY = """
import sys
import avr_gui.core.features as features
from avr_gui.core.features import registry
%s
names = registry.backend_names()
descriptions = [registry.describe(n) for n in names]
assert {"thumb16", "effnet-lite0", "auto", "pose-blazepose"} <= set(names), names
assert all(descriptions), descriptions
assert features.DEFAULT_BACKEND in names
heavy = %r
print("\\n".join(m for m in heavy if m in sys.modules))
"""


def heavy_modules_after_listing(extra: str = "") -> list[str]:
    """Heavy modules loaded by importing the encoder registry and listing its entries.

    Runs in a fresh interpreter, so modules this test process already holds don't count.

    Parameters
    ----------
    extra : str, optional
        More Python run after the imports (the self-test uses it to load something heavy).

    Returns
    -------
    list of str
        Loaded modules of :data:`HEAVY_ROOTS`; empty when all is well.
    """
    proc = subprocess.run(
        [sys.executable, "-c", _LIST_REGISTRY % (extra, HEAVY_ROOTS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise AssertionError(f"listing the encoder registry failed:\n{proc.stderr}")
    return proc.stdout.split()


# --------------------------------------------------------------------------- tests


def test_the_package_has_modules() -> None:
    graph = build_import_graph(PACKAGE)
    assert "avr_gui.core.features.encoders" in graph.edges
    assert "avr_gui.core.video" in graph.edges
    assert len(graph.edges) > 50


def test_no_import_cycles() -> None:
    cycles = import_cycles()
    assert not cycles, (
        "import cycles (a submodule must import its siblings directly, never its own "
        "package; move what two modules share to a lower module):\n" + "\n".join(cycles)
    )


def test_core_imports_no_qt() -> None:
    offenders = core_qt_imports()
    assert not offenders, "the headless core imports Qt:\n" + "\n".join(offenders)


def test_no_private_names_across_modules() -> None:
    found = private_name_imports()
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def test_the_private_name_checker_can_fail(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    _write(root, "__init__.py", "")
    _write(root, "a.py", "_x = 1\ny = 2\n__version__ = '1'\n")
    _write(root, "_k.py", "z = 3\n")
    _write(
        root,
        "b.py",
        "from pkg.a import _x, y, __version__\nfrom pkg import _k\nimport pkg.a as _a\n",
    )
    assert private_name_imports(root) == [str(Path("pkg/b.py")) + ":1 imports pkg.a._x"]


def test_listing_encoders_loads_nothing_heavy() -> None:
    loaded = heavy_modules_after_listing()
    assert not loaded, (
        "importing avr_gui.core.features and listing its encoders loaded heavy modules "
        "(keep them behind the registry's lazy factories): " + ", ".join(loaded)
    )


def test_the_heavy_module_check_can_fail() -> None:
    loaded = heavy_modules_after_listing("import avr_gui.core.features.encoders")
    assert "cv2" in loaded and "avr_gui.core.features.pose.blazepose" not in loaded


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_checker_finds_cycles(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    _write(root, "__init__.py", "")
    # The parent-package cycle: sub/__init__ imports a, and a imports its own package.
    _write(root, "sub/__init__.py", "from pkg.sub.a import A\n")
    _write(root, "sub/a.py", "def f():\n    from pkg.sub import helper\n")
    _write(root, "sub/helper.py", "")
    # A two-module cycle through a relative import and a plain one.
    _write(root, "x.py", "from . import y\n")
    _write(root, "y.py", "import pkg.x\n")
    # Not cycles: a TYPE_CHECKING import back, and an import of a sibling module.
    _write(root, "p.py", "import pkg.q\n")
    _write(
        root,
        "q.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import p\n"
        "else:\n    from pkg.sub import helper\n",
    )
    graph = build_import_graph(root)
    assert graph.edges["pkg.sub.a"] == {"pkg.sub": 2, "pkg.sub.helper": 2}
    assert graph.edges["pkg.q"] == {"pkg.sub": 5, "pkg.sub.helper": 5}
    cycles = import_cycles(root)
    assert len(cycles) == 2, cycles
    text = "\n".join(cycles)
    assert "cycle among 2 modules: pkg.sub, pkg.sub.a" in text
    assert "pkg.sub.a:2 imports pkg.sub" in text
    assert "cycle among 2 modules: pkg.x, pkg.y" in text
    assert "pkg.y:1 imports pkg.x" in text
    assert "pkg.p" not in text and "pkg.q" not in text


def test_the_qt_checker_sees_core_only(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    _write(root, "__init__.py", "")
    _write(root, "core/__init__.py", "")
    _write(root, "core/m.py", "def f():\n    from PySide6.QtCore import QObject\n")
    _write(root, "core/n.py", "import numpy\n# import pyqtgraph\ns = 'import PyQt5'\n")
    _write(root, "gui.py", "import pyqtgraph\n")
    found = core_qt_imports(root)
    assert found == [str(Path("pkg/core/m.py")) + ":2 imports PySide6.QtCore"]


if __name__ == "__main__":
    problems = import_cycles() + core_qt_imports() + private_name_imports()
    heavy = heavy_modules_after_listing()
    if heavy:
        problems.append("heavy modules after listing the encoders: " + ", ".join(heavy))
    print("\n".join(problems) or "import structure: OK")
    sys.exit(1 if problems else 0)
