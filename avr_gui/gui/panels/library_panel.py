"""The library panel: folders, indexing with progress and cancel, failures, videos.

The panel never calls the library itself: it emits requests (add/remove folder, index,
cancel) that the main window turns into jobs, and shows what the jobs report. So no
library call ever runs on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.video import thumbnail
from avr_gui.core.workspace.features import (
    DESCRIPTIONS,
    SWITCHABLE,
    features_summary,
    label_of,
)
from avr_gui.gui.frame_source import to_qimage
from avr_gui.gui.panels.elide import EndKeepingDelegate
from avr_gui.gui.theme import resource

THUMB_SIDE = 64
PATH_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = QtCore.Qt.ItemDataRole.UserRole + 3
#: Role of the person column's word ("yes"/"no", or "Pose"/"Appearance" in ``auto``
#: libraries, where the cell shows a glyph instead).
COMPARED_ROLE = QtCore.Qt.ItemDataRole.UserRole + 4
#: Role of a video's name cell in an ``auto`` library: compared by pose (True) or
#: appearance (False), drawn as a glyph on its thumbnail; None elsewhere.
POSE_ROLE = QtCore.Qt.ItemDataRole.UserRole + 5
#: On a video's name item: seconds readable of a clip cut short (None when intact).
DAMAGED_ROLE = QtCore.Qt.ItemDataRole.UserRole + 6
#: Mark before the name of a damaged clip.
DAMAGED_MARK = "⚠"
#: Column of the video list that says whether a clip has a tracked person.
PERSON_COLUMN = 2
_PERSON_ICON: QtGui.QIcon | None = None


def person_icon() -> QtGui.QIcon:
    """The small icon of a clip with a tracked person (shared with the matches table)."""
    global _PERSON_ICON
    if _PERSON_ICON is None:
        _PERSON_ICON = QtGui.QIcon(resource("person.svg"))
    return _PERSON_ICON


#: Header text and tooltip of that column, by kind of library.
PERSON_HEADER = (
    "Person",
    "Whether a person is tracked in the clip (libraries indexed with a pose encoder)",
)
COMPARED_HEADER = (
    "Compared by",
    "Compared by (auto features): body pose (the figure) when a person performs in the "
    "clip, so it is ranked by how the body moves; appearance (the picture) otherwise, "
    "by how its frames look",
)
#: Size (logical pixels) of the pose / appearance glyphs of ``auto`` libraries, drawn in
#: a corner of each thumbnail: a column of its own would leave the names no room.
GLYPH_SIDE = 16
_GLYPHS: dict[bool, QtGui.QPixmap] = {}


def compared_glyph(pose: bool) -> QtGui.QPixmap:
    """The small glyph of a clip compared by body pose (a figure) or appearance (a picture).

    Parameters
    ----------
    pose : bool

    Returns
    -------
    QPixmap
        :data:`GLYPH_SIDE` logical pixels square, device pixel ratio 2 (GUI thread).
    """
    if pose not in _GLYPHS:
        dpr = 2.0
        side = GLYPH_SIDE
        pix = QtGui.QPixmap(round(side * dpr), round(side * dpr))
        pix.setDevicePixelRatio(dpr)
        pix.fill(QtCore.Qt.GlobalColor.transparent)
        p = QtGui.QPainter(pix)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        if pose:
            person_icon().paint(p, QtCore.QRect(0, 0, side, side))
        else:  # a framed picture: a hill and a sun
            grey = QtGui.QColor(176, 178, 186)
            p.setPen(QtGui.QPen(grey, 1.3))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QtCore.QRectF(1.5, 3.0, 13.0, 10.5), 1.5, 1.5)
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(grey)
            hill = QtGui.QPolygonF(
                [QtCore.QPointF(3, 12), QtCore.QPointF(7, 7.5), QtCore.QPointF(10.5, 12)]
            )
            p.drawPolygon(hill)
            p.drawEllipse(QtCore.QPointF(11, 6.3), 1.4, 1.4)
        p.end()
        _GLYPHS[pose] = pix
    return _GLYPHS[pose]


def person_text(has_person: bool | None, auto: bool = False) -> tuple[str, str]:
    """Cell text and tooltip for ``VideoEntry.has_person`` / ``Match.has_person``.

    Parameters
    ----------
    has_person : bool or None
    auto : bool
        The library has ``auto`` features: ``has_person`` then means that a person
        performs in the clip, so that it is compared by body pose.

    Returns
    -------
    text, tooltip : str
    """
    if auto:
        if has_person is None:
            return "", "Not indexed yet: how it is compared is decided when it is"
        if has_person:
            return "Pose", (
                "A person performs in this clip: it is compared by body pose (how the "
                "body moves), not by the room, the clothes or the camera"
            )
        return "Appearance", (
            "No one performs in this clip: it is compared by appearance (how its frames look)"
        )
    if has_person is None:
        return "", "The library's encoder tracks no pose"
    if has_person:
        return "yes", "A person is tracked in this clip (pose landmarks stored)"
    return "no", "No person was found in any sampled frame"


def thumbnail_with_glyph(image: QtGui.QImage | None, pose: bool | None) -> QtGui.QPixmap | None:
    """A library thumbnail with the pose / appearance glyph in its lower right corner.

    Parameters
    ----------
    image : QImage or None
        The thumbnail (None while it is being made: the glyph alone).
    pose : bool or None
        Compared by body pose (True) or appearance (False); None: no glyph.

    Returns
    -------
    QPixmap or None
        None when there is neither an image nor a glyph.
    """
    if pose is None:
        return None if image is None else QtGui.QPixmap.fromImage(image)
    glyph = compared_glyph(pose)
    if image is None:
        return glyph
    pix = QtGui.QPixmap.fromImage(image)
    p = QtGui.QPainter(pix)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
    side = GLYPH_SIDE
    box = QtCore.QRectF(pix.width() - side - 3, pix.height() - side - 3, side + 2, side + 2)
    p.setPen(QtCore.Qt.PenStyle.NoPen)
    p.setBrush(QtGui.QColor(20, 21, 24, 200))
    p.drawRoundedRect(box, 4, 4)
    p.drawPixmap(box.adjusted(1, 1, -1, -1), glyph, QtCore.QRectF(glyph.rect()))
    p.end()
    return pix


def make_thumbnails(paths: list[str], progress, cancel) -> dict[str, QtGui.QImage]:
    """Worker job: a small frame from the middle of each video (failures get none)."""
    from avr_gui.core.errors import AvrError
    from avr_gui.core.jobs import check
    from avr_gui.core.video import readable_duration

    out: dict[str, QtGui.QImage] = {}
    for k, path in enumerate(paths):
        check(cancel)
        progress(k, len(paths), Path(path).name)
        try:
            # The middle of what decodes: a clip cut short has nothing at half its
            # announced length.
            duration = readable_duration(path).readable_s
            out[path] = to_qimage(thumbnail(path, duration / 2, max_side=THUMB_SIDE))
        except AvrError:
            continue
    return out


def damage_text(damaged_at: float | None, duration: float) -> str:
    """``"plays to 4.1 s of 10.0 s"`` for a clip cut short, else ``""``.

    The player says the same of a damaged clip it loads ("damaged: plays to ...").

    Parameters
    ----------
    damaged_at : float or None
        Seconds readable (the catalog's ``damaged_at``); None for an intact clip.
    duration : float
        Announced length in seconds.
    """
    if damaged_at is None:
        return ""
    return f"plays to {damaged_at:.1f} s of {duration:.1f} s"


def _duration(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}" if seconds > 0 else "–"


#: What :func:`features_summary` says before an ``auto`` library's split.
_AUTO_PREFIX = "Features: automatic: "
#: Folder rows shown before the folder list scrolls.
FOLDER_ROWS = 3
#: Text of the indexing bar (short: the bar shares a narrow row with two buttons).
_BAR_FORMAT = "%v/%m"

#: Size of a video row's picture: every row has one (a placeholder until its thumbnail
#: arrives), so rows never change height under the pointer while thumbnails load.
THUMB_SIZE = QtCore.QSize(THUMB_SIDE, THUMB_SIDE * 3 // 4)
#: On a video's name item: True once its real thumbnail is shown (not the placeholder).
THUMB_ROLE = QtCore.Qt.ItemDataRole.UserRole + 7
#: On a video's name item: the glyph drawn on its picture (the ``POSE_ROLE`` it had).
_GLYPH_ROLE = QtCore.Qt.ItemDataRole.UserRole + 8
_PLACEHOLDER: QtGui.QImage | None = None


def placeholder_thumbnail() -> QtGui.QImage:
    """The grey frame a video row shows until its thumbnail arrives (GUI thread)."""
    global _PLACEHOLDER
    if _PLACEHOLDER is None:
        img = QtGui.QImage(THUMB_SIZE, QtGui.QImage.Format.Format_RGB32)
        img.fill(QtGui.QColor(44, 46, 52))
        p = QtGui.QPainter(img)
        p.setPen(QtGui.QPen(QtGui.QColor(70, 72, 80), 1))
        p.drawRect(img.rect().adjusted(0, 0, -1, -1))
        p.end()
        _PLACEHOLDER = img
    return _PLACEHOLDER


def _fit_thumbnail(image: QtGui.QImage) -> QtGui.QImage:
    """``image`` centred on a :data:`THUMB_SIZE` frame: every row's picture is that size."""
    if image.size() == THUMB_SIZE:
        return image
    scaled = image.scaled(
        THUMB_SIZE,
        QtCore.Qt.AspectRatioMode.KeepAspectRatio,
        QtCore.Qt.TransformationMode.SmoothTransformation,
    )
    out = QtGui.QImage(THUMB_SIZE, QtGui.QImage.Format.Format_RGB32)
    out.fill(QtGui.QColor(20, 21, 24))
    p = QtGui.QPainter(out)
    p.drawImage(
        (THUMB_SIZE.width() - scaled.width()) // 2,
        (THUMB_SIZE.height() - scaled.height()) // 2,
        scaled,
    )
    p.end()
    return out


class LibraryPanel(QtWidgets.QWidget):
    """Folders, indexing progress and the videos of the library.

    Signals
    -------
    add_folder_requested(path), remove_folder_requested(path)
    index_requested(), cancel_requested()
    use_as_query(path)
        The user wants this library video as the query (double-click or button).
    """

    add_folder_requested = QtCore.Signal(str)
    remove_folder_requested = QtCore.Signal(str)
    index_requested = QtCore.Signal()
    cancel_requested = QtCore.Signal()
    use_as_query = QtCore.Signal(str)
    features_requested = QtCore.Signal(str)
    install_pose_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumbs: dict[str, QtGui.QImage] = {}
        self._busy = False
        self.encoder: str | None = None
        self._can_switch = True
        self._build_features()
        self.folders = QtWidgets.QListWidget()
        self.folders.setToolTip("Folders whose videos make up the library")
        # As tall as its folders (1 to FOLDER_ROWS rows): the videos need the height more.
        self.folders.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Fixed
        )
        # "Add…" beside the "Folders" heading: the row must fit the narrow dock.
        self.add_button = QtWidgets.QPushButton("Add…")
        self.add_button.setToolTip("Add a folder of videos to the library")
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected folder (its videos leave the library)")
        self.remove_button.clicked.connect(self._remove_selected)
        self.index_button = QtWidgets.QPushButton("Index")
        self.index_button.setObjectName("primary")
        self.index_button.setToolTip("Find new or changed videos and compute their features")
        self.index_button.clicked.connect(self.index_requested)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.overall = QtWidgets.QProgressBar()
        self.overall.setFormat(_BAR_FORMAT)
        # The bar may shrink (its text is also in the summary line): a narrow library
        # dock leaves the player its width on a 1366 px screen.
        self.overall.setMinimumWidth(40)
        self.overall.setToolTip("Videos indexed (or failed) of the videos found in the folders")
        self.overall.setRange(0, 1)
        self.overall.setValue(0)
        self.current = QtWidgets.QLabel("")
        self.current.setObjectName("dim")
        self.summary = QtWidgets.QLabel("No videos yet: add a folder, then Index")
        self.summary.setWordWrap(True)
        self.current.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.current.setVisible(False)  # while indexing only
        # The failures take one line until asked for: at 1366x768 a list of them open
        # left the videos one row.
        self.failures_button = QtWidgets.QToolButton()
        self.failures_button.setObjectName("failuresToggle")
        self.failures_button.setCheckable(True)
        self.failures_button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.failures_button.setArrowType(QtCore.Qt.ArrowType.RightArrow)
        self.failures_button.setAutoRaise(True)
        self.failures_button.setStyleSheet("QToolButton { color: rgb(240, 110, 100); }")
        self.failures_button.setToolTip("Show or hide the videos that could not be indexed")
        self.failures_button.toggled.connect(self.show_failures)
        self.failures_button.setVisible(False)
        self.failures = QtWidgets.QListWidget()
        self.failures.setObjectName("failures")
        self.failures.setMaximumHeight(90)
        self.failures.setWordWrap(True)
        self.failures.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.failures.setVisible(False)
        self.failures.setToolTip("Videos that could not be indexed, and why")
        self.filter = QtWidgets.QLineEdit()
        self.filter.setPlaceholderText("Filter videos…")
        self.filter.setToolTip("Show only the videos whose name contains this text")
        self.filter.setClearButtonEnabled(True)
        self.model = QtGui.QStandardItemModel(0, 3, self)
        self.model.setHorizontalHeaderLabels(["Video", "Length", "Person"])
        self.model.horizontalHeaderItem(1).setToolTip("Duration (minutes:seconds)")
        self.model.horizontalHeaderItem(PERSON_COLUMN).setToolTip(PERSON_HEADER[1])
        self.auto = False
        self.proxy = QtCore.QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(0)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.videos = QtWidgets.QTreeView()
        self.videos.setModel(self.proxy)
        self.videos.setRootIsDecorated(False)
        self.videos.setAlternatingRowColors(True)
        self.videos.setSortingEnabled(True)
        self.videos.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)
        self.videos.setIconSize(THUMB_SIZE)
        # One height for every row (each has a picture of THUMB_SIZE from the start):
        # a row that grew when its thumbnail arrived moved the rows under the pointer.
        self.videos.setUniformRowHeights(True)
        # Takes differ at the end of their names ("action0_v03.mp4"): keep the end.
        self._names = EndKeepingDelegate(self.videos)
        self.videos.setItemDelegateForColumn(0, self._names)
        self.videos.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.videos.doubleClicked.connect(self._on_double_click)
        self.videos.header().setStretchLastSection(False)
        self.videos.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.query_button = QtWidgets.QPushButton("Use as query")
        self.query_button.setToolTip("Query with the selected video (or double-click it)")
        self.query_button.clicked.connect(self._use_selected)

        # Headings share their rows with their controls: each line saved is height
        # the video list gets on a 768 px screen.
        buttons = QtWidgets.QHBoxLayout()
        title = QtWidgets.QLabel("Folders")
        title.setObjectName("heading")
        buttons.addWidget(title)
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        run = QtWidgets.QHBoxLayout()
        run.addWidget(self.index_button)
        run.addWidget(self.cancel_button)
        run.addWidget(self.overall, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addWidget(self.folders)
        layout.addLayout(run)
        layout.addWidget(self.current)
        layout.addWidget(self.summary)
        features = QtWidgets.QHBoxLayout()
        features.addWidget(QtWidgets.QLabel("Features"))
        features.addWidget(self.features_box, 1)
        layout.addLayout(features)
        layout.addWidget(self.features_label)
        layout.addWidget(self.install_pose_button)
        layout.addWidget(self.failures_button)
        layout.addWidget(self.failures)
        # The list's header says "Video"; its filter and action share one row above it.
        videos = QtWidgets.QHBoxLayout()
        videos.addWidget(self.filter, 1)
        videos.addWidget(self.query_button)
        layout.addLayout(videos)
        layout.addWidget(self.videos, 1)
        self._fit_folders()

    def _build_features(self) -> None:
        self.features_box = QtWidgets.QComboBox()
        self.features_box.setObjectName("featuresBox")
        # Elide long names rather than widen the dock: at 1366 px the player needs it.
        self.features_box.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.features_box.setMinimumContentsLength(10)
        self.features_box.setToolTip(
            "What clips are compared by. Choosing other features indexes every video again"
        )
        for name in SWITCHABLE:
            self.features_box.addItem(label_of(name), name)
            self.features_box.setItemData(
                self.features_box.count() - 1,
                DESCRIPTIONS.get(name, ""),
                QtCore.Qt.ItemDataRole.ToolTipRole,
            )
        self.features_box.setCurrentIndex(-1)
        self.features_box.setEnabled(False)  # until the library says what it has
        self.features_box.activated.connect(self._on_features_chosen)
        self.features_label = QtWidgets.QLabel("")
        self.features_label.setObjectName("dim")
        self.features_label.setWordWrap(True)
        self.install_pose_button = QtWidgets.QPushButton("Install body-pose models…")
        self.install_pose_button.setToolTip(
            "Download the BlazePose models once (about 36 MB) to compare people by how "
            "their body moves"
        )
        self.install_pose_button.clicked.connect(self.install_pose_requested)
        self.install_pose_button.setVisible(False)

    def _on_features_chosen(self, row: int) -> None:
        name = self.features_box.itemData(row)
        if name and name != self.encoder:
            self.features_requested.emit(name)
        self._show_encoder()  # the box shows the library's features until they change

    def _show_encoder(self) -> None:
        box = self.features_box
        row = box.findData(self.encoder) if self.encoder else -1
        if row < 0 and self.encoder:
            box.addItem(label_of(self.encoder), self.encoder)  # one only the CLI offers
            row = box.count() - 1
        box.blockSignals(True)
        box.setCurrentIndex(row)
        box.blockSignals(False)

    def set_features(self, encoder: str | None, entries: list[Any], learned: Any = None) -> None:
        """Show the library's features (``encoder``) and, for ``auto``, the split.

        Parameters
        ----------
        encoder : str or None
            The library's encoder name (None before its first index).
        entries : list of VideoEntry
        learned : LearnedInfo, optional
            The library's own pose model (``avr learn``), named on the features line.
        """
        self.encoder = encoder
        self._show_encoder()
        summary = features_summary(encoder, entries, learned)
        # The box beside "Features" names them: the line below says the split alone
        # ("15 by body pose, 0 by appearance"), one line in the narrow panel.
        self.features_label.setText(summary.removeprefix(_AUTO_PREFIX))
        self.features_label.setToolTip(f"{summary}\n{DESCRIPTIONS.get(encoder or '', '')}".strip())
        # The box names one encoder's features; only auto has more to say (the split),
        # and the narrow panel needs its height for the videos.
        self.features_label.setVisible(encoder in (None, "auto"))
        self.features_box.setToolTip(
            f"{DESCRIPTIONS.get(encoder or '', '')}\nChoosing other features indexes every "
            "video again".strip()
        )
        self.features_box.setEnabled(not self._busy and self._can_switch)

    def set_feature_options(self, options: Any) -> None:
        """Which features can run here, and whether the pose models are installed.

        Parameters
        ----------
        options : FeatureOptions
            Unusable encoders are greyed out with the reason; without the pose
            models the install button shows.
        """
        model = self.features_box.model()
        for choice in options.choices:
            row = self.features_box.findData(choice.name)
            if row < 0:
                continue
            item = model.item(row)
            item.setEnabled(choice.usable or choice.name == self.encoder)
            tip = choice.description if choice.usable else f"Not available: {choice.reason}"
            item.setToolTip(tip)
        self.install_pose_button.setVisible(not options.pose_ready)
        self.install_pose_button.setToolTip(options.pose_message)

    def set_can_switch(self, can: bool) -> None:
        """Whether the features may be switched at all (not in a read-only library)."""
        self._can_switch = bool(can)
        self.features_box.setEnabled(not self._busy and self._can_switch)

    # ------------------------------------------------------------------ user actions

    def choose_folder(self) -> None:
        """Ask for a folder of videos to add (emits :attr:`add_folder_requested`)."""
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Add a folder of videos")
        if folder:
            self.add_folder_requested.emit(folder)

    def _remove_selected(self) -> None:
        item = self.folders.currentItem()
        if item is not None:
            self.remove_folder_requested.emit(item.data(PATH_ROLE))

    def selected_video(self) -> str | None:
        """Path of the selected video, if any."""
        idx = self.videos.currentIndex()
        if not idx.isValid():
            return None
        src = self.proxy.mapToSource(idx.siblingAtColumn(0))
        return self.model.item(src.row(), 0).data(PATH_ROLE)

    def _use_selected(self) -> None:
        path = self.selected_video()
        if path:
            self.use_as_query.emit(path)

    def _on_double_click(self, index: QtCore.QModelIndex) -> None:
        # The row double-clicked, not the current one: they differ when the list
        # changed between the two clicks (a live update while indexing).
        if not index.isValid():
            return
        src = self.proxy.mapToSource(index.siblingAtColumn(0))
        path = self.model.item(src.row(), 0).data(PATH_ROLE)
        if path:
            self.use_as_query.emit(path)

    # ------------------------------------------------------------------ what jobs report

    def set_busy(self, busy: bool) -> None:
        """Indexing runs (cancel enabled) or not."""
        self._busy = bool(busy)
        self.index_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.add_button.setEnabled(not busy)
        self.remove_button.setEnabled(not busy)
        self.features_box.setEnabled(not busy and self._can_switch)
        # The file being indexed gets its line while a run lasts, not in between.
        self.current.setVisible(bool(busy))
        if not busy:
            self.current.setText("")

    def show_progress(self, done: int, total: int, message: str) -> None:
        """Overall progress and the file being indexed."""
        top = max(total, 1)
        if self.overall.maximum() != top:  # setRange re-lays out the styled bar
            self.overall.setRange(0, top)
            self.overall.setFormat(_BAR_FORMAT)
        self.overall.setValue(min(done, top))
        name = Path(message).name if message else ""
        self.current.setText(f"Indexing {name}" if name else "")

    def show_state(
        self,
        folders: list[str],
        entries: list[Any],
        status: Any,
        encoder: str | None = None,
        learned: Any = None,
    ) -> None:
        """Show the folders, the videos and the failures the library reports.

        Parameters
        ----------
        folders : list of str
        entries : list of VideoEntry
        status : LibraryStatus
        encoder : str, optional
            The library's encoder name. ``auto`` libraries say per clip whether it is
            compared by pose or by appearance: a glyph on its thumbnail, its tooltip,
            and the person column relabelled "Compared by" (hidden in the narrow panel;
            its cells hold the words, :meth:`person_cells`).
        learned : LearnedInfo, optional
            The library's own pose model, if it was taught one.
        """
        self.auto = encoder == "auto"
        self.set_features(encoder, entries, learned)
        header, header_tip = COMPARED_HEADER if self.auto else PERSON_HEADER
        head = self.model.horizontalHeaderItem(PERSON_COLUMN)
        head.setText(header)
        head.setToolTip(header_tip)
        self.folders.clear()
        for f in folders:
            item = QtWidgets.QListWidgetItem(Path(f).name or str(f))
            item.setToolTip(str(f))
            item.setData(PATH_ROLE, str(f))
            self.folders.addItem(item)
        self._fit_folders()
        self._update_rows(entries)
        self.videos.setColumnWidth(1, 56)
        self.videos.setColumnWidth(PERSON_COLUMN, 110 if self.auto else 62)
        # A library without pose says nothing about people: no empty column for it. An
        # auto library says it on each thumbnail (the panel is too narrow for a column).
        self.videos.setColumnHidden(
            PERSON_COLUMN,
            self.auto or all(getattr(e, "has_person", None) is None for e in entries),
        )
        self.failures.clear()
        for path, reason in status.failures:
            # The reason usually repeats the full path; the name is enough here.
            short = reason[len(path) + 2 :] if reason.startswith(f"{path}: ") else reason
            item = QtWidgets.QListWidgetItem(f"{Path(path).name}: {short}")
            item.setToolTip(f"{path}\n{reason}")
            item.setForeground(QtGui.QBrush(QtGui.QColor(240, 110, 100)))
            self.failures.addItem(item)
        count = len(status.failures)
        self.failures_button.setText(
            f"{count} video{'s' if count != 1 else ''} could not be indexed"
        )
        self.failures_button.setVisible(bool(count))
        self.show_failures(self.failures_button.isChecked())
        parts = [f"{status.indexed} indexed"]
        if status.pending:
            parts.append(f"{status.pending} pending")
        if status.failed:
            parts.append(f"{status.failed} failed")
        damaged = len(getattr(status, "damaged", None) or ())
        if damaged:
            parts.append(f"{damaged} damaged ({DAMAGED_MARK}: plays part way)")
        # What the clips are compared by is the features line's to say (one line, not two).
        self.summary.setText(f"{status.videos} videos: " + ", ".join(parts))
        if self._busy:
            return  # the bar shows the run's own progress (show_progress) meanwhile
        self.overall.setRange(0, max(status.videos, 1))
        self.overall.setValue(status.indexed + status.failed)
        self.overall.setFormat(_BAR_FORMAT if status.videos else "no videos")

    def show_failures(self, shown: bool) -> None:
        """Open (``shown``) or fold the list of videos that could not be indexed.

        Folded, the failures are one line with their count (:attr:`failures_button`);
        the choice holds until the user changes it.
        """
        if self.failures_button.isChecked() != bool(shown):
            self.failures_button.setChecked(bool(shown))  # toggles back here
            return
        arrow = QtCore.Qt.ArrowType
        self.failures_button.setArrowType(arrow.DownArrow if shown else arrow.RightArrow)
        self.failures.setVisible(bool(shown) and self.failures.count() > 0)

    def _fit_folders(self) -> None:
        """Make the folder list as tall as its folders (one to :data:`FOLDER_ROWS` rows)."""
        rows = min(max(self.folders.count(), 1), FOLDER_ROWS)
        row = self.folders.sizeHintForRow(0) if self.folders.count() else -1
        if row <= 0:
            row = self.folders.fontMetrics().height() + 4
        self.folders.setFixedHeight(rows * row + 2 * self.folders.frameWidth() + 2)

    def _update_rows(self, entries: list[Any]) -> None:
        """Make the video list show ``entries``, changing only the rows that differ.

        Rows are matched by path and updated in place; new videos are added and gone
        ones removed. So a live update while indexing keeps the selection, the
        scroll position and the row under the pointer.
        """
        wanted = {e.path for e in entries}
        for r in reversed(range(self.model.rowCount())):
            if self.model.item(r, 0).data(PATH_ROLE) not in wanted:
                self.model.removeRow(r)
        rows = {self.model.item(r, 0).data(PATH_ROLE): r for r in range(self.model.rowCount())}
        for e in entries:
            r = rows.get(e.path)
            if r is None:
                items = [QtGui.QStandardItem() for _ in range(3)]
                self._fill_row(items, e)
                self.model.appendRow(items)
            else:
                self._fill_row([self.model.item(r, c) for c in range(3)], e)

    def _set(self, item: QtGui.QStandardItem, value: Any, role: Any) -> None:
        # Setting equal data still signals a change (and a re-sort): skip it.
        if item.data(role) != value:
            item.setData(value, role)

    def _fill_row(self, items: list[QtGui.QStandardItem], e: Any) -> None:
        """Show the video ``e`` in a row's three items (name, length, person)."""
        D = QtCore.Qt.ItemDataRole
        name, length, person = items
        label = Path(e.path).name if e.status == "indexed" else f"{Path(e.path).name} ({e.status})"
        # Absent until the library exposes it (older libraries and versions).
        damaged_at = getattr(e, "damaged_at", None)
        duration = float(e.duration or 0.0)
        damage = damage_text(damaged_at, duration)
        if damage:
            label = f"{DAMAGED_MARK} {label}"
        self._set(name, label, D.DisplayRole)
        self._set(name, e.path, PATH_ROLE)
        self._set(name, e.status, STATUS_ROLE)
        self._set(name, damaged_at, DAMAGED_ROLE)
        tip = f"{e.path}\n{e.status}"
        if e.status == "indexed":
            tip += f", {e.width}×{e.height}, {e.fps:.3g} fps, {e.n_features} feature frames"
        if damage:
            tip += f"\ndamaged: {damage}"
        tip += f"\n{e.reason}" if e.reason else ""
        has = getattr(e, "has_person", None)  # absent from libraries older than pose
        self._set(name, has if self.auto else None, POSE_ROLE)
        self._show_thumbnail(name)
        # A damaged clip shows how far it plays, and sorts by it.
        shown = damaged_at if damage else duration
        self._set(
            length,
            f"{DAMAGED_MARK} {_duration(shown)}" if damage else _duration(shown),
            D.DisplayRole,
        )
        self._set(length, float(shown), D.UserRole)
        self._set(length, f"damaged: {damage}" if damage else "", D.ToolTipRole)
        if e.status == "failed":
            colour = QtGui.QColor(240, 110, 100)
        elif e.status == "pending" or damage:
            colour = QtGui.QColor(220, 180, 80)
        else:
            colour = None
        self._set(name, QtGui.QBrush(colour) if colour else None, D.ForegroundRole)
        self._set(length, QtGui.QBrush(colour) if damage and colour else None, D.ForegroundRole)
        text, ptip = person_text(has, self.auto)
        self._set(person, text, D.DisplayRole)
        self._set(person, ptip, D.ToolTipRole)
        self._set(person, text, D.AccessibleTextRole)
        self._set(person, text, COMPARED_ROLE)
        icon: Any = None
        grey = None
        if self.auto:
            if has is not None:
                icon = compared_glyph(has)
                tip += f"\n{ptip}"
        elif has:
            icon = person_icon()
        elif has is False:
            grey = QtGui.QBrush(QtGui.QColor(130, 132, 140))
        person.setData(icon, D.DecorationRole)
        self._set(person, grey, D.ForegroundRole)
        self._set(name, tip, D.ToolTipRole)

    def _show_thumbnail(self, item: QtGui.QStandardItem) -> None:
        image = self._thumbs.get(item.data(PATH_ROLE))
        has_thumb = image is not None
        if item.data(THUMB_ROLE) is not None and item.data(THUMB_ROLE) == has_thumb:
            if item.data(POSE_ROLE) == item.data(_GLYPH_ROLE):
                return  # already showing this picture and glyph
        pix = thumbnail_with_glyph(
            image if has_thumb else placeholder_thumbnail(), item.data(POSE_ROLE)
        )
        item.setData(pix, QtCore.Qt.ItemDataRole.DecorationRole)
        item.setData(has_thumb, THUMB_ROLE)
        item.setData(item.data(POSE_ROLE), _GLYPH_ROLE)

    def set_thumbnails(self, thumbs: dict[str, QtGui.QImage]) -> None:
        """Attach thumbnails (keyed by path) to the listed videos.

        Each is fitted to :data:`THUMB_SIZE`, the size of the placeholder it replaces,
        so no row changes height.
        """
        self._thumbs.update({p: _fit_thumbnail(img) for p, img in thumbs.items()})
        for row in range(self.model.rowCount()):
            self._show_thumbnail(self.model.item(row, 0))

    def has_thumbnail(self, path: str) -> bool:
        """Whether the row of ``path`` shows its real thumbnail (not the placeholder)."""
        return path in self._thumbs

    def missing_thumbnails(self, entries: list[Any]) -> list[str]:
        """Paths of indexed videos that have no thumbnail yet."""
        return [e.path for e in entries if e.status == "indexed" and e.path not in self._thumbs]

    def visible_names(self) -> list[str]:
        """Names in the video list after filtering (for tests)."""
        return [self.proxy.index(r, 0).data() for r in range(self.proxy.rowCount())]

    def person_cells(self) -> dict[str, str]:
        """Person-column text by video path (for tests): "yes"/"no", or "Pose"/"Appearance"."""
        return {
            self.model.item(r, 0).data(PATH_ROLE): self.model.item(r, PERSON_COLUMN).data(
                COMPARED_ROLE
            )
            for r in range(self.model.rowCount())
        }
