"""Choosing the performer among several detected people (size, centrality, continuity)."""

from __future__ import annotations

import numpy as np

from avr_gui.core.features.pose.detector import choose_performer


def _det(cx: float, cy: float, size: float) -> np.ndarray:
    return np.array([[cx, cy], [cx, cy - size]])


def test_nobody_and_one_person() -> None:
    assert choose_performer(np.zeros((0, 2, 2)), (640, 360)) is None
    assert choose_performer(np.stack([_det(100, 100, 50)]), (640, 360)) == 0


def test_the_larger_person_wins_when_both_are_central() -> None:
    kp = np.stack([_det(300, 180, 40), _det(340, 180, 80)])
    assert choose_performer(kp, (640, 360)) == 1


def test_a_central_athlete_beats_a_slightly_larger_passer_by_at_the_edge() -> None:
    kp = np.stack([_det(630, 350, 90), _det(320, 180, 70)])
    assert choose_performer(kp, (640, 360)) == 1
    # ...but not one twice the size.
    kp = np.stack([_det(630, 350, 160), _det(320, 180, 70)])
    assert choose_performer(kp, (640, 360)) == 0


def test_after_a_lost_track_the_same_performer_is_taken_again() -> None:
    kp = np.stack([_det(320, 180, 120), _det(100, 200, 50)])
    last = (np.array([110.0, 195.0]), 50.0)
    assert choose_performer(kp, (640, 360), last) == 1
    # Nobody near where the performer was: size and centrality decide.
    far = (np.array([600.0, 20.0]), 30.0)
    assert choose_performer(kp, (640, 360), far) == 0
