"""Screenshots of the real app on a generated library, for the README: run under Xvfb.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshots.py docs

Generates a small library of clips (two actions, several speeds and looks, one damaged
file), starts the app on a fresh index with the ``thumb16`` encoder, adds the folder,
waits for indexing, queries, selects the best match, and saves:

- ``main_window.png``: the whole screen (window decorations and all);
- ``library.png``, ``candidates.png``, ``alignment.png`` (random paths and one pinned
  anchor shown), ``player_side_by_side.png``, ``player_blend.png``,
  ``player_difference.png``, ``player_wipe.png``: the views themselves.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from avr_gui.core.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.gui import settings as S
from avr_gui.gui.app import create_app
from avr_gui.gui.player import ViewMode

CLIPS = {
    "query_swing.mp4": (0, 60, (1.0,), ClipStyle(seed=1)),
    "swing_slow_then_fast.mp4": (
        0,
        84,
        (0.5, 2.0, 1.0),
        ClipStyle((90, 240, 120), (60, 45, 70), zoom=0.9, shake=0.004, seed=2),
    ),
    "swing_fast_then_slow.mp4": (
        0,
        52,
        (1.8, 0.6),
        ClipStyle((230, 120, 60), (25, 50, 35), 1.1, 0, 3),
    ),
    "figure_eight.mp4": (1, 66, (1.0, 1.3), ClipStyle((60, 80, 230), seed=4)),
    "bounce.mp4": (2, 70, (0.8, 1.2), ClipStyle((200, 200, 200), seed=5)),
}


def make_library(folder: Path) -> None:
    """Write the generated clips (640x360, 24 fps) and one damaged file into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (action, n, speeds, style) in CLIPS.items():
        frames = render_frames(action, speed_warp(n, speeds), (640, 360), style)
        write_video(folder / name, frames, 24.0)
    (folder / "damaged_upload.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(300))


def save(widget_or_pixmap, target: Path) -> None:
    pix = widget_or_pixmap if hasattr(widget_or_pixmap, "save") else widget_or_pixmap.grab()
    tmp = target.with_suffix(".tmp.png")
    pix.save(str(tmp), "PNG")
    tmp.replace(target)
    print(f"wrote {target}")


def main(out: str = "docs") -> int:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    app = create_app([])
    work = Path(tempfile.mkdtemp(prefix="avr-shots-"))
    make_library(work / "Clips")
    from avr_gui.gui.main_window import MainWindow

    win = MainWindow(
        index_dir=str(work / "index"),
        backend="thumb16",
        settings=S.open_settings(str(work / "settings.ini")),
    )
    win.resize(1380, 860)
    win.move(10, 10)
    win.show()

    def wait(cond, timeout: float = 60.0) -> None:
        t0 = time.monotonic()
        while not cond():
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.005)
            if time.monotonic() - t0 > timeout:
                raise SystemExit(f"timed out; last error: {win.last_error}")

    def settle(seconds: float = 0.4) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            app.processEvents()
            time.sleep(0.01)

    wait(lambda: win.library is not None)
    win.add_folder(str(work / "Clips"))
    wait(lambda: win.index_job is not None and win.index_job.done)
    wait(lambda: len(win.entries) == len(CLIPS) + 1)
    settle(1.0)  # thumbnails
    query = str(work / "Clips" / "query_swing.mp4")
    win.set_query(query)
    wait(lambda: win.run_query(query, None) is not None)
    wait(lambda: win.query_job is not None and win.query_job.done)
    wait(lambda: win.player.ready and None not in win.player.shown_indices())
    settle(1.0)  # preview strips
    # A moment where the motion is visible: a third of the way through.
    win.player.seek(win.player.start + 0.33 * (win.player.end - win.player.start))
    win.alignment.random_box.setChecked(True)
    settle(0.6)

    shot = app.primaryScreen().grabWindow(0)
    save(shot if not shot.isNull() else win.grab(), out_dir / "main_window.png")
    save(win.library_panel, out_dir / "library.png")
    save(win.candidates, out_dir / "candidates.png")
    save(win.player, out_dir / "player_side_by_side.png")
    _n, m = win.alignment.cost.shape
    path = win.alignment.path
    i, j = path[len(path) // 2]
    win.alignment.pin(int(i), int(min(m - 1, j + 3)))
    settle(0.3)
    save(win.alignment, out_dir / "alignment.png")
    for mode, name in (
        (ViewMode.BLEND, "player_blend.png"),
        (ViewMode.DIFFERENCE, "player_difference.png"),
        (ViewMode.WIPE, "player_wipe.png"),
    ):
        win.player.set_mode(mode)
        wait(lambda: None not in win.player.shown_indices())
        settle(0.5)
        save(win.player, out_dir / name)
    win.player.set_mode(ViewMode.SIDE_BY_SIDE)
    win.close()
    QtWidgets.QApplication.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
