"""The worker side of the Ray engine: the decode tasks and the encoder actors.

Kept apart from :mod:`avr_gui.core.scale.ray_engine` (the driver) and light to import:
every Ray worker process imports this module before its first task, so it loads only
numpy at import time; the decoder, the encoders and the library code are imported by
the functions that need them.

Rows travel between the stages as :data:`COLUMNS`: frames as raw bytes with their
shapes, features as raw float32 bytes, probe results as JSON (nothing of ours is
pickled).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import numpy as np

from avr_gui.core.errors import InputError

EMPTY = b""


# -- rows between the stages -------------------------------------------------------------

# Every stage emits these columns (empty bytes / strings where a value does not apply),
# so the batches of different stages and files concatenate.
COLUMNS = (
    "path",  # str
    "part",  # int: 0, 1, ... within the file
    "last",  # bool: the file's last row
    "info",  # str: probe result as JSON ("" after a failure)
    "frames",  # bytes: uint8 frames, concatenated
    "shapes",  # bytes: int32 [k, 3] frame shapes
    "times",  # bytes: float64 [k]
    "indices",  # bytes: int64 [k]
    "features",  # bytes: float32 [k, dim]
    "dim",  # int
    "landmarks",  # bytes: float32 [k, 33, 3] (pose encoders)
    "has_pose",  # bytes: bool [k] (pose encoders)
    "frame_size",  # str: "W,H" of the pose track
    "warnings",  # str: JSON list of decode warnings (last row)
    "error",  # str: failure reason ("" when none)
    "trace",  # str: traceback of a failure of the code (not of the file)
)


def record(path: str, part: int, last: bool, **values: Any) -> dict[str, Any]:
    """One row of :data:`COLUMNS`, empty where ``values`` says nothing.

    Parameters
    ----------
    path : str
    part : int
        Index of the row within its file.
    last : bool
        The file's last row.
    **values
        Other columns.

    Returns
    -------
    dict
    """
    rec: dict[str, Any] = {
        "path": path,
        "part": part,
        "last": last,
        "info": "",
        "frames": EMPTY,
        "shapes": EMPTY,
        "times": EMPTY,
        "indices": EMPTY,
        "features": EMPTY,
        "dim": 0,
        "landmarks": EMPTY,
        "has_pose": EMPTY,
        "frame_size": "",
        "warnings": "[]",
        "error": "",
        "trace": "",
    }
    rec.update(values)
    return rec


def as_batch(records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Records as a Ray Data numpy batch (bytes and text as object columns).

    Parameters
    ----------
    records : list of dict
        Rows from :func:`record`.

    Returns
    -------
    dict of str to numpy.ndarray
    """
    out: dict[str, np.ndarray] = {}
    for name in COLUMNS:
        values = [r[name] for r in records]
        if name in ("part", "dim"):
            out[name] = np.array(values, dtype=np.int64)
        elif name == "last":
            out[name] = np.array(values, dtype=bool)
        else:
            out[name] = np.array(values, dtype=object)
    return out


def failure(path: str, part: int, exc: BaseException, **values: Any) -> dict[str, Any]:
    """The row that ends a file that failed (reason as the local engine words it).

    Call it inside the ``except`` block: a failure of the code keeps its traceback.

    Parameters
    ----------
    path : str
    part : int
        Index of this row within the file (rows before it were sent already).
    exc : BaseException
    **values
        Other columns.

    Returns
    -------
    dict
    """
    # Imported here: the library package is heavy and only failures need it.
    from avr_gui.core.library.indexer import failure_reason

    reason, expected = failure_reason(exc, path)
    trace = "" if expected else traceback.format_exc()
    return record(path, part, True, error=reason, trace=trace, **values)


