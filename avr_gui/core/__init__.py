"""Headless core of AVR Studio. Nothing under this package may import Qt."""

import os as _os

# FFmpeg (inside OpenCV) prints its own complaints about broken files straight to
# stderr; our typed errors already say what went wrong, once. Users can still opt in.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
_os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
