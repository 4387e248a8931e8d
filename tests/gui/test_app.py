"""Application setup: command line, theme, icon."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from avr_gui import __version__
from avr_gui.gui.app import build_parser, create_app, main


def test_version_flag_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_command_line():
    argv = "--library /tmp/idx --backend onnx --weights m.onnx --add-folder a q.mp4".split()
    args = build_parser().parse_args(argv)
    assert (args.library, args.backend, args.weights, args.add_folder, args.query) == (
        "/tmp/idx",
        "onnx",
        "m.onnx",
        ["a"],
        "q.mp4",
    )


def test_dark_theme_and_icon(qapp):
    app = create_app([])
    window = app.palette().color(app.palette().ColorRole.Window)
    assert window.lightness() < 60  # dark
    assert "QPushButton#primary" in app.styleSheet()
    assert not app.windowIcon().isNull()
    assert app.applicationVersion() == __version__
