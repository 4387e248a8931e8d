"""E4 — frame-representation metrics on generated videos with known phases (EVAL.md).

A generated library (``avr_gui.core.demo.synth_library``) gives every frame a phase label.
Per action, the first half of the clips trains (SVM, regression), the second half is
tested. Alignment metrics (APA, DTW accuracy, CPE, FPE) use every pair of clips of one
action. The Figure 5 curve pools all pairs of action clips: a pair of different actions
has agreement 0 (nothing in it can be aligned), a pair of one action its APA.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Sequence

import numpy as np

from avr_gui.core.align import AlignmentOptions, align
from avr_gui.core.align.ranking import path_tau
from avr_gui.core.demo.synth_library import PHASES, GeneratedClip, generate_library, phase_of
from avr_gui.core.eval.frames import (
    ap_at_k,
    nn_kendall_tau,
    phase_classification,
    phase_progress,
    phase_progression,
)
from avr_gui.core.eval.metrics import (
    agreement_curve,
    aligned_phase_agreement,
    auroc,
    cycle_cpe,
    cycle_fpe,
    dtw_accuracy,
)
from avr_gui.core.features.encoders import Encoder
from avr_gui.core.features.sequence import encode_video
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

FRACTIONS = (0.1, 0.5, 1.0)


def _split(clips: Sequence[int]) -> tuple[list[int], list[int]]:
    half = max(1, len(clips) // 2)
    return list(clips[:half]), list(clips[half:])


def run_e4(
    encoder: Encoder,
    *,
    folder: str | os.PathLike[str] | None = None,
    per_action: int = 6,
    fps: float = 10.0,
    context: bool = True,
    seed: int = 0,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> dict:
    """Run E4 with one encoder.

    Parameters
    ----------
    encoder : Encoder
    folder : path-like, optional
        Where the generated library is written (a temporary folder by default).
    per_action : int
        Clips per action (three actions, plus two distractors for retrieval realism).
    fps : float
        Sampling rate of the features; the clips are written at this rate.
    context : bool
        Contextualize features for the alignment metrics (the representation metrics
        use the raw frame features, as the LRProp paper does).
    seed : int

    Returns
    -------
    dict
        ``phase_classification`` per label fraction, ``phase_progression``,
        ``kendall_tau``, ``ap@5/10/15``, ``apa``, ``dtw_accuracy``, ``cpe``, ``fpe``
        (means over pairs of one action), ``auroc_*`` and ``curves`` (Figure 5) for
        DRAQ, DTW cost and τ.
    """
    with tempfile.TemporaryDirectory(prefix="avr-e4-") as tmp:
        where = tmp if folder is None else folder
        clips = generate_library(
            where, per_action=per_action, fps=fps, seed=seed, progress=progress, cancel=cancel
        )
        return _evaluate(clips, encoder, fps, context, progress, cancel)


def _evaluate(
    clips: list[GeneratedClip],
    encoder: Encoder,
    fps: float,
    context: bool,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> dict:
    action_clips = [c for c in clips if c.action >= 0]
    feats, labels = [], []
    for k, c in enumerate(action_clips):
        check(cancel)
        progress(k, len(action_clips), f"E4: encoding {os.path.basename(c.path)}")
        seq = encode_video(c.path, encoder, fps=fps, cancel=cancel)
        feats.append(seq.features)
        labels.append(phase_of(c.progress[seq.frame_indices], c.action))
    actions = np.array([c.action for c in action_clips])
    out: dict = {
        "encoder": encoder.name,
        "clips": len(action_clips),
        "frames": int(sum(len(f) for f in feats)),
    }
    out.update(
        frame_metrics(feats, labels, actions, context=context, progress=progress, cancel=cancel)
    )
    return out


def frame_metrics(
    feats: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    actions: np.ndarray,
    *,
    context: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> dict:
    """E4's metrics of any per-frame representation of clips with known phases.

    Parameters
    ----------
    feats : sequence of numpy.ndarray, each shape (T_i, d)
    labels : sequence of numpy.ndarray, each shape (T_i,), int
        Phase of every frame (non-decreasing within a clip).
    actions : numpy.ndarray, shape (N,), int
        Action of every clip; per action the first half of its clips trains.
    context : bool
        Contextualize features for the alignment metrics.

    Returns
    -------
    dict
        As :func:`run_e4`, without ``encoder``, ``clips`` and ``frames``.
    """
    train, test = [], []
    for a in np.unique(actions):
        tr, te = _split(list(np.flatnonzero(actions == a)))
        train += tr
        test += te
    # Classes are (action, phase) so one SVM must also keep actions apart.
    cls = [labels[i] + PHASES * actions[i] for i in range(len(labels))]
    prog = [phase_progress(lab, PHASES) for lab in labels]
    out: dict = {
        "phase_classification": {
            str(fr): phase_classification(
                [feats[i] for i in train],
                [cls[i] for i in train],
                [feats[i] for i in test],
                [cls[i] for i in test],
                fraction=fr,
            )
            for fr in FRACTIONS
        },
        "phase_progression": float(
            np.mean(
                [
                    phase_progression(
                        [feats[i] for i in train if actions[i] == a],
                        [prog[i] for i in train if actions[i] == a],
                        [feats[i] for i in test if actions[i] == a],
                        [prog[i] for i in test if actions[i] == a],
                    )
                    for a in np.unique(actions)
                ]
            )
        ),
        "kendall_tau": float(
            np.mean(
                [
                    nn_kendall_tau([feats[i] for i in np.flatnonzero(actions == a)])
                    for a in np.unique(actions)
                ]
            )
        ),
    }
    for k in (5, 10, 15):
        out[f"ap@{k}"] = float(
            np.mean(
                [
                    ap_at_k(
                        [feats[i] for i in np.flatnonzero(actions == a)],
                        [labels[i] for i in np.flatnonzero(actions == a)],
                        k,
                    )
                    for a in np.unique(actions)
                ]
            )
        )
    opts = AlignmentOptions(context=context)
    within: dict[str, list[float]] = {"apa": [], "dtw_accuracy": [], "cpe": [], "fpe": []}
    scores: dict[str, list[float]] = {"draq": [], "dtw": [], "tau": []}
    agree, same = [], []
    pairs = list(itertools.combinations(range(len(feats)), 2))
    for n, (i, j) in enumerate(pairs):
        if n % 25 == 0:
            check(cancel)
            progress(n, len(pairs), "E4: aligning pairs")
        r = align(feats[i], feats[j], opts)
        scores["draq"].append(r.draq)
        scores["dtw"].append(r.normalized_cost)
        scores["tau"].append(-path_tau(r.path))
        if actions[i] == actions[j]:
            apa = aligned_phase_agreement(r.path, labels[i], labels[j])
            within["apa"].append(apa)
            within["dtw_accuracy"].append(dtw_accuracy(r.path, labels[i], labels[j]))
            within["cpe"].append(cycle_cpe(r.path, labels[i]))
            within["fpe"].append(cycle_fpe(r.path))
            agree.append(apa)
            same.append(True)
        else:
            agree.append(0.0)
            same.append(False)
    progress(len(pairs), len(pairs), "E4 done")
    out.update({k: float(np.mean(v)) for k, v in within.items()})
    same_arr = np.array(same)
    out["curves"] = {}
    for name, s in scores.items():
        arr = np.array(s)
        out[f"auroc_{name}"] = auroc(arr, same_arr)
        out["curves"][name] = agreement_curve(arr, np.array(agree))
    return out
