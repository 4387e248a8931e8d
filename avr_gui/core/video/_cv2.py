"""OpenCV, imported quietly: the one place the core's OpenCV users get ``cv2`` from.

FFmpeg (inside OpenCV) prints its own complaints about broken files straight to
stderr; our typed errors already say what went wrong, once. The two variables that
silence it are read when OpenCV loads, so they are set here, just before the import,
and only by code that uses OpenCV (importing the core alone changes no environment).
A user who sets either variable keeps their value.
"""

from __future__ import annotations

import os
from types import ModuleType

#: Environment variables set (unless already set) before OpenCV is loaded.
QUIET_OPENCV = {"OPENCV_FFMPEG_LOGLEVEL": "-8", "OPENCV_LOG_LEVEL": "ERROR"}


def import_cv2() -> ModuleType:
    """Import OpenCV with its FFmpeg and log output turned down.

    Returns
    -------
    types.ModuleType
        The ``cv2`` module.
    """
    for name, value in QUIET_OPENCV.items():
        os.environ.setdefault(name, value)
    import cv2

    return cv2
