"""The Qt binding keeps reference counts straight (PySide6 6.12.0 on 3.11 did not)."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest
from guiutil import wait_for

from avr_gui.gui import app as app_module
from avr_gui.gui import binding_check
from avr_gui.gui.player import SyncedPlayer, TimeMap

needs_mortal_none = pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="None/True/False are immortal from Python 3.12"
)


@needs_mortal_none
def test_installed_binding_loses_no_references(app):
    drift = binding_check.refcount_drift(2000)
    # 6.12.0 gives {"None": -2000, ...}; a sound binding a handful either way.
    assert all(d > -100 for d in drift.values()), drift
    binding_check.check_binding()


@needs_mortal_none
def test_playback_keeps_none_alive(app, qtbot, coded_clips):
    """Seconds of real looped playback: the count of None must not drain away."""
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(700, 320)
    p.show()
    p.load(
        str(coded_clips["query"]),
        str(coded_clips["match"]),
        TimeMap(np.array([0.0, 2.0]), np.array([0.0, 3.0])),
    )
    wait_for(qtbot, lambda: p.ready and None not in p.shown_indices())
    p.loop = True
    before = sys.getrefcount(None)
    p.play()
    t0 = time.perf_counter()
    qtbot.waitUntil(lambda: time.perf_counter() - t0 > 3.0, timeout=10000)
    p.pause()
    shown = p.stats.on_time + p.stats.late
    after = sys.getrefcount(None)
    p.close_sources()
    assert shown > 60  # it really played (2 sides x 20 fps x 3 s)
    # The faulty binding lost ~10 references per frame shown here.
    assert after - before > -shown, (before, after, shown)


def test_bad_binding_is_refused_with_a_clear_message(app, monkeypatch, capsys):
    monkeypatch.setattr(binding_check, "MORTAL_SINGLETONS", True)
    monkeypatch.setattr(
        binding_check, "refcount_drift", lambda calls: {"None": -calls, "True": 0, "False": 0}
    )
    with pytest.raises(binding_check.QtBindingError, match=r"PySide6-Essentials<6\.12"):
        binding_check.check_binding()
    assert app_module.main(["--library", "/nonexistent/never-created"]) == 2
    err = capsys.readouterr().err
    assert "loses a reference to None" in err and "Python 3.12" in err
