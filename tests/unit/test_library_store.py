"""Feature store, catalog, fingerprints and the clip index, each on its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.features import FeatureSequence
from avr_gui.core.library import LibraryCorruptError
from avr_gui.core.library import ann as ann_mod
from avr_gui.core.library.ann import ClipIndex, recall_vs_exact
from avr_gui.core.library.catalog import Catalog, Row
from avr_gui.core.library.scan import fingerprint, walk
from avr_gui.core.library.store import FeatureStore

KEY = "v" + "ab" * 16
KEEP, DROP, MISSING, BIG = ("v" + c * 32 for c in "0123")


def _seq(t: int = 17, d: int = 8) -> FeatureSequence:
    f = np.random.default_rng(t).standard_normal((t, d)).astype(np.float32)
    return FeatureSequence(f, np.arange(t) * 0.1 + 0.5, np.arange(t) * 3, "x")


def test_store_round_trip_memory_mapped(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path / "features")
    seq = _seq()
    store.write(KEY, seq)
    back = store.read(KEY, "clip.mp4", "enc", "1")
    assert back.features.dtype == np.float16 and not back.features.flags.writeable
    np.testing.assert_allclose(back.features, seq.features, rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(back.timestamps, seq.timestamps)
    np.testing.assert_array_equal(back.frame_indices, seq.frame_indices)
    assert (back.source, back.encoder, back.encoder_version) == ("clip.mp4", "enc", "1")
    assert store.keys() == {KEY}


def test_store_damage_and_garbage(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path / "f")
    store.write(KEEP, _seq())
    store.write(DROP, _seq(5))
    feat = tmp_path / "f" / KEEP[:2] / f"{KEEP}.f16.npy"
    (feat.parent / f".{KEEP}.f16.npy.tmp123.npy").write_bytes(b"half a write")
    assert store.collect_garbage({KEEP}) == 3  # two files of DROP + the leftover
    assert store.keys() == {KEEP}
    feat.write_bytes(feat.read_bytes()[:100])  # truncated
    with pytest.raises(LibraryCorruptError):
        store.read(KEEP)
    with pytest.raises(LibraryCorruptError):
        store.read(MISSING)
    with pytest.raises(Exception, match="float16"):
        store.write(
            BIG,
            FeatureSequence(
                np.full((2, 2), 1e6, np.float32), np.zeros(2), np.zeros(2, np.int64), "x"
            ),
        )


def test_catalog_transactions_roll_back(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "c.sqlite")
    row = Row("/v/a.mp4", "/v", "file", 10, 5, "fp", "pending")
    with cat.transaction() as tx:
        cat.put([row], tx)
    with pytest.raises(RuntimeError), cat.transaction() as tx:
        cat.delete(["/v/a.mp4"], tx)
        raise RuntimeError("killed mid-change")
    assert cat.get("/v/a.mp4") == row
    assert cat.counts() == {"indexed": 0, "failed": 0, "pending": 1}
    cat.close()
    db = sqlite3.connect(tmp_path / "c.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(LibraryCorruptError, match="schema 99"):
        Catalog(tmp_path / "c.sqlite")


def test_fingerprint_and_walk(tmp_path: Path) -> None:
    a = tmp_path / "a.mp4"
    a.write_bytes(bytes(range(256)) * 1000)
    b = tmp_path / "sub" / "b.MOV"
    b.parent.mkdir()
    b.write_bytes(a.read_bytes())
    assert fingerprint(a) == fingerprint(b)
    data = bytearray(a.read_bytes())
    data[-1] ^= 1  # a change in the last block
    b.write_bytes(bytes(data))
    assert fingerprint(a) != fingerprint(b)
    data[-1] ^= 1
    data[len(data) // 2] ^= 1  # a change in the middle, far from either end
    b.write_bytes(bytes(data))
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(a).startswith("b3:") and len(fingerprint(a)) == 3 + 64
    (tmp_path / "c.txt").write_text("x")
    (tmp_path / ".d.mp4").write_text("x")
    found = sorted(Path(s.path).name for s in walk(str(tmp_path)))
    assert found == ["a.mp4", "b.MOV"]
    assert list(walk(str(tmp_path / "missing"))) == []


def _vectors(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_index_matches_brute_force(tmp_path: Path) -> None:
    v = _vectors(500)
    q = _vectors(5, seed=1)
    index = ClipIndex.build(v)
    assert index.kind == "exact"
    sims, I = index.search(q, 10)  # noqa: E741
    assert np.all(np.diff(sims, axis=1) <= 1e-6)
    brute = np.argsort(-(q @ v.T), axis=1)[:, :10]
    np.testing.assert_array_equal(I, brute)
    index.save(tmp_path / "i.faiss")
    np.testing.assert_array_equal(ClipIndex.load(tmp_path / "i.faiss").search(q, 10)[1], I)
    (tmp_path / "bad.faiss").write_bytes(b"nonsense")
    with pytest.raises(LibraryCorruptError):
        ClipIndex.load(tmp_path / "bad.faiss")


def test_hnsw_chosen_past_the_limit_with_measured_recall(monkeypatch) -> None:
    monkeypatch.setattr(ann_mod, "EXACT_LIMIT", 1000)
    v = _vectors(3000)
    index = ClipIndex.build(v)
    assert index.kind == "hnsw"
    assert recall_vs_exact(index, v, v[:50], 20) >= 0.95
    assert ClipIndex.build(v[:1000]).kind == "exact"


def _write_npy(path: Path, header: dict, payload: bytes = b"") -> None:
    """A .npy file with a header of our choosing (what a damaged disk might leave)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(payload)


