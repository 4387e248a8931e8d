"""The Ray engine indexes a library exactly as the local engine does, and resumes.

One local Ray cluster (2 CPUs, loopback, no dashboard) serves the whole module; the
killed driver runs in a subprocess connected to it, the killed workers are its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Ray reads this when imported: "0" keeps the test cluster on the loopback address.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")
# Ray ships psutil among its own third-party files (on the path once Ray is imported).
psutil = pytest.importorskip("psutil")

import numpy as np  # noqa: E402
from test_library_index import catalog_rows, make_clip  # noqa: E402

from avr_gui.core.features import get_encoder  # noqa: E402
from avr_gui.core.jobs import Cancelled, CancelToken  # noqa: E402
from avr_gui.core.library import Library  # noqa: E402
from avr_gui.core.library.store import FeatureStore  # noqa: E402
from avr_gui.core.scale.ray_engine import index_with_ray  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    # Ray Data warns about its own deprecated settings when it copies its context.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"),
]

THUMB = get_encoder("thumb16")

# The killed driver: indexes with one file per streamed batch and stops for good (until
# killed) once the first file is committed, after saying so in the marker file.
_DRIVER = """
import os, sys, time
from pathlib import Path
from avr_gui.core.features import get_encoder
from avr_gui.core.library import Library
from avr_gui.core.scale.ray_engine import index_with_ray

index, address, marker = sys.argv[1:4]

def progress(done, total, message):
    if total and done >= 1:
        Path(marker).write_text(str(done))
        time.sleep(600)

with Library.open(index, encoder=get_encoder("thumb16")) as lib:
    index_with_ray(lib, address=address, batch_size=1, progress=progress)
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The module's local Ray cluster; yields its address."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good clips (one long enough for two encoder batches), a copy, and bad files."""
    d = tmp_path_factory.mktemp("ray") / "vidéos"
    d.mkdir()
    make_clip(d / "a clip ü.mp4", 0, seed=1)
    make_clip(d / "b.mp4", 0, n=420, seed=2)  # 280 samples: two thumb16 batches
    sub = d / "sub"
    sub.mkdir()
    make_clip(sub / "c.mp4", 1, seed=3)
    make_clip(sub / "d.mp4", 1, seed=4)
    shutil.copy2(d / "a clip ü.mp4", sub / "copy.mp4")  # same content, pending together
    (d / "fake.mp4").write_text("plain text with a video suffix")
    (d / "empty.mp4").write_bytes(b"")
    good = (d / "b.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(good[: len(good) // 3])
    return d


@pytest.fixture(scope="module")
def reference(folder: Path) -> Path:
    """The folder indexed by the local engine."""
    index = folder.parent / "local"
    with Library.open(index, encoder=THUMB) as lib:
        lib.add_folder(folder)
        lib.index()
    return index


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten clips of two encoder batches each: work that outlasts a worker's kill."""
    d = tmp_path_factory.mktemp("ray-clips") / "clips"
    d.mkdir()
    for i in range(10):
        make_clip(d / f"c{i}.mp4", i % 2, n=420, seed=10 + i)
    return d


@pytest.fixture(scope="module")
def clips_reference(clips: Path) -> Path:
    """:func:`clips` indexed by the local engine."""
    index = clips.parent / "local"
    with Library.open(index, encoder=THUMB) as lib:
        lib.add_folder(clips)
        lib.index()
    return index


def ray_workers(stage: str) -> list[psutil.Process]:
    """Worker processes of the module's cluster whose title names ``stage``.

    Only descendants of this process (the cluster's raylet is its child): a Ray that
    someone else runs on this machine is never touched. Ray titles a worker
    ``ray::<what it runs>`` and puts it back to ``ray::IDLE`` between tasks.
    """
    found = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):  # it may end while we look
            title = " ".join(proc.cmdline())
            if title.startswith("ray::") and stage in title:
                found.append(proc)
    return found


def assert_same_library(index: Path, reference: Path) -> None:
    """Same catalog rows and bit-equal stored features; no orphaned feature files."""
    assert catalog_rows(index) == catalog_rows(reference)
    with Library.open(index, readonly=True) as a, Library.open(reference, readonly=True) as b:
        for entry in b.entries():
            if entry.status != "indexed":
                continue
            fa, fb = a.features(entry.path), b.features(entry.path)
            np.testing.assert_array_equal(fa.features, fb.features)
            np.testing.assert_array_equal(fa.timestamps, fb.timestamps)
            np.testing.assert_array_equal(fa.frame_indices, fb.frame_indices)
    keys = {r[8] for r in catalog_rows(index) if r[8]}
    assert FeatureStore(index / "features", create=False).keys() == keys


