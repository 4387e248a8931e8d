"""Entry point of ``avr-gui``: checks the machine before anything loads Qt.

Importing Qt's widgets, or creating the application, on a machine without the X11
libraries Qt needs ends in an ImportError or an abort that names no package. The check
(:mod:`avr_gui.gui.system_libs`) runs first and says what to install.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop app, or exit 2 with one line naming missing system libraries.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The app's exit status.
    """
    from avr_gui.gui.system_libs import check_display_libraries

    problem = check_display_libraries()
    if problem is not None:
        print(f"avr-gui: error: {problem}", file=sys.stderr)
        return 2
    from avr_gui.gui.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