def pack_frames(images: list[np.ndarray]) -> tuple[bytes, bytes]:
    """Frames as bytes: their pixels back to back, and their shapes (int32 ``[k, 3]``).

    Parameters
    ----------
    images : list of numpy.ndarray
        ``(H, W, 3)`` uint8 frames (sizes may differ).

    Returns
    -------
    data, shapes : bytes
    """
    shapes = np.array([im.shape for im in images], dtype=np.int32).reshape(-1, 3)
    data = b"".join(np.ascontiguousarray(im, dtype=np.uint8).tobytes() for im in images)
    return data, shapes.tobytes()


def unpack_frames(data: bytes, shapes: bytes) -> list[np.ndarray]:
    """Undo :func:`pack_frames` (read-only views of ``data``, no copy).

    Parameters
    ----------
    data, shapes : bytes

    Returns
    -------
    list of numpy.ndarray
    """
    dims = np.frombuffer(shapes, dtype=np.int32).reshape(-1, 3)
    flat = np.frombuffer(data, dtype=np.uint8)
    out: list[np.ndarray] = []
    at = 0
    for h, w, c in dims.tolist():
        n = h * w * c
        out.append(flat[at : at + n].reshape(h, w, c))
        at += n
    return out


# -- stage 1: decode (CPU tasks) ------------------------------------------------------


def decode_batch(
    batch: dict[str, np.ndarray], *, fps: float, side: int | None, chunk: int
) -> Iterator[dict[str, np.ndarray]]:
    """Ray Data task: decode each file of ``batch``, one output batch per frame chunk.

    Parameters
    ----------
    batch : dict
        A ``path`` column.
    fps : float
        Sampling rate (the library's).
    side : int or None
        The encoder's decode size (longest side).
    chunk : int
        Frames per row: the encoder's batch size.

    Yields
    ------
    dict of str to numpy.ndarray
        One row of :data:`COLUMNS` per batch.
    """
    for path in batch["path"]:
        for rec in decode_file(str(path), fps, side, chunk):
            yield as_batch([rec])


def decode_file(path: str, fps: float, side: int | None, chunk: int) -> Iterator[dict[str, Any]]:
    """Rows of one file: ``chunk`` sampled frames each (the encoder's batch).

    The last row holds the rest (perhaps none) and the decode warnings; a file that
    fails ends with a :func:`failure` row instead.

    Parameters
    ----------
    path : str
    fps, side, chunk
        As for :func:`decode_batch`.

    Yields
    ------
    dict
    """
    from avr_gui.core.video.decode import sample_frames
    from avr_gui.core.video.probe import probe

    warnings: list[str] = []
    part = 0
    images: list[np.ndarray] = []
    times: list[float] = []
    indices: list[int] = []

    def row(last: bool, **extra: Any) -> dict[str, Any]:
        frames, shapes = pack_frames(images)
        return record(
            path,
            part,
            last,
            info=info_json,
            frames=frames,
            shapes=shapes,
            times=np.array(times, np.float64).tobytes(),
            indices=np.array(indices, np.int64).tobytes(),
            **extra,
        )

    info_json = ""
    try:
        # The local engine's calls, in its order: probe, then the sampler with the
        # encoder's decode size (the same frames, the same failures).
        info_json = json.dumps(asdict(probe(path)))
        for frame in sample_frames(path, fps, size=side, on_warning=warnings.append):
            images.append(frame.image)
            times.append(frame.time)
            indices.append(frame.index)
            if len(images) >= chunk:
                yield row(False)
                part += 1
                images, times, indices = [], [], []
    except Exception as exc:  # recorded as the file's failure, like the local engine
        yield failure(path, part, exc)
        return
    yield row(True, warnings=json.dumps(warnings))


# -- stage 2: encode (actor pool) -----------------------------------------------------


