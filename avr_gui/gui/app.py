"""``avr-gui``: the desktop app's entry point (QApplication setup and the main window)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from PySide6 import QtGui, QtWidgets

from avr_gui import __version__
from avr_gui.core.align.warmup import warm_up
from avr_gui.gui.binding_check import QtBindingError, check_binding
from avr_gui.gui.theme import apply_theme, resource

ICON = "avr-studio.svg"


def create_app(argv: Sequence[str] | None = None, *, warm: bool = True) -> QtWidgets.QApplication:
    """The QApplication, themed and named (reuses a running one, e.g. under pytest-qt).

    Parameters
    ----------
    argv : sequence of str, optional
        Qt's own arguments.
    warm : bool
        Load the compiled kernels here, blocking (tests, tools). The app passes False
        and loads them behind a splash (:mod:`avr_gui.gui.splash`).

    Raises
    ------
    avr_gui.gui.binding_check.QtBindingError
        The installed PySide6 would crash the app (see that module).
    """
    # Workers run numpy/numba code that takes the GIL in short bursts; a shorter switch
    # interval (default 5 ms) hands it back to the GUI thread sooner while they run.
    sys.setswitchinterval(0.001)
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([sys.argv[0], *(argv or [])])
    check_binding()
    # Before any window exists: numba's start-up in the first indexing or query job
    # held the GIL, and so the GUI thread, for ~100 ms at a time
    # (avr_gui/core/align/warmup.py). main() does it behind a splash instead.
    if warm:
        warm_up()
    app.setApplicationName("AVR Studio")
    app.setOrganizationName("AVR Studio")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QtGui.QIcon(resource(ICON)))
    apply_theme(app)  # type: ignore[arg-type]
    return app  # type: ignore[return-value]


def build_parser() -> argparse.ArgumentParser:
    """Command line of ``avr-gui``."""
    ap = argparse.ArgumentParser(prog="avr-gui", description="AVR Studio desktop app")
    ap.add_argument("--version", action="version", version=f"AVR Studio {__version__}")
    ap.add_argument("--library", metavar="DIR", help="library index folder (default: per user)")
    ap.add_argument(
        "--backend",
        metavar="NAME",
        help="frame encoder for a new library (effnet-lite0, thumb16, ...); "
        "an existing library keeps its own",
    )
    ap.add_argument(
        "--weights",
        metavar="FILE",
        help="model or weights file for --backend (if it cannot be loaded, the app says why "
        "and which encoder it uses instead)",
    )
    ap.add_argument(
        "--add-folder",
        metavar="DIR",
        action="append",
        default=[],
        help="add this folder of videos to the library and index it",
    )
    ap.add_argument("query", nargs="?", help="a video to open as the query")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``avr-gui``."""
    args, qt_args = build_parser().parse_known_args(argv)
    try:
        app = create_app(qt_args, warm=False)
    except QtBindingError as exc:
        print(f"avr-gui: {exc}", file=sys.stderr)
        return 2
    from avr_gui.gui.splash import warm_up_with_splash

    warm_up_with_splash(app)
    from avr_gui.gui.main_window import MainWindow

    win = MainWindow(index_dir=args.library, backend=args.backend, weights=args.weights)
    win.show()
    for folder in args.add_folder:
        # Queued behind the library's opening job on the library lane.
        win.library_opened_then(lambda f=folder: win.add_folder(f))
    if args.query:
        win.set_query(args.query)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
