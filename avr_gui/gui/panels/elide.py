"""Clip names cut to fit a cell so that the end, where takes differ, stays readable.

Camera files and takes share their beginnings and differ at the end (``GH010234.MP4``,
``action0_v03.mp4``, ``squat front take 3.mov``). Qt's middle elision keeps as much
of the front as of the back, which in a narrow cell leaves ``acti….mp4``; here the
name first loses its extension (``action0_v03``), then its middle, the back keeping
three quarters of the room: ``ac…n0_v03``.
"""

from __future__ import annotations

import re

from PySide6 import QtCore, QtGui, QtWidgets

ELLIPSIS = "…"
#: Share of the room given to the front of the name (the rest to its end).
FRONT_SHARE = 1 / 4
#: A file extension at the end of a name (``.mp4``, ``.MOV``), or before a status
#: in brackets at its end (``empty.mp4 (failed)``).
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}(?=( \([^()]*\))?$)")


def elide_keeping_end(metrics: QtGui.QFontMetrics, text: str, width: int) -> str:
    """``text`` cut to ``width`` pixels so that its end stays readable.

    A file name that does not fit first loses its extension (``action0_v03``: the
    extension rarely tells takes apart, and the tooltip has the whole path); a name
    still too long loses its middle, most of what stays coming from its end.

    Parameters
    ----------
    metrics : QFontMetrics
        The font the text is drawn in.
    text : str
    width : int
        Room in pixels.

    Returns
    -------
    str
        ``text`` itself when it fits, else its stem, else the stem's front, ``"…"``
        and its end.
    """
    if metrics.horizontalAdvance(text) <= width:
        return text
    ext = _EXTENSION.search(text)
    if ext is not None and ext.start() > 0:
        text = text[: ext.start()] + text[ext.end() :]
        if metrics.horizontalAdvance(text) <= width:
            return text
    room = width - metrics.horizontalAdvance(ELLIPSIS)
    if room <= 0:
        return ELLIPSIS
    front = 0
    while front < len(text) and metrics.horizontalAdvance(text[: front + 1]) <= room * FRONT_SHARE:
        front += 1
    left = room - metrics.horizontalAdvance(text[:front])
    back = 0
    while back < len(text) - front and metrics.horizontalAdvance(text[-(back + 1) :]) <= left:
        back += 1
    return text[:front] + ELLIPSIS + (text[-back:] if back else "")


class EndKeepingDelegate(QtWidgets.QStyledItemDelegate):
    """Draws a cell's text cut by :func:`elide_keeping_end` (its icon as usual)."""

    def initStyleOption(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        if not option.text:
            return
        widget = option.widget
        style = widget.style() if widget else QtWidgets.QApplication.style()
        rect = style.subElementRect(QtWidgets.QStyle.SubElement.SE_ItemViewItemText, option, widget)
        # The style keeps this margin on each side of the text (QCommonStyle).
        margin = style.pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget)
        option.text = elide_keeping_end(
            option.fontMetrics, option.text, rect.width() - 2 * margin - 2
        )
