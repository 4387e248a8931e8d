"""The synced player: the query and the re-timed match, side by side or overlaid.

One clock runs in *query time* (seconds in the query file). The query shows the frame
at ``t + query_offset``; the match shows the frame at ``time_map(t) + match_offset``,
where the time map comes from the alignment path. Frame steps and nudges of one side
change only that side's offset, so the two can be lined up by hand. Frames come from a
:class:`~avr_gui.gui.frame_source.FrameSource` per side, decoded ahead off the GUI
thread; a tick that finds its frame missing keeps the previous one on screen and
counts the frame as late. With landmark tracks (a pose library), each side can show its
person's skeleton over the frame (toggle: the Skeleton box or S).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.align import time_map_table
from avr_gui.gui.frame_source import FrameSource
from avr_gui.gui.skeleton_overlay import (
    MATCH_COLOUR,
    QUERY_COLOUR,
    landmarks_for_frame,
    paint_skeleton,
)
from avr_gui.gui.theme import resource

_EPS = 1e-6
_TICK_MS = 4
# Frames decoded ahead of the clock; a second at 30 fps would waste memory on long seeks.
_LOOKAHEAD = 10
SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)


class ViewMode(Enum):
    """How the two videos share the canvas."""

    SIDE_BY_SIDE = "Side by side"
    BLEND = "Blend"
    DIFFERENCE = "Difference"
    WIPE = "Wipe"


@dataclass(frozen=True)
class TimeMap:
    """Query time to match time, from an alignment (seconds in the source files).

    Attributes
    ----------
    query_times : numpy.ndarray, shape (K,), float64
        Increasing.
    match_times : numpy.ndarray, shape (K,), float64
        Non-decreasing.
    """

    query_times: np.ndarray
    match_times: np.ndarray

    @classmethod
    def from_path(cls, path: np.ndarray, query_ts: np.ndarray, match_ts: np.ndarray) -> TimeMap:
        """Build from a DTW path in feature-frame indices and both feature timestamps.

        Parameters
        ----------
        path : numpy.ndarray, shape (L, 2)
        query_ts : numpy.ndarray, shape (n,)
        match_ts : numpy.ndarray, shape (m,)
        """
        table = time_map_table(path, query_ts, match_ts)
        return cls(table["query_time"], table["match_time"])

    def __call__(self, t: np.ndarray | float) -> np.ndarray:
        """Match time(s) for query time(s) ``t``; clamped at both ends."""
        return np.interp(t, self.query_times, self.match_times)


@dataclass
class PlaybackStats:
    """Frames ready when due vs shown late, counted per side while playing.

    ``late`` includes ``skipped`` frames (due but replaced by the next one before the
    decoder delivered them); ``late_ms`` holds how late each late-but-shown frame was.
    """

    on_time: int = 0
    late: int = 0
    skipped: int = 0
    late_ms: list[float] = field(default_factory=list)

    def reset(self) -> None:
        """Start counting afresh."""
        self.on_time, self.late, self.skipped, self.late_ms = 0, 0, 0, []


class _Side:
    """The state of one half of the player (GUI thread only)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.source: FrameSource | None = None
        self.times: np.ndarray | None = None
        self.offset = 0.0
        self.shown: int | None = None
        self.image: QtGui.QImage | None = None
        self.due: int | None = None
        self.due_since = 0.0
        self.pose = None  # PoseTrack of this video, if the library has one
        self.damage = ""  # "damaged: plays to 4.1 s of 10.0 s" for a file cut short

    def pose_now(self) -> tuple[np.ndarray, tuple[int, int]] | None:
        """Landmarks ``[33, 3]`` of the shown frame and the source size, if tracked."""
        if self.pose is None or self.shown is None or self.times is None:
            return None
        lm = landmarks_for_frame(self.pose, float(self.times[self.shown]))
        return None if lm is None else (lm, tuple(self.pose.frame_size))

    def index_at(self, t: np.ndarray | float) -> np.ndarray:
        assert self.times is not None
        idx = np.searchsorted(self.times, np.asarray(t) + _EPS, side="right") - 1
        return np.clip(idx, 0, len(self.times) - 1)

    def frame_step(self, index: int) -> float:
        assert self.times is not None
        if len(self.times) < 2:
            return 1 / 30
        k = min(max(index, 0), len(self.times) - 2)
        return float(self.times[k + 1] - self.times[k])


