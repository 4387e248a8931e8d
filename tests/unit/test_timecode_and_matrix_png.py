"""SMPTE timecode at each clip's rate, and the cost-matrix PNG of ``avr demo``."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.demo.render import cost_matrix_figure, write_cost_matrix_png
from avr_gui.core.errors import ShapeError
from avr_gui.core.timecode import frames_in, nominal_rate, rate_label, timecode


@pytest.mark.parametrize(
    "step, rate, label",
    [
        (1 / 25, 25.0, "25 fps"),
        (1001 / 30000, 30000 / 1001, "29.97 fps"),
        (1 / 30, 30.0, "30 fps"),
        (1001 / 24000, 24000 / 1001, "23.976 fps"),
        (1 / 12.5, 12.5, "12.5 fps"),  # not a standard rate: kept as measured
    ],
)
def test_rate_from_frame_times(step, rate, label):
    # Container time bases round presentation times to the millisecond.
    times = np.round(np.arange(200) * step, 3)
    r = nominal_rate(times)
    assert r == pytest.approx(rate, rel=1e-4)
    assert rate_label(r) == label


def test_rate_of_too_few_frames_is_unknown():
    assert nominal_rate(np.array([0.0])) is None and nominal_rate(None) is None


@pytest.mark.parametrize(
    "frame, rate, text",
    [
        (0, 25.0, "00:00:00:00"),
        (37, 25.0, "00:00:01:12"),
        (30, 30000 / 1001, "00:00:01:00"),  # non-drop-frame: a base of 30
        (29, 30.0, "00:00:00:29"),
        (30 * 3661 + 7, 30.0, "01:01:01:07"),
        (-3, 25.0, "-00:00:00:03"),
    ],
)
def test_timecode(frame, rate, text):
    assert timecode(frame, rate) == text


def test_frames_in_seconds():
    assert frames_in(0.2, 25.0) == 5  # 0.2 * 25 = 4.999...: still frame 5
    assert frames_in(1.0, 30000 / 1001) == 29


def test_matrix_png_has_axes_in_seconds_labels_and_colour_bar(tmp_path):
    rng = np.random.default_rng(0)
    cost = rng.random((30, 45)).astype(np.float32)
    path = np.array([(round(k * 29 / 44), k) for k in range(45)])
    qt = 5.0 + np.arange(30) / 10  # a query trimmed from 5 s, sampled at 10 fps
    mt = np.arange(45) / 10
    fig = cost_matrix_figure(cost, path, qt, mt, query_name="q.mp4", match_name="m.mp4")
    matrix, bar = fig.axes  # the matrix and its colour bar
    assert matrix.get_xlabel() == "m.mp4 time (s)" and matrix.get_ylabel() == "q.mp4 time (s)"
    assert "cost" in bar.get_ylabel()
    x0, x1 = matrix.get_xlim()
    assert x0 == pytest.approx(-0.05) and x1 == pytest.approx(4.45)  # seconds, not samples
    top, bottom = matrix.get_ylim()[::-1]  # query time runs down
    assert top == pytest.approx(4.95) and bottom == pytest.approx(7.95)
    line = matrix.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), mt[path[:, 1]])
    np.testing.assert_allclose(line.get_ydata(), qt[path[:, 0]])

    target = tmp_path / "ü matrix.png"
    write_cost_matrix_png(target, cost, path, qt, mt, title="q vs m")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ShapeError, match="30x45 but there are 29 query"):
        write_cost_matrix_png(tmp_path / "bad.png", cost, path, qt[:-1], mt)
    assert not (tmp_path / "bad.png").exists()
