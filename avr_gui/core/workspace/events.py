"""The workspace's events, and the listeners that are told of them.

:class:`WorkspaceEvents` is the base of :class:`~avr_gui.core.workspace.model.Workspace`:
listeners (:meth:`WorkspaceEvents.subscribe`) are called with the name of what changed,
one of the event constants, so a window can subscribe and present.
"""

from __future__ import annotations

from collections.abc import Callable

#: A listener: called with the event name after the state changed.
Listener = Callable[[str], None]


class WorkspaceEvents:
    """The event names of a workspace and its listeners."""

    #: Events passed to listeners.
    LIBRARY = "library"  #: a library was opened, failed to open, or was closed
    SNAPSHOT = "snapshot"  #: folders, videos or counts of the library changed
    QUERY = "query"  #: the query file, its length or its trim changed
    RESULTS = "results"  #: the matches changed (a query ran, or they were cleared)
    MATCH = "match"  #: another match was selected (or none)
    PATH = "path"  #: the alignment path shown changed (pins)
    ERROR = "error"  #: :attr:`last_error` was set

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` after every change.

        Parameters
        ----------
        listener : callable
            Gets one of the event constants (:attr:`LIBRARY`, :attr:`QUERY`, ...).

        Returns
        -------
        callable
            Call it to unsubscribe.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, event: str) -> None:
        for listener in list(self._listeners):
            listener(event)
