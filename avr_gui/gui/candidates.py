"""The ranked matches: a sortable table with thumbnail strips and an "alignable" badge.

The badge threshold, :data:`ALIGNABLE_DRAQ`: a pair is called *alignable* when its
DRAQ is at most 0.5, i.e. the optimal warp costs at most half of what a random monotone
warp costs on average (DRAQ near 1 = no better than chance). On the generated demo clips
same-action pairs score 0.16-0.20 and different actions 0.68-0.70 (docs/RESULTS.md), so
0.5 sits in the gap. On real footage with ImageNet features DRAQ stays near 0.8 for
every pair (E3), so the badge is rarely shown there; that is the honest answer, not a bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.video import thumbnail
from avr_gui.gui.frame_source import to_qimage
from avr_gui.gui.library_panel import person_icon, person_text

#: Largest DRAQ called "alignable" (see the module docstring for why 0.5).
ALIGNABLE_DRAQ = 0.5
#: Frames in a candidate's thumbnail strip.
STRIP_FRAMES = 5
STRIP_HEIGHT = 40

COLUMNS = (
    "#",
    "Preview",
    "Clip",
    "Score",
    "DRAQ",
    "DTW cost",
    "Similarity",
    "Alignable",
    "Person",
)
#: Column saying whether the match has a tracked person.
PERSON_COLUMN = 8
#: Role holding the raw number a column sorts by.
SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1


@dataclass
class CandidateRow:
    """What the table shows for one match."""

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

    @property
    def alignable(self) -> bool:
        """DRAQ at or below :data:`ALIGNABLE_DRAQ`."""
        return bool(np.isfinite(self.draq) and self.draq <= ALIGNABLE_DRAQ)

    @classmethod
    def from_match(cls, match: Any) -> CandidateRow:
        """Build from a library ``Match``."""
        return cls(
            int(match.rank),
            str(match.path),
            float(match.score),
            float(match.draq),
            float(match.dtw_cost),
            float(match.normalized_cost),
            float(match.similarity),
            match,
            has_person=getattr(match, "has_person", None),  # None before pose existed
        )


def strip_times(match: Any, count: int = STRIP_FRAMES) -> np.ndarray:
    """Match times (s) for a thumbnail strip: evenly along the aligned part of the path.

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


def make_strips(rows: list[tuple[str, np.ndarray]], progress, cancel) -> dict[str, QtGui.QImage]:
    """Worker job: thumbnail strips keyed by path (files that fail get none)."""
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
    "Ranking score (lower = better)",
    "DTW cost ÷ mean random-path cost: near 0 aligns far better than chance, near 1 = chance",
    "Cost of the optimal warp path (summed cosine distance); per step = ÷ (n + m)",
    "Cosine similarity of the clip vectors (retrieval stage)",
    f"Alignable when DRAQ ≤ {ALIGNABLE_DRAQ}",
    "Whether a person is tracked in the match (libraries indexed with a pose encoder)",
)


#: Role of the alignable column's word ("alignable" or "weak"), drawn as a badge.
BADGE_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2
#: Largest preview drawn in the table (the column width less a small margin).
STRIP_BOX = (STRIP_FRAMES * 56 - 6, STRIP_HEIGHT)

_RIGHT = int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)


def fit_strip(strip: QtGui.QImage, box: tuple[int, int] = STRIP_BOX) -> QtGui.QImage:
    """``strip`` shrunk (never enlarged) to fit ``box`` (width, height), keeping its aspect."""
    if strip.isNull() or (strip.width() <= box[0] and strip.height() <= box[1]):
        return strip
    return strip.scaled(
        box[0],
        box[1],
        QtCore.Qt.AspectRatioMode.KeepAspectRatio,
        QtCore.Qt.TransformationMode.SmoothTransformation,
    )


_BADGES: dict[bool, QtGui.QPixmap] = {}


