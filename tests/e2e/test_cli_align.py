"""``avr align`` end to end: feature arrays and generated videos in, JSON out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import true_partner


def _walk(rng: np.random.Generator, t: int, d: int) -> np.ndarray:
    return np.cumsum(rng.standard_normal((t, d)), axis=0).astype(np.float32)


@pytest.fixture
def arrays(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(7)
    base = _walk(rng, 80, 12)
    idx = np.clip(np.round(np.cumsum(np.r_[np.full(30, 0.6), np.full(30, 1.6)])), 0, 79).astype(int)
    paths = {
        "q": base,
        "warped": base[idx] + 0.05 * rng.standard_normal((len(idx), 12)).astype(np.float32),
        "other": _walk(rng, 70, 12),
        "short": base[20:40],
        "dim5": rng.standard_normal((30, 5)).astype(np.float32),
        "empty": np.zeros((0, 12), np.float32),
        "nan": np.where(np.arange(80)[:, None] == 3, np.nan, base).astype(np.float32),
        "vec": base[:, 0],
    }
    out = {}
    for k, v in paths.items():
        out[k] = tmp_path / f"{k}.npy"
        np.save(out[k], v)
    return out


def test_json_has_the_contract_keys(avr, arrays):
    r = avr("align", arrays["q"], arrays["warped"], "--json")
    assert r.code == 0, r.err
    data = r.json()
    for key in ("draq", "dtw_cost", "path", "time_map"):
        assert key in data
    path = np.array(data["path"])
    assert path[0].tolist() == [0, 0]
    assert path[-1].tolist() == [79, 59]
    assert len(data["time_map"]) == 80  # query unwarped: one row per query frame
    assert set(data["time_map"][0]) == {"query_index", "query_time", "match_index", "match_time"}
    assert data["time_map"][10]["query_time"] == pytest.approx(1.0)  # 10 fps default spacing


def test_warped_copy_is_more_alignable_than_an_unrelated_clip(avr, arrays):
    same = avr("align", arrays["q"], arrays["warped"], "--json").json()
    other = avr("align", arrays["q"], arrays["other"], "--json").json()
    assert same["draq"] < 0.5 * other["draq"]


def test_options_change_the_alignment(avr, arrays):
    base = avr("align", arrays["q"], arrays["warped"], "--json").json()
    sampled = avr("align", arrays["q"], arrays["warped"], "--json", "--draq-samples", "400").json()
    assert sampled["draq"] == pytest.approx(base["draq"], rel=0.05)
    assert sampled["draq"] != base["draq"]
    banded = avr("align", arrays["q"], arrays["warped"], "--json", "--band", "0.05").json()
    assert banded["dtw_cost"] >= base["dtw_cost"] - 1e-4
    raw = avr("align", arrays["q"], arrays["warped"], "--json", "--no-context").json()
    assert raw["dtw_cost"] != base["dtw_cost"]
    keep_c = avr("align", arrays["q"], arrays["warped"], "--json", "--keep", "candidate").json()
    assert len(keep_c["time_map"]) == 60


def test_subsequence_locates_a_short_query(avr, arrays):
    r = avr("align", arrays["short"], arrays["q"], "--json", "--subsequence", "--no-context")
    assert r.code == 0, r.err
    path = np.array(r.json()["path"])
    assert abs(path[0, 1] - 20) <= 1 and abs(path[-1, 1] - 39) <= 1


def test_human_output(avr, arrays):
    r = avr("align", arrays["q"], arrays["warped"])
    assert r.code == 0
    assert "DRAQ" in r.out and "time map" in r.out


def test_videos_with_unicode_paths_recover_the_known_warp(avr, clips):
    r = avr("align", clips["query"], clips["warped"], "--json", "--fps", "15")
    assert r.code == 0, r.err
    data = r.json()
    specs = clips["speeds"]
    truth = true_partner(40, specs["query"][2], 56, specs["warped"][2])
    est = np.array([row["match_index"] for row in data["time_map"]])
    assert len(est) == 40
    assert np.mean(np.abs(est - truth)) < 1.5
    # Times are seconds in the source files (15 fps clips).
    assert data["time_map"][15]["query_time"] == pytest.approx(1.0, abs=1e-3)
    other = avr("align", clips["query"], clips["other"], "--json", "--fps", "15").json()
    assert data["draq"] < other["draq"]


def test_portrait_video_aligns(avr, clips):
    r = avr("align", clips["portrait"], clips["query"], "--json", "--fps", "15")
    assert r.code == 0, r.err
    assert r.json()["shape"] == [30, 40]


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("missing", "no such file"),
        ("empty_file", "empty"),
        ("text_file", "not a video"),
        ("truncated", ""),
        ("empty", "no frames"),
        ("nan", "NaN"),
        ("vec", "2-D"),
        ("dim5", "feature dimensions"),
        ("bad_npy", "not a readable NumPy file"),
        ("npz_without_features", "no 'features'"),
    ],
)
def test_bad_input_gives_one_clear_line(avr, arrays, clips, tmp_path, case, fragment):
    q = arrays["q"]
    if case == "missing":
        c = tmp_path / "nope.mp4"
    elif case == "empty_file":
        c = tmp_path / "empty.mp4"
        c.write_bytes(b"")
    elif case == "text_file":
        c = tmp_path / "notes.mp4"
        c.write_text("this is not a video\n" * 50)
    elif case == "truncated":
        data = Path(clips["query"]).read_bytes()
        c = tmp_path / "truncated.mp4"
        c.write_bytes(data[: len(data) // 3])
        q = clips["query"]
    elif case == "bad_npy":
        c = tmp_path / "bad.npy"
        c.write_bytes(b"\x93NUMPY garbage")
    elif case == "npz_without_features":
        c = tmp_path / "x.npz"
        np.savez(c, other=np.zeros((3, 3)))
    else:
        c = arrays[case]
    r = avr("align", q, c, "--json")
    assert r.code != 0
    assert r.out == ""
    assert "Traceback" not in r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith("avr: error:")
    assert fragment in lines[0]


def test_unreadable_band_value_is_rejected(avr, arrays):
    r = avr("align", arrays["q"], arrays["warped"], "--band", "1.5")
    assert r.code == 2 and "band" in r.err and "Traceback" not in r.err


def test_version(avr):
    from avr_gui import __version__

    r = avr("--version")
    assert r.code == 0 and __version__ in r.out


def test_demo_indexes_queries_and_exports(avr, tmp_path):
    """The README's main command, with the default encoder, as a user runs it."""
    import av

    out = tmp_path / "démo out"
    r = avr("demo", out, "--json", timeout=600)
    assert r.code == 0, r.err
    summary = r.json()
    saved = json.loads((out / "results.json").read_text())
    assert saved["results"] == summary["results"]
    from avr_gui.core.features import default_backend

    # auto where the pose models are installed (make setup), appearance otherwise.
    assert summary["encoder"] == default_backend() and summary["indexed"] == 15
    ranked = summary["results"]
    # The three other squats are the top three; ranks follow the score.
    assert [row["same_action_as_query"] for row in ranked[:3]] == [True, True, True]
    assert [row["score"] for row in ranked] == sorted(row["score"] for row in ranked)
    assert summary["best_match_warp_error_frames"] < 5
    for f in summary["files"].values():
        assert Path(f).stat().st_size > 0
    header = (out / "best_match_time_map.csv").read_text().splitlines()[0]
    assert header == "query_frame,query_time,match_frame,match_time"
    frames = json.loads((out / "best_match_time_map.json").read_text())["frames"]
    with av.open(str(out / "library" / "action0_v00.mp4")) as q:
        n_query = sum(1 for _ in q.decode(video=0))
    with av.open(summary["files"]["retimed_video"]) as v:
        n_out = sum(1 for _ in v.decode(video=0))
    assert len(frames) == n_query == n_out
