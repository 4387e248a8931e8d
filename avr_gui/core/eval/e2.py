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
from avr_gui.core.align.banknorm import bank_log_mass, normalize
from avr_gui.core.align.ranking import RankingScore, default_ranking, path_tau
from avr_gui.core.errors import InputError, UnsupportedFileError
from avr_gui.core.eval.metrics import agreement_curve, auroc, cycle_fpe, recall_at_k
from avr_gui.core.features.compact import ClipStandardizer
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.npyfile import load_npz

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
    d = load_npz(path, _PENN_KEYS)
    missing = [k for k in _PENN_KEYS if k not in d]
    if missing:
        raise UnsupportedFileError(
            f"{path}: not a Penn Action joints file (no {', '.join(missing)})"
        )
    off, x, y, vis, bbox = (d[k] for k in ("offsets", "x", "y", "visibility", "bbox"))
    if any(a.dtype.kind not in "biuf" for a in (off, x, y, vis, bbox)):
        raise UnsupportedFileError(f"{path}: not a Penn Action joints file (text in joints)")
    try:
        seqs = [
            pose_vectors(x[a:b], y[a:b], vis[a:b], bbox[a:b]) for a, b in itertools.pairwise(off)
        ]
    except (ValueError, IndexError, TypeError) as exc:
        raise UnsupportedFileError(f"{path}: inconsistent Penn Action arrays ({exc})") from None
    return PoseSet(seqs, np.asarray(d["action"]))


# The arrays of the Penn Action joints file that E2 reads.
_PENN_KEYS = ("offsets", "x", "y", "visibility", "bbox", "action")