class VideoCanvas(QtWidgets.QWidget):
    """Paints the two frames in one of the :class:`ViewMode` layouts."""

    resized = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = ViewMode.SIDE_BY_SIDE
        self.blend = 0.5
        self.wipe = 0.5
        self.left: QtGui.QImage | None = None
        self.right: QtGui.QImage | None = None
        self.captions = ("", "")
        self.message = "Open a query to start"
        #: Landmarks ``[33, 3]`` and source size of the shown query / match frame.
        self.poses: tuple = (None, None)
        self.show_skeleton = False
        self.setMinimumSize(320, 180)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding
        )

    def side_size(self) -> tuple[int, int]:
        """Device-pixel size one video is drawn at in the current mode."""
        dpr = self.devicePixelRatioF()
        w, h = self.width(), self.height() - 22
        if self.mode == ViewMode.SIDE_BY_SIDE and self.right is not None:
            w = w // 2 - 2  # the drawn half, see paintEvent
        return int(w * dpr), int(max(h, 16) * dpr)

    def set_mode(self, mode: ViewMode) -> None:
        self.mode = mode
        self.resized.emit()
        self.update()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        self._wipe_to(event.position().x())

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        self._wipe_to(event.position().x())

    def _wipe_to(self, x: float) -> None:
        if self.mode == ViewMode.WIPE and self.width() > 0:
            self.wipe = min(max(x / self.width(), 0.0), 1.0)
            self.update()

    @staticmethod
    def _fit(image: QtGui.QImage, area: QtCore.QRectF) -> QtCore.QRectF:
        iw, ih = image.width(), image.height()
        if iw == 0 or ih == 0:
            return area
        s = min(area.width() / iw, area.height() / ih)
        if 0.97 < s <= 1.0:
            s = 1.0  # decoded at about this size already: blit, don't resample
        w, h = iw * s, ih * s
        return QtCore.QRectF(
            round(area.x() + (area.width() - w) / 2),
            round(area.y() + (area.height() - h) / 2),
            w,
            h,
        )

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(12, 12, 14))
        video = QtCore.QRectF(0, 0, self.width(), self.height() - 22)
        left, right = self.left, self.right
        if left is None:
            p.setPen(QtGui.QColor(150, 150, 155))
            p.drawText(video, QtCore.Qt.AlignmentFlag.AlignCenter, self.message)
            p.end()
            return
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
        mode = self.mode if right is not None else ViewMode.SIDE_BY_SIDE
        # Where each frame lands and the part of it that shows (for the skeletons).
        ra = rb = clip_a = clip_b = None
        if mode == ViewMode.SIDE_BY_SIDE:
            if right is None:
                ra = clip_a = self._fit(left, video)
                p.drawImage(ra, left)
            else:
                half = video.width() / 2
                a = QtCore.QRectF(video.x(), video.y(), half - 2, video.height())
                b = QtCore.QRectF(video.x() + half + 2, video.y(), half - 2, video.height())
                ra, rb = self._fit(left, a), self._fit(right, b)
                clip_a, clip_b = a, b
                p.drawImage(ra, left)
                p.drawImage(rb, right)
        else:
            assert right is not None
            ra, rb = self._fit(left, video), self._fit(right, video)
            clip_a = clip_b = video
            p.drawImage(ra, left)
            if mode == ViewMode.BLEND:
                p.setOpacity(self.blend)
                p.drawImage(rb, right)
                p.setOpacity(1.0)
            elif mode == ViewMode.DIFFERENCE:
                p.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_Difference)
                p.drawImage(rb, right)
                p.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_SourceOver)
            else:  # wipe: the match on the right of the handle
                x = video.x() + self.wipe * video.width()
                clip_a = QtCore.QRectF(video.x(), video.y(), x - video.x(), video.height())
                clip_b = QtCore.QRectF(x, video.y(), video.right() - x, video.height())
                p.save()
                p.setClipRect(clip_b)
                p.drawImage(rb, right)
                p.restore()
                p.setPen(QtGui.QPen(QtGui.QColor(255, 200, 60), 2))
                p.drawLine(QtCore.QPointF(x, video.top()), QtCore.QPointF(x, video.bottom()))
        if self.show_skeleton:
            for pose, rect, clip, colour in (
                (self.poses[0], ra, clip_a, QUERY_COLOUR),
                (self.poses[1] if right is not None else None, rb, clip_b, MATCH_COLOUR),
            ):
                if pose is not None and rect is not None and clip is not None:
                    p.save()
                    p.setClipRect(clip)
                    paint_skeleton(p, pose[0], pose[1], rect, colour)
                    p.restore()
        p.setPen(QtGui.QColor(200, 200, 205))
        caption = QtCore.QRectF(0, self.height() - 20, self.width(), 20)
        if right is None or mode != ViewMode.SIDE_BY_SIDE:
            text = self.captions[0] + ("   |   " + self.captions[1] if right is not None else "")
            p.drawText(caption, QtCore.Qt.AlignmentFlag.AlignCenter, text)
        else:
            half = self.width() / 2
            p.drawText(
                QtCore.QRectF(0, caption.y(), half, 20),
                QtCore.Qt.AlignmentFlag.AlignCenter,
                self.captions[0],
            )
            p.drawText(
                QtCore.QRectF(half, caption.y(), half, 20),
                QtCore.Qt.AlignmentFlag.AlignCenter,
                self.captions[1],
            )
        p.end()


