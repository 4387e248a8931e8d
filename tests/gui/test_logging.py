"""The app's log: a per-user file, uncaught exceptions logged and shown, settings errors."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest
from guiutil import wait_for
from PySide6 import QtWidgets

from avr_gui.core.workspace import settings_or_defaults
from avr_gui.gui import error_dialog
from avr_gui.gui.app import (
    LOG_NAME,
    install_excepthook,
    log_dir,
    report_config_error,
    setup_logging,
    stop_logging,
)


@pytest.fixture
def logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Logging set up into a temporary ``AVR_LOG_DIR``, undone afterwards."""
    monkeypatch.setenv("AVR_LOG_DIR", str(tmp_path / "logs"))
    level = logging.getLogger().level
    path = setup_logging("warning")
    yield path
    stop_logging()
    logging.getLogger().setLevel(level)
    for box in error_dialog.open_dialogs():
        box.close()


def test_the_log_folder_per_platform_and_its_override(tmp_path: Path):
    assert log_dir({"AVR_LOG_DIR": str(tmp_path)}) == tmp_path
    if sys.platform.startswith("linux"):
        assert log_dir({"HOME": "/h", "XDG_STATE_HOME": "/s"}) == Path("/s/avr-studio")
        assert log_dir({"HOME": "/h"}) == Path("/h/.local/state/avr-studio")


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_is_logged_and_shown(app, qtbot, logged: Path, tmp_path: Path):
    assert logged == tmp_path / "logs" / LOG_NAME
    previous, previous_thread_hook = sys.excepthook, threading.excepthook
    install_excepthook(logged)
    try:
        button = QtWidgets.QPushButton("fail")
        qtbot.addWidget(button)

        def broken_slot() -> None:
            raise RuntimeError("boom in a slot")

        button.clicked.connect(broken_slot)
        button.click()
        wait_for(qtbot, lambda: bool(error_dialog.open_dialogs()), 5)
        box = error_dialog.open_dialogs()[0]
        assert box.objectName() == error_dialog.OBJECT_NAME
        assert box.text() == "Unexpected error: RuntimeError: boom in a slot"
        assert "Traceback" in box.detailedText() and "broken_slot" in box.detailedText()
        assert str(logged) in box.detailedText() and str(logged) in box.informativeText()
        # A second error while the dialog is open goes to the log only.
        button.click()
        assert len(error_dialog.open_dialogs()) == 1
        box.close()
        wait_for(qtbot, lambda: not error_dialog.open_dialogs(), 5)
        for h in logging.getLogger().handlers:
            h.flush()
        text = logged.read_text(encoding="utf-8")
        assert text.count("RuntimeError: boom in a slot") == 2
        assert "Traceback (most recent call last)" in text and "in broken_slot" in text
        assert "CRITICAL avr_gui.gui.app" in text
    finally:
        sys.excepthook, threading.excepthook = previous, previous_thread_hook


def test_unreadable_settings_are_logged_and_shown(app, qtbot, logged: Path, tmp_path: Path):
    bad = tmp_path / "config.toml"
    bad.write_text('[verdict]\nalignable = "high"\n')
    config, error = settings_or_defaults(user_file=bad, environ={})
    assert error is not None and config["verdict.alignable"] == 0.5
    box = report_config_error(error, logged)
    assert box is not None and "shipped defaults" in box.text()
    assert "verdict.alignable" in box.detailedText()
    box.close()
    for h in logging.getLogger().handlers:
        h.flush()
    assert "verdict.alignable" in logged.read_text(encoding="utf-8")
