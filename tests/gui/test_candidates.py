"""The matches table on real widgets: verdict badges, what a pair was compared on, parts.

Rows come from real library ``Match`` objects (the fields a query fills in), so these
tests need no library; the whole app on a real ``auto`` library is in
``test_pose_library.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from guiutil import settle
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.align.pair import Alignment
from avr_gui.core.features.sequence import FeatureSequence
from avr_gui.core.library.query import Match
from avr_gui.core.workspace.labels import (
    match_title,
    pose_notice,
    query_message,
    ranking_caption,
)
from avr_gui.gui.panels import candidates as C
from avr_gui.gui.panels.library_panel import PERSON_COLUMN as PANEL_PERSON
from avr_gui.gui.panels.library_panel import THUMB_SIZE, LibraryPanel, placeholder_thumbnail


def _match(rank: int, **fields) -> Match:
    n, m = 20, 30
    path = np.stack([np.arange(n), np.linspace(0, m - 1, n).round()], axis=1).astype(np.int64)
    ts = np.arange(m) / 10.0
    seq = FeatureSequence(
        np.zeros((m, 4), np.float32), ts, np.arange(m, dtype=np.int64), f"/clips/clip {rank}.mp4"
    )
    base = dict(
        rank=rank,
        path=f"/clips/clip {rank}.mp4",
        draq=0.66,
        dtw_cost=9.5,
        normalized_cost=0.19,
        similarity=0.8,
        score=0.19,
        alignment=Alignment(0.66, 9.5, path, (n, m)),
        features=seq,
    )
    base.update(fields)
    return Match(**base)


@pytest.fixture
def view(app, qtbot):
    v = C.CandidatesView()
    qtbot.addWidget(v)
    v.resize(1400, 400)
    v.show()
    return v


def _fill_at_left(pix: QtGui.QPixmap) -> QtGui.QColor:
    """The badge's colour inside its rounded left end, clear of the text."""
    img = pix.toImage()
    dpr = pix.devicePixelRatio()
    return img.pixelColor(round(5 * dpr), round(C.BADGE_HEIGHT / 2 * dpr))


def _close(a: QtGui.QColor, b: QtGui.QColor, tol: int = 6) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))


@pytest.mark.parametrize(
    ("p", "text", "kind"),
    [
        (0.9, "alignable 90%", "alignable"),
        (0.3, "possible 30%", "possible"),
        (0.05, "unlikely 5%", "unlikely"),
        (None, "DRAQ 0.66", "draq"),
    ],
)
def test_the_verdict_badge_says_the_calibrated_probability(view, p, text, kind):
    view.set_matches([_match(1, alignable=p, compared_on=None if p is None else "appearance")])
    idx = view.proxy.index(0, C.VERDICT_COLUMN)
    assert idx.data(C.BADGE_ROLE) == text
    assert idx.data(C.BADGE_KIND_ROLE) == kind
    assert idx.data(QtCore.Qt.ItemDataRole.AccessibleTextRole) == text
    pix = idx.data(QtCore.Qt.ItemDataRole.DecorationRole)
    assert isinstance(pix, QtGui.QPixmap) and not pix.isNull()
    # The whole text fits the badge, and the badge fits the column.
    font = QtGui.QFont(view.font())
    font.setBold(kind == "alignable")
    assert pix.deviceIndependentSize().width() >= QtGui.QFontMetrics(font).horizontalAdvance(text)
    assert pix.deviceIndependentSize().width() + 6 <= view.table.columnWidth(C.VERDICT_COLUMN)
    fill, outline, _ = C.BADGE_STYLES[kind]
    seen = _fill_at_left(pix)
    if fill is not None:  # green, amber, grey: filled
        assert _close(seen, fill), (seen.getRgb(), fill.getRgb())
    else:  # DRAQ alone: a neutral outline, nothing inside
        assert outline is not None and seen.alpha() == 0
    tip = idx.data(QtCore.Qt.ItemDataRole.ToolTipRole)
    if p is None:
        assert "No calibrated verdict" in tip and "DRAQ 0.660" in tip
    else:
        assert "probability that this clip shows the same action" in tip.lower()
        assert "calibrated on held-out data" in tip
    # DRAQ keeps its own column.
    assert view.cell(0, C.DRAQ_COLUMN) == "0.660"
    assert not view.table.isColumnHidden(C.DRAQ_COLUMN)


