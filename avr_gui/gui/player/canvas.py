"""The canvas of the synced player: two frames side by side, stacked, blended, differenced
or wiped, with one zoom and pan shared by both videos (wheel, drag, double-click to fit)."""

from __future__ import annotations

from enum import Enum

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.gui.skeleton_overlay import MATCH_COLOUR, QUERY_COLOUR, paint_skeleton

#: Height of a caption line under a video (px).
CAPTION = 20
#: Largest zoom (x the fitted size).
MAX_ZOOM = 16.0
#: Zoom factor of one wheel notch.
WHEEL_STEP = 1.25
_GAP = 4  # between the two videos of a two-up layout
_WIPE_GRAB = 10  # px either side of the wipe line that grab the line, not the picture


class ViewMode(Enum):
    """How the two videos share the canvas."""

    SIDE_BY_SIDE = "Side by side"
    TOP_BOTTOM = "Top and bottom"
    BLEND = "Blend"
    DIFFERENCE = "Difference"
    WIPE = "Wipe"

    @property
    def two_up(self) -> bool:
        """Each video in its own area (not overlaid)."""
        return self in (ViewMode.SIDE_BY_SIDE, ViewMode.TOP_BOTTOM)


class VideoCanvas(QtWidgets.QWidget):
    """Paints the two frames in one of the :class:`ViewMode` layouts.

    Zoom and pan apply to both videos alike, in units of each one's fitted picture,
    so the same spot of the two performances stays in view: the wheel zooms about
    the cursor (:meth:`zoom_at`), a drag pans (the middle button always; the left one
    while zoomed in, except on the wipe line), a double-click fits (:meth:`fit`).

    Signals
    -------
    resized()
        The size one video is drawn at may have changed (size or layout).
    zoom_changed(zoom)
        The zoom factor changed (1 = fitted).
    """

    resized = QtCore.Signal()
    zoom_changed = QtCore.Signal(float)

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
        #: Zoom (1 = fitted) and the picture's offset in units of its fitted size:
        #: the drawn picture starts ``pan`` fitted widths/heights left/up of the fit.
        self.zoom = 1.0
        self.pan = QtCore.QPointF(0.0, 0.0)
        self._drag: str | None = None  # "wipe" or "pan" while a button is held
        self._drag_from = QtCore.QPointF()
        self.setMinimumSize(320, 180)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding
        )

    # ------------------------------------------------------------------ geometry

    def areas(self, two: bool | None = None) -> list[tuple[QtCore.QRectF, QtCore.QRectF]]:
        """``(video, caption)`` rectangles: one per video in a two-up layout, else one.

        Parameters
        ----------
        two : bool, optional
            Whether there is a match (default: whether a match frame is shown).
        """
        two = self.right is not None if two is None else two
        w, h = float(self.width()), float(self.height())
        if not (two and self.mode.two_up):
            return [
                (QtCore.QRectF(0, 0, w, h - CAPTION - 2), QtCore.QRectF(0, h - CAPTION, w, CAPTION))
            ]
        if self.mode == ViewMode.SIDE_BY_SIDE:
            half = (w - _GAP) / 2
            return [
                (
                    QtCore.QRectF(x, 0, half, h - CAPTION - 2),
                    QtCore.QRectF(x, h - CAPTION, half, CAPTION),
                )
                for x in (0.0, half + _GAP)
            ]
        half = (h - _GAP) / 2 - CAPTION - 2
        return [
            (QtCore.QRectF(0, y, w, half), QtCore.QRectF(0, y + half + 2, w, CAPTION))
            for y in (0.0, half + CAPTION + 2 + _GAP)
        ]  # fmt: skip

    def side_size(self, two: bool | None = None) -> tuple[int, int]:
        """Device-pixel size one video is drawn at in the current mode (fitted, unzoomed)."""
        dpr = self.devicePixelRatioF()
        video = self.areas(two)[0][0]
        return int(max(video.width(), 16) * dpr), int(max(video.height(), 16) * dpr)

    def set_mode(self, mode: ViewMode) -> None:
        self.mode = mode
        self.resized.emit()
        self.update()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

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

    def _zoomed(self, fit: QtCore.QRectF) -> QtCore.QRectF:
        """Where a picture fitted to ``fit`` is drawn at the current zoom and pan."""
        return QtCore.QRectF(
            fit.x() + self.pan.x() * fit.width(),
            fit.y() + self.pan.y() * fit.height(),
            fit.width() * self.zoom,
            fit.height() * self.zoom,
        )

    @staticmethod
    def _caption_rect(fit: QtCore.QRectF, caption: QtCore.QRectF) -> QtCore.QRectF:
        """The caption just under its (fitted) picture, not at the bottom of a letterbox."""
        y = min(fit.bottom() + 2, caption.y())
        return QtCore.QRectF(caption.x(), y, caption.width(), caption.height())

    def placements(self) -> list[tuple[QtGui.QImage, QtCore.QRectF, QtCore.QRectF]]:
        """``(image, fitted rect, clip area)`` of each shown video (query first)."""
        if self.left is None:
            return []
        images = [self.left] if self.right is None else [self.left, self.right]
        areas = self.areas()
        out = []
        for k, image in enumerate(images):
            video = areas[min(k, len(areas) - 1)][0]
            out.append((image, self._fit(image, video), video))
        return out

    def view_rect(self, side: int = 0) -> QtCore.QRectF | None:
        """Where video ``side`` (0 query, 1 match) is drawn now, zoom and pan applied."""
        placed = self.placements()
        if side >= len(placed):
            return None
        return self._zoomed(placed[side][1])

    # ------------------------------------------------------------------ zoom and pan

    def _fit_under(self, pos: QtCore.QPointF) -> QtCore.QRectF | None:
        """The fitted rect of the video under ``pos`` (the query's over an overlay)."""
        placed = self.placements()
        for _image, fit, area in placed:
            if area.contains(pos):
                return fit
        return placed[0][1] if placed else None

    def _clamp_pan(self) -> None:
        # Zoomed in, the picture keeps covering its fitted rect: no empty band opens.
        lo = 1.0 - self.zoom
        self.pan = QtCore.QPointF(min(max(self.pan.x(), lo), 0.0), min(max(self.pan.y(), lo), 0.0))

    def zoom_at(self, pos: QtCore.QPointF, factor: float) -> None:
        """Multiply the zoom by ``factor`` keeping the picture point under ``pos`` there.

        The zoom stays within [1, :data:`MAX_ZOOM`]; at 1 the pictures are fitted.
        """
        fit = self._fit_under(pos)
        if fit is None or fit.width() <= 0 or fit.height() <= 0:
            return
        z = min(max(self.zoom * factor, 1.0), MAX_ZOOM)
        # The cursor in fitted units, and the picture point (0..1) under it.
        ux, uy = (pos.x() - fit.x()) / fit.width(), (pos.y() - fit.y()) / fit.height()
        sx, sy = (ux - self.pan.x()) / self.zoom, (uy - self.pan.y()) / self.zoom
        self.zoom = z
        self.pan = QtCore.QPointF(ux - sx * z, uy - sy * z)
        self._clamp_pan()
        self._zoom_updated()

    def pan_by(self, dx: float, dy: float, fit: QtCore.QRectF) -> None:
        """Move the pictures by ``(dx, dy)`` pixels of a picture fitted to ``fit``."""
        if fit.width() <= 0 or fit.height() <= 0:
            return
        self.pan = QtCore.QPointF(self.pan.x() + dx / fit.width(), self.pan.y() + dy / fit.height())
        self._clamp_pan()
        self.update()

    def fit(self) -> None:
        """Zoom 1 and no pan: each whole picture fitted to its area."""
        self.zoom = 1.0
        self.pan = QtCore.QPointF(0.0, 0.0)
        self._zoom_updated()

    def _zoom_updated(self) -> None:
        self.setCursor(
            QtCore.Qt.CursorShape.OpenHandCursor
            if self.zoom > 1.0
            else QtCore.Qt.CursorShape.ArrowCursor
        )
        self.zoom_changed.emit(self.zoom)
        self.update()

    # ------------------------------------------------------------------ mouse

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120
        if notches == 0 or self.left is None:
            event.ignore()
            return
        self.zoom_at(event.position(), WHEEL_STEP**notches)
        event.accept()

    def _near_wipe(self, x: float) -> bool:
        video = self.areas()[0][0]
        return abs(x - (video.x() + self.wipe * video.width())) <= _WIPE_GRAB

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        pos = event.position()
        B = QtCore.Qt.MouseButton
        wipe = self.mode == ViewMode.WIPE and self.right is not None
        if (
            event.button() == B.LeftButton
            and wipe
            and (self.zoom == 1.0 or self._near_wipe(pos.x()))
        ):
            self._drag = "wipe"
            self._wipe_to(pos.x())
        elif event.button() == B.MiddleButton or (
            event.button() == B.LeftButton and self.zoom > 1.0
        ):
            self._drag = "pan"
            self._drag_from = pos
            self.setCursor(QtCore.Qt.CursorShape.ClosedHandCursor)
        else:
            super().mousePressEvent(event)  # fmt: skip

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        pos = event.position()
        if self._drag == "wipe":
            self._wipe_to(pos.x())
        elif self._drag == "pan":
            fit = self._fit_under(self._drag_from)
            if fit is not None:
                self.pan_by(pos.x() - self._drag_from.x(), pos.y() - self._drag_from.y(), fit)
            self._drag_from = pos

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if self._drag == "pan":
            self._zoom_updated()  # the open hand again
        self._drag = None

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self.fit()

    def _wipe_to(self, x: float) -> None:
        video = self.areas()[0][0]
        if self.mode == ViewMode.WIPE and video.width() > 0:
            self.wipe = min(max((x - video.x()) / video.width(), 0.0), 1.0)
            self.update()

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(12, 12, 14))
        areas = self.areas()
        placed = self.placements()
        if not placed:
            p.setPen(QtGui.QColor(150, 150, 155))
            p.drawText(areas[0][0], QtCore.Qt.AlignmentFlag.AlignCenter, self.message)
            p.end()
            return
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
        mode = self.mode if len(placed) == 2 else ViewMode.SIDE_BY_SIDE
        # Where each frame lands and the part of it that shows (for the skeletons).
        rects = [self._zoomed(fit) for _image, fit, _area in placed]
        clips = [area for _image, _fit, area in placed]
        if mode.two_up:
            for (image, _fit, area), rect in zip(placed, rects, strict=True):
                p.save()
                p.setClipRect(area)
                p.drawImage(rect, image)
                p.restore()
        else:
            (left, _fa, video), (right, _fb, _vb) = placed
            ra, rb = rects
            p.save()
            p.setClipRect(video)
            p.drawImage(ra, left)
            if mode == ViewMode.BLEND:
                p.setOpacity(self.blend)
                p.drawImage(rb, right)
            elif mode == ViewMode.DIFFERENCE:
                p.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_Difference)
                p.drawImage(rb, right)
            p.restore()
            if mode == ViewMode.WIPE:  # the match on the right of the handle
                x = video.x() + self.wipe * video.width()
                clips = [
                    QtCore.QRectF(video.x(), video.y(), x - video.x(), video.height()),
                    QtCore.QRectF(x, video.y(), video.right() - x, video.height()),
                ]
                p.save()
                p.setClipRect(clips[1])
                p.drawImage(rb, right)
                p.restore()
                p.setPen(QtGui.QPen(QtGui.QColor(255, 200, 60), 2))
                p.drawLine(QtCore.QPointF(x, video.top()), QtCore.QPointF(x, video.bottom()))
        if self.show_skeleton:
            for pose, rect, clip, colour in zip(
                self.poses, rects, clips, (QUERY_COLOUR, MATCH_COLOUR), strict=False
            ):
                if pose is not None:
                    p.save()
                    # The picture, not its letterbox: landmarks placed beyond the frame's
                    # edge are guesses, and the comparison leaves them out too.
                    p.setClipRect(clip.intersected(rect))
                    paint_skeleton(p, pose[0], pose[1], rect, colour)
                    p.restore()
        p.setPen(QtGui.QColor(200, 200, 205))
        centre = QtCore.Qt.AlignmentFlag.AlignCenter
        if mode.two_up and len(placed) == 2:
            for (_image, fit, _v), (_video, caption), text in zip(
                placed, areas, self.captions, strict=True
            ):
                p.drawText(self._caption_rect(fit, caption), centre, text)
        else:
            text = self.captions[0] + ("   |   " + self.captions[1] if len(placed) == 2 else "")
            p.drawText(self._caption_rect(placed[0][1], areas[0][1]), centre, text)
        if self.zoom > 1.0:
            # Say that the view is zoomed (and how to leave it), top right of the first video.
            badge = f"{self.zoom * 100:.0f} %  ·  double-click: fit"
            box = QtCore.QRectF(areas[0][0].right() - 190, areas[0][0].top() + 6, 184, 20)
            p.fillRect(box, QtGui.QColor(0, 0, 0, 150))
            p.drawText(box, centre, badge)
        p.end()