def _caption(name: str, t: float, index: int | None, damage: str) -> str:
    """``"Query  00:01.200  frame 12"``, plus the damage note of a file cut short."""
    text = f"{name}  {_fmt(t)}  frame {index}"
    return f"{text}  ({damage})" if damage else text


def _fmt(t: float) -> str:
    sign = "-" if t < 0 else ""
    t = abs(t)
    return f"{sign}{int(t // 60):02d}:{t % 60:06.3f}"


class SyncedPlayer(QtWidgets.QWidget):
    """Query and re-timed match played in sync, with per-side steps and nudges.

    Signals
    -------
    position_changed(query_time, match_time)
        Emitted whenever the shown frames change (``match_time`` is NaN without a match).
    in_point_requested(time), out_point_requested(time)
        The user pressed I or O (query seconds).
    error(message)
        A video could not be opened or decoded.
    notice(message)
        Once per loaded file cut short: ``"query: damaged: plays to 4.1 s of 10.0 s"``.
        The side plays up to the damage (a damaged match holds its last readable
        frame after it); the canvas caption of that side keeps saying so.
    """

    position_changed = QtCore.Signal(float, float)
    in_point_requested = QtCore.Signal(float)
    out_point_requested = QtCore.Signal(float)
    ready_changed = QtCore.Signal(bool)
    error = QtCore.Signal(str)
    notice = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.query = _Side("query")
        self.match = _Side("match")
        self.time_map: TimeMap | None = None
        self.start = 0.0
        self.end = 0.0
        self.position = 0.0
        self.rate = 1.0
        self.loop = True
        self.playing = False
        self.stats = PlaybackStats()
        self._match_override: float | None = None
        self._clock_origin = 0.0
        self._clock_pos = 0.0
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._build()

    # ------------------------------------------------------------------ layout

    def _button(self, icon: str, tip: str, slot) -> QtWidgets.QToolButton:
        b = QtWidgets.QToolButton()
        if icon.endswith(".svg"):
            b.setIcon(QtGui.QIcon(resource(icon)))
            b.setIconSize(QtCore.QSize(20, 20))
        else:
            b.setText(icon)
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        b.clicked.connect(slot)
        return b

    def _build(self) -> None:
        self.canvas = VideoCanvas()
        self.canvas.resized.connect(self._update_target_size)
        self.play_button = self._button("play.svg", "Play / pause (Space, K)", self.toggle_play)
        self.scrubber = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.scrubber.setRange(0, 0)
        self.scrubber.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.scrubber.sliderMoved.connect(lambda v: self.seek(self.start + v / 1000))
        self.scrubber.sliderPressed.connect(self.pause)
        self.time_label = QtWidgets.QLabel("00:00.000 / 00:00.000")
        self.time_label.setObjectName("timecode")
        self.speed = QtWidgets.QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed (J/K/L: reverse, pause, forward; again: faster)")
        self.speed.currentIndexChanged.connect(lambda _: self.set_rate(self.speed.currentData()))
        self.speed.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.loop_box = QtWidgets.QCheckBox("Loop")
        self.loop_box.setChecked(True)
        self.loop_box.toggled.connect(lambda on: setattr(self, "loop", on))
        self.loop_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.mode_box = QtWidgets.QComboBox()
        for m in ViewMode:
            self.mode_box.addItem(m.value, m)
        self.mode_box.setToolTip("How the query and the match share the view")
        self.mode_box.currentIndexChanged.connect(
            lambda _: self.set_mode(self.mode_box.currentData())
        )
        self.mode_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.blend_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.blend_slider.setRange(0, 100)
        self.blend_slider.setValue(50)
        self.blend_slider.setMinimumWidth(60)
        self.blend_slider.setMaximumWidth(80)
        self.blend_slider.setToolTip("Opacity of the match over the query")
        self.blend_slider.valueChanged.connect(self._set_blend)
        self.blend_slider.setVisible(False)
        self.blend_slider.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.skeleton_box = QtWidgets.QCheckBox("Skeleton")
        self.skeleton_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.skeleton_box.toggled.connect(self._set_skeleton)
        self._update_skeleton_box()

        transport = QtWidgets.QHBoxLayout()
        transport.addWidget(
            self._button("to-start.svg", "Go to start (Home)", lambda: self.seek(self.start))
        )
        transport.addWidget(
            self._button("step-back.svg", "Step back one frame (←)", lambda: self.step(-1))
        )
        transport.addWidget(self.play_button)
        transport.addWidget(
            self._button("step-forward.svg", "Step one frame (→)", lambda: self.step(1))
        )
        transport.addWidget(self.scrubber, 1)
        transport.addWidget(self.time_label)

        sides = QtWidgets.QHBoxLayout()
        self.query_nudge = self._nudge_box("query")
        self.match_nudge = self._nudge_box("match")
        sides.addWidget(QtWidgets.QLabel("Query"))
        sides.addWidget(
            self._button(
                "◂", "Step the query alone back (Ctrl+←)", lambda: self.step_side("query", -1)
            )
        )
        sides.addWidget(
            self._button("▸", "Step the query alone (Ctrl+→)", lambda: self.step_side("query", 1))
        )
        sides.addWidget(self.query_nudge)
        sides.addStretch(1)
        sides.addWidget(self.speed)
        sides.addWidget(self.loop_box)
        sides.addWidget(self.mode_box)
        sides.addWidget(self.blend_slider)
        sides.addWidget(self.skeleton_box)
        sides.addStretch(1)
        sides.addWidget(QtWidgets.QLabel("Match"))
        sides.addWidget(
            self._button(
                "◂", "Step the match alone back (Shift+←)", lambda: self.step_side("match", -1)
            )
        )
        sides.addWidget(
            self._button("▸", "Step the match alone (Shift+→)", lambda: self.step_side("match", 1))
        )
        sides.addWidget(self.match_nudge)
        self.status = QtWidgets.QLabel("")  # last decoder message (also on the canvas)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(transport)
        layout.addLayout(sides)

    def _nudge_box(self, side: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox()
        box.setRange(-60000, 60000)
        box.setDecimals(0)
        box.setSingleStep(10)
        box.setSuffix(" ms")
        box.setToolTip(f"Nudge: shift the {side} against the other side (milliseconds)")
        box.valueChanged.connect(lambda v, s=side: self._set_offset(s, v / 1000, from_box=True))
        return box

    # ------------------------------------------------------------------ loading

    def load(
        self,
        query_path: str,
        match_path: str | None = None,
        time_map: TimeMap | None = None,
        span: tuple[float, float] | None = None,
    ) -> None:
        """Show ``query_path`` (and ``match_path`` re-timed by ``time_map``).

        Parameters
        ----------
        query_path : str
        match_path : str, optional
        time_map : TimeMap, optional
            Required with ``match_path``.
        span : (float, float), optional
            Query seconds to play (default: the time map's span, else the whole query).
        """
        self.pause()
        keep_query = self.query.source is not None and self.query.source.path == query_path
        if not keep_query:
            self._drop(self.query)
            self.query.source = self._open(query_path, self.query)
        if self.match.source is None or match_path is None or self.match.source.path != match_path:
            self._drop(self.match)
            if match_path is not None:
                self.match.source = self._open(match_path, self.match)
        self._update_skeleton_box()
        self.time_map = time_map if match_path is not None else None
        self._span_request = span
        self.query.offset = self.match.offset = 0.0
        self._match_override = None
        for box in (self.query_nudge, self.match_nudge):
            box.blockSignals(True)
            box.setValue(0)
            box.blockSignals(False)
        if not keep_query:
            self.canvas.left = None
        self.canvas.right = None
        self.canvas.message = "Loading…"
        self.match.shown = None
        self._update_target_size()
        self._on_opened()

    def set_time_map(self, time_map: TimeMap) -> None:
        """Replace the time map (e.g. after pinning anchors) and keep the position."""
        self.time_map = time_map
        self._present(force=True)

    def _open(self, path: str, side: _Side) -> FrameSource:
        src = FrameSource(path, side.name)
        src.opened.connect(lambda times, s=side: self._on_source_opened(s, times))
        src.frame_ready.connect(self._on_frame_ready)
        src.failed.connect(self._on_failed)
        src.damaged.connect(lambda r, n, s=side: self._on_source_damaged(s, r, n))
        src.start()
        side.times = None
        side.shown = None
        side.image = None
        side.damage = ""
        return src

    def _drop(self, side: _Side) -> None:
        if side.source is not None:
            side.source.stop()
            side.source.deleteLater()
        side.source = None
        side.times = None
        side.shown = None
        side.image = None
        side.pose = None
        side.damage = ""

    def close_sources(self) -> None:
        """Stop both decoder threads (call before the window goes away)."""
        self.pause()
        self._drop(self.query)
        self._drop(self.match)

    def clear(self, message: str = "Open a query to start") -> None:
        """Unload both videos and show ``message`` instead."""
        self.close_sources()
        self.time_map = None
        self.canvas.left = self.canvas.right = None
        self.canvas.poses = (None, None)
        self.canvas.message = message
        self.scrubber.setRange(0, 0)
        self.time_label.setText(f"{_fmt(0.0)} / {_fmt(0.0)}")
        self._update_skeleton_box()
        self.canvas.update()

    def _on_source_opened(self, side: _Side, times: np.ndarray) -> None:
        side.times = np.asarray(times, dtype=np.float64)
        self._on_opened()

    def _on_source_damaged(self, side: _Side, readable_s: float, nominal_s: float) -> None:
        # Said once here and kept in the caption: a per-frame error would repeat it.
        side.damage = f"damaged: plays to {readable_s:.1f} s of {nominal_s:.1f} s"
        message = f"{side.name}: {side.damage}"
        self.status.setText(message)
        self.notice.emit(message)
        self._present(force=True)

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        self.canvas.message = message
        self.canvas.update()
        self.error.emit(message)

    @property
    def ready(self) -> bool:
        """Whether every loaded video has opened (its frame times are known)."""
        if self.query.source is None or self.query.times is None:
            return False
        return self.match.source is None or self.match.times is not None

    def _on_opened(self) -> None:
        if not self.ready:
            return
        assert self.query.times is not None
        qt = self.query.times
        step = self.query.frame_step(len(qt) - 1)
        span = getattr(self, "_span_request", None)
        if span is None and self.time_map is not None:
            span = (
                float(self.time_map.query_times[0]),
                float(self.time_map.query_times[-1]),
            )
            # The map holds sampled frames only: the last one stays on screen one step.
            gaps = np.diff(self.time_map.query_times)
            span = (span[0], span[1] + (float(np.median(gaps)) if len(gaps) else step))
        if span is None:
            span = (float(qt[0]), float(qt[-1]) + step)
        self.start = max(float(span[0]), float(qt[0]))
        self.end = min(max(float(span[1]), self.start + step), float(qt[-1]) + step)
        self.scrubber.setRange(0, round((self.end - self.start) * 1000))
        self.position = self.start
        self.canvas.message = "Loading…"
        self.ready_changed.emit(True)
        self._present(force=True)

    # ------------------------------------------------------------------ transport

    def toggle_play(self) -> None:
        """Play if paused, else pause."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self, rate: float | None = None) -> None:
        """Start playing at ``rate`` (negative: backwards) or the current speed."""
        if not self.ready:
            return
        if rate is not None:
            self.rate = rate
        if self.rate > 0 and self.position >= self.end - 1e-3:
            self.position = self.start
        if self.rate < 0 and self.position <= self.start + 1e-3:
            self.position = self.end - 1e-3
        self._match_override = None
        self.playing = True
        self._clock_origin = time.perf_counter()
        self._clock_pos = self.position
        for side in (self.query, self.match):
            side.due = None
        self.play_button.setIcon(QtGui.QIcon(resource("pause.svg")))
        self._timer.start()

    def pause(self) -> None:
        """Stop at the current frame."""
        self.playing = False
        self._timer.stop()
        self.play_button.setIcon(QtGui.QIcon(resource("play.svg")))

    def set_rate(self, rate: float) -> None:
        """Playback speed (1 = real time); keeps the direction if playing backwards."""
        if rate is None:
            return
        sign = -1.0 if self.rate < 0 else 1.0
        self.rate = sign * float(rate)
        if self.playing:
            self._clock_origin = time.perf_counter()
            self._clock_pos = self.position

    def seek(self, t: float) -> None:
        """Move the clock to query time ``t`` (clamped to the playable span)."""
        self._match_override = None
        self.position = min(max(float(t), self.start), max(self.start, self.end - 1e-6))
        if self.playing:
            self._clock_origin = time.perf_counter()
            self._clock_pos = self.position
        self._present(force=True)

    def show_pair(self, query_time: float, match_time: float) -> None:
        """Pause and show the query at ``query_time`` next to the match at ``match_time``.

        The match override lasts until the next play, seek or step, which return the
        match to the time map.
        """
        self.pause()
        self.seek(query_time - self.query.offset)
        self._match_override = float(match_time)
        self._present(force=True)

    def step(self, frames: int) -> None:
        """Pause and move both sides by ``frames`` query frames."""
        self.pause()
        if self.query.times is None:
            return
        i = int(self.query.index_at(self.position + self.query.offset))
        j = min(max(i + frames, 0), len(self.query.times) - 1)
        self.seek(float(self.query.times[j]) - self.query.offset)

    def step_side(self, side: str, frames: int) -> None:
        """Pause and move one side alone by ``frames`` of its own frames (a nudge)."""
        self.pause()
        s = self.query if side == "query" else self.match
        if s.times is None:
            return
        base = self._base_time(s)
        i = int(s.index_at(base + s.offset))
        j = min(max(i + frames, 0), len(s.times) - 1)
        self._set_offset(side, float(s.times[j]) - base)

    def _base_time(self, side: _Side) -> float:
        if side is self.query:
            return self.position
        if self._match_override is not None:
            return self._match_override
        if self.time_map is None:
            return self.position
        return float(self.time_map(self.position))

    def _set_offset(self, side: str, seconds: float, *, from_box: bool = False) -> None:
        s = self.query if side == "query" else self.match
        s.offset = float(seconds)
        if not from_box:
            box = self.query_nudge if side == "query" else self.match_nudge
            box.blockSignals(True)
            box.setValue(round(seconds * 1000))
            box.blockSignals(False)
        self._present(force=True)

    def set_mode(self, mode: ViewMode) -> None:
        """Side by side, blend, difference or wipe."""
        self.blend_slider.setVisible(mode == ViewMode.BLEND)
        if self.mode_box.currentData() != mode:
            self.mode_box.setCurrentIndex(list(ViewMode).index(mode))
        self.canvas.set_mode(mode)

    def _set_blend(self, value: int) -> None:
        self.canvas.blend = value / 100
        self.canvas.update()

    # ------------------------------------------------------------------ pose

    def set_poses(self, query_pose=None, match_pose=None) -> None:
        """Landmark tracks (``PoseTrack`` or ``None``) of the loaded query and match.

        The skeleton toggle is enabled while at least one side has a track.
        """
        self.query.pose = query_pose
        self.match.pose = match_pose
        self._update_skeleton_box()
        self._present(force=True)

    @property
    def has_poses(self) -> bool:
        """Whether either side has a landmark track."""
        return self.query.pose is not None or self.match.pose is not None

    def _update_skeleton_box(self) -> None:
        self.skeleton_box.setEnabled(self.has_poses)
        self.skeleton_box.setToolTip(
            "Draw the tracked person's skeleton on both videos (S)"
            if self.has_poses
            else "No skeletons: this library was not indexed with a pose encoder "
            "(pose-blazepose, pose-movenet or pose-fused)"
        )

    def _set_skeleton(self, on: bool) -> None:
        self.canvas.show_skeleton = bool(on)
        self.canvas.update()

    def toggle_skeleton(self) -> None:
        """Skeletons on or off (the S key); does nothing without landmark tracks."""
        if self.skeleton_box.isEnabled():
            self.skeleton_box.toggle()

    # ------------------------------------------------------------------ keys

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        K = QtCore.Qt.Key
        if key == K.Key_Space:
            self.toggle_play()
        elif key == K.Key_K:
            self.pause()
        elif key in (K.Key_L, K.Key_J):
            direction = 1.0 if key == K.Key_L else -1.0
            speed = abs(self.rate)
            if self.playing and np.sign(self.rate) == direction:
                speed = min(speed * 2, SPEEDS[-1])
            else:
                speed = 1.0
            self.play(direction * speed)
        elif key in (K.Key_Left, K.Key_Right):
            d = 1 if key == K.Key_Right else -1
            if mods & QtCore.Qt.KeyboardModifier.ShiftModifier:
                self.step_side("match", d)
            elif mods & QtCore.Qt.KeyboardModifier.ControlModifier:
                self.step_side("query", d)
            else:
                self.step(d)
        elif key == K.Key_Home:
            self.seek(self.start)
        elif key == K.Key_End:
            self.seek(self.end)
        elif key == K.Key_I:
            self.in_point_requested.emit(self.position + self.query.offset)
        elif key == K.Key_O:
            self.out_point_requested.emit(self.position + self.query.offset)
        elif key == K.Key_S and mods == QtCore.Qt.KeyboardModifier.NoModifier:
            self.toggle_skeleton()
        else:
            super().keyPressEvent(event)

    # ------------------------------------------------------------------ the clock

    def _targets(self, t: float) -> tuple[int, int | None, float, float]:
        tq = t + self.query.offset
        qi = int(self.query.index_at(tq))
        if self.match.source is None or self.match.times is None:
            return qi, None, tq, float("nan")
        tm = self._base_time(self.match) if self._match_override is None else self._match_override
        tm += self.match.offset
        return qi, int(self.match.index_at(tm)), tq, tm

    def _schedule(self) -> None:
        """Tell both decoders what comes next at the current speed and direction."""
        if self.query.source is None or self.query.times is None:
            return
        step = self.query.frame_step(int(self.query.index_at(self.position)))
        direction = -1.0 if (self.playing and self.rate < 0) else 1.0
        span = step * max(1.0, abs(self.rate) if self.playing else 1.0)
        ts = self.position + direction * span * np.arange(_LOOKAHEAD + 1)
        if self.playing and self.loop:
            length = self.end - self.start
            if length > 0:
                ts = self.start + np.mod(ts - self.start, length)
        qidx = self.query.index_at(ts + self.query.offset)
        self.query.source.schedule([int(i) for i in qidx])
        if self.match.source is not None and self.match.times is not None:
            if self._match_override is not None:
                mt = np.array([self._match_override])
            elif self.time_map is not None:
                mt = self.time_map(ts)
            else:
                mt = ts
            midx = self.match.index_at(mt + self.match.offset)
            self.match.source.schedule([int(i) for i in midx])

    def _tick(self) -> None:
        if not self.playing:
            return
        now = time.perf_counter()
        t = self._clock_pos + (now - self._clock_origin) * self.rate
        if t >= self.end or t < self.start:
            if not self.loop:
                self.position = self.end - 1e-6 if t >= self.end else self.start
                self._present(force=True)
                self.pause()
                return
            length = self.end - self.start
            t = self.start + ((t - self.start) % length if length > 0 else 0.0)
            self._clock_origin, self._clock_pos = now, t
        self.position = t
        self._present(now=now)

    def _present(self, *, force: bool = False, now: float | None = None) -> None:
        """Show the frames due at ``self.position``; count on-time and late frames."""
        if not self.ready:
            return
        now = time.perf_counter() if now is None else now
        qi, mi, tq, tm = self._targets(self.position)
        changed = False
        due_changed = force
        for side, index in ((self.query, qi), (self.match, mi)):
            if index is None or side.source is None:
                continue
            if side.due != index:
                due_changed = True
                # A new frame became due. It is on time if the decoder already has it.
                if self.playing and side.due is not None and side.shown != side.due:
                    self.stats.late += 1  # never shown: skipped
                    self.stats.skipped += 1
                side.due, side.due_since = index, now
                image = side.source.get(index)
                if image is not None:
                    if self.playing:
                        self.stats.on_time += 1
                    side.image, side.shown = image, index
                    changed = True
            elif side.shown != index:
                image = side.source.get(index)
                if image is not None:
                    if self.playing:
                        self.stats.late += 1
                        self.stats.late_ms.append(1000 * (now - side.due_since))
                    side.image, side.shown = image, index
                    changed = True
        if due_changed:
            self._schedule()
        if changed or force:
            self.canvas.left = self.query.image
            self.canvas.right = self.match.image if self.match.source is not None else None
            self.canvas.poses = (
                self.query.pose_now(),
                self.match.pose_now() if self.match.source is not None else None,
            )
            self.canvas.captions = (
                _caption("Query", tq, qi, self.query.damage),
                _caption("Match", tm, mi, self.match.damage) if mi is not None else "",
            )
            self.canvas.update()
            self.position_changed.emit(tq, tm)
            # Only when the picture changes: a 4 ms tick repainting these would steal
            # the GUI thread (and the GIL) from the decoders.
            if not self.scrubber.isSliderDown():
                self.scrubber.blockSignals(True)
                self.scrubber.setValue(round((self.position - self.start) * 1000))
                self.scrubber.blockSignals(False)
            self.time_label.setText(
                f"{_fmt(self.position - self.start)} / {_fmt(self.end - self.start)}"
            )

    def _on_frame_ready(self, index: int) -> None:
        if self.query.shown != self.query.due or self.match.shown != self.match.due:
            self._present(force=False)

    def _update_target_size(self) -> None:
        w, h = self.canvas.side_size()
        two = self.match.source is not None
        if two and self.canvas.mode == ViewMode.SIDE_BY_SIDE and self.canvas.right is None:
            w = w // 2 - 2
        for side in (self.query, self.match):
            if side.source is not None:
                side.source.set_target_size(w, h)
                side.shown = None
        self._present(force=True)

    # ------------------------------------------------------------------ queries for tests

    def shown_indices(self) -> tuple[int | None, int | None]:
        """Frame indices on screen now (query, match)."""
        return self.query.shown, self.match.shown
