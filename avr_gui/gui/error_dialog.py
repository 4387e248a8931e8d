"""The error dialog: one line saying what went wrong, the details and the log file's path.

Shown for an unexpected exception (:func:`avr_gui.gui.app.install_excepthook`) and for
settings that could not be read at start. It is not modal, so a test (or the user) can
keep working and close it; while one is open, further errors only go to the log, so a
failure repeating in a loop does not stack up windows.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

#: Object name of the dialog (tests find it by this).
OBJECT_NAME = "avrErrorDialog"
_open: list[QtWidgets.QMessageBox] = []


def open_dialogs() -> list[QtWidgets.QMessageBox]:
    """The error dialogs shown and not yet closed."""
    out = []
    for d in list(_open):
        try:
            visible = d.isVisible()
        except RuntimeError:  # closed and deleted by Qt (WA_DeleteOnClose)
            _open.remove(d)
            continue
        if visible:
            out.append(d)
    return out


def show_error_dialog(
    summary: str,
    details: str = "",
    log_file: Path | str | None = None,
    parent: QtWidgets.QWidget | None = None,
) -> QtWidgets.QMessageBox | None:
    """Show an error without blocking: ``summary``, and ``details`` behind "Show Details".

    Parameters
    ----------
    summary : str
        One line.
    details : str
        A traceback or a longer message.
    log_file : path-like, optional
        Where the log is written (named in the dialog so a report can include it).
    parent : QWidget, optional
        Default: none, a window of its own (the active window could be the start-up
        splash, which takes its children with it when it closes).

    Returns
    -------
    QMessageBox or None
        None while another error dialog is still open (the error is in the log).
    """
    if open_dialogs():
        return None
    box = QtWidgets.QMessageBox(parent)
    box.setObjectName(OBJECT_NAME)
    box.setIcon(QtWidgets.QMessageBox.Icon.Critical)
    box.setWindowTitle("AVR Studio: error")
    box.setText(summary)
    where = f"The details are also in the log file:\n{log_file}" if log_file else ""
    box.setInformativeText(where)
    text = details.rstrip()
    if log_file:
        text += f"\n\nLog file: {log_file}"
    if text.strip():
        box.setDetailedText(text.strip())
    box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Close)
    box.setWindowModality(QtCore.Qt.WindowModality.NonModal)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _=0, b=box: _open.remove(b) if b in _open else None)
    _open.append(box)
    box.show()
    return box
