"""A drawn person performing exercises: generated clips that look like what users film.

Each action is four phases of joint angles (squat, jumping jack, side arm raise); the
pose at any action progress is interpolated between the phases' key poses, so a speed
warp of the progress is a known time warp of the motion. Distractors walk in place.
The figure is drawn with thick limbs, a head and clothes colours in a room with a
floor, a wall and furniture-like blocks, so appearance features see a scene rather
than a dot on a texture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

# Key poses: (hip drop, left upper arm, left forearm, right upper arm, right forearm,
# left thigh, left shin, right thigh, right shin); limb angles in degrees from straight
# down, positive = away from the body's midline (arms) / forwards-outwards (legs).
_KEYS: dict[int, list[tuple[float, ...]]] = {
    # Squat: stand, sink with arms rising forward, bottom, rise.
    0: [
        (0.00, 10, 0, 10, 0, 5, 0, 5, 0),
        (0.06, 60, 10, 60, 10, 35, -30, 35, -30),
        (0.12, 90, 0, 90, 0, 70, -70, 70, -70),
        (0.05, 40, 20, 40, 20, 30, -25, 30, -25),
    ],
    # Jumping jack: closed, arms out, overhead with legs apart, arms coming down.
    1: [
        (0.00, 8, 0, 8, 0, 4, 0, 4, 0),
        (-0.02, 90, 0, 90, 0, 20, 0, 20, 0),
        (-0.03, 165, 10, 165, 10, 30, 0, 30, 0),
        (0.00, 100, 0, 100, 0, 15, 0, 15, 0),
    ],
    # Side raise: left arm up, both up, right arm only, both down with a knee lift.
    2: [
        (0.00, 10, 0, 10, 0, 4, 0, 4, 0),
        (0.00, 170, 0, 10, 0, 4, 0, 4, 0),
        (0.00, 170, 0, 170, 0, 4, 0, 4, 0),
        (0.02, 10, 0, 170, 0, 60, -80, 4, 0),
    ],
}


@dataclass(frozen=True)
class PersonStyle:
    """Looks of a generated person clip."""

    shirt_bgr: tuple[int, int, int] = (60, 60, 200)
    trousers_bgr: tuple[int, int, int] = (70, 50, 40)
    skin_bgr: tuple[int, int, int] = (140, 170, 220)
    wall_bgr: tuple[int, int, int] = (200, 205, 210)
    floor_bgr: tuple[int, int, int] = (90, 110, 130)
    scale: float = 1.0
    offset_x: float = 0.0
    mirror: bool = False
    shake: float = 0.0
    seed: int = 0


def pose_at(action: int, progress: np.ndarray) -> np.ndarray:
    """Joint parameters at the given action progress (piecewise-linear through key poses).

    Parameters
    ----------
    action : int
        0 squat, 1 jumping jack, 2 side raise; anything else (e.g. -1) walks in place.
    progress : numpy.ndarray, shape (T,)

    Returns
    -------
    numpy.ndarray, shape (T, 9)
        The parameters of ``_KEYS`` per frame.
    """
    p = np.clip(np.asarray(progress, dtype=np.float64), 0.0, 1.0)
    if action not in _KEYS:
        swing = 30 * np.sin(2 * np.pi * 3 * p)
        z = np.zeros_like(p)
        return np.stack(
            [z, 10 - swing, z + 15, 10 + swing, z + 15, swing, z - 10, -swing, z - 10], axis=1
        )
    keys = np.array(_KEYS[action] + [_KEYS[action][0]], dtype=np.float64)  # back to the start
    at = np.linspace(0.0, 1.0, len(keys))
    return np.stack([np.interp(p, at, keys[:, k]) for k in range(keys.shape[1])], axis=1)


def _limb(start: np.ndarray, angle_deg: float, length: float, side: int) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    return start + length * np.array([side * np.sin(a), np.cos(a)])


def _background(w: int, h: int, st: PersonStyle) -> np.ndarray:
    rng = np.random.default_rng(st.seed)
    img = np.empty((h, w, 3), np.uint8)
    horizon = int(h * 0.78)
    img[:horizon] = st.wall_bgr
    img[horizon:] = st.floor_bgr
    # Furniture-like blocks at seeded places: the scene differs between clips.
    for _ in range(3):
        x0 = int(rng.integers(0, w - w // 6))
        bw, bh = int(rng.integers(w // 12, w // 5)), int(rng.integers(h // 8, h // 3))
        colour = tuple(int(c) for c in rng.integers(30, 230, 3))
        cv2.rectangle(img, (x0, horizon - bh), (x0 + bw, horizon), colour, -1)
    noise = rng.normal(0, 4, (h, w, 1))
    return np.clip(img.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def render_person(
    action: int,
    progress: np.ndarray,
    size: tuple[int, int] = (192, 144),
    style: PersonStyle | None = None,
) -> np.ndarray:
    """Render a person performing ``action`` at the given progress values.

    Parameters
    ----------
    action : int
        See :func:`pose_at`.
    progress : numpy.ndarray, shape (T,)
    size : tuple of int
        ``(width, height)``.
    style : PersonStyle, optional

    Returns
    -------
    numpy.ndarray, shape (T, height, width, 3), uint8
        BGR frames.
    """
    st = style or PersonStyle()
    w, h = size
    base = _background(w, h, st)
    params = pose_at(action, progress)
    rng = np.random.default_rng(st.seed + 1)
    unit = 0.62 * h * st.scale  # body height in pixels
    thick = max(2, int(0.075 * unit))
    frames = np.empty((len(params), h, w, 3), np.uint8)
    for t, row in enumerate(params):
        img = base.copy()
        jx, jy = rng.normal(0, st.shake * h, 2) if st.shake > 0 else (0.0, 0.0)
        sk = _skeleton(row, w, h, st, jx, jy)
        # Legs first, then torso, arms and head, so the arms are drawn over the body.
        for k in (0, 1):
            hip_k, knee, ankle = sk["hips"][k], sk["knees"][k], sk["ankles"][k]
            side = sk["sides"][k]
            cv2.line(img, _pt(hip_k), _pt(knee), st.trousers_bgr, thick + 2, cv2.LINE_AA)
            cv2.line(img, _pt(knee), _pt(ankle), st.trousers_bgr, thick + 1, cv2.LINE_AA)
            cv2.line(
                img,
                _pt(ankle),
                _pt(ankle + np.array([side * 0.06 * unit, 0])),
                (30, 30, 30),
                thick,
                cv2.LINE_AA,
            )
        hip, neck = sk["hip"], sk["neck"]
        cv2.line(img, _pt(hip), _pt(neck), st.shirt_bgr, int(thick * 2.6), cv2.LINE_AA)
        for k in (0, 1):
            shoulder, elbow, wrist = sk["shoulders"][k], sk["elbows"][k], sk["wrists"][k]
            cv2.line(img, _pt(shoulder), _pt(elbow), st.shirt_bgr, thick, cv2.LINE_AA)
            cv2.line(img, _pt(elbow), _pt(wrist), st.skin_bgr, max(2, thick - 1), cv2.LINE_AA)
        cv2.line(
            img,
            _pt(neck + np.array([-0.09 * unit, 0.02 * unit])),
            _pt(neck + np.array([0.09 * unit, 0.02 * unit])),
            st.shirt_bgr,
            thick,
            cv2.LINE_AA,
        )
        cv2.circle(img, _pt(sk["head"]), int(0.075 * unit), st.skin_bgr, -1, cv2.LINE_AA)
        frames[t] = img
    return frames


def _skeleton(
    row: np.ndarray, w: int, h: int, st: PersonStyle, jx: float, jy: float
) -> dict[str, np.ndarray]:
    """Image positions of the drawn body's joints for one frame's parameters.

    ``hips``, ``knees``, ``ankles``, ``shoulders``, ``elbows``, ``wrists`` are ``[2, 2]``
    (the figure's left side first, then its right), ``hip``, ``neck``, ``head`` ``[2]``
    (``head`` is the head's centre); ``sides`` the horizontal sign of each side.
    """
    drop, lua, lfa, rua, rfa, lth, lsh, rth, rsh = (float(v) for v in row)
    unit = 0.62 * h * st.scale  # body height in pixels
    hip = np.array([w * (0.5 + st.offset_x) + jx, h * 0.78 - 0.52 * unit + drop * unit + jy])
    neck = hip + np.array([0.0, -0.33 * unit])
    sides = (-1, 1) if not st.mirror else (1, -1)
    hips, knees, ankles, shoulders, elbows, wrists = ([], [], [], [], [], [])
    for side, thigh, shin, upper, fore in (
        (sides[0], lth, lsh, lua, lfa),
        (sides[1], rth, rsh, rua, rfa),
    ):
        hip_k = hip + np.array([side * 0.05 * unit, 0])
        knee = _limb(hip_k, thigh, 0.26 * unit, side)
        hips.append(hip_k)
        knees.append(knee)
        ankles.append(_limb(knee, thigh + shin, 0.26 * unit, side))
        shoulder = neck + np.array([side * 0.09 * unit, 0.02 * unit])
        elbow = _limb(shoulder, upper, 0.17 * unit, side)
        shoulders.append(shoulder)
        elbows.append(elbow)
        wrists.append(_limb(elbow, upper + fore, 0.16 * unit, side))
    return {
        "hip": hip,
        "neck": neck,
        "head": neck + np.array([0, -0.09 * unit]),
        "sides": np.array(sides, np.float64),
        "hips": np.array(hips),
        "knees": np.array(knees),
        "ankles": np.array(ankles),
        "shoulders": np.array(shoulders),
        "elbows": np.array(elbows),
        "wrists": np.array(wrists),
    }


def person_joints(
    action: int,
    progress: np.ndarray,
    size: tuple[int, int] = (192, 144),
    style: PersonStyle | None = None,
) -> np.ndarray:
    """The drawn person's joints in Penn Action's 13-joint layout, as :func:`render_person`
    draws them (same camera shake), for pose features without running a pose model.

    Parameters
    ----------
    action : int
    progress : numpy.ndarray, shape (T,)
    size : tuple of int
        ``(width, height)``.
    style : PersonStyle, optional

    Returns
    -------
    numpy.ndarray, shape (T, 13, 3), float64
        ``x, y`` in pixels (y down), visibility 1.
    """
    st = style or PersonStyle()
    w, h = size
    params = pose_at(action, progress)
    rng = np.random.default_rng(st.seed + 1)
    out = np.ones((len(params), 13, 3), np.float64)
    for t, row in enumerate(params):
        jx, jy = rng.normal(0, st.shake * h, 2) if st.shake > 0 else (0.0, 0.0)
        sk = _skeleton(row, w, h, st, jx, jy)
        out[t, 0, :2] = sk["head"]
        # Penn order: head, shoulders, elbows, wrists, hips, knees, ankles (left, right).
        for k, name in enumerate(("shoulders", "elbows", "wrists", "hips", "knees", "ankles")):
            out[t, 1 + 2 * k : 3 + 2 * k, :2] = sk[name]
    return out


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))
