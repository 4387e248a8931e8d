"""Audio for exports: the kept clip's sound fitted, the other clip's sound retimed."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.export import AudioTrack, WarpCurve, fit_audio, retime_audio

RATE = 8000


def _ramp(seconds: float) -> AudioTrack:
    # The sample value tells its own source time: retiming can be checked sample by sample.
    t = np.arange(round(seconds * RATE)) / RATE
    return AudioTrack(np.stack([t, -t]).astype(np.float32), RATE)


def test_retimed_audio_reads_the_source_at_the_curve_time():
    src = _ramp(4.0)
    curve = WarpCurve(np.array([0.0, 1.0, 2.0]), np.array([0.0, 2.0, 2.5]))
    out = retime_audio(src, 0.0, curve, 0.0, 2.0)
    assert out.samples.shape == (2, 2 * RATE)
    t = np.arange(2 * RATE) / RATE
    expected = curve(t)
    inner = (t > 0.05) & (t < 1.95) & (np.abs(t - 1.0) > 0.02)
    np.testing.assert_allclose(out.samples[0, inner], expected[inner], atol=1e-4)
    np.testing.assert_allclose(out.samples[1, inner], -expected[inner], atol=1e-4)


def test_holds_fade_to_silence_and_the_outside_is_silent():
    src = AudioTrack(np.ones((1, 3 * RATE), np.float32), RATE)
    curve = WarpCurve(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 1.0, 2.0]))
    out = retime_audio(src, 0.5, curve, 0.0, 3.0).samples[0]
    assert out[int(0.2 * RATE) : int(0.4 * RATE)].max() == 0  # before the audio starts
    assert out[int(0.7 * RATE) : int(0.9 * RATE)].min() > 0.99
    assert out[int(1.2 * RATE) : int(1.8 * RATE)].max() < 1e-6  # the hold
    assert out[int(2.2 * RATE) : int(2.8 * RATE)].min() > 0.99


@pytest.mark.parametrize("start", [0.0, 0.25, -0.5])
def test_fit_audio_places_the_track_on_the_video_clock(start):
    src = _ramp(2.0)
    out = fit_audio(src, start, 0.0, 1.5)
    assert out.samples.shape == (2, round(1.5 * RATE))
    t = np.arange(out.samples.shape[1]) / RATE
    have = (t >= start) & (t - start < 2.0)
    np.testing.assert_allclose(out.samples[0, have], (t - start)[have], atol=2 / RATE)
    assert not out.samples[:, ~have].any()
