"""The export job: a retimed or comparison video written frame-exactly from a frame map.

Modes (the *timeline* is the clip whose timing the output keeps):

* ``retimed`` — the match re-timed to the query: the query's frame rate, frame count
  and timestamps; the match's full resolution; output frame ``i`` is match frame
  ``fmap.match_frame[i]``.
* ``reverse`` — the query re-timed to the match (the match kept unwarped): the match's
  timing, the query's resolution.
* ``side-by-side`` / ``overlay`` — query frame ``i`` beside (or blended with) match
  frame ``fmap.match_frame[i]``, on the query's timing.

With ``skeleton=True`` each clip's body-pose skeleton (from its
:class:`~avr_gui.core.features.pose.PoseTrack`) is drawn on its own frames: the
landmarks of the track's sampled frames are interpolated to every frame shown
(:func:`~avr_gui.core.features.pose.landmarks_at`); a frame without a person gets none.

The file is written to a temporary path beside the target and moved into place only
when complete, so a failure or a cancel leaves any earlier file untouched; the
temporary files of an export that was killed are removed when the next export to the
same target starts. A full disk raises :class:`~avr_gui.core.errors.DiskFullError`
naming the target, with an estimate of the space the whole file needs.

A damaged input (a file cut short) is exported as far as it decodes, with one note
(``on_warning``): a damaged timeline clip ends the output at its damage; a damaged
re-timed clip is followed up to its damage, then its last readable frame is held for
the rest of the timeline (see docs/export.md).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avr_gui.core.atomic import remove_stale_temps
from avr_gui.core.errors import InputError
from avr_gui.core.export.audio import fit_audio, load_audio, retime_audio
from avr_gui.core.export.compose import burn_in_text, compose, label, layout
from avr_gui.core.export.encode import AudioTrack, EncodeOptions, container_format
from avr_gui.core.export.errors import OutputPathError
from avr_gui.core.export.framemap import FrameMap, TimeMap, reverse_frames
from avr_gui.core.export.writer import write_frames
from avr_gui.core.export_choices import AUDIO_SOURCES, MODES
from avr_gui.core.features.pose.draw import (
    MATCH_COLOUR,
    QUERY_COLOUR,
    draw_skeleton,
    landmarks_at,
)
from avr_gui.core.features.pose.encoder import PoseTrack
from avr_gui.core.jobs import CancelToken, ProgressCallback, no_progress
from avr_gui.core.timecode import clip_rate
from avr_gui.core.video import FrameReader

# A pose track whose picture shape differs more than this from its clip's belongs to
# another video (scaled copies of one video keep their shape).
_ASPECT_TOLERANCE = 0.02
# A track reaching further than this beyond its clip's last frame (seconds) is another's.
_TRACK_OVERRUN_S = 1.0


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes
    ----------
    path : pathlib.Path
    mode : str
    frame_count : int
    fps : float
        Nominal rate of the output (the timeline clip's).
    size : tuple of int
        ``(width, height)`` of the frames (odd sides are padded by one pixel in the file).
    source_frames : numpy.ndarray, shape (frame_count,), int64
        For each output frame, the frame of the re-timed clip it shows: match frames
        for ``retimed`` and the comparison modes, query frames for ``reverse``.
    codec : str
        Video encoder used.
    audio : str
        ``"query"``, ``"match"`` or ``"none"`` (what the file actually carries).
    seconds : float
        Wall time of the export.
    skeleton_frames : int
        Output frames with at least one skeleton drawn (0 without ``skeleton``).
    """

    path: Path
    mode: str
    frame_count: int
    fps: float
    size: tuple[int, int]
    source_frames: np.ndarray
    codec: str
    audio: str
    seconds: float
    skeleton_frames: int = 0


