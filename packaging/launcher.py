"""Entry point of the bundled app: the GUI by default, the ``avr`` CLI by subcommand.

``avr-studio``                 opens the desktop app (extra arguments go to ``avr-gui``)
``avr-studio --version``       prints the version
``avr-studio cli ARGS...``     runs ``avr ARGS...`` (index, query, export, demo, ...)
``avr-studio --smoke-test``    opens the main window on a scratch library, processes
                               events for two seconds, closes it and prints "ok"
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile


def _smoke() -> int:
    from PySide6 import QtCore

    from avr_gui.gui.app import create_app
    from avr_gui.gui.main_window import MainWindow
    from avr_gui.gui.splash import warm_up_with_splash

    app = create_app([], warm=False)
    print(f"kernels ready after {warm_up_with_splash(app):.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="avr-smoke-") as tmp:
        win = MainWindow(index_dir=tmp, backend="thumb16")
        win.show()
        QtCore.QTimer.singleShot(2000, win.close)
        QtCore.QTimer.singleShot(2500, app.quit)
        app.exec()
    print("ok", flush=True)
    return 0


def _numba_cache() -> None:
    """Give the bundle's compiled kernels a cache of their own (before numba loads).

    A frozen app has no source files; numba then caches next to the build machine's
    source path if that exists, and there it shared (and kept invalidating) the
    development checkout's cache: every start recompiled (10.6 s). In its own folder
    the first start compiles (9.4 s) and later ones load (0.5 s).
    """
    if getattr(sys, "frozen", False) and "NUMBA_CACHE_DIR" not in os.environ:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(base, "avr-studio", "numba")


def main() -> int:
    _numba_cache()
    args = sys.argv[1:]
    if args[:1] == ["--version"]:
        from avr_gui import __version__

        print(f"AVR Studio {__version__}")
        return 0
    if args[:1] == ["--smoke-test"]:
        return _smoke()
    if args[:1] == ["cli"]:
        from avr_gui.cli import main as cli_main

        return cli_main(args[1:])
    from avr_gui.gui.launch import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    # PyInstaller bundles re-execute this file for worker processes.
    multiprocessing.freeze_support()
    sys.exit(main())