@pytest.mark.parametrize(
    "damage",
    ["garbled header", "terabytes claimed", "object dtype", "fortran order", "other dtype"],
)
def test_damaged_npy_files_are_one_line_corrupt_errors(tmp_path: Path, damage: str) -> None:
    store = FeatureStore(tmp_path / "f")
    store.write(KEY, _seq())
    feat = tmp_path / "f" / KEY[:2] / f"{KEY}.f16.npy"
    if damage == "garbled header":
        data = bytearray(feat.read_bytes())
        data[10:60] = b"{'descr': <f2', 'shape': (17,, 8)}".ljust(50, b"\xff")
        feat.write_bytes(bytes(data))
    elif damage == "terabytes claimed":
        _write_npy(feat, {"descr": "<f2", "fortran_order": False, "shape": (10**12, 1280)}, b"x")
    elif damage == "object dtype":
        _write_npy(feat, {"descr": "|O", "fortran_order": False, "shape": (17, 8)}, b"\0" * 64)
    elif damage == "fortran order":
        with open(feat, "wb") as fh:
            np.save(fh, np.asfortranarray(np.ones((17, 8), np.float16)))
    else:
        with open(feat, "wb") as fh:
            np.save(fh, np.ones((17, 8), np.float32))
    with pytest.raises(LibraryCorruptError) as err:
        store.read(KEY, "clip.mp4")
    message = str(err.value)
    assert "\n" not in message and len(message) < 400 and "clip.mp4" in message
    reason = store.verify(KEY)
    assert reason is not None and "\n" not in reason


def test_verify_is_none_for_intact_entries_and_names_the_damage(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path / "f")
    store.write(KEY, _seq())
    assert store.verify(KEY) is None
    assert store.shape(KEY) == (17, 8)
    assert store.verify(KEY, pose=True) == "the pose track is missing"
    times = tmp_path / "f" / KEY[:2] / f"{KEY}.time.npy"
    with open(times, "wb") as fh:
        np.save(fh, np.zeros((16, 2)))  # one frame short of the features
    assert "inconsistent" in (store.verify(KEY) or "")
    times.unlink()
    assert "missing" in (store.verify(KEY) or "")
    assert store.verify(MISSING) is not None


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "", "v" + "g" * 32, "V" + "a" * 32, "v" + "a" * 31, "x" * 33]
)
def test_keys_that_are_not_store_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = FeatureStore(tmp_path / "f")
    for call in (store.read, store.has, store.has_track, store.remove, store.read_track):
        with pytest.raises(LibraryCorruptError, match="feature key"):
            call(key)
    with pytest.raises(LibraryCorruptError, match="feature key"):
        store.write(key, _seq())
    assert store.verify(key) is not None
    assert list((tmp_path / "f").iterdir()) == []  # nothing written anywhere


def test_copy_entry_makes_a_second_key_of_the_same_files(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path / "f")
    store.write(KEY, _seq())
    store.copy_entry(KEY, KEEP)
    np.testing.assert_array_equal(store.read(KEEP).features, store.read(KEY).features)
    assert store.verify(KEEP) is None


@pytest.mark.parametrize("damage", ["truncated", "float32", "empty file", "missing"])
def test_a_damaged_times_file_reads_as_one_line_corrupt_error(tmp_path: Path, damage: str) -> None:
    # Times files are read whole (not mapped): every damage still gives the same error.
    store = FeatureStore(tmp_path / "f")
    store.write(KEY, _seq())
    times = tmp_path / "f" / KEY[:2] / f"{KEY}.time.npy"
    data = times.read_bytes()
    if damage == "truncated":
        times.write_bytes(data[:-5])
    elif damage == "float32":
        with open(times, "wb") as fh:
            np.save(fh, np.zeros((17, 2), np.float32))
    elif damage == "empty file":
        times.write_bytes(b"")
    else:
        times.unlink()
    with pytest.raises(LibraryCorruptError) as err:
        store.read(KEY, "clip.mp4")
    message = str(err.value)
    assert "\n" not in message and "clip.mp4" in message and "avr index" in message
