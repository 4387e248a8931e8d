"""A generated library of clips with known phases: the demo's, the tests' and E4's.

Every action is a path through ``PHASES`` equal spans of progress. Each clip plays one
action with its own speed profile, colours, background, framing and camera shake;
distractors are clips of no action (a figure wandering at random). A manifest records
each clip's action and the action progress of every frame, so any frame's phase is
known exactly. Clips show a drawn person exercising in a room by default.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.demo.synth_person import PersonStyle, person_joints, render_person
from avr_gui.core.errors import InputError
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

PHASES = 4
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class GeneratedClip:
    """One generated clip and its ground truth.

    Attributes
    ----------
    path : str
    action : int
        -1 for a distractor.
    fps : float
    progress : numpy.ndarray, shape (T,), float64
        Action progress in [0, 1] of every frame of the file.
    """

    path: str
    action: int
    fps: float
    progress: np.ndarray

    @property
    def phases(self) -> np.ndarray:
        """Phase label of every frame, shape (T,), int64 (-1 for distractors)."""
        return phase_of(self.progress, self.action)


def phase_of(progress: np.ndarray, action: int) -> np.ndarray:
    """Phase label of frames at the given progress: ``PHASES`` equal spans (-1: no action).

    Parameters
    ----------
    progress : numpy.ndarray, shape (T,)
    action : int

    Returns
    -------
    numpy.ndarray, shape (T,), int64
    """
    p = np.asarray(progress, dtype=np.float64)
    if action < 0:
        return np.full(len(p), -1, np.int64)
    return np.minimum((p * PHASES).astype(np.int64), PHASES - 1)


def _style(rng: np.random.Generator, seed: int) -> ClipStyle:
    fig = tuple(int(v) for v in rng.integers(60, 256, 3))
    bg = tuple(int(v) for v in rng.integers(10, 90, 3))
    return ClipStyle(
        fig,  # type: ignore[arg-type]
        bg,  # type: ignore[arg-type]
        zoom=float(rng.uniform(0.8, 1.15)),
        shake=float(rng.choice([0.0, 0.0, 0.004, 0.008])),
        seed=seed,
    )


def _person_style(rng: np.random.Generator, seed: int) -> PersonStyle:
    def colour(lo: int, hi: int) -> tuple[int, int, int]:
        return tuple(int(v) for v in rng.integers(lo, hi, 3))  # type: ignore[return-value]

    return PersonStyle(
        shirt_bgr=colour(30, 240),
        trousers_bgr=colour(20, 120),
        skin_bgr=(
            int(rng.integers(90, 170)),
            int(rng.integers(130, 190)),
            int(rng.integers(180, 235)),
        ),
        wall_bgr=colour(120, 240),
        floor_bgr=colour(50, 160),
        scale=float(rng.uniform(0.8, 1.1)),
        offset_x=float(rng.uniform(-0.2, 0.2)),
        mirror=bool(rng.integers(0, 2)),
        shake=float(rng.choice([0.0, 0.0, 0.002, 0.004])),
        seed=seed,
    )


def _speeds(rng: np.random.Generator) -> tuple[float, ...]:
    return tuple(float(s) for s in rng.uniform(0.5, 2.0, int(rng.integers(1, 5))))


def _wander(rng: np.random.Generator, n: int) -> np.ndarray:
    # A distractor: smooth random motion that follows no action's phases.
    steps = rng.normal(0.0, 0.03, n).cumsum()
    return (steps - steps.min()) / max(float(np.ptp(steps)), 1e-9)


def generate_library(
    folder: str | os.PathLike[str],
    *,
    actions: tuple[int, ...] = (0, 1, 2),
    per_action: int = 4,
    distractors: int = 2,
    frames: tuple[int, int] = (40, 80),
    fps: float = 10.0,
    size: tuple[int, int] = (192, 144),
    seed: int = 0,
    figure: str = "person",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[GeneratedClip]:
    """Write a library of generated clips and its manifest into ``folder``.

    Parameters
    ----------
    folder : path-like
        Created if missing; existing clips of the same names are replaced.
    actions : tuple of int
        Which actions of :func:`avr_gui.core.demo.synth.action_position`.
    per_action : int
        Variants of each action (speed, colours, framing, shake all drawn per clip).
    distractors : int
    frames : (int, int)
        Range of clip lengths in frames.
    fps, size, seed
        Frame rate, ``(width, height)`` and the seed of every random choice.
    figure : {"person", "dot"}
        A drawn person doing exercises in a room (:mod:`avr_gui.core.demo.synth_person`;
        actions 0-2), or the abstract dot-and-limb figure of :mod:`avr_gui.core.demo.synth`.

    Returns
    -------
    list of GeneratedClip
        In file-name order; also written to ``folder/manifest.json``.
    """
    if figure not in ("person", "dot"):
        raise InputError(f"figure must be 'person' or 'dot', got {figure!r}")
    if per_action < 1 or distractors < 0 or not actions:
        raise InputError("need at least one action with one clip each")
    lo, hi = frames
    if not 2 <= lo <= hi:
        raise InputError(f"clip lengths must satisfy 2 <= min <= max, got {frames}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    plan: list[tuple[str, int, int]] = []
    for a in actions:
        plan += [
            (f"action{a}_v{v:02d}.mp4", a, int(rng.integers(lo, hi + 1))) for v in range(per_action)
        ]
    plan += [
        (f"distractor_{d:02d}.mp4", -1, int(rng.integers(lo, hi + 1))) for d in range(distractors)
    ]
    clips = []
    for k, (name, action, n) in enumerate(plan):
        check(cancel)
        progress(k, len(plan), f"generating {name}")
        if action >= 0:
            prog = speed_warp(n, _speeds(rng))
        else:
            prog = _wander(rng, n)
        if figure == "person":
            # A distractor walks in place: a person, but none of the actions' phases.
            pixels = render_person(action, prog, size, _person_style(rng, seed * 1000 + k))
        else:
            shown = action if action >= 0 else int(rng.integers(0, 3))
            pixels = render_frames(shown, prog, size, _style(rng, seed * 1000 + k))
            if action < 0:
                # Transposed so it follows no action's path.
                pixels = np.ascontiguousarray(pixels[:, ::-1, :, :])
        write_video(out / name, pixels, fps)
        clips.append(GeneratedClip(str(out / name), action, fps, prog))
    progress(len(plan), len(plan), "library generated")
    manifest = {
        "phases": PHASES,
        "clips": [
            {
                "file": Path(c.path).name,
                "action": c.action,
                "fps": c.fps,
                "progress": c.progress.round(6).tolist(),
            }
            for c in clips
        ],
    }
    write_text(out / MANIFEST, json.dumps(manifest))
    return clips


def read_manifest(folder: str | os.PathLike[str]) -> list[GeneratedClip]:
    """Read the clips of a generated library back from its manifest."""
    path = Path(folder) / MANIFEST
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        return [
            GeneratedClip(
                str(Path(folder) / c["file"]),
                int(c["action"]),
                float(c["fps"]),
                np.asarray(c["progress"], np.float64),
            )
            for c in d["clips"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a generated-library manifest ({exc})") from exc


@dataclass(frozen=True)
class GeneratedSkeleton:
    """One generated performance as joints (no pixels) and its ground truth.

    Attributes
    ----------
    joints : numpy.ndarray, shape (T, 13, 3), float64
        Penn Action layout: ``x, y`` in pixels, visibility (0 for dropped joints).
    action : int
    progress : numpy.ndarray, shape (T,), float64
    """

    joints: np.ndarray
    action: int
    progress: np.ndarray

    @property
    def phases(self) -> np.ndarray:
        """Phase label of every frame, shape (T,), int64."""
        return phase_of(self.progress, self.action)


def generate_skeletons(
    *,
    actions: tuple[int, ...] = (0, 1, 2),
    per_action: int = 8,
    frames: tuple[int, int] = (40, 80),
    size: tuple[int, int] = (192, 144),
    jitter: float = 0.03,
    drop: float = 0.05,
    seed: int = 0,
) -> list[GeneratedSkeleton]:
    """The drawn person's performances as joints: E4 for pose features without a pose model.

    Each clip draws its speed profile, size, position, camera side and shake as
    :func:`generate_library` does, then its joints are jittered (``jitter`` of the body
    height, as a pose model would) and a share ``drop`` of them marked unseen.

    Parameters
    ----------
    actions, per_action, frames, size, seed
        As :func:`generate_library` (no distractors).
    jitter : float
    drop : float

    Returns
    -------
    list of GeneratedSkeleton
    """
    if per_action < 1 or not actions:
        raise InputError("need at least one action with one clip each")
    lo, hi = frames
    if not 2 <= lo <= hi:
        raise InputError(f"clip lengths must satisfy 2 <= min <= max, got {frames}")
    rng = np.random.default_rng(seed)
    out = []
    for a in actions:
        for v in range(per_action):
            n = int(rng.integers(lo, hi + 1))
            prog = speed_warp(n, _speeds(rng))
            style = _person_style(rng, seed * 1000 + a * 100 + v)
            j = person_joints(a, prog, size, style)
            height = 0.62 * size[1] * style.scale
            j[..., :2] += rng.normal(0.0, jitter * height, j[..., :2].shape)
            j[..., 2] = (rng.random(j.shape[:2]) >= drop).astype(np.float64)
            out.append(GeneratedSkeleton(j, a, prog))
    return out
