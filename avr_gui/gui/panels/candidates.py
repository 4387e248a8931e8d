"""The ranked matches: a sortable table with thumbnail strips and a calibrated verdict badge.

The verdict (:mod:`avr_gui.core.align.verdict`) is the probability that a match shows the
same action as the query and can be aligned to it, calibrated on held-out data (pose
similarity for pose-ranked pairs, DTW cost per step for appearance-ranked ones). The
badge says ``alignable`` (green, p ≥ ``verdict.alignable``, 0.5 shipped), ``possible``
(amber, down to ``verdict.unlikely``, 0.2 shipped) or ``unlikely`` (grey) with the
percentage. Libraries whose features have no fitted model (``thumb16``,
``pose-movenet``, ...) get no verdict: the badge then shows DRAQ alone, drawn as a
neutral outline, because a fixed DRAQ threshold does not carry over between features
(true push-up matches on real footage read DRAQ 0.66-0.93).

``auto`` libraries also say what each pair was compared on (body pose or appearance),
and a partial match says which part of it aligns.

The rows and their cells are :mod:`.candidate_rows`; the previews :mod:`.strips`. Their
names are re-exported here, where the table's users look for them.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.workspace.labels import Thresholds, badge_for, compared_text, part_text, percent
from avr_gui.gui.panels.candidate_rows import (
    BADGE_HEIGHT,
    BADGE_KIND_ROLE,
    BADGE_ROLE,
    BADGE_STYLES,
    COLUMNS,
    COMPARED_COLOURS,
    COMPARED_COLUMN,
    COST_COLUMN,
    DRAQ_COLUMN,
    PART_COLUMN,
    PERSON_COLUMN,
    SCORE_COLUMN,
    SIMILARITY_COLUMN,
    SORT_ROLE,
    VERDICT_COLUMN,
    VERDICT_TIP,
    CandidateRow,
    CandidatesModel,
    badge_pixmap,
)
from avr_gui.gui.panels.elide import EndKeepingDelegate
from avr_gui.gui.panels.strips import (
    STRIP_BOX,
    STRIP_FRAMES,
    STRIP_HEIGHT,
    fit_strip,
    make_strips,
    strip_times,
    thumbnail_strip,
)

__all__ = [
    "BADGE_HEIGHT",
    "BADGE_KIND_ROLE",
    "BADGE_ROLE",
    "BADGE_STYLES",
    "COLUMNS",
    "COMPARED_COLOURS",
    "COMPARED_COLUMN",
    "COST_COLUMN",
    "DRAQ_COLUMN",
    "FRAME_WIDTH",
    "PART_COLUMN",
    "PERSON_COLUMN",
    "SCORE_COLUMN",
    "SIMILARITY_COLUMN",
    "SORT_ROLE",
    "STALE_TEXT",
    "STRIP_BOX",
    "STRIP_FRAMES",
    "STRIP_HEIGHT",
    "VERDICT_COLUMN",
    "VERDICT_TIP",
    "CandidateRow",
    "CandidatesModel",
    "CandidatesView",
    "Thresholds",
    "badge_for",
    "badge_pixmap",
    "compared_text",
    "fit_strip",
    "make_strips",
    "part_text",
    "percent",
    "strip_times",
    "thumbnail_strip",
]


#: The banner over matches found for another In/Out of the query.
STALE_TEXT = (
    "⚠ These matches were found for another In/Out of the query: "
    "find matches again (Ctrl+Return) to search with the new one."
)
_STALE_STYLE = (
    "QLabel { color: #1c1810; background: #d6982c; border-radius: 4px; padding: 3px 6px; }"
)


#: Width the table gives each preview frame (a 4:3 frame 40 px tall is 53 px wide).
FRAME_WIDTH = 56
#: Fewest preview frames a narrow table shows (the first and the last of the part).
MIN_PREVIEW_FRAMES = 2
#: Most room the Clip column asks for before the previews shrink (longer names elide).
CLIP_WANT_MAX = 260


def strip_frames(
    strip_size: tuple[float, float], shown: int, total: int = STRIP_FRAMES
) -> list[tuple[float, float]]:
    """Source spans ``(x, width)`` of ``shown`` of a strip's ``total`` frames, evenly spread.

    The strip is ``total`` frames :data:`STRIP_HEIGHT` tall side by side with one-pixel
    gaps (:func:`~avr_gui.gui.panels.strips.thumbnail_strip`), maybe scaled down as a
    whole to fit the table (:func:`~avr_gui.gui.panels.strips.fit_strip`).

    Parameters
    ----------
    strip_size : (float, float)
        Width and height of the strip's pixmap (logical pixels).
    shown, total : int

    Returns
    -------
    list of (float, float)
        Left edge and width in the strip of each frame drawn, the first and the last
        frame always among them.
    """
    shown = max(1, min(shown, total))
    width, height = strip_size
    gap = min(1.0, height / STRIP_HEIGHT)  # the gaps shrank with the strip
    frame = (width - gap * (total - 1)) / total
    picks = [round(k * (total - 1) / (shown - 1)) for k in range(shown)] if shown > 1 else [0]
    return [(k * (frame + gap), frame) for k in picks]


class _PixmapDelegate(QtWidgets.QStyledItemDelegate):
    """Draws a cell's pixmap (preview strip, badge) untinted, also in the selected row.

    Only on the two pixmap columns: the style would tint a selected row's decoration
    with the highlight colour, and a thumbnail should keep its true colours. A preview
    strip is drawn with :attr:`preview_frames` of its frames, evenly spread, so a
    narrow table keeps the start and the end of each match's part and gives its width
    to the clip names.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview_frames = STRIP_FRAMES

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
        if not isinstance(pix, QtGui.QPixmap) or pix.isNull():
            return
        size = pix.deviceIndependentSize()
        r = opt.rect
        x, y = r.x() + 3, r.y() + (r.height() - size.height()) / 2
        if index.column() != 1 or self.preview_frames >= STRIP_FRAMES:
            painter.drawPixmap(QtCore.QPointF(x, y), pix)
            return
        dpr = pix.devicePixelRatio()
        for sx, sw in strip_frames(size.toTuple(), self.preview_frames):
            source = QtCore.QRectF(sx * dpr, 0, sw * dpr, size.height() * dpr)
            painter.drawPixmap(QtCore.QRectF(x, y, sw, size.height()), pix, source)
            x += sw + 1


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
        # A long name loses its middle, not its end: takes differ in their last
        # characters ("action0_v03.mp4"); the tooltip has the whole path.
        self._names = EndKeepingDelegate(self.table)
        self.table.setItemDelegateForColumn(2, self._names)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for col, width in (
            (0, 34),
            (1, STRIP_FRAMES * FRAME_WIDTH),
            (VERDICT_COLUMN, 128),
            (PART_COLUMN, 140),
            (COMPARED_COLUMN, 140),  # "pose · upper body"
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
        self.stale_label = QtWidgets.QLabel(STALE_TEXT)
        self.stale_label.setObjectName("staleBanner")
        self.stale_label.setWordWrap(True)
        self.stale_label.setStyleSheet(_STALE_STYLE)
        self.stale_label.setVisible(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.stale_label)
        layout.addWidget(self.table, 1)

    @property
    def preview_frames(self) -> int:
        """Frames of each preview strip the table shows now (fewer when it is narrow)."""
        return self._pixmaps.preview_frames

    def fit_columns(self) -> None:
        """Give the clip names room: fewer preview frames when the table is narrow.

        The Clip column stretches over what the other columns leave. When that is less
        than the longest name needs (up to :data:`CLIP_WANT_MAX`), the previews show
        fewer frames, down to :data:`MIN_PREVIEW_FRAMES`; a name still too long loses
        its middle (:mod:`.elide`: most of what stays is its end).
        """
        table = self.table
        fixed = sum(
            table.columnWidth(c)
            for c in range(self.model.columnCount())
            if c not in (1, 2) and not table.isColumnHidden(c)
        )
        metrics = table.fontMetrics()
        names = [self.model.item(k, 2).text() for k in range(self.model.rowCount())]
        longest = max((metrics.horizontalAdvance(n) for n in names), default=0)
        want = min(longest + 20, CLIP_WANT_MAX)
        room = table.viewport().width() - fixed
        frames = STRIP_FRAMES
        while frames > MIN_PREVIEW_FRAMES and room - frames * FRAME_WIDTH < want:
            frames -= 1
        if frames != self._pixmaps.preview_frames or table.columnWidth(1) != frames * FRAME_WIDTH:
            self._pixmaps.preview_frames = frames
            table.setColumnWidth(1, frames * FRAME_WIDTH)
            table.viewport().update()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Where the verdict badge's words change (the ``verdict.*`` settings).

        Parameters
        ----------
        thresholds : Thresholds
        """
        self.model.set_thresholds(thresholds)

    def set_strips(self, strips: dict[str, QtGui.QImage]) -> None:
        """Attach thumbnail strips (keyed by path) as they arrive from a worker.

        Parameters
        ----------
        strips : dict of str to QImage
        """
        self.model.set_strips(strips)

    def set_caption(self, caption: str) -> None:
        """The line above the table."""
        self.caption.setText(caption)

    def set_stale(self, stale: bool) -> None:
        """Say (a banner above the table) that the matches are for another In/Out.

        Parameters
        ----------
        stale : bool
            ``Workspace.stale``: the matches shown were found for another query or trim.
        """
        self.stale_label.setVisible(bool(stale))

    @property
    def stale(self) -> bool:
        """Whether the matches are marked as found for another In/Out."""
        return not self.stale_label.isHidden()

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
        self.fit_columns()  # the names and the columns shown changed
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
