"""``avr-gui``: the desktop app's entry point (QApplication setup and the main window).

Logging is configured here and nowhere else: a per-user rotating log file
(:func:`log_dir`) plus stderr, at the ``log.level`` setting. An exception nothing caught
(in a slot, say) is logged with its traceback and shown in an error dialog that names
the log file (:func:`install_excepthook`); the app keeps running.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui import __version__
from avr_gui.core.align.warmup import warm_up
from avr_gui.core.workspace import settings_or_defaults
from avr_gui.gui.binding_check import QtBindingError, check_binding
from avr_gui.gui.theme import apply_theme, resource

ICON = "avr-studio.svg"
#: Overrides the log folder (tests, or a user who wants the log elsewhere).
LOG_DIR_ENV = "AVR_LOG_DIR"
LOG_NAME = "avr-gui.log"
APP_DIR = "avr-studio"
#: The log file rotates at this size, keeping this many old files.
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"

log = logging.getLogger("avr_gui.gui.app")


def log_dir(environ: dict[str, str] | None = None) -> Path:
    """The per-user folder of the app's log.

    ``$AVR_LOG_DIR`` if set; else the platform's place for logs and state: macOS
    ``~/Library/Logs/avr-studio``, Windows ``%LOCALAPPDATA%/avr-studio/Logs``,
    elsewhere ``$XDG_STATE_HOME/avr-studio`` (default ``~/.local/state/avr-studio``).

    Parameters
    ----------
    environ : dict, optional
        Default ``os.environ``.

    Returns
    -------
    pathlib.Path
    """
    env = os.environ if environ is None else environ
    if env.get(LOG_DIR_ENV):
        return Path(env[LOG_DIR_ENV]).expanduser()
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Logs" / APP_DIR
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / APP_DIR / "Logs"
    state = env.get("XDG_STATE_HOME") or str(home / ".local" / "state")
    return Path(state) / APP_DIR


def setup_logging(level: str = "warning", folder: Path | None = None) -> Path | None:
    """Log to a rotating per-user file and to stderr (replacing an earlier setup).

    Parameters
    ----------
    level : str
        ``debug``, ``info``, ``warning`` or ``error`` (the ``log.level`` setting).
    folder : pathlib.Path, optional
        Default :func:`log_dir`.

    Returns
    -------
    pathlib.Path or None
        The log file; None when its folder cannot be written (then stderr only).
    """
    stop_logging()
    root = logging.getLogger()
    root.setLevel(getattr(logging, level.upper(), logging.WARNING))
    fmt = logging.Formatter(_LOG_FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    path: Path | None = (folder or log_dir()) / LOG_NAME
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
        )
    except OSError as exc:
        path = None
        problem = exc
    else:
        problem = None
    for h in handlers:
        h.setFormatter(fmt)
        h._avr_handler = True  # type: ignore[attr-defined]
        root.addHandler(h)
    if problem is not None:
        log.warning("no log file (%s); logging to stderr only", problem)
    return path


def stop_logging() -> None:
    """Remove the handlers :func:`setup_logging` added (tests; the app logs until exit)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_avr_handler", False):
            root.removeHandler(h)
            h.close()


def report_config_error(
    error: Exception, log_file: Path | None, parent: QtWidgets.QWidget | None = None
) -> QtWidgets.QMessageBox | None:
    """Log and show settings that could not be read (the app runs on the defaults).

    Parameters
    ----------
    error : ConfigError
    log_file : pathlib.Path or None
    parent : QWidget, optional

    Returns
    -------
    QMessageBox or None
        The dialog (None while another error dialog is open).
    """
    from avr_gui.gui.error_dialog import show_error_dialog

    log.error("settings not usable, running on the shipped defaults: %s", error)
    # The one line names the key and the file: what the user must fix, so it is shown,
    # not hidden behind "Show Details".
    return show_error_dialog(
        f"The settings could not be read; AVR Studio runs on its shipped defaults.\n\n{error}",
        str(error),
        log_file,
        parent,
    )


def install_excepthook(log_file: Path | None) -> Callable[..., None]:
    """Log every uncaught exception with its traceback and show it in a dialog.

    On the GUI thread the error dialog (:func:`avr_gui.gui.error_dialog.show_error_dialog`)
    says it in one line, with the traceback and the log file behind "Show Details";
    other threads only log (a widget must not be made there). Nothing is swallowed: the
    traceback always reaches the log and stderr.

    Parameters
    ----------
    log_file : pathlib.Path or None
        Named in the dialog.

    Returns
    -------
    callable
        The hook it replaced (to put back: ``sys.excepthook = previous``).
    """
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, exc, tb)
            return
        log.critical("unexpected error", exc_info=(kind, exc, tb))
        app = QtWidgets.QApplication.instance()
        if app is None or QtCore.QThread.currentThread() is not app.thread():
            return
        from avr_gui.gui.error_dialog import show_error_dialog

        line = f"Unexpected error: {kind.__name__}: {exc}".splitlines()[0]
        details = "".join(traceback.format_exception(kind, exc, tb))
        show_error_dialog(line, details, log_file)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        log.critical(
            "unexpected error in thread %s",
            getattr(args.thread, "name", "?"),
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
        )

    sys.excepthook = hook
    threading.excepthook = thread_hook
    return previous


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
        "--encoder",
        metavar="NAME",
        dest="backend",
        help="frame encoder for a new library (auto, effnet-lite0, thumb16, ...; default "
        "from the config's features.encoder); an existing library keeps its own",
    )
    # The older name, kept working for scripts; "backend" now means the video decoder.
    ap.add_argument("--backend", dest="backend", help=argparse.SUPPRESS)
    ap.add_argument(
        "--weights",
        metavar="FILE",
        help="model or weights file for --encoder (if it cannot be loaded, the app says why "
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
    """Entry point of ``avr-gui``.

    The settings are read once here (:func:`~avr_gui.core.config.load_config`); if they
    cannot be, the error is logged and shown, and the app runs on the shipped defaults.
    """
    args, qt_args = build_parser().parse_known_args(argv)
    config, config_error = settings_or_defaults()
    log_file = setup_logging(str(config["log.level"]))
    try:
        app = create_app(qt_args, warm=False)
    except QtBindingError as exc:
        log.error("avr-gui: %s", exc)
        return 2
    install_excepthook(log_file)
    log.info("AVR Studio %s starting; log file %s", __version__, log_file)
    from avr_gui.gui.splash import warm_up_with_splash

    warm_up_with_splash(app)
    from avr_gui.gui.main_window import MainWindow

    win = MainWindow(
        index_dir=args.library, backend=args.backend, weights=args.weights, config=config
    )
    win.show()
    if config_error is not None:
        report_config_error(config_error, log_file, win)
    for folder in args.add_folder:
        # Queued behind the library's opening job on the library lane.
        win.library_opened_then(lambda f=folder: win.add_folder(f))
    if args.query:
        win.set_query(args.query)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
