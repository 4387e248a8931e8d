"""Frame-representation metrics of the LRProp / TCC family (EVAL.md E4).

All take per-video frame features and per-frame phase labels; training and test
videos are always different videos, so a metric never sees the frames it scores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from avr_gui.core.errors import InputError
from avr_gui.core.eval.metrics import kendall_tau


def _check(features: Sequence[np.ndarray], labels: Sequence[np.ndarray]) -> None:
    if len(features) != len(labels) or len(features) < 2:
        raise InputError("need features and labels for the same videos, at least two")
    for f, lab in zip(features, labels, strict=True):
        if f.ndim != 2 or len(f) != len(lab):
            raise InputError(f"features {f.shape} do not match {len(lab)} labels")


def phase_progress(labels: np.ndarray, n_phases: int) -> np.ndarray:
    """Progress of each frame through the action: phases done plus the share of this one.

    Parameters
    ----------
    labels : numpy.ndarray, shape (T,), int
        Phase index per frame, non-decreasing.
    n_phases : int

    Returns
    -------
    numpy.ndarray, shape (T,), float64
        In [0, 1].
    """
    lab = np.asarray(labels, dtype=np.int64)
    out = np.empty(len(lab), np.float64)
    for k in np.unique(lab):
        idx = np.flatnonzero(lab == k)
        within = (np.arange(len(idx)) + 0.5) / len(idx)
        out[idx] = (k + within) / n_phases
    return out


def phase_classification(
    train_features: Sequence[np.ndarray],
    train_labels: Sequence[np.ndarray],
    test_features: Sequence[np.ndarray],
    test_labels: Sequence[np.ndarray],
    *,
    fraction: float = 1.0,
    seed: int = 0,
) -> float:
    """Accuracy of a linear SVM that predicts each test frame's phase.

    Parameters
    ----------
    train_features, test_features : sequence of numpy.ndarray, each shape (T_i, d)
    train_labels, test_labels : sequence of numpy.ndarray, each shape (T_i,)
    fraction : float
        Share of the training frames whose label the SVM may use (a seeded draw).
    seed : int

    Returns
    -------
    float
        Frame accuracy on the test videos.
    """
    from sklearn.svm import LinearSVC

    _check(list(train_features) + list(test_features), list(train_labels) + list(test_labels))
    if not 0 < fraction <= 1:
        raise InputError(f"fraction must be in (0, 1], got {fraction}")
    x = np.concatenate(train_features)
    y = np.concatenate(train_labels)
    rng = np.random.default_rng(seed)
    keep = rng.random(len(y)) < fraction
    # Every phase keeps at least one labelled frame, or the SVM cannot learn it.
    for k in np.unique(y):
        if not keep[y == k].any():
            keep[rng.choice(np.flatnonzero(y == k))] = True
    mu, sd = _scale(x)
    clf = LinearSVC(C=1.0, max_iter=5000, random_state=seed)
    clf.fit((x[keep] - mu) / sd, y[keep])
    xt = (np.concatenate(test_features) - mu) / sd
    return float(np.mean(clf.predict(xt) == np.concatenate(test_labels)))


def phase_progression(
    train_features: Sequence[np.ndarray],
    train_progress: Sequence[np.ndarray],
    test_features: Sequence[np.ndarray],
    test_progress: Sequence[np.ndarray],
) -> float:
    """R² of a linear regression from frame features to phase progress on test videos.

    Parameters
    ----------
    train_features, test_features : sequence of numpy.ndarray, each shape (T_i, d)
    train_progress, test_progress : sequence of numpy.ndarray, each shape (T_i,)
        :func:`phase_progress` of each frame.

    Returns
    -------
    float
        Coefficient of determination (1 = perfect; can be negative).
    """
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import GroupKFold

    _check(list(train_features) + list(test_features), list(train_progress) + list(test_progress))
    x = np.concatenate(train_features)
    groups = np.concatenate([np.full(len(f), i) for i, f in enumerate(train_features)])
    mu, sd = _scale(x)
    # Features can have far more dimensions than there are training frames: the ridge
    # strength is chosen by cross-validation across training videos, never frames of
    # one video against each other (neighbouring frames would leak).
    folds = GroupKFold(n_splits=min(3, len(train_features)))
    reg = RidgeCV(alphas=np.logspace(-2, 5, 15), cv=folds.split(x, groups=groups))
    reg.fit((x - mu) / sd, np.concatenate(train_progress))
    yt = np.concatenate(test_progress)
    pred = reg.predict((np.concatenate(test_features) - mu) / sd)
    ss_res = float(((yt - pred) ** 2).sum())
    ss_tot = float(((yt - yt.mean()) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


def _scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # A dimension nearly constant on the training frames (a dead ReLU channel) would
    # be blown up by its tiny spread and dominate the test frames: floor the spread.
    mu, sd = x.mean(axis=0), x.std(axis=0)
    return mu, np.maximum(sd, 0.1 * float(np.median(sd)) + 1e-9)


def _unit(f: np.ndarray) -> np.ndarray:
    return f / (np.linalg.norm(f, axis=1, keepdims=True) + 1e-12)


def nn_kendall_tau(features: Sequence[np.ndarray]) -> float:
    """Mean Kendall's τ of nearest-neighbour order over every ordered pair of videos.

    For each frame of video a, its nearest frame (cosine) in video b; τ between the
    frame order of a and the order of those neighbours. 1 = the representation keeps
    the action's temporal order across videos.

    Parameters
    ----------
    features : sequence of numpy.ndarray, each shape (T_i, d)

    Returns
    -------
    float
    """
    if len(features) < 2:
        raise InputError("Kendall's tau needs at least two videos")
    units = [_unit(np.asarray(f, np.float64)) for f in features]
    taus = []
    for a, fa in enumerate(units):
        for b, fb in enumerate(units):
            if a != b:
                nn = np.argmax(fa @ fb.T, axis=1)
                taus.append(kendall_tau(np.arange(len(fa)), nn))
    return float(np.mean(taus))


def ap_at_k(features: Sequence[np.ndarray], labels: Sequence[np.ndarray], k: int = 10) -> float:
    """Fine-grained frame retrieval: mean precision of the K nearest frames' phases.

    Every frame queries the frames of all *other* videos (cosine); AP@K is the mean
    over query frames of the average precision of the first K results, a result
    being relevant when it carries the query frame's phase.

    Parameters
    ----------
    features : sequence of numpy.ndarray, each shape (T_i, d)
    labels : sequence of numpy.ndarray, each shape (T_i,)
    k : int

    Returns
    -------
    float
        In [0, 1].
    """
    _check(features, labels)
    units = [_unit(np.asarray(f, np.float64)) for f in features]
    allf = np.concatenate(units)
    alll = np.concatenate([np.asarray(lab) for lab in labels])
    owner = np.concatenate([np.full(len(f), i) for i, f in enumerate(units)])
    if k < 1 or k > int((owner != 0).sum()):
        raise InputError(f"k must be in 1..{int((owner != 0).sum())}, got {k}")
    aps = []
    for i, f in enumerate(units):
        sims = f @ allf.T
        sims[:, owner == i] = -np.inf
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        rel = alll[top] == np.asarray(labels[i])[:, None]
        prec = np.cumsum(rel, axis=1) / np.arange(1, k + 1)
        hits = rel.sum(axis=1)
        ap = np.where(hits > 0, (prec * rel).sum(axis=1) / np.maximum(hits, 1), 0.0)
        aps.append(ap)
    return float(np.mean(np.concatenate(aps)))
