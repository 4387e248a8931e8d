"""A strip of dismissable notices above the work area (no modal dialogs for news).

Things the user should know but need not act on at once (running on the CPU, a weights
file that could not be loaded and what is used instead) go here: each notice stays until
closed, a notice with the same key replaces the previous one, and nothing blocks.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

#: Notice levels and the object name the style sheet colours them by.
LEVELS = {"info": "noticeInfo", "warning": "noticeWarning", "error": "noticeError"}
#: Longer notices are shortened in the middle (the whole text is the tooltip): an error
#: from a model loader can run to a paragraph, and its end says what happens instead.
MAX_CHARS = 320


def shorten(text: str, limit: int = MAX_CHARS) -> str:
    """``text`` cut in the middle to at most about ``limit`` characters."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    return f"{text[: limit - tail - 3].rstrip()} … {text[-tail:].lstrip()}"


class NoticeBar(QtWidgets.QWidget):
    """Notices, one per row, each with a close button; hidden while there are none."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[str, tuple[QtWidgets.QFrame, QtWidgets.QLabel]] = {}
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(6, 4, 6, 0)
        self._layout.setSpacing(3)
        self.setVisible(False)

    def add(
        self,
        key: str,
        text: str,
        level: str = "info",
        max_chars: int = MAX_CHARS,
        action: tuple[str, Callable[[], object]] | None = None,
    ) -> None:
        """Show ``text`` (replacing the notice of the same ``key``, if any).

        Parameters
        ----------
        key : str
            Identifies the notice (``"device"``, ``"encoder"``, ...).
        text : str
            Plain text, one or two sentences.
        level : {"info", "warning", "error"}
        max_chars : int
            Longer texts are shortened in the middle (the whole text is the tooltip); a
            notice whose middle matters (a command to run) passes a larger limit.
        action : (str, callable), optional
            A button beside the text that does what the notice suggests (its text,
            and what it calls); the notice stays until closed.
        """
        self.dismiss(key)
        frame = QtWidgets.QFrame()
        frame.setObjectName(LEVELS.get(level, LEVELS["info"]))
        frame.setProperty("noticeKey", key)
        row = QtWidgets.QHBoxLayout(frame)
        row.setContentsMargins(8, 4, 4, 4)
        label = QtWidgets.QLabel(shorten(text, max_chars))
        label.setToolTip(text if len(text) > max_chars else "")
        label.setWordWrap(True)
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QtWidgets.QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        close.clicked.connect(lambda _=False, k=key: self.dismiss(k))
        row.addWidget(label, 1)
        if action is not None:
            button = QtWidgets.QPushButton(action[0])
            button.setObjectName("noticeAction")
            button.clicked.connect(lambda _=False, fn=action[1]: fn())
            row.addWidget(button, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        row.addWidget(close, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        self._layout.addWidget(frame)
        self._rows[key] = (frame, label)
        self.setVisible(True)

    def dismiss(self, key: str) -> None:
        """Remove the notice ``key`` (nothing happens if there is none)."""
        row = self._rows.pop(key, None)
        if row is not None:
            row[0].hide()
            self._layout.removeWidget(row[0])
            row[0].deleteLater()
        self.setVisible(bool(self._rows))

    def row(self, key: str) -> tuple[QtWidgets.QFrame, QtWidgets.QLabel] | None:
        """The frame and label of the notice ``key`` as shown (None without one)."""
        return self._rows.get(key)

    def action_button(self, key: str) -> QtWidgets.QPushButton | None:
        """The action button of the notice ``key`` (None without one)."""
        row = self._rows.get(key)
        return None if row is None else row[0].findChild(QtWidgets.QPushButton, "noticeAction")

    def texts(self) -> dict[str, str]:
        """The notices shown now, by key (whole texts)."""
        return {k: label.toolTip() or label.text() for k, (_, label) in self._rows.items()}
