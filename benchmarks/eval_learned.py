"""E2 (and E4 on generated skeletons) for the input pose features, the learned LRProp
block and the untrained control.

Run (from the repository root)::

    python benchmarks/eval_learned.py [--data ../shared/data] [--model resources/lrprop_pose]
        [--json out/eval_learned.json] [--skip-e4]

E2 (EVAL.md): every 5th Penn Action training sequence is a query, the others the
library; 10 fps. For each representation:

- **input**: the product's pose representation today (motion_features, motion-weighted
  mean ⊕ std, shipped statistics, mirror-invariant cosine; DTW on the feature frames);
  the same figures as ``benchmarks/eval_e2_motion.py``.
- **learned**: the LRProp encoder over the same features. Clip descriptor: the
  motion-weighted mean ⊕ std of the embeddings (weights from the *input* motion, like
  the product's descriptor, so idle stretches count little), standardised with the
  statistics stored in the model (fitted on the augmented training library, both
  orientations), mirror-invariant cosine. DTW on the embeddings.
- **untrained**: the same architecture, randomly initialised with the training seed;
  its statistics fitted in the same way on the same augmented library.

Reported, as in ``eval_e2_motion.py``: recall@1/5/10 of clip retrieval; top-1 after a
DTW re-rank of the top 10 (length-normalised cost, contextualized, the better of the
query and its mirror); AUROC of the clip similarity for same vs other action among the
top 10; FPE of the top-1 in clip order and in DTW order.

E4 (LRProp's frame metrics) on generated skeleton clips with known phases
(:func:`avr_gui.core.demo.synth_library.generate_skeletons`: squats, jumping jacks, side
raises at random speed profiles, sizes, positions, camera sides, with joint jitter and
dropped joints), through the same representations: phase classification, progression,
Kendall's tau, AP@K, APA, DTW accuracy (``avr_gui.core.eval.e4.frame_metrics``).
Besides the input and the learned frames alone: ``input+learned``, the learned block
added beside the input's frames (:func:`frame_blend`, its weight fitted on generated
skeletons of other seeds, :data:`FRAME_FIT_SEEDS`), and ``input+untrained``, its control.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from penn_library import DEFAULT_DATA, PENN, e2_figures, load_penn
from train_lrprop import build_pool, single_threaded

from avr_gui.core.atomic import write_text
from avr_gui.core.features.pose import motion
from avr_gui.core.learn.apply import clip_descriptor, embed, fit_standardizer
from avr_gui.core.learn.model import build_encoder
from avr_gui.core.learn.store import LearnedModel, load_model

ROOT = Path(__file__).resolve().parents[1]

#: (features, valid) -> (frames for DTW [T', D] unit rows, raw clip descriptor [K])
Representation = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def input_rep(f: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The product's pose representation (the descriptor over seen limbs; its masks are
    applied by :func:`observed_sims`)."""
    frames = _unit_rows(f[v] if v.any() else f[:1])
    return frames, motion.observed_descriptor(f, v)[0]


def observed_sims(
    std: motion.DescriptorStandardizer,
    feats: list[tuple[np.ndarray, np.ndarray]],
    mirr: list[tuple[np.ndarray, np.ndarray]],
    learned: tuple[np.ndarray, np.ndarray] | None = None,
    weight: float = 0.0,
) -> np.ndarray:
    """``[N, N]`` product similarities: the hand-made descriptors compared on the limbs
    both clips show, optionally blended at ``weight`` with a learned model's
    standardised descriptors ``learned = (desc [N, K], mirrored [N, K])``."""
    a = [motion.observed_descriptor(*x) for x in feats]
    am = [motion.observed_descriptor(*x) for x in mirr]
    z, zm = std.transform(np.stack([d for d, _ in a])), std.transform(np.stack([d for d, _ in am]))
    m, mm = np.stack([s for _, s in a]), np.stack([s for _, s in am])
    rows = []
    for i in range(len(feats)):
        if learned is None:
            rows.append(motion.mirror_invariant_similarity(z[i], zm[i], z, (m[i], mm[i], m)))
        else:
            d, dm = learned
            rows.append(
                motion.blended_similarity(
                    (d[i], dm[i], d), (z[i], zm[i], z), weight, (m[i], mm[i], m)
                )
            )
    return np.stack(rows)


