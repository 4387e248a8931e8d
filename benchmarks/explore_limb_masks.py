"""Limbs out of frame: how the pose comparison holds up, and what comparing only the limbs
both clips show would give (an exploration, not the product).

Run: ``python benchmarks/explore_limb_masks.py`` (about 4 min; needs the fold models of
``eval_unseen_actions.py --steps 4000``).

Real library clips often miss limbs for the whole clip: in E3/E3b, 9 of 28 performer clips
have their legs out of frame most of the time, and side views hide the far arm. Penn
Action's augmentation (``penn_library.augment``) drops joints only at random. Here the
small-library protocol of ``eval_small_libraries.py`` (same views, folds, draws and
seed) runs twice: on the views as they are, and "cropped": each clip, independently
(seed 5), has its legs (knees, ankles) out of frame for the whole clip with
probability 0.3, or one arm (elbow, wrist) hidden with probability 0.15.

Representations:

- ``current``: the shipped hand-made descriptor (zero-filled unseen limbs, standardised,
  spread-weighted), alone and blended with each fold's model at 0.3;
- ``observed``: statistics over the frames where each limb is seen, and a cosine over
  the dimensions both clips show in at least half of their weighted frames (the rest
  left out, not compared as equal zeros); the shipped statistics and weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from eval_small_libraries import draw_libraries, library_figures, model_cosines, pair_cosines
from eval_unseen_actions import FOLDS, fold_actions
from penn_library import DEFAULT_DATA, augment, frame_crops, load_library
from train_lrprop import single_threaded

from avr_gui.core.features.pose import motion
from avr_gui.core.learn.store import load_model

ROOT = Path(__file__).resolve().parents[1]
D = motion.MOTION_DIM


crop = frame_crops  # moved to penn_library (the product's protocol uses it now)


def observed(f: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The product's :func:`motion.observed_descriptor` (this exploration's first version
    paired the x offsets of neighbouring joints as one joint; see docs/RESULTS.md)."""
    return motion.observed_descriptor(f, v)


masked_cosines = motion.masked_cosine_matrix


def representations(vs: list[np.ndarray]) -> tuple[list, list, dict]:
    hs = motion.shipped_standardizer()
    assert hs is not None
    feats = [motion.motion_features(j) for j in vs]
    mirr = [motion.motion_features(j, mirror=True) for j in vs]
    cur = pair_cosines(
        hs.transform(np.stack([motion.clip_pose_descriptor(*x) for x in feats])),
        hs.transform(np.stack([motion.clip_pose_descriptor(*x) for x in mirr])),
    )
    a, am = [observed(*x) for x in feats], [observed(*x) for x in mirr]
    z = hs.transform(np.stack([d for d, _ in a]))
    zm = hs.transform(np.stack([d for d, _ in am]))
    m = (np.stack([s for _, s in a]) >= 0.5).astype(float)
    mm = (np.stack([s for _, s in am]) >= 0.5).astype(float)
    obs = (masked_cosines(z, m, z, m), masked_cosines(zm, mm, z, m))
    return feats, mirr, {"current": cur, "observed": obs}


def main() -> int:
    single_threaded(1)
    seqs, actions = load_library(DEFAULT_DATA)
    actions = np.asarray(actions).astype(str)
    rng = np.random.default_rng(101)
    views = [augment(j, rng) for j in seqs]
    for label, vs in (("as augmented", views), ("cropped", crop(views))):
        feats, mirr, hand = representations(vs)
        res: dict[str, list] = {}
        draws = np.random.default_rng(7)
        for k in range(FOLDS):
            held = sorted(fold_actions(actions, k))
            la, lb = model_cosines(
                load_model(ROOT / "out" / "unseen" / f"fold{k}_default_4000"), feats, mirr
            )
            sims = {}
            for n, (a, b) in hand.items():
                sims[f"{n}, hand-made alone"] = (a, b)
                sims[f"{n}, blend 0.3"] = (0.3 * la + 0.7 * a, 0.3 * lb + 0.7 * b)
            for idx, nq in draw_libraries(draws, actions, held, 300):
                for n, (a, b) in sims.items():
                    s = np.maximum(a[np.ix_(idx, idx)], b[np.ix_(idx, idx)])
                    res.setdefault(n, []).append(library_figures(s, actions[idx], np.arange(nq)))
        for n, rows in res.items():
            q = sum(r["queries"] for r in rows)
            t1 = sum(r["top1"] for r in rows) / q
            t3 = sum(r["top3"] for r in rows) / q
            au = np.mean([r["auroc"] for r in rows])
            print(f"{label:13s} {n:28s} top-1 {t1:.3f}  top-3 {t3:.3f}  AUROC {au:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