def badge_pixmap(good: bool) -> QtGui.QPixmap:
    """The rounded "alignable" / "weak" badge, drawn once per kind (GUI thread)."""
    if good not in _BADGES:
        text = "alignable" if good else "weak"
        font = QtWidgets.QApplication.font()
        fm = QtGui.QFontMetrics(font)
        dpr = 2.0
        w, h = fm.horizontalAdvance(text) + 16, 18
        pix = QtGui.QPixmap(round(w * dpr), round(h * dpr))
        pix.setDevicePixelRatio(dpr)
        pix.fill(QtCore.Qt.GlobalColor.transparent)
        p = QtGui.QPainter(pix)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.setFont(font)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(QtGui.QColor(46, 160, 90) if good else QtGui.QColor(80, 80, 88))
        p.drawRoundedRect(QtCore.QRectF(0, 0, w, h), 9, 9)
        p.setPen(QtGui.QColor(255, 255, 255) if good else QtGui.QColor(190, 190, 195))
        p.drawText(QtCore.QRectF(0, 0, w, h), QtCore.Qt.AlignmentFlag.AlignCenter, text)
        p.end()
        _BADGES[good] = pix
    return _BADGES[good]


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
        """Replace the rows with library ``Match`` objects, in ranked order."""
        self.rows = [CandidateRow.from_match(m) for m in matches]
        self.setRowCount(0)
        for r in self.rows:
            self.appendRow(_items(r))

    def set_strips(self, strips: dict[str, QtGui.QImage]) -> None:
        """Attach thumbnail strips (keyed by path) to their rows' preview cells."""
        for k, r in enumerate(self.rows):
            if r.path in strips:
                r.strip = strips[r.path]
                pix = QtGui.QPixmap.fromImage(fit_strip(r.strip))  # no-op if fitted
                self.item(k, 1).setData(pix, QtCore.Qt.ItemDataRole.DecorationRole)


def _items(r: CandidateRow) -> list[QtGui.QStandardItem]:
    """The cells of one row, every role filled in (see :class:`CandidatesModel`)."""
    name = Path(r.path).name
    person, person_tip = person_text(r.has_person)
    text = (
        str(r.rank),
        "",
        name,
        f"{r.score:.3f}",
        f"{r.draq:.3f}",
        f"{r.dtw_cost:.2f}  ({r.normalized_cost:.3f}/step)",
        f"{r.similarity:.3f}",
        "",
        person,
    )
    sort = (
        r.rank,
        r.rank,
        name.lower(),
        r.score,
        r.draq,
        r.dtw_cost,
        r.similarity,
        r.draq,
        -1 if r.has_person is None else int(r.has_person),
    )
    badge = "alignable" if r.alignable else "weak"
    tips = [r.path] * len(COLUMNS)
    tips[7] = f"DRAQ {r.draq:.3f} {'≤' if r.alignable else '>'} {ALIGNABLE_DRAQ}: " + (
        "the optimal warp costs at most half of a random one"
        if r.alignable
        else "not clearly better than a random warp"
    )
    tips[PERSON_COLUMN] = person_tip
    flags = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
    items = []
    for c in range(len(COLUMNS)):
        it = QtGui.QStandardItem(text[c])
        it.setFlags(flags)
        it.setData(sort[c], SORT_ROLE)
        it.setToolTip(tips[c])
        if c in (0, 3, 4, 5, 6):
            it.setData(_RIGHT, QtCore.Qt.ItemDataRole.TextAlignmentRole)
        items.append(it)
    items[7].setData(badge, BADGE_ROLE)
    items[7].setData(badge, QtCore.Qt.ItemDataRole.AccessibleTextRole)
    items[7].setData(badge_pixmap(r.alignable), QtCore.Qt.ItemDataRole.DecorationRole)
    if r.has_person:
        items[PERSON_COLUMN].setIcon(person_icon())
    elif r.has_person is False:
        items[PERSON_COLUMN].setForeground(QtGui.QBrush(QtGui.QColor(130, 132, 140)))
    return items


class _PixmapDelegate(QtWidgets.QStyledItemDelegate):
    """Draws a cell's pixmap (preview strip, badge) untinted, also in the selected row.

    Only on the two pixmap columns: the style would tint a selected row's decoration
    with the highlight colour, and a thumbnail should keep its true colours.
    """

    def paint(self, painter: QtGui.QPainter, option, index: QtCore.QModelIndex) -> None:
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
        self.table.setItemDelegateForColumn(7, self._pixmaps)
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
            (3, 70),
            (4, 70),
            (5, 150),
            (6, 84),
            (7, 96),
            (PERSON_COLUMN, 66),
        ):
            self.table.setColumnWidth(col, width)
        self.table.setColumnHidden(PERSON_COLUMN, True)  # until matches say something
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.caption = QtWidgets.QLabel("Run a query to see ranked matches")
        self.caption.setObjectName("dim")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)

    def set_matches(self, matches: list[Any], caption: str = "") -> None:
        """Show the matches of a query (ranked order) and select none."""
        self.table.clearSelection()
        self.model.set_matches(matches)
        self.table.setColumnHidden(
            PERSON_COLUMN, all(r.has_person is None for r in self.model.rows)
        )
        self.caption.setText(caption or f"{len(matches)} matches")

    def row_of_view(self, view_row: int) -> CandidateRow:
        """The :class:`CandidateRow` shown at table row ``view_row`` (after sorting)."""
        src = self.proxy.mapToSource(self.proxy.index(view_row, 0))
        return self.model.rows[src.row()]

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
