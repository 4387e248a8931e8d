"""Penn Action joints as the product sees them, and E2's split (shared by the benchmarks).

``load_penn`` reads the 1,258 training sequences at 10 fps (every 3rd frame of 30 fps,
as the product samples); ``load_library`` keeps E2's *library* part (every sequence
that is not every 5th; the 5th are E2's queries and are never fitted on). ``augment``
makes a sequence look like an untrimmed, noisy clip of a user's library: used by
``fit_pose_motion.py`` (the pose representation and its statistics) and
``train_lrprop.py`` (the learned pose model), so both are fitted on the same data.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PENN = Path("penn_action") / "penn_action_joints_train.npz"


def load_penn(data: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Every Penn Action training sequence at 10 fps: joints ``[T, 13, 3]`` and actions."""
    with np.load(Path(data) / PENN, allow_pickle=False) as d:
        off = d["offsets"]
        joints = np.stack([d["x"], d["y"], d["visibility"].astype(np.float32)], -1)
        actions = np.asarray(d["action"])
    return [joints[a:b:3].astype(np.float64) for a, b in itertools.pairwise(off)], actions


def e2_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """E2's library and query indices among ``n`` sequences (every 5th is a query)."""
    idx = np.arange(n)
    return idx[idx % 5 != 0], idx[idx % 5 == 0]


def load_library(data: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """E2's library part of Penn Action at 10 fps: joints ``[T, 13, 3]`` and actions."""
    seqs, actions = load_penn(data)
    keep, _ = e2_split(len(seqs))
    return [seqs[i] for i in keep], actions[keep]


def augment(j: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A Penn sequence made to look like an untrimmed, noisy library clip."""
    seq = np.concatenate([j] * int(rng.integers(1, 4)))
    n = len(seq)
    length = min(n, max(8, int(n * rng.uniform(0.6, 1.0))))
    start = int(rng.integers(0, n - length + 1))
    seq = seq[start : start + length].copy()
    t = np.arange(0, len(seq) - 1, rng.uniform(0.7, 1.4))
    i0 = np.floor(t).astype(int)
    fr = (t - i0)[:, None, None]
    seq = seq[i0] * (1 - fr) + seq[np.minimum(i0 + 1, len(seq) - 1)] * fr
    # Idle stretches: half of the clips wait before the action, half after it.
    if rng.random() < 0.5:
        seq = np.concatenate([np.repeat(seq[:1], int(len(seq) * rng.uniform(0.1, 0.5)), 0), seq])
    if rng.random() < 0.5:
        seq = np.concatenate([seq, np.repeat(seq[-1:], int(len(seq) * rng.uniform(0.1, 0.5)), 0)])
    vis = seq[..., 2] > 0.5
    torso = np.median(np.hypot(seq[:, 1, 0] - seq[:, 7, 0], seq[:, 1, 1] - seq[:, 7, 1])) + 1
    seq[..., :2] += rng.normal(0, 0.04 * torso, seq[..., :2].shape)
    seq[..., 2] = np.where(vis & (rng.random(vis.shape) >= 0.05), 1.0, 0.0)
    if rng.random() < 0.5:
        seq[..., 0] = -seq[..., 0]
    return seq
