"""The rows of the matches table: one :class:`CandidateRow` per match, and its cells.

Every cell's text, tooltip, badge and preview is stored in :class:`CandidatesModel` up
front (see its docstring); the words come from :mod:`avr_gui.core.workspace.labels`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.workspace.labels import (
    Thresholds,
    badge_for,
    compared_text,
    part_text,
    percent,
)
from avr_gui.gui.panels.library_panel import person_icon, person_text
from avr_gui.gui.panels.strips import fit_strip

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

#: The badge's tooltip at the shipped thresholds.
VERDICT_TIP = Thresholds().tip()


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
    compared_parts : str or None
        ``Match.compared_parts``: the body parts a pose comparison used.
    mode : str
        ``Match.mode``.
    query_span, match_span : (float, float) or None
        The aligned part of each clip, in seconds.
    thresholds : Thresholds
        Where the verdict's words change (the ``verdict.*`` settings).
    same_footage : bool
        ``Match.same_footage``: the query is cut from this clip (ranked first).
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
    compared_parts: str | None = None
    mode: str = "full"
    query_span: tuple[float, float] | None = None
    match_span: tuple[float, float] | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    same_footage: bool = False

    @property
    def verdict(self) -> str:
        """``alignable``, ``possible``, ``unlikely``, or ``-`` without a probability."""
        return self.thresholds.label(self.probability)

    @property
    def badge(self) -> tuple[str, str]:
        """Badge text and kind (:func:`~avr_gui.core.workspace.labels.badge_for`)."""
        return badge_for(self.probability, self.draq, self.thresholds)

    @classmethod
    def from_match(cls, match: Any, thresholds: Thresholds | None = None) -> CandidateRow:
        """Build from a library ``Match`` (fields an older core lacks default to "unknown").

        Parameters
        ----------
        match : Match
        thresholds : Thresholds, optional
            Where the verdict's words change (default: the shipped ones).

        Returns
        -------
        CandidateRow
        """
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
            compared_parts=getattr(match, "compared_parts", None),
            mode=str(getattr(match, "mode", "full") or "full"),
            query_span=getattr(match, "query_span_s", None),
            match_span=getattr(match, "match_span_s", None),
            thresholds=thresholds or Thresholds(),
            same_footage=bool(getattr(match, "same_footage", False)),
        )


_HEADER_TIPS = (
    "Rank by the ranking score",
    "Frames along the aligned part of the match",
    "File name",
    "",  # the verdict's: it names the thresholds (:func:`header_tips`)
    "Which part of the match lines up with the query: the whole clip, or a part of it",
    "What the pair was compared on: body pose when a person performs in the query "
    "(and the match), appearance otherwise; 'pose · upper body' (or 'legs'): only the "
    "limbs both clips show were compared",
    "Ranking score (lower = better); for a pose-ranked query, minus the pose similarity",
    "DTW cost ÷ mean random-path cost: near 0 aligns far better than chance, near 1 = chance",
    "Cost of the optimal warp path (summed cosine distance); per step = ÷ (n + m)",
    "Cosine similarity of the clip vectors (retrieval stage); for a pose-ranked query, "
    "the pose similarity the matches are ranked by",
    "Whether a person is tracked in the match (libraries indexed with a pose encoder)",
)

#: Badge height in pixels.
BADGE_HEIGHT = 20

_RIGHT = int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)


def header_tips(thresholds: Thresholds) -> tuple[str, ...]:
    """The column headers' tooltips (the verdict's names the thresholds)."""
    tips = list(_HEADER_TIPS)
    tips[VERDICT_COLUMN] = (
        thresholds.tip() + " Libraries without a calibrated model show DRAQ alone (outlined)."
    )
    return tuple(tips)


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
        self.rows: list[CandidateRow] = []
        self.set_thresholds(Thresholds())

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Where the verdict's words change, for the rows set from now on.

        Parameters
        ----------
        thresholds : Thresholds
        """
        self.thresholds = thresholds
        for c, tip in enumerate(header_tips(thresholds)):
            self.horizontalHeaderItem(c).setToolTip(tip)

    def set_matches(self, matches: list[Any]) -> None:
        """Replace the rows with library ``Match`` objects, in ranked order.

        Parameters
        ----------
        matches : list of Match
        """
        self.rows = [CandidateRow.from_match(m, self.thresholds) for m in matches]
        self.setRowCount(0)
        for r in self.rows:
            self.appendRow(row_items(r))

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
    return f"{r.verdict} {percent(r.probability)} (from the {cue}). {r.thresholds.tip()}"


def row_items(r: CandidateRow) -> list[QtGui.QStandardItem]:
    """The cells of one row, every role filled in (see :class:`CandidatesModel`).

    Parameters
    ----------
    r : CandidateRow

    Returns
    -------
    list of QStandardItem
        One per column of :data:`COLUMNS`.
    """
    name = Path(r.path).name
    person, person_tip = person_text(r.has_person)
    badge, kind = r.badge
    part, part_tip = part_text(r.mode, r.query_span, r.match_span)
    compared, compared_tip = compared_text(r.compared_on, r.has_person, r.compared_parts)
    by_pose = r.compared_on == "pose"
    text = {
        0: str(r.rank),
        1: "",
        2: f"{name}  · same footage" if r.same_footage else name,
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
    if r.same_footage:
        tips[2] = (
            f"{r.path}\nThe query is cut from this clip (its frames appear in it), so it "
            "is ranked first whatever its score."
        )
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
