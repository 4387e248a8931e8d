"""The alignment view: the cost matrix, the warp path, random paths and pinned anchors.

Rows are query feature samples (top to bottom), columns match samples (left to right),
shown as a row-major ``ImageItem`` with a colour bar; the axes read seconds of each clip
(:class:`SecondsAxis`), not sample numbers. Hovering names both clips' times, video
frame numbers and timecodes; clicking a cell asks both players to show that pair;
Ctrl+click (or "Pin") fixes the cell as an anchor and the path is recomputed through
every anchor (:func:`avr_gui.core.workspace.anchors.align_through`).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from avr_gui.core.errors import AvrError
from avr_gui.core.timecode import nominal_rate, timecode
from avr_gui.core.workspace.anchors import AnchoredAlignment, align_through, random_paths

_RANDOM_PATHS = 5
#: Shortest interval between two moves of the playback cursor (ms).
_CURSOR_MS = 100
HINT = "Click: show that pair in the players · Ctrl+click: pin an anchor"


class SecondsAxis(pg.AxisItem):
    """An axis over sample cells that reads seconds of the clip, at round values.

    The plot's data coordinates stay cells (cell ``k`` spans ``[k, k + 1)``, its
    centre is sample ``k`` at ``times[k]``); the ticks are chosen in seconds (1, 2, 5
    steps, as for any axis) and placed at the cells those seconds fall in, so uneven
    sampling or a trimmed start (times from 5.0 s) still reads right.
    """

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.times = np.zeros(0)

    def set_times(self, times: np.ndarray) -> None:
        """Seconds ``[n]`` of each sample along this axis (empty: plain cell numbers)."""
        self.times = np.asarray(times, dtype=np.float64)
        self.picture = None  # redraw the ticks
        self.update()

    def _line(self) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(len(self.times)) + 0.5, self.times

    def to_seconds(self, pos: np.ndarray) -> np.ndarray:
        """Seconds at cell coordinates ``pos`` (linear past the ends)."""
        x, t = self._line()
        pos = np.asarray(pos, dtype=np.float64)
        slope = (t[-1] - t[0]) / (x[-1] - x[0])
        out = np.interp(pos, x, t)
        out = np.where(pos < x[0], t[0] + (pos - x[0]) * slope, out)
        return np.where(pos > x[-1], t[-1] + (pos - x[-1]) * slope, out)

    def to_pos(self, seconds: np.ndarray) -> np.ndarray:
        """Cell coordinates of ``seconds`` (the inverse of :meth:`to_seconds`)."""
        x, t = self._line()
        seconds = np.asarray(seconds, dtype=np.float64)
        slope = (x[-1] - x[0]) / (t[-1] - t[0])
        out = np.interp(seconds, t, x)
        out = np.where(seconds < t[0], x[0] + (seconds - t[0]) * slope, out)
        return np.where(seconds > t[-1], x[-1] + (seconds - t[-1]) * slope, out)

    def _has_times(self) -> bool:
        return len(self.times) >= 2 and bool(self.times[-1] > self.times[0])

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        if not self._has_times():
            return super().tickValues(minVal, maxVal, size)
        s0, s1 = sorted(float(v) for v in self.to_seconds(np.array([minVal, maxVal])))
        per_cell = (self.times[-1] - self.times[0]) / (len(self.times) - 1)
        return [
            (spacing / per_cell, list(self.to_pos(np.asarray(values))))
            for spacing, values in super().tickValues(s0, s1, size)
        ]

    def tickStrings(self, values: list, scale: float, spacing: float) -> list[str]:
        if not self._has_times() or not len(values):
            return super().tickStrings(values, scale, spacing)
        per_cell = (self.times[-1] - self.times[0]) / (len(self.times) - 1)
        step = spacing * per_cell
        decimals = max(0, int(np.ceil(-np.log10(step) - 1e-9))) if step < 1 else 0
        return [f"{s:.{decimals}f}" for s in self.to_seconds(np.asarray(values))]


#: What the panel shows before a match is selected.
PLACEHOLDER = (
    "Select a match to see how it lines up with the query: the cost of every pair of "
    "frames (dark = alike) and the time warp through it (white line)."
)


class AlignmentView(QtWidgets.QWidget):
    """Cost matrix and warp path of the selected candidate.

    Signals
    -------
    cell_clicked(query_index, match_index, query_time, match_time)
        A cell was clicked (seconds in the source files).
    path_changed(path)
        The path shown changed because anchors were pinned or cleared;
        ``path`` is ``numpy.ndarray`` shape (L, 2), int64.
    """

    cell_clicked = QtCore.Signal(int, int, float, float)
    path_changed = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.cost: np.ndarray | None = None
        self.path: np.ndarray | None = None
        self.optimal_path: np.ndarray | None = None
        self.query_times = np.zeros(0)
        self.match_times = np.zeros(0)
        self.anchors: list[tuple[int, int]] = []
        self.anchored: AnchoredAlignment | None = None
        #: Presentation times ``[N]`` of every video frame of the query / match (for
        #: frame numbers and timecodes), from the players once they opened.
        self.video_times: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
        self.query_axis, self.match_axis = SecondsAxis("left"), SecondsAxis("bottom")
        self.plot = pg.PlotWidget(axisItems={"left": self.query_axis, "bottom": self.match_axis})
        self.plot.setLabel("left", "query time (s)")
        self.plot.setLabel("bottom", "match time (s)")
        self.plot.invertY(True)
        self.plot.setAspectLocked(False)
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(False, False)
        # The range is set per matrix; auto-ranging over every item on each change is
        # the largest GUI-thread cost of showing a new alignment.
        self.plot.disableAutoRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        # Under the matrix, not beside it: the dock is narrower than it is tall.
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0),
            colorMap="viridis",
            label="cosine cost (dark = similar)",
            interactive=False,
            orientation="horizontal",
            width=12,
        )
        self.colorbar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.random_curves: list[pg.PlotDataItem] = []
        # Antialiasing only where it shows: the whole plot with it repaints 2-3x slower.
        self.path_curve = self.plot.plot(
            [], [], pen=pg.mkPen((255, 255, 255), width=2), antialias=True
        )
        self.anchor_points = pg.ScatterPlotItem(
            size=11, symbol="d", pen=pg.mkPen("k"), brush=pg.mkBrush(255, 80, 80)
        )
        self.plot.addItem(self.anchor_points)
        self.cursor = pg.ScatterPlotItem(
            size=9, symbol="+", pen=pg.mkPen((255, 200, 60), width=2), brush=None
        )
        self.plot.addItem(self.cursor)
        self._cursor_pending: tuple[float, float] | None = None
        self._cursor_shown_at = 0.0
        self._cursor_timer = QtCore.QTimer(self)
        self._cursor_timer.setSingleShot(True)
        self._cursor_timer.timeout.connect(self._apply_cursor)
        self.plot.scene().sigMouseMoved.connect(self._on_hover)
        self.plot.scene().sigMouseClicked.connect(self._on_click)

        self.hover_label = QtWidgets.QLabel(
            "Hover over the matrix: each clip's time,\nframe number and timecode at that cell"
        )
        self.hover_label.setObjectName("dim")
        self.hover_label.setWordWrap(True)
        # Two lines always: a one-line text would make the plot jump while hovering.
        self.hover_label.setMinimumHeight(2 * self.hover_label.fontMetrics().lineSpacing() + 4)
        self.summary = QtWidgets.QLabel("No candidate selected")
        self.summary.setWordWrap(True)
        self.random_box = QtWidgets.QCheckBox(f"{_RANDOM_PATHS} random paths")
        self.random_box.setToolTip(
            "Random monotone paths as DRAQ's baseline draws them: DRAQ is the optimal path's "
            "cost divided by their mean cost"
        )
        self.random_box.toggled.connect(self._draw_random)
        self.clear_button = QtWidgets.QPushButton("Clear pins")
        self.clear_button.setToolTip("Remove every pinned anchor and restore the optimal path")
        self.clear_button.clicked.connect(self.clear_anchors)
        self.clear_button.setEnabled(False)
        # On its own wrapping line: beside the buttons a narrow dock cut it off.
        self.hint = QtWidgets.QLabel(HINT)
        self.hint.setObjectName("dim")
        self.hint.setWordWrap(True)
        for label in (self.summary, self.hover_label, self.hint):
            label.setSizePolicy(
                QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Minimum
            )
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.random_box)
        bar.addStretch(1)
        bar.addWidget(self.clear_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        # Before a match is selected: a sentence saying what will be here, not empty axes.
        self.placeholder = QtWidgets.QLabel(PLACEHOLDER)
        self.placeholder.setObjectName("dim")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Ignored
        )
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.plot)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.hover_label)
        layout.addLayout(bar)
        layout.addWidget(self.hint)

    # ------------------------------------------------------------------ content

    def set_alignment(
        self,
        cost: np.ndarray,
        path: np.ndarray,
        query_times: np.ndarray,
        match_times: np.ndarray,
        summary: str = "",
    ) -> None:
        """Show a cost matrix and its optimal path.

        Parameters
        ----------
        cost : numpy.ndarray, shape (n, m)
        path : numpy.ndarray, shape (L, 2), int64
            ``[query_index, match_index]`` cells.
        query_times : numpy.ndarray, shape (n,)
            Seconds of each query row in the query file.
        match_times : numpy.ndarray, shape (m,)
        summary : str
            Text above the plot.
        """
        self.cost = np.ascontiguousarray(cost, dtype=np.float32)
        self.optimal_path = np.asarray(path, dtype=np.int64)
        self.path = self.optimal_path
        self.query_times = np.asarray(query_times, dtype=np.float64)
        self.match_times = np.asarray(match_times, dtype=np.float64)
        self.query_axis.set_times(self.query_times)
        self.match_axis.set_times(self.match_times)
        # The players say the new pair's frame times once they have opened it.
        self.video_times = (None, None)
        self.anchors = []
        self.anchored = None
        self._base_summary = summary
        self.summary.setText(summary)
        lo, hi = float(self.cost.min()), float(self.cost.max())
        self.image.setImage(self.cost, autoLevels=False, levels=(lo, hi if hi > lo else lo + 1))
        self.colorbar.setLevels((lo, hi if hi > lo else lo + 1))
        self._draw_path()
        self._draw_random()
        self.anchor_points.setData([], [])
        self.cursor.setData([], [])
        self.clear_button.setEnabled(False)
        n, m = self.cost.shape
        self.plot.setRange(xRange=(0, m), yRange=(0, n), padding=0.02)
        self.stack.setCurrentWidget(self.plot)

    def clear(self) -> None:
        """Show nothing (no candidate selected)."""
        self.cost = self.path = self.optimal_path = None
        self.query_axis.set_times(np.zeros(0))
        self.match_axis.set_times(np.zeros(0))
        self.image.clear()
        self.path_curve.setData([], [])
        self._draw_random()
        self.anchor_points.setData([], [])
        self.cursor.setData([], [])
        self.summary.setText("No candidate selected")
        self.stack.setCurrentWidget(self.placeholder)

    def _draw_path(self) -> None:
        if self.path is None:
            self.path_curve.setData([], [])
            return
        # +0.5: a cell (i, j) covers [j, j+1) x [i, i+1) in the image's coordinates.
        self.path_curve.setData(self.path[:, 1] + 0.5, self.path[:, 0] + 0.5)

    def _draw_random(self) -> None:
        for c in self.random_curves:
            self.plot.removeItem(c)
        self.random_curves = []
        if self.cost is None or not self.random_box.isChecked():
            return
        n, m = self.cost.shape
        for p in random_paths(n, m, _RANDOM_PATHS, seed=0):
            curve = self.plot.plot(
                p[:, 1] + 0.5,
                p[:, 0] + 0.5,
                pen=pg.mkPen((255, 150, 60, 170), width=1, style=QtCore.Qt.PenStyle.DashLine),
            )
            self.random_curves.append(curve)

    def set_cursor(self, query_time: float, match_time: float) -> None:
        """Mark the cell the players show now (times in seconds).

        At most every :data:`_CURSOR_MS` ms; calls in between are coalesced: during
        playback every frame moves the cursor, and each move repaints the plot, which
        would take GUI-thread time the player needs.
        """
        self._cursor_pending = (query_time, match_time)
        now = time.monotonic()
        if now - self._cursor_shown_at >= _CURSOR_MS / 1000:
            self._apply_cursor()
        elif not self._cursor_timer.isActive():
            self._cursor_timer.start(_CURSOR_MS)

    def _apply_cursor(self) -> None:
        self._cursor_shown_at = time.monotonic()
        if self._cursor_pending is None:
            return
        query_time, match_time = self._cursor_pending
        if self.cost is None or not len(self.query_times) or not np.isfinite(match_time):
            self.cursor.setData([], [])
            return
        i = float(np.interp(query_time, self.query_times, np.arange(len(self.query_times))))
        j = float(np.interp(match_time, self.match_times, np.arange(len(self.match_times))))
        self.cursor.setData([j + 0.5], [i + 0.5])

    # ------------------------------------------------------------------ mouse

    def cell_at(self, scene_pos: QtCore.QPointF) -> tuple[int, int] | None:
        """The ``(query_index, match_index)`` under a scene position, or ``None``."""
        if self.cost is None:
            return None
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        i, j = int(np.floor(p.y())), int(np.floor(p.x()))
        n, m = self.cost.shape
        if 0 <= i < n and 0 <= j < m:
            return i, j
        return None

    def scene_pos_of(self, i: int, j: int) -> QtCore.QPointF:
        """Scene position of the centre of cell ``(i, j)`` (for tests and tools)."""
        vb = self.plot.getPlotItem().getViewBox()
        return vb.mapViewToScene(QtCore.QPointF(j + 0.5, i + 0.5))

    def set_video_times(
        self, query_frames: np.ndarray | None, match_frames: np.ndarray | None
    ) -> None:
        """Presentation times of every video frame of the query and the match.

        Parameters
        ----------
        query_frames : numpy.ndarray, shape (N,), optional
        match_frames : numpy.ndarray, shape (M,), optional
            Seconds in each file (the players' frame times); with them the hover names
            video frame numbers and SMPTE timecodes beside the seconds.
        """
        self.video_times = (query_frames, match_frames)

    @staticmethod
    def _moment(name: str, t: float, frames: np.ndarray | None) -> str:
        """``"Query  5.300 s  ·  frame 132  ·  00:00:05:07"`` (no frame without times)."""
        text = f"{name}  {t:.3f} s"
        if frames is None or not len(frames):
            return text
        # The frame on screen at t: the last one that starts at or before it.
        k = max(int(np.searchsorted(frames, t + 1e-6, side="right")) - 1, 0)
        rate = nominal_rate(frames)
        tc = f"  ·  {timecode(k, rate)}" if rate is not None else ""
        return f"{text}  ·  frame {k}{tc}"

    def describe(self, i: int, j: int) -> str:
        """Two lines naming cell ``(i, j)``: each clip's time, frame, timecode; the cost."""
        assert self.cost is not None
        qf, mf = self.video_times
        return (
            f"{self._moment('Query', float(self.query_times[i]), qf)}\n"
            f"{self._moment('Match', float(self.match_times[j]), mf)}  ·  "
            f"cost {self.cost[i, j]:.3f}"
        )

    def _on_hover(self, scene_pos: QtCore.QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None:
            self.hover_label.setText(self.describe(*cell))

    def _on_click(self, event) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is None:
            return
        event.accept()
        if event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
            self.pin(*cell)
        else:
            self.click_cell(*cell)

    def click_cell(self, i: int, j: int) -> None:
        """Act as if cell ``(i, j)`` was clicked: announce both frames' times."""
        self.hover_label.setText(self.describe(i, j))
        self.cell_clicked.emit(i, j, float(self.query_times[i]), float(self.match_times[j]))

    # ------------------------------------------------------------------ anchors

    def pin(self, i: int, j: int) -> bool:
        """Pin cell ``(i, j)`` and recompute the path through every pin.

        Returns
        -------
        bool
            ``False`` (and a message in the summary) when the pins cannot all be
            visited by one monotone path; the pin is then not added.
        """
        if self.cost is None:
            return False
        try:
            anchored = align_through(self.cost, [*self.anchors, (i, j)])
        except AvrError as exc:
            self.summary.setText(f"{self._base_summary}\nPin refused: {exc}")
            return False
        self.anchors = list(anchored.anchors)
        self._apply(anchored)
        return True

    def clear_anchors(self) -> None:
        """Remove every pin and show the optimal path again."""
        if self.optimal_path is None:
            return
        self.anchors = []
        self.anchored = None
        self.path = self.optimal_path
        self.anchor_points.setData([], [])
        self.summary.setText(self._base_summary)
        self.clear_button.setEnabled(False)
        self._draw_path()
        self.path_changed.emit(self.path)

    def _apply(self, anchored: AnchoredAlignment) -> None:
        self.anchored = anchored
        self.path = anchored.path
        a = np.array(anchored.anchors, dtype=np.float64).reshape(-1, 2)
        self.anchor_points.setData(a[:, 1] + 0.5, a[:, 0] + 0.5)
        self.summary.setText(
            f"{self._base_summary}\nThrough {len(anchored.anchors)} pinned cell(s): "
            f"DTW cost {anchored.dtw_cost:.3f}, DRAQ {anchored.draq:.3f}"
        )
        self.clear_button.setEnabled(True)
        self._draw_path()
        self.path_changed.emit(self.path)
