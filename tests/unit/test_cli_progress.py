"""The one progress printer of ``avr``: a bar on a terminal, plain lines in a log."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from avr_gui.cli.progress import PLAIN_INTERVAL_S, ProgressPrinter, format_duration


class _Stream(io.StringIO):
    """A text stream that says whether it is a terminal."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


class _Clock:
    """Seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _printer(tty: bool, **kwargs: object) -> tuple[ProgressPrinter, _Stream, _Clock]:
    stream, clock = _Stream(tty), _Clock()
    return ProgressPrinter(True, stream=stream, clock=clock, **kwargs), stream, clock  # type: ignore[arg-type]


def test_format_duration() -> None:
    assert format_duration(0) == "0:00"
    assert format_duration(59.6) == "1:00"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(-3) == "0:00"


def test_terminal_gets_a_bar_with_count_percentage_and_eta() -> None:
    report, stream, clock = _printer(tty=True)
    clock.now += 10.0
    report(25, 100, "indexing a.mp4")
    text = stream.getvalue()
    assert text.startswith("\r") and "\n" not in text
    assert "indexing a.mp4" in text and "25/100" in text and "25%" in text
    # 10 s for a quarter: 30 s left.
    assert "ETA 0:30" in text
    clock.now += 10.0
    report(50, 100, "indexing b.mp4")
    assert stream.getvalue().count("\r") == 2  # redrawn in place
    report.finish()
    assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1


def test_terminal_bar_is_not_redrawn_for_every_frame() -> None:
    report, stream, _clock = _printer(tty=True)
    for i in range(1, 50):
        report(i, 100, "encoding")  # the clock stands still
    assert stream.getvalue().count("\r") == 1
    report(100, 100, "encoding")  # the final state always shows
    assert stream.getvalue().count("\r") == 2 and "100/100" in stream.getvalue()


def test_terminal_bar_shortens_a_long_path_from_the_left() -> None:
    report, stream, _clock = _printer(tty=True)
    report(1, 2, "/very/long/folder/" * 10 + "clip name.mp4")
    assert "…" in stream.getvalue() and "clip name.mp4" in stream.getvalue()


def test_log_gets_one_plain_line_every_few_seconds_and_the_final_state() -> None:
    report, stream, clock = _printer(tty=False)
    total = 40
    for i in range(1, total + 1):
        clock.now += 0.5  # 20 s in all
        report(i, total, "indexing")
    report.finish()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    # One line per interval, then the final state (printed once, not again by finish).
    assert len(lines) == int(20 / PLAIN_INTERVAL_S)
    assert lines[0].startswith("indexing: 10/40 (25%)") and "ETA 0:15" in lines[0]
    assert lines[-1].startswith("indexing: 40/40 (100%)")


def test_log_gets_the_last_state_when_the_work_ends_short_of_the_total() -> None:
    report, stream, clock = _printer(tty=False)
    clock.now += PLAIN_INTERVAL_S
    report(1, 10, "encoding")
    clock.now += 1.0
    report(7, 10, "encoding")  # then the job stops (all that there was)
    report.finish()
    lines = stream.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "encoding: 1/10 (10%)",
        "encoding: 7/10 (70%)",
    ]


def test_a_short_run_leaves_a_log_silent() -> None:
    report, stream, clock = _printer(tty=False)
    for i in range(1, 11):
        clock.now += 0.1
        report(i, 10, "encoding")
    report.finish()
    assert stream.getvalue() == ""


def test_unknown_total_shows_the_count() -> None:
    report, stream, clock = _printer(tty=False)
    clock.now += PLAIN_INTERVAL_S
    report(12, 0, "decoding")
    assert stream.getvalue().startswith("decoding: 12, 0:05 elapsed")
    report, stream, clock = _printer(tty=True)
    report(12, 0, "decoding")
    assert "decoding 12" in stream.getvalue() and "%" not in stream.getvalue()


@pytest.mark.parametrize("tty", [True, False])
def test_disabled_printer_prints_nothing(tty: bool) -> None:
    stream, clock = _Stream(tty), _Clock()
    report = ProgressPrinter(False, stream=stream, clock=clock)
    clock.now += 60
    report(1, 1, "done")
    report.finish()
    assert stream.getvalue() == ""


@pytest.mark.parametrize("tty", [True, False])
def test_every_message_prints_each_step_once(tty: bool) -> None:
    report, stream, _clock = _printer(tty=tty, every_message=True)
    report(0, 2, "downloading")
    report(0, 2, "downloading")
    report(1, 2, "extracting")
    report.finish()
    assert stream.getvalue().splitlines() == ["downloading", "extracting"]


def test_a_stream_without_isatty_counts_as_a_log() -> None:
    class Bare:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, text: str) -> int:
            self.parts.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    stream, clock = Bare(), _Clock()
    report = ProgressPrinter(True, stream=stream, clock=clock)  # type: ignore[arg-type]
    assert not report.is_bar
    clock.now += PLAIN_INTERVAL_S
    report(1, 2, "x")
    assert "".join(stream.parts).startswith("x: 1/2 (50%)")


# `avr` with the plain-line interval at 0, so that a run of a second shows its lines.
_AVR_EVERY_REPORT = (
    "import sys; import avr_gui.cli.progress as p; p.PLAIN_INTERVAL_S = 0.0; "
    "from avr_gui.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video

    folder = tmp_path_factory.mktemp("videos")
    for k in range(2):
        frames = render_frames(k, speed_warp(20, (1.0,)), (64, 48), ClipStyle(seed=k))
        write_video(folder / f"clip {k}.mp4", frames, 15)
    return folder


def _index_into_a_pipe(videos: Path, index: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            _AVR_EVERY_REPORT,
            *flags,
            "index",
            str(videos),
            "--index",
            str(index),
            "--encoder",
            "thumb16",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_index_into_a_pipe_logs_progress_lines(videos: Path, tmp_path: Path) -> None:
    r = _index_into_a_pipe(videos, tmp_path / "index")
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr and "\x1b" not in r.stderr
    lines = r.stderr.splitlines()
    counted = [line for line in lines if re.search(r": \d+/\d+ \(\d+%\), \d+:\d\d elapsed", line)]
    assert len(counted) >= 2, r.stderr
    assert r.stdout.startswith("2 videos: 2 indexed"), r.stdout


@pytest.mark.slow
def test_quiet_index_into_a_pipe_logs_nothing(videos: Path, tmp_path: Path) -> None:
    r = _index_into_a_pipe(videos, tmp_path / "index", "-q")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.startswith("2 videos: 2 indexed"), r.stdout
