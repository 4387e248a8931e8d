"""prefetch() and sample_frames(prefetch=N): run-ahead, order, errors, and no leaked threads."""

from __future__ import annotations

import gc
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import read_code, render_frames, write_video_av
from avr_gui.core.errors import InputError
from avr_gui.core.jobs import Cancelled, CancelToken
from avr_gui.core.video import prefetch, sample_frames
from avr_gui.core.video.prefetch import THREAD_NAME


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def assert_no_prefetch_thread() -> None:
    # The consumer joins the thread before returning: no waiting should be needed.
    assert prefetch_threads() == []


def wait_for(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


class Source:
    """A generator source that records what the producer thread did."""

    def __init__(self, n: int | None = None, fail_at: int | None = None, delay: float = 0.0):
        self.n, self.fail_at, self.delay = n, fail_at, delay
        self.produced = 0
        self.closed_on: str | None = None

    def __iter__(self) -> Iterator[int]:
        try:
            for i in itertools.count() if self.n is None else range(self.n):
                if i == self.fail_at:
                    raise RuntimeError(f"source failed at {i}")
                if self.delay:
                    time.sleep(self.delay)
                self.produced += 1
                yield i
        finally:
            self.closed_on = threading.current_thread().name


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prefetch clip") / "clip.mp4"
    write_video_av(path, render_frames(0, np.linspace(0, 1, 60), (160, 96), code=True), 30.0)
    return path


def test_same_items_in_order() -> None:
    assert list(prefetch(range(100), depth=3)) == list(range(100))
    assert list(prefetch([], depth=1)) == []
    assert_no_prefetch_thread()


def test_runs_ahead_but_stays_bounded() -> None:
    depth = 4
    src = Source()  # endless
    it = iter(prefetch(src, depth=depth))
    assert next(it) == 0
    # Without the consumer asking, the producer fills the queue and one more item waits
    # to be put: depth + 2 produced, never more.
    assert wait_for(lambda: src.produced == depth + 2)
    time.sleep(0.1)
    assert src.produced == depth + 2
    assert [next(it) for _ in range(3)] == [1, 2, 3]
    it.close()
    assert_no_prefetch_thread()
    assert src.closed_on == THREAD_NAME  # closed on the thread that ran it


def test_overlaps_producer_and_consumer() -> None:
    # Both sides sleep (no CPU), so a busy host barely changes the times: overlapped the
    # run takes about half the serial time; 0.85 leaves a wide margin for scheduling.
    n, delay = 15, 0.04
    t0 = time.perf_counter()
    for _ in prefetch(Source(n, delay=delay), depth=4):
        time.sleep(delay)  # the consumer's own work
    elapsed = time.perf_counter() - t0
    serial = 2 * n * delay
    assert elapsed < 0.85 * serial, f"{elapsed:.3f} s, serial would be {serial:.3f} s"
    assert_no_prefetch_thread()


def test_exception_reaches_the_consumer_in_sequence() -> None:
    src = Source(10, fail_at=3)
    got = []
    with pytest.raises(RuntimeError, match="source failed at 3"):
        for item in prefetch(src, depth=8):
            got.append(item)
    assert got == [0, 1, 2]
    assert_no_prefetch_thread()
    assert src.closed_on == THREAD_NAME


def test_early_break_stops_the_thread() -> None:
    src = Source()
    for item in prefetch(src, depth=2):
        if item == 5:
            break
    assert_no_prefetch_thread()
    assert src.closed_on == THREAD_NAME


def test_consumer_exception_and_abandonment_stop_the_thread() -> None:
    src = Source()
    with pytest.raises(KeyError):
        for _ in prefetch(src, depth=2):
            raise KeyError("consumer failed")
    assert_no_prefetch_thread()

    src = Source()
    it = prefetch(src, depth=2)
    next(it)
    del it  # abandoned without close(): collected, which closes it
    gc.collect()
    assert_no_prefetch_thread()
    assert src.closed_on == THREAD_NAME


def test_bad_depth() -> None:
    for depth in (0, -1, 1.5, True):
        with pytest.raises(InputError):
            prefetch([1], depth=depth)  # type: ignore[arg-type]


def test_sample_frames_prefetch_matches_and_runs_on_a_thread(clip: Path) -> None:
    plain = [(f.index, f.time) for f in sample_frames(clip, None)]
    seen_threads = []
    ahead = []
    for f in sample_frames(clip, None, prefetch=4):
        seen_threads.append(len(prefetch_threads()))
        ahead.append((f.index, f.time))
        assert read_code(f.image) == f.index
    assert ahead == plain
    assert seen_threads[0] == 1
    assert_no_prefetch_thread()


def test_sample_frames_prefetch_early_stop(clip: Path) -> None:
    for f in sample_frames(clip, None, prefetch=2):
        if f.index == 3:
            break
    assert_no_prefetch_thread()


def test_sample_frames_prefetch_cancel(clip: Path) -> None:
    token = CancelToken()
    it = sample_frames(clip, None, prefetch=3, cancel=token)
    assert next(it).index == 0
    assert wait_for(lambda: len(prefetch_threads()) == 1)
    token.cancel()
    with pytest.raises(Cancelled):
        for _ in it:
            pass
    assert_no_prefetch_thread()


def test_sample_frames_prefetch_propagates_open_errors(tmp_path: Path) -> None:
    bad = tmp_path / "not a video.mp4"
    bad.write_text("hello")
    with pytest.raises(InputError, match="not a video"):
        list(sample_frames(bad, prefetch=2))
    assert_no_prefetch_thread()
