"""Metrics against small hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.errors import InputError
from avr_gui.core.eval.metrics import auroc, cycle_fpe, kendall_tau, recall_at_k


def test_recall_at_k_by_hand():
    hits = np.array([[0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]], bool)
    assert recall_at_k(hits, 1) == 0.25
    assert recall_at_k(hits, 2) == 0.5
    assert recall_at_k(hits, 3) == 0.75
    with pytest.raises(InputError):
        recall_at_k(hits, 4)


def test_auroc_by_hand():
    # Positives 0.1, 0.4; negatives 0.3, 0.9 (lower = positive).
    # Pairs (pos < neg): 0.1<0.3, 0.1<0.9, 0.4<0.9 -> 3 of 4.
    scores = np.array([0.1, 0.4, 0.3, 0.9])
    pos = np.array([True, True, False, False])
    assert auroc(scores, pos) == pytest.approx(0.75)
    assert auroc(scores, pos, lower_is_positive=False) == pytest.approx(0.25)
    # One tie between a positive and a negative counts one half: (1 + 0.5) / 2.
    assert auroc(np.array([0.1, 0.5, 0.5]), np.array([True, True, False])) == pytest.approx(0.75)
    with pytest.raises(InputError):
        auroc(scores, np.ones(4, bool))


def test_auroc_matches_brute_force():
    rng = np.random.default_rng(0)
    s = np.round(rng.random(60), 1)  # many ties
    p = rng.random(60) < 0.4
    pairs = [(a < b) + 0.5 * (a == b) for a in s[p] for b in s[~p]]
    assert auroc(s, p) == pytest.approx(np.mean(pairs))


def test_cycle_fpe_by_hand():
    # Identity alignment: everything comes back where it started.
    assert cycle_fpe(np.array([[0, 0], [1, 1], [2, 2]])) == 0.0
    # Query frames 0 and 1 both match candidate frame 0, then 2 -> 1.
    # keep candidate: cand 0 <- mean(0, 1) = 0.5, cand 1 <- 2.
    # keep query: q0 -> 0, q1 -> 0, q2 -> 1; back: 0.5, 0.5, 2.
    # errors: 0.5, -0.5, 0 -> mean square = (0.25 + 0.25 + 0) / 3.
    path = np.array([[0, 0], [1, 0], [2, 1]])
    assert cycle_fpe(path) == pytest.approx(0.5 / 3)


def test_kendall_tau_by_hand():
    assert kendall_tau([1, 2, 3, 4], [1, 2, 3, 4]) == pytest.approx(1.0)
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # One discordant pair of six: (5 - 1) / 6.
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    with pytest.raises(InputError):
        kendall_tau([1], [1])
