"""E1 — warp recovery on real clips (EVAL.md).

Each clip is sampled at 10 fps; a copy is made with a known monotone time warp
(piecewise speeds in [0.5, 2], so a different length) and appearance changes (crop of
80-100 % of the side, brightness and contrast, blur, noise). The copy is aligned to the
original; the error of a copy frame is |estimated - true source frame| in sampled
frames. Everything is seeded, so the figures repeat.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avr_gui.core.align import AlignmentOptions, align, time_map
from avr_gui.core.align.shown import shown_alignment
from avr_gui.core.features.encoders import Encoder
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.video._cv2 import import_cv2
from avr_gui.core.video.decode import sample_frames

cv2 = import_cv2()

FPS = 10.0
MAX_SIDE = 640  # frames are kept at most this large: the encoders resize further anyway


@dataclass(frozen=True)
class WarpedCopy:
    """A distorted, time-warped copy of a clip and the truth about it."""

    frames: list[np.ndarray]
    source: np.ndarray  # [L] true source frame (int) of each copy frame
    speeds: tuple[float, ...]


def load_clip(path: str | os.PathLike[str], fps: float = FPS) -> list[np.ndarray]:
    """Frames of ``path`` sampled at ``fps``, longer side at most MAX_SIDE, BGR uint8."""
    out = []
    for f in sample_frames(path, fps):
        img = f.image
        scale = MAX_SIDE / max(img.shape[:2])
        if scale < 1:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        out.append(img)
    return out


def make_copy(frames: Sequence[np.ndarray], seed: int) -> WarpedCopy:
    """A warped and restyled copy of ``frames`` (deterministic for a given seed).

    Parameters
    ----------
    frames : sequence of numpy.ndarray, each (H, W, 3) uint8
    seed : int

    Returns
    -------
    WarpedCopy
    """
    rng = np.random.default_rng(seed)
    n = len(frames)
    segments = int(rng.integers(2, 5))
    speeds = tuple(float(s) for s in np.exp(rng.uniform(np.log(0.5), np.log(2.0), segments)))
    # Segment boundaries in source time; within each, the copy advances at its speed.
    cuts = np.sort(rng.uniform(0, n - 1, segments - 1))
    bounds = np.concatenate([[0.0], cuts, [n - 1.0]])
    positions = [0.0]
    for k in range(segments):
        pos = positions[-1]
        while pos + speeds[k] <= bounds[k + 1] + 1e-9:
            pos += speeds[k]
            positions.append(pos)
        # Carry over into the next segment from the boundary.
        if k + 1 < segments and positions[-1] < bounds[k + 1]:
            positions.append(min(bounds[k + 1], n - 1.0))
    source = np.clip(np.round(positions), 0, n - 1).astype(np.int64)

    h, w = frames[0].shape[:2]
    crop = rng.uniform(0.8, 1.0)
    ch, cw = round(float(h * crop)), round(float(w * crop))
    y0 = int(rng.integers(0, h - ch + 1))
    x0 = int(rng.integers(0, w - cw + 1))
    alpha = rng.uniform(0.7, 1.3)
    beta = rng.uniform(-30, 30)
    sigma = rng.uniform(0.0, 1.5)
    noise = rng.uniform(0.0, 8.0)
    out = []
    for s in source:
        img = frames[int(s)][y0 : y0 + ch, x0 : x0 + cw]
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        img = img * alpha + beta
        if sigma > 0.3:
            img = cv2.GaussianBlur(img, (0, 0), sigma)
        img += rng.normal(0.0, noise, img.shape).astype(np.float32)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return WarpedCopy(out, source, speeds)


@dataclass
class E1Result:
    """Per-clip errors for each configuration name."""

    errors: dict[str, dict[str, float]] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, float]]:
        """Median and worst error (frames) per configuration."""
        out = {}
        for cfg, per_clip in self.errors.items():
            v = np.array(list(per_clip.values()))
            out[cfg] = {
                "median_error_frames": float(np.median(v)),
                "worst_error_frames": float(v.max()),
            }
        return out


def encode_all(encoder: Encoder, frames: Sequence[np.ndarray]) -> np.ndarray:
    """Encode in the encoder's batch size; returns [T, d] float32."""
    parts = [
        encoder.encode(frames[a : a + encoder.batch_size])
        for a in range(0, len(frames), encoder.batch_size)
    ]
    return np.concatenate(parts)


def warp_error(
    query_feats: np.ndarray,
    cand_feats: np.ndarray,
    truth: np.ndarray,
    context: bool,
    *,
    shown: bool = False,
) -> float:
    """Mean |estimated - true| source frame when aligning a copy to its original.

    ``shown``: use the alignment the product shows and exports (partial, on every
    query frame: :func:`~avr_gui.core.align.shown.shown_alignment`) instead of DTW of
    the whole clips.
    """
    opts = AlignmentOptions(context=context)
    if shown:
        path = shown_alignment(query_feats, cand_feats, opts, keep_cost=False).alignment.path
    else:
        path = align(query_feats, cand_feats, opts, keep_cost=False).path
    est = time_map(path, keep="query")
    return float(np.mean(np.abs(est - truth)))


def run_e1(
    clips: Sequence[str | os.PathLike[str]],
    encoders: dict[str, Encoder],
    *,
    seed: int = 0,
    fps: float = FPS,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> E1Result:
    """Run E1 for every clip and encoder, with and without contextualization.

    Parameters
    ----------
    clips : sequence of path-like
    encoders : dict of str to Encoder
        Configuration name -> encoder.
    seed : int
    fps : float
        Sampling rate (the protocol's is 10); errors are in frames at this rate.

    Returns
    -------
    E1Result
        Keys ``"<name>"`` (contextualized), ``"<name>/raw"`` and ``"<name>/shown"`` (the
        partial alignment the product shows and exports, contextualized).
    """
    result = E1Result()
    for k, clip in enumerate(clips):
        check(cancel)
        progress(k, len(clips), f"E1: {Path(clip).name}")
        frames = load_clip(clip, fps)
        copy = make_copy(frames, seed * 1000 + k)
        for name, enc in encoders.items():
            check(cancel)
            f_orig = encode_all(enc, frames)
            f_copy = encode_all(enc, copy.frames)
            truth = copy.source.astype(np.float64)
            for context in (True, False):
                key = name if context else f"{name}/raw"
                err = warp_error(f_copy, f_orig, truth, context)
                result.errors.setdefault(key, {})[Path(clip).name] = err
            err = warp_error(f_copy, f_orig, truth, True, shown=True)
            result.errors.setdefault(f"{name}/shown", {})[Path(clip).name] = err
    progress(len(clips), len(clips), "E1 done")
    return result
