"""The "same footage" cue: a query cut from a library clip is found by its frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.align import footage
from avr_gui.core.demo.synth import write_video
from avr_gui.core.demo.synth_library import generate_library
from avr_gui.core.errors import ShapeError
from avr_gui.core.features import get_encoder
from avr_gui.core.library import Library
from avr_gui.core.video.decode import sample_frames

ROOT = Path(__file__).resolve().parents[2]


def test_overlap_is_one_for_frames_the_candidate_contains() -> None:
    rng = np.random.default_rng(0)
    clip = rng.normal(size=(40, 16))
    other = rng.normal(size=(50, 16))
    assert footage.footage_overlap(clip[10:25], clip) == pytest.approx(1.0, abs=1e-6)
    assert footage.footage_overlap(clip[10:25], other) < 0.8
    # Long queries are subsampled, and still match their own frames exactly.
    long = rng.normal(size=(300, 16))
    assert footage.footage_overlap(long, long) == pytest.approx(1.0, abs=1e-6)


def test_overlap_of_empty_or_mismatched_features() -> None:
    assert footage.footage_overlap(np.zeros((0, 4)), np.ones((3, 4))) == -1.0
    with pytest.raises(ShapeError):
        footage.footage_overlap(np.ones((3, 4)), np.ones((3, 5)))
    with pytest.raises(ShapeError):
        footage.footage_overlap(np.ones(4), np.ones((3, 4)))


def test_the_decision_needs_a_lead_over_the_runner_up() -> None:
    assert footage.overlap_margin([0.9]) is None
    assert footage.overlap_margin([0.5, 0.9, 0.8]) == (1, pytest.approx(0.1))
    rng = np.random.default_rng(1)
    src = rng.normal(size=(30, 8))
    others = [rng.normal(size=(30, 8)) for _ in range(3)]
    found = footage.same_footage(src[5:20], [others[0], src, others[1]], rule=(0.9, 0.1))
    assert found is not None and found[0] == 1 and found[1] == pytest.approx(1.0, abs=1e-6)
    # Two copies of the source: neither leads the other, so nothing is claimed.
    assert footage.same_footage(src[5:20], [src, src.copy(), others[2]], rule=(0.9, 0.1)) is None
    # A clear lead, but frames only alike, not the same: nothing is claimed either.
    alike = src + rng.normal(scale=0.8, size=src.shape)
    lead = footage.overlap_margin(
        [footage.footage_overlap(src[5:20], c) for c in (alike, others[0])]
    )
    assert lead is not None and lead[0] == 0 and lead[1] > 0.1
    assert footage.same_footage(src[5:20], [alike, others[0]], rule=(0.9, 0.1)) is None


def test_the_shipped_margin_is_fitted_and_documented() -> None:
    doc = json.loads((ROOT / "resources" / "same_footage.json").read_text("utf-8"))
    assert 0.0 < doc["margin"] <= 2.0 and "generated clips" in doc["fitted_on"]
    assert footage.same_footage_rule() == pytest.approx((doc["min_overlap"], doc["margin"]))


def test_an_excerpt_finds_its_source_first(tmp_path: Path) -> None:
    """Real generated videos, decoded and encoded for real (EfficientNet-Lite0)."""
    clips = generate_library(tmp_path / "lib", per_action=2, distractors=1, seed=31)
    with Library.open(tmp_path / "idx", encoder=get_encoder("effnet-lite0")) as lib:
        lib.add_folder(tmp_path / "lib")
        lib.index()
        # The middle 40 % of a squat, cut out and saved again (another file).
        src = clips[1].path
        frames = [f.image for f in sample_frames(src, 10.0)]
        n = len(frames)
        q = tmp_path / "excerpt.mp4"
        write_video(q, np.stack(frames[int(0.3 * n) : int(0.7 * n)]), 10.0)
        res = lib.query(q, top=4)
        assert Path(res.results[0].path).samefile(src)
        assert res.results[0].same_footage and res.results[0].rank == 1
        assert not any(m.same_footage for m in res.results[1:])
        assert [m.rank for m in res.results] == list(range(1, len(res.results) + 1))
        # A library clip as the query: no other clip is its footage.
        whole = lib.query(clips[0].path, top=4)
        assert not any(m.same_footage for m in whole.results)


@pytest.mark.parametrize(
    "text",
    ["{not json", json.dumps({"margin": 0.1}), json.dumps({"min_overlap": 0.8, "margin": 5})],
)
def test_a_damaged_rule_file_turns_the_cue_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "same_footage.json").write_text(text, "utf-8")
    monkeypatch.setattr(footage.resources, "files", lambda _pkg: tmp_path)
    footage.same_footage_rule.cache_clear()
    try:
        with caplog.at_level("WARNING"):
            assert footage.same_footage_rule() is None
        assert "same_footage.json not used" in caplog.text
        # No rule: nothing is ever claimed, however alike the frames.
        clip = np.random.default_rng(2).normal(size=(20, 8))
        assert footage.same_footage(clip, [clip, -clip]) is None
    finally:
        footage.same_footage_rule.cache_clear()
