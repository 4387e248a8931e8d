"""``avr learn``: a library learns a pose model from its labelled clips, uses it, reverts.

Libraries are made from the drawn person's joints (``core/demo/pose_library.py``): real
``auto`` libraries with stored pose tracks, read by ``avr learn`` exactly as tracks of
indexed videos are, in a second instead of a pose model run per clip. Training runs are
real (few steps) in real ``avr`` subprocesses.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.pose_library import add_joint_clips
from avr_gui.core.demo.synth_library import generate_skeletons
from avr_gui.core.library import Library
from avr_gui.core.library.learned import (
    DEFAULT_STEPS,
    SHIPPED_COMPARISON,
    checkpoint_step,
    learned_dir,
)

NAMES = {0: "squat", 1: "jack", 2: "raise"}


def make_library(index: Path, folders: dict[int, str] | None = None, per_action: int = 3) -> Path:
    """An ``auto`` library of drawn performances, clip ``k`` in folder ``folders[action]``."""
    folders = NAMES if folders is None else folders
    sk = generate_skeletons(per_action=per_action, seed=1)
    with Library.open(index) as lib:
        add_joint_clips(
            lib,
            [
                (f"{folders[c.action]}/clip {k}" if folders[c.action] else f"clip {k}", c.joints)
                for k, c in enumerate(sk)
            ],
        )
    return index


@pytest.fixture(scope="module")
def base_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_library(tmp_path_factory.mktemp("learn") / "idx")


@pytest.fixture
def library(base_library: Path, tmp_path: Path) -> Path:
    """A fresh copy of the three-action library for one test."""
    dst = tmp_path / "idx"
    shutil.copytree(base_library, dst)
    return dst


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (but SQLite's side files) by content hash."""
    return {
        str(p.relative_to(root)): hashlib.blake2b(p.read_bytes(), digest_size=8).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def _one_line_error(r, *words: str) -> None:
    assert r.code == 2, (r.code, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("avr: error: "), r.err
    for w in words:
        assert w in lines[0], r.err


@pytest.mark.parametrize(
    ("folders", "words"),
    [
        ({0: "", 1: "", 2: ""}, ("no labelled clips",)),  # no folders: no labels at all
        ({0: "all", 1: "all", 2: "all"}, ("only one label ('all')",)),
        ({0: "squat", 1: "jack", 2: "raise"}, ("single clip", "'lonely'")),
    ],
    ids=["no labels", "one label", "label of one clip"],
)
def test_unusable_labels_are_refused_in_one_line_and_change_nothing(
    avr, tmp_path: Path, folders: dict[int, str], words: tuple[str, ...]
) -> None:
    idx = make_library(tmp_path / "idx", folders)
    if words[0] == "single clip":
        sk = generate_skeletons(actions=(0,), per_action=1, seed=9)
        with Library.open(idx) as lib:
            add_joint_clips(lib, [("lonely/clip x", sk[0].joints)])
    before = snapshot(idx)
    r = avr("learn", "--index", idx, "--steps", "2")
    _one_line_error(r, *words)
    assert snapshot(idx) == before
    assert not learned_dir(idx).exists()


def test_bad_label_files_and_places_are_refused_and_change_nothing(
    avr, library: Path, tmp_path: Path, mount_readonly
) -> None:
    before = snapshot(library)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("path,label\nsquat/clip 0,squat\nsquat/nope.mp4,squat\n")
    r = avr("learn", "--index", library, "--labels", unknown, "--steps", "2")
    _one_line_error(r, "line 3", "not an indexed clip")
    bad = tmp_path / "bad.csv"
    bad.write_text("squat/clip 0;squat\n")
    r = avr("learn", "--index", library, "--labels", bad, "--steps", "2")
    _one_line_error(r, "line 1", "path,label")
    twice = tmp_path / "twice.csv"
    twice.write_text("squat/clip 0,squat\nsquat/clip 0,jack\n")
    _one_line_error(avr("learn", "--index", library, "--labels", twice), "two labels")
    r = avr("learn", "--index", tmp_path / "typo", "--steps", "2")
    _one_line_error(r, "not a library")
    assert not (tmp_path / "typo").exists()
    assert snapshot(library) == before
    ro = mount_readonly(library)
    r = avr("learn", "--index", ro, "--steps", "2")
    _one_line_error(r, "not writable")
    _one_line_error(avr("learn", "--index", ro, "--revert"), "not writable")
    assert snapshot(library) == before


def test_csv_labels_choose_the_clips(avr, library: Path, tmp_path: Path) -> None:
    csv = tmp_path / "labels.csv"
    rows = ["path,label"] + [
        f"{name}/clip {k},{name}" for k, name in enumerate(["squat"] * 3 + ["jack"] * 3)
    ]
    csv.write_text("\n".join(rows) + "\n")
    r = avr("learn", "--index", library, "--labels", csv, "--steps", "2", "--json", timeout=300)
    assert r.code == 0, r.err
    out = r.json()
    assert out["labels"] == {"jack": 3, "squat": 3} and out["clips"] == 6


def test_the_shipped_model_compares_performers_by_default(avr, library: Path) -> None:
    r = avr("query", "squat/clip 0", "--index", library, "--top", "8", "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["pose_model"] == SHIPPED_COMPARISON
    # Its verdict is calibrated for the shipped model's similarity: every match has one.
    assert all(x["alignable"] is not None for x in out["results"])
    st = avr("status", "--index", library)
    assert SHIPPED_COMPARISON in st.out, st.out


def test_pose_model_none_compares_on_the_hand_made_descriptor(
    avr, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVR_FEATURES_POSE_MODEL", "none")
    r = avr("query", "squat/clip 0", "--index", library, "--top", "8", "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["pose_model"] == "pose (default features)"
    # The verdict was fitted on the shipped model's similarity, not this descriptor's.
    assert all(x["alignable"] is None for x in out["results"])


@pytest.mark.slow
def test_learn_changes_the_ranking_and_revert_restores_it_exactly(
    avr, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Planted against the hand-made descriptor (the shipped model already ranks squats
    # first here), so that learning visibly changes the ranking.
    monkeypatch.setenv("AVR_FEATURES_POSE_MODEL", "none")

    def query() -> dict:
        r = avr("query", "squat/clip 0", "--index", library, "--top", "8", "--json")
        assert r.code == 0, r.err
        return r.json()

    default = query()
    assert default["pose_model"] == "pose (default features)"
    ranked = [x["path"] for x in default["results"]]
    # The planted case: by the default pose descriptor a jumping jack is the second
    # nearest of this squat; the labels say the other squats are nearer.
    assert ranked[1].startswith("jack/"), ranked
    r = avr("learn", "--index", library, "--steps", "12", "--json", timeout=400)
    assert r.code == 0, r.err
    info = r.json()
    assert info["labels"] == {"jack": 3, "raise": 3, "squat": 3} and info["clips"] == 9
    st = avr("status", "--index", library)
    assert "compared by: learned pose (model of " in st.out and "3 labels, 9 clips)" in st.out
    st_json = avr("learn", "--index", library, "--status", "--json").json()
    assert st_json["learned_model"]["name"] == info["name"]
    learned = query()
    assert learned["pose_model"].startswith("learned pose (model of ")
    top2 = [x["path"] for x in learned["results"][:2]]
    assert all(p.startswith("squat/") for p in top2), top2
    assert all(x["alignable"] is None for x in learned["results"])  # not calibrated for it
    r = avr("learn", "--index", library, "--revert")
    assert r.code == 0 and "removed" in r.out, r.err
    assert not learned_dir(library).exists()
    assert query() == default
    again = avr("learn", "--index", library, "--revert")
    assert again.code == 0 and "no learned model" in again.out


def _learn_proc(index: Path, steps: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "avr_gui.cli",
            "learn",
            "--index",
            str(index),
            "--steps",
            str(steps),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _model_arrays(index: Path) -> dict[str, np.ndarray]:
    name = (learned_dir(index) / "current.json").read_text()
    stem = name.split('"name": "')[1].split('"')[0]
    with np.load(learned_dir(index) / f"{stem}.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _wait_for_checkpoint(index: Path, proc: subprocess.Popen, at_least: int) -> int:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for ck in (
            learned_dir(index).glob("checkpoint-*.npz") if learned_dir(index).exists() else []
        ):
            step = checkpoint_step(ck)
            if step is not None and step >= at_least:
                return step
        time.sleep(0.2)
    raise AssertionError("no checkpoint written in time")


@pytest.mark.slow
def test_kill_9_then_rerun_resumes_and_ends_with_the_uninterrupted_weights(
    avr, library: Path, tmp_path: Path
) -> None:
    steps = 60  # a checkpoint every 6 steps
    other = tmp_path / "uninterrupted"
    shutil.copytree(library, other)
    proc = _learn_proc(library, steps)
    try:
        step = _wait_for_checkpoint(library, proc, 6)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert not (learned_dir(library) / "current.json").exists()
    at = min(checkpoint_step(c) for c in learned_dir(library).glob("checkpoint-*.npz"))
    assert at >= step
    r = avr("learn", "--index", library, "--steps", str(steps), "--json", timeout=400)
    assert r.code == 0, r.err
    assert 0 < r.json()["resumed_from"] == at < steps
    assert not list(learned_dir(library).glob("checkpoint-*.npz"))  # done: removed
    full = avr("learn", "--index", other, "--steps", str(steps), "--json", timeout=400)
    assert full.code == 0 and full.json()["resumed_from"] == 0, full.err
    a, b = _model_arrays(library), _model_arrays(other)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.slow
def test_ctrl_c_keeps_a_checkpoint_and_says_how_to_resume(library: Path) -> None:
    proc = _learn_proc(library, 5000)
    try:
        _wait_for_checkpoint(library, proc, 1)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err, err
    steps = [checkpoint_step(c) for c in learned_dir(library).glob("checkpoint-*.npz")]
    assert len(steps) == 1 and 1 <= steps[0] < 5000
    assert not (learned_dir(library) / "current.json").exists()


def test_help_names_the_core_default_steps(avr) -> None:
    r = avr("learn", "--help")
    assert r.code == 0 and f"default {DEFAULT_STEPS}" in r.out
