"""Coarse-to-fine ranking: one score from clip similarity, DTW cost, DRAQ and path shape.

UCoFiA fuses similarities of several granularities after normalising each over the
candidates; we do the same for the granularities AVR has (clip vector, frame-level DTW
cost, DRAQ, the shape of the warp path). Each cue is z-scored over the candidate list
of one query, so a score fitted on pose features transfers to appearance features (the
scales differ, the orderings are comparable), and the fused score is a weighted sum.
The weights are fitted on a library only (``benchmarks/fit_ranking.py``), never on the
queries that evaluate them, and ship in ``resources/ranking.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from avr_gui.core.errors import InputError

# The cues, oriented so that lower = more alignable for every one of them.
CUES: tuple[str, ...] = ("neg_similarity", "normalized_cost", "draq", "neg_tau")


def path_tau(path: np.ndarray) -> float:
    """Kendall's tau-b of a warp path's cells (query index vs candidate index).

    A path that advances both clips together scores near 1; one that stalls on one
    clip while the other runs (a poor, one-sided alignment) scores lower.

    Parameters
    ----------
    path : numpy.ndarray, shape (L, 2), int

    Returns
    -------
    float
        In [-1, 1]; 1.0 for a path of one cell, 0.0 when one clip has a single frame
        (the path carries no order).
    """
    p = np.asarray(path, dtype=np.int64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise InputError(f"a path is an (L, 2) array, got shape {p.shape}")
    if len(p) < 2:
        return 1.0
    # A monotone path has no discordant pairs, so tau-b reduces to the tie structure.
    x, y = p[:, 0], p[:, 1]
    n0 = len(p) * (len(p) - 1) // 2

    def tied_pairs(v: np.ndarray) -> int:
        _, counts = np.unique(v, return_counts=True)
        return int((counts * (counts - 1) // 2).sum())

    tx, ty = tied_pairs(x), tied_pairs(y)
    _, both = np.unique(x * (int(y.max()) + 1) + y, return_counts=True)
    txy = int((both * (both - 1) // 2).sum())
    concordant = n0 - tx - ty + txy
    denom = np.sqrt(float(n0 - tx) * float(n0 - ty))
    return float(concordant / denom) if denom > 0 else 0.0


def cue_matrix(
    similarity: np.ndarray,
    draq: np.ndarray,
    normalized_cost: np.ndarray,
    tau: np.ndarray,
) -> np.ndarray:
    """Stack the raw cues of one query's candidates, oriented lower = better.

    Parameters
    ----------
    similarity, draq, normalized_cost, tau : numpy.ndarray, shape (K,)

    Returns
    -------
    numpy.ndarray, shape (K, 4), float64
        Columns in the order of :data:`CUES`.
    """
    cols = [
        -np.asarray(similarity),
        np.asarray(normalized_cost),
        np.asarray(draq),
        -np.asarray(tau),
    ]
    shapes = {c.shape for c in cols}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise InputError(f"the cues of one query must be equal-length vectors, got {shapes}")
    m = np.stack(cols, axis=1).astype(np.float64)
    if not np.isfinite(m).all():
        raise InputError("ranking cues must be finite")
    return m


def standardize_within(cues: np.ndarray) -> np.ndarray:
    """z-score each cue over one query's candidate list.

    Parameters
    ----------
    cues : numpy.ndarray, shape (K, F)

    Returns
    -------
    numpy.ndarray, shape (K, F)
        Zero mean per column; unit spread where the column varies (a constant column
        becomes zeros, so it cannot decide anything).
    """
    c = np.asarray(cues, dtype=np.float64)
    mu = c.mean(axis=0)
    sd = c.std(axis=0)
    return (c - mu) / np.where(sd > 1e-12, sd, 1.0)


@dataclass(frozen=True)
class RankingScore:
    """A fused ranking score: ``score = standardize_within(cues) @ weights`` (lower = better).

    Attributes
    ----------
    name : str
        Shown in results and the GUI.
    weights : dict of str to float
        One weight per cue of :data:`CUES` (missing cues weigh 0).
    fitted_on : str
        Where the weights came from (never the evaluation queries).
    """

    name: str
    weights: dict[str, float]
    fitted_on: str = ""
    notes: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(CUES)
        if unknown:
            raise InputError(f"unknown ranking cues {sorted(unknown)}; known: {list(CUES)}")

    def uses(self, cue: str) -> bool:
        """Whether ``cue`` (one of :data:`CUES`) has a non-zero weight."""
        return float(self.weights.get(cue, 0.0)) != 0.0

    @property
    def vector(self) -> np.ndarray:
        """The weights in the order of :data:`CUES`, shape (4,)."""
        return np.array([float(self.weights.get(c, 0.0)) for c in CUES])

    def score(
        self,
        similarity: np.ndarray,
        draq: np.ndarray,
        normalized_cost: np.ndarray,
        tau: np.ndarray,
    ) -> np.ndarray:
        """Fused score of one query's candidates.

        Parameters
        ----------
        similarity, draq, normalized_cost, tau : numpy.ndarray, shape (K,)

        Returns
        -------
        numpy.ndarray, shape (K,), float64
            Lower = more alignable. For a fused score only the order within the list is
            meaningful; a single-cue score is that cue's raw value.
        """
        cues = cue_matrix(similarity, draq, normalized_cost, tau)
        w = self.vector
        used = np.flatnonzero(w)
        if len(used) == 1:
            # One cue: its raw value keeps the same order and, unlike a z-score, means
            # the same across queries (thresholds, pooled AUROC).
            return cues[:, used[0]] * np.sign(w[used[0]])
        return standardize_within(cues) @ w

    def to_json(self) -> str:
        """The score as JSON (for ``resources/ranking.json``)."""
        payload = {
            "name": self.name,
            "weights": {c: float(self.weights.get(c, 0.0)) for c in CUES},
            "fitted_on": self.fitted_on,
            "notes": self.notes,
        }
        return json.dumps(payload, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RankingScore:
        """Parse :meth:`to_json` output; raises :class:`InputError` on anything else."""
        try:
            d = json.loads(text)
            return cls(
                name=str(d["name"]),
                weights={str(k): float(v) for k, v in d["weights"].items()},
                fitted_on=str(d.get("fitted_on", "")),
                notes=dict(d.get("notes", {})),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"not a ranking score file: {exc}") from exc

    @classmethod
    def load(cls, path: str | Path) -> RankingScore:
        """Read a ranking score JSON file."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


DRAQ_ONLY = RankingScore("draq", {"draq": 1.0}, "the paper's re-ranking")


def default_ranking() -> RankingScore:
    """The shipped ranking score (``resources/ranking.json``), DRAQ if none ships."""
    try:
        text = resources.files("avr_gui").joinpath("resources/ranking.json").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return DRAQ_ONLY
    return RankingScore.from_json(text)
