"""Re-exports a package imports only when first used (PEP 562 module ``__getattr__``).

A package such as :mod:`avr_gui.core.features` names heavy functions (torch, PyAV, the
pose pipeline) for convenience; importing it must not load them. The package keeps a
table ``name -> module`` and installs the two hooks made here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], table: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose re-exports load lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (for the error message).
    namespace : dict
        The package's ``globals()``: a name, once imported, is stored there, so later
        lookups no longer come through ``__getattr__``.
    table : mapping of str to str
        Re-exported name -> the module that defines it.

    Returns
    -------
    (getattr, dir)
        Assign them to the package's ``__getattr__`` and ``__dir__``.
    """

    def getattr_(name: str) -> object:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *table})

    return getattr_, dir_
