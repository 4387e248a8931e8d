"""``avr features`` end to end, and ``avr align`` with chosen backends."""

from __future__ import annotations

import numpy as np


def test_list_names_usable_backends(avr):
    r = avr("features", "--list", "--json")
    assert r.code == 0, r.err
    data = r.json()
    names = {b["name"]: b for b in data["backends"]}
    assert data["default"] in names
    assert names["thumb16"]["usable"] and names["effnet-lite0"]["usable"]
    human = avr("features", "--list")
    assert "effnet-lite0" in human.out and "default" in human.out


def test_features_npz_has_the_contract_keys(avr, clips, tmp_path):
    out = tmp_path / "féatures.npz"
    r = avr("features", clips["query"], "-o", out, "--fps", "5", "--json")
    assert r.code == 0, r.err
    data = np.load(out, allow_pickle=False)
    feats, ts, idx = data["features"], data["timestamps"], data["frame_indices"]
    assert feats.dtype == np.float32 and feats.shape == (14, 1280)  # 40 frames at 15 fps
    np.testing.assert_allclose(ts, np.arange(14) / 5, atol=0.04)
    np.testing.assert_array_equal(idx, np.arange(14) * 3)
    assert str(data["encoder"]) == "effnet-lite0"
    assert r.json()["frames"] == 14


def test_thumbnail_backend_and_npz_round_trip_through_align(avr, clips, tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for src, dst in ((clips["query"], a), (clips["warped"], b)):
        r = avr("features", src, "-o", dst, "--backend", "thumb16", "--fps", "15")
        assert r.code == 0, r.err
    from_npz = avr("align", a, b, "--json").json()
    from_video = avr(
        "align", clips["query"], clips["warped"], "--json", "--backend", "thumb16", "--fps", "15"
    ).json()
    assert from_npz["draq"] == from_video["draq"]
    assert from_npz["time_map"] == from_video["time_map"]  # timestamps travel in the npz


def test_bad_weights_fall_back_with_a_warning(avr, clips, tmp_path):
    bad = tmp_path / "mine.pth"
    bad.write_bytes(b"garbage")
    out = tmp_path / "x.npz"
    r = avr("features", clips["portrait"], "-o", out, "--weights", bad, "--fps", "5")
    assert r.code == 0, r.err
    assert "avr: warning:" in r.err and "packaged ImageNet weights" in r.err
    assert out.exists()


def test_feature_errors_are_one_line(avr, clips, tmp_path):
    for args, fragment in (
        (("features", clips["query"], "-o", tmp_path / "y.npz", "--backend", "nope"), "unknown"),
        (("features", clips["query"], "-o", tmp_path / "y.npz", "--backend", "onnx"), "--weights"),
        (("features", tmp_path / "missing.mp4", "-o", tmp_path / "y.npz"), "no such file"),
        (("features",), "--list"),
        (("features", clips["query"], "-o", tmp_path / "no dir" / "y.npz"), "no such folder"),
    ):
        r = avr(*args)
        assert r.code != 0, args
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("avr: error:"), r.err
        assert fragment in lines[0], (fragment, lines[0])
