"""Generated clips with known structure, for the demo, the tests and the evaluation.

An *action* is a path through phases drawn by a moving figure; a clip renders the
action at any speed profile (a monotone warp of action progress over time), colour,
background and framing. On request every frame carries its own frame number as a row of
black and white blocks along the bottom edge, so a decoded frame can be identified
exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import VideoError
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

CODE_BITS = 12
CODE_BLOCK = 8  # pixels per bit block


@dataclass(frozen=True)
class ClipStyle:
    """Appearance of a generated clip."""

    figure_bgr: tuple[int, int, int] = (40, 200, 255)
    background_bgr: tuple[int, int, int] = (40, 30, 25)
    zoom: float = 1.0
    shake: float = 0.0
    seed: int = 0


def action_position(action: int, progress: np.ndarray) -> np.ndarray:
    """Figure position in [0, 1]^2 at given action progress (0 = start, 1 = end).

    Parameters
    ----------
    action : int
        Which action; each has its own sequence of phases.
    progress : numpy.ndarray, shape (T,)

    Returns
    -------
    numpy.ndarray, shape (T, 2)
        x, y in normalised image coordinates.
    """
    p = np.clip(np.asarray(progress, dtype=np.float64), 0.0, 1.0)
    if action % 3 == 0:  # down, right, up-circle, back: four distinct phases
        x = np.interp(p, [0, 0.25, 0.5, 0.75, 1.0], [0.2, 0.2, 0.8, 0.5, 0.2])
        y = np.interp(p, [0, 0.25, 0.5, 0.75, 1.0], [0.2, 0.8, 0.8, 0.3, 0.2])
    elif action % 3 == 1:  # a figure of eight
        a = 2 * np.pi * p
        x = 0.5 + 0.3 * np.sin(a)
        y = 0.5 + 0.3 * np.sin(a) * np.cos(a)
    else:  # bouncing left to right with a growing arc
        x = 0.15 + 0.7 * p
        y = 0.8 - 0.6 * np.abs(np.sin(3 * np.pi * p)) * (0.4 + 0.6 * p)
    return np.stack([x, y], axis=1)


def draw_code(image: np.ndarray, number: int) -> None:
    """Draw ``number`` as CODE_BITS black/white blocks along the bottom-left edge."""
    h = image.shape[0]
    for b in range(CODE_BITS):
        bit = (number >> b) & 1
        x0 = b * CODE_BLOCK
        image[h - CODE_BLOCK : h, x0 : x0 + CODE_BLOCK] = 255 if bit else 0


def read_code(image: np.ndarray) -> int:
    """Read back the frame number drawn by :func:`draw_code` (robust to compression)."""
    h = image.shape[0]
    grey = image.mean(axis=2) if image.ndim == 3 else image
    number = 0
    for b in range(CODE_BITS):
        x0 = b * CODE_BLOCK
        block = grey[h - CODE_BLOCK + 2 : h - 2, x0 + 2 : x0 + CODE_BLOCK - 2]
        if block.mean() > 127:
            number |= 1 << b
    return number


def render_frames(
    action: int,
    progress: np.ndarray,
    size: tuple[int, int] = (160, 120),
    style: ClipStyle | None = None,
    *,
    code: bool = False,
) -> np.ndarray:
    """Render frames of ``action`` at the given progress values.

    Parameters
    ----------
    action : int
    progress : numpy.ndarray, shape (T,)
        Action progress of each frame, in [0, 1].
    size : tuple of int
        ``(width, height)``.
    style : ClipStyle, optional
    code : bool
        Draw each frame's number along the bottom edge (:func:`draw_code`). Off by
        default: the blocks change every frame and would pull an appearance-based
        alignment towards pairing equal frame numbers.

    Returns
    -------
    numpy.ndarray, shape (T, height, width, 3), uint8
        BGR frames.
    """
    st = style or ClipStyle()
    w, h = size
    rng = np.random.default_rng(st.seed)
    pos = action_position(action, progress)
    frames = np.empty((len(pos), h, w, 3), np.uint8)
    # A fixed textured background makes the figure's motion the only thing that changes.
    yy, xx = np.mgrid[0:h, 0:w]
    texture = (12 * np.sin(xx / (7 + st.seed % 5)) * np.cos(yy / 9)).astype(np.int16)
    base = np.clip(
        np.array(st.background_bgr, np.int16)[None, None, :] + texture[..., None], 0, 255
    )
    radius = max(3, int(0.08 * min(w, h) * st.zoom))
    for t, (x, y) in enumerate(pos):
        img = base.astype(np.uint8).copy()
        jitter = rng.normal(0.0, st.shake, 2) if st.shake > 0 else np.zeros(2)
        cx = 0.5 + (x - 0.5) * st.zoom + jitter[0]
        cy = 0.5 + (y - 0.5) * st.zoom + jitter[1]
        centre = (round(float(cx) * (w - 1)), round(float(cy) * (h - 1)))
        cv2.circle(img, centre, radius, st.figure_bgr, thickness=-1, lineType=cv2.LINE_AA)
        # A limb that trails the motion gives the pose some shape, not just a position.
        tail = action_position(action, np.array([max(0.0, float(progress[t]) - 0.05)]))[0]
        tx = 0.5 + (tail[0] - 0.5) * st.zoom + jitter[0]
        ty = 0.5 + (tail[1] - 0.5) * st.zoom + jitter[1]
        cv2.line(
            img, centre, (int(tx * (w - 1)), int(ty * (h - 1))), st.figure_bgr, max(1, radius // 2)
        )
        if code:
            draw_code(img, t)
        frames[t] = img
    return frames


def write_video(path: str | os.PathLike[str], frames: np.ndarray, fps: float) -> None:
    """Write BGR frames as an MP4 (MPEG-4 Part 2) file, atomically.

    Parameters
    ----------
    path : path-like
    frames : numpy.ndarray, shape (T, H, W, 3), uint8
    fps : float
    """
    if len(frames) == 0:
        raise VideoError("refusing to write a video with no frames")
    h, w = frames.shape[1:3]
    with atomic_path(path, suffix=".mp4") as tmp:
        writer = cv2.VideoWriter(os.fspath(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        if not writer.isOpened():
            raise VideoError(f"{path}: OpenCV could not open an MP4 writer here")
        try:
            for f in frames:
                writer.write(np.ascontiguousarray(f))
        finally:
            writer.release()


def write_video_av(
    path: str | os.PathLike[str],
    frames: np.ndarray,
    fps: float = 30.0,
    *,
    times: np.ndarray | None = None,
    codec: str = "libx264",
    rotation: int = 0,
    gop: int | None = None,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
) -> None:
    """Write BGR frames with PyAV, atomically: any codec, real timestamps, rotation.

    The container follows the suffix of ``path`` (``.mp4``, ``.mkv``, ``.ts``, ...).

    Parameters
    ----------
    path : path-like
    frames : numpy.ndarray, shape (T, H, W, 3), uint8
        BGR frames as stored (before any display rotation).
    fps : float
        Frame rate of a constant-rate clip; the nominal rate when ``times`` is given.
    times : numpy.ndarray, shape (T,), optional
        Presentation time of each frame in seconds, strictly increasing: a variable
        frame rate clip (with a 1/90000 s clock; 1/30000 s for ``mpeg4``, whose clock
        must fit 16 bits).
    codec : str
        FFmpeg encoder name (``"libx264"``, ``"mpeg4"``, ``"mpeg2video"``, ...).
    rotation : int
        Clockwise rotation a player should apply, in {0, 90, 180, 270}; stored as the
        stream's display matrix (what phones write for portrait video).
    gop : int, optional
        Keyframe interval in frames.
    options : dict, optional
        Encoder options (e.g. ``{"bf": "0"}``).
    container_options : dict, optional
        Muxer options (e.g. ``{"movflags": "faststart"}``).
    """
    import av  # only the writers of test clips need it

    frames = np.asarray(frames)
    if len(frames) == 0:
        raise VideoError("refusing to write a video with no frames")
    if rotation % 90:
        raise VideoError(f"rotation must be a multiple of 90 degrees, got {rotation}")
    h, w = frames.shape[1:3]
    rate = Fraction(fps).limit_denominator(1001)
    if times is not None:
        times = np.asarray(times, dtype=np.float64)
        if times.shape != (len(frames),) or np.any(np.diff(times) <= 0):
            raise VideoError("times must give one strictly increasing time per frame")
        time_base = Fraction(1, 30000 if codec == "mpeg4" else 90000)
    else:
        time_base = 1 / rate
    suffix = os.path.splitext(os.fspath(path))[1] or ".mp4"
    with (
        atomic_path(path, suffix=suffix) as tmp,
        av.open(os.fspath(tmp), "w", options=container_options or {}) as out,
    ):
        stream = out.add_stream(codec, rate=rate, options=options or {})
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = time_base
        stream.time_base = time_base
        if gop is not None:
            stream.codec_context.gop_size = gop
        if rotation % 360:
            # FFmpeg's matrix angle is counter-clockwise.
            stream.set_display_rotation(-(rotation % 360))
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            frame.pts = i if times is None else round(times[i] / time_base)
            frame.time_base = time_base
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def speed_warp(n_frames: int, speeds: tuple[float, ...]) -> np.ndarray:
    """Action progress of ``n_frames`` frames played with piecewise speeds.

    Parameters
    ----------
    n_frames : int
    speeds : tuple of float
        Relative speed in each of ``len(speeds)`` equal-length segments of the clip.

    Returns
    -------
    numpy.ndarray, shape (n_frames,)
        Monotone progress from 0 to 1.
    """
    seg = np.repeat(np.asarray(speeds, dtype=np.float64), int(np.ceil(n_frames / len(speeds))))
    rate = seg[:n_frames]
    progress = np.concatenate([[0.0], np.cumsum(rate[:-1])])
    return progress / progress[-1] if progress[-1] > 0 else progress