def test_badge_colours_differ_by_verdict(view):
    view.set_matches(
        [_match(k + 1, alignable=p, compared_on="pose") for k, p in enumerate((0.9, 0.3, 0.05))]
    )
    fills = [
        _fill_at_left(view.cell(r, C.VERDICT_COLUMN, QtCore.Qt.ItemDataRole.DecorationRole))
        for r in range(3)
    ]
    green, amber, grey = fills
    assert green.green() > green.red() + 60 and green.green() > green.blue() + 40
    assert amber.red() > amber.blue() + 100 and amber.green() > amber.blue() + 60
    assert max(grey.getRgb()[:3]) - min(grey.getRgb()[:3]) < 15  # no hue
    # Sorting the verdict column puts the most alignable first (descending).
    view.table.sortByColumn(C.VERDICT_COLUMN, QtCore.Qt.SortOrder.DescendingOrder)
    assert [view.row_of_view(r).probability for r in range(3)] == [0.9, 0.3, 0.05]


def test_extreme_probabilities_never_read_as_certain():
    assert C.badge_for(0.999, 0.1) == ("alignable >99%", "alignable")
    assert C.badge_for(0.001, 0.9) == ("unlikely <1%", "unlikely")
    assert C.badge_for(float("nan"), 0.5) == ("DRAQ 0.50", "draq")


def test_compared_on_and_the_aligned_part(view):
    view.set_matches(
        [
            _match(
                1,
                alignable=0.82,
                compared_on="pose",
                has_person=True,
                mode="query_in_match",
                query_span_s=(0.0, 2.0),
                match_span_s=(3.0, 9.9),
            ),
            _match(2, alignable=0.4, compared_on="pose", has_person=True),
            _match(
                3,
                alignable=0.1,
                compared_on="pose",
                has_person=True,
                mode="match_in_query",
                query_span_s=(1.0, 4.04),
                match_span_s=(0.0, 3.0),
            ),
        ]
    )
    t = view.table
    assert not t.isColumnHidden(C.COMPARED_COLUMN) and not t.isColumnHidden(C.PART_COLUMN)
    assert t.isColumnHidden(C.PERSON_COLUMN)  # "Compared on" says it in auto libraries
    assert [view.cell(r, C.COMPARED_COLUMN) for r in range(3)] == ["pose"] * 3
    assert "body pose" in view.cell(0, C.COMPARED_COLUMN, QtCore.Qt.ItemDataRole.ToolTipRole)
    assert view.cell(0, C.PART_COLUMN) == "part 3.0–9.9 s"
    assert "3.0–9.9 s of this clip" in view.cell(
        0, C.PART_COLUMN, QtCore.Qt.ItemDataRole.ToolTipRole
    )
    assert view.cell(1, C.PART_COLUMN) == "whole"
    assert view.cell(2, C.PART_COLUMN) == "in query 1.0–4.0 s"
    # The alignment view's title says the same.
    title = match_title(view.row_of_view(0).match)
    assert "alignable 82%" in title and "part 3.0–9.9 s" in title and "pose similarity" in title