def test_same_catalog_and_features_as_the_local_engine(
    cluster: str, folder: Path, reference: Path
) -> None:
    index = folder.parent / "ray-equal"
    seen: list[tuple[int, int, str]] = []
    with Library.open(index, encoder=THUMB) as lib:
        lib.add_folder(folder)
        s = index_with_ray(lib, workers=2, progress=lambda d, t, m: seen.append((d, t, m)))
        st = lib.status()
        again = index_with_ray(lib)  # nothing to do: no cluster work at all
    assert (s.videos, s.indexed, s.failed, s.pending, s.encoded) == (8, 5, 3, 0, 4)
    reasons = {Path(p).name: r for p, r in st.failures}
    assert set(reasons) == {"fake.mp4", "empty.mp4", "truncated.mp4"}
    assert all(reasons.values())
    assert_same_library(index, reference)
    files = [m for d, t, m in seen if t == 8 and m != "done"]
    assert sorted(files) == sorted(str(p) for p in folder.rglob("*.mp4"))
    assert (again.unchanged, again.encoded) == (8, 0)


def test_a_killed_driver_resumes_to_the_local_engines_library(
    cluster: str, folder: Path, reference: Path, tmp_path: Path
) -> None:
    index = tmp_path / "killed"
    with Library.open(index, encoder=THUMB) as lib:
        lib.add_folder(folder)
    marker = tmp_path / "committed"
    proc = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(index), cluster, str(marker)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"the driver ended early: {proc.stderr.read().decode()[-2000:]}")
            assert time.monotonic() < deadline, "no file committed within 120 s"
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        if proc.stderr is not None:
            proc.stderr.close()
    statuses = [r[6] for r in catalog_rows(index)]
    assert statuses.count("pending") > 0 and statuses.count("indexed") >= 1
    # Either engine completes it.
    shutil.copytree(index, tmp_path / "local-resume")
    with Library.open(tmp_path / "local-resume", encoder=THUMB) as lib:
        lib.index()
    assert_same_library(tmp_path / "local-resume", reference)
    # A cancelled run keeps what it committed; the next one finishes.
    token = CancelToken()

    def cancel_after_one(done: int, total: int, message: str) -> None:
        if total and done >= 1:
            token.cancel()

    indexed = statuses.count("indexed")
    with Library.open(index, encoder=THUMB) as lib, pytest.raises(Cancelled):
        index_with_ray(lib, batch_size=1, progress=cancel_after_one, cancel=token)
    assert [r[6] for r in catalog_rows(index)].count("indexed") > indexed
    with Library.open(index, encoder=THUMB) as lib:
        s = index_with_ray(lib)
    assert s.pending == 0 and s.encoded < 3  # finished files were not encoded again
    assert_same_library(index, reference)


@pytest.mark.parametrize("stage", ["EncodeActor", "decode_batch"])
def test_a_killed_worker_is_replaced_and_the_run_completes(
    cluster: str, clips: Path, clips_reference: Path, tmp_path: Path, stage: str
) -> None:
    """SIGKILL the encoder actor's process, or a decode task's, while the run is going.

    Ray Data restarts its actors and retries its tasks (with no limit by default), and
    the driver keeps the first copy of each part a retried task sends again: the run
    ends by itself with the local engine's library, no error and nothing left pending.
    """
    # An actor process of an earlier run may still be on its way out: never ours.
    earlier = {p.pid for p in ray_workers(stage)}
    committed = threading.Event()  # a first file is in the catalog
    killed: list[int] = []
    kill_done = threading.Event()
    stop = threading.Event()
    restarted: list[int] = []  # the encoder actor's new process

    def killer() -> None:
        # The encoder actor lives for the whole run: killed once a file is committed, so
        # surely mid-run. A decode task is killed as soon as one runs.
        deadline = time.monotonic() + 60
        while not stop.is_set() and not killed and time.monotonic() < deadline:
            if stage == "decode_batch" or committed.is_set():
                for proc in ray_workers(stage):
                    if proc.pid in earlier:
                        continue
                    with contextlib.suppress(psutil.Error):  # ended meanwhile: the next one
                        proc.send_signal(signal.SIGKILL)
                        proc.wait(30)  # gone before the driver goes on
                        killed.append(proc.pid)
                        break
            time.sleep(0.01)
        kill_done.set()

    def progress(done: int, total: int, message: str) -> None:
        if not total or message == "done" or committed.is_set():
            return  # scanning (0 of 0), the final report, or after the first file
        committed.set()
        # Holds the driver until the worker is dead: the run cannot end before the kill.
        assert kill_done.wait(60)
        deadline = time.monotonic() + 60
        while stage == "EncodeActor" and killed and not restarted:
            # Ray restarts the actor at once (in a new process) for the files still due.
            restarted.extend(p.pid for p in ray_workers(stage) if p.pid not in earlier)
            assert time.monotonic() < deadline, "the encoder actor was not restarted"
            time.sleep(0.05)

    index = tmp_path / "killed-worker"
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        with Library.open(index, encoder=THUMB) as lib:
            lib.add_folder(clips)
            s = index_with_ray(lib, batch_size=1, progress=progress)
    finally:
        stop.set()
        thread.join(30)
    assert len(killed) == 1, f"no {stage} worker was seen to kill"
    assert killed[0] not in restarted
    assert bool(restarted) == (stage == "EncodeActor")
    assert (s.videos, s.indexed, s.failed, s.pending, s.encoded) == (10, 10, 0, 0, 10)
    assert_same_library(index, clips_reference)
