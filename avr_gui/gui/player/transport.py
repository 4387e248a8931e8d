"""Play, pause and the frame timer's tick: the transport the synced player and the grid share.

Both keep time with a :class:`~avr_gui.core.playback.PlaybackClock`, present frames from
a precise timer and show play or pause on one button; only which clock and which
frame holders (the player's two sides, the grid's tiles) differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.gui.theme import resource

if TYPE_CHECKING:
    from avr_gui.core.playback import PlaybackClock


class _DueFrame(Protocol):
    due: int | None


class Transport:
    """Mixin (listed before the Qt widget class) for toggle/play/pause and the tick.

    The widget provides ``ready``, ``play_button``, ``_timer`` (started while
    playing, its timeout connected to ``_tick``), ``_present(force=, now=)``,
    ``_play_clock`` (the clock that keeps time) and ``_frame_holders()`` (whatever has a
    frame ``due``, forgotten when playing starts so no stale frame is waited for).
    """

    ready: bool
    play_button: QtWidgets.QToolButton
    _timer: QtCore.QTimer
    _present: Any

    @property
    def _play_clock(self) -> PlaybackClock:
        raise NotImplementedError

    def _frame_holders(self) -> Iterable[_DueFrame]:
        raise NotImplementedError

    @property
    def playing(self) -> bool:
        """Whether the clock runs."""
        return self._play_clock.playing

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
        self._play_clock.play(rate)
        for holder in self._frame_holders():
            holder.due = None
        self.play_button.setIcon(QtGui.QIcon(resource("pause.svg")))
        self._timer.start()

    def pause(self) -> None:
        """Stop at the current frame."""
        self._play_clock.pause()
        self._timer.stop()
        self.play_button.setIcon(QtGui.QIcon(resource("play.svg")))

    def _tick(self) -> None:
        if not self.playing:
            return
        c = self._play_clock
        now = c.now()
        if not c.advance(now):  # the end (not looping): show the last frame and stop
            self._present(force=True)
            self.pause()
            return
        self._present(now=now)
