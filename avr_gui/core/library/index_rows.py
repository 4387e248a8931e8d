"""Rows of the indexing job: what a file's catalog row becomes once it is encoded.

An encoded file's features are written under :func:`feature_key` and its row becomes
``indexed`` (:func:`store_encoded`, with :func:`damage_note` for a video cut short); a
copy of an indexed file reuses its row (:func:`copy_row`); a file that could not be read
becomes ``failed`` with a one-line reason (:func:`failure_reason`), read problems
marked by :data:`READ_ERROR` so the next run tries them again (:func:`is_read_failure`).
Every engine (:mod:`~avr_gui.core.library.indexer`, the Ray engine) builds its rows
here, so they all write the same catalog.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace

import numpy as np

from avr_gui.core.errors import AvrError, MissingFileError, UnreadableFileError
from avr_gui.core.features.encoders import Encoder
from avr_gui.core.features.pose.backends import POSE_BACKENDS
from avr_gui.core.features.pose.encoder import FusedEncoder, PoseEncoder, PoseTrack
from avr_gui.core.features.pose.motion import is_performer, track_motion_features
from avr_gui.core.features.sequence import FeatureSequence
from avr_gui.core.library.catalog import Catalog, Row
from avr_gui.core.library.descriptor import clip_descriptor
from avr_gui.core.library.query import retrieval_features
from avr_gui.core.library.store import FeatureStore
from avr_gui.core.video.damage import is_damaged
from avr_gui.core.video.probe import VideoInfo

#: Registry names of the encoders whose libraries store pose tracks.
POSE_ENCODER_NAMES: frozenset[str] = frozenset(b.name for b in POSE_BACKENDS)

#: Start of the ``reason`` of a row that failed on an operating-system read problem
#: (tried again at every run).
READ_ERROR = "read error: "
# Reasons such failures had before they were marked (older catalogs): MissingFileError
# and UnreadableFileError texts, and OSError from fingerprinting.
_OLD_READ_ERRORS = (
    "no such file",
    "permission denied",
    "cannot be read",
    "FileNotFoundError",
    "PermissionError",
    "OSError",
    "TimeoutError",
)


def has_person_of(track: PoseTrack, encoder_name: str) -> bool:
    """A clip's ``has_person`` from its landmarks.

    Parameters
    ----------
    track : PoseTrack
    encoder_name : str

    Returns
    -------
    bool
        ``auto``: a person performs in most frames; other pose encoders: any frame.
    """
    if encoder_name == "auto":
        return is_performer(track_motion_features(track)[1])
    return bool(track.has_pose.any())


def is_pose_encoder(encoder: Encoder) -> bool:
    """Whether ``encoder`` finds landmarks (a pose or pose+appearance encoder).

    Parameters
    ----------
    encoder : Encoder

    Returns
    -------
    bool
        True when the library stores a pose track beside each clip's features.
    """
    return isinstance(encoder, (PoseEncoder, FusedEncoder))


def feature_key(fp: str, encoder_version: str) -> str:
    """Store key of a file's features: its fingerprint under one encoder version.

    Parameters
    ----------
    fp : str
        The file's whole-content fingerprint.
    encoder_version : str

    Returns
    -------
    str
        ``"v"`` and 32 hex digits.
    """
    h = hashlib.blake2b(f"{fp}\0{encoder_version}".encode(), digest_size=16)
    return "v" + h.hexdigest()


def error_reason(exc: BaseException, path: str) -> str:
    """One-line failure reason; OS-level read problems start with :data:`READ_ERROR`.

    Parameters
    ----------
    exc : BaseException
        What reading, probing, decoding or encoding the file raised.
    path : str
        The file (dropped from the front of the message).

    Returns
    -------
    str
        The message on one line, led by the exception's type unless it is one of ours.
    """
    text = " ".join(str(exc).split()).removeprefix(f"{path}: ")
    if isinstance(exc, AvrError) and text:
        out = text
    else:
        out = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, (OSError, MissingFileError, UnreadableFileError)):
        return READ_ERROR + out
    return out


def _expected_failure(exc: BaseException) -> bool:
    """Whether a per-file failure is about the file (bad input, I/O), not about the code.

    Decoders report bad data as ``ValueError``/``OSError`` subclasses (PyAV's
    ``InvalidDataError`` is both), and our own layers raise :class:`AvrError`.
    """
    return isinstance(exc, (AvrError, OSError, ValueError, EOFError))


def is_read_failure(reason: str | None) -> bool:
    """Whether a failed row's ``reason`` is a read problem that may pass (try again)."""
    return reason is not None and (
        reason.startswith(READ_ERROR) or reason.startswith(_OLD_READ_ERRORS)
    )


def damage_note(info: VideoInfo, times: np.ndarray) -> tuple[float | None, str | None]:
    """Where a decoded video stops short of its nominal duration, if it clearly does.

    Parameters
    ----------
    info : VideoInfo
        From :func:`~avr_gui.core.video.probe.probe` (nominal ``duration_s``, ``fps``).
    times : numpy.ndarray, shape (T,)
        Source times in seconds of the decoded (sampled) frames.

    Returns
    -------
    damaged_at : float or None
        Seconds readable (last decoded time plus one source frame), or None when the
        video is not cut short by :func:`~avr_gui.core.video.damage.is_damaged`'s rule
        (the one playback and export use, so the library and the player agree), or
        the duration is unknown.
    note : str or None
        ``"damaged: readable to 4.1 s of 10.0 s"``, or None.
    """
    nominal = float(info.duration_s)
    if not (nominal > 0 and len(times)):
        return None, None
    frame = 1.0 / info.fps if info.fps > 0 else 0.0
    end = float(times[-1]) + frame
    if not is_damaged(end, nominal, float(info.fps)):
        return None, None
    end = round(end, 3)
    return end, f"damaged: readable to {end:.1f} s of {nominal:.1f} s"


