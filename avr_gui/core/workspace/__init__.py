"""The workspace model: what the app works on and its rules, headless (no Qt).

The desktop window (:mod:`avr_gui.gui.main_window`) subscribes to a
:class:`~avr_gui.core.workspace.model.Workspace` and presents it; tests drive the same
model without a window.

Modules: :mod:`.model` (the state and its rules), :mod:`.events` (change
notifications), :mod:`.selection` (the selected match, its pins and exports),
:mod:`.opening` (opening a library: encoder fallback and notices), :mod:`.labels` (the
text shown), :mod:`.jobs` (the long work, as jobs), :mod:`.anchors` (alignments through
pinned cells), :mod:`.exports` (export jobs for the selected pair), :mod:`.settings`
(the settings it starts with).
"""

from avr_gui.core.workspace.anchors import AnchoredAlignment, AnchorError, align_through
from avr_gui.core.workspace.jobs import NotReady, QueryOutcome
from avr_gui.core.workspace.labels import Thresholds
from avr_gui.core.workspace.model import Workspace
from avr_gui.core.workspace.opening import LibrarySnapshot, Notice, OpenedLibrary, open_library
from avr_gui.core.workspace.settings import settings_or_defaults

__all__ = [
    "AnchorError",
    "AnchoredAlignment",
    "LibrarySnapshot",
    "NotReady",
    "Notice",
    "OpenedLibrary",
    "QueryOutcome",
    "Thresholds",
    "Workspace",
    "align_through",
    "open_library",
    "settings_or_defaults",
]
