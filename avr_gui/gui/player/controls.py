"""The synced player's controls: transport, speed, loop, view mode, per-side nudges."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.gui.player.canvas import VideoCanvas, ViewMode
from avr_gui.gui.theme import resource

if TYPE_CHECKING:
    from avr_gui.gui.player.widget import SyncedPlayer

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)


class SeekSlider(QtWidgets.QSlider):
    """The timeline: a click anywhere on it seeks there, and the drag goes on from there.

    A plain ``QSlider`` pages by a step toward a click on its groove; a timeline puts
    the playhead under the mouse. ``clicked_value(value)`` is emitted before the drag
    starts (``sliderPressed`` / ``sliderMoved`` follow as for a drag of the handle).
    """

    clicked_value = QtCore.Signal(int)

    def value_at(self, x: float) -> int:
        """The slider value under widget x-coordinate ``x`` (the handle's centre there)."""
        opt = QtWidgets.QStyleOptionSlider()
        self.initStyleOption(opt)
        style = self.style()
        CC = QtWidgets.QStyle.ComplexControl.CC_Slider
        groove = style.subControlRect(CC, opt, QtWidgets.QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(CC, opt, QtWidgets.QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        return QtWidgets.QStyle.sliderValueFromPosition(
            self.minimum(),
            self.maximum(),
            round(x - groove.x() - handle.width() / 2),
            max(span, 1),
            opt.upsideDown,
        )

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            value = self.value_at(event.position().x())
            self.clicked_value.emit(value)
            self.setValue(value)  # the handle is now under the mouse: the press grabs it
        super().mousePressEvent(event)


def tool_button(icon: str, tip: str, slot: Callable[[], object]) -> QtWidgets.QToolButton:
    """A flat button with an SVG icon from the resources (``*.svg``) or a text glyph."""
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


def nudge_box(player: SyncedPlayer, side: str) -> QtWidgets.QDoubleSpinBox:
    """The millisecond nudge of one side (``"query"`` or ``"match"``)."""
    box = QtWidgets.QDoubleSpinBox()
    box.setRange(-60000, 60000)
    box.setDecimals(0)
    box.setSingleStep(10)
    box.setSuffix(" ms")
    box.setMaximumWidth(96)
    box.setToolTip(f"Nudge: shift the {side} against the other side (milliseconds)")
    box.valueChanged.connect(lambda v, s=side: player._set_offset(s, v / 1000, from_box=True))
    return box


def build_controls(player: SyncedPlayer) -> None:
    """Create the player's canvas and controls as its attributes and lay them out.

    The widgets (``canvas``, ``play_button``, ``scrubber``, ``time_label``, ``speed``,
    ``loop_box``, ``mode_box``, ``blend_slider``, ``skeleton_box``, ``query_nudge``,
    ``match_nudge``, ``status``) are wired to the player's slots.
    """
    player.canvas = VideoCanvas()
    player.canvas.resized.connect(player._update_target_size)
    player.canvas.zoom_changed.connect(lambda _: player._zoom_timer.start())
    player.play_button = tool_button("play.svg", "Play / pause (Space, K)", player.toggle_play)
    player.scrubber = SeekSlider(QtCore.Qt.Orientation.Horizontal)
    player.scrubber.setRange(0, 0)
    player.scrubber.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    player.scrubber.setToolTip("Timeline: click or drag to seek")
    player.scrubber.clicked_value.connect(
        lambda v: (player.pause(), player.seek(player.start + v / 1000))
    )
    player.scrubber.sliderMoved.connect(lambda v: player.seek(player.start + v / 1000))
    player.scrubber.sliderPressed.connect(player.pause)
    player.time_label = QtWidgets.QLabel("00:00:00:00 / 00:00:00:00")
    player.time_label.setObjectName("timecode")
    player.time_label.setToolTip(
        "Time into the played span / its length, as SMPTE timecode (HH:MM:SS:FF) at the "
        "query's frame rate; each video's own timecode and frame number are under it"
    )
    player.speed = QtWidgets.QComboBox()
    for s in SPEEDS:
        player.speed.addItem(f"{s:g}×", s)
    player.speed.setCurrentIndex(SPEEDS.index(1.0))
    player.speed.setToolTip("Playback speed (J/K/L: reverse, pause, forward; again: faster)")
    player.speed.currentIndexChanged.connect(lambda _: player.set_rate(player.speed.currentData()))
    player.speed.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    player.loop_box = QtWidgets.QCheckBox("Loop")
    player.loop_box.setChecked(True)
    player.loop_box.toggled.connect(lambda on: setattr(player, "loop", on))
    player.loop_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    player.mode_box = QtWidgets.QComboBox()
    for m in ViewMode:
        player.mode_box.addItem(m.value, m)
    player.mode_box.setToolTip(
        "How the query and the match share the view. On the video: wheel zooms about "
        "the cursor, drag pans, double-click fits"
    )
    player.mode_box.currentIndexChanged.connect(
        lambda _: player.set_mode(player.mode_box.currentData())
    )
    player.mode_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    player.blend_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
    player.blend_slider.setRange(0, 100)
    player.blend_slider.setValue(50)
    player.blend_slider.setMinimumWidth(60)
    player.blend_slider.setMaximumWidth(80)
    player.blend_slider.setToolTip("Opacity of the match over the query")
    player.blend_slider.valueChanged.connect(player._set_blend)
    player.blend_slider.setVisible(False)
    player.blend_slider.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    player.skeleton_box = QtWidgets.QCheckBox("Skeleton")
    player.skeleton_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    player.skeleton_box.toggled.connect(player._set_skeleton)
    player._update_skeleton_box()

    transport = QtWidgets.QHBoxLayout()
    transport.addWidget(
        tool_button("to-start.svg", "Go to start (Home)", lambda: player.seek(player.start))
    )
    transport.addWidget(
        tool_button("step-back.svg", "Step back one frame (←)", lambda: player.step(-1))
    )
    transport.addWidget(player.play_button)
    transport.addWidget(
        tool_button("step-forward.svg", "Step one frame (→)", lambda: player.step(1))
    )
    transport.addWidget(player.time_label)
    transport.addStretch(1)
    transport.addWidget(player.speed)
    transport.addWidget(player.loop_box)
    transport.addWidget(player.skeleton_box)

    sides = QtWidgets.QHBoxLayout()
    player.query_nudge = nudge_box(player, "query")
    player.match_nudge = nudge_box(player, "match")
    sides.addWidget(QtWidgets.QLabel("Query"))
    sides.addWidget(
        tool_button(
            "◂", "Step the query alone back (Ctrl+←)", lambda: player.step_side("query", -1)
        )
    )
    sides.addWidget(
        tool_button("▸", "Step the query alone (Ctrl+→)", lambda: player.step_side("query", 1))
    )
    sides.addWidget(player.query_nudge)
    sides.addStretch(1)
    sides.addWidget(player.mode_box)
    sides.addWidget(player.blend_slider)
    sides.addStretch(1)
    sides.addWidget(QtWidgets.QLabel("Match"))
    sides.addWidget(
        tool_button(
            "◂", "Step the match alone back (Shift+←)", lambda: player.step_side("match", -1)
        )
    )
    sides.addWidget(
        tool_button("▸", "Step the match alone (Shift+→)", lambda: player.step_side("match", 1))
    )
    sides.addWidget(player.match_nudge)
    player.status = QtWidgets.QLabel("")  # last decoder message (also on the canvas)

    # The timeline has a row of its own, the player's full width: beside the buttons it
    # was a short slider on a 1366-pixel screen. Three short rows keep the player narrow
    # enough to sit between the library and the cost matrix there.
    layout = QtWidgets.QVBoxLayout(player)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.setSpacing(2)
    layout.addWidget(player.canvas, 1)
    layout.addWidget(player.scrubber)
    layout.addLayout(transport)
    layout.addLayout(sides)