def load_encoder(name: str, version: str) -> Any:
    """The library's encoder on a worker; refuses one whose version differs.

    Parameters
    ----------
    name, version : str
        The library's encoder identity.

    Returns
    -------
    Encoder

    Raises
    ------
    InputError
        This node's encoder of that name is another version (other weights or code):
        its features would not be comparable.
    """
    from avr_gui.core.features import get_encoder

    enc = get_encoder(name)
    if enc.version != version:
        raise InputError(
            f"a worker loads encoder {name} as {enc.version}, the library holds {version}; "
            "install the same version of avr-studio (and its models) on every node"
        )
    return enc


class EncodeActor:
    """Ray Data actor: encodes each row's frames in one encoder call.

    Parameters
    ----------
    name, version : str
        The library's encoder (see :func:`load_encoder`).

    Rows come from :func:`decode_batch` and leave with ``features`` instead of
    ``frames``; a row whose encoding fails becomes its file's failure row.
    """

    def __init__(self, name: str, version: str) -> None:
        self._enc = load_encoder(name, version)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = len(batch["path"])
        feats = np.empty(n, dtype=object)
        dims = np.zeros(n, dtype=np.int64)
        errors = np.array(batch["error"], dtype=object)
        traces = np.array(batch["trace"], dtype=object)
        last = np.array(batch["last"], dtype=bool)
        for i in range(n):
            feats[i] = EMPTY
            if errors[i] or not batch["shapes"][i]:
                continue  # a failed file, or the empty tail of a file
            images = unpack_frames(batch["frames"][i], batch["shapes"][i])
            try:
                out = np.ascontiguousarray(self._enc.encode(images), dtype=np.float32)
            except Exception as exc:  # the file fails, the stage goes on
                rec = failure(str(batch["path"][i]), int(batch["part"][i]), exc)
                errors[i], traces[i] = rec["error"], rec["trace"]
                # This row now ends the file for the driver (its later rows are ignored).
                last[i] = True
                continue
            feats[i] = out.tobytes()
            dims[i] = out.shape[1]
        out_batch = {k: v for k, v in batch.items() if k not in ("frames", "shapes")}
        # The frames have done their work: only features go back to the driver.
        out_batch["frames"] = np.array([EMPTY] * n, dtype=object)
        out_batch["shapes"] = np.array([EMPTY] * n, dtype=object)
        out_batch.update(features=feats, dim=dims, error=errors, trace=traces, last=last)
        return out_batch


class PoseActor:
    """Ray Data actor for pose encoders: decodes and encodes whole files.

    Parameters
    ----------
    name, version : str
        The library's encoder (see :func:`load_encoder`).
    fps : float
        Sampling rate.

    Rows in hold a ``path``; each leaves as one row of :data:`COLUMNS` with the
    features, the pose track and the probe result (or the file's failure).
    """

    def __init__(self, name: str, version: str, fps: float) -> None:
        self._enc = load_encoder(name, version)
        self._fps = fps

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from avr_gui.core.features.pose.encoder import encode_pose_video
        from avr_gui.core.video.probe import probe

        records: list[dict[str, Any]] = []
        for p in batch["path"]:
            path = str(p)
            warnings: list[str] = []
            try:
                info = probe(path)
                seq, track = encode_pose_video(
                    path, self._enc, fps=self._fps, on_warning=warnings.append
                )
            except Exception as exc:  # recorded as the file's failure
                records.append(failure(path, 0, exc))
                continue
            records.append(
                record(
                    path,
                    0,
                    True,
                    info=json.dumps(asdict(info)),
                    times=seq.timestamps.astype(np.float64).tobytes(),
                    indices=seq.frame_indices.astype(np.int64).tobytes(),
                    features=seq.features.astype(np.float32).tobytes(),
                    dim=int(seq.features.shape[1]),
                    landmarks=track.landmarks.astype(np.float32).tobytes(),
                    has_pose=track.has_pose.astype(bool).tobytes(),
                    frame_size=f"{track.frame_size[0]},{track.frame_size[1]}",
                    warnings=json.dumps(warnings),
                )
            )
        return as_batch(records)
