"""The shipped comparison of performers: the learned model blended with the hand-made descriptor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.pose_library import add_joint_clips
from avr_gui.core.demo.synth_library import generate_skeletons
from avr_gui.core.features.pose import motion
from avr_gui.core.library import Library
from avr_gui.core.library.learned import default_pose_model, shipped_learned_weight
from avr_gui.core.library.pose_search import PoseIndex, describe_track


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_blend_weights_the_two_cosines_and_takes_one_orientation() -> None:
    rng = np.random.default_rng(0)
    lq, lqm, lib_l = rng.normal(size=8), rng.normal(size=8), rng.normal(size=(5, 8))
    hq, hqm, lib_h = rng.normal(size=4), rng.normal(size=4), rng.normal(size=(5, 4))
    learned, hand = (lq, lqm, lib_l), (hq, hqm, lib_h)
    np.testing.assert_allclose(
        motion.blended_similarity(learned, hand, 1.0), motion.mirror_invariant_similarity(*learned)
    )
    np.testing.assert_allclose(
        motion.blended_similarity(learned, hand, 0.0), motion.mirror_invariant_similarity(*hand)
    )
    # One orientation for both families: the maximum of the blends, not a blend of maxima.
    seen = 0.3 * _unit(lib_l) @ _unit(lq) + 0.7 * _unit(lib_h) @ _unit(hq)
    mirrored = 0.3 * _unit(lib_l) @ _unit(lqm) + 0.7 * _unit(lib_h) @ _unit(hqm)
    np.testing.assert_allclose(
        motion.blended_similarity(learned, hand, 0.3), np.maximum(seen, mirrored)
    )


def test_the_shipped_weight_is_fitted_and_documented() -> None:
    w = shipped_learned_weight()
    assert 0.0 < w < 1.0, "resources/pose_blend.json is missing or says 'model alone'"


def test_a_blended_index_ranks_by_the_blend(tmp_path: Path) -> None:
    model = default_pose_model()
    assert model is not None
    sk = generate_skeletons(per_action=3, seed=4)
    with Library.open(tmp_path / "idx") as lib:
        add_joint_clips(lib, [(f"c{k}", c.joints) for k, c in enumerate(sk)])
        tracks = {e.path: lib.pose_track(e.path) for e in lib.entries()}
        res = lib.query(sorted(tracks)[0], top=3)
    descs = {p: describe_track(t, model=model) for p, t in tracks.items()}
    paths = sorted(descs)
    assert all(descs[p].hand is not None for p in paths)
    w = shipped_learned_weight()
    idx = PoseIndex.build(
        1, paths, descs.get, standardizer=model.standardizer, model="x", learned_weight=w
    )
    alone = PoseIndex.build(1, paths, descs.get, standardizer=model.standardizer, model="x")
    q = descs[paths[0]]
    blended = dict(idx.search(q, len(paths), exclude=paths[0]))
    learned = dict(alone.search(q, len(paths), exclude=paths[0]))
    hs = motion.shipped_standardizer()
    assert hs is not None
    hand_lib = hs.transform(np.stack([descs[p].hand for p in paths]))
    hand = motion.mirror_invariant_similarity(
        hs.transform(q.hand), hs.transform(q.hand_mirrored), hand_lib
    )
    for k, p in enumerate(paths[1:], start=1):
        # One orientation for both: at most the blend of each family's best orientation
        # (equal when both families prefer the same one).
        assert blended[p] <= w * learned[p] + (1 - w) * hand[k] + 1e-9
    # The product ranks a performer query the same way, and says so.
    assert [m.path for m in res.results] == [p for p, _ in idx.search(q, 3, exclude=paths[0])]
    assert res.results[0].similarity == pytest.approx(blended[res.results[0].path])
    assert "hand-made" in (res.pose_model or "")