def test_a_pose_comparison_on_part_of_the_body_says_so(view):
    view.set_matches(
        [
            _match(1, alignable=0.3, compared_on="pose", compared_parts="upper body"),
            _match(2, alignable=0.3, compared_on="pose", compared_parts="whole body"),
        ]
    )
    assert view.cell(0, C.COMPARED_COLUMN) == "pose · upper body"
    tip = view.cell(0, C.COMPARED_COLUMN, QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "Only the upper body was compared" in tip and "the legs" in tip
    assert view.cell(1, C.COMPARED_COLUMN) == "pose"


def test_an_appearance_comparison_and_a_library_without_auto(view):
    view.set_matches([_match(1, alignable=0.7, compared_on="appearance", has_person=False)])
    assert view.cell(0, C.COMPARED_COLUMN) == "appearance"
    tip = view.cell(0, C.COMPARED_COLUMN, QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "no one performs in the query" in tip.lower()
    assert view.table.isColumnHidden(C.PART_COLUMN)  # every match aligns whole
    # Libraries without auto features: no compared-on column, the person column as before.
    view.set_matches([_match(1, has_person=True), _match(2, has_person=False)])
    assert view.table.isColumnHidden(C.COMPARED_COLUMN)
    assert not view.table.isColumnHidden(C.PERSON_COLUMN)
    assert [view.cell(r, C.PERSON_COLUMN) for r in range(2)] == ["yes", "no"]
    assert view.cell(0, C.VERDICT_COLUMN, C.BADGE_ROLE) == "DRAQ 0.66"


def test_the_query_line_says_what_it_was_matched_by(app, qtbot):
    from avr_gui.core.library.query import QueryResult
    from avr_gui.gui.panels.query_panel import QueryPanel

    seq = _match(1).features
    by_pose = QueryResult("/q.mp4", seq, [_match(1)], query_performer=True)
    by_look = QueryResult("/q.mp4", seq, [_match(1)], query_performer=False)
    plain = QueryResult("/q.mp4", seq, [_match(1)])
    assert (
        query_message(by_pose)
        == query_message(plain)
        == "1 match for 30 query frames (0.00–2.90 s)"
    )
    assert "pose similarity (higher = better)" in ranking_caption(by_pose)
    assert "score (lower = better)" in ranking_caption(by_look)
    panel = QueryPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_matched_by(True)
    assert panel.matched_by.isVisible() and panel.matched_by.text() == "matched by body pose"
    assert "how the body moves" in panel.matched_by.toolTip()
    panel.set_matched_by(False)
    assert panel.matched_by.text() == "matched by appearance"
    panel.set_query("/another.mp4")  # a new query: not matched yet
    assert not panel.matched_by.isVisible()


def test_the_library_panel_says_pose_or_appearance_in_auto_libraries(app, qtbot):
    from avr_gui.core.library.library import LibraryStatus, VideoEntry

    entries = [
        VideoEntry("/v/squat.mp4", "indexed", None, 3.0, 15.0, 160, 120, 45, True),
        VideoEntry("/v/empty room.mp4", "indexed", None, 2.0, 15.0, 160, 120, 30, False),
        VideoEntry("/v/new.mp4", "pending", None, 0.0, 0.0, 0, 0, 0, None),
    ]
    status = LibraryStatus(3, 2, 0, 1, [])
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_state(["/v"], entries, status, "auto")
    head = panel.model.horizontalHeaderItem(PANEL_PERSON)
    assert head.text() == "Compared by" and "body moves" in head.toolTip()
    # Said on each clip's thumbnail (a figure, a picture): the narrow panel keeps the
    # room for the names, so the column itself is hidden.
    assert panel.videos.isColumnHidden(PANEL_PERSON)
    deco = QtCore.Qt.ItemDataRole.DecorationRole
    # No thumbnails yet: each row shows the placeholder of a thumbnail's size (rows keep
    # their height when thumbnails arrive), with the glyph in its corner.
    glyphs = [panel.model.item(r, 0).data(deco) for r in range(3)]
    assert all(isinstance(g, QtGui.QPixmap) and g.size() == THUMB_SIZE for g in glyphs)
    images = [g.toImage() for g in glyphs]
    assert images[0] != images[1] and images[0] != images[2] and images[1] != images[2]
    assert images[2] == QtGui.QPixmap.fromImage(placeholder_thumbnail()).toImage()
    thumb = QtGui.QImage(64, 48, QtGui.QImage.Format.Format_RGB32)
    thumb.fill(QtGui.QColor(200, 40, 40))
    panel.set_thumbnails({"/v/squat.mp4": thumb, "/v/empty room.mp4": thumb})
    shown = [panel.model.item(r, 0).data(deco).toImage() for r in range(2)]
    assert all(im.size() == thumb.size() for im in shown)
    assert shown[0].pixelColor(5, 5) == QtGui.QColor(200, 40, 40)  # the picture stays
    assert shown[0].pixelColor(55, 40) != QtGui.QColor(200, 40, 40)  # the glyph's corner
    assert shown[0] != shown[1]
    tips = [panel.model.item(r, 0).toolTip() for r in range(2)]
    assert "compared by body pose" in tips[0] and "compared by appearance" in tips[1]
    assert "1 by body pose, 1 by appearance" in panel.features_label.text()
    assert "compared by" not in panel.summary.text()  # said once, on the features line
    assert panel.person_cells() == {
        "/v/squat.mp4": "Pose",
        "/v/empty room.mp4": "Appearance",
        "/v/new.mp4": "",
    }
    # The same clips in a pose library other than auto: the person column as before.
    panel.show_state(["/v"], entries, status, "pose-movenet")
    assert panel.model.horizontalHeaderItem(PANEL_PERSON).text() == "Person"
    assert not panel.videos.isColumnHidden(PANEL_PERSON)
    assert panel.person_cells()["/v/squat.mp4"] == "yes"
    assert panel.model.item(0, 0).data(deco).toImage().pixelColor(55, 40) == QtGui.QColor(
        200, 40, 40
    )  # no glyph outside auto libraries


def test_pose_notice_texts():
    missing = (False, "pose models not installed (looked in /m): ... run `avr models install pose`")
    text, level = pose_notice(None, missing, "body pose is off (...)", "effnet-lite0")
    assert level == "warning" and text.startswith("Pose models not installed")
    assert "avr models install pose" in text and "appearance features (effnet-lite0)" in text
    text, level = pose_notice("auto", missing)
    assert level == "warning" and "auto features need them" in text
    text, level = pose_notice("thumb16", missing)
    assert level == "info" and "avr models install pose" in text
    assert pose_notice("auto", (True, "pose models ready (/m)")) is None
    assert pose_notice(None, (True, "ready"), None, "auto") is None


def test_the_score_column_hides_when_pose_similarity_ranks(view):
    pose = [
        _match(k, compared_on="pose", similarity=0.9 - k / 10, score=-0.9 + k / 10) for k in (1, 2)
    ]
    view.set_matches(pose)
    assert view.table.isColumnHidden(C.SCORE_COLUMN)
    assert not view.table.isColumnHidden(C.SIMILARITY_COLUMN)
    view.set_matches([_match(1, compared_on="appearance")])
    assert not view.table.isColumnHidden(C.SCORE_COLUMN)


# Five preview frames of distinct colours, 53 px wide and 1 px apart (a 4:3 strip).
_FRAME_COLOURS = [(220, 40, 40), (40, 200, 40), (40, 40, 220), (220, 200, 40), (200, 40, 200)]


def _coloured_strip() -> QtGui.QImage:
    img = QtGui.QImage(5 * 53 + 4, C.STRIP_HEIGHT, QtGui.QImage.Format.Format_RGB32)
    img.fill(QtGui.QColor(20, 20, 20))
    p = QtGui.QPainter(img)
    for k, rgb in enumerate(_FRAME_COLOURS):
        p.fillRect(k * 54, 0, 53, C.STRIP_HEIGHT, QtGui.QColor(*rgb))
    p.end()
    return img


def _preview_colours(view, row: int) -> list[tuple[int, int, int]]:
    """The colours of the preview frames drawn in ``row``, left to right (from a grab)."""
    table = view.table
    rect = table.visualRect(view.proxy.index(row, 1))
    img = table.viewport().grab().toImage()
    dpr = img.devicePixelRatio()
    y = rect.center().y()
    seen = []
    for x in range(rect.left() + 3, rect.right()):
        c = img.pixelColor(round(x * dpr), round(y * dpr)).getRgb()[:3]
        if c in _FRAME_COLOURS and (not seen or seen[-1] != c):
            seen.append(c)
    return seen


def test_a_narrow_table_shows_fewer_preview_frames_and_the_whole_clip_name(view, qtbot):
    names = ["squat_front_take_03.mp4", "squat_front_take_11.mp4"]
    view.set_matches(
        [_match(k + 1, path=f"/clips/{n}", compared_on="pose") for k, n in enumerate(names)]
    )
    view.set_strips({f"/clips/{n}": _coloured_strip() for n in names})
    table = view.table
    # Wide: every frame of the preview, the names in full.
    qtbot.waitUntil(lambda: view.preview_frames == C.STRIP_FRAMES)
    assert _preview_colours(view, 0) == _FRAME_COLOURS
    need = table.fontMetrics().horizontalAdvance(names[0])
    assert table.columnWidth(2) > need
    # The width of the matches dock at 1366x768: fewer frames (the first and the last
    # among them), and the name still whole.
    view.resize(940, 300)
    qtbot.waitUntil(lambda: view.preview_frames < C.STRIP_FRAMES)
    shown = view.preview_frames
    assert table.columnWidth(1) == shown * C.FRAME_WIDTH
    assert table.columnWidth(2) > need
    colours = _preview_colours(view, 0)
    assert len(colours) == shown and colours[0] == _FRAME_COLOURS[0]
    assert colours[-1] == _FRAME_COLOURS[-1]
    # Names too long for any room: two frames, and a name loses its middle, not the
    # end where takes differ.
    long = [f"squat_front_camera_B_2024-05-03_session_2_take_{k:02d}.mp4" for k in (3, 11)]
    view.set_matches(
        [_match(k + 1, path=f"/clips/{n}", compared_on="pose") for k, n in enumerate(long)]
    )
    view.set_strips({f"/clips/{n}": _coloured_strip() for n in long})
    assert view.preview_frames == C.MIN_PREVIEW_FRAMES
    settle(qtbot, 0.1)
    assert _preview_colours(view, 0) == [_FRAME_COLOURS[0], _FRAME_COLOURS[-1]]
    option = QtWidgets.QStyleOptionViewItem()
    option.rect = table.visualRect(view.proxy.index(0, 2))
    option.widget = table
    table.itemDelegateForColumn(2).initStyleOption(option, view.proxy.index(0, 2))
    shown = option.text
    assert "…" in shown and shown.endswith("take_03") and shown.startswith("squat")
    assert option.fontMetrics.horizontalAdvance(shown) <= option.rect.width()
    assert view.cell(0, 2, QtCore.Qt.ItemDataRole.ToolTipRole) == f"/clips/{long[0]}"


def test_strip_frames_spreads_the_frames_drawn():
    full = C.strip_frames((269, 40), 5)
    assert [x for x, _ in full] == [0, 54, 108, 162, 216] and full[0][1] == 53
    assert [x for x, _ in C.strip_frames((269, 40), 3)] == [0, 108, 216]
    # A strip scaled to half its height: its gaps shrank too.
    half = C.strip_frames((134.5, 20), 2)
    assert half == [(0.0, 26.5), (4 * 27.0, 26.5)]


@pytest.mark.parametrize("width", [40, 70, 100, 400])
def test_elide_keeping_end(app, width):
    from avr_gui.gui.panels.elide import elide_keeping_end

    metrics = QtGui.QFontMetrics(QtGui.QFont())
    name = "action0_v03.mp4"
    text = elide_keeping_end(metrics, name, width)
    if metrics.horizontalAdvance(name) <= width:
        assert text == name
        return
    assert metrics.horizontalAdvance(text) <= width
    if "…" not in text:
        assert text == "action0_v03"  # the extension goes first
        return
    front, back = text.split("…")
    assert name.startswith(front) and "action0_v03".endswith(back) and len(back) >= len(front)


def test_a_clip_of_the_querys_own_footage_says_so(view):
    view.set_matches(
        [
            _match(1, alignable=0.81, compared_on="pose", same_footage=True),
            _match(2, alignable=0.81, compared_on="pose"),
        ]
    )
    assert view.cell(0, 2) == "clip 1.mp4  · same footage"
    assert "cut from this clip" in view.cell(0, 2, QtCore.Qt.ItemDataRole.ToolTipRole)
    assert view.cell(1, 2) == "clip 2.mp4"
    assert "cut from" not in view.cell(1, 2, QtCore.Qt.ItemDataRole.ToolTipRole)
    # The alignment view's title says why it leads.
    assert "same footage" in match_title(view.row_of_view(0).match)
    assert "same footage" not in match_title(view.row_of_view(1).match)