def check_output(out: str | os.PathLike[str], *inputs: str | os.PathLike[str]) -> Path:
    """Fail early, with a clear message, when ``out`` cannot receive an export.

    Raises
    ------
    OutputPathError
        Unsupported suffix, missing folder, a folder in the way, no write permission,
        or the path of one of the inputs.
    """
    p = Path(out)
    container_format(p)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise OutputPathError(f"{p}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputPathError(f"{p}: {parent} is not a folder")
    if p.is_dir():
        raise OutputPathError(f"{p}: is a folder, not a file name")
    if not os.access(parent, os.W_OK):
        raise OutputPathError(f"{p}: no permission to write in {parent}")
    for src in inputs:
        with contextlib.suppress(OSError):
            if p.exists() and os.path.samefile(p, src):
                raise OutputPathError(f"{p}: would overwrite an input clip")
    return p


def _audio_for(
    choice: str,
    timeline_path: Path,
    other_path: Path,
    kept_is_query: bool,
    curve_kept_to_other: TimeMap,
    t0: float,
    duration: float,
    cancel: CancelToken | None,
    warn: Callable[[str], None],
) -> tuple[AudioTrack | None, str]:
    if choice == "none":
        return None, "none"
    from_kept = (choice == "query") == kept_is_query
    src = timeline_path if from_kept else other_path
    loaded = load_audio(src, cancel=cancel, on_warning=warn)
    if loaded is None:
        warn(f"{src.name} has no audio: the export is silent")
        return None, "none"
    track, start = loaded
    if from_kept:
        return fit_audio(track, start, t0, duration), choice
    return retime_audio(track, start, curve_kept_to_other, t0, duration), choice


def _pose_frames(
    track: PoseTrack | None, reader: FrameReader, frames: np.ndarray, who: str
) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks ``[n, 33, 3]`` in ``reader``'s pixels and valid ``[n]`` for ``frames``."""
    name = reader.path.name
    if track is None:
        raise InputError(
            f"drawing skeletons needs the {who}'s pose track ({name}): index the clips "
            "with a pose encoder or estimate the poses first"
        )
    fw, fh = track.frame_size
    if fw <= 0 or fh <= 0:
        raise InputError(f"the {who}'s pose track has no frame size ({fw}x{fh})")
    if abs((fw / fh) / (reader.width / reader.height) - 1.0) > _ASPECT_TOLERANCE:
        raise InputError(
            f"the {who}'s pose track was made on a {fw}x{fh} picture but {name} is "
            f"{reader.width}x{reader.height}: it belongs to another video"
        )
    ts = track.timestamps
    if len(ts) and float(ts[-1]) > float(reader.times[-1]) + _TRACK_OVERRUN_S:
        raise InputError(
            f"the {who}'s pose track runs to {float(ts[-1]):.2f} s but {name} ends at "
            f"{float(reader.times[-1]):.2f} s: it belongs to another video"
        )
    marks, valid = landmarks_at(track, reader.times[frames])
    marks[..., 0] *= reader.width / fw
    marks[..., 1] *= reader.height / fh
    return marks, valid


class _Relay:
    """Holds the readers' warnings while they open, then passes warnings straight on.

    The opening warnings wait so that a damaged clip's generic note can be replaced
    by one that says what the export does about it.
    """

    def __init__(self) -> None:
        self.held: list[str] = []
        self.target: Callable[[str], None] | None = None

    def __call__(self, message: str) -> None:
        if self.target is None:
            self.held.append(message)
        else:
            self.target(message)

    def release(self, target: Callable[[str], None], replaced: dict[str, str]) -> None:
        """Send the held warnings to ``target``, each in ``replaced`` swapped for its value."""
        self.target = target
        for message in self.held:
            target(replaced.get(message, message))
        self.held.clear()


def _damage_notes(qr: FrameReader, mr: FrameReader, mode: str) -> dict[str, str]:
    """The readers' damage warnings mapped to what the export does about each damage."""
    notes = {}
    timeline = mr if mode == "reverse" else qr
    for reader in (qr, mr):
        if reader.damaged_at is None:
            continue
        head = (
            f"{reader.path.name}: damaged: plays to {reader.damaged_at:.1f} s of "
            f"{reader.nominal_s:.1f} s"
        )
        if reader is timeline:
            what = "the export ends there"
        else:
            what = "the export follows it up to there, then holds its last readable frame"
        notes[reader.damage_message] = f"{head}; {what}"
    return notes


def export_video(
    query: str | os.PathLike[str],
    match: str | os.PathLike[str],
    out: str | os.PathLike[str],
    fmap: FrameMap,
    *,
    mode: str = "retimed",
    audio: str = "query",
    burn_in: bool = False,
    names: tuple[str, str] | None = None,
    arrangement: str = "auto",
    scale: str = "query",
    curve: TimeMap | None = None,
    options: EncodeOptions | None = None,
    skeleton: bool = False,
    query_pose: PoseTrack | None = None,
    match_pose: PoseTrack | None = None,
    on_warning: Callable[[str], None] | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Write a retimed or comparison video of ``query`` and ``match``.

    Parameters
    ----------
    query, match : path-like
        The two video files.
    out : path-like
        Output file (``.mp4``, ``.m4v``, ``.mov`` or ``.mkv``); replaced only by a
        complete export.
    fmap : FrameMap
        One row per query frame (see :func:`~avr_gui.core.export.framemap.frame_map`).
    mode : {"retimed", "reverse", "side-by-side", "overlay"}
    audio : {"query", "match", "none"}
        Whose sound the file carries. The timeline clip's own sound is cut to length;
        the other clip's is retimed by varispeed (see :mod:`.audio`).
    burn_in : bool
        Burn each clip's name, SMPTE timecode (``HH:MM:SS:FF`` at its own rate) and
        frame number into the picture.
    names : (str, str), optional
        The names burned in for the query and the match (default: the file names
        without their suffix).
    arrangement : {"auto", "left-right", "top-bottom"}
        Side by side only: where the match goes (see :mod:`.compose`).
    scale : {"query", "equal", "original"}
        Side by side only: how the two panels are sized (see :mod:`.compose`).
    curve : TimeMap, optional
        Query seconds -> match seconds, for audio and ``reverse``; default: a smooth
        curve through ``fmap``.
    options : EncodeOptions, optional
    skeleton : bool
        Draw each clip's skeleton on its own frames (query in orange, match in blue):
        the match's in ``retimed``, the query's in ``reverse``, both in the comparison
        modes. Frames without a person get none.
    query_pose, match_pose : PoseTrack, optional
        The clips' landmarks (``Library.pose_track``, ``QueryResult.query_pose`` or
        :func:`~avr_gui.core.features.pose.encode_pose_video`); needed for the clips
        shown when ``skeleton`` is True, ignored otherwise.
    on_warning : callable, optional
        One-line messages: encoder fallback, missing audio, damaged input.
    progress, cancel
        See :mod:`avr_gui.core.jobs`. A cancel leaves any existing ``out`` untouched.

    Returns
    -------
    ExportResult

    Raises
    ------
    InputError
        Unknown mode or audio choice; a frame map that does not fit the clips;
        ``skeleton`` without the pose track of a clip shown, or a track of another
        video (other picture shape, longer than the clip).
    OutputPathError
        ``out`` cannot be written.
    VideoError
        An input cannot be decoded (typed as by :class:`FrameReader`).
    EncoderUnavailableError, ExportError
        Encoding failed.
    Cancelled
    """
    if mode not in MODES:
        raise InputError(f"export mode must be one of {', '.join(MODES)}, got {mode!r}")
    if audio not in AUDIO_SOURCES:
        raise InputError(f"audio must be one of {', '.join(AUDIO_SOURCES)}, got {audio!r}")
    t_start = time.perf_counter()
    warn = on_warning or (lambda message: None)
    target = check_output(out, query, match)
    remove_stale_temps(target.parent, target.name)
    qpath, mpath = Path(query), Path(match)
    relay = _Relay()
    with (
        FrameReader(qpath, on_warning=relay) as qr,
        FrameReader(mpath, on_warning=relay) as mr,
    ):
        relay.release(warn, _damage_notes(qr, mr, mode))
        fmap.check_fits(len(qr), len(mr))
        curve = curve or fmap.curve()
        qfps, mfps = qr.info.fps or 30.0, mr.info.fps or 30.0
        if mode == "reverse":
            sources = reverse_frames(curve, qr.times, mr.times)
            times, fps, size = mr.times, mfps, (qr.width, qr.height)
            kept_is_query, kept_to_other = False, curve.inverse()
        else:
            sources = fmap.match_frame
            times, fps, size = qr.times, qfps, (mr.width, mr.height)
            kept_is_query, kept_to_other = True, curve
        plan = None
        if mode in ("side-by-side", "overlay"):
            plan = layout(
                mode,
                (qr.width, qr.height),
                (mr.width, mr.height),
                arrangement=arrangement,
                scale=scale,
            )
            size = plan.size
        n = len(times)
        sources = np.asarray(sources, dtype=np.int64)
        # Landmarks of every output frame, in the pixels of the frames read: the kept
        # clip shows frame i, the other clip frame sources[i].
        kept_marks = other_marks = None
        if skeleton:
            if kept_is_query:
                other_marks = _pose_frames(match_pose, mr, sources, "match")
                if plan is not None:
                    kept_marks = _pose_frames(query_pose, qr, np.arange(n), "query")
            else:
                other_marks = _pose_frames(query_pose, qr, sources, "query")
        drawn = np.zeros(n, bool)
        t0 = float(times[0])
        step = float(np.median(np.diff(times))) if n > 1 else 1.0 / fps
        duration = float(times[-1]) - t0 + step
        progress(0, n, "reading audio")
        kept_path, other_path = (qpath, mpath) if kept_is_query else (mpath, qpath)
        track, audio_used = _audio_for(
            audio, kept_path, other_path, kept_is_query, kept_to_other, t0, duration, cancel, warn
        )

        qname, mname = names or (qpath.stem, mpath.stem)

        def frames() -> Iterator[np.ndarray]:
            # Runs on the prefetch thread: each reader is used by one thread at a time.
            other_reader, kept_reader = (mr, qr) if kept_is_query else (qr, mr)
            # Each clip's timecode counts its frames at its own rate, as the players do.
            qrate, mrate = clip_rate(qr.times, qfps), clip_rate(mr.times, mfps)
            kept_rate, other_rate = (qrate, mrate) if kept_is_query else (mrate, qrate)
            for i in range(n):
                src = int(sources[i])
                image = other_reader.read(src)
                other_lm = None
                if other_marks is not None and other_marks[1][i]:
                    other_lm = other_marks[0][i]
                if plan is not None:
                    text = None
                    if burn_in:
                        text = (
                            burn_in_text(qname, i, kept_rate),
                            burn_in_text(mname, src, other_rate),
                        )
                    skel = None
                    if kept_marks is not None:
                        kept_lm = kept_marks[0][i] if kept_marks[1][i] else None
                        skel = (kept_lm, other_lm)  # the kept clip is the query here
                        drawn[i] = kept_lm is not None or other_lm is not None
                    image = compose(plan, kept_reader.read(i), image, labels=text, skeletons=skel)
                    yield image
                    continue
                if other_lm is not None:
                    # Only the re-timed clip is shown: the match, or the query in reverse.
                    colour = MATCH_COLOUR if kept_is_query else QUERY_COLOUR
                    draw_skeleton(image, other_lm, colour=colour)
                    drawn[i] = True
                if burn_in:
                    kept, other = (qname, mname) if kept_is_query else (mname, qname)
                    label(image, f"{burn_in_text(other, src, other_rate)} @ {kept} #{i}")
                yield image

        codec = write_frames(
            target,
            frames(),
            size,
            times,
            fps,
            audio=track,
            options=options,
            on_warning=warn,
            progress=progress,
            cancel=cancel,
        )
    return ExportResult(
        path=target,
        mode=mode,
        frame_count=n,
        fps=fps,
        size=size,
        source_frames=sources.copy(),
        codec=codec,
        audio=audio_used,
        seconds=time.perf_counter() - t_start,
        skeleton_frames=int(drawn.sum()),
    )
