"""Labels, pointers and refusals of a library's learned model (no training: fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from avr_gui.core.demo.pose_library import add_joint_clips
from avr_gui.core.demo.synth_library import generate_skeletons
from avr_gui.core.errors import InputError
from avr_gui.core.library import Library, LibraryError
from avr_gui.core.library.learned import (
    SHIPPED_COMPARISON,
    compared_by,
    folder_labels,
    learn,
    learned_dir,
    learned_info,
    read_labels_csv,
    revert,
    training_set,
)


@pytest.fixture
def index(tmp_path: Path) -> Path:
    sk = generate_skeletons(per_action=2, seed=2)
    names = {0: "squat", 1: "jack", 2: "raise"}
    with Library.open(tmp_path / "idx") as lib:
        add_joint_clips(lib, [(f"{names[c.action]}/c{k}", c.joints) for k, c in enumerate(sk)])
    return tmp_path / "idx"


def test_folder_labels_are_parent_folder_names() -> None:
    assert folder_labels(["/v/squat/a.mp4", "jack/b", "loose"]) == {
        "/v/squat/a.mp4": "squat",
        "jack/b": "jack",
    }


def test_csv_labels_resolve_paths_and_skip_header_and_blank_lines(tmp_path: Path) -> None:
    clip = tmp_path / "videos" / "one.mp4"
    clip.parent.mkdir()
    clip.write_bytes(b"x")
    csv = tmp_path / "labels.csv"
    csv.write_text('path,label\n\n"squat/c0", squat \nvideos/one.mp4,jack\n', "utf-8")
    known = ["squat/c0", str(clip.resolve())]
    assert read_labels_csv(csv, known) == {"squat/c0": "squat", str(clip.resolve()): "jack"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no labels in it"),
        ("path,label\n", "no labels in it"),
        ("squat/c0\n", "line 1: expected 'path,label'"),
        ("squat/c0,squat,extra\n", "line 1: expected"),
        ("squat/c0,\n", "line 1: expected"),
        ("squat/c0,a\nnope,a\n", "line 2: 'nope' is not an indexed clip"),
        ("squat/c0,a\nsquat/c0,b\n", "two labels"),
    ],
)
def test_bad_csvs_are_one_line(tmp_path: Path, text: str, words: str) -> None:
    csv = tmp_path / "l.csv"
    csv.write_text(text)
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")) as e:
        read_labels_csv(csv, ["squat/c0"])
    assert "\n" not in str(e.value)


def test_training_set_reads_both_orientations_of_every_labelled_clip(index: Path) -> None:
    with Library.open(index, readonly=True) as lib:
        ts = training_set(lib)
        only = training_set(lib, {"squat/c0": "a", "jack/c2": "b"})
    assert sorted(ts.labels) == ["jack"] * 2 + ["raise"] * 2 + ["squat"] * 2
    assert all(len(c.views) == 2 and c.views[0][0].shape[1] == 50 for c in ts.clips)
    assert sorted(only.labels) == ["a", "b"] and only.unlabelled == 4


def test_other_libraries_and_read_only_ones_cannot_learn(index: Path, tmp_path: Path) -> None:
    with Library.open(index, readonly=True) as lib, pytest.raises(LibraryError, match="read-only"):
        learn(lib, steps=1)
    with Library.open(index, readonly=True) as lib, pytest.raises(LibraryError, match="read-only"):
        revert(lib)
    import numpy as np

    from avr_gui.core.features.sequence import FeatureSequence

    seq = FeatureSequence(
        np.ones((3, 4), np.float32), np.arange(3.0), np.arange(3), "x", "thumb16", "t1"
    )
    with Library.open(tmp_path / "other") as lib:
        lib.add_features([("a/x", seq)])
        with pytest.raises(InputError, match="automatic features"):
            learn(lib, steps=1)
    assert not learned_dir(index).exists() and not learned_dir(tmp_path / "other").exists()


def test_no_model_and_a_damaged_pointer_mean_the_default_features(index: Path) -> None:
    # The default is the shipped learned model (the hand-made descriptor without it).
    assert learned_info(index) is None and compared_by(None) == SHIPPED_COMPARISON
    learned_dir(index).mkdir()
    (learned_dir(index) / "current.json").write_text("{not json")
    assert learned_info(index) is None
    with Library.open(index) as lib:
        assert lib.learned_model() is None  # queries fall back, logged
        res = lib.query("squat/c0", top=2)
        assert res.pose_model == SHIPPED_COMPARISON
        assert revert(lib) is True and not learned_dir(index).exists()
        assert revert(lib) is False
