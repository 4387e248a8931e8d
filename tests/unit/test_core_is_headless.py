"""Static contracts: the core never imports Qt, and nothing anywhere uses pickle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import avr_gui

PACKAGE = Path(avr_gui.__file__).resolve().parent
CORE = PACKAGE / "core"
QT_ROOTS = ("PySide6", "PySide2", "shiboken6", "shiboken2", "pyqtgraph", "qtpy", "superqt")
PICKLE_ROOTS = ("pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve")


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def imported_modules(source: str, path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in ``source`` (the text of ``path``).

    Relative imports are resolved against ``path``'s package; for ``from X import y``
    both ``X`` and ``X.y`` are listed. Comments and strings are not imports.
    """
    tree = ast.parse(source, filename=str(path))
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts[:-1]  # the package a module (or an __init__) belongs to
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out.extend((node.lineno, f"{mod}.{alias.name}") for alias in node.names)
    return out


def is_qt(name: str) -> bool:
    top = name.split(".")[0]
    return top in QT_ROOTS or top.startswith(("PyQt", "PySide"))


def qt_imports(source: str, path: Path) -> list[str]:
    return [
        f"{line}: imports {name}"
        for line, name in imported_modules(source, path)
        if is_qt(name) or name == "avr_gui.gui" or name.startswith("avr_gui.gui.")
    ]


def pickle_uses(source: str, path: Path) -> list[str]:
    found = [
        f"{line}: imports {name}"
        for line, name in imported_modules(source, path)
        if name.split(".")[0] in PICKLE_ROOTS
    ]
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg == "allow_pickle" and not (
                isinstance(kw.value, ast.Constant) and kw.value.value is False
            ):
                found.append(f"{node.lineno}: allow_pickle={ast.unparse(kw.value)}")
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "load":
            if ast.unparse(func.value) == "torch":
                ok = any(
                    kw.arg == "weights_only"
                    and isinstance(kw.value, ast.Constant)
                    and kw.value.value is True
                    for kw in node.keywords
                )
                if not ok:
                    found.append(f"{node.lineno}: torch.load without weights_only=True")
    return found


def scan(files: list[Path], check) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE.parent)}:{hit}"
        for path in files
        for hit in check(path.read_text(encoding="utf-8"), path)
    ]


# ---------------------------------------------------------------------------- Qt


def test_there_are_files_to_check() -> None:
    files = python_files(CORE)
    assert CORE / "align" / "_kernels.py" in files
    assert CORE / "jobs.py" in files
    assert len(files) >= 10


def test_core_imports_no_qt() -> None:
    offenders = scan(python_files(CORE), qt_imports)
    assert not offenders, "the headless core imports Qt:\n" + "\n".join(offenders)


def test_qt_checker_sees_every_import_form() -> None:
    src = (
        "import os\n"
        "# import PySide6\n"
        "s = 'import pyqtgraph'\n"
        "def f():\n"
        "    import PyQt5.QtCore\n"
        "    from PySide6 import QtWidgets\n"
        "    from ...gui import app\n"
        "    import pyqtgraph as pg\n"
        "    from shiboken6 import isValid\n"
    )
    hits = qt_imports(src, CORE / "align" / "probe.py")
    text = "\n".join(hits)
    for name in ("PyQt5.QtCore", "PySide6", "avr_gui.gui", "pyqtgraph", "shiboken6"):
        assert f"imports {name}" in text
    assert not any(h.startswith(("2:", "3:")) for h in hits)  # comment and string
    assert qt_imports("import os\nfrom ..errors import AvrError\n", CORE / "x" / "y.py") == []


def test_importing_core_loads_no_qt() -> None:
    code = (
        "import avr_gui.core, avr_gui.core.align, avr_gui.core.errors, avr_gui.core.jobs; "
        "import avr_gui.core.device; "
        "import sys; "
        "bad = sorted(m for m in sys.modules "
        "if m.startswith(('PySide6', 'PyQt', 'shiboken6', 'pyqtgraph'))); "
        "assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------------- pickle


def test_no_pickle_anywhere() -> None:
    files = python_files(PACKAGE)
    assert len(files) > len(python_files(CORE))
    offenders = scan(files, pickle_uses)
    assert not offenders, "pickle is banned (DESIGN.md, durability):\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("src", "hits"),
    [
        ("import pickle\n", 1),
        ("import pickle as pk\n", 1),
        ("from pickle import loads\n", 2),
        ("def f():\n    import cloudpickle\n", 1),
        ("import numpy as np\nnp.load('x.npy', allow_pickle=True)\n", 1),
        ("import numpy as np\nnp.load('x.npy', allow_pickle=flag)\n", 1),
        ("import numpy as np\nnp.load('x.npy', allow_pickle=False)\n", 0),
        ("import numpy as np\nnp.load('x.npy')\n", 0),
        ("import torch\ntorch.load('w.pt')\n", 1),
        ("import torch\ntorch.load('w.pt', weights_only=False)\n", 1),
        ("import torch\ntorch.load('w.pt', weights_only=True)\n", 0),
        ("# import pickle\ns = 'allow_pickle=True'\n", 0),
    ],
)
def test_pickle_checker(src: str, hits: int) -> None:
    assert len(pickle_uses(src, CORE / "probe.py")) == hits
