"""The generated library: files decode to exactly the frames its manifest describes."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.demo.synth_library import PHASES, generate_library, phase_of, read_manifest
from avr_gui.core.errors import InputError
from avr_gui.core.jobs import Cancelled, CancelToken
from avr_gui.core.video import probe


def test_library_round_trips_through_its_manifest(tmp_path):
    seen = []
    clips = generate_library(
        tmp_path / "lïb",
        actions=(0, 1),
        per_action=2,
        distractors=1,
        frames=(6, 9),
        progress=lambda d, t, m: seen.append((d, t)),
    )
    assert [c.action for c in clips] == [0, 0, 1, 1, -1]
    assert seen[-1] == (5, 5)
    back = read_manifest(tmp_path / "lïb")
    for c, b in zip(clips, back, strict=True):
        assert c.path == b.path and c.action == b.action
        np.testing.assert_allclose(c.progress, b.progress, atol=1e-6)
        assert probe(c.path).frame_count == len(c.progress)
    for c in clips[:4]:
        ph = c.phases
        assert ph[0] == 0 and ph[-1] == PHASES - 1 and (np.diff(ph) >= 0).all()
    assert (clips[4].phases == -1).all()


def test_same_seed_same_library(tmp_path):
    a = generate_library(tmp_path / "a", per_action=1, distractors=0, frames=(5, 7), seed=3)
    b = generate_library(tmp_path / "b", per_action=1, distractors=0, frames=(5, 7), seed=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.progress, y.progress)


def test_bad_requests_and_cancel(tmp_path):
    with pytest.raises(InputError):
        generate_library(tmp_path, per_action=0)
    with pytest.raises(InputError):
        generate_library(tmp_path, frames=(5, 1))
    with pytest.raises(InputError):
        read_manifest(tmp_path / "nowhere")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        generate_library(tmp_path, cancel=token)
    assert phase_of(np.array([0.0, 0.26, 1.0]), 0).tolist() == [0, 1, PHASES - 1]
