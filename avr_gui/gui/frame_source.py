"""Decoding for the player: one thread per video with a read-ahead cache of frames.

The GUI thread tells a :class:`FrameSource` which frames it will want next (in order)
with :meth:`FrameSource.schedule`; the decoder thread decodes the first one missing from
the cache, scales it to the size the canvas draws it at, turns it into a ``QImage`` and
repeats. The GUI thread only looks frames up (:meth:`FrameSource.get`), so it never
waits on the decoder. ``QImage`` (unlike ``QPixmap``) may be built off the GUI thread.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import OrderedDict

import numpy as np
from PySide6 import QtCore, QtGui

from avr_gui.core.errors import AvrError
from avr_gui.core.video import FrameReader
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

# Frames kept beyond the scheduled ones (recently shown, for stepping back cheaply).
_KEEP_EXTRA = 12


class FrameSource(QtCore.QObject):
    """Frames of one video, decoded ahead on a background thread.

    Parameters
    ----------
    path : path-like
    name : str
        For messages ("query", "match").

    Signals
    -------
    opened(times)
        The file opened; ``times`` is ``numpy.ndarray`` shape (frame_count,), seconds.
    frame_ready(index)
        Frame ``index`` entered the cache.
    failed(message)
        The file could not be opened or a frame could not be decoded.
    damaged(readable_s, nominal_s)
        Emitted once, right after ``opened``, for a file cut short: only the first
        ``readable_s`` of the announced ``nominal_s`` seconds decode, and ``times``
        already ends there (so playback stops at the damage instead of stalling on it).
    """

    opened = QtCore.Signal(object)
    frame_ready = QtCore.Signal(int)
    failed = QtCore.Signal(str)
    damaged = QtCore.Signal(float, float)

    def __init__(self, path: str | os.PathLike[str], name: str = "video") -> None:
        super().__init__()
        self.path = os.fspath(path)
        self.name = name
        self.times: np.ndarray | None = None
        self._cond = threading.Condition()
        self._wanted: list[int] = []
        self._cache: OrderedDict[int, QtGui.QImage] = OrderedDict()
        self._bad: set[int] = set()
        self._target = (640, 360)
        self._generation = 0
        self._stop = False
        self.decoded = 0
        #: Seconds readable when the file is cut short, None when intact (set on open).
        self.damaged_at: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"decode-{name}", daemon=True)

    def start(self) -> None:
        """Start decoding (connect the signals first: opening may fail at once)."""
        self._thread.start()

    # ------------------------------------------------------------------ GUI-thread API

    def schedule(self, indices: list[int]) -> None:
        """Frames wanted next, most urgent first; replaces the previous schedule."""
        with self._cond:
            self._wanted = list(dict.fromkeys(int(i) for i in indices))
            self._cond.notify()

    def get(self, index: int) -> QtGui.QImage | None:
        """The cached frame ``index`` or ``None`` (never blocks on decoding)."""
        with self._cond:
            return self._cache.get(int(index))

    def set_target_size(self, width: int, height: int) -> None:
        """Largest size frames will be drawn at (device pixels); clears the cache."""
        size = (max(16, int(width)), max(16, int(height)))
        with self._cond:
            if size == self._target:
                return
            self._target = size
            self._generation += 1
            self._cache.clear()
            self._cond.notify()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the decoder thread and wait for it."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the decoder thread is alive."""
        return self._thread.is_alive()

    # ------------------------------------------------------------------ decoder thread

    def _next_job(self) -> tuple[int, tuple[int, int], int] | None:
        with self._cond:
            while not self._stop:
                for i in self._wanted:
                    if i not in self._cache and i not in self._bad:
                        return i, self._target, self._generation
                self._cond.wait()
            return None

    def _run(self) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reader = FrameReader(self.path)
        except AvrError as exc:
            self.failed.emit(f"{self.name}: {exc}")
            return
        except Exception as exc:  # a decoder bug must not kill the app silently
            self.failed.emit(f"{self.name}: could not open {self.path}: {exc}")
            return
        with reader:
            self.times = np.array(reader.times)
            self.damaged_at = reader.damaged_at
            self.opened.emit(self.times)
            if reader.damaged_at is not None:
                self.damaged.emit(float(reader.damaged_at), float(reader.nominal_s))
            while True:
                job = self._next_job()
                if job is None:
                    return
                index, target, generation = job
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        image = reader.read(index)
                except AvrError as exc:
                    with self._cond:
                        self._bad.add(index)
                    self.failed.emit(f"{self.name}: {exc}")
                    continue
                qimage = to_qimage(_fit(image, target))
                with self._cond:
                    if generation != self._generation:
                        continue  # the canvas was resized meanwhile: decode again
                    self._cache[index] = qimage
                    self._cache.move_to_end(index)
                    self._evict()
                    self.decoded += 1
                self.frame_ready.emit(index)

    def _evict(self) -> None:
        keep = set(self._wanted)
        limit = len(keep) + _KEEP_EXTRA
        for i in list(self._cache):
            if len(self._cache) <= limit:
                break
            if i not in keep:
                del self._cache[i]


def _fit(image: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Shrink ``image`` to fit ``target`` (width, height), keeping its aspect.

    Bilinear, as players scale: area averaging cost 18-29 ms per 720p frame here.
    """
    h, w = image.shape[:2]
    scale = min(target[0] / w, target[1] / h, 1.0)
    if scale >= 0.999:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def to_qimage(image: np.ndarray) -> QtGui.QImage:
    """A ``QImage`` that owns a copy of BGR ``image`` (shape (H, W, 3), uint8)."""
    a = np.ascontiguousarray(image)
    h, w = a.shape[:2]
    q = QtGui.QImage(a.data, w, h, a.strides[0], QtGui.QImage.Format.Format_BGR888)
    return q.copy()  # detach from the NumPy buffer


def qimage_to_bgr(image: QtGui.QImage) -> np.ndarray:
    """Pixels of ``image`` as a BGR array, shape (H, W, 3), uint8 (for tests and tools)."""
    rgb = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    w, h = rgb.width(), rgb.height()
    buf = np.frombuffer(rgb.constBits(), np.uint8, count=rgb.bytesPerLine() * h)
    arr = buf.reshape(h, rgb.bytesPerLine())[:, : w * 3].reshape(h, w, 3)
    return np.ascontiguousarray(arr[..., ::-1])
