"""Pose features that describe how a body moves, and whether a clip shows a performer.

Computed from stored landmarks (a :class:`~avr_gui.core.features.pose.PoseTrack`, or
Penn Action's 13 annotated joints), never from pixels, so the representation can change
without running the pose model again.

Per frame (:func:`motion_features`, ``[T, 50]``):

- **limb directions** (24): the unit vector of each of 12 segments (upper arms,
  forearms, thighs, shins, both torso sides, the shoulder line, the hip line). They do
  not depend on body size, camera distance or where the person stands, only on how
  the limbs are held.
- **joint positions** (26, weight 0.5): the 13 joints relative to the torso centre in
  torso lengths (:func:`~avr_gui.core.features.pose.normalize.penn_pose_features`);
  they add where the hands and feet are relative to the body.

Landmarks are smoothed over time first (a Gaussian of ``smooth_sigma`` samples that
skips unseen joints), which removes pose-model jitter at 10 fps. A frame with fewer
than :data:`MIN_JOINTS` visible joints has no usable pose: its row is zero and its
``valid`` flag False, and it never enters a clip descriptor, so two frames without a
person never look alike.

Mirror invariance: :func:`motion_features` with ``mirror=True`` describes the mirrored
person (x negated, left and right swapped); clip similarity takes the better of the
query and its mirror image (:func:`mirror_invariant_similarity`).

Per clip (:func:`clip_pose_descriptor`, ``[100]``): mean and standard deviation of the
valid frames, each weighted by how much it moves: the posture held during the action
and how much each limb moves, with idle stretches counting little. The product takes
them over the frames where each limb is seen and compares two clips only on the limbs
both show (:func:`observed_descriptor`, :func:`masked_cosines`): legs below the frame
edge or an arm hidden in a side view are left out rather than counted as zeros. Once
standardised,
the spread half is weighted by the shipped ``spread_weight`` (:func:`spread_scale`):
in a small library of actions nobody trained on, *what moves* tells actions apart
better than the posture they share (lying for bench press and sit-ups, standing for
lunges and presses). The weight is chosen on Penn Action libraries of 5 held-out
actions with 2-4 clips each (``benchmarks/eval_small_libraries.py``).

Every choice here (segments and positions over either alone, mean ⊕ std weighted by
motion over plain mean ⊕ std, mean alone or velocity or range statistics, mirror
invariance) was made by leave-one-out clip retrieval on Penn Action *library* sequences
made to look like library clips (repeated, cut, re-timed, idle stretches, jittered,
with dropped joints and mirrored cameras): ``benchmarks/fit_pose_motion.py``. The real
clips were only checks.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
from scipy.ndimage import gaussian_filter1d

from avr_gui.core.errors import ShapeError
from avr_gui.core.features.pose.normalize import NUM_JOINTS, penn_pose_features
from avr_gui.core.features.pose.skeleton import MIRROR13, blazepose_to_penn13

if TYPE_CHECKING:
    from avr_gui.core.features.pose.encoder import PoseTrack

#: Segments as (from, to) Penn-13 joint indices: upper arm, forearm (left, right),
#: thigh, shin (left, right), torso sides, shoulder line, hip line.
SEGMENTS: tuple[tuple[int, int], ...] = (
    (1, 3), (3, 5), (2, 4), (4, 6),
    (7, 9), (9, 11), (8, 10), (10, 12),
    (1, 7), (2, 8), (1, 2), (7, 8),
)  # fmt: skip
#: A frame needs this many visible joints (of 13) to describe a body.
MIN_JOINTS = 6
#: Weight of the joint-position block beside the limb directions (chosen on augmented
#: Penn Action: 0.5 beat 0 and 1).
POSITION_WEIGHT = 0.5
#: Temporal smoothing of the landmarks, in samples (10 fps: 0.1 s).
SMOOTH_SIGMA = 1.0
#: Smoothing (samples) of the per-frame motion that weighs frames in a clip descriptor.
WEIGHT_SIGMA = 2.0
#: Floor of those weights, as a share of their mean motion.
WEIGHT_FLOOR = 1e-3
#: A clip shows a performer when at least this share of its frames has a usable pose.
PERFORMER_SHARE = 0.5
#: A descriptor dimension is compared when its limb or joint is seen in at least this
#: share of the clip's motion-weighted frames (:func:`observed_descriptor`).
SEEN_SHARE = 0.5
MOTION_DIM = 2 * len(SEGMENTS) + 2 * NUM_JOINTS
DESCRIPTOR_DIM = 2 * MOTION_DIM
#: A shipped ``spread_weight`` beyond this is treated as a damaged file.
MAX_SPREAD_WEIGHT = 10.0


def _segment_mirror() -> tuple[np.ndarray, np.ndarray]:
    """Where each segment goes in the mirror image, and whether it then points backwards.

    The shoulder and hip lines run left to right: mirrored, the left end becomes the
    right one, so the segment keeps its place but its direction is reversed.
    """
    perm, sign = [], []
    for a, b in SEGMENTS:
        ma, mb = int(MIRROR13[a]), int(MIRROR13[b])
        k = next(k for k, (p, q) in enumerate(SEGMENTS) if {p, q} == {ma, mb})
        perm.append(k)
        sign.append(1.0 if SEGMENTS[k] == (ma, mb) else -1.0)
    return np.array(perm, np.int64), np.array(sign)


_SEG_MIRROR, _SEG_SIGN = _segment_mirror()


def _visible(joints: np.ndarray, threshold: float) -> np.ndarray:
    return (joints[..., 2] >= threshold) & np.isfinite(joints[..., 0]) & np.isfinite(joints[..., 1])


def smooth_joints(joints: np.ndarray, sigma: float, threshold: float = 0.5) -> np.ndarray:
    """Smooth joint positions over time, ignoring frames where a joint is unseen.

    Parameters
    ----------
    joints : numpy.ndarray, shape (T, J, 3)
        ``x, y, visibility``.
    sigma : float
        Gaussian width in samples; 0 returns the input.
    threshold : float
        Visibility from which a joint counts as seen.

    Returns
    -------
    numpy.ndarray, shape (T, J, 3), float64
        Visibility unchanged.
    """
    j = np.array(joints, dtype=np.float64)
    if sigma <= 0 or len(j) < 2:
        return j
    w = _visible(j, threshold).astype(np.float64)
    xy = np.where(w[..., None] > 0, np.nan_to_num(j[..., :2]), 0.0)
    # Normalised convolution: a weighted average over seen samples only.
    num = gaussian_filter1d(xy * w[..., None], sigma, axis=0, mode="nearest")
    den = gaussian_filter1d(w, sigma, axis=0, mode="nearest")[..., None]
    j[..., :2] = np.where(den > 1e-3, num / np.maximum(den, 1e-3), j[..., :2])
    return j


def motion_features(
    joints: np.ndarray,
    *,
    mirror: bool = False,
    smooth_sigma: float = SMOOTH_SIGMA,
    vis_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame limb directions and body-relative joint positions.

    Parameters
    ----------
    joints : numpy.ndarray, shape (T, 13, 3)
        Penn Action's 13 joints: ``x, y`` in pixels (y down), visibility.
    mirror : bool
        Describe the mirror image (x negated, left and right swapped).
    smooth_sigma : float
        Temporal smoothing in samples.
    vis_threshold : float

    Returns
    -------
    features : numpy.ndarray, shape (T, 50), float32
        Zero rows where ``valid`` is False.
    valid : numpy.ndarray, shape (T,), bool
        Frames with at least :data:`MIN_JOINTS` visible joints.
    """
    j = np.asarray(joints)
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3):
        raise ShapeError(f"joints must have shape [T, 13, 3], got {j.shape}")
    t = j.shape[0]
    if t == 0:
        return np.zeros((0, MOTION_DIM), np.float32), np.zeros(0, bool)
    j = smooth_joints(j, smooth_sigma, vis_threshold)
    vis = _visible(j, vis_threshold)
    valid = vis.sum(axis=1) >= MIN_JOINTS
    x = -j[..., 0] if mirror else j[..., 0]
    y = j[..., 1]
    a = np.array([s[0] for s in SEGMENTS])
    b = np.array([s[1] for s in SEGMENTS])
    dx, dy = x[:, b] - x[:, a], y[:, b] - y[:, a]
    norm = np.hypot(dx, dy)
    ok = vis[:, a] & vis[:, b] & (norm > 1e-6)
    safe = np.where(ok, norm, 1.0)
    seg = np.stack([np.where(ok, dx / safe, 0.0), np.where(ok, dy / safe, 0.0)], axis=2)
    if mirror:
        seg = seg[:, _SEG_MIRROR] * _SEG_SIGN[None, :, None]
    pos = penn_pose_features(j, mirror=mirror, vis_threshold=vis_threshold)[:, : 2 * NUM_JOINTS]
    out = np.concatenate([seg.reshape(t, -1), POSITION_WEIGHT * pos], axis=1)
    out[~valid] = 0.0
    return np.ascontiguousarray(out, dtype=np.float32), valid


