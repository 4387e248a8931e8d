"""The words the workspace shows: captions, messages, badges and notices (plain text).

Every function here turns core results into a line of text, so the rules for what the
user reads are tested without a window; the GUI only places the text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avr_gui.core.align.verdict import ALIGNABLE, UNLIKELY, verdict_label
from avr_gui.core.errors import AvrError

#: Encoders that need the BlazePose models to index videos.
POSE_MODEL_ENCODERS = ("auto", "pose-blazepose", "pose-fused")


@dataclass(frozen=True)
class Thresholds:
    """Where the verdict badge changes word (the ``verdict.*`` settings).

    Attributes
    ----------
    alignable : float
        From this probability on, a match is ``alignable``.
    unlikely : float
        Under this probability, a match is ``unlikely``; in between, ``possible``.
    """

    alignable: float = ALIGNABLE
    unlikely: float = UNLIKELY

    @classmethod
    def from_config(cls, config: Any) -> Thresholds:
        """The thresholds of a :class:`~avr_gui.core.config.Config`.

        Parameters
        ----------
        config : Config

        Returns
        -------
        Thresholds
        """
        return cls(float(config["verdict.alignable"]), float(config["verdict.unlikely"]))

    def label(self, p: float | None) -> str:
        """:func:`~avr_gui.core.align.verdict.verdict_label` at these thresholds.

        Parameters
        ----------
        p : float or None

        Returns
        -------
        str
        """
        return verdict_label(p, alignable=self.alignable, unlikely=self.unlikely)

    def tip(self) -> str:
        """What the badge's words mean at these thresholds (a tooltip)."""
        return (
            "Probability that this clip shows the same action as the query and can be "
            f"aligned to it; calibrated on held-out data. alignable: {self.alignable:.0%} "
            f"or more, possible: {self.unlikely:.0%}–{self.alignable:.0%}, unlikely: "
            f"under {self.unlikely:.0%}."
        )


def error_text(exc: object) -> str:
    """One line for a failed job: the message of an :class:`AvrError`, else the type too.

    Parameters
    ----------
    exc : object
        The exception the job raised.

    Returns
    -------
    str
    """
    if isinstance(exc, AvrError):
        return str(exc)
    return f"unexpected error: {type(exc).__name__}: {exc}"


def index_message(summary: Any) -> str:
    """Status-bar text after indexing (an ``IndexSummary``): what this run did.

    Parameters
    ----------
    summary : IndexSummary

    Returns
    -------
    str
    """
    parts = [f"{summary.encoded} encoded", f"{summary.unchanged} unchanged"]
    if summary.moved:
        parts.append(f"{summary.moved} moved")
    if summary.removed:
        parts.append(f"{summary.removed} removed")
    parts.append(f"{summary.failed} failed")
    return (
        f"Indexed in {summary.seconds:.1f} s: {', '.join(parts)} "
        f"({summary.indexed} of {summary.videos} videos searchable)"
    )


def _matches(n: int) -> str:
    return f"{n} match" if n == 1 else f"{n} matches"


def ranking_caption(result: Any) -> str:
    """The line above the matches: how many, and what they are ranked by.

    Parameters
    ----------
    result : QueryResult

    Returns
    -------
    str
    """
    n = len(result.results)
    if getattr(result, "query_performer", None):
        how = "ranked by pose similarity (higher = better)"
    else:
        how = "ranked by score (lower = better)"
    return f"{_matches(n)}, {how}; click to inspect"


def query_message(result: Any) -> str:
    """The query panel's line after a query: matches, query frames and their span.

    (What the query was matched by is the tag beside its name.)

    Parameters
    ----------
    result : QueryResult

    Returns
    -------
    str
    """
    ts = result.query.timestamps
    n = len(result.results)
    return f"{_matches(n)} for {len(ts)} query frames ({ts[0]:.2f}–{ts[-1]:.2f} s)"


