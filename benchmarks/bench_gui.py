"""GUI responsiveness: synced 720p playback on time, and GUI-thread stalls under load.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py [--backend thumb16]
        [--seconds 10] [--json out/bench_gui.json]

1. **Playback**: two generated 1280x720 H.264 clips at 30 fps (query 10 s, match 12.5 s),
   played side by side for ``--seconds`` of wall time: once in the player alone (the
   match re-timed by a linear map), once in the real main window after a query (re-timed
   by the found path, the alignment cursor following). Reports frames shown on time
   (decoded before they were due) vs late (shown after their due time, or skipped),
   both sides summed.
2. **Stalls**: a ``QTimer`` heartbeat every 10 ms on the GUI thread; the longest gap
   between two beats minus 10 ms is the longest stall, with the GUI thread's own CPU
   time in that gap. Measured with the app idle (control: the machine's own load), while
   the real main window indexes a generated library (``--backend``; 12 small clips and
   the two 720p clips) and while it runs a query until the best match is on screen.
3. **Grid**: the multi-sync grid of 4 tiles of 1280x720 (the query and 3 matches, each
   re-timed by its own time map), 1400x800, played for ``--seconds``: generated clips,
   and the real 720p clips of ``../shared/data/real`` when that folder exists. The share
   of frames on time has the player's definition, summed over the tiles
   (``grid_on_time_share``; goal >= 0.90 on 2 cores). ``--grid-only`` runs this alone.
4. **Start-up** (``--startup N``): N fresh processes, each timing ``create_app`` (which
   loads the compiled kernels before any window exists) and the main window until its
   library is open.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtWidgets

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.gui import settings as S
from avr_gui.gui.app import create_app
from avr_gui.gui.player import SyncedPlayer, TimeMap

BEAT_MS = 10


def write_h264(path: Path, action: int, n: int, style: ClipStyle, fps: int = 30) -> None:
    """Stream a generated 1280x720 clip to H.264 in chunks (the whole clip would be GBs)."""
    import av

    progress = speed_warp(n, (1.0,))
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps), options={"preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for start in range(0, n, 30):
            frames = render_frames(action, progress[start : start + 30], (1280, 720), style)
            for k, img in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(img, format="bgr24")
                frame.pts = start + k
                out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    tmp.replace(path)


class Heartbeat(QtCore.QObject):
    """Longest gap between ticks of a 10 ms GUI-thread timer."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(BEAT_MS)
        self.timer.timeout.connect(self._beat)
        self.reset()

    def reset(self) -> None:
        self.last = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.gaps: list[float] = []
        self.cpu: list[float] = []

    def _beat(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.gaps.append(now - self.last)
        # CPU the GUI thread itself used in the gap: the rest of a long gap was spent
        # waiting (for the GIL held by a worker, or for a core on a loaded machine).
        self.cpu.append(cpu - self.last_cpu)
        self.last, self.last_cpu = now, cpu

    def summary(self) -> dict:
        g = np.array(self.gaps) * 1000
        if not len(g):
            return {"beats": 0}
        k = int(np.argmax(g))
        return {
            "beats": len(g),
            "longest_stall_ms": float(max(g[k] - BEAT_MS, 0.0)),
            "gui_thread_cpu_in_longest_ms": float(self.cpu[k] * 1000),
            "p99_gap_ms": float(np.percentile(g, 99)),
        }


def run_until(app, cond, timeout: float) -> None:
    t0 = time.monotonic()
    while not cond():
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
        time.sleep(0.001)
        if time.monotonic() - t0 > timeout:
            raise SystemExit("timed out")


def pair_720p(work: Path) -> tuple[Path, Path, float]:
    """The generated 720p query and match (made once); seconds it took to make them."""
    q, m = work / "query_720p.mp4", work / "match_720p.mp4"
    t0 = time.perf_counter()
    if not q.exists():
        write_h264(q, 0, 300, ClipStyle(seed=1))
        write_h264(m, 0, 375, ClipStyle((90, 240, 120), (60, 45, 70), seed=2))
    return q, m, time.perf_counter() - t0


def bench_playback(app, work: Path, seconds: float) -> dict:
    q, m, made = pair_720p(work)
    player = SyncedPlayer()
    player.resize(1400, 800)
    player.show()
    tmap = TimeMap(np.array([0.0, 10.0]), np.array([0.0, 12.5]))
    player.load(str(q), str(m), tmap)
    run_until(app, lambda: player.ready and None not in player.shown_indices(), 60)
    result = play(app, player, seconds)
    player.close_sources()
    player.deleteLater()
    return {
        "clips": "2 x 1280x720 H.264 30 fps (query 10 s, match 12.5 s re-timed 0.8x)",
        "window": "player alone, 1400x800, side by side",
        **result,
        "clip_generation_s": made,
    }


def play(app, player: SyncedPlayer, seconds: float) -> dict:
    """Play ``seconds`` of wall time; count frames on time and late."""
    player.seek(player.start)
    player.stats.reset()
    decoded0 = player.query.source.decoded + player.match.source.decoded
    player.play()
    t0 = time.perf_counter()
    run_until(app, lambda: time.perf_counter() - t0 >= seconds, seconds + 30)
    player.pause()
    st = player.stats
    decoded = player.query.source.decoded + player.match.source.decoded - decoded0
    canvas = f"{player.canvas.width()}x{player.canvas.height()}"
    return {"canvas": canvas, **on_time_figures(st, seconds, decoded)}


def on_time_figures(st: Any, seconds: float, decoded: int) -> dict:
    """Frames on time, late and skipped of one playback's stats (player or grid)."""
    late = np.array(st.late_ms) if st.late_ms else np.zeros(1)
    return {
        "seconds_played": seconds,
        "frames_due": st.on_time + st.late,
        "on_time": st.on_time,
        "late": st.late,
        "skipped": st.skipped,
        "on_time_share": st.on_time / max(1, st.on_time + st.late),
        "late_ms_median": float(np.median(late)),
        "late_ms_max": float(late.max()),
        "frames_decoded": decoded,
    }


REAL_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
#: Real 720p clips for the grid: the query first.
REAL_GRID = ("pushup.mp4", "pushup2.mp4", "pushup5.mp4", "juggling2.mp4")


def play_grid(app, specs, seconds: float) -> dict:
    """Play a grid of ``specs`` (query first) for ``seconds``; frames on time and late."""
    from avr_gui.gui.grid import GridWindow

    grid = GridWindow(specs[0], specs[1:])
    grid.resize(1400, 800)
    grid.show()
    run_until(app, lambda: grid.ready and None not in grid.shown_frames(), 60)
    grid.seek(grid.clock.clock.start)
    run_until(app, lambda: grid.shown_frames() == grid.expected_frames(), 30)
    grid.stats.reset()
    decoded0 = sum(t.source.decoded for t in grid.tiles)
    grid.play()
    t0 = time.perf_counter()
    run_until(app, lambda: time.perf_counter() - t0 >= seconds, seconds + 30)
    grid.pause()
    st = grid.stats
    decoded = sum(t.source.decoded for t in grid.tiles) - decoded0
    canvas = grid.tiles[0].canvas
    size = f"{canvas.width()}x{canvas.height()}"
    grid.close()
    grid.deleteLater()
    app.processEvents()
    return {"tile_canvas": size, **on_time_figures(st, seconds, decoded)}


def bench_grid(app, work: Path, seconds: float) -> dict:
    """The 4-tile grid of 720p clips: generated ones, and real ones when present."""
    from avr_gui.gui.grid import TileSpec

    q, m, made = pair_720p(work)
    paths = [q, m, work / "grid_a.mp4", work / "grid_b.mp4"]
    t0 = time.perf_counter()
    for k, p in enumerate(paths[2:]):
        write_h264(p, 0, 300, ClipStyle((60, 80, 230 - 100 * k), seed=3 + k, zoom=0.9))
    made += time.perf_counter() - t0
    maps = [
        TimeMap(np.array([0.0, 10.0]), np.array([0.0, 12.5])),
        TimeMap(np.array([0.0, 5.0, 10.0]), np.array([0.0, 3.0, 9.9])),
        TimeMap(np.array([0.0, 10.0]), np.array([0.5, 9.9])),
    ]
    specs = [TileSpec("query", str(paths[0]))]
    specs += [TileSpec(p.stem, str(p), m) for p, m in zip(paths[1:], maps, strict=True)]
    out = {
        "clips": "4 x 1280x720 H.264 30 fps (10-12.5 s), 3 re-timed by their own maps",
        "window": "grid alone, 1400x800, 2x2",
        "generated": play_grid(app, specs, seconds),
        "clip_generation_s": made,
    }
    real = [REAL_DIR / n for n in REAL_GRID]
    if all(p.exists() for p in real):
        from avr_gui.core.video import probe

        d = [probe(p).duration_s for p in real]
        specs = [TileSpec(real[0].stem, str(real[0]))]
        specs += [
            TileSpec(p.stem, str(p), TimeMap(np.array([0.0, d[0]]), np.array([0.0, dk])))
            for p, dk in zip(real[1:], d[1:], strict=True)
        ]
        out["real"] = {"clips": list(REAL_GRID), **play_grid(app, specs, seconds)}
    out["grid_on_time_share"] = out["generated"]["on_time_share"]
    return out


def bench_stalls(
    app, work: Path, backend: str, clips_720p: tuple[Path, Path] | None, seconds: float
) -> dict:
    from avr_gui.gui.main_window import MainWindow

    lib = work / "library"
    lib.mkdir()
    for k in range(12):
        style = ClipStyle(seed=10 + k, zoom=0.9 + 0.02 * k)
        frames = render_frames(
            k % 3, speed_warp(60 + 5 * k, (1.0, 0.7 + 0.1 * (k % 5))), (480, 270), style
        )
        write_video(lib / f"clip_{k:02d}.mp4", frames, 24.0)
    if clips_720p is not None:
        for c in clips_720p:
            (lib / c.name).symlink_to(c)
    win = MainWindow(
        index_dir=str(work / "index"),
        backend=backend,
        settings=S.open_settings(str(work / "s.ini")),
    )
    win.resize(1380, 860)
    win.show()
    run_until(app, lambda: win.library is not None, 120)
    beat = Heartbeat()
    beat.timer.start()
    # Control: the same heartbeat with the app idle shows what the machine's own load
    # (other processes on the 2 cores) does to a 10 ms timer.
    beat.reset()
    run_until(app, lambda: len(beat.gaps) >= 300, 60)
    idle = beat.summary()
    beat.reset()
    t0 = time.perf_counter()
    win.add_folder(str(lib))
    run_until(app, lambda: win.index_job is not None and win.index_job.done, 600)
    index_s = time.perf_counter() - t0
    indexing = beat.summary()
    beat.reset()
    t0 = time.perf_counter()
    query = lib / (clips_720p[0].name if clips_720p is not None else "clip_00.mp4")
    win.set_query(str(query))
    win.run_query(str(query), None)
    run_until(app, lambda: win.query_job is not None and win.query_job.done, 300)
    run_until(app, lambda: win.player.ready and None not in win.player.shown_indices(), 60)
    query_s = time.perf_counter() - t0
    querying = beat.summary()
    beat.timer.stop()
    app_playback = None
    if clips_720p is not None:
        # Playback inside the app: the match re-timed by the path the query found, the
        # alignment cursor following, side by side in the real window.
        rows = win.candidates.model.rows
        target = next(k for k, r in enumerate(rows) if r.path.endswith(clips_720p[1].name))
        win.candidates.select_view_row(
            win.candidates.proxy.mapFromSource(win.candidates.model.index(target, 0)).row()
        )
        run_until(app, lambda: win.match is rows[target].match, 10)
        run_until(app, lambda: win.player.ready and None not in win.player.shown_indices(), 60)
        app_playback = play(app, win.player, seconds)
    win.close()
    beat.deleteLater()
    win.deleteLater()
    app.processEvents()
    return {
        "app_playback_720p": app_playback,
        "backend": backend,
        "library": "12 generated clips, 480x270, 24 fps, 2.5-4.8 s",
        "idle_control": idle,
        "indexing": {"seconds": index_s, **indexing},
        "query_until_match_shown": {"seconds": query_s, **querying},
    }


_STARTUP = """
import json, os, sys, tempfile, time
t0 = time.perf_counter()
import avr_gui.gui.app as A
if not WARM:
    A.warm_up = lambda: 0.0
app = A.create_app([])
t1 = time.perf_counter()
from avr_gui.gui import settings as S
from avr_gui.gui.main_window import MainWindow
d = tempfile.mkdtemp(prefix="bench-start-")
win = MainWindow(index_dir=d + "/index", backend="thumb16", settings=S.open_settings(d + "/s.ini"))
win.show()
while win.library is None:
    app.processEvents()
    time.sleep(0.002)
print(json.dumps({"create_app_s": t1 - t0, "window_and_library_open_s": time.perf_counter() - t0}))
sys.stdout.flush()
os._exit(0)
"""


def bench_startup(runs: int) -> dict:
    """Seconds from a fresh interpreter to the app object, and to an open library.

    Alternates runs with and without the kernel warm-up (``create_app``) so the
    difference is measured side by side under the same machine load.
    """
    import subprocess

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    rows: dict[str, list[dict]] = {"with_warm_up": [], "without_warm_up": []}
    for _ in range(runs):
        for name, warm in (("with_warm_up", True), ("without_warm_up", False)):
            code = f"WARM = {warm}\n" + _STARTUP
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            rows[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {name: {k: [round(r[k], 3) for r in rs] for k in rs[0]} for name, rs in rows.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="thumb16")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--skip-playback", action="store_true")
    ap.add_argument("--startup", type=int, default=0, metavar="N", help="N start-up runs")
    ap.add_argument("--grid-only", action="store_true", help="only the multi-sync grid")
    args = ap.parse_args(argv)
    app = create_app([])
    out: dict = {
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "qpa": QtWidgets.QApplication.platformName(),
    }
    if args.startup:
        out["startup"] = bench_startup(args.startup)
        print(json.dumps(out["startup"], indent=1), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        work = Path(tmp)
        out["grid"] = bench_grid(app, work, args.seconds)
        out["grid_on_time_share"] = out["grid"]["grid_on_time_share"]
        print(json.dumps(out["grid"], indent=1), flush=True)
        if not args.grid_only:
            if not args.skip_playback:
                out["playback"] = bench_playback(app, work, args.seconds)
                print(json.dumps(out["playback"], indent=1), flush=True)
            clips = None
            if not args.skip_playback:
                clips = (work / "query_720p.mp4", work / "match_720p.mp4")
            out["stalls"] = bench_stalls(app, work, args.backend, clips, args.seconds)
            print(json.dumps(out["stalls"], indent=1), flush=True)
    out["load_average_at_end"] = os.getloadavg()
    print("load average", out["load_average_at_start"], "->", out["load_average_at_end"])
    if args.json:
        from avr_gui.core.atomic import write_text

        write_text(args.json, json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
