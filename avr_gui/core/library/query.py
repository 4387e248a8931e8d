"""The whole AVR query after retrieval: re-rank candidates by how well they align.

Query features and the top-K candidates by clip similarity go in; every candidate is
aligned to the query by DTW on contextualized features (:func:`align_many`), scored,
and the best ``top`` come out ranked, each with its alignment and its features (whose
timestamps map path indices to seconds in the match's file).

The ranking score is pluggable: a scorer maps the candidates' clip similarity, DRAQ and
length-normalised DTW cost (each ``[K]``) to a score ``[K]``, lower = better.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from avr_gui.core.align import Alignment, AlignmentOptions, align_many
from avr_gui.core.align.ranking import default_ranking, path_tau
from avr_gui.core.align.shown import ShownAlignment, shown_alignments
from avr_gui.core.errors import EmptySequenceError, InputError
from avr_gui.core.features.compact import from_storage
from avr_gui.core.features.layout import alignment_view
from avr_gui.core.features.pose.encoder import PoseTrack
from avr_gui.core.features.pose.normalize import POSE_DIM
from avr_gui.core.features.sequence import FeatureSequence
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

#: ``scorer(similarity [K], draq [K], normalized_cost [K]) -> score [K]``, lower = better.
Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def draq_score(similarity: np.ndarray, draq: np.ndarray, normalized_cost: np.ndarray) -> np.ndarray:
    """Rank by DRAQ (the method's score)."""
    return np.asarray(draq, np.float64)


def dtw_score(similarity: np.ndarray, draq: np.ndarray, normalized_cost: np.ndarray) -> np.ndarray:
    """Rank by DTW cost / (n + m): E2's best single score on pose features."""
    return np.asarray(normalized_cost, np.float64)


def similarity_score(
    similarity: np.ndarray, draq: np.ndarray, normalized_cost: np.ndarray
) -> np.ndarray:
    """Keep the retrieval order (clip cosine similarity, higher = better)."""
    return -np.asarray(similarity, np.float64)


SCORERS: dict[str, Scorer] = {
    "draq": draq_score,
    "dtw": dtw_score,
    "similarity": similarity_score,
}


@dataclass(frozen=True)
class Match:
    """One ranked result of a query.

    Attributes
    ----------
    rank : int
        1-based.
    path : str
    draq, dtw_cost, normalized_cost : float
        DRAQ, D(n, m) on the contextualized cosine cost, and D(n, m) / (n + m).
    similarity : float
        Cosine similarity of the standardised clip descriptors.
    score : float
        The ranking score (lower = better).
    alignment : Alignment
        ``path [L, 2]`` in feature-frame indices (query, match), ``cost [n, m]`` kept.
    features : FeatureSequence
        The match's stored features (float16 memory map) and their timestamps.
    has_person : bool or None
        Pose libraries: whether any frame of the match shows a tracked person
        (its landmarks: :meth:`Library.pose_track`); in ``auto`` libraries, whether a
        person performs in it. None without pose.
    compared_on : str or None
        ``auto`` libraries: what the pair was ranked on, ``"pose"`` (both clips show
        a performer) or ``"appearance"``. None for other libraries.
    compared_parts : str or None
        Pairs compared on pose: the body parts both clips show, which the comparison
        used (:func:`~avr_gui.core.features.pose.motion.compared_parts`: ``"whole
        body"``, ``"upper body"``, ``"legs"`` or ``"torso"``). None otherwise.
    mode : str
        How the two clips align (:mod:`avr_gui.core.align.partial`): ``full``,
        ``query_in_match`` (the query is a part of the match), ``match_in_query`` or
        ``overlap``. ``alignment.path`` covers every query frame (held outside the
        aligned part); DRAQ and the costs are those of the aligned part.
    query_span_s, match_span_s : (float, float)
        The aligned part of each clip, in seconds of its source.
    alignable : float or None
        Calibrated probability that the match shows the same action and aligns
        (:mod:`avr_gui.core.align.verdict`); None where no model applies.
    same_footage : bool
        The query is cut from this clip (:mod:`avr_gui.core.align.footage`): it is
        ranked first whatever its score.
    """

    rank: int
    path: str
    draq: float
    dtw_cost: float
    normalized_cost: float
    similarity: float
    score: float
    alignment: Alignment
    features: FeatureSequence
    has_person: bool | None = None
    compared_on: str | None = None
    compared_parts: str | None = None
    mode: str = "full"
    query_span_s: tuple[float, float] | None = None
    match_span_s: tuple[float, float] | None = None
    alignable: float | None = None
    same_footage: bool = False


@dataclass(frozen=True)
class QueryResult:
    """A query and its ranked matches.

    Attributes
    ----------
    query_path : str or None
        The query's file (None for a bare feature sequence).
    query : FeatureSequence
        The (trimmed) query features the matches were aligned to.
    results : list of Match
        Ranked, best first.
    query_pose : PoseTrack or None
        Pose libraries: the query's landmarks over the whole clip (not trimmed; look
        frames up by time), stored for a library clip or found while encoding a file
        from elsewhere. None without pose or for a bare feature sequence.
    query_performer : bool or None
        ``auto`` libraries: whether the (trimmed) query shows a person performing, so
        that it was matched by body pose. None for other libraries.
    pose_model : str or None
        A performer query of an ``auto`` library: what the body pose was compared by
        (:func:`~avr_gui.core.library.learned.compared_by`: the library's learned
        model or the default features). None otherwise.
    """

    query_path: str | None
    query: FeatureSequence
    results: list[Match]
    query_pose: PoseTrack | None = None
    query_performer: bool | None = None
    pose_model: str | None = None


def retrieval_features(features: np.ndarray, encoder_name: str | None) -> np.ndarray:
    """The columns clip retrieval by appearance describes.

    ``auto`` libraries retrieve by appearance alone (performer clips are found by
    :mod:`~avr_gui.core.library.pose_search`), so their clip descriptors leave the pose
    block out; other libraries use every column.

    Parameters
    ----------
    features : numpy.ndarray, shape (T, d)
    encoder_name : str or None

    Returns
    -------
    numpy.ndarray, shape (T, d') (a view)
    """
    return features[:, POSE_DIM:] if encoder_name == "auto" else features


def check_trim(trim: tuple[float, float] | None) -> tuple[float, float] | None:
    """In and out points as two finite floats with ``in < out``, or None for none.

    Parameters
    ----------
    trim : (float, float) or None

    Returns
    -------
    (float, float) or None

    Raises
    ------
    InputError
        Not two finite numbers in order (one line).
    """
    if trim is None:
        return None
    try:
        a, b = (float(x) for x in trim)
    except (TypeError, ValueError) as exc:
        raise InputError(f"trim must be (in, out) seconds, got {trim!r}") from exc
    if not (np.isfinite(a) and np.isfinite(b)) or b <= a:
        raise InputError(f"trim must be (in, out) seconds with in < out, got ({a}, {b})")
    return a, b


def trim_sequence(seq: FeatureSequence, trim: tuple[float, float] | None) -> FeatureSequence:
    """The frames of ``seq`` whose timestamps lie in ``[in_s, out_s]``.

    Parameters
    ----------
    seq : FeatureSequence
    trim : (float, float) or None
        In and out points in seconds of the source; None keeps everything.

    Returns
    -------
    FeatureSequence
        At least two frames (a single frame has no motion to align).
    """
    checked = check_trim(trim)
    if checked is None:
        return seq
    a, b = checked
    keep = (seq.timestamps >= a) & (seq.timestamps <= b)
    if int(keep.sum()) < 2:
        raise EmptySequenceError(
            f"{seq.source}: fewer than two feature frames lie between {a:.3f} s and {b:.3f} s"
        )
    return FeatureSequence(
        np.ascontiguousarray(seq.features[keep]),
        seq.timestamps[keep],
        seq.frame_indices[keep],
        seq.source,
        seq.encoder,
        seq.encoder_version,
    )


# Coarse pass of the re-ranking: every COARSE_STRIDE-th frame, as long as the clips keep
# MIN_COARSE_FRAMES; the best top + COARSE_MARGIN go on to the full-rate alignment.
COARSE_STRIDE = 3
COARSE_MARGIN = 5
MIN_COARSE_FRAMES = 12


def _coarse_stride(query: np.ndarray, feats: Sequence[np.ndarray]) -> int:
    shortest = min(len(query), *(len(f) for f in feats))
    for stride in range(COARSE_STRIDE, 1, -1):
        if shortest >= stride * MIN_COARSE_FRAMES:
            return stride
    return 1


def _needs_draq(scorer: Scorer | None) -> bool:
    """Whether ranking with ``scorer`` reads DRAQ (a scorer of one's own may)."""
    if scorer is None:
        return default_ranking().uses("draq")
    return scorer not in (dtw_score, similarity_score)


def _score(
    res: Sequence[Alignment],
    sim: np.ndarray,
    scorer: Scorer | None,
    nc: np.ndarray | None = None,
) -> np.ndarray:
    dq = np.array([r.draq for r in res], np.float64)
    if nc is None:
        nc = np.array([r.normalized_cost for r in res], np.float64)
    if scorer is None:
        ranking = default_ranking()
        # Cues the shipped score gives no weight are not computed (their column is
        # zeros, which the weight ignores).
        if ranking.uses("neg_tau"):
            tau = np.array([path_tau(r.path) for r in res], np.float64)
        else:
            tau = np.zeros(len(res))
        if not ranking.uses("draq"):
            dq = np.zeros(len(res))
        score = ranking.score(sim, dq, nc, tau)
    else:
        score = np.asarray(scorer(sim, dq, nc), np.float64)
    if score.shape != sim.shape:
        raise InputError(f"the scorer returned shape {score.shape}, expected {sim.shape}")
    return score


def rerank(
    query: FeatureSequence,
    candidates: Sequence[tuple[str, float, FeatureSequence]],
    *,
    top: int = 10,
    scorer: Scorer | None = None,
    options: AlignmentOptions | None = None,
    coarse: bool = True,
    align_columns: slice | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    query_inside: bool = False,
    compact: tuple[np.ndarray, Sequence[np.ndarray]] | None = None,
) -> list[Match]:
    """Align the query with every candidate and rank them by the score.

    Coarse to fine in time: with more candidates than ``top + COARSE_MARGIN``, all of
    them are first scored on every ``stride``-th frame (a ninth of the cost matrix at
    stride 3), and only the best ``top + COARSE_MARGIN`` are aligned at full rate; their
    full-rate scores give the final order and every number reported.

    Parameters
    ----------
    query : FeatureSequence
        Features ``[n, d]``.
    candidates : sequence of (path, similarity, FeatureSequence)
        Retrieval's top K with their stored features ``[m_k, d]``.
    top : int
        How many to return.
    scorer : Scorer, optional
        Default: the product's ranking score (:func:`avr_gui.core.align.ranking.
        default_ranking`, fitted on the E2 library; today the length-normalised DTW
        cost, which beat DRAQ on E2 and E3). DRAQ is reported beside it either way.
    options : AlignmentOptions, optional
        Default: contextualized features, exact DRAQ.
    coarse : bool
        Allow the coarse pass (False: every candidate at full rate).
    align_columns : slice, optional
        Rank by all feature columns, but align the returned matches on these columns
        only (rows re-normalised): for pose-fused features, pose+appearance finds the
        same action (E3 top-1 9/9 against 4/9) while appearance alone aligns frames
        more precisely (E1 median error 0.33 against 0.88 frames). DRAQ, the DTW cost,
        the path and the cost matrix of each match are then those of that alignment.
        Either way the returned matches show their partial alignment
        (:func:`~avr_gui.core.align.shown.shown_alignment`) while the score comes from
        the whole clips (see the comment in the code for why).
    progress, cancel
        See :mod:`avr_gui.core.jobs`.
    query_inside : bool
        The query is cut from these candidates (the same footage): the shown alignment
        is the whole query inside each (:func:`~avr_gui.core.align.shown.
        shown_alignments`).
    compact : (numpy.ndarray, sequence of numpy.ndarray), optional
        The query ``[n, d']`` and each candidate ``[m_k, d']`` in the library's compact
        space (:mod:`~avr_gui.core.library.projection`): ranked and aligned on these,
        reported with the candidates' full feature sequences.

    Returns
    -------
    list of Match
        At most ``top``, ranked by ascending score (ties: higher similarity first).
    """
    if top < 1:
        raise InputError(f"top must be at least 1, got {top}")
    if not candidates:
        return []
    if compact is not None and len(compact[1]) != len(candidates):
        raise InputError("compact features must be given for every candidate")
    q = from_storage(query.features if compact is None else compact[0])
    # Stored (float16) features are converted to float32 only where they are used: the
    # coarse pass reads every stride-th frame of each candidate, the full-rate pass
    # the survivors (the same numbers as converting everything first).
    stored = [c[2].features for c in candidates] if compact is None else list(compact[1])
    sim = np.array([c[1] for c in candidates], np.float64)
    if scorer is similarity_score:
        # The order is the retrieval order: align only what is shown (no DTW of every
        # candidate on every column that the score would ignore).
        order = np.lexsort((-sim,))[:top]
        keep = [int(i) for i in order]
        candidates = [candidates[i] for i in keep]
        stored = [stored[i] for i in keep]
        sim = sim[keep]
        coarse = False
    stride = _coarse_stride(q, stored) if coarse else 1
    # DRAQ is computed where the score reads it; the matches shown get theirs below.
    draq = _needs_draq(scorer)
    if stride > 1 and len(candidates) > top + COARSE_MARGIN:
        res = align_many(
            q[::stride],
            [from_storage(f[::stride]) for f in stored],
            options,
            draq=draq,
            cancel=cancel,
        )
        progress(0, 1, "coarse pass done")
        keep = np.lexsort((-sim, _score(res, sim, scorer)))[: top + COARSE_MARGIN]
        candidates = [candidates[i] for i in keep]
        stored = [stored[i] for i in keep]
        sim = sim[keep]
    feats = [from_storage(f) for f in stored]
    # Scored on the whole clips: on E2 (trimmed Penn Action actions through the library)
    # scoring the partial alignment instead lowered the product's top-1 from 0.968 to
    # 0.948, as a part of another action can align cheaply.
    if scorer is similarity_score:
        res: list[Alignment] = [None] * len(feats)  # type: ignore[list-item]  # all shown below
        nc = np.zeros(len(feats))
        dq = np.zeros(len(feats))
        score = -sim
    else:
        # No cost matrices kept: every match returned is aligned again below.
        res = align_many(q, feats, options, draq=draq, progress=progress, cancel=cancel)
        nc = np.array([r.normalized_cost for r in res], np.float64)
        dq = np.array([r.draq for r in res], np.float64)
        score = _score(res, sim, scorer, nc)
    order = np.lexsort((-sim, score))[:top]
    # What the user sees, plays and exports: the aligned part where a part fits (a
    # trimmed query inside a longer clip), on the alignment columns (appearance for
    # pose libraries). DRAQ and the DTW cost shown are those of that alignment.
    qv = alignment_view(q, align_columns)
    check(cancel)
    views = [alignment_view(feats[i], align_columns) for i in order]
    batch = shown_alignments(qv, views, options, cancel=cancel, query_inside=query_inside)
    shown: dict[int, ShownAlignment] = {int(i): s for i, s in zip(order, batch, strict=True)}
    for i in order:
        res[i] = shown[int(i)].alignment
        dq[i] = shown[int(i)].alignment.draq
        nc[i] = shown[int(i)].normalized_cost

    def seconds(seq: FeatureSequence, span: tuple[int, int]) -> tuple[float, float]:
        return float(seq.timestamps[span[0]]), float(seq.timestamps[span[1]])

    return [
        Match(
            rank=r + 1,
            path=candidates[i][0],
            draq=float(dq[i]),
            dtw_cost=float(res[i].dtw_cost),
            normalized_cost=float(nc[i]),
            similarity=float(sim[i]),
            score=float(score[i]),
            alignment=res[i],
            features=candidates[i][2],
            mode=shown[int(i)].mode,
            query_span_s=seconds(query, shown[int(i)].query_span),
            match_span_s=seconds(candidates[i][2], shown[int(i)].match_span),
        )
        for r, i in enumerate(order)
    ]
