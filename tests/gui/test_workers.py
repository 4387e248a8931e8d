"""The generic worker: results, progress, cancel, failures and shutdown on real threads."""

from __future__ import annotations

import itertools
import os
import threading
import time

import pytest
from PySide6 import QtCore

from avr_gui.core.errors import VideoError
from avr_gui.core.jobs import check
from avr_gui.gui.workers import JobRunner


def test_result_and_progress_arrive_on_the_gui_thread(qtbot, qapp):
    runner = JobRunner()
    seen = {}

    def job(progress, cancel):
        seen["worker"] = threading.get_ident()
        for k in range(3):
            progress(k + 1, 3, f"step {k}")
            time.sleep(0.06)  # reports closer together than 50 ms are coalesced
        return 42

    h = runner.submit("t", job)
    reports = []
    h.progress.connect(lambda d, t, m: reports.append((d, t, m, QtCore.QThread.currentThread())))
    with qtbot.waitSignal(h.finished, timeout=5000) as sig:
        pass
    assert sig.args == [42]
    assert seen["worker"] != threading.get_ident()
    assert reports and reports[-1][:3] == (3, 3, "step 2")
    assert all(r[3] is qapp.thread() for r in reports)
    assert runner.wait(1000)


def test_cancel_stops_a_job_between_blocks(qtbot):
    runner = JobRunner()
    started = threading.Event()
    blocks = []

    def job(progress, cancel):
        started.set()
        for k in range(200):
            check(cancel)
            blocks.append(k)
            time.sleep(0.01)
        return "finished"

    h = runner.submit("long", job)
    started.wait(2)
    with qtbot.waitSignal(h.cancelled, timeout=5000):
        h.cancel()
    assert len(blocks) < 200 and h.done
    qtbot.waitUntil(lambda: not runner.active, timeout=2000)


def test_failure_carries_the_typed_error(qtbot):
    runner = JobRunner()

    def job(progress, cancel):
        raise VideoError("clip.mp4: no decodable frames")

    h = runner.submit("bad", job)
    with qtbot.waitSignal(h.failed, timeout=5000) as sig:
        pass
    exc, tb = sig.args
    assert isinstance(exc, VideoError) and "no decodable frames" in str(exc)
    assert "VideoError" in tb


def test_shutdown_cancels_and_waits(qtbot):
    runner = JobRunner()
    saw_cancel = threading.Event()

    def job(progress, cancel):
        for _ in range(1000):
            if cancel.cancelled:
                saw_cancel.set()
            check(cancel)
            time.sleep(0.01)

    runner.submit("a", job)
    runner.submit("b", job, lane="library")
    time.sleep(0.05)
    t0 = time.monotonic()
    assert runner.shutdown(5000)
    # Cancelled jobs stop at their next check (10 ms apart); 3 s allows a busy CI host.
    assert time.monotonic() - t0 < 3.0
    assert saw_cancel.is_set()
    # After shutdown new work is refused (cancelled before it starts).
    h = runner.submit("late", lambda p, c: 1)
    with qtbot.waitSignal(h.cancelled, timeout=2000):
        pass


def test_a_lane_runs_its_jobs_in_order_on_one_thread(qtbot):
    runner = JobRunner()
    log: list[tuple[int, float, float]] = []

    def job(progress, cancel):
        t0 = time.monotonic()
        time.sleep(0.03)
        log.append((threading.get_ident(), t0, time.monotonic()))

    handles = [runner.submit(f"j{k}", job, lane="library") for k in range(3)]
    qtbot.waitUntil(lambda: all(h.done for h in handles), timeout=5000)
    assert len({ident for ident, _, _ in log}) == 1
    for (_, _, end), (_, start, _) in itertools.pairwise(log):
        assert start >= end


@pytest.mark.parametrize("lane", ["default", "library"])
def test_unexpected_exceptions_do_not_kill_the_pool(qtbot, lane):
    runner = JobRunner()
    bad = runner.submit("bug", lambda p, c: 1 / 0, lane=lane)
    good = runner.submit("ok", lambda p, c: "fine", lane=lane)
    with qtbot.waitSignal(good.finished, timeout=5000) as sig:
        pass
    assert sig.args == ["fine"]
    qtbot.waitUntil(lambda: bad.done, timeout=5000)


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread nice is Linux only")
def test_jobs_run_below_the_gui_threads_priority(qtbot):
    from avr_gui.gui.workers import WORKER_NICE

    runner = JobRunner()
    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def job(progress, cancel):
        me = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        # Threads a job starts (decoders, numba/torch pools) inherit its priority.
        child = {}
        t = threading.Thread(
            target=lambda: child.update(
                nice=os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            )
        )
        t.start()
        t.join()
        return me, child["nice"]

    h = runner.submit("nice", job, lane="lib")
    with qtbot.waitSignal(h.finished, timeout=5000) as sig:
        pass
    me, child = sig.args[0]
    assert me == max(gui, WORKER_NICE) and child == me
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == gui  # untouched
    assert runner.wait(1000)
