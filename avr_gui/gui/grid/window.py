"""The grid window: the query and its best matches tiled, each re-timed to the query.

Every tile has its own :class:`~avr_gui.gui.frame_source.FrameSource` (decoding ahead
on its own thread, at the size the tile is drawn), and one :class:`GridClock` says which
frame each tile shows; a tick that finds a tile's frame not decoded yet keeps the
previous one on screen and counts it late, as the two-video player does
(:class:`~avr_gui.gui.player.PlaybackStats`). Play, pause, steps, seeks and the loop
move every tile; a tile's nudge moves that tile alone; a hidden tile stops decoding.
The players have no sound, so a tile's "mute" is hiding it.

Keys: Space play/pause, J/K/L back/pause/forward, Left/Right one frame, Home/End,
Ctrl+E export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.export.framemap import TimeMap
from avr_gui.core.export.grid import grid_shape
from avr_gui.core.playback import PlaybackClock
from avr_gui.core.timecode import clip_rate
from avr_gui.core.workspace.exports import default_export_path, grid_job
from avr_gui.gui.export_dialog import ExportDialog
from avr_gui.gui.frame_source import FrameSource
from avr_gui.gui.grid.clock import GridClock
from avr_gui.gui.grid.tile import Tile
from avr_gui.gui.player import PlaybackStats
from avr_gui.gui.player.controls import tool_button
from avr_gui.gui.player.transport import Transport
from avr_gui.gui.workers import JobHandle, JobRunner

_TICK_MS = 4
# Frames decoded ahead of the clock per tile (four tiles share two cores).
_LOOKAHEAD = 8


@dataclass(frozen=True)
class TileSpec:
    """A clip of the grid.

    Attributes
    ----------
    name : str
    path : str
    time_map : TimeMap or None
        Query seconds -> this clip's seconds; None for the query.
    """

    name: str
    path: str
    time_map: TimeMap | None = None


class GridWindow(Transport, QtWidgets.QWidget):
    """The query and matches played in sync, tiled (see the module docstring).

    Parameters
    ----------
    query : TileSpec
        Its ``time_map`` is ignored (the query keeps its own time).
    matches : sequence of TileSpec
        1 to 5 matches, best first.
    runner : JobRunner, optional
        Runs the grid export (default: the window's own).
    export_folder : str, optional
        Where the export is offered to go (outside the library).
    columns : int, optional
        Tiles per row (default: the squarest grid).
    parent : QWidget, optional
        The grid is its own window; it closes with ``parent``.

    Signals
    -------
    ready_changed(bool)
        Every tile's video opened.
    error(message)
    """

    ready_changed = QtCore.Signal(bool)
    error = QtCore.Signal(str)

    def __init__(
        self,
        query: TileSpec,
        matches: Sequence[TileSpec],
        *,
        runner: JobRunner | None = None,
        export_folder: str | None = None,
        columns: int | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowFlag(QtCore.Qt.WindowType.Window)
        self.setObjectName("gridWindow")
        self.setWindowTitle(f"Top matches in sync: {query.name}")
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.specs = [TileSpec(query.name, query.path, None), *matches]
        self.runner = runner or JobRunner(threads=1, parent=self)
        self._own_runner = runner is None
        self.export_folder = export_folder
        self.clock = GridClock([s.time_map for s in self.specs])
        self.stats = PlaybackStats()
        self.export_handle: JobHandle | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.tiles = [Tile(k, s.name, s.path) for k, s in enumerate(self.specs)]
        self._build(columns)
        if parent is not None:
            parent.installEventFilter(self)  # closes with the main window
        for tile in self.tiles:
            tile.source = self._open(tile)

    # ------------------------------------------------------------------ building

    def _build(self, columns: int | None) -> None:
        grid = QtWidgets.QGridLayout()
        grid.setSpacing(4)
        cols, rows = grid_shape(len(self.tiles), columns)
        for k, tile in enumerate(self.tiles):
            grid.addWidget(tile, k // cols, k % cols)
            tile.nudge_requested.connect(self.nudge)
            tile.hidden_changed.connect(self._on_hidden)
            tile.canvas.resized.connect(lambda t=tile: self._update_target_size(t))
        for r in range(rows):
            grid.setRowStretch(r, 1)
        for c in range(cols):
            grid.setColumnStretch(c, 1)
        self.tiles[0].hide_button.setToolTip(
            "Hide the query's picture (it still sets the time, and stays in the export)"
        )
        # The player's own icons: the style's standard ones are near black on the
        # dark theme.
        self.start_button = tool_button(
            "to-start.svg", "Go to start (Home)", lambda: self.seek(self.clock.clock.start)
        )
        self.back_button = tool_button("step-back.svg", "Back a frame (←)", lambda: self.step(-1))
        self.play_button = tool_button("play.svg", "Play / pause (Space)", self.toggle_play)
        self.forward_button = tool_button(
            "step-forward.svg", "Forward a frame (→)", lambda: self.step(1)
        )
        self.loop_box = QtWidgets.QCheckBox("Loop")
        self.loop_box.setChecked(True)
        self.loop_box.toggled.connect(lambda on: setattr(self.clock.clock, "loop", bool(on)))
        self.scrubber = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.scrubber.setRange(0, 0)
        self.scrubber.valueChanged.connect(lambda v: self.seek(self.clock.clock.start + v / 1000))
        self.time_label = QtWidgets.QLabel("00:00:00:00")
        self.time_label.setObjectName("timecode")  # monospaced: it does not jitter in play
        self.export_button = QtWidgets.QPushButton("Export grid…")
        self.export_button.setToolTip("Write the shown tiles as one video (Ctrl+E)")
        self.export_button.clicked.connect(self.open_export_dialog)
        QtGui.QShortcut(QtGui.QKeySequence("Ctrl+E"), self, self.open_export_dialog)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("dim")
        self.status.setWordWrap(True)
        self.status.setVisible(False)  # an empty line under the transport until an error
        bar = QtWidgets.QHBoxLayout()
        for w in (
            self.start_button,
            self.back_button,
            self.play_button,
            self.forward_button,
            self.loop_box,
        ):
            bar.addWidget(w)
        bar.addWidget(self.scrubber, 1)
        bar.addWidget(self.time_label)
        bar.addWidget(self.export_button)
        v = QtWidgets.QVBoxLayout(self)
        v.setContentsMargins(6, 6, 6, 6)
        v.addLayout(grid, 1)
        v.addLayout(bar)
        v.addWidget(self.status)
        self.resize(default_size(self.screen().availableGeometry().size()))

    def _open(self, tile: Tile) -> FrameSource:
        src = FrameSource(tile.path, tile.name)
        src.opened.connect(lambda times, t=tile: self._on_opened(t, times))
        src.frame_ready.connect(self._on_frame_ready)
        src.failed.connect(self._on_failed)
        src.start()
        return src

    def _on_opened(self, tile: Tile, times: np.ndarray) -> None:
        times = np.asarray(times, dtype=np.float64)
        # Snapped to the standard rates: a median frame step misreads 29.97 fps as 30.3
        # when the container rounds times to the millisecond (Matroska).
        tile.rate = clip_rate(times, tile.rate)
        self.clock.opened(tile.index, times)
        if not self.ready:
            return
        c = self.clock.clock
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, round((c.end - c.start) * 1000))
        self.scrubber.blockSignals(False)
        for t in self.tiles:
            t.canvas.message = "Loading…"
        self.ready_changed.emit(True)
        self._present(force=True)

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        self.status.setVisible(bool(message))
        self.error.emit(message)

    @property
    def ready(self) -> bool:
        """Whether every tile's video has opened."""
        return self.clock.ready

    # ------------------------------------------------------------------ transport

    @property
    def _play_clock(self) -> PlaybackClock:
        return self.clock.clock

    def _frame_holders(self) -> list[Tile]:
        return self.tiles

    @property
    def position(self) -> float:
        """Clock time (query seconds)."""
        return self.clock.clock.position

    def seek(self, t: float) -> None:
        """Move every tile to query time ``t``."""
        if not self.ready:
            return
        self.clock.clock.seek(t)
        self._present(force=True)

    def step(self, frames: int) -> None:
        """Pause and move every tile by ``frames`` query frames."""
        if not self.ready:
            return
        self.pause()
        self.clock.clock.step(frames)
        self._present(force=True)

    def nudge(self, tile: int, frames: int) -> None:
        """Move one tile alone by ``frames`` of its own frames (pauses)."""
        if not self.ready:
            return
        self.pause()
        self.tiles[tile].show_nudge(self.clock.nudge(tile, frames))
        self._present(force=True)

    def set_hidden(self, tile: int, hidden: bool) -> None:
        """Hide or show one tile."""
        self.tiles[tile].set_hidden(hidden)

    def _on_hidden(self, tile: int, hidden: bool) -> None:
        src = self.tiles[tile].source
        if hidden and src is not None:
            src.schedule([])  # a hidden tile costs no decoding
        self._update_export_button()
        self._present(force=True)

    def _update_export_button(self) -> None:
        shown = [t for t in self.tiles[1:] if not t.hidden]
        self.export_button.setEnabled(bool(shown))
        self.export_button.setToolTip(
            "Write the shown tiles as one video (Ctrl+E)" if shown else "Every match is hidden"
        )

    # ------------------------------------------------------------------ the clock

    def expected_frames(self) -> list[int]:
        """The frame each tile should show now (by its time map and nudge)."""
        return self.clock.shown()

    def shown_frames(self) -> list[int | None]:
        """The frame each tile shows now (None: hidden or not decoded yet)."""
        return [t.shown for t in self.tiles]

    def _schedule(self) -> None:
        ahead = self.clock.lookahead(_LOOKAHEAD)
        for tile, frames in zip(self.tiles, ahead, strict=True):
            if tile.source is not None and not tile.hidden:
                tile.source.schedule([int(i) for i in frames])

    def _present(self, *, force: bool = False, now: float | None = None) -> None:
        """Show the frames due now; count on-time and late frames while playing."""
        if not self.ready:
            return
        now = self.clock.clock.now() if now is None else now
        due = self.clock.shown()
        due_changed = force
        playing = self.playing
        for tile, index in zip(self.tiles, due, strict=True):
            if tile.hidden or tile.source is None:
                continue
            image = None
            if tile.due != index:
                due_changed = True
                if playing and tile.due is not None and tile.shown != tile.due:
                    self.stats.late += 1  # never shown: skipped
                    self.stats.skipped += 1
                tile.due, tile.due_since = index, now
                image = tile.source.get(index)
                if image is not None and playing:
                    self.stats.on_time += 1
            elif tile.shown != index or force:
                image = tile.source.get(index)
                if image is not None and playing and tile.shown != index:
                    self.stats.late += 1
                    self.stats.late_ms.append(1000 * (now - tile.due_since))
            if image is not None:
                tile.set_frame(image, index)
        if due_changed:
            self._schedule()
            self._show_time()

    def _show_time(self) -> None:
        c = self.clock.clock
        q = self.tiles[0]
        qi = self.clock.query_frame()
        self.time_label.setText(f"{c.elapsed_timecode(q.rate)}  frame {qi}")
        if not self.scrubber.isSliderDown():
            self.scrubber.blockSignals(True)
            self.scrubber.setValue(round((c.position - c.start) * 1000))
            self.scrubber.blockSignals(False)

    def _on_frame_ready(self, index: int) -> None:
        if any(t.shown != t.due for t in self.tiles if not t.hidden):
            self._present()

    def _update_target_size(self, tile: Tile) -> None:
        if tile.source is None:
            return
        ratio = tile.canvas.devicePixelRatioF()
        w, h = tile.canvas.width() * ratio, tile.canvas.height() * ratio
        tile.source.set_target_size(round(w), round(h))
        tile.shown = None
        self._present(force=True)

    # ------------------------------------------------------------------ keys

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        K = QtCore.Qt.Key
        key = event.key()
        if key == K.Key_Space:
            self.toggle_play()
        elif key == K.Key_K:
            self.pause()
        elif key in (K.Key_J, K.Key_L):
            self.play(-1.0 if key == K.Key_J else 1.0)
        elif key in (K.Key_Left, K.Key_Right):
            self.step(1 if key == K.Key_Right else -1)
        elif key == K.Key_Home:
            self.seek(self.clock.clock.start)
        elif key == K.Key_End:
            self.seek(self.clock.clock.end)
        else:
            super().keyPressEvent(event)

    # ------------------------------------------------------------------ export

    def export_job(self, out: str, **options: Any) -> Any:
        """The job writing the shown tiles (the query always) to ``out``.

        ``options``: :func:`~avr_gui.core.export.export_grid` arguments (``burn_in``,
        ``tile_height``, ...). Each tile's nudge is the one it has now.
        """
        shown = [t for t in self.tiles[1:] if not t.hidden]
        if not shown:
            raise ValueError("Every match is hidden: show one to export the grid")
        tiles = [self.tiles[0], *shown]
        return grid_job(
            self.tiles[0].path,
            [(t.path, self.specs[t.index].time_map) for t in shown],
            out,
            nudges=[self.clock.nudges[t.index] for t in tiles],
            names=[t.name for t in tiles],
            **options,
        )

    def export(self, out: str, **options: Any) -> JobHandle:
        """Write the grid to ``out`` on the job runner (see :meth:`export_job`)."""
        h = self.runner.submit("Exporting the grid", self.export_job(out, **options))
        self.export_handle = h
        return h

    def default_export_path(self) -> str:
        """The file the export dialog offers (named after the query)."""
        return default_export_path(self.tiles[0].path, "grid", self.export_folder)

    def open_export_dialog(self) -> ExportDialog | None:
        """Choose the file and options, then export with progress and cancel."""
        if not self.export_button.isEnabled():
            return None
        self.pause()
        dialog = ExportDialog(
            self,
            kind="grid",
            default_path=self.default_export_path(),
            make_job=lambda out, opts: self.export_job(out, **opts),
            submit=lambda name, job: self.runner.submit(name, job),
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        self.export_dialog = dialog
        return dialog

    # ------------------------------------------------------------------ closing

    def close_sources(self) -> None:
        """Stop every decoder thread."""
        self.pause()
        for tile in self.tiles:
            if tile.source is not None:
                tile.source.stop()
                tile.source.deleteLater()
                tile.source = None

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.parent() and event.type() == QtCore.QEvent.Type.Close:
            self.close()
        return False

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.close_sources()
        if self._own_runner:
            self.runner.shutdown()
        elif self.export_handle is not None and not self.export_handle.done:
            self.export_handle.cancel()
        super().closeEvent(event)


#: The grid window's size on a screen with room for it.
DEFAULT_SIZE = (1280, 820)


def default_size(screen: QtCore.QSize) -> QtCore.QSize:
    """The grid window's first size: :data:`DEFAULT_SIZE`, within 95 % of ``screen``.

    On a 1366x768 laptop 820 pixels do not fit: the window (and its transport bar)
    would reach below the screen's edge.
    """
    w, h = DEFAULT_SIZE
    return QtCore.QSize(min(w, round(0.95 * screen.width())), min(h, round(0.9 * screen.height())))


def tile_name(path: str) -> str:
    """A tile's name: the file name without its suffix."""
    return Path(path).stem
