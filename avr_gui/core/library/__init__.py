"""Video library: catalog (SQLite), feature store, clip search, incremental indexing, query.

>>> with Library.open(index_dir) as lib:                       # doctest: +SKIP
...     lib.add_folder("~/Videos")
...     lib.index(progress=print)
...     result = lib.query("~/Videos/pushup.mp4", top=10)
"""

from avr_gui.core.library.errors import (
    EmptyLibraryError,
    EncoderMismatchError,
    LibraryBusyError,
    LibraryCorruptError,
    LibraryError,
    NotIndexedError,
)
from avr_gui.core.library.indexer import IndexSummary
from avr_gui.core.library.library import DEFAULT_FPS, Library, LibraryStatus, VideoEntry
from avr_gui.core.library.query import SCORERS, Match, QueryResult, Scorer

__all__ = [
    "DEFAULT_FPS",
    "SCORERS",
    "EmptyLibraryError",
    "EncoderMismatchError",
    "IndexSummary",
    "Library",
    "LibraryBusyError",
    "LibraryCorruptError",
    "LibraryError",
    "LibraryStatus",
    "Match",
    "NotIndexedError",
    "QueryResult",
    "Scorer",
    "VideoEntry",
]