def learned_rep(model: LearnedModel) -> Representation:
    """A learned encoder's embeddings and their motion-weighted descriptor."""

    def rep(f: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e = embed(model, f, v)
        frames = e[v] if v.any() else _unit_rows(e[:1] + 1e-6)
        return frames, clip_descriptor(e, f, v)

    return rep


def e2(
    rep: Representation,
    std: motion.DescriptorStandardizer,
    feats: list[tuple[np.ndarray, np.ndarray]],
    mirr: list[tuple[np.ndarray, np.ndarray]],
    actions: np.ndarray,
) -> dict:
    """E2 figures of one representation (see the module docstring)."""
    out_f = [rep(*x) for x in feats]
    out_m = [rep(*x) for x in mirr]
    desc = std.transform(np.stack([d for _, d in out_f]))
    mdesc = std.transform(np.stack([d for _, d in out_m]))
    sims = observed_sims(std, feats, mirr) if rep is input_rep else None
    return e2_figures([f for f, _ in out_f], [f for f, _ in out_m], desc, mdesc, actions, sims)


def e2_blend(
    model: LearnedModel,
    weight: float,
    feats: list[tuple[np.ndarray, np.ndarray]],
    mirr: list[tuple[np.ndarray, np.ndarray]],
    actions: np.ndarray,
) -> dict:
    """E2 figures of the product's blend of a learned model with the hand-made descriptor.

    ``w * cos(learned) + (1 - w) * cos(hand-made)``, the hand-made part on the limbs both
    clips show, the orientation kept together (as in the product:
    ``motion.blended_similarity``). DTW (re-rank, FPE) runs on the learned embeddings.
    """
    rep = learned_rep(model)
    shipped = motion.shipped_standardizer()
    assert shipped is not None and model.standardizer is not None
    out_f = [rep(*x) for x in feats]
    out_m = [rep(*x) for x in mirr]
    desc = model.standardizer.transform(np.stack([d for _, d in out_f]))
    mdesc = model.standardizer.transform(np.stack([d for _, d in out_m]))
    sims = observed_sims(shipped, feats, mirr, (desc, mdesc), weight)
    return e2_figures([f for f, _ in out_f], [f for f, _ in out_m], desc, mdesc, actions, sims)


def e4_pose(rep_frames: Callable[[np.ndarray, np.ndarray], np.ndarray], seed: int) -> dict:
    """E4's frame metrics of a representation on generated skeleton clips."""
    from avr_gui.core.demo.synth_library import generate_skeletons
    from avr_gui.core.eval.e4 import frame_metrics

    clips = generate_skeletons(per_action=8, seed=seed)
    feats, labels, actions = [], [], []
    for c in clips:
        f, v = motion.motion_features(c.joints)
        feats.append(rep_frames(f, v)[v])
        labels.append(c.phases[v])
        actions.append(c.action)
    return frame_metrics(feats, labels, np.array(actions), context=True)


#: Frame blends tried for E4 (``w`` of the learned block beside the input's frames).
FRAME_BLENDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: Generated-skeleton seeds the frame blend is fitted on (E4 itself is seed 0).
FRAME_FIT_SEEDS = (1, 2)


def frame_blend(model: LearnedModel, w: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Per-frame ``sqrt(1 - w) * unit(input) ⊕ sqrt(w) * unit(learned)``: the learned
    block added beside the input features (a residual), so that the cosine of two frames
    is ``(1 - w) * cos(input) + w * cos(learned)``. Every frame's row (``[T, d + D]``)."""
    rep = learned_rep(model)

    def frames(f: np.ndarray, v: np.ndarray) -> np.ndarray:
        a = _unit_rows(np.asarray(f, np.float64))
        b = _unit_rows(_frames_all(rep, f, v).astype(np.float64))
        return np.concatenate([np.sqrt(1 - w) * a, np.sqrt(w) * b], 1).astype(np.float32)

    return frames


def fit_frame_blend(model: LearnedModel) -> tuple[float, dict]:
    """The frame blend with the best mean APA (then DTW accuracy) on generated skeletons
    of :data:`FRAME_FIT_SEEDS` (never E4's seed)."""
    table = {}
    for w in FRAME_BLENDS:
        ms = [e4_pose(frame_blend(model, w), seed=s) for s in FRAME_FIT_SEEDS]
        table[w] = (
            float(np.mean([m["apa"] for m in ms])),
            float(np.mean([m["dtw_accuracy"] for m in ms])),
        )
    best = max(FRAME_BLENDS, key=lambda w: table[w])
    return best, {str(w): {"apa": a, "dtw_accuracy": d} for w, (a, d) in table.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model", type=Path, default=ROOT / "resources" / "lrprop_pose")
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--skip-e4", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if not (args.data / PENN).exists():
        print(f"{args.data / PENN} missing", file=sys.stderr)
        return 2
    single_threaded(args.threads)
    started = time.perf_counter()
    model = load_model(args.model)
    tc = model.meta.get("train_config", {})
    seed = int(tc.get("seed", 0))
    untrained = LearnedModel(build_encoder(model.config, seed).eval())
    # The control's statistics: the same augmented library the model's were fitted on.
    pool = build_pool(args.data, int(model.meta.get("views", 4)), seed)
    untrained.standardizer = fit_standardizer(untrained, [v for c in pool for v in c.views])
    shipped = motion.shipped_standardizer()
    assert shipped is not None, "resources/pose_motion.json is missing"
    assert model.standardizer is not None, f"{args.model} has no descriptor statistics"
    seqs, actions = load_penn(args.data)
    feats = [motion.motion_features(j) for j in seqs]
    mirr = [motion.motion_features(j, mirror=True) for j in seqs]
    reps: dict[str, tuple[Representation, motion.DescriptorStandardizer]] = {
        "input": (input_rep, shipped),
        "learned": (learned_rep(model), model.standardizer),
        "untrained": (learned_rep(untrained), untrained.standardizer),
    }
    out: dict = {"model": str(args.model), "e2": {}, "e4": {}}
    for name, (rep, std) in reps.items():
        out["e2"][name] = e2(rep, std, feats, mirr, actions)
        print(f"E2 {name}:", json.dumps({k: round(v, 4) for k, v in out["e2"][name].items()}))
    # The product's comparison: the model blended with the hand-made descriptor at the
    # shipped weight (fitted on actions held out of training, eval_unseen_actions.py).
    from avr_gui.core.library.learned import shipped_learned_weight

    w = shipped_learned_weight()
    out["learned_weight"] = w
    for name, m in (("blend", model), ("untrained_blend", untrained)):
        out["e2"][name] = e2_blend(m, w, feats, mirr, actions)
        print(
            f"E2 {name} (w={w}):", json.dumps({k: round(v, 4) for k, v in out["e2"][name].items()})
        )
    if not args.skip_e4:
        for name, (rep, _) in reps.items():
            m = e4_pose(lambda f, v, rep=rep: _frames_all(rep, f, v), seed=0)
            out["e4"][name] = m
            keys = ("phase_classification", "phase_progression", "kendall_tau", "ap@5")
            keys += ("ap@10", "apa", "dtw_accuracy")
            print(f"E4 {name}:", json.dumps({k: m[k] for k in keys}))
        # The learned block beside the input (its weight fitted on other generated
        # seeds), and the untrained control blended at the same weight.
        fw, fit_table = fit_frame_blend(model)
        out["e4_frame_blend"] = {"weight": fw, "fitted_on_seeds": FRAME_FIT_SEEDS}
        out["e4_frame_blend"]["fit"] = fit_table
        print(f"E4 frame blend fitted on seeds {FRAME_FIT_SEEDS}: w = {fw}")
        for name, m_ in (("input+learned", model), ("input+untrained", untrained)):
            m = e4_pose(frame_blend(m_, fw), seed=0)
            out["e4"][name] = m
            print(f"E4 {name} (w={fw}):", json.dumps({k: m[k] for k in keys}))
    out["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


def _frames_all(rep: Representation, f: np.ndarray, v: np.ndarray) -> np.ndarray:
    # Every frame's row (E4 indexes them by the valid mask itself).
    if rep is input_rep:
        return f
    frames, _ = rep(f, np.ones(len(f), bool) & v)
    full = np.zeros((len(f), frames.shape[1]), np.float32)
    full[v] = frames
    return full


if __name__ == "__main__":
    sys.exit(main())
