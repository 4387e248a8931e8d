"""The synced player widget: the query and the re-timed match, side by side or overlaid.

The arithmetic of time (play, pause, speed, seek, loop, steps, nudges, and which frame
each side shows) is the Qt-free :class:`~avr_gui.core.playback.PlaybackClock`: the
match shows, beside each query frame, the frame an export pairs with it. This widget
ticks that clock, gets the named frames from a
:class:`~avr_gui.gui.frame_source.FrameSource` per side (decoded ahead off the GUI
thread) and paints them; a tick that finds its frame missing keeps the previous one on
screen and counts the frame as late. With landmark tracks (a pose library), each side
can show its person's skeleton over the frame (toggle: the Skeleton box or S).

Each side's caption gives its SMPTE timecode, frame number and frame rate; the wheel
(or + and -) zooms both videos about the cursor, a drag pans them, a double-click (or 0)
fits them again.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.export.framemap import TimeMap
from avr_gui.core.playback import PlaybackClock
from avr_gui.gui.frame_source import FrameSource
from avr_gui.gui.player.canvas import WHEEL_STEP, ViewMode
from avr_gui.gui.player.controls import SPEEDS, build_controls
from avr_gui.gui.player.side import PlaybackStats, Side, caption
from avr_gui.gui.player.transport import Transport

_TICK_MS = 4
# Frames decoded ahead of the clock; a second at 30 fps would waste memory on long seeks.
_LOOKAHEAD = 10
# Zoomed in, frames are decoded up to this many times the fitted size (never past the
# source's own): sharp up to 4x without decoding 4K frames for a 400-pixel pane.
_ZOOM_DECODE = 4.0
# Zooming re-decodes the shown frame at the new size: once the wheel has settled.
_ZOOM_SETTLE_MS = 150


class SyncedPlayer(Transport, QtWidgets.QWidget):
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

    Attributes
    ----------
    clock : PlaybackClock
        The state of time; ``position``, ``start``, ``end``, ``rate``, ``loop``,
        ``playing`` and ``time_map`` read and write it.
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
        self.clock = PlaybackClock()
        self.query = Side("query", self.clock.query)
        self.match = Side("match", self.clock.match)
        self.stats = PlaybackStats()
        self._span_request: tuple[float, float] | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._zoom_timer = QtCore.QTimer(self)
        self._zoom_timer.setSingleShot(True)
        self._zoom_timer.setInterval(_ZOOM_SETTLE_MS)
        self._zoom_timer.timeout.connect(self._update_target_size)
        build_controls(self)

    # ------------------------------------------------------------------ clock state

    @property
    def position(self) -> float:
        """Clock time (query seconds, before the query nudge)."""
        return self.clock.position

    @position.setter
    def position(self, t: float) -> None:
        self.clock.position = float(t)

    @property
    def start(self) -> float:
        """First playable query second."""
        return self.clock.start

    @property
    def end(self) -> float:
        """End of the playable span (query seconds, excluded)."""
        return self.clock.end

    @property
    def rate(self) -> float:
        """Playback speed; negative plays backwards."""
        return self.clock.rate

    @property
    def loop(self) -> bool:
        """Wrap around at the ends of the span."""
        return self.clock.loop

    @loop.setter
    def loop(self, on: bool) -> None:
        self.clock.loop = bool(on)

    @property
    def time_map(self) -> TimeMap | None:
        """Query seconds -> match seconds of the loaded pair."""
        return self.clock.time_map

    @time_map.setter
    def time_map(self, time_map: TimeMap | None) -> None:
        self.clock.time_map = time_map

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
        self.clock.match_override = None
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

    def _open(self, path: str, side: Side) -> FrameSource:
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

    def _drop(self, side: Side) -> None:
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
        self.time_label.setText("00:00:00:00 / 00:00:00:00")
        self._update_skeleton_box()
        self.canvas.update()

    def _on_source_opened(self, side: Side, times: np.ndarray) -> None:
        side.times = np.asarray(times, dtype=np.float64)
        self._on_opened()

    def _on_source_damaged(self, side: Side, readable_s: float, nominal_s: float) -> None:
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
        self.clock.fit_span(self._span_request)
        self.scrubber.setRange(0, round((self.end - self.start) * 1000))
        self.canvas.message = "Loading…"
        self.ready_changed.emit(True)
        self._present(force=True)

    # ------------------------------------------------------------------ transport

    @property
    def _play_clock(self) -> PlaybackClock:
        return self.clock

    def _frame_holders(self) -> tuple[Side, Side]:
        return (self.query, self.match)

    def set_rate(self, rate: float) -> None:
        """Playback speed (1 = real time); keeps the direction if playing backwards."""
        if rate is None:
            return
        self.clock.set_rate(rate)

    def seek(self, t: float) -> None:
        """Move the clock to query time ``t`` (clamped to the playable span)."""
        self.clock.seek(t)
        self._present(force=True)

    def show_pair(self, query_time: float, match_time: float) -> None:
        """Pause and show the query at ``query_time`` next to the match at ``match_time``.

        The match override lasts until the next play, seek or step, which return the
        match to the time map.
        """
        self.pause()
        self.clock.show_pair(query_time, match_time)
        self._present(force=True)

    def step(self, frames: int) -> None:
        """Pause and move both sides by ``frames`` query frames."""
        self.pause()
        self.clock.step(frames)
        self._present(force=True)

    def step_side(self, side: str, frames: int) -> None:
        """Pause and move one side alone by ``frames`` of its own frames (a nudge)."""
        self.pause()
        offset = self.clock.step_side(side, frames)
        if offset is not None:
            self._set_offset(side, offset)

    def _set_offset(self, side: str, seconds: float, *, from_box: bool = False) -> None:
        self.clock.track(side).offset = float(seconds)
        if not from_box:
            box = self.query_nudge if side == "query" else self.match_nudge
            box.blockSignals(True)
            box.setValue(round(seconds * 1000))
            box.blockSignals(False)
        self._present(force=True)

    def set_mode(self, mode: ViewMode) -> None:
        """Side by side, top and bottom, blend, difference or wipe."""
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
        elif key in (K.Key_Plus, K.Key_Equal, K.Key_Minus):
            # Zoom about the middle of the query's picture (the wheel zooms about the cursor).
            rect = self.canvas.view_rect(0)
            if rect is not None:
                step = WHEEL_STEP if key != K.Key_Minus else 1 / WHEEL_STEP
                self.canvas.zoom_at(rect.intersected(self.canvas.areas()[0][0]).center(), step)
        elif key == K.Key_0:
            self.canvas.fit()
        else:
            super().keyPressEvent(event)

    # ------------------------------------------------------------------ the clock

    def _schedule(self) -> None:
        """Tell both decoders what comes next at the current speed and direction."""
        if self.query.source is None or self.query.times is None:
            return
        qidx, midx = self.clock.lookahead(_LOOKAHEAD)
        self.query.source.schedule([int(i) for i in qidx])
        if self.match.source is not None and midx is not None:
            self.match.source.schedule([int(i) for i in midx])

    def _present(self, *, force: bool = False, now: float | None = None) -> None:
        """Show the frames due at ``self.position``; count on-time and late frames."""
        if not self.ready:
            return
        now = self.clock.now() if now is None else now
        shown = self.clock.shown()
        qi, tq, tm = shown.query_index, shown.query_time, shown.match_time
        # The match side counts only once its video has opened.
        mi = shown.match_index if self.match.source is not None else None
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
                caption("Query", qi, self.query.rate, self.query.damage),
                caption("Match", mi, self.match.rate, self.match.damage) if mi is not None else "",
            )
            self.canvas.update()
            self.position_changed.emit(tq, tm)
            # Only when the picture changes: a 4 ms tick repainting these would steal
            # the GUI thread (and the GIL) from the decoders.
            if not self.scrubber.isSliderDown():
                self.scrubber.blockSignals(True)
                self.scrubber.setValue(round((self.position - self.start) * 1000))
                self.scrubber.blockSignals(False)
            self.time_label.setText(self.elapsed_timecode())

    def _on_frame_ready(self, index: int) -> None:
        if self.query.shown != self.query.due or self.match.shown != self.match.due:
            self._present(force=False)

    def elapsed_timecode(self) -> str:
        """``"00:00:01:12 / 00:00:05:07"``: into the played span / its length.

        SMPTE timecode at the query's frame rate (non-drop-frame,
        :mod:`avr_gui.core.timecode`); 25 fps until the query has opened.
        """
        return self.clock.elapsed_timecode(self.query.rate or 25.0)

    def frame_times(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Presentation times ``[N]`` of every frame of the query and of the match."""
        return self.query.times, self.match.times if self.match.source is not None else None

    def _update_target_size(self) -> None:
        w, h = self.canvas.side_size(two=self.match.source is not None)
        zoom = min(self.canvas.zoom, _ZOOM_DECODE)
        w, h = round(w * zoom), round(h * zoom)
        for side in (self.query, self.match):
            if side.source is not None:
                side.source.set_target_size(w, h)
                side.shown = None
        self._present(force=True)

    # ------------------------------------------------------------------ queries for tests

    def shown_indices(self) -> tuple[int | None, int | None]:
        """Frame indices on screen now (query, match)."""
        return self.query.shown, self.match.shown
