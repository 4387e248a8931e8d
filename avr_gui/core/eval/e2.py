"""E2 — retrieval and alignability on Penn Action joints (EVAL.md).

Per-frame pose vector: visible joints minus their mean, divided by the person box
height (26 numbers; invisible joints 0). Every 5th training sequence is a query, the
others the library. Clip retrieval by the cosine of standardised mean-and-std vectors;
the top 10 are re-ranked by DRAQ and by length-normalised DTW cost.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import numpy as np

from avr_gui.core.align import AlignmentOptions, align_many
from avr_gui.core.errors import InputError, UnsupportedFileError
from avr_gui.core.eval.metrics import auroc, cycle_fpe, kendall_tau, recall_at_k
from avr_gui.core.features.compact import ClipStandardizer
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

TOP = 10


@dataclass(frozen=True)
class PoseSet:
    """Pose sequences with their action labels."""

    sequences: list[np.ndarray]  # each [T, 26] float32
    actions: np.ndarray  # [N] str


def pose_vectors(x: np.ndarray, y: np.ndarray, vis: np.ndarray, bbox: np.ndarray) -> np.ndarray:
    """EVAL.md pose vectors of one sequence.

    Parameters
    ----------
    x, y : numpy.ndarray, shape (T, 13)
    vis : numpy.ndarray, shape (T, 13)
    bbox : numpy.ndarray, shape (T, 4)
        ``x1, y1, x2, y2``.

    Returns
    -------
    numpy.ndarray, shape (T, 26), float32
        ``[dx_1..dx_13, dy_1..dy_13]`` per frame.
    """
    v = vis.astype(bool)
    count = np.maximum(v.sum(axis=1, keepdims=True), 1)
    mx = (x * v).sum(axis=1, keepdims=True) / count
    my = (y * v).sum(axis=1, keepdims=True) / count
    h = np.maximum(bbox[:, 3:4] - bbox[:, 1:2], 1.0)
    dx = np.where(v, (x - mx) / h, 0.0)
    dy = np.where(v, (y - my) / h, 0.0)
    return np.concatenate([dx, dy], axis=1).astype(np.float32)


def load_penn(path: str | os.PathLike[str]) -> PoseSet:
    """Read the Penn Action joints ``.npz`` (no pickle) into pose sequences."""
    try:
        with np.load(path, allow_pickle=False) as d:
            off = d["offsets"]
            x, y, vis, bbox = d["x"], d["y"], d["visibility"], d["bbox"]
            actions = d["action"]
    except (OSError, KeyError, ValueError) as exc:
        raise UnsupportedFileError(f"{path}: not a Penn Action joints file ({exc})") from exc
    seqs = [pose_vectors(x[a:b], y[a:b], vis[a:b], bbox[a:b]) for a, b in itertools.pairwise(off)]
    return PoseSet(seqs, np.asarray(actions))


def clip_descriptor(seq: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of the pose vectors: [52]."""
    return np.concatenate([seq.mean(axis=0), seq.std(axis=0)]).astype(np.float32)


def _tau_of_path(path: np.ndarray) -> float:
    # Kendall's tau of the path's cells (query index vs candidate index): 1 for a
    # strictly diagonal path, lower the more it stalls on one side.
    return kendall_tau(path[:, 0], path[:, 1])


def run_e2(
    library: PoseSet,
    queries: PoseSet,
    *,
    context: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> dict:
    """Run E2: retrieval, re-ranking of the top 10, AUROC and FPE.

    Returns
    -------
    dict
        ``recall@1/5/10``, ``top1_draq``, ``top1_dtw``, ``auroc_draq``, ``auroc_dtw``,
        ``auroc_tau``, ``fpe_retrieval``, ``fpe_draq``, ``fpe_dtw`` and counts.
    """
    if len(library.sequences) < TOP:
        raise InputError(f"the library needs at least {TOP} sequences")
    lib_desc = np.stack([clip_descriptor(s) for s in library.sequences])
    std = ClipStandardizer.fit(lib_desc)
    lib_vec = std.transform(lib_desc)
    q_vec = std.transform(np.stack([clip_descriptor(s) for s in queries.sequences]))
    sims = q_vec @ lib_vec.T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :TOP]
    hits = library.actions[top] == queries.actions[:, None]
    opts = AlignmentOptions(context=context)
    draq_s, dtw_s, tau_s, same = [], [], [], []
    top1 = {"draq": 0, "dtw": 0}
    fpe = {"retrieval": [], "draq": [], "dtw": []}
    n_q = len(queries.sequences)
    for qi in range(n_q):
        if qi % 20 == 0:
            check(cancel)
            progress(qi, n_q, "E2: re-ranking")
        res = align_many(queries.sequences[qi], [library.sequences[k] for k in top[qi]], opts)
        d = np.array([r.draq for r in res])
        c = np.array([r.normalized_cost for r in res])
        t = np.array([_tau_of_path(r.path) for r in res])
        draq_s += list(d)
        dtw_s += list(c)
        tau_s += list(-t)
        same += list(hits[qi])
        best_d = int(np.argmin(d))
        best_c = int(np.argmin(c))
        top1["draq"] += int(hits[qi, best_d])
        top1["dtw"] += int(hits[qi, best_c])
        fpe["retrieval"].append(cycle_fpe(res[0].path))
        fpe["draq"].append(cycle_fpe(res[best_d].path))
        fpe["dtw"].append(cycle_fpe(res[best_c].path))
    progress(n_q, n_q, "E2 done")
    same_arr = np.array(same)
    return {
        "queries": n_q,
        "library": len(library.sequences),
        "recall@1": recall_at_k(hits, 1),
        "recall@5": recall_at_k(hits, 5),
        "recall@10": recall_at_k(hits, 10),
        "top1_draq": top1["draq"] / n_q,
        "top1_dtw": top1["dtw"] / n_q,
        "auroc_draq": auroc(np.array(draq_s), same_arr),
        "auroc_dtw": auroc(np.array(dtw_s), same_arr),
        "auroc_tau": auroc(np.array(tau_s), same_arr),
        "fpe_retrieval": float(np.mean(fpe["retrieval"])),
        "fpe_draq": float(np.mean(fpe["draq"])),
        "fpe_dtw": float(np.mean(fpe["dtw"])),
    }


def split_every_fifth(data: PoseSet) -> tuple[PoseSet, PoseSet]:
    """(library, queries): every 5th sequence (index 0, 5, 10, ...) is a query."""
    idx = np.arange(len(data.sequences))
    q = idx % 5 == 0
    lib = PoseSet([data.sequences[i] for i in idx[~q]], data.actions[~q])
    qs = PoseSet([data.sequences[i] for i in idx[q]], data.actions[q])
    return lib, qs