def pose_notice(
    encoder_name: str | None,
    models: tuple[bool, str],
    fallback: str | None = None,
    new_backend: str | None = None,
) -> tuple[str, str] | None:
    """The notice about body pose being off here, for a library just opened.

    Parameters
    ----------
    encoder_name : str or None
        The library's encoder; None for a new library (it gets ``new_backend``).
    models : (bool, str)
        :func:`~avr_gui.core.features.pose.models.pose_models_status`: whether the pose
        models are usable, and one line saying so (with the install command if not).
    fallback : str, optional
        What :func:`~avr_gui.core.features.encoders.default_backend` said when it chose
        appearance features for a new library.
    new_backend : str, optional
        The encoder a new library gets.

    Returns
    -------
    (str, str) or None
        Notice text and level (``"warning"`` or ``"info"``); None while pose works here.
    """
    ok, status = models
    if ok and fallback is None:
        return None
    if ok:  # models there, but pose cannot run (its runtime is missing)
        assert fallback is not None
        return f"{fallback[:1].upper()}{fallback[1:]}.", "warning"
    line = f"{status[:1].upper()}{status[1:]}."
    if encoder_name is None and new_backend and new_backend not in POSE_MODEL_ENCODERS:
        return (
            f"{line} This new library will use appearance features ({new_backend}): "
            "install the models before indexing to compare people by body pose.",
            "warning",
        )
    if encoder_name in POSE_MODEL_ENCODERS:
        return (
            f"{line} This library's {encoder_name} features need them to index new videos "
            "and to query files from outside it.",
            "warning",
        )
    return line, "info"


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


def badge_for(
    probability: float | None, draq: float, thresholds: Thresholds | None = None
) -> tuple[str, str]:
    """Badge text and kind for a match's verdict.

    Parameters
    ----------
    probability : float or None
        ``Match.alignable``: the calibrated probability, None where no model applies.
    draq : float
        Shown instead when there is no probability.
    thresholds : Thresholds, optional
        Where the words change (default: the shipped ones).

    Returns
    -------
    text : str
        ``"alignable 82%"``, ``"possible 30%"``, ``"unlikely 5%"`` or ``"DRAQ 0.66"``.
    kind : str
        ``"alignable"``, ``"possible"``, ``"unlikely"`` or ``"draq"``.
    """
    label = (thresholds or Thresholds()).label(probability)
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


def compared_text(
    compared_on: str | None, has_person: bool | None, parts: str | None = None
) -> tuple[str, str]:
    """Cell text and tooltip saying what a pair was compared on (``auto`` libraries).

    Parameters
    ----------
    compared_on : {"pose", "appearance"} or None
    has_person : bool or None
        Whether a person performs in the match.
    parts : str, optional
        ``Match.compared_parts``: the body parts a pose comparison used.

    Returns
    -------
    text, tooltip : str
        Empty for libraries that compare one way only (``compared_on`` None).
    """
    if compared_on == "pose":
        tip = (
            "Compared on body pose: a person performs in the query and in this clip, so "
            "they were matched by how the body moves (mirror-invariant), not by the room, "
            "the clothes or the camera"
        )
        if parts in (None, "whole body"):
            return "pose", tip
        left_out = {"upper body": "the legs", "legs": "the arms"}.get(parts, "the limbs")
        return f"pose · {parts}", (
            f"{tip}. Only the {parts} was compared: {left_out} are out of frame or unseen "
            "in one of the two clips, so two exercises that differ there can look alike"
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


def match_title(match: Any, thresholds: Thresholds | None = None) -> str:
    """The alignment view's title for a match: what it is, then the numbers.

    Parameters
    ----------
    match : Match
    thresholds : Thresholds, optional
        Where the verdict's words change (default: the shipped ones).

    Returns
    -------
    str
        Three lines (the dock is narrow): rank, name, verdict and aligned part; DRAQ
        and DTW cost per step; similarity.
    """
    badge, _ = badge_for(getattr(match, "alignable", None), float(match.draq), thresholds)
    head = f"#{match.rank} {Path(match.path).name}"
    if not badge.startswith("DRAQ"):
        head += f" — {badge}"
    mode = getattr(match, "mode", "full") or "full"
    if mode != "full":
        part, _ = part_text(
            mode, getattr(match, "query_span_s", None), getattr(match, "match_span_s", None)
        )
        head += f" · {part}"
    sim = "pose similarity" if getattr(match, "compared_on", None) == "pose" else "similarity"
    # Why it ranks first, on the line with room for it.
    footage = " · same footage as the query" if getattr(match, "same_footage", False) else ""
    return (
        f"{head}\nDRAQ {match.draq:.3f} · DTW cost {match.normalized_cost:.3f}/step\n"
        f"{sim} {match.similarity:.3f}{footage}"
    )
