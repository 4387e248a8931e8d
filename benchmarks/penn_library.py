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

from avr_gui.core.align import AlignmentOptions, align_many
from avr_gui.core.eval.metrics import auroc, cycle_fpe
from avr_gui.core.features.pose import motion

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


def e2_figures(
    frames: list[np.ndarray],
    mframes: list[np.ndarray],
    desc: np.ndarray,
    mdesc: np.ndarray,
    actions: np.ndarray,
    sims: np.ndarray | None = None,
) -> dict:
    """E2's figures of one representation of every sequence (split by :func:`e2_split`).

    Parameters
    ----------
    frames, mframes : list of ndarray
        Per sequence, its frames for DTW ``[T_i, D]`` and those of its mirror image.
    desc, mdesc : ndarray
        Standardised clip descriptors ``[N, K]`` of the sequences and of their mirrors.
    actions : ndarray
        ``[N]`` action label per sequence.
    sims : ndarray, optional
        ``[N, N]`` similarity of every sequence as a query (its better orientation) to
        every sequence, when the representation's comparison is not the plain
        mirror-invariant cosine of ``desc`` (e.g. compared on the limbs both show).

    Returns
    -------
    dict
        ``queries``, ``library``, ``recall@1/5/10`` of mirror-invariant retrieval,
        ``top1_after_dtw_rerank`` (the better of query and mirror, top 10),
        ``auroc_pose_similarity_top10`` and ``fpe_top1_clip_order`` / ``_dtw_order``.
    """
    lib, qs = e2_split(len(frames))
    lib_z = desc[lib]
    hits = {1: 0, 5: 0, 10: 0}
    rerank_hits = 0
    scores, same, fpe_clip, fpe_dtw = [], [], [], []
    opts = AlignmentOptions(context=True)
    for q in qs:
        s = (
            motion.mirror_invariant_similarity(desc[q], mdesc[q], lib_z)
            if sims is None
            else sims[q, lib]
        )
        order = np.argsort(-s)[:10]
        ok = actions[lib[order]] == actions[q]
        for k in hits:
            hits[k] += bool(ok[:k].any())
        scores.extend(s[order].tolist())
        same.extend(ok.tolist())
        cands = [frames[lib[i]] for i in order]
        a = align_many(frames[q], cands, opts)
        b = align_many(mframes[q], cands, opts)
        cost = np.minimum([r.normalized_cost for r in a], [r.normalized_cost for r in b])
        best = int(np.argmin(cost))
        rerank_hits += bool(ok[best])
        fpe_clip.append(cycle_fpe(a[0].path))
        fpe_dtw.append(cycle_fpe(a[best].path))
    n = len(qs)
    return {
        "queries": int(n),
        "library": len(lib),
        "recall@1": hits[1] / n,
        "recall@5": hits[5] / n,
        "recall@10": hits[10] / n,
        "top1_after_dtw_rerank": rerank_hits / n,
        "auroc_pose_similarity_top10": auroc(
            np.array(scores), np.array(same), lower_is_positive=False
        ),
        "fpe_top1_clip_order": float(np.mean(fpe_clip)),
        "fpe_top1_dtw_order": float(np.mean(fpe_dtw)),
    }


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


#: Penn-13 joints out of the frame in a framing crop: knees and ankles (legs), or the
#: elbow and wrist of one arm.
CROP_LEGS = (9, 10, 11, 12)
CROP_ARMS = ((3, 5), (4, 6))
#: Chances that a clip has its legs out of frame, or else one arm (whole clips).
CROP_LEGS_P = 0.3
CROP_ARM_P = 0.15


def frame_crops(views: list[np.ndarray], seed: int = 5) -> list[np.ndarray]:
    """Whole-clip framing crops: each clip independently has its legs out of frame
    (probability :data:`CROP_LEGS_P`) or else one arm hidden (:data:`CROP_ARM_P`).

    Real library clips often miss limbs for the whole clip (in E3/E3b, 9 of 28 performer
    clips miss their legs most of the time; side views hide the far arm); ``augment``
    drops joints only at random. The rates are a design assumption, not fitted.

    Parameters
    ----------
    views : list of numpy.ndarray, each shape (T, 13, 3)

    Returns
    -------
    list of numpy.ndarray
        Copies, visibility set to 0 for the cropped joints.
    """
    rng = np.random.default_rng(seed)
    out = []
    for v in views:
        v = v.copy()
        r = rng.random()
        if r < CROP_LEGS_P:
            v[:, list(CROP_LEGS), 2] = 0
        elif r < CROP_LEGS_P + CROP_ARM_P:
            v[:, list(CROP_ARMS[int(rng.random() < 0.5)]), 2] = 0
        out.append(v)
    return out
