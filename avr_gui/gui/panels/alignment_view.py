"""The alignment view: the cost matrix, the warp path, random paths and pinned anchors.

Rows are query frames (top to bottom), columns match frames (left to right), shown as
a row-major ``ImageItem`` with a colour bar. Hovering names the two frames' times;
clicking a cell asks both players to show that pair; Ctrl+click (or "Pin") fixes the
cell as an anchor and the path is recomputed through every anchor
(:func:`avr_gui.core.workspace.anchors.align_through`).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from avr_gui.core.errors import AvrError
from avr_gui.core.workspace.anchors import AnchoredAlignment, align_through, random_paths

_RANDOM_PATHS = 5
#: Shortest interval between two moves of the playback cursor (ms).
_CURSOR_MS = 100


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
        self.plot = pg.PlotWidget()
        self.plot.setLabel("left", "query frame")
        self.plot.setLabel("bottom", "match frame")
        self.plot.invertY(True)
        self.plot.setAspectLocked(False)
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(False, False)
        # The range is set per matrix; auto-ranging over every item on each change is
        # the largest GUI-thread cost of showing a new alignment.
        self.plot.disableAutoRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap="viridis", label="cosine cost", interactive=False
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

        self.hover_label = QtWidgets.QLabel("Hover over the matrix to read both frames' times")
        self.hover_label.setObjectName("dim")
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
        hint = QtWidgets.QLabel("Click: show that pair · Ctrl+click: pin an anchor")
        hint.setObjectName("dim")
        for label in (self.summary, self.hover_label, hint):
            label.setSizePolicy(
                QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
            )
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.random_box)
        bar.addWidget(self.clear_button)
        bar.addWidget(hint, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hover_label)
        layout.addLayout(bar)

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

    def clear(self) -> None:
        """Show nothing (no candidate selected)."""
        self.cost = self.path = self.optimal_path = None
        self.image.clear()
        self.path_curve.setData([], [])
        self._draw_random()
        self.anchor_points.setData([], [])
        self.cursor.setData([], [])
        self.summary.setText("No candidate selected")

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

    def _describe(self, i: int, j: int) -> str:
        assert self.cost is not None
        return (
            f"query frame {i} @ {self.query_times[i]:.3f} s  ·  match frame {j} @ "
            f"{self.match_times[j]:.3f} s  ·  cost {self.cost[i, j]:.3f}"
        )

    def _on_hover(self, scene_pos: QtCore.QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None:
            self.hover_label.setText(self._describe(*cell))

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
        self.hover_label.setText(self._describe(i, j))
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
