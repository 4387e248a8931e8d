"""The canvas of the synced player: two frames side by side, blended, differenced or wiped."""

from __future__ import annotations

from enum import Enum

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.gui.skeleton_overlay import MATCH_COLOUR, QUERY_COLOUR, paint_skeleton


class ViewMode(Enum):
    """How the two videos share the canvas."""

    SIDE_BY_SIDE = "Side by side"
    BLEND = "Blend"
    DIFFERENCE = "Difference"
    WIPE = "Wipe"


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
