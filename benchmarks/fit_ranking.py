"""Fit the coarse-to-fine ranking score on the E2 *library* only and ship it.

Every library sequence (never an E2 query) is a pseudo-query against the rest of the
library (leave-one-out); its top 10 by clip similarity are aligned, and each cue
(clip similarity, DTW cost, DRAQ, path τ) is z-scored over the list. A logistic
regression on "same action" gives the weights. Cue subsets are compared by 5-fold
cross-validation over pseudo-queries (top-1 after re-ranking), still inside the library.

It also sweeps the temperature of bank-normalised retrieval (library leave-one-out).

Run: ``python benchmarks/fit_ranking.py [--data ../shared/data] [--write]`` (about 1 min);
``--write`` stores the winner in ``resources/ranking.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from avr_gui.core.align.ranking import CUES, RankingScore, cue_matrix, standardize_within
from avr_gui.core.atomic import write_text
from avr_gui.core.eval.e2 import candidate_table, load_penn, split_every_fifth

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def _design(table) -> tuple[np.ndarray, np.ndarray]:
    z = np.stack(
        [
            standardize_within(
                cue_matrix(
                    table.similarity[q], table.draq[q], table.normalized_cost[q], table.tau[q]
                )
            )
            for q in range(len(table.top))
        ]
    )  # [Q, 10, 4]
    return z, table.same


def _fit(z: np.ndarray, same: np.ndarray, cols: list[int]) -> np.ndarray:
    x = z[:, :, cols].reshape(-1, len(cols))
    y = same.ravel()
    clf = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    w = np.zeros(len(CUES))
    # A high probability of "same action" must mean a low (better) score.
    w[cols] = -clf.coef_[0]
    return w


def _top1(z: np.ndarray, same: np.ndarray, w: np.ndarray) -> float:
    s = z @ w
    best = np.argmin(s, axis=1)
    return float(same[np.arange(len(same)), best].mean())


def _sweep_banknorm(library) -> None:
    """Leave-one-out recall@1 on the library for the bank-normalisation temperature."""
    from avr_gui.core.align.banknorm import DEFAULT_TEMPERATURE, bank_log_mass, normalize
    from avr_gui.core.eval.e2 import _clip_vectors

    vec, _ = _clip_vectors(library, library)
    sims = vec @ vec.T
    np.fill_diagonal(sims, -np.inf)
    acts = library.actions

    def r1(s: np.ndarray) -> float:
        return float((acts[np.argmax(s, axis=1)] == acts).mean())

    print(f"bank normalisation (library leave-one-out recall@1); plain cosine {r1(sims):.4f}")
    for t in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5):
        mass = bank_log_mass(vec, vec, temperature=t, exclude_self=True)
        mark = "  <- shipped" if t == DEFAULT_TEMPERATURE else ""
        print(f"  T={t:<5} {r1(normalize(sims, mass, temperature=t)):.4f}{mark}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--write", action="store_true", help="write resources/ranking.json")
    args = ap.parse_args(argv)
    path = args.data / "penn_action" / "penn_action_joints_train.npz"
    if not path.exists():
        print(f"missing {path}", file=sys.stderr)
        return 2
    library, _queries = split_every_fifth(load_penn(path))
    _sweep_banknorm(library)
    table = candidate_table(library, library, exclude_self=True)
    z, same = _design(table)
    print(f"pseudo-queries {len(same)}, same-action share in top 10 {same.mean():.3f}")
    rng = np.random.default_rng(0)
    fold = rng.permutation(len(same)) % 5
    results = []
    for r in range(1, len(CUES) + 1):
        for cols in itertools.combinations(range(len(CUES)), r):
            cv = []
            for f in range(5):
                w = _fit(z[fold != f], same[fold != f], list(cols))
                cv.append(_top1(z[fold == f], same[fold == f], w))
            results.append((float(np.mean(cv)), cols))
            print(f"  {'+'.join(CUES[c] for c in cols):52s} CV top-1 {np.mean(cv):.3f}")
    # The single cues as they are (no fitting) for reference.
    for c, name in enumerate(CUES):
        w = np.zeros(len(CUES))
        w[c] = 1.0
        print(f"  {name:52s} unfitted top-1 {_top1(z, same, w):.3f}")
    best_cv, best_cols = max(results, key=lambda t: (round(t[0], 3), -len(t[1])))
    w = _fit(z, same, list(best_cols))
    # A single winning cue keeps its own name: calling it "fused" would oversell it.
    single = {"neg_similarity": "clip", "normalized_cost": "dtw", "draq": "draq", "neg_tau": "tau"}
    name = single[CUES[best_cols[0]]] if len(best_cols) == 1 else "fused"
    score = RankingScore(
        name,
        {c: float(w[i]) for i, c in enumerate(CUES)},
        fitted_on="Penn Action E2 library (leave-one-out, top 10); never the E2 queries",
        notes={"cues": [CUES[c] for c in best_cols], "library_cv_top1": round(best_cv, 4)},
    )
    print("chosen:", json.dumps(score.weights), f"library CV top-1 {best_cv:.3f}")
    if args.write:
        write_text(ROOT / "resources" / "ranking.json", score.to_json())
        print("wrote resources/ranking.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
