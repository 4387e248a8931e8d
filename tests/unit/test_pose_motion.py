"""Pose-motion features, clip descriptors, the shipped statistics and the verdict."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.align.shown import cover_query, shown_alignment
from avr_gui.core.align.verdict import VerdictModel, load_models, verdict_label
from avr_gui.core.errors import InputError, ShapeError
from avr_gui.core.features.pose import motion
from avr_gui.core.features.pose.skeleton import MIRROR13

ROOT = Path(__file__).resolve().parents[2]
PENN = Path(__file__).resolve().parents[3] / "shared" / "data" / "penn_action"


def _walker(t: int = 40, seed: int = 0) -> np.ndarray:
    """A 13-joint figure swinging its right arm, all joints visible, [T, 13, 3]."""
    rng = np.random.default_rng(seed)
    base = np.array(
        [[0, -60], [-15, -45], [15, -45], [-20, -20], [20, -20], [-22, 0], [22, 0],
         [-10, 0], [10, 0], [-12, 30], [12, 30], [-12, 60], [12, 60]],
        float,
    )  # fmt: skip
    j = np.repeat(base[None], t, axis=0) + rng.normal(0, 0.5, (t, 13, 2))
    a = np.linspace(0, 4 * np.pi, t)
    j[:, 4] = j[:, 2] + np.stack([25 * np.cos(a), 25 * np.sin(a)], 1)
    j[:, 6] = j[:, 4] + np.stack([20 * np.cos(a), 20 * np.sin(a)], 1)
    return np.concatenate([j + 200, np.ones((t, 13, 1))], axis=2)


def test_features_ignore_body_size_and_place() -> None:
    j = _walker()
    moved = j.copy()
    moved[..., :2] = moved[..., :2] * 2.5 + np.array([300.0, -40.0])
    f1, v1 = motion.motion_features(j)
    f2, v2 = motion.motion_features(moved)
    assert f1.shape == (40, motion.MOTION_DIM) and v1.all() and v2.all()
    np.testing.assert_allclose(f1, f2, atol=1e-5)


def test_mirror_flag_describes_the_mirrored_person() -> None:
    j = _walker()
    mirrored = j[:, MIRROR13].copy()
    mirrored[..., 0] = -mirrored[..., 0]
    f_of_mirror, _ = motion.motion_features(mirrored)
    f_mirror_flag, _ = motion.motion_features(j, mirror=True)
    np.testing.assert_allclose(f_of_mirror, f_mirror_flag, atol=1e-5)
    # ...and the mirror-invariant similarity of a clip to its mirror image is 1.
    d = motion.clip_pose_descriptor(*motion.motion_features(j))
    dm = motion.clip_pose_descriptor(*motion.motion_features(j, mirror=True))
    s = motion.mirror_invariant_similarity(dm, d, d[None])
    assert s[0] == pytest.approx(1.0, abs=1e-6)
    assert motion.mirror_invariant_similarity(d, d, dm[None])[0] < 0.999


def test_frames_without_a_pose_are_invalid_and_never_alike() -> None:
    j = _walker()
    j[10:20, :, 2] = 0.0  # nobody seen
    j[25, 3:, 2] = 0.0  # only 3 joints seen: not enough of a body
    f, valid = motion.motion_features(j)
    assert not valid[10:20].any() and not valid[25] and valid[:10].all()
    assert np.all(f[~valid] == 0)
    empty = np.zeros((30, 13, 3))
    fe, ve = motion.motion_features(empty)
    assert not ve.any() and not motion.is_performer(ve)
    assert np.all(motion.clip_pose_descriptor(fe, ve) == 0)
    # A clip mostly without a person is not a performer clip.
    half = _walker()
    half[: int(0.6 * len(half)), :, 2] = 0
    assert not motion.is_performer(motion.motion_features(half)[1])
    assert motion.is_performer(motion.motion_features(_walker())[1])


def test_smoothing_skips_unseen_joints() -> None:
    j = _walker()
    j[15, 5, :2] = 0.0  # a zeroed, unseen joint must not drag its neighbours to 0
    j[15, 5, 2] = 0.0
    s = motion.smooth_joints(j, 1.0)
    assert np.all(np.abs(s[14:17, 5, :2]) > 100)
    assert np.allclose(motion.smooth_joints(j, 0.0), j)


def test_bad_shapes_raise() -> None:
    with pytest.raises(ShapeError):
        motion.motion_features(np.zeros((5, 12, 3)))
    with pytest.raises(ShapeError):
        motion.clip_pose_descriptor(np.zeros((5, 50)), np.ones(4, bool))
    with pytest.raises(ShapeError):
        motion.DescriptorStandardizer.from_stats(np.zeros(3), np.zeros(3))


def test_shipped_statistics_load() -> None:
    std = motion.shipped_standardizer()
    assert std is not None
    assert std.mean.shape == (motion.DESCRIPTOR_DIM,) and np.all(std.std > 0)
    # The shipped spread weight reaches the transform: mean half 1, spread half w.
    raw = json.loads((ROOT / "resources" / "pose_motion.json").read_text("utf-8"))
    w = float(raw.get("spread_weight", 1.0))
    np.testing.assert_array_equal(std.scale, motion.spread_scale(w))
    x = np.random.default_rng(0).normal(size=motion.DESCRIPTOR_DIM)
    z = (x - std.mean) / std.std
    np.testing.assert_allclose(std.transform(x)[: motion.MOTION_DIM], z[: motion.MOTION_DIM])
    np.testing.assert_allclose(std.transform(x)[motion.MOTION_DIM :], w * z[motion.MOTION_DIM :])


def test_spread_weight_changes_which_half_decides() -> None:
    """Two clips that share a posture but move differently, and two that move alike in
    different postures: a larger spread weight brings the second pair closer."""
    d = motion.DESCRIPTOR_DIM // 2
    query = np.concatenate([np.ones(d), np.ones(d)])
    same_posture = np.concatenate([np.ones(d), 0.3 * np.ones(d)])
    same_motion = np.concatenate([np.zeros(d), np.ones(d)])
    lib = np.stack([same_posture, same_motion])
    for w, best in ((1.0, 0), (2.5, 1)):
        std = motion.DescriptorStandardizer.from_stats(
            np.zeros(2 * d), np.ones(2 * d), motion.spread_scale(w)
        )
        z = std.transform(lib)
        s = motion.mirror_invariant_similarity(std.transform(query), std.transform(query), z)
        assert int(np.argmax(s)) == best


def test_bad_spread_weights_are_refused() -> None:
    with pytest.raises(ShapeError):
        motion.DescriptorStandardizer.from_stats(np.zeros(3), np.ones(3), -np.ones(3))
    with pytest.raises(ShapeError):
        motion.DescriptorStandardizer.from_stats(np.zeros(3), np.ones(3), np.ones(2))


@pytest.mark.skipif(not PENN.exists(), reason="Penn Action joints not present (../shared)")
def test_descriptors_tell_penn_actions_apart() -> None:
    """Leave-one-out on 300 Penn Action sequences (10 fps): far above chance (1/15)."""
    with np.load(PENN / "penn_action_joints_train.npz", allow_pickle=False) as d:
        off = d["offsets"]
        joints = np.stack([d["x"], d["y"], d["visibility"].astype(np.float32)], -1)
        actions = np.asarray(d["action"])
    pick = np.arange(0, len(off) - 1, 4)[:300]
    seqs = [joints[a:b:3] for a, b in itertools.pairwise(off)]
    desc = np.stack([motion.clip_pose_descriptor(*motion.motion_features(seqs[i])) for i in pick])
    mirr = np.stack(
        [motion.clip_pose_descriptor(*motion.motion_features(seqs[i], mirror=True)) for i in pick]
    )
    std = motion.shipped_standardizer()
    assert std is not None
    lib = std.transform(desc)
    hits = 0
    for k in range(len(pick)):
        s = motion.mirror_invariant_similarity(std.transform(desc[k]), std.transform(mirr[k]), lib)
        s[k] = -np.inf
        hits += actions[pick[int(np.argmax(s))]] == actions[pick[k]]
    assert hits / len(pick) > 0.8


def test_verdict_models() -> None:
    models = load_models()
    assert {"pose", "appearance"} <= set(models)
    pose = models["pose"]
    assert pose.probability(0.9) > pose.probability(0.3) > pose.probability(-0.5)
    cost = models["appearance"]
    assert cost.probability(0.1) > cost.probability(0.8)  # lower cost, more alignable
    assert np.isnan(VerdictModel("x", 1.0, 0.0).probability(float("nan")))
    with pytest.raises(InputError):
        load_models('{"models": {"pose": {"slope": 1}}}')
    with pytest.raises(InputError):
        load_models("not json")
    assert verdict_label(0.9) == "alignable"
    assert verdict_label(0.3) == "possible"
    assert verdict_label(0.05) == "unlikely"
    assert verdict_label(None) == "-"


def test_shown_alignment_covers_every_query_frame() -> None:
    p = np.array([[3, 10], [4, 11], [5, 11], [6, 12]])
    c = cover_query(p, 9)
    assert c[:, 0].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert c[:3, 1].tolist() == [10, 10, 10] and c[-2:, 1].tolist() == [12, 12]
    assert np.all(np.diff(c, axis=0) >= 0)
    # A query that is a part of the candidate: path on every query frame, span inside.
    rng = np.random.default_rng(3)
    t = np.linspace(0, 6 * np.pi, 200)
    cand = np.stack([np.sin(t * (k + 1) / 3 + k) for k in range(8)], 1) + rng.normal(
        0, 0.05, (200, 8)
    )
    query = cand[60:140:1].copy()
    shown = shown_alignment(query.astype(np.float32), cand.astype(np.float32))
    assert shown.mode == "query_in_match"
    assert abs(shown.match_span[0] - 60) <= 3 and abs(shown.match_span[1] - 139) <= 3
    assert sorted(set(shown.alignment.path[:, 0].tolist())) == list(range(len(query)))


REAL = PENN.parent / "real"


@pytest.mark.slow
@pytest.mark.skipif(not REAL.exists(), reason="real clips not present (../shared)")
@pytest.mark.slow
def test_a_warped_whole_copy_stays_a_whole_alignment() -> None:
    """E1's copy of pushup2.mp4: the partial alignment alone held 60 % of the copy on one
    frame (error 79.9 frames); pricing what it leaves out at chance keeps it whole."""
    from avr_gui.core.eval.e1 import encode_all, load_clip, make_copy, warp_error
    from avr_gui.core.features import get_encoder

    clips = sorted(REAL.glob("*.mp4"))
    k = [c.name for c in clips].index("pushup2.mp4")
    frames = load_clip(REAL / "pushup2.mp4")
    copy = make_copy(frames, k)  # E1's seed for this clip
    enc = get_encoder("effnet-lite0")
    orig, warped = encode_all(enc, frames), encode_all(enc, copy.frames)
    shown = shown_alignment(warped, orig)
    assert shown.mode == "full"
    assert warp_error(warped, orig, copy.source.astype(float), True, shown=True) < 1.0


def test_idle_stretches_weigh_little_in_the_descriptor() -> None:
    action = _walker(40)
    idle = np.repeat(action[:1], 60, axis=0)  # the athlete waits, then moves
    waited = np.concatenate([idle, action])
    d_action = motion.clip_pose_descriptor(*motion.motion_features(action))
    weighted = motion.clip_pose_descriptor(*motion.motion_features(waited))
    plain = motion.clip_pose_descriptor(*motion.motion_features(waited), weighted=False)
    assert np.linalg.norm(weighted - d_action) < 0.5 * np.linalg.norm(plain - d_action)
    w = motion.motion_weights(motion.motion_features(waited)[0])
    assert w.sum() == pytest.approx(1.0) and w[:50].sum() < 0.2


@pytest.mark.parametrize("spread", ["abc", 50.0, -1.0, None])
def test_a_damaged_spread_weight_keeps_the_statistics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, spread
) -> None:
    raw = json.loads((ROOT / "resources" / "pose_motion.json").read_text("utf-8"))
    raw["spread_weight"] = spread
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "pose_motion.json").write_text(json.dumps(raw), "utf-8")
    monkeypatch.setattr(motion.resources, "files", lambda _pkg: tmp_path)
    with caplog.at_level("WARNING"):
        std = motion.shipped_standardizer()
    assert std is not None
    np.testing.assert_array_equal(std.mean, raw["mean"])
    np.testing.assert_array_equal(std.scale, np.ones(motion.DESCRIPTOR_DIM))
    assert "spread_weight not used" in caplog.text


# ----------------------------------------------------------- limbs out of frame


LEG_JOINTS = [9, 10, 11, 12]


def _legs_out(j: np.ndarray) -> np.ndarray:
    out = j.copy()
    out[:, LEG_JOINTS, 2] = 0.0
    return out


def test_observed_descriptor_equals_the_plain_one_when_every_limb_is_seen() -> None:
    f, v = motion.motion_features(_walker())
    d, seen = motion.observed_descriptor(f, v)
    np.testing.assert_allclose(d, motion.clip_pose_descriptor(f, v), atol=1e-6)
    assert seen.all()


def test_unseen_legs_are_left_out_not_counted_as_zeros() -> None:
    f, v = motion.motion_features(_legs_out(_walker()))
    d, seen = motion.observed_descriptor(f, v)
    # Thighs and shins (segments 4-7) and the knee and ankle positions are unseen.
    seg = np.zeros(motion.MOTION_DIM, bool)
    seg[8:16] = True
    pos0 = 2 * len(motion.SEGMENTS)  # then 13 x offsets, then 13 y offsets
    for j in LEG_JOINTS:
        seg[pos0 + j] = seg[pos0 + 13 + j] = True
    assert not seen[: motion.MOTION_DIM][seg].any() and not seen[motion.MOTION_DIM :][seg].any()
    assert seen[: motion.MOTION_DIM][~seg].all()
    assert not d[: motion.MOTION_DIM][seg].any()


def test_a_clip_with_its_legs_out_of_frame_still_matches_itself() -> None:
    std = motion.shipped_standardizer()
    assert std is not None
    whole, cropped = _walker(seed=3), _legs_out(_walker(seed=3))
    (a, sa), (b, sb) = (
        motion.observed_descriptor(*motion.motion_features(x)) for x in (whole, cropped)
    )
    masked = motion.masked_cosines(std.transform(b), sb, std.transform(a)[None], sa[None])[0]
    zero = motion.mirror_invariant_similarity(
        std.transform(motion.clip_pose_descriptor(*motion.motion_features(cropped))),
        std.transform(motion.clip_pose_descriptor(*motion.motion_features(cropped, mirror=True))),
        std.transform(motion.clip_pose_descriptor(*motion.motion_features(whole)))[None],
    )[0]
    assert masked > 0.99 > zero


def test_masked_cosines_compare_only_what_both_show() -> None:
    rng = np.random.default_rng(0)
    q, lib = rng.normal(size=8), rng.normal(size=(3, 8))
    all_seen = np.ones(8, bool)
    plain = lib @ q / np.linalg.norm(lib, axis=1) / np.linalg.norm(q)
    np.testing.assert_allclose(
        motion.masked_cosines(q, all_seen, lib, np.ones((3, 8), bool)), plain
    )
    lib[0, 4:] = -q[4:] * 7  # disagrees only where the query is not seen
    qs = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    lib[0, :4] = 2 * q[:4]
    got = motion.masked_cosines(q, qs, lib, np.ones((3, 8), bool))
    assert got[0] == pytest.approx(1.0)
    # Nothing in common: similarity 0, not NaN.
    assert motion.masked_cosines(q, qs, lib[:1], ~qs[None])[0] == 0.0


def _landmarks33(j13: np.ndarray) -> np.ndarray:
    """33-point landmarks holding the 13 Penn joints of ``j13`` (others zero)."""
    from avr_gui.core.features.pose.skeleton import NUM_LANDMARKS, PENN13

    lm = np.zeros((len(j13), NUM_LANDMARKS, 3))
    lm[:, list(PENN13)] = j13
    return lm


def test_joints_outside_the_picture_count_as_unseen() -> None:
    # The walker spans x 140-260, y 140-260 px: a 400 x 240 picture cuts its feet
    # (y 260) off although the pose model rated them visible, as BlazePose does.
    lm = _landmarks33(_walker(seed=4))
    f_all, v_all = motion.landmark_motion_features(lm)
    f_cut, v_cut = motion.landmark_motion_features(lm, frame_size=(400, 240))
    _, seen_all = motion.observed_descriptor(f_all, v_all)
    _, seen_cut = motion.observed_descriptor(f_cut, v_cut)
    assert seen_all.all()
    # The shins end at the ankles (segments 5 and 7: rows 10-11 and 14-15 of the pairs).
    pos0 = 2 * len(motion.SEGMENTS)
    for dim in (10, 11, 14, 15, pos0 + 11, pos0 + 12, pos0 + 13 + 11, pos0 + 13 + 12):
        assert not seen_cut[dim], dim
    assert seen_cut[pos0 + 9] and seen_cut[pos0 + 10]  # knees (y 230) are inside
    # A picture holding the whole figure changes nothing.
    f_big, v_big = motion.landmark_motion_features(lm, frame_size=(400, 300))
    np.testing.assert_array_equal(f_big, f_all)
    np.testing.assert_array_equal(v_big, v_all)


def test_compared_parts_name_the_limbs_both_clips_show() -> None:
    (_, whole), (_, no_legs) = (
        motion.observed_descriptor(*motion.motion_features(x))
        for x in (_walker(seed=5), _legs_out(_walker(seed=5)))
    )
    assert motion.compared_parts(whole, whole) == "whole body"
    assert motion.compared_parts(whole, no_legs) == "upper body"
    assert motion.compared_parts(no_legs, whole) == "upper body"
    no_arms = whole.copy()
    no_arms[motion.ARM_DIMS] = False
    assert motion.compared_parts(no_arms, whole) == "legs"
    assert motion.compared_parts(no_arms, no_legs) == "torso"
