"""Comparison frames: query and match side by side (left/right or top/bottom) or blended.

Side by side, the *arrangement* says where the match goes (``"left-right"``,
``"top-bottom"``, or ``"auto"``: below a portrait query, else beside it) and the
*scale* how big each panel is:

* ``"query"`` — the query keeps its size; the match is scaled to the query's height
  (left/right) or width (top/bottom). Small, but a portrait phone clip beside a 720p
  match shrinks the match to the phone's width.
* ``"equal"`` — both panels get the same height (left/right) or width (top/bottom):
  that of the *taller* (wider) clip, so the larger clip is never shrunk and the
  smaller one is scaled up to it.
* ``"original"`` — neither is scaled: each keeps its own resolution; the smaller panel
  is centred on black.

The overlay blends the match, scaled to the query's frame, into it. Skeletons are drawn
after the panels are scaled (full strength on a blend, bone width set by the panel) and
before the burned-in labels, which go in the top left corner of each panel and are cut
to the panel's width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from avr_gui.core.errors import InputError
from avr_gui.core.export_choices import ARRANGEMENTS, SCALES
from avr_gui.core.features.pose.draw import (
    MATCH_COLOUR,
    QUERY_COLOUR,
    default_thickness,
    draw_skeleton,
)
from avr_gui.core.timecode import timecode
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

LAYOUTS = ("side-by-side", "overlay")


def burn_in_text(name: str, frame: int, rate: float) -> str:
    """``"take 2  00:00:01:07  #37"``: a clip's name, timecode and frame number.

    The timecode is that of the players (:func:`avr_gui.core.timecode.timecode` of the
    frame number at the clip's rate), so a burned-in frame reads as on screen.

    Parameters
    ----------
    name : str
    frame : int
        Frame number counted from the clip's first frame.
    rate : float
        The clip's frame rate (:func:`avr_gui.core.timecode.clip_rate`).
    """
    return f"{name}  {timecode(frame, rate)}  #{frame}"


def label(image: np.ndarray, text: str, x: int = 0, y: int = 0) -> None:
    """Burn ``text`` in white on a dark box into ``image`` with its top left at ``(x, y)``.

    Text wider than the image is cut from the front (``"...name 00:00:01:02"``), so
    the timecode at the end stays whole.

    Parameters
    ----------
    image : numpy.ndarray, shape (H, W, 3), uint8
        Modified in place.
    text : str
        ASCII (OpenCV's Hershey fonts draw nothing else; other characters become "?").
    x, y : int
        Top left corner of the box, in pixels.
    """
    h = image.shape[0]
    # Text about 1/30 of the frame high stays legible on phones and small thumbnails.
    scale = max(0.35, h / 30 / 22)
    thick = max(1, round(scale * 1.5))
    text = text.encode("ascii", "replace").decode("ascii")
    room = image.shape[1] - x
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    while tw + 2 * max(2, th // 4) > room and len(text) > 4:
        text = "..." + text[4:]
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
        Side by side as top/bottom.
    """

    mode: str
    size: tuple[int, int]
    query_box: tuple[int, int, int, int]
    match_box: tuple[int, int, int, int]
    stacked: bool = False


def layout(
    mode: str,
    query_size: tuple[int, int],
    match_size: tuple[int, int],
    *,
    arrangement: str = "auto",
    scale: str = "query",
) -> Layout:
    """Plan the comparison frame for clips of these display sizes.

    Parameters
    ----------
    mode : {"side-by-side", "overlay"}
    query_size, match_size : tuple of int
        ``(width, height)``.
    arrangement : {"auto", "left-right", "top-bottom"}
        Side by side only: where the match goes (``"auto"``: below a portrait query).
    scale : {"query", "equal", "original"}
        Side by side only: how the panels are sized (see the module notes).

    Returns
    -------
    Layout
    """
    if mode not in LAYOUTS:
        raise InputError(f"comparison mode must be one of {LAYOUTS}, got {mode!r}")
    if arrangement not in ARRANGEMENTS:
        raise InputError(
            f"arrangement must be one of {', '.join(ARRANGEMENTS)}, got {arrangement!r}"
        )
    if scale not in SCALES:
        raise InputError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    qw, qh = query_size
    mw, mh = match_size
    if mode == "overlay":
        box = (0, 0, qw, qh)
        return Layout(mode, (qw, qh), box, box)
    # Portrait: one above the other keeps the frame from getting too wide.
    stacked = arrangement == "top-bottom" or (arrangement == "auto" and qh > qw)
    if stacked:
        # The same plan with width and height swapped, swapped back.
        flip = layout(mode, (qh, qw), (mh, mw), arrangement="left-right", scale=scale)
        (w, h), q, m = flip.size, flip.query_box, flip.match_box
        return Layout(
            mode, (h, w), (q[1], q[0], q[3], q[2]), (m[1], m[0], m[3], m[2]), stacked=True
        )
    if scale == "original":
        h = max(qh, mh)
        return Layout(mode, (qw + mw, h), (0, (h - qh) // 2, qw, qh), (qw, (h - mh) // 2, mw, mh))
    h = max(qh, mh) if scale == "equal" else qh
    wq = max(1, math.floor(qw * h / qh + 0.5))
    wm = max(1, math.floor(mw * h / mh + 0.5))
    return Layout(mode, (wq + wm, h), (0, 0, wq, h), (wq, 0, wm, h))


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
        # Black around a panel that does not fill its side ("original" sizes).
        out = np.zeros((h, w, 3), np.uint8)
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
        for text, (bx, by, bw, bh) in zip(labels, (plan.query_box, plan.match_box), strict=True):
            # Drawn into its own panel, so a long name cannot run into the other one.
            panel = np.ascontiguousarray(out[by : by + bh, bx : bx + bw])
            label(panel, text)
            out[by : by + bh, bx : bx + bw] = panel
    return out