def landmark_motion_features(
    landmarks: np.ndarray,
    has_pose: np.ndarray | None = None,
    *,
    mirror: bool = False,
    frame_size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`motion_features` of 33-point landmarks (BlazePose layout, any backend).

    Parameters
    ----------
    landmarks : numpy.ndarray, shape (T, 33, 3)
        ``x, y`` in pixels, visibility.
    has_pose : numpy.ndarray, shape (T,), bool, optional
        Frames where the pose model found a person (others count as unseen).
    mirror : bool
    frame_size : (int, int), optional
        ``(width, height)`` of the picture the landmarks were found in: a joint outside
        it counts as unseen, whatever visibility the pose model gave it.

    Returns
    -------
    features : numpy.ndarray, shape (T, 50), float32
    valid : numpy.ndarray, shape (T,), bool

    Notes
    -----
    BlazePose places every landmark, also beyond the picture's edge, and sometimes
    rates such a guess as visible: a third of the leg landmarks of a bench press filmed
    from the head end (legs below the frame) had visibility >= 0.5. What lies outside
    the picture was not observed, and the comparison leaves unseen limbs out
    (:func:`observed_descriptor`) as the Penn Action framing crops it was chosen on do
    (``benchmarks/penn_library.frame_crops``).
    """
    j = blazepose_to_penn13(np.asarray(landmarks, np.float64)).copy()
    if frame_size is not None:
        w, h = float(frame_size[0]), float(frame_size[1])
        x, y = j[..., 0], j[..., 1]
        j[~((x >= 0) & (x <= w) & (y >= 0) & (y <= h)), 2] = 0.0
    if has_pose is not None:
        hp = np.asarray(has_pose, bool).reshape(-1)
        if hp.shape != (j.shape[0],):
            raise ShapeError(f"has_pose must have shape [{j.shape[0]}], got {hp.shape}")
        j[~hp, :, 2] = 0.0
    return motion_features(j, mirror=mirror)


def track_motion_features(track: PoseTrack, *, mirror: bool = False) -> tuple[np.ndarray, ...]:
    """:func:`landmark_motion_features` of a stored pose track (joints outside its frame
    unseen).

    Parameters
    ----------
    track : PoseTrack
        ``landmarks [T, 33, 3]``, ``has_pose [T]``, ``frame_size``.
    mirror : bool

    Returns
    -------
    features : numpy.ndarray, shape (T, 50), float32
    valid : numpy.ndarray, shape (T,), bool
    """
    return landmark_motion_features(
        track.landmarks, track.has_pose, mirror=mirror, frame_size=track.frame_size
    )


#: Descriptor dimensions (of the mean block) of the arm and leg segments: segment ``k``
#: of :data:`SEGMENTS` holds dimensions ``2k`` and ``2k + 1``.
ARM_DIMS = np.arange(0, 8)
LEG_DIMS = np.arange(8, 16)


def compared_parts(seen_a: np.ndarray, seen_b: np.ndarray) -> str:
    """Which body parts two clips' pose descriptors were compared on.

    The masked comparison (:func:`masked_cosines`) uses the dimensions both clips show;
    this names them for people: a bench press with its legs out of frame is compared
    with any clip on its arms alone.

    Parameters
    ----------
    seen_a, seen_b : numpy.ndarray, shape (100,), bool
        :func:`observed_descriptor` masks of the two clips.

    Returns
    -------
    str
        ``"whole body"``, ``"upper body"`` (the legs left out), ``"legs"`` (the arms
        left out) or ``"torso"`` (neither limbs compared).
    """
    both = np.asarray(seen_a, bool) & np.asarray(seen_b, bool)
    arms, legs = bool(both[ARM_DIMS].any()), bool(both[LEG_DIMS].any())
    if arms and legs:
        return "whole body"
    if arms:
        return "upper body"
    return "legs" if legs else "torso"


def is_performer(valid: np.ndarray) -> bool:
    """Whether a clip shows a person performing: enough frames with a usable pose.

    Parameters
    ----------
    valid : numpy.ndarray, shape (T,), bool

    Returns
    -------
    bool
    """
    v = np.asarray(valid, bool)
    return bool(v.size) and float(v.mean()) >= PERFORMER_SHARE


def motion_weights(features: np.ndarray) -> np.ndarray:
    """How much each frame moves, as weights that sum to one.

    The magnitude of the frame-to-frame change of the features, smoothed over
    :data:`WEIGHT_SIGMA` samples, plus a floor of :data:`WEIGHT_FLOOR` of its mean so a
    still clip weighs its frames equally.

    Parameters
    ----------
    features : numpy.ndarray, shape (T, d)
        Consecutive valid frames.

    Returns
    -------
    numpy.ndarray, shape (T,), float64
    """
    g = np.asarray(features, np.float64)
    if len(g) < 3:
        return np.full(len(g), 1.0 / max(len(g), 1))
    m = np.linalg.norm(np.gradient(g, axis=0), axis=1)
    w = gaussian_filter1d(m, WEIGHT_SIGMA) + WEIGHT_FLOOR * float(m.mean()) + 1e-12
    return w / w.sum()


def clip_pose_descriptor(
    features: np.ndarray, valid: np.ndarray, *, weighted: bool = True
) -> np.ndarray:
    """Mean and standard deviation of a clip's valid frames, weighted by how they move.

    Library clips run longer than the action (the athlete walks in, waits, rests), and a
    plain mean describes the waiting as much as the exercise; weighting each frame by
    its motion (:func:`motion_weights`) describes the action. Chosen on augmented Penn
    Action with idle stretches added (leave-one-out top-1 0.930 weighted against 0.911
    plain; without idle stretches the two are level: ``benchmarks/fit_pose_motion.py``).

    Parameters
    ----------
    features : numpy.ndarray, shape (T, 50)
    valid : numpy.ndarray, shape (T,), bool
    weighted : bool
        False: every valid frame counts the same.

    Returns
    -------
    numpy.ndarray, shape (100,), float32
        Zeros when no frame is valid.
    """
    f = np.asarray(features, np.float64)
    v = np.asarray(valid, bool)
    if f.ndim != 2 or v.shape != (f.shape[0],):
        raise ShapeError(f"features [T, d] and valid [T] expected, got {f.shape} and {v.shape}")
    if not v.any():
        return np.zeros(2 * f.shape[1], np.float32)
    g = f[v]
    w = motion_weights(g) if weighted else np.full(len(g), 1.0 / len(g))
    mean = w @ g
    std = np.sqrt(np.maximum(w @ (g - mean) ** 2, 0.0))
    return np.concatenate([mean, std]).astype(np.float32)


def observed_descriptor(
    features: np.ndarray, valid: np.ndarray, *, weighted: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A clip's descriptor over the frames where each limb is seen, and which it shows.

    Real clips often miss limbs for the whole clip (legs below the frame edge, the far
    arm in a side view). :func:`clip_pose_descriptor` counts an unseen limb as zeros, so
    two clips that both miss their legs look alike there and a clip that shows them
    looks unlike either. Here each dimension's mean and spread are taken over the
    motion-weighted frames where its segment or joint is seen, and the dimension is
    compared (:func:`masked_cosines`) only between clips that both show it in at least
    :data:`SEEN_SHARE` of their weighted frames. In Penn Action small libraries of
    unseen actions (``benchmarks/eval_small_libraries.py``) the product's top-1 went
    from 0.554 to 0.645 with whole-clip framing crops, and from 0.736 to 0.737 without.

    Parameters
    ----------
    features : numpy.ndarray, shape (T, 50)
        :func:`motion_features` (unseen segments and joints are exact zeros).
    valid : numpy.ndarray, shape (T,), bool
    weighted : bool
        False: every valid frame counts the same.

    Returns
    -------
    descriptor : numpy.ndarray, shape (100,), float32
        Mean and spread; zeros where a dimension is never seen.
    seen : numpy.ndarray, shape (100,), bool
        Dimensions shown in at least :data:`SEEN_SHARE` of the weighted frames.
    """
    f = np.asarray(features, np.float64)
    v = np.asarray(valid, bool)
    if f.ndim != 2 or f.shape[1] != MOTION_DIM or v.shape != (f.shape[0],):
        raise ShapeError(f"features [T, {MOTION_DIM}] and valid [T] expected, got {f.shape}")
    if not v.any():
        return np.zeros(DESCRIPTOR_DIM, np.float32), np.zeros(DESCRIPTOR_DIM, bool)
    g = f[v]
    w = motion_weights(g) if weighted else np.full(len(g), 1.0 / len(g))
    # Layout (motion_features): 12 segments as interleaved (x, y) unit vectors, then the
    # 13 joints' x offsets, then their 13 y offsets. Unseen ones are exact zeros.
    nseg = len(SEGMENTS)
    seen_seg = np.abs(g[:, : 2 * nseg].reshape(len(g), nseg, 2)).sum(2) > 0
    pos = g[:, 2 * nseg :]
    seen_pos = (pos[:, :NUM_JOINTS] != 0) | (pos[:, NUM_JOINTS:] != 0)
    o = np.concatenate([np.repeat(seen_seg, 2, axis=1), seen_pos, seen_pos], axis=1)
    wo = w[:, None] * o
    share = wo.sum(0)
    safe = np.maximum(share, 1e-12)
    mean = np.where(share > 0, (wo * g).sum(0) / safe, 0.0)
    var = np.where(share > 0, (wo * (g - mean) ** 2).sum(0) / safe, 0.0)
    desc = np.concatenate([mean, np.sqrt(np.maximum(var, 0.0))]).astype(np.float32)
    seen = np.concatenate([share, share]) >= SEEN_SHARE
    return desc, seen


def masked_cosine_matrix(
    a: np.ndarray, a_seen: np.ndarray, b: np.ndarray, b_seen: np.ndarray
) -> np.ndarray:
    """Cosine of every row of ``a`` with every row of ``b`` over the dimensions both show.

    Parameters
    ----------
    a : numpy.ndarray, shape (Na, K)
    a_seen : numpy.ndarray, shape (Na, K), bool
    b : numpy.ndarray, shape (Nb, K)
    b_seen : numpy.ndarray, shape (Nb, K), bool

    Returns
    -------
    numpy.ndarray, shape (Na, Nb), float64
        0 for a pair with no dimension in common.
    """
    ma = np.asarray(a_seen, np.float64)
    mb = np.asarray(b_seen, np.float64)
    za = np.asarray(a, np.float64) * ma
    zb = np.asarray(b, np.float64) * mb
    num = za @ zb.T
    den = (za**2) @ mb.T * (ma @ (zb**2).T)
    return num / np.sqrt(np.maximum(den, 1e-24))


def masked_cosines(
    query: np.ndarray, query_seen: np.ndarray, library: np.ndarray, library_seen: np.ndarray
) -> np.ndarray:
    """:func:`masked_cosine_matrix` of one descriptor ``[K]`` with each library row
    ``[N, K]``: ``[N]``, float64."""
    return masked_cosine_matrix(
        np.asarray(query)[None], np.asarray(query_seen)[None], library, library_seen
    )[0]


def mirror_invariant_similarity(
    query: np.ndarray,
    query_mirror: np.ndarray,
    library: np.ndarray,
    seen: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Cosine similarity of a query to library clips, the better of it and its mirror.

    Parameters
    ----------
    query, query_mirror : numpy.ndarray, shape (D,)
        Standardised descriptors of the query and of its mirror image.
    library : numpy.ndarray, shape (N, D)
        Standardised descriptors of the library clips.
    seen : (numpy.ndarray, numpy.ndarray, numpy.ndarray), optional
        ``(query [D], query_mirror [D], library [N, D])`` bool: compare only the
        dimensions both clips show (:func:`observed_descriptor`); default all.

    Returns
    -------
    numpy.ndarray, shape (N,), float64
    """
    return np.maximum(
        _cosines(query, library, None if seen is None else (seen[0], seen[2])),
        _cosines(query_mirror, library, None if seen is None else (seen[1], seen[2])),
    )


def blended_similarity(
    learned: tuple[np.ndarray, np.ndarray, np.ndarray],
    hand: tuple[np.ndarray, np.ndarray, np.ndarray],
    learned_weight: float,
    hand_seen: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Mirror-invariant blend of a learned and the hand-made descriptor's cosines.

    For the query as seen and as mirrored, ``w * cos_learned + (1 - w) * cos_hand``;
    the better of the two orientations (both families must agree on the orientation,
    so the maximum is taken after the blend).

    Parameters
    ----------
    learned, hand : (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        ``(query [K], query_mirror [K], library [N, K])`` standardised descriptors of
        each family (``K`` differs between them).
    learned_weight : float
        ``w`` in [0, 1].
    hand_seen : (numpy.ndarray, numpy.ndarray, numpy.ndarray), optional
        Which hand-made dimensions each shows (see :func:`mirror_invariant_similarity`).

    Returns
    -------
    numpy.ndarray, shape (N,), float64
    """
    w = float(learned_weight)
    seen, mirrored = (
        w * _cosines(learned[k], learned[2])
        + (1.0 - w)
        * _cosines(hand[k], hand[2], None if hand_seen is None else (hand_seen[k], hand_seen[2]))
        for k in range(2)
    )
    return np.maximum(seen, mirrored)


def _cosines(
    query: np.ndarray, library: np.ndarray, seen: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Cosine of one descriptor ``[K]`` with each library row ``[N, K]``: ``[N]``."""
    if seen is not None:
        return masked_cosines(query, seen[0], library, seen[1])
    lib = np.asarray(library, np.float64)
    lib = lib / np.maximum(np.linalg.norm(lib, axis=1, keepdims=True), 1e-12)
    q = np.asarray(query, np.float64)
    return lib @ (q / max(float(np.linalg.norm(q)), 1e-12))


class DescriptorStandardizer:
    """Per-dimension standardisation of pose descriptors.

    Fitting on both orientations keeps mirrored and unmirrored descriptors on one
    scale, so the mirror-invariant maximum compares like with like. No labels are used.
    The product uses the statistics shipped in ``resources/pose_motion.json``
    (:func:`shipped_standardizer`), so a similarity means the same in every library,
    small ones included, and the calibrated verdict transfers.

    Parameters
    ----------
    descriptors : numpy.ndarray, shape (N, D)
        Clips and their mirror images.
    """

    def __init__(self, descriptors: np.ndarray) -> None:
        d = np.asarray(descriptors, np.float64)
        if d.ndim != 2:
            raise ShapeError(f"descriptors must be [N, D], got {d.shape}")
        if len(d) >= 2:
            self.mean = d.mean(axis=0)
            self.std = d.std(axis=0) + 1e-6
        else:
            self.mean = np.zeros(d.shape[1])
            self.std = np.ones(d.shape[1])
        #: Per-dimension weight applied after standardising (ones unless given).
        self.scale = np.ones(d.shape[1])

    def transform(self, descriptors: np.ndarray) -> np.ndarray:
        """``[N, D]`` (or ``[D]``) -> standardised and weighted, same shape, float64."""
        return (np.asarray(descriptors, np.float64) - self.mean) / self.std * self.scale

    @classmethod
    def from_stats(
        cls, mean: np.ndarray, std: np.ndarray, scale: np.ndarray | None = None
    ) -> DescriptorStandardizer:
        """A standardizer with given per-dimension mean, standard deviation and weight.

        Parameters
        ----------
        mean, std : numpy.ndarray, shape (D,)
        scale : numpy.ndarray, shape (D,), optional
            Multiplies each standardised dimension (default ones).

        Returns
        -------
        DescriptorStandardizer
        """
        m = np.asarray(mean, np.float64).reshape(-1)
        sd = np.asarray(std, np.float64).reshape(-1)
        if m.shape != sd.shape or not np.all(np.isfinite(m)) or not np.all(sd > 0):
            raise ShapeError(f"mean and std must be finite [D] with std > 0, got {m.shape}")
        sc = np.ones_like(m) if scale is None else np.asarray(scale, np.float64).reshape(-1)
        if sc.shape != m.shape or not np.all(np.isfinite(sc)) or not np.all(sc >= 0):
            raise ShapeError(f"scale must be finite [D] and >= 0, got {sc.shape}")
        out = cls(np.zeros((0, m.size)))
        out.mean, out.std, out.scale = m, sd, sc
        return out


def spread_scale(spread_weight: float) -> np.ndarray:
    """Weights of a clip descriptor's dimensions: 1 for the mean half, ``spread_weight``
    for the spread (standard deviation) half.

    Parameters
    ----------
    spread_weight : float

    Returns
    -------
    numpy.ndarray, shape (100,), float64
    """
    return np.concatenate([np.ones(MOTION_DIM), np.full(MOTION_DIM, float(spread_weight))])


def shipped_standardizer() -> DescriptorStandardizer | None:
    """The descriptor statistics fitted on augmented Penn Action, or None if absent.

    Returns
    -------
    DescriptorStandardizer or None
        From ``resources/pose_motion.json`` (written by
        ``benchmarks/fit_pose_motion.py --write``); None when the file is missing or
        does not match :data:`DESCRIPTOR_DIM`. Its ``spread_weight`` (default 1)
        weighs the spread half against the mean half (:func:`spread_scale`).
    """
    try:
        text = resources.files("avr_gui").joinpath("resources/pose_motion.json").read_text("utf-8")
        raw = json.loads(text)
        if len(raw["mean"]) != DESCRIPTOR_DIM:
            return None
        std = DescriptorStandardizer.from_stats(raw["mean"], raw["std"])
    except (FileNotFoundError, OSError, ValueError, KeyError, TypeError, ShapeError):
        return None
    try:
        spread = float(raw.get("spread_weight", 1.0))
        if not 0.0 <= spread <= MAX_SPREAD_WEIGHT:
            raise ValueError(f"outside [0, {MAX_SPREAD_WEIGHT}]")
    except (TypeError, ValueError) as exc:
        # The statistics are fine: keep them, with both halves weighted alike.
        logging.getLogger(__name__).warning("pose_motion.json spread_weight not used (%s)", exc)
        spread = 1.0
    std.scale = spread_scale(spread)
    return std