def clip_descriptor(seq: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of the pose vectors: [52]."""
    return np.concatenate([seq.mean(axis=0), seq.std(axis=0)]).astype(np.float32)


@dataclass(frozen=True)
class CandidateTable:
    """The top-10 candidates of every query with all their ranking cues.

    Attributes
    ----------
    top : numpy.ndarray, shape (Q, 10), int
        Library indices in retrieval order.
    same : numpy.ndarray, shape (Q, 10), bool
        Candidate shows the query's action.
    similarity, draq, normalized_cost, tau : numpy.ndarray, shape (Q, 10)
    paths : list of list of numpy.ndarray
        ``paths[q][k]`` is the warp path of query q with its k-th candidate.
    """

    top: np.ndarray
    same: np.ndarray
    similarity: np.ndarray
    draq: np.ndarray
    normalized_cost: np.ndarray
    tau: np.ndarray
    paths: list[list[np.ndarray]]


def _clip_vectors(library: PoseSet, queries: PoseSet) -> tuple[np.ndarray, np.ndarray]:
    lib_desc = np.stack([clip_descriptor(s) for s in library.sequences])
    std = ClipStandardizer.fit(lib_desc)
    q_desc = np.stack([clip_descriptor(s) for s in queries.sequences])
    return std.transform(lib_desc), std.transform(q_desc)


def retrieval_similarity(
    lib_vec: np.ndarray, q_vec: np.ndarray, *, banknorm: bool, exclude_self: bool = False
) -> np.ndarray:
    """Query-by-library retrieval similarity, shape (Q, N) (``-inf`` on excluded cells)."""
    sims = (q_vec @ lib_vec.T).astype(np.float64)
    if banknorm:
        mass = bank_log_mass(lib_vec, lib_vec, exclude_self=True)
        sims = normalize(sims, mass)
    if exclude_self:
        np.fill_diagonal(sims, -np.inf)
    return sims


def candidate_table(
    library: PoseSet,
    queries: PoseSet,
    *,
    context: bool = True,
    exclude_self: bool = False,
    banknorm: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> CandidateTable:
    """Retrieve the top 10 of each query by clip similarity and align them all.

    Parameters
    ----------
    library, queries : PoseSet
    context : bool
    exclude_self : bool
        The queries are the library itself (leave-one-out): never retrieve a query's
        own sequence. Used to fit ranking scores on a library without its queries.
    banknorm : bool
        Retrieve by bank-normalised similarity (:mod:`avr_gui.core.align.banknorm`,
        the library as bank) instead of the plain cosine.
    """
    if len(library.sequences) < TOP + int(exclude_self):
        raise InputError(f"the library needs at least {TOP} sequences")
    lib_vec, q_vec = _clip_vectors(library, queries)
    sims = retrieval_similarity(lib_vec, q_vec, banknorm=banknorm, exclude_self=exclude_self)
    top = np.argsort(-sims, axis=1, kind="stable")[:, :TOP]
    opts = AlignmentOptions(context=context)
    n_q = len(queries.sequences)
    cols: dict[str, list[np.ndarray]] = {"draq": [], "cost": [], "tau": []}
    paths = []
    for qi in range(n_q):
        if qi % 20 == 0:
            check(cancel)
            progress(qi, n_q, "E2: aligning the top 10")
        res = align_many(queries.sequences[qi], [library.sequences[k] for k in top[qi]], opts)
        cols["draq"].append(np.array([r.draq for r in res]))
        cols["cost"].append(np.array([r.normalized_cost for r in res]))
        cols["tau"].append(np.array([path_tau(r.path) for r in res]))
        paths.append([r.path for r in res])
    progress(n_q, n_q, "E2: aligned")
    return CandidateTable(
        top=top,
        same=library.actions[top] == queries.actions[:, None],
        similarity=np.take_along_axis(sims, top, axis=1),
        draq=np.stack(cols["draq"]),
        normalized_cost=np.stack(cols["cost"]),
        tau=np.stack(cols["tau"]),
        paths=paths,
    )


def table_scores(table: CandidateTable, ranking: RankingScore | None = None) -> dict:
    """Each ranking score of every candidate, shape (Q, 10), lower = better."""
    scores = {
        "retrieval": np.tile(np.arange(TOP, dtype=np.float64), (len(table.top), 1)),
        "draq": table.draq,
        "dtw": table.normalized_cost,
        "tau": -table.tau,
    }
    if ranking is not None:
        scores[ranking.name] = np.stack(
            [
                ranking.score(table.similarity[q], table.draq[q], table.normalized_cost[q], t)
                for q, t in enumerate(table.tau)
            ]
        )
    return scores


def run_e2(
    library: PoseSet,
    queries: PoseSet,
    *,
    context: bool = True,
    ranking: RankingScore | None = None,
    banknorm: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> dict:
    """Run E2: retrieval, re-ranking of the top 10, AUROC and FPE.

    Parameters
    ----------
    ranking : RankingScore, optional
        A fused score to evaluate beside DRAQ and DTW cost (default: the shipped one).
    banknorm : bool
        Retrieve by bank-normalised similarity (the product's retrieval); the plain
        cosine's recall is reported beside it as ``recall@k_cosine``.

    Returns
    -------
    dict
        ``recall@1/5/10``, ``top1_<score>``, ``auroc_<score>``, ``fpe_<score>`` for
        every score (retrieval order, draq, dtw, tau and the fused one), ``best`` (the
        name of the score the product ranks by) with ``top1_best``/``auroc_best``, and
        ``curves`` (Figure 5: mean agreement below each percentile, per score).
    """
    ranking = default_ranking() if ranking is None else ranking
    table = candidate_table(
        library, queries, context=context, banknorm=banknorm, progress=progress, cancel=cancel
    )
    n_q = len(queries.sequences)
    out: dict = {
        "queries": n_q,
        "library": len(library.sequences),
        "retrieval": "banknorm" if banknorm else "cosine",
        "recall@1": recall_at_k(table.same, 1),
        "recall@5": recall_at_k(table.same, 5),
        "recall@10": recall_at_k(table.same, 10),
    }
    lib_vec, q_vec = _clip_vectors(library, queries)
    for name, bn in (("cosine", False), ("banknorm", True)):
        sims = retrieval_similarity(lib_vec, q_vec, banknorm=bn)
        hits = library.actions[np.argsort(-sims, axis=1, kind="stable")[:, :TOP]]
        hits = hits == queries.actions[:, None]
        for k in (1, 5, 10):
            out[f"recall@{k}_{name}"] = recall_at_k(hits, k)
    same = table.same.ravel()
    curves = {}
    for name, s in table_scores(table, ranking).items():
        best = np.argmin(s, axis=1)
        if name != "retrieval":
            out[f"top1_{name}"] = float(table.same[np.arange(n_q), best].mean())
            out[f"auroc_{name}"] = auroc(s.ravel(), same)
            curves[name] = agreement_curve(s.ravel(), same)
        if name != "tau":
            out[f"fpe_{name}"] = float(
                np.mean([cycle_fpe(table.paths[q][b]) for q, b in enumerate(best)])
            )
    out["best"] = ranking.name
    out["top1_best"] = out[f"top1_{ranking.name}"]
    out["auroc_best"] = out[f"auroc_{ranking.name}"]
    out["curves"] = curves
    return out


def split_every_fifth(data: PoseSet) -> tuple[PoseSet, PoseSet]:
    """(library, queries): every 5th sequence (index 0, 5, 10, ...) is a query."""
    idx = np.arange(len(data.sequences))
    q = idx % 5 == 0
    lib = PoseSet([data.sequences[i] for i in idx[~q]], data.actions[~q])
    qs = PoseSet([data.sequences[i] for i in idx[q]], data.actions[q])
    return lib, qs
