"""Generated skeletons with known phases: the drawn person's joints, for pose-feature E4."""

from __future__ import annotations

import numpy as np

from avr_gui.core.demo.synth_library import generate_skeletons
from avr_gui.core.demo.synth_person import PersonStyle, person_joints, render_person


def _near(img: np.ndarray, xy: np.ndarray, bgr: tuple[int, int, int], tol: int = 12) -> bool:
    x, y = (round(float(v)) for v in xy)
    return bool(np.abs(img[y, x].astype(int) - np.array(bgr)).max() <= tol)


def test_joints_are_where_the_person_is_drawn():
    for style in (PersonStyle(), PersonStyle(mirror=True, shake=0.004, offset_x=0.1, seed=5)):
        for action in (0, 1, 2):
            prog = np.linspace(0, 1, 15)
            frames = render_person(action, prog, (192, 144), style)
            j = person_joints(action, prog, (192, 144), style)
            assert j.shape == (15, 13, 3) and np.all(j[..., 2] == 1)
            # The head (drawn last) and the wrists (ends of the skin-coloured forearms).
            assert all(_near(f, j[t, 0, :2], style.skin_bgr) for t, f in enumerate(frames))
            wrists = [
                _near(f, j[t, k, :2], style.skin_bgr) for t, f in enumerate(frames) for k in (5, 6)
            ]
            assert np.mean(wrists) >= 0.9


def test_mirrored_person_swaps_sides():
    prog = np.linspace(0, 1, 5)
    a = person_joints(2, prog, (192, 144), PersonStyle())
    b = person_joints(2, prog, (192, 144), PersonStyle(mirror=True))
    centre = 192 / 2
    assert np.allclose(a[:, 5, 0] - centre, -(b[:, 5, 0] - centre))
    assert np.allclose(a[:, 5, 1], b[:, 5, 1])


def test_generated_skeletons_have_known_phases_and_noise():
    clips = generate_skeletons(per_action=3, seed=1)
    assert [c.action for c in clips] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    for c in clips:
        assert c.joints.shape == (len(c.progress), 13, 3)
        assert np.all(np.diff(c.phases) >= 0) and set(np.unique(c.phases)) <= {0, 1, 2, 3}
    seen = np.concatenate([c.joints[..., 2].ravel() for c in clips])
    assert 0.9 < seen.mean() < 0.99  # 5 % dropped
    again = generate_skeletons(per_action=3, seed=1)
    assert all(np.array_equal(a.joints, b.joints) for a, b in zip(clips, again, strict=True))
