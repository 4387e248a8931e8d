"""Teaching a library a pose model from the app: the jobs and the texts.

"Teach from folders…" trains on the library's labelled clips
(:func:`~avr_gui.core.library.learned.learn`; labels from folder names or a CSV) and
"Revert to the default features" removes the model. Each job opens the library on its
own (a second catalog connection), so a training of minutes never holds up the
library's own lane (queries, snapshots); a library open in the window picks the new
model up at its next query (:meth:`~avr_gui.core.library.Library.learned_model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from avr_gui.core.library.learned import DEFAULT_STEPS
from avr_gui.core.workspace.jobs import Job


@dataclass(frozen=True)
class TeachRequest:
    """What the Teach dialog asks for.

    Attributes
    ----------
    index_dir : str
    labels_csv : str or None
        None: labels are the clips' folder names.
    steps : int
    seed : int
    """

    index_dir: str
    labels_csv: str | None = None
    steps: int = DEFAULT_STEPS
    seed: int = 0


def teach_job(request: TeachRequest) -> Job:
    """A job that teaches the library (returns a ``LearnSummary``).

    Progress is per training step; cancelling keeps the checkpoint, so teaching again
    with the same settings resumes.
    """

    def job(progress: Any, cancel: Any) -> Any:
        from avr_gui.core.library import Library
        from avr_gui.core.library.learned import learn, read_labels_csv

        with Library.open(request.index_dir, readonly=True):
            pass  # not a library: refused before anything is created
        with Library.open(request.index_dir) as lib:
            labels = None
            if request.labels_csv:
                indexed = [e.path for e in lib.entries() if e.status == "indexed"]
                labels = read_labels_csv(request.labels_csv, indexed)
            return learn(
                lib,
                labels,
                steps=request.steps,
                seed=request.seed,
                progress=progress,
                cancel=cancel,
            )

    return job


def revert_job(index_dir: str) -> Job:
    """A job removing the library's learned model (returns whether there was one)."""

    def job(progress: Any, cancel: Any) -> bool:
        from avr_gui.core.library import Library
        from avr_gui.core.library.learned import revert

        with Library.open(index_dir) as lib:
            return revert(lib)

    return job


def learned_job(index_dir: str) -> Job:
    """A job reading which learned model the library uses (LearnedInfo or None)."""

    def job(progress: Any, cancel: Any) -> Any:
        from avr_gui.core.library.learned import learned_info

        return learned_info(index_dir)

    return job


def teach_done_text(summary: Any) -> str:
    """One line after teaching, e.g. ``"Learned pose model in use: 9 clips of 3 labels…"``."""
    info = summary.info
    skipped = f", {len(summary.skipped)} skipped (no performer)" if summary.skipped else ""
    return (
        f"Learned pose model in use: {info.clips} clips of {len(info.labels)} labels"
        f"{skipped}, {summary.seconds:.0f} s"
    )
