"""The ``avr`` command line (see :mod:`avr_gui.cli.app`).

``main`` is the console script's entry point; ``python -m avr_gui.cli`` runs it too.
"""

from avr_gui.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
