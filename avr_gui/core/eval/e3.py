"""E3 — cross-person search on real clips (EVAL.md).

Library = every real clip. Each push-up and juggling clip is a query against all the
others; we report where the other same-action clips land when ranking by DRAQ, by
length-normalised DTW cost and by clip similarity, and DRAQ of same- vs other-action
pairs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from avr_gui.core.align import AlignmentOptions, align_many
from avr_gui.core.align.banknorm import bank_log_mass, normalize
from avr_gui.core.align.ranking import RankingScore, default_ranking, path_tau
from avr_gui.core.eval.metrics import auroc, cycle_fpe
from avr_gui.core.features.encoders import Encoder
from avr_gui.core.features.sequence import encode_video
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

ACTIONS = ("pushup", "juggling")


def action_of(path: str | os.PathLike[str]) -> str:
    """The action a real clip shows, from its file name ('other' for distractors)."""
    name = Path(path).stem.lower()
    return next((a for a in ACTIONS if name.startswith(a)), "other")


def _clip_vector(f: np.ndarray) -> np.ndarray:
    v = f.mean(axis=0)
    return v / (np.linalg.norm(v) + 1e-12)


def run_e3(
    clips: Sequence[str | os.PathLike[str]],
    encoder: Encoder,
    *,
    fps: float = 10.0,
    context: bool = True,
    standardize: bool = False,
    ranking: RankingScore | None = None,
    features: Sequence[np.ndarray] | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> dict:
    """Run E3 with one encoder.

    Parameters
    ----------
    clips : sequence of path-like
    encoder : Encoder
    fps : float
    context : bool
        Contextualize features before DTW.
    standardize : bool
        Standardise every feature dimension over all frames of the library first
        (EVAL.md's suspect: raw all-positive CNN features make the running-mean half a
        ramp along the clip's mean appearance).
    ranking : RankingScore, optional
        The fused score to evaluate beside the single cues (default: the shipped one).
    features : sequence of numpy.ndarray, optional
        Per-clip frame features already computed with ``encoder`` (skips decoding).

    Returns
    -------
    dict
        Per query: the ranked library by each score with actions, and summary counts:
        ``top1_same_action`` and ``top3_same_action`` per score, and for push-up queries
        ``pushups_above_all_others`` (how many of the other push-ups out-rank every
        non-push-up clip by DRAQ).
    """
    names = [Path(c).name for c in clips]
    ranking = default_ranking() if ranking is None else ranking
    feats = list(features) if features is not None else []
    for k, c in enumerate(clips[len(feats) :]):
        check(cancel)
        progress(k, len(clips), f"E3: encoding {names[k]}")
        feats.append(encode_video(c, encoder, fps=fps, cancel=cancel).features)
    vecs = np.stack([_clip_vector(f) for f in feats])
    if standardize:
        allf = np.concatenate(feats)
        mu = allf.mean(axis=0)
        sd = allf.std(axis=0) + 1e-6
        feats = [((f - mu) / sd).astype(np.float32) for f in feats]
    queries = [k for k, c in enumerate(clips) if action_of(c) != "other"]
    per_query = {}
    # The library is its own bank (each clip's mass leaves itself out).
    mass = bank_log_mass(vecs, vecs, exclude_self=True)
    score_names = tuple(
        dict.fromkeys(("draq", "dtw", "clip", "clip_banknorm", "tau", ranking.name))
    )
    summary = {s: {"top1_same_action": 0, "top3_same_action": 0} for s in score_names}
    fpe = {s: [] for s in score_names}
    all_scores: dict[str, list[float]] = {s: [] for s in score_names}
    all_same: list[bool] = []
    pushup_counts = {}
    same_draq, other_draq = [], []
    for q in queries:
        check(cancel)
        others = [k for k in range(len(clips)) if k != q]
        res = align_many(feats[q], [feats[k] for k in others], AlignmentOptions(context=context))
        sim = np.array([float(vecs[q] @ vecs[k]) for k in others])
        tau = np.array([path_tau(r.path) for r in res])
        draq = np.array([r.draq for r in res])
        cost = np.array([r.normalized_cost for r in res])
        scores = {
            "draq": draq,
            "dtw": cost,
            "clip": -sim,
            "clip_banknorm": -normalize(sim, mass[others]),
            "tau": -tau,
            ranking.name: ranking.score(sim, draq, cost, tau),
        }
        act = action_of(clips[q])
        same = np.array([action_of(clips[k]) == act for k in others])
        same_draq += list(scores["draq"][same])
        other_draq += list(scores["draq"][~same])
        ranked = {}
        for s, v in scores.items():
            order = np.argsort(v, kind="stable")
            ranked[s] = [
                {
                    "clip": names[others[i]],
                    "action": action_of(clips[others[i]]),
                    "score": float(v[i]),
                }
                for i in order
            ]
            summary[s]["top1_same_action"] += int(same[order[0]])
            fpe[s].append(cycle_fpe(res[order[0]].path))
            all_scores[s] += list(v)
            summary[s]["top3_same_action"] += int(same[order[:3]].any())
        if act == "pushup":
            worst_other = scores["draq"][~same].min()
            pushup_counts[names[q]] = {
                "other_pushups": int(same.sum()),
                "pushups_above_all_others": int((scores["draq"][same] < worst_other).sum()),
            }
        per_query[names[q]] = ranked
        all_same += list(same)
    progress(len(clips), len(clips), "E3 done")
    same_arr = np.array(all_same)
    for name in score_names:
        summary[name]["auroc"] = auroc(np.array(all_scores[name]), same_arr)
        summary[name]["fpe_top1"] = float(np.mean(fpe[name]))
    return {
        "queries": len(queries),
        "best": ranking.name,
        "summary": summary,
        "pushup_draq_separation": pushup_counts,
        "draq_same_action_mean": float(np.mean(same_draq)),
        "draq_other_mean": float(np.mean(other_draq)),
        "per_query": per_query,
    }
