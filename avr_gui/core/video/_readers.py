"""The two random-access readers behind :class:`~avr_gui.core.video.reader.FrameReader`.

:class:`AvReader` (PyAV) reads every packet's timestamp once when it opens, so a frame
index maps to an exact presentation timestamp, and reads frame ``i`` by decoding forward
or by seeking to the keyframe at or before it; a file cut short is trimmed to the frames
that decode. :class:`CvReader` (OpenCV) is the fallback for files PyAV cannot open: it
seeks with ``CAP_PROP_POS_FRAMES`` and its times assume a constant rate.

Both take 0-based indices already checked by the caller and return BGR frames resized
to their ``out`` size; the caller owns caching and copying. Private to
``avr_gui.core.video``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import avr_gui.core.video._decoders as B
from avr_gui.core.errors import CorruptVideoError, NoFramesError
from avr_gui.core.video._cv2 import import_cv2
from avr_gui.core.video.damage import is_damaged

cv2 = import_cv2()

# Decoding this many frames costs about as much as one seek plus decoder restart.
_SEEK_COST_FRAMES = 2
# Seek retries, each a keyframe earlier, before decoding from the very start.
_SEEK_RETRIES = 3


class AvReader:
    """PyAV random access: exact pts table from the packets, seek to keyframe + decode."""

    decoder = "pyav"

    def __init__(
        self, p: Path, size: int | None, short_side: int | None, warn: Callable[[str], None]
    ) -> None:
        self.p = p
        self.seeks = 0
        self._warn = warn
        self.damaged_at: float | None = None
        self.damage_message = ""
        self.nominal_s = 0.0
        pts, keys, needs_decode, suspect = self._scan(p)
        self._container, self._stream = B.open_av(p)
        try:
            if needs_decode:
                pts, keys = self._scan_decoded()
            elif suspect:
                pts, keys = self._trim_undecodable(pts, keys)
            if len(pts) == 0:
                raise NoFramesError(f"{p}: no decodable frames (the file may be truncated)")
            self._report_damage(pts, suspect)
            stream = self._stream
            self._tb = float(stream.time_base)
            self._origin = B.av_origin(stream)
            self._pts = pts
            self._keys = np.flatnonzero(keys)
            if len(self._keys) == 0 or self._keys[0] != 0:
                # Open-GOP or missing flags: the first frame is always a valid start.
                self._keys = np.concatenate([[0], self._keys[self._keys > 0]])
            self._index_of = {int(v): i for i, v in enumerate(pts)}
            self.times = (pts - self._origin).astype(np.float64) * self._tb
            self._frames: Iterator[Any] | None = None
            self._pos = -1  # index of the last frame taken from self._frames
            first = self._read_forward(0)
            self.geometry = B.av_geometry(stream, first)
            self.out = self.geometry.output_size(size, short_side)
            self._first = self.geometry.convert_av(first, self.out)
        except BaseException:
            self._container.close()
            raise

    @staticmethod
    def _scan(p: Path) -> tuple[np.ndarray, np.ndarray, bool, bool]:
        """Sorted pts and keyframe flags of every frame, from the packets alone.

        Returns ``(pts, keys, missing_pts, suspect)``: ``suspect`` when the packets
        fall short of what the headers announce or reading stopped early (a cut file).
        """
        container, stream = B.open_av(p)
        rows: list[tuple[int, bool]] = []
        missing = False
        stats = B.DecodeStats()
        with container:
            try:
                for packet in container.demux(stream):
                    if packet.size == 0 or packet.is_discard:
                        continue
                    if packet.pts is None:
                        missing = True
                        break
                    rows.append((packet.pts, packet.is_keyframe))
            except B.av.error.FFmpegError as exc:
                stats.demux_error = str(exc)
            rows.sort()
            pts = np.array([r[0] for r in rows], dtype=np.int64)
            keys = np.array([r[1] for r in rows], dtype=bool)
            suspect = False
            if len(pts) and not missing:
                expected_frames, expected_s = B.av_expected(container, stream)
                fps = B.av_nominal_fps(stream)
                end_s = (pts[-1] - B.av_origin(stream)) * float(stream.time_base)
                end_s += 1.0 / fps if fps else 0.0
                suspect = bool(
                    B.damage_report(
                        p, container, stats, len(pts), end_s, expected_frames, expected_s
                    )
                )
        return pts, keys, missing, suspect

    def _trim_undecodable(self, pts: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drop the frames after the last one that decodes (a file cut short).

        The packets of the last frames before a cut are announced but incomplete; a
        player asking for them would fail. Decodes from the last keyframe (one earlier
        while nothing decodes) to the end, then reopens the file for reading.
        """
        starts = np.flatnonzero(keys)
        last = None
        for k in starts[::-1][: _SEEK_RETRIES + 1]:
            self._container.seek(int(pts[k]), stream=self._stream, backward=True)
            self._stream.codec_context.flush_buffers()
            got = [
                f.pts
                for f in B.decode_av(self._container, self._stream, B.DecodeStats())
                if f.pts is not None
            ]
            if got:
                last = max(got)
                break
        self._container.close()
        self._container, self._stream = B.open_av(self.p)
        if last is None:
            return pts, keys  # nothing to go by: the reads themselves will tell
        n = int(np.searchsorted(pts, last, side="right"))
        return pts[:n], keys[:n]

    def _report_damage(self, pts: np.ndarray, suspect: bool) -> None:
        """Set :attr:`damaged_at` / :attr:`nominal_s`; warn once when the file is damaged."""
        stream = self._stream
        expected_frames, expected_s = B.av_expected(self._container, stream)
        fps = B.av_nominal_fps(stream)
        self.nominal_s = expected_s
        if not suspect:
            return
        end_s = (int(pts[-1]) - B.av_origin(stream)) * float(stream.time_base)
        end_s = min(end_s + (1.0 / fps if fps else 0.0), expected_s or math.inf)
        if is_damaged(end_s, expected_s, fps):
            self.damaged_at = end_s
            self.damage_message = (
                f"{self.p.name}: damaged: plays to {end_s:.1f} s of {expected_s:.1f} s "
                "(the file looks truncated or corrupt there); only that part is used"
            )
            self._warn(self.damage_message)
            return
        message = B.damage_report(
            self.p, self._container, B.DecodeStats(), len(pts), end_s, expected_frames, 0.0
        )
        if message:
            self._warn(message)

    def _scan_decoded(self) -> tuple[np.ndarray, np.ndarray]:
        """Pts of every decodable frame, by decoding (for streams whose packets lack pts)."""
        rows: list[tuple[int, bool]] = []
        for i, frame in enumerate(B.decode_av(self._container, self._stream, B.DecodeStats())):
            rows.append((frame.pts if frame.pts is not None else i, bool(frame.key_frame)))
        # Reopen: rewinding by seeking is unreliable on exactly the streams that get here.
        self._container.close()
        self._container, self._stream = B.open_av(self.p)
        return np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], bool)

    def close(self) -> None:
        self._frames = None
        self._container.close()

    def _restart(self, key_index: int) -> None:
        """Seek so the next decoded frame is keyframe ``key_index`` (or shortly before)."""
        self.seeks += 1
        self._container.seek(int(self._pts[key_index]), stream=self._stream, backward=True)
        self._stream.codec_context.flush_buffers()
        self._frames = B.decode_av(self._container, self._stream, B.DecodeStats())
        self._pos = -1

    def _reopen(self) -> None:
        """Start decoding from the very beginning of the file."""
        self.seeks += 1
        self._container.close()
        self._container, self._stream = B.open_av(self.p)
        self._frames = B.decode_av(self._container, self._stream, B.DecodeStats())
        self._pos = -1

    def _frame_index(self, frame: Any) -> int:
        if frame.pts is None:
            return self._pos + 1
        i = self._index_of.get(int(frame.pts))
        if i is None:  # a timestamp the packets did not announce: take the nearest
            i = int(np.clip(np.searchsorted(self._pts, frame.pts), 0, len(self._pts) - 1))
        return i

    def _read_forward(self, index: int) -> Any:
        """Decode from the current position up to frame ``index``; return that frame."""
        if self._frames is None:
            self._frames = B.decode_av(self._container, self._stream, B.DecodeStats())
        found = None
        for frame in self._frames:
            i = self._frame_index(frame)
            self._pos = i
            if i >= index:
                found = frame
                break
        if found is None:
            self._frames = None
            raise CorruptVideoError(
                f"{self.p.name}: frame {index} could not be decoded (the file may be truncated)"
            )
        if self._pos != index:
            self._warn(
                f"{self.p.name}: frame {index} could not be decoded; showing frame {self._pos}"
            )
        return found

    def read(self, index: int) -> np.ndarray:
        if index == 0 and self._first is not None and self._pos == 0:
            image, self._first = self._first, None  # decoded while opening
            return image
        self._first = None
        key = int(self._keys[np.searchsorted(self._keys, index, side="right") - 1])
        forward = (
            self._frames is not None
            and self._pos < index
            and (self._pos >= key - _SEEK_COST_FRAMES)
        )
        if not forward:
            self._seek_to(index, key)
        return self.geometry.convert_av(self._read_forward(index), self.out)

    def _seek_to(self, index: int, key: int) -> None:
        """Position the decoder so that frame ``index`` comes out of a forward read."""
        k = int(np.searchsorted(self._keys, key))
        for _ in range(_SEEK_RETRIES):
            self._restart(int(self._keys[k]))
            frame = next(self._frames, None)  # type: ignore[arg-type]
            if frame is not None:
                i = self._frame_index(frame)
                if i <= index:
                    # Push the frame back in front of the rest.
                    self._frames = _chain_one(frame, self._frames)  # type: ignore[arg-type]
                    self._pos = i - 1
                    return
            if k == 0:
                break
            k -= 1  # the seek landed too late (inexact index): one keyframe earlier
        self._reopen()


