"""The export's choices, as plain constants (re-exported by :mod:`avr_gui.core.export`).

Outside the ``export`` package on purpose: importing anything inside it runs the
package's ``__init__``, which loads OpenCV, PyAV, the aligners and the pose drawing
(~0.5 s). The command line builds its ``export`` options from these names and every
``avr`` command builds that parser, so a query must not pay for the video writer.
"""

from __future__ import annotations

#: What an export writes (see :mod:`avr_gui.core.export.retime`).
MODES = ("retimed", "reverse", "side-by-side", "overlay")
#: Whose sound the export carries.
AUDIO_SOURCES = ("query", "match", "none")
#: Where the match goes beside the query (see :mod:`avr_gui.core.export.compose`).
ARRANGEMENTS = ("auto", "left-right", "top-bottom")
#: How the two panels are sized.
SCALES = ("query", "equal", "original")
#: Most tiles a grid takes (the query and five matches).
MAX_TILES = 6
