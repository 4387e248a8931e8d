"""The drawn person: poses follow the action's phases, looks follow the style."""

from __future__ import annotations

import numpy as np

from avr_gui.core.demo.synth_person import PersonStyle, pose_at, render_person


def test_key_poses_are_reached_at_phase_boundaries():
    p = pose_at(1, np.array([0.0, 0.25, 0.5, 0.75, 1.0]))
    # Jumping jack: arms down, out, overhead, out again, back down at the end.
    assert p[0, 1] < 20 and 80 < p[1, 1] < 100 and p[2, 1] > 150 and p[4, 1] < 20
    np.testing.assert_allclose(p[0], p[4])


def test_frames_change_with_progress_and_are_deterministic():
    prog = np.linspace(0, 1, 6)
    a = render_person(0, prog, (96, 72), PersonStyle(seed=3))
    b = render_person(0, prog, (96, 72), PersonStyle(seed=3))
    assert a.shape == (6, 72, 96, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    # Deepest squat differs from standing; the end returns to the start pose.
    assert np.abs(a[0].astype(int) - a[3].astype(int)).mean() > 1.0
    assert np.abs(a[0].astype(int) - a[5].astype(int)).mean() < 0.5


def test_mirror_swaps_sides_of_an_asymmetric_pose():
    prog = np.array([0.25])  # side raise: left arm up only
    left = render_person(2, prog, (96, 96), PersonStyle(seed=1))[0].astype(int)
    right = render_person(2, prog, (96, 96), PersonStyle(seed=1, mirror=True))[0].astype(int)
    top = slice(0, 40)
    diff = np.abs(left - right)[top].sum(axis=(0, 2))
    # The raised arm moves to the other half of the frame.
    assert diff[:48].sum() > 0 and diff[48:].sum() > 0


def test_distractor_walks_in_place():
    p = pose_at(-1, np.linspace(0, 1, 30))
    assert np.ptp(p[:, 5]) > 40  # the thigh swings
    frames = render_person(-1, np.linspace(0, 1, 4), (64, 48))
    assert frames.shape == (4, 48, 64, 3)