def _chain_one(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


class CvReader:
    """OpenCV fallback: ``CAP_PROP_POS_FRAMES`` seeks; times assume a constant rate."""

    decoder = "opencv"

    def __init__(self, p: Path, size: int | None, short_side: int | None) -> None:
        self.p = p
        self.seeks = 0
        self._cap = B.open_cv(p)
        n = max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        fps = self._cap.get(cv2.CAP_PROP_FPS) or 0.0
        fps = fps if 0 < fps < 10_000 else 30.0
        ok, image = self._cap.read()
        if not ok:
            self._cap.release()
            raise NoFramesError(f"{p}: no decodable frames (the file may be truncated or corrupt)")
        self._pos = 0
        self.times = np.arange(max(n, 1), dtype=np.float64) / fps
        self.out = B.output_size(image.shape[1], image.shape[0], size=size, short_side=short_side)
        self._first: np.ndarray | None = B.resize_bgr(image, self.out)

    def close(self) -> None:
        self._cap.release()

    def read(self, index: int) -> np.ndarray:
        if index == 0 and self._first is not None and self._pos == 0:
            image, self._first = self._first, None
            return image
        self._first = None
        if index != self._pos + 1:
            self.seeks += 1
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = self._cap.read()
        if not ok:
            self._pos = len(self.times)  # force a seek next time
            raise CorruptVideoError(f"{self.p.name}: frame {index} could not be decoded")
        self._pos = index
        return np.ascontiguousarray(B.resize_bgr(image, self.out))
