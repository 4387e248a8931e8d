"""Phase, curve and ranking metrics against small hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from avr_gui.core.align.ranking import (
    CUES,
    DRAQ_ONLY,
    RankingScore,
    default_ranking,
    path_tau,
    standardize_within,
)
from avr_gui.core.errors import InputError
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
    cycle_cpe,
    cycle_fpe,
    dtw_accuracy,
)

STALL = np.array([[0, 0], [1, 0], [2, 0], [2, 1]])


def test_agreement_curve_by_hand():
    c = agreement_curve(np.array([3.0, 1.0, 2.0, 4.0]), np.array([0, 1, 1, 0]), [25, 50, 75, 100])
    assert c["agreement"] == pytest.approx([1.0, 1.0, 2 / 3, 0.5])
    assert c["percentile"] == [25, 50, 75, 100]


def test_agreement_curve_rejects_bad_input():
    with pytest.raises(InputError):
        agreement_curve(np.array([1.0, np.nan]), np.array([1, 0]))
    with pytest.raises(InputError):
        agreement_curve(np.array([1.0]), np.array([1]), [0])


def test_apa_and_dtw_accuracy_by_hand():
    path = np.array([[0, 0], [1, 0], [1, 1], [2, 2]])
    la, lb = np.array([0, 0, 1]), np.array([0, 1, 1])
    assert aligned_phase_agreement(path, la, lb) == pytest.approx(0.75)
    # First partners: 0->0, 1->0, 2->2.
    assert dtw_accuracy(path, la, lb) == pytest.approx(1.0)
    assert dtw_accuracy(path, la, np.array([1, 1, 1])) == pytest.approx(1 / 3)


def test_label_metrics_reject_paths_off_the_labels():
    with pytest.raises(InputError):
        aligned_phase_agreement(np.array([[0, 0], [1, 3]]), np.zeros(2), np.zeros(2))


def test_cycle_cpe_and_fpe_by_hand():
    # Query of 3 frames, match of 2: there (mean) 0, 0, 0.5; back 1, 1, 1.5.
    assert cycle_fpe(STALL) == pytest.approx((1 + 0 + 0.25) / 3)
    # Landed on 1, 1, 2 (1.5 rounds to even 2): frame 0 changes phase.
    assert cycle_cpe(STALL, np.array([0, 1, 1])) == pytest.approx(1 / 3)
    assert cycle_cpe(STALL, np.array([1, 1, 1])) == 0.0
    diag = np.stack([np.arange(5), np.arange(5)], axis=1)
    assert cycle_cpe(diag, np.array([0, 0, 1, 1, 2])) == 0.0
    with pytest.raises(InputError):
        cycle_cpe(STALL, np.array([0, 1]))


def test_phase_progress_by_hand():
    assert phase_progress(np.array([0, 0, 1, 1]), 2) == pytest.approx([0.125, 0.375, 0.625, 0.875])


def test_ap_at_k_by_hand():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[1.0, 0.1], [0.1, 1.0]])
    assert ap_at_k([a, b], [np.array([0, 1]), np.array([0, 1])], k=1) == 1.0
    # Swapped labels: the relevant frame always comes second: AP = (1/2) / 1.
    assert ap_at_k([a, b], [np.array([0, 1]), np.array([1, 0])], k=2) == pytest.approx(0.5)
    with pytest.raises(InputError):
        ap_at_k([a, b], [np.array([0, 1]), np.array([1, 0])], k=3)


def test_nn_kendall_tau_order_and_reversal():
    t = np.linspace(0, 1, 12)
    f = np.stack([np.cos(t * 2), np.sin(t * 2)], axis=1)
    assert nn_kendall_tau([f, f * 1.01]) == pytest.approx(1.0)
    # Half the frames: neighbours tie in pairs, so tau-b drops below 1 but stays high.
    assert 0.9 < nn_kendall_tau([f, f[::2]]) < 1.0
    assert nn_kendall_tau([f, f[::-1]]) == pytest.approx(-1.0)


def _clusters(rng, n_videos, per=20):
    feats, labels = [], []
    for _ in range(n_videos):
        lab = np.repeat([0, 1, 2], per)
        centres = np.eye(3)[lab] * 5
        feats.append(centres + rng.normal(0, 0.3, centres.shape))
        labels.append(lab)
    return feats, labels


def test_phase_classification_separable_and_random():
    rng = np.random.default_rng(0)
    f, lab = _clusters(rng, 4)
    assert phase_classification(f[:2], lab[:2], f[2:], lab[2:], fraction=0.1) == 1.0
    noise = [rng.normal(size=x.shape) for x in f]
    acc = phase_classification(noise[:2], lab[:2], noise[2:], lab[2:])
    assert acc < 0.6  # chance is 1/3
    with pytest.raises(InputError):
        phase_classification(f[:2], lab[:2], f[2:], lab[2:], fraction=0)


def test_phase_progression_linear_and_noise():
    rng = np.random.default_rng(1)
    prog = [np.linspace(0, 1, 30) for _ in range(4)]
    feats = [np.stack([p, rng.normal(size=30)], axis=1) for p in prog]
    assert phase_progression(feats[:2], prog[:2], feats[2:], prog[2:]) > 0.99
    noise = [rng.normal(size=(30, 3)) for _ in range(4)]
    assert phase_progression(noise[:2], prog[:2], noise[2:], prog[2:]) < 0.2


def test_path_tau_matches_scipy_and_edge_cases():
    rng = np.random.default_rng(2)
    moves = np.array([[0, 1], [1, 0], [1, 1]])
    for _ in range(20):
        steps = moves[rng.integers(0, 3, 30)]
        path = np.vstack([[0, 0], np.cumsum(steps, axis=0)])
        assert path_tau(path) == pytest.approx(kendalltau(path[:, 0], path[:, 1]).statistic)
    assert path_tau(np.array([[0, 0]])) == 1.0
    assert path_tau(np.array([[0, 0], [0, 1], [0, 2]])) == 0.0
    with pytest.raises(InputError):
        path_tau(np.zeros((3, 3)))


def test_ranking_score_single_cue_is_raw_and_fused_is_zscored():
    sim = np.array([0.9, 0.5, 0.1])
    draq = np.array([0.8, 0.6, 0.9])
    cost = np.array([0.2, 0.3, 0.1])
    tau = np.array([0.9, 0.9, 0.5])
    assert DRAQ_ONLY.score(sim, draq, cost, tau) == pytest.approx(draq)
    fused = RankingScore("fused", {"neg_similarity": 1.0, "normalized_cost": 1.0})
    z = standardize_within(np.stack([-sim, cost], axis=1))
    assert fused.score(sim, draq, cost, tau) == pytest.approx(z.sum(axis=1))
    back = RankingScore.from_json(fused.to_json())
    assert back.vector == pytest.approx(fused.vector)
    with pytest.raises(InputError):
        RankingScore("x", {"colour": 1.0})
    with pytest.raises(InputError):
        RankingScore.from_json("{}")
    with pytest.raises(InputError):
        fused.score(sim, draq, cost, tau[:2])


def test_shipped_ranking_loads_and_names_its_cues():
    r = default_ranking()
    assert set(r.weights) == set(CUES)
    assert r.fitted_on and "quer" in r.fitted_on  # says it never saw the queries
    assert np.abs(r.vector).sum() > 0
