"""Safe .npy / .npz reading: damaged, truncated and hostile files give one-line errors."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.errors import (
    EmptyFileError,
    MissingFileError,
    NotAFileError,
    ShapeError,
    UnsupportedFileError,
)
from avr_gui.core.eval.e2 import load_penn
from avr_gui.core.features.compact import Projection
from avr_gui.core.features.pose.encoder import load_pose_track
from avr_gui.core.features.sequence import load_sequence
from avr_gui.core.npyfile import load_npy, load_npz, npz_names

GOOD = np.arange(24, dtype=np.float32).reshape(6, 4)


def npy_bytes(arr: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def header_bytes(shape: tuple[int, ...], descr: str = "<f4", version: int = 1) -> bytes:
    """A well-formed .npy header that declares ``shape`` (no data after it)."""
    buf = io.BytesIO()
    d = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == 1:
        np.lib.format.write_array_header_1_0(buf, d)
    else:
        np.lib.format.write_array_header_2_0(buf, d)
    return buf.getvalue()


def write_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def one_line_error(exc_type: type[Exception], fn, *fragments: str) -> str:
    with pytest.raises(exc_type) as info:
        fn()
    msg = str(info.value)
    assert "\n" not in msg
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"
    return msg


# ----------------------------------------------------------------------------- valid files


@pytest.mark.parametrize(
    "arr",
    [
        GOOD,
        np.asfortranarray(GOOD),
        GOOD.astype(">f8"),
        np.zeros((0, 12), np.float32),
        np.array([True, False]),
        np.str_("thumb16"),
        np.float64(0.5),
        np.arange(10, dtype=np.int16).reshape(2, 5)[:, ::2],  # non-contiguous source
    ],
    ids=["c", "fortran", "big-endian", "empty", "bool", "string", "scalar", "strided"],
)
def test_valid_npy_round_trips(tmp_path: Path, arr: np.ndarray) -> None:
    path = tmp_path / "a.npy"
    np.save(path, arr)
    got = load_npy(path)
    assert got.dtype == np.asarray(arr).dtype
    np.testing.assert_array_equal(got, arr)
    got[...] = got  # owned and writable


def test_version_2_header_loads(tmp_path: Path) -> None:
    path = tmp_path / "v2.npy"
    path.write_bytes(header_bytes((6, 4), version=2) + GOOD.tobytes())
    np.testing.assert_array_equal(load_npy(path), GOOD)


@pytest.mark.parametrize("saver", [np.savez, np.savez_compressed])
def test_valid_npz_round_trips(tmp_path: Path, saver) -> None:
    path = tmp_path / "a.npz"
    saver(path, features=GOOD, timestamps=np.arange(6.0), encoder=np.str_("thumb16"))
    got = load_npz(path)
    assert set(got) == {"features", "timestamps", "encoder"}
    np.testing.assert_array_equal(got["features"], GOOD)
    assert str(got["encoder"]) == "thumb16"
    assert set(load_npz(path, keys=["features", "absent"])) == {"features"}
    assert npz_names(path) == ["encoder", "features", "timestamps"]


# ----------------------------------------------------------------------------- bad .npy


def test_header_claiming_terabytes_is_refused_without_allocating(tmp_path: Path) -> None:
    path = tmp_path / "huge.npy"
    path.write_bytes(header_bytes((10**12, 1280)) + b"\0" * 4096)
    tracemalloc.start()
    try:
        one_line_error(UnsupportedFileError, lambda: load_npy(path), "huge.npy", "truncated")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_truncated_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.npy"
    path.write_bytes(npy_bytes(GOOD)[:-7])
    one_line_error(UnsupportedFileError, lambda: load_npy(path), "cut.npy", "truncated")


def test_truncated_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.npy"
    path.write_bytes(npy_bytes(GOOD)[:30])
    one_line_error(UnsupportedFileError, lambda: load_npy(path), "cut.npy")


@pytest.mark.parametrize(
    ("old", "new"),
    [(b"'descr'", b"'dexcr'"), (b"<f4", b"<q9"), (b"(6, 4)", b"(6, x)"), (b"{", b"[")],
    ids=["key", "dtype", "shape", "dict"],
)
def test_corrupted_header_bytes_are_refused(tmp_path: Path, old: bytes, new: bytes) -> None:
    data = npy_bytes(GOOD)
    assert old in data
    path = tmp_path / "bad header.npy"
    path.write_bytes(data.replace(old, new, 1))
    one_line_error(UnsupportedFileError, lambda: load_npy(path), "bad header.npy")


def test_negative_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "neg.npy"
    path.write_bytes(npy_bytes(GOOD).replace(b"(6, 4)", b"(-6, 4)", 1))
    one_line_error(UnsupportedFileError, lambda: load_npy(path), "neg.npy", "negative")


def test_object_array_is_never_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "obj.npy"
    path.write_bytes(npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True))
    one_line_error(UnsupportedFileError, lambda: load_npy(path), "obj.npy", "objects")


def test_structured_dtype_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rec.npy"
    np.save(path, np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))
    one_line_error(UnsupportedFileError, lambda: load_npy(path), "rec.npy", "not supported")


def test_unknown_format_version_is_refused(tmp_path: Path) -> None:
    data = bytearray(npy_bytes(GOOD))
    data[6] = 9
    path = tmp_path / "v9.npy"
    path.write_bytes(bytes(data))
    one_line_error(UnsupportedFileError, lambda: load_npy(path), "v9.npy", "version 9.0")


def test_not_a_numpy_file(tmp_path: Path) -> None:
    path = tmp_path / "text.npy"
    path.write_text("hello, this is text\n")
    one_line_error(UnsupportedFileError, lambda: load_npy(path), "text.npy", "signature")


def test_path_problems(tmp_path: Path) -> None:
    one_line_error(MissingFileError, lambda: load_npy(tmp_path / "nope.npy"), "no such file")
    one_line_error(NotAFileError, lambda: load_npy(tmp_path), "folder")
    (tmp_path / "empty.npy").write_bytes(b"")
    one_line_error(EmptyFileError, lambda: load_npy(tmp_path / "empty.npy"), "empty")
    one_line_error(EmptyFileError, lambda: load_npz(tmp_path / "empty.npy"), "empty")


# ----------------------------------------------------------------------------- bad .npz


def test_npz_with_object_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, features=np.array([None, {"x": 1}], dtype=object))
    one_line_error(UnsupportedFileError, lambda: load_npz(path), "obj.npz", "'features'", "objects")


def test_npz_member_claiming_terabytes_is_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "huge.npz", {"features.npy": header_bytes((10**12, 1280)) + b"0"})
    one_line_error(UnsupportedFileError, lambda: load_npz(path), "huge.npz", "truncated")


def test_npz_directory_recording_a_false_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lie.npz"
    np.savez_compressed(path, features=np.zeros((1000, 100), np.float32))
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 4_000_000_000)  # uncompressed size
    path.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        one_line_error(UnsupportedFileError, lambda: load_npz(path), "lie.npz", "damaged")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_npz_member_with_damaged_data(tmp_path: Path) -> None:
    path = tmp_path / "crc.npz"
    np.savez(path, features=GOOD)
    data = bytearray(path.read_bytes())
    data[data.find(b"\x93NUMPY") + 140] ^= 0xFF  # inside the array data: CRC mismatch
    path.write_bytes(bytes(data))
    one_line_error(UnsupportedFileError, lambda: load_npz(path), "crc.npz")


def test_npz_member_truncated_inside_the_archive(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "short.npz", {"features.npy": npy_bytes(GOOD)[:-10]})
    one_line_error(UnsupportedFileError, lambda: load_npz(path), "short.npz", "truncated")


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_archive(tmp_path: Path, cut: float) -> None:
    full = tmp_path / "full.npz"
    np.savez_compressed(full, features=np.random.default_rng(0).normal(size=(200, 16)))
    data = full.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * cut)])
    one_line_error(UnsupportedFileError, lambda: load_npz(path), "cut.npz")


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "plain.npz"
    path.write_bytes(npy_bytes(GOOD))
    one_line_error(UnsupportedFileError, lambda: load_npz(path), "plain.npz", ".npz archive")


def test_zip_member_that_is_not_an_array(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "text.npz", {"features.npy": b"just some text"})
    one_line_error(UnsupportedFileError, lambda: load_npz(path), "text.npz", "'features'")


# ----------------------------------------------------------------------------- the loaders


def test_load_sequence_reads_valid_files_and_refuses_bad_ones(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", GOOD)
    assert load_sequence(tmp_path / "a.npy").features.shape == (6, 4)
    np.savez(
        tmp_path / "a.npz",
        features=GOOD,
        timestamps=np.arange(6) * 0.5,
        frame_indices=np.arange(6),
        encoder=np.str_("thumb16"),
        encoder_version=np.str_("v1"),
    )
    seq = load_sequence(tmp_path / "a.npz")
    assert (seq.encoder, seq.encoder_version) == ("thumb16", "v1")
    assert seq.timestamps[2] == 1.0
    np.savez(tmp_path / "b.npz", other=GOOD)
    one_line_error(ShapeError.__base__, lambda: load_sequence(tmp_path / "b.npz"), "other")
    np.savez(tmp_path / "c.npz", features=GOOD, timestamps=np.array(list("abcdef")))
    one_line_error(ShapeError, lambda: load_sequence(tmp_path / "c.npz"), "c.npz", "numbers")
    np.savez(tmp_path / "d.npz", features=GOOD, encoder=np.arange(3))
    one_line_error(ShapeError, lambda: load_sequence(tmp_path / "d.npz"), "d.npz", "string")
    (tmp_path / "e.npy").write_bytes(header_bytes((10**12, 1280)))
    one_line_error(UnsupportedFileError, lambda: load_sequence(tmp_path / "e.npy"), "e.npy")


def test_other_loaders_refuse_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "obj.npz"
    np.savez(bad, mean=np.array([object()], dtype=object))
    for fn in (Projection.load, load_pose_track, load_penn):
        one_line_error(UnsupportedFileError, lambda fn=fn: fn(bad), "obj.npz")
    other = tmp_path / "other.npz"
    np.savez(other, unrelated=GOOD)
    for fn in (Projection.load, load_pose_track, load_penn):
        one_line_error(UnsupportedFileError, lambda fn=fn: fn(other), "other.npz")


def test_projection_round_trip_and_text_members(tmp_path: Path) -> None:
    proj = Projection.fit(np.random.default_rng(0).normal(size=(20, 8)), dim=3)
    proj.save(tmp_path / "p.npz")
    back = Projection.load(tmp_path / "p.npz")
    np.testing.assert_array_equal(back.components, proj.components)
    np.savez(tmp_path / "t.npz", mean=np.array(["a"]), components=np.zeros((1, 1)), explained=1.0)
    one_line_error(UnsupportedFileError, lambda: Projection.load(tmp_path / "t.npz"), "t.npz")
