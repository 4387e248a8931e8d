"""The ranked matches: a sortable table with thumbnail strips and a calibrated verdict badge.

The verdict (:mod:`avr_gui.core.align.verdict`) is the probability that a match shows the
same action as the query and can be aligned to it, calibrated on held-out data (pose
similarity for pose-ranked pairs, DTW cost per step for appearance-ranked ones). The
badge says ``alignable`` (green, p ≥ 0.5), ``possible`` (amber, 0.2 ≤ p < 0.5) or
``unlikely`` (grey) with the percentage. Libraries whose features have no fitted model
(``thumb16``, ``pose-movenet``, ...) get no verdict: the badge then shows DRAQ alone,
drawn as a neutral outline, because a fixed DRAQ threshold does not carry over between
features (true push-up matches on real footage read DRAQ 0.66-0.93).

``auto`` libraries also say what each pair was compared on (body pose or appearance),
and a partial match says which part of it aligns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.align.verdict import ALIGNABLE, UNLIKELY, verdict_label
from avr_gui.core.video import thumbnail
from avr_gui.gui.frame_source import to_qimage
from avr_gui.gui.library_panel import person_icon, person_text

#: Frames in a candidate's thumbnail strip.
STRIP_FRAMES = 5
STRIP_HEIGHT = 40

COLUMNS = (
    "#",
    "Preview",
    "Clip",
    "Verdict",
    "Aligned part",
    "Compared on",
    "Score",
    "DRAQ",
    "DTW cost",
    "Similarity",
    "Person",
)
#: Column of the verdict badge.
VERDICT_COLUMN = 3
#: Column of the aligned part of a partial match ("part 3.0–9.9 s").
PART_COLUMN = 4
#: Column saying what the pair was compared on (``auto`` libraries).
COMPARED_COLUMN = 5
SCORE_COLUMN = 6
DRAQ_COLUMN = 7
COST_COLUMN = 8
SIMILARITY_COLUMN = 9
#: Column saying whether the match has a tracked person (pose libraries other than auto).
PERSON_COLUMN = 10
#: Role holding the raw number a column sorts by.
SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
#: Role of the verdict column's badge text ("alignable 82%", "DRAQ 0.66").
BADGE_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2
#: Role of the verdict column's badge kind (a key of :data:`BADGE_STYLES`).
BADGE_KIND_ROLE = QtCore.Qt.ItemDataRole.UserRole + 3

#: Badge look per kind: (fill or None for an outline, outline, text colour).
BADGE_STYLES: dict[str, tuple[QtGui.QColor | None, QtGui.QColor | None, QtGui.QColor]] = {
    "alignable": (QtGui.QColor(46, 160, 90), None, QtGui.QColor(255, 255, 255)),
    "possible": (QtGui.QColor(214, 152, 44), None, QtGui.QColor(28, 24, 16)),
    "unlikely": (QtGui.QColor(80, 80, 88), None, QtGui.QColor(200, 200, 205)),
    "draq": (None, QtGui.QColor(130, 134, 144), QtGui.QColor(205, 207, 212)),
}
#: Text colour of the "compared on" tag per kind.
COMPARED_COLOURS = {"pose": QtGui.QColor(120, 176, 255), "appearance": QtGui.QColor(176, 178, 186)}
_DIM = QtGui.QColor(130, 132, 140)

VERDICT_TIP = (
    "Probability that this clip shows the same action as the query and can be aligned "
    f"to it; calibrated on held-out data. alignable: {ALIGNABLE:.0%} or more, possible: "
    f"{UNLIKELY:.0%}–{ALIGNABLE:.0%}, unlikely: under {UNLIKELY:.0%}."
)


def percent(p: float) -> str:
    """A probability as a whole percentage, never claiming certainty (``<1%``, ``>99%``).

    Parameters
    ----------
    p : float
        In [0, 1].

    Returns
    -------
    str
    """
    if p < 0.01:
        return "<1%"
    if p > 0.99:
        return ">99%"
    return f"{100 * p:.0f}%"


def badge_for(probability: float | None, draq: float) -> tuple[str, str]:
    """Badge text and kind for a match's verdict.

    Parameters
    ----------
    probability : float or None
        ``Match.alignable``: the calibrated probability, None where no model applies.
    draq : float
        Shown instead when there is no probability.

    Returns
    -------
    text : str
        ``"alignable 82%"``, ``"possible 30%"``, ``"unlikely 5%"`` or ``"DRAQ 0.66"``.
    kind : str
        A key of :data:`BADGE_STYLES`.
    """
    label = verdict_label(probability)
    if label == "-" or probability is None:
        return (f"DRAQ {draq:.2f}" if math.isfinite(draq) else "DRAQ –"), "draq"
    return f"{label} {percent(probability)}", label


def part_text(mode: str, query_span: Any, match_span: Any) -> tuple[str, str]:
    """Cell text and tooltip for the aligned part of a match.

    Parameters
    ----------
    mode : str
        ``Match.mode``: ``full``, ``query_in_match``, ``match_in_query`` or ``overlap``.
    query_span, match_span : (float, float) or None
        ``Match.query_span_s`` and ``Match.match_span_s`` (seconds of each source).

    Returns
    -------
    text, tooltip : str
        ``("whole", ...)`` for a full match, ``("part 3.0–9.9 s", ...)`` when only a part
        of the match aligns, ``("in query 1.0–4.0 s", ...)`` when the whole match lines
        up with a part of the query.
    """

    def span(s: Any) -> str:
        return f"{float(s[0]):.1f}–{float(s[1]):.1f} s"

    if mode == "full" or match_span is None:
        return "whole", "The whole query lines up with the whole clip"
    m = span(match_span)
    q = span(query_span) if query_span is not None else "part"
    if mode == "match_in_query" and query_span is not None:
        return f"in query {q}", f"This whole clip ({m}) lines up with {q} of the query"
    if mode == "query_in_match":
        tip = f"The query lines up with {m} of this clip; the rest of the clip is left out"
    else:
        tip = f"{q} of the query lines up with {m} of this clip (the two overlap)"
    return f"part {m}", tip


def compared_text(compared_on: str | None, has_person: bool | None) -> tuple[str, str]:
    """Cell text and tooltip saying what a pair was compared on (``auto`` libraries).

    Parameters
    ----------
    compared_on : {"pose", "appearance"} or None
    has_person : bool or None
        Whether a person performs in the match.

    Returns
    -------
    text, tooltip : str
        Empty for libraries that compare one way only (``compared_on`` None).
    """
    if compared_on == "pose":
        return "pose", (
            "Compared on body pose: a person performs in the query and in this clip, so "
            "they were matched by how the body moves (mirror-invariant), not by the room, "
            "the clothes or the camera"
        )
    if compared_on == "appearance":
        who = {
            True: " (a person performs in this clip)",
            False: " (no one performs in this clip either)",
        }.get(has_person, "")
        return "appearance", (
            "Compared on appearance: no one performs in the query, so clips were matched "
            f"by how their frames look{who}"
        )
    return "", ""


@dataclass
class CandidateRow:
    """What the table shows for one match.

    Attributes
    ----------
    rank : int
    path : str
    score, draq, dtw_cost, normalized_cost, similarity : float
        As in the library ``Match``.
    match : Any
        The library ``Match`` itself.
    strip : QImage or None
        Thumbnail strip, once made.
    has_person : bool or None
        ``Match.has_person`` (in ``auto`` libraries: a person performs in the match).
    probability : float or None
        ``Match.alignable``: the calibrated verdict's probability.
    compared_on : str or None
        ``Match.compared_on``: ``"pose"``, ``"appearance"`` or None.
    mode : str
        ``Match.mode``.
    query_span, match_span : (float, float) or None
        The aligned part of each clip, in seconds.
    """

    rank: int
    path: str
    score: float
    draq: float
    dtw_cost: float
    normalized_cost: float
    similarity: float
    match: Any
    strip: QtGui.QImage | None = None
    has_person: bool | None = None
    probability: float | None = None
    compared_on: str | None = None
    mode: str = "full"
    query_span: tuple[float, float] | None = None
    match_span: tuple[float, float] | None = None

    @property
    def verdict(self) -> str:
        """``alignable``, ``possible``, ``unlikely``, or ``-`` without a probability."""
        return verdict_label(self.probability)

    @property
    def badge(self) -> tuple[str, str]:
        """Badge text and kind (:func:`badge_for`)."""
        return badge_for(self.probability, self.draq)

    @classmethod
    def from_match(cls, match: Any) -> CandidateRow:
        """Build from a library ``Match`` (fields an older core lacks default to "unknown")."""
        p = getattr(match, "alignable", None)
        return cls(
            int(match.rank),
            str(match.path),
            float(match.score),
            float(match.draq),
            float(match.dtw_cost),
            float(match.normalized_cost),
            float(match.similarity),
            match,
            has_person=getattr(match, "has_person", None),
            probability=None if p is None else float(p),
            compared_on=getattr(match, "compared_on", None),
            mode=str(getattr(match, "mode", "full") or "full"),
            query_span=getattr(match, "query_span_s", None),
            match_span=getattr(match, "match_span_s", None),
        )


def strip_times(match: Any, count: int = STRIP_FRAMES) -> np.ndarray:
    """Match times (s) for a thumbnail strip: evenly along the aligned part of the path.

    Parameters
    ----------
    match : Match
        Its ``alignment.path`` and ``features.timestamps`` are used.
    count : int

    Returns
    -------
    numpy.ndarray, shape (count,), float64
    """
    path = match.alignment.path
    ts = np.asarray(match.features.timestamps, dtype=np.float64)
    cols = path[np.linspace(0, len(path) - 1, count).round().astype(int), 1]
    return ts[cols]


def thumbnail_strip(path: str, times: np.ndarray, height: int = STRIP_HEIGHT) -> np.ndarray:
    """Frames of ``path`` at ``times`` side by side, each ``height`` pixels tall.

    Parameters
    ----------
    path : str
    times : numpy.ndarray, shape (k,)
        Seconds.
    height : int

    Returns
    -------
    numpy.ndarray, shape (height, W, 3), uint8
        BGR, a 1-pixel dark gap between frames.
    """
    import cv2

    tiles = []
    for t in times:
        img = thumbnail(path, float(t), max_side=4 * height)
        h, w = img.shape[:2]
        tile = cv2.resize(
            img, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA
        )
        tiles.append(tile)
        tiles.append(np.full((height, 1, 3), 20, np.uint8))
    return np.ascontiguousarray(np.concatenate(tiles[:-1], axis=1))


def make_strips(
    rows: list[tuple[str, np.ndarray]], progress: Any, cancel: Any
) -> dict[str, QtGui.QImage]:
    """Worker job: thumbnail strips keyed by path (files that fail get none).

    Parameters
    ----------
    rows : list of (str, numpy.ndarray)
        Path and the times (s) of its strip's frames.
    progress, cancel
        See :mod:`avr_gui.core.jobs`.

    Returns
    -------
    dict of str to QImage
    """
    from avr_gui.core.errors import AvrError
    from avr_gui.core.jobs import check

    out: dict[str, QtGui.QImage] = {}
    for k, (path, times) in enumerate(rows):
        check(cancel)
        progress(k, len(rows), Path(path).name)
        try:
            # Scaled here, off the GUI thread (QImage is safe to use in any thread).
            out[path] = fit_strip(to_qimage(thumbnail_strip(path, times)))
        except AvrError:
            continue
    return out


_HEADER_TIPS = (
    "Rank by the ranking score",
    "Frames along the aligned part of the match",
    "File name",
    VERDICT_TIP + " Libraries without a calibrated model show DRAQ alone (outlined).",
    "Which part of the match lines up with the query: the whole clip, or a part of it",
    "What the pair was compared on: body pose when a person performs in the query "
    "(and the match), appearance otherwise",
    "Ranking score (lower = better); for a pose-ranked query, minus the pose similarity",
    "DTW cost ÷ mean random-path cost: near 0 aligns far better than chance, near 1 = chance",
    "Cost of the optimal warp path (summed cosine distance); per step = ÷ (n + m)",
    "Cosine similarity of the clip vectors (retrieval stage); for a pose-ranked query, "
    "the pose similarity the matches are ranked by",
    "Whether a person is tracked in the match (libraries indexed with a pose encoder)",
)

#: Largest preview drawn in the table (the column width less a small margin).
STRIP_BOX = (STRIP_FRAMES * 56 - 6, STRIP_HEIGHT)
#: Badge height in pixels.
BADGE_HEIGHT = 20

_RIGHT = int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)


def fit_strip(strip: QtGui.QImage, box: tuple[int, int] = STRIP_BOX) -> QtGui.QImage:
    """``strip`` shrunk (never enlarged) to fit ``box`` (width, height), keeping its aspect.

    Parameters
    ----------
    strip : QImage
    box : (int, int)
        Width, height.

    Returns
    -------
    QImage
    """
    if strip.isNull() or (strip.width() <= box[0] and strip.height() <= box[1]):
        return strip
    return strip.scaled(
        box[0],
        box[1],
        QtCore.Qt.AspectRatioMode.KeepAspectRatio,
        QtCore.Qt.TransformationMode.SmoothTransformation,
    )


_BADGES: dict[tuple[str, str], QtGui.QPixmap] = {}


def badge_pixmap(text: str, kind: str) -> QtGui.QPixmap:
    """A rounded badge with ``text``, coloured by ``kind``, drawn once per pair (GUI thread).

    Parameters
    ----------
    text : str
        E.g. ``"alignable 82%"``.
    kind : str
        A key of :data:`BADGE_STYLES`: filled green, amber or grey, or a neutral outline
        (``"draq"``).

    Returns
    -------
    QPixmap
        Device pixel ratio 2, :data:`BADGE_HEIGHT` logical pixels tall.
    """
    key = (text, kind)
    if key not in _BADGES:
        fill, outline, ink = BADGE_STYLES.get(kind, BADGE_STYLES["draq"])
        font = QtGui.QFont(QtWidgets.QApplication.font())
        font.setBold(kind == "alignable")
        fm = QtGui.QFontMetrics(font)
        dpr = 2.0
        w, h = fm.horizontalAdvance(text) + 18, BADGE_HEIGHT
        pix = QtGui.QPixmap(round(w * dpr), round(h * dpr))
        pix.setDevicePixelRatio(dpr)
        pix.fill(QtCore.Qt.GlobalColor.transparent)
        p = QtGui.QPainter(pix)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.setFont(font)
        rect = QtCore.QRectF(0.5, 0.5, w - 1, h - 1)
        p.setPen(QtGui.QPen(outline, 1.2) if outline is not None else QtCore.Qt.PenStyle.NoPen)
        p.setBrush(fill if fill is not None else QtCore.Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(rect, h / 2 - 0.5, h / 2 - 0.5)
        p.setPen(ink)
        p.drawText(QtCore.QRectF(0, 0, w, h), QtCore.Qt.AlignmentFlag.AlignCenter, text)
        p.end()
        _BADGES[key] = pix
    return _BADGES[key]


class CandidatesModel(QtGui.QStandardItemModel):
    """Rows of :class:`CandidateRow`; each column sorts by its number (``SORT_ROLE``).

    Every cell's text, tooltip, badge and preview is stored in the model up front, so
    painting the table calls back into Python only for the two pixmap cells of a row
    (:class:`_PixmapDelegate`): each call back has to take the GIL, and while a query's
    workers run Python each take could wait a switch interval; ~750 of them per paint
    (a Python ``data()``) made painting ten rows cost 100+ ms (``benchmarks/bench_gui.py``).
    """

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        for c, tip in enumerate(_HEADER_TIPS):
            self.horizontalHeaderItem(c).setToolTip(tip)
        self.rows: list[CandidateRow] = []

    def set_matches(self, matches: list[Any]) -> None:
        """Replace the rows with library ``Match`` objects, in ranked order.

        Parameters
        ----------
        matches : list of Match
        """
        self.rows = [CandidateRow.from_match(m) for m in matches]
        self.setRowCount(0)
        for r in self.rows:
            self.appendRow(_items(r))

    def set_strips(self, strips: dict[str, QtGui.QImage]) -> None:
        """Attach thumbnail strips (keyed by path) to their rows' preview cells.

        Parameters
        ----------
        strips : dict of str to QImage
        """
        for k, r in enumerate(self.rows):
            if r.path in strips:
                r.strip = strips[r.path]
                pix = QtGui.QPixmap.fromImage(fit_strip(r.strip))  # no-op if fitted
                self.item(k, 1).setData(pix, QtCore.Qt.ItemDataRole.DecorationRole)


def _verdict_tip(r: CandidateRow) -> str:
    if r.probability is None or r.verdict == "-":
        return (
            f"DRAQ {r.draq:.3f}. No calibrated verdict for this library's features, so "
            "DRAQ is shown alone: DTW cost ÷ mean random-path cost, near 0 aligns far "
            "better than chance, near 1 = chance."
        )
    cue = {
        "pose": f"pose similarity {r.similarity:.3f}",
        "appearance": f"DTW cost per step {r.normalized_cost:.3f}",
    }.get(r.compared_on or "appearance", "")
    return f"{r.verdict} {percent(r.probability)} (from the {cue}). {VERDICT_TIP}"


def _items(r: CandidateRow) -> list[QtGui.QStandardItem]:
    """The cells of one row, every role filled in (see :class:`CandidatesModel`)."""
    name = Path(r.path).name
    person, person_tip = person_text(r.has_person)
    badge, kind = r.badge
    part, part_tip = part_text(r.mode, r.query_span, r.match_span)
    compared, compared_tip = compared_text(r.compared_on, r.has_person)
    by_pose = r.compared_on == "pose"
    text = {
        0: str(r.rank),
        1: "",
        2: name,
        VERDICT_COLUMN: "",
        PART_COLUMN: part,
        COMPARED_COLUMN: compared,
        SCORE_COLUMN: f"{r.score:.3f}",
        DRAQ_COLUMN: f"{r.draq:.3f}",
        COST_COLUMN: f"{r.dtw_cost:.2f}  ({r.normalized_cost:.3f}/step)",
        SIMILARITY_COLUMN: f"{r.similarity:.3f}",
        PERSON_COLUMN: person,
    }
    p = r.probability if r.probability is not None and math.isfinite(r.probability) else None
    start = -1.0 if r.mode == "full" or r.match_span is None else float(r.match_span[0])
    sort = {
        0: r.rank,
        1: r.rank,
        2: name.lower(),
        # Higher = more alignable either way (a query's rows are all one kind).
        VERDICT_COLUMN: p if p is not None else -r.draq,
        PART_COLUMN: start,
        COMPARED_COLUMN: compared,
        SCORE_COLUMN: r.score,
        DRAQ_COLUMN: r.draq,
        COST_COLUMN: r.dtw_cost,
        SIMILARITY_COLUMN: r.similarity,
        PERSON_COLUMN: -1 if r.has_person is None else int(r.has_person),
    }
    tips = {c: r.path for c in range(len(COLUMNS))}
    tips[VERDICT_COLUMN] = _verdict_tip(r)
    tips[PART_COLUMN] = part_tip
    tips[COMPARED_COLUMN] = compared_tip
    if by_pose:
        tips[SCORE_COLUMN] = "Minus the pose similarity (lower = better)"
        tips[SIMILARITY_COLUMN] = "Pose similarity: how alike the two bodies move (ranked by it)"
    tips[PERSON_COLUMN] = person_tip
    flags = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
    items = []
    for c in range(len(COLUMNS)):
        it = QtGui.QStandardItem(text[c])
        it.setFlags(flags)
        it.setData(sort[c], SORT_ROLE)
        it.setToolTip(tips[c])
        if c in (0, SCORE_COLUMN, DRAQ_COLUMN, COST_COLUMN, SIMILARITY_COLUMN):
            it.setData(_RIGHT, QtCore.Qt.ItemDataRole.TextAlignmentRole)
        items.append(it)
    verdict = items[VERDICT_COLUMN]
    verdict.setData(badge, BADGE_ROLE)
    verdict.setData(kind, BADGE_KIND_ROLE)
    verdict.setData(badge, QtCore.Qt.ItemDataRole.AccessibleTextRole)
    verdict.setData(badge_pixmap(badge, kind), QtCore.Qt.ItemDataRole.DecorationRole)
    if r.mode == "full":
        items[PART_COLUMN].setForeground(QtGui.QBrush(_DIM))
    if r.compared_on in COMPARED_COLOURS:
        items[COMPARED_COLUMN].setForeground(QtGui.QBrush(COMPARED_COLOURS[r.compared_on]))
    if r.has_person:
        items[PERSON_COLUMN].setIcon(person_icon())
    elif r.has_person is False:
        items[PERSON_COLUMN].setForeground(QtGui.QBrush(_DIM))
    return items


class _PixmapDelegate(QtWidgets.QStyledItemDelegate):
    """Draws a cell's pixmap (preview strip, badge) untinted, also in the selected row.

    Only on the two pixmap columns: the style would tint a selected row's decoration
    with the highlight colour, and a thumbnail should keep its true colours.
    """

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex,
    ) -> None:
        opt = QtWidgets.QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        pix = index.data(QtCore.Qt.ItemDataRole.DecorationRole)
        opt.icon = QtGui.QIcon()
        opt.text = ""
        opt.features &= ~QtWidgets.QStyleOptionViewItem.ViewItemFeature.HasDecoration
        style = opt.widget.style() if opt.widget else QtWidgets.QApplication.style()
        style.drawControl(QtWidgets.QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        if isinstance(pix, QtGui.QPixmap) and not pix.isNull():
            size = pix.deviceIndependentSize()
            r = opt.rect
            painter.drawPixmap(
                QtCore.QPointF(r.x() + 3, r.y() + (r.height() - size.height()) / 2), pix
            )


class CandidatesView(QtWidgets.QWidget):
    """The ranked matches; selecting one emits :attr:`selected`.

    Signals
    -------
    selected(match)
        The library ``Match`` of the chosen row (``None`` when the selection clears).
    """

    selected = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = CandidatesModel(self)
        self.proxy = QtCore.QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self._pixmaps = _PixmapDelegate(self.table)
        self.table.setItemDelegateForColumn(1, self._pixmaps)
        self.table.setItemDelegateForColumn(VERDICT_COLUMN, self._pixmaps)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(STRIP_HEIGHT + 8)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for col, width in (
            (0, 34),
            (1, STRIP_FRAMES * 56),
            (VERDICT_COLUMN, 128),
            (PART_COLUMN, 140),
            (COMPARED_COLUMN, 108),
            (SCORE_COLUMN, 66),
            (DRAQ_COLUMN, 62),
            (COST_COLUMN, 146),
            (SIMILARITY_COLUMN, 84),
            (PERSON_COLUMN, 66),
        ):
            self.table.setColumnWidth(col, width)
        for col in (PART_COLUMN, COMPARED_COLUMN, PERSON_COLUMN):
            self.table.setColumnHidden(col, True)  # until matches say something
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.caption = QtWidgets.QLabel("Run a query to see ranked matches")
        self.caption.setObjectName("dim")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)

    def set_matches(self, matches: list[Any], caption: str = "") -> None:
        """Show the matches of a query (ranked order) and select none.

        Columns that would say nothing are hidden: "Compared on" outside ``auto``
        libraries, "Aligned part" when every match aligns whole, "Person" without pose
        (and in ``auto`` libraries, where "Compared on" says it).

        Parameters
        ----------
        matches : list of Match
        caption : str
            The line above the table (default: the number of matches).
        """
        self.table.clearSelection()
        self.model.set_matches(matches)
        rows = self.model.rows
        auto = any(r.compared_on is not None for r in rows)
        self.table.setColumnHidden(COMPARED_COLUMN, not auto)
        self.table.setColumnHidden(PART_COLUMN, all(r.mode == "full" for r in rows))
        self.table.setColumnHidden(PERSON_COLUMN, auto or all(r.has_person is None for r in rows))
        # Ranked by pose similarity, the score is its negative: the Similarity column
        # already says it, and a negative "score" only puzzles a reader.
        by_pose = bool(rows) and all(r.compared_on == "pose" for r in rows)
        self.table.setColumnHidden(SCORE_COLUMN, by_pose)
        self.caption.setText(caption or f"{len(matches)} matches")

    def row_of_view(self, view_row: int) -> CandidateRow:
        """The :class:`CandidateRow` shown at table row ``view_row`` (after sorting)."""
        src = self.proxy.mapToSource(self.proxy.index(view_row, 0))
        return self.model.rows[src.row()]

    def cell(self, view_row: int, column: int, role: int | None = None) -> Any:
        """What the table shows at (``view_row``, ``column``) in ``role`` (default: text)."""
        role = QtCore.Qt.ItemDataRole.DisplayRole if role is None else role
        return self.proxy.index(view_row, column).data(role)

    def select_view_row(self, view_row: int) -> None:
        """Select the row shown at ``view_row``."""
        self.table.selectRow(view_row)

    def current(self) -> CandidateRow | None:
        """The selected row, if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.rows[self.proxy.mapToSource(rows[0]).row()]

    def _on_selection(self, *_: object) -> None:
        row = self.current()
        self.selected.emit(row.match if row is not None else None)