def requeued(row: Row) -> Row:
    """``row`` back to ``pending`` with only its file's identity (path, stat, hash).

    Parameters
    ----------
    row : Row
        Any file row (pending, indexed, failed).

    Returns
    -------
    Row
        ``pending``, with nothing of what an earlier encoding recorded.
    """
    return Row(row.path, row.folder, "file", row.size, row.mtime_ns, row.fingerprint, "pending")


def _donor(row: Row, catalog: Catalog, store: FeatureStore, version: str, pose: bool) -> Row | None:
    """An indexed copy of ``row``'s content whose stored files are intact, or None."""
    found = catalog.rows(
        "fingerprint = ? AND status = 'indexed' AND source = 'file' "
        "AND encoder_version = ? AND path != ?",
        (row.fingerprint, version, row.path),
        limit=1,
    )
    if not found or not found[0].feature_key:
        return None
    d = found[0]
    if store.verify(d.feature_key or "", pose) is not None or (pose and d.has_person is None):
        return None
    return d


def copy_row(
    row: Row, catalog: Catalog, store: FeatureStore, encoder_version: str, pose: bool
) -> Row | None:
    """``row`` as a copy of an indexed file with the same content, or None if none is.

    Parameters
    ----------
    row : Row
        A row to encode (its file's identity is kept: path, folder, stat).
    catalog, store
        The library's.
    encoder_version : str
        Only rows encoded by this version count.
    pose : bool
        The encoder is a pose encoder (the copy needs a stored track and ``has_person``).

    Returns
    -------
    Row or None
        The donor's row under ``row``'s path, or None when no intact donor exists.
    """
    d = _donor(row, catalog, store, encoder_version, pose) if row.fingerprint else None
    if d is None:
        return None
    return replace(d, path=row.path, folder=row.folder, size=row.size, mtime_ns=row.mtime_ns)


def failure_reason(exc: BaseException, path: str) -> tuple[str, bool]:
    """The ``reason`` a file that could not be indexed gets, and whose fault it was.

    Parameters
    ----------
    exc : BaseException
        What probing, decoding or encoding the file raised.
    path : str
        The file (dropped from the front of the message).

    Returns
    -------
    reason : str
        One line; read problems start with :data:`READ_ERROR`, failures of the code
        (not of the file) read ``"internal error (...); see the log"``.
    expected : bool
        Whether the failure is about the file (bad input, I/O) rather than the code;
        the caller logs the traceback of an unexpected one.
    """
    reason = error_reason(exc, path)
    if _expected_failure(exc):
        return reason, True
    return f"internal error ({reason}); see the log", False


def store_encoded(
    row: Row,
    store: FeatureStore,
    seq: FeatureSequence,
    info: VideoInfo,
    encoder_name: str,
    encoder_version: str,
    warnings: list[str],
    track: PoseTrack | None = None,
) -> Row:
    """Write a file's encoded features atomically and return its ``indexed`` row.

    Parameters
    ----------
    row : Row
        The row that was encoded (its file's identity and fingerprint are kept).
    store : FeatureStore
    seq : FeatureSequence
        The file's features, as :func:`~avr_gui.core.features.sequence.encode_video`
        returns them.
    info : VideoInfo
        The file's :func:`~avr_gui.core.video.probe.probe` result.
    encoder_name, encoder_version : str
    warnings : list of str
        Decode warnings, in the order they were issued (they go into ``reason``).
    track : PoseTrack, optional
        The pose track (pose encoders).

    Returns
    -------
    Row
        ``indexed``; or ``failed`` with a read-error reason (nothing stored) when the
        file changed since it was hashed.
    """
    base = requeued(row)
    if _changed_since_hashed(row):
        # The features may not be those of the hashed content: never store them under
        # its key (a copy of the old content would reuse them). Tried again next run.
        return replace(base, status="failed", reason=READ_ERROR + _CHANGED)
    key = feature_key(row.fingerprint or "", encoder_version)
    store.write(key, seq, track)
    damaged_at, note = damage_note(info, seq.timestamps)
    return replace(
        base,
        status="indexed",
        reason="; ".join(([note] if note else []) + warnings) or None,
        feature_key=key,
        n_features=int(seq.features.shape[0]),
        duration=float(info.duration_s),
        fps=float(info.fps),
        width=int(info.width),
        height=int(info.height),
        encoder=encoder_name,
        encoder_version=encoder_version,
        descriptor=clip_descriptor(retrieval_features(seq.features, encoder_name)).tobytes(),
        has_person=None if track is None else has_person_of(track, encoder_name),
        damaged_at=damaged_at,
    )


_CHANGED = "the file changed while it was being indexed"


def _changed_since_hashed(row: Row) -> bool:
    """Whether the file's stat differs from the one its fingerprint was taken under."""
    try:
        st = os.stat(row.path)
    except OSError:
        return True
    return (st.st_size, st.st_mtime_ns) != (row.size, row.mtime_ns)
