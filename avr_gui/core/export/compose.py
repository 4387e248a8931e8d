"""Comparison frames: query and match side by side (stacked when portrait) or blended.

The query keeps its own size; the match is scaled to share the query's height (side
by side), width (stacked) or whole frame (overlay). Skeletons are drawn after the
panels are scaled (full strength on a blend, bone width set by the panel) and before
the burned-in labels, which go in the top left corner of each panel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from avr_gui.core.errors import InputError
from avr_gui.core.features.pose.draw import (
    MATCH_COLOUR,
    QUERY_COLOUR,
    default_thickness,
    draw_skeleton,
)
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

LAYOUTS = ("side-by-side", "overlay")


def timecode(seconds: float, fps: float) -> str:
    """``HH:MM:SS:FF`` of a time at a frame rate (frames counted at the rounded rate).

    Parameters
    ----------
    seconds : float
        Time from the start of the clip (negative counts as 0).
    fps : float
        Frame rate (> 0).
    """
    rate = max(1, round(fps))
    frames = round(max(seconds, 0.0) * fps)
    ff = frames % rate
    whole = frames // rate
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{ff:02d}"


def label(image: np.ndarray, text: str, x: int = 0, y: int = 0) -> None:
    """Burn ``text`` in white on a dark box into ``image`` with its top left at ``(x, y)``.

    Parameters
    ----------
    image : numpy.ndarray, shape (H, W, 3), uint8
        Modified in place.
    text : str
    x, y : int
        Top left corner of the box, in pixels.
    """
    h = image.shape[0]
    # Text about 1/30 of the frame high stays legible on phones and small thumbnails.
    scale = max(0.35, h / 30 / 22)
    thick = max(1, round(scale * 1.5))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = max(2, th // 4)
    x1, y1 = min(x + tw + 2 * pad, image.shape[1]), min(y + th + base + 2 * pad, h)
    box = image[y:y1, x:x1]
    box[...] = (box * 0.35).astype(np.uint8)
    cv2.putText(
        image,
        text,
        (x + pad, y + pad + th),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thick,
        cv2.LINE_AA,
    )


@dataclass(frozen=True)
class Layout:
    """Where the two panels of a comparison frame go.

    Attributes
    ----------
    mode : {"side-by-side", "overlay"}
    size : tuple of int
        ``(width, height)`` of the composed frame.
    query_box, match_box : tuple of int
        ``(x, y, width, height)`` of each panel (equal for overlay).
    stacked : bool
        Side by side as top/bottom (portrait query).
    """

    mode: str
    size: tuple[int, int]
    query_box: tuple[int, int, int, int]
    match_box: tuple[int, int, int, int]
    stacked: bool = False


def layout(mode: str, query_size: tuple[int, int], match_size: tuple[int, int]) -> Layout:
    """Plan the comparison frame for clips of these display sizes.

    Parameters
    ----------
    mode : {"side-by-side", "overlay"}
    query_size, match_size : tuple of int
        ``(width, height)``.

    Returns
    -------
    Layout
    """
    if mode not in LAYOUTS:
        raise InputError(f"comparison mode must be one of {LAYOUTS}, got {mode!r}")
    qw, qh = query_size
    mw, mh = match_size
    if mode == "overlay":
        box = (0, 0, qw, qh)
        return Layout(mode, (qw, qh), box, box)
    if qh > qw:  # portrait: one above the other keeps the frame from getting too wide
        h = max(1, math.floor(mh * qw / mw + 0.5))
        return Layout(mode, (qw, qh + h), (0, 0, qw, qh), (0, qh, qw, h), stacked=True)
    w = max(1, math.floor(mw * qh / mh + 0.5))
    return Layout(mode, (qw + w, qh), (0, 0, qw, qh), (qw, 0, w, qh))


def _fit(image: np.ndarray, w: int, h: int) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == (w, h):
        return image
    shrinking = w < image.shape[1] or h < image.shape[0]
    return cv2.resize(
        image, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    )


def compose(
    plan: Layout,
    query: np.ndarray,
    match: np.ndarray,
    *,
    alpha: float = 0.5,
    labels: tuple[str, str] | None = None,
    skeletons: tuple[np.ndarray | None, np.ndarray | None] | None = None,
    colours: tuple[tuple[int, int, int], tuple[int, int, int]] = (QUERY_COLOUR, MATCH_COLOUR),
) -> np.ndarray:
    """One comparison frame.

    Parameters
    ----------
    plan : Layout
    query : numpy.ndarray, shape (Hq, Wq, 3), uint8
    match : numpy.ndarray, shape (Hm, Wm, 3), uint8
    alpha : float
        Overlay only: weight of the match in the blend.
    labels : tuple of str, optional
        Text burned into the query and the match panel.
    skeletons : (numpy.ndarray or None, numpy.ndarray or None), optional
        Landmarks ``[33, 3]`` of the query and of the match frame, in the pixels of
        ``query`` and ``match`` as given (x, y, visibility); None draws none.
    colours : ((b, g, r), (b, g, r))
        Skeleton colours of the query and the match.

    Returns
    -------
    numpy.ndarray, shape (plan.size[1], plan.size[0], 3), uint8
    """
    w, h = plan.size
    qx, qy, qw, qh = plan.query_box
    mx, my, mw, mh = plan.match_box
    q = _fit(query, qw, qh)
    m = _fit(match, mw, mh)
    if plan.mode == "overlay":
        out = cv2.addWeighted(q, 1.0 - alpha, m, alpha, 0.0)
    else:
        out = np.empty((h, w, 3), np.uint8)
        out[qy : qy + qh, qx : qx + qw] = q
        out[my : my + mh, mx : mx + mw] = m
    if skeletons is not None:
        panels = ((plan.query_box, query), (plan.match_box, match))
        for lm, (box, src), colour in zip(skeletons, panels, colours, strict=True):
            if lm is None:
                continue
            bx, by, bw, bh = box
            # Drawn into the panel alone, so a limb beyond the frame's edge stays out of
            # the other panel.
            panel = np.ascontiguousarray(out[by : by + bh, bx : bx + bw])
            draw_skeleton(
                panel,
                lm,
                scale=(bw / src.shape[1], bh / src.shape[0]),
                colour=colour,
                thickness=default_thickness(bw, bh),
            )
            out[by : by + bh, bx : bx + bw] = panel
    if plan.mode == "overlay":
        if labels:
            label(out, f"{labels[0]} | {labels[1]}")
        return out
    if labels:
        label(out, labels[0], qx, qy)
        label(out, labels[1], mx, my)
    return out
