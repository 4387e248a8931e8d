"""Warp curves and per-frame maps: one monotone row per query frame at the native rate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avr_gui.core.align import align
from avr_gui.core.errors import InputError, ShapeError
from avr_gui.core.export import (
    FrameMap,
    WarpCurve,
    curve_from_path,
    frame_map,
    nearest_frames,
    reverse_frames,
)


def test_nearest_frames_picks_the_closest_timestamp():
    ft = np.array([0.0, 0.04, 0.08, 0.12])
    got = nearest_frames(np.array([-1.0, 0.0, 0.019, 0.021, 0.06, 0.5]), ft)
    assert got.tolist() == [0, 0, 0, 1, 1, 3]  # 0.06 is a tie: the earlier frame


def test_curve_interpolates_and_extrapolates_at_unit_rate():
    # Outside its points the one time map plays on in real time (not at its overall
    # slope, the export's former rule, nor held still, the player's former rule).
    c = WarpCurve(np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.5, 3.0]))
    assert c.slope == pytest.approx(1.5)
    np.testing.assert_allclose(c(np.array([0.5, 1.5, -1.0, 3.0])), [0.25, 1.75, -1.0, 4.0])


def test_strict_merges_holds_and_inverse_maps_back():
    c = WarpCurve(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 1.0, 2.0]))
    s = c.strict()
    np.testing.assert_allclose(s.x, [0.0, 1.5, 3.0])
    np.testing.assert_allclose(s.y, [0.0, 1.0, 2.0])
    inv = c.inverse()
    np.testing.assert_allclose(inv(s.y), s.x)


def test_bad_curves_are_refused():
    with pytest.raises(InputError):
        WarpCurve(np.array([0.0, 0.0]), np.array([0.0, 1.0]))
    with pytest.raises(InputError):
        WarpCurve(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    with pytest.raises(ShapeError):
        WarpCurve(np.array([0.0, 1.0]), np.array([1.0]))
    with pytest.raises(InputError):
        WarpCurve(np.array([0.0, np.nan]), np.array([0.0, 1.0]))


def test_alignment_on_10fps_samples_gives_one_row_per_native_frame():
    # Query at 30 fps for 4 s; match at 25 fps for 6 s playing 1.5x slower.
    qt = np.arange(120) / 30.0
    mt = np.arange(150) / 25.0
    qs, ms = qt[::3], mt[::2][:-2]  # what a 10 fps sampler keeps (about)
    rng = np.random.default_rng(0)
    base = np.cumsum(rng.standard_normal((400, 8)), axis=0).astype(np.float32)
    feats_q = base[np.round(qs / 6.0 * 399).astype(int)]
    feats_m = base[np.round(ms / 1.5 / 6.0 * 399).astype(int)]
    res = align(feats_q, feats_m)
    curve = curve_from_path(res.path, qs, ms)
    fm = frame_map(curve, qt, mt)
    assert len(fm) == 120
    assert fm.query_frame.tolist() == list(range(120))
    assert (np.diff(fm.match_frame) >= 0).all()
    np.testing.assert_allclose(fm.match_time, mt[fm.match_frame])
    true = np.clip(qt * 1.5 * 25.0, 0, 149)
    assert np.median(np.abs(fm.match_frame - true)) <= 2.0


def test_reverse_frames_give_one_query_frame_per_match_frame():
    qt = np.arange(40) / 15.0
    mt = np.arange(56) / 25.0
    curve = WarpCurve(np.array([0.0, qt[-1]]), np.array([0.0, mt[-1]]))
    rev = reverse_frames(curve, qt, mt)
    assert rev.shape == (56,)
    assert rev[0] == 0 and rev[-1] == 39
    assert (np.diff(rev) >= 0).all()


def test_frame_map_checks_that_it_fits():
    fm = FrameMap(np.arange(3), np.arange(3) / 10.0, np.array([0, 1, 5]), np.arange(3) / 10.0)
    fm.check_fits(3, 6)
    with pytest.raises(InputError, match="rows"):
        fm.check_fits(4, 6)
    with pytest.raises(InputError, match="match has 5"):
        fm.check_fits(3, 5)
    with pytest.raises(ShapeError):
        FrameMap(np.arange(3), np.arange(2), np.arange(3), np.arange(3))


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=30),
    n_query=st.integers(1, 200),
    q_fps=st.sampled_from([12.0, 24.0, 29.97, 60.0]),
    m_fps=st.sampled_from([15.0, 25.0, 30.0]),
)
def test_frame_maps_are_monotone_and_in_range(steps, n_query, q_fps, m_fps):
    x = np.arange(len(steps) + 1) * 0.1
    y = np.concatenate([[0.0], np.cumsum(steps) * 0.1])
    qt = np.arange(n_query) / q_fps
    mt = np.arange(90) / m_fps
    fm = frame_map(WarpCurve(x, y), qt, mt)
    assert len(fm) == n_query
    assert (np.diff(fm.match_frame) >= 0).all()
    assert fm.match_frame.min() >= 0 and fm.match_frame.max() < 90
    rev = reverse_frames(WarpCurve(x, y), qt, mt)
    assert (np.diff(rev) >= 0).all() and rev.max() < n_query
